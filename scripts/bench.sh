#!/usr/bin/env bash
# make bench: ours against the in-tree NVMe/RDMA, in-tree NVMe/TCP, the
# local null_blk and the raw RDMA limit (perftest), in the two-VM topology,
# with the VMs booted once per configuration and the transports swapped
# inside them.  Method and how to read the output: Documentation/benchmarks.md.
#
# Variables: QUICK=1 (smoke version, ~5 min), BENCH_ROUNDS, BENCH_RUNTIME,
# BENCH_RAMP (seconds per fio cell), BENCH_OUT (results directory, default
# build/bench/DATE), VM_LOCK (the VM slots of scripts/lib/vmlock.sh; "none" when
# the caller holds it), BENCH_IMPLS and BENCH_PROFILES (the numjobs=1
# implementations and profiles; BENCH_NJ2=0 skips the numjobs=2
# configuration), BENCH_COUNTERS=1 (event counters per cell on both VMs
# and the machine's UDP drops, summarised per I/O in counters.md),
# BENCH_FGRAPH=1 (with BENCH_COUNTERS=1: time per I/O in a few target
# functions, by function_graph; it slows the cells, so not with timing runs;
# BENCH_FGRAPH=children: the callees of the transport's handlers instead).  Besides ours, intree, ours2 and tcp, the implementations
# hostours (our host, in-tree target) and tgtours (in-tree host, our
# target) pair one side of ours against in-tree with the other side fixed:
#   BENCH_IMPLS="intree hostours tgtours" BENCH_NJ2=0 make bench
# The braces make bash read the whole script before running it, so that a
# checkout updated during a 40-minute run does not change it midway.
{
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
export KVER=${KVER:-6.1.0-56-amd64}
# The numbers are for the Debian kernel the project ships against.
export KERNEL=debian
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	ROUNDS=${BENCH_ROUNDS:-1} RUNTIME=${BENCH_RUNTIME:-3} RAMP=${BENCH_RAMP:-1}
	PROFILES1="randread-4k-qd1 randwrite-4k-qd32 read-128k-qd16"
	PROFILES2="randread-4k-qd32"
	LAT_ITERS=300 BW_ITERS=100
else
	ROUNDS=${BENCH_ROUNDS:-3} RUNTIME=${BENCH_RUNTIME:-8} RAMP=${BENCH_RAMP:-2}
	PROFILES1="randread-4k-qd1 randwrite-4k-qd1 randread-4k-qd32 randwrite-4k-qd32 randrw70-4k-qd32 read-128k-qd16 write-128k-qd16"
	PROFILES2="randread-4k-qd32 randwrite-4k-qd32 read-128k-qd16"
	LAT_ITERS=1000 BW_ITERS=300
fi
# The order of a round; each round starts one further along.  ours2 is ours
# again (unloaded, reloaded, reconnected): the A/A pair whose spread is the
# noise floor of the table.
IMPLS1=${BENCH_IMPLS:-raw local ours intree ours2 tcp}
IMPLS2="local ours intree ours2 tcp"
PROFILES1=${BENCH_PROFILES:-$PROFILES1}
BENCH_NJ2=${BENCH_NJ2:-1}
BENCH_COUNTERS=${BENCH_COUNTERS:-0}
BENCH_FGRAPH=${BENCH_FGRAPH:-0}
NQN=nqn.2024-01.io.nvmeof-rdma:bench

OUT=${BENCH_OUT:-$root/build/bench/$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/raw"
ln -sfn "$OUT" "$root/build/bench/latest"
T0=$(date +%s)

say() {
	local s=$(($(date +%s) - T0))
	printf 'bench [%02d:%02d] %s\n' $((s / 60)) $((s % 60)) "$*"
}

# The benchmark wants the machine to itself: every VM slot.
. "$root/scripts/lib/vmlock.sh"
if [ "$VM_LOCK" != none ]; then
	vm_slots_take all bench
	T0=$(date +%s)
fi

# profile NAME: the fio arguments of a profile.
profile() {
	case "$1" in
	randread-4k-qd1) echo "--rw=randread --bs=4k --iodepth=1" ;;
	randwrite-4k-qd1) echo "--rw=randwrite --bs=4k --iodepth=1" ;;
	randread-4k-qd32) echo "--rw=randread --bs=4k --iodepth=32" ;;
	randwrite-4k-qd32) echo "--rw=randwrite --bs=4k --iodepth=32" ;;
	randrw70-4k-qd32) echo "--rw=randrw --rwmixread=70 --bs=4k --iodepth=32" ;;
	read-128k-qd16) echo "--rw=read --bs=128k --iodepth=16" ;;
	write-128k-qd16) echo "--rw=write --bs=128k --iodepth=16" ;;
	*) return 1 ;;
	esac
}

cat > "$OUT/params.env" <<-EOF
QUICK=$QUICK
ROUNDS=$ROUNDS
RUNTIME=$RUNTIME
RAMP=$RAMP
PROFILES1="$PROFILES1"
PROFILES2="$PROFILES2"
IMPLS1="$IMPLS1"
IMPLS2="$IMPLS2"
LAT_ITERS=$LAT_ITERS
BW_ITERS=$BW_ITERS
MTU=${MTU:-1500}
VIRTIO_NET_OPTS="${VIRTIO_NET_OPTS:-}"
DATE="$(date -u '+%Y-%m-%d %H:%M UTC')"
MACHINE="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB"
HOST_KERNEL="$(uname -r)"
GUEST_KERNEL="$KVER"
QEMU="$(qemu-system-x86_64 --version | head -n 1)"
REVISION="$(git describe --always --dirty 2> /dev/null || echo unknown)"
EOF

# run_config NAME VCPUS NUMJOBS "PROFILES" "IMPLS": boot the two VMs, then
# ROUNDS rounds over the implementations, each running every profile.
# Runs in a subshell with the test API, whose exit handler tears down,
# gates dmesg and stops the VMs.
run_config() {
	local cfg=$1 cpus=$2 numjobs=$3 profiles=$4 impls=$5
	(
	export RUN=$OUT/$cfg TOPOLOGY=two TRANSPORT=rdma HOST_IMPL=intree \
		TARGET_IMPL=intree VM_CPUS=$cpus
	mkdir -p "$RUN"
	# shellcheck source=scripts/lib/test.sh
	. "$root/scripts/lib/test.sh"
	B='. /xfer/guest/bench.sh;'
	say "$cfg: booting target and host ($cpus vCPU each, numjobs=$numjobs)"
	boot
	check target "$B bench_target_init $NQN $cpus" > /dev/null
	if [ "$BENCH_COUNTERS" = 1 ]; then
		check target "$B bench_counters_setup" > /dev/null
		check host "$B bench_counters_setup" > /dev/null
	fi

	# cell_counters TAG: counter snapshots of both VMs and of this
	# machine's UDP layer (the link between the VMs) into raw/TAG.*.cnt.
	# The machine's part is always taken: the report states how much
	# other work competed with the VMs.
	cell_counters() {
		if [ "$BENCH_COUNTERS" = 1 ]; then
			on target "$B bench_counters" >> "$OUT/raw/$1.target.cnt" || fail "counters"
			on host "$B bench_counters" >> "$OUT/raw/$1.host.cnt" || fail "counters"
		fi
		{
			awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ {
				print "udp_in", $2; print "udp_rcvbuf_errors", $6 }' /proc/net/snmp
			# CPU time of the machine, and of our two QEMUs: the rest
			# is other work competing with the VMs for the cores.
			awk '$1 == "cpu" { print "jiffies_busy", $2 + $3 + $4 + $7 + $8 }' /proc/stat
			cat "$RUN"/vm-*/qemu.pid | while read -r pid; do
				cut -d ' ' -f 14,15 "/proc/$pid/stat"
			done | awk '{ s += $1 + $2 } END { print "jiffies_qemu", s }'
			awk '{ printf "uptime_cs %d\n", $1 * 100 }' /proc/uptime
		} >> "$OUT/raw/$1.machine.cnt"
	}

	# cell_cpu TAG: target CPU snapshot into raw/TAG.cpu (appended).
	cell_cpu() { on target "$B bench_cpu" >> "$OUT/raw/$1.cpu" || fail "cpu snapshot"; }

	# cell_fio ROLE DEV TAG PROFILE: one fio run, its JSON in raw/TAG.json.
	cell_fio() {
		local role=$1 dev=$2 tag=$3 args x
		args=$(profile "$4")
		x=$(vm_dir "$role")/xfer
		rm -f "$OUT/raw/$tag.cpu" "$OUT/raw/$tag".*.cnt
		cell_counters "$tag"
		[ "$BENCH_FGRAPH" = 0 ] || check target "$B bench_fgraph_start $BENCH_FGRAPH" > /dev/null
		cell_cpu "$tag"
		check "$role" "fio --name=$4 --filename=$dev --direct=1 --ioengine=libaio \
			--time_based --runtime=$RUNTIME --ramp_time=$RAMP --numjobs=$numjobs \
			--group_reporting --randrepeat=0 --norandommap $args \
			--output-format=json --output=/xfer/cell.json" > /dev/null
		cell_cpu "$tag"
		[ "$BENCH_FGRAPH" = 0 ] || on target "$B bench_fgraph_stop" >> "$OUT/raw/$tag.target.cnt" ||
			fail "fgraph"
		cell_counters "$tag"
		cp "$x/cell.json" "$OUT/raw/$tag.json"
		say "$cfg r$round $impl $4: $(jq -r '.jobs[0] |
			"\((.read.iops + .write.iops) | floor) IOPS, " +
			"\((.read.bw_bytes + .write.bw_bytes) / 1048576 | floor) MiB/s, " +
			"lat \(((.read.lat_ns.mean * .read.total_ios + .write.lat_ns.mean * .write.total_ios) /
				(.read.total_ios + .write.total_ios) / 1000) | floor) us"' "$OUT/raw/$tag.json")"
	}

	# perftest TEST SIZE MODE: server in the target, client in the host.
	perftest() {
		local t=$1 size=$2 args h tag
		tag=$cfg-r$round-raw-$t
		# -e: wait for completions on an event instead of polling.
		# With one vCPU a polling perftest starves rxe, which does
		# its work in softirq on that same vCPU, until the next tick.
		# perftest has no event mode for RDMA WRITE tests.
		# -t 16: as many 128 KiB messages in flight as fio's QD16.
		case "$t" in
		ib_write_*) args="-s $size" ;;
		*) args="-e -s $size" ;;
		esac
		# Iterations, not -D: perftest's duration mode refuses events.
		if [ "$3" = lat ]; then
			args="$args -n $LAT_ITERS"
		else
			args="$args -t 16 -n $BW_ITERS"
		fi
		# A client whose rdma_cm connect is rejected although the server
		# listens (see bench_perftest_listening) gets a second try with
		# a fresh server; any other failure, or a second one, fails.
		local try
		for try in 1 2; do
			h=$(on_bg target "$B bench_perftest_server $t $args")
			on target "$B wait_for 60 bench_perftest_listening $t" > /dev/null ||
				fail "perftest $t server does not listen: $(on_wait target "$h" 5 | tail -n 3)"
			# See bench_perftest_listening: the state shows before
			# the listen is complete.
			sleep 1
			on host "$B bench_perftest_client $t $args" > "$OUT/raw/$tag.txt" 2>&1 && break
			cat "$OUT/raw/$tag.txt"
			if [ "$try" != 1 ] ||
			   ! grep -q "Failed to connect RDMA CM events" "$OUT/raw/$tag.txt"; then
				fail "perftest $t client"
			fi
			say "$cfg r$round raw $t: client not connected, once more"
			on target "signal_comm TERM $t; sleep 1" > /dev/null || true
			on_wait target "$h" 10 > /dev/null 2>&1 || true
		done
		on_wait target "$h" 120 > "$OUT/raw/$tag.server.txt" 2>&1 ||
			fail "perftest $t server: $(tail -n 3 "$OUT/raw/$tag.server.txt")"
		say "$cfg r$round raw $t $size: $(awk -v s="$size" '$1 == s && NF >= 4 {
			if (NF >= 8) print "typical " $5 " us, avg " $6 " us"; else print $4 " MB/s"; exit }' \
			"$OUT/raw/$tag.txt")"
	}

	local round impl order dev n i
	read -r -a order <<< "$impls"
	n=${#order[@]}
	for ((round = 1; round <= ROUNDS; round++)); do
		for ((i = 0; i < n; i++)); do
			impl=${order[$(((i + round - 1) % n))]}
			progress "$cfg round $round/$ROUNDS: $impl"
			case "$impl" in
			raw)
				perftest ib_send_lat 4096 lat
				perftest ib_read_lat 4096 lat
				perftest ib_write_lat 4096 lat
				perftest ib_write_bw 131072 bw
				perftest ib_read_bw 131072 bw
				;;
			local)
				for p in $profiles; do
					cell_fio target /dev/nullb0 "$cfg-r$round-local-$p" "$p"
				done
				;;
			*)
				on target "$B bench_target_up $impl $NQN" > "$RUN/modules-$impl-target.txt" ||
					fail "target up $impl: $(tail -n 3 "$RUN/modules-$impl-target.txt")"
				on host "$B bench_host_up $impl $NQN" > "$RUN/modules-$impl-host.txt" ||
					fail "host up $impl: $(tail -n 3 "$RUN/modules-$impl-host.txt")"
				dev=$(tail -n 1 "$RUN/modules-$impl-host.txt")
				say "$cfg r$round $impl: $(head -n 1 "$RUN/modules-$impl-host.txt"), $(tail -n 1 "$RUN/modules-$impl-target.txt"), $dev"
				for p in $profiles; do
					cell_fio host "$dev" "$cfg-r$round-$impl-$p" "$p"
				done
				check host "$B bench_host_down $NQN" > /dev/null
				check target "$B bench_target_down" > /dev/null
				;;
			esac
		done
	done
	echo "$numjobs" > "$RUN/numjobs"
	echo "$cpus" > "$RUN/vcpus"
	)
	local rc=$?
	if [ $rc != 0 ]; then
		say "$1: $(cat "$OUT/$1/result" 2>/dev/null || echo "FAIL: exit $rc")"
		[ -s "$OUT/$1/console-tail" ] && cat "$OUT/$1/console-tail"
		return 1
	fi
	say "$1: done, VMs clean ($(cat "$OUT/$1/result"))"
}

# Before any VM runs: how busy is the machine with other work?  Every
# core another process takes is one the four QEMU threads wait for.
busy_cores() {
	local a b
	a=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat)
	sleep 2
	b=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b - a) / 200 }'
}
load=$(busy_cores)
echo "LOAD_AT_START=$load" >> "$OUT/params.env"
if awk -v l="$load" 'BEGIN { exit !(l > 0.2) }'; then
	say "warning: other work keeps $load of $(nproc) cores busy; timings will be slower and noisier (see the report's machine load line)"
fi
say "results: $OUT (rounds $ROUNDS, ${RUNTIME}s + ${RAMP}s ramp per cell$([ "$QUICK" = 1 ] && echo ", QUICK"))"
rc=0
run_config nj1 1 1 "$PROFILES1" "$IMPLS1" || rc=1
[ $rc != 0 ] || [ "$BENCH_NJ2" = 0 ] || { run_config nj2 2 2 "$PROFILES2" "$IMPLS2" || rc=1; }
# The VMs are down: the report needs no lock.
vm_slots_release
if [ $rc = 0 ]; then
	python3 "$root/scripts/bench-report.py" "$OUT" || rc=1
	[ "$BENCH_COUNTERS" = 0 ] || python3 "$root/scripts/bench-counters.py" "$OUT" || rc=1
fi
if [ $rc = 0 ]; then
	say "done: $OUT/results.md"
	cat "$OUT/results.md"
else
	say "FAILED (logs in $OUT)"
fi
exit $rc
}
