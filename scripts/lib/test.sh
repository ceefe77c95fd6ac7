# shellcheck shell=bash
# Test API, sourced by every file in tests/.  The runner (run-tests.sh) sets
# RUN, TOPOLOGY, TRANSPORT, HOST_IMPL, TARGET_IMPL; a test boots the guests
# with `boot`, drives them with `on`/`on_bg`/`on_wait`, and ends with exit 0
# (pass), `fail REASON` or `skip REASON`.  Whatever way it ends, every guest
# is torn down (transport modules unloaded), its dmesg is collected and
# gated, and the guests are stopped.

# shellcheck source=scripts/lib/vm.sh
. "$(dirname "${BASH_SOURCE[0]}")/vm.sh"

# The dmesg gate: a line matching GATE_RE fails the run.  GATE_HARD_RE is
# the part of it that no known report excuses (gate_known_reports).
GATE_HARD_RE='BUG:|Oops|KASAN|refcount_t|list_add corruption|list_del corruption|general protection fault|UBSAN|hung task|blocked for more than'
GATE_RE="$GATE_HARD_RE|WARNING:|lockdep|possible circular locking|Call Trace"
# A kmemleak backtrace frame in a module ("func+0x12/0x40 [nvme_rdma]") or
# at an address no symbol covers (kmemleak_gate).
KMEMLEAK_MODULE_FRAME_RE='\[[A-Za-z0-9_]+\]$|\] 0x[0-9a-f]+$'
TEST_BOOTED=0

fail() {
	[ -e "$RUN/result" ] || echo "FAIL: $*" > "$RUN/result"
	echo "FAIL: $*"
	exit 1
}

skip() {
	echo "SKIP: $*" > "$RUN/result"
	echo "SKIP: $*"
	exit 77
}

progress() { echo "$*" > "$RUN/progress"; echo "== $*"; }

# Lines that match GATE_RE but are no report: the debug kernel's boot
# banner, and the kernel's note that a perftest client crashed in user
# space (librdmacm), which perftest does when the rdma_cm rejects its
# connect; the benchmark retries that client, and a second failure fails
# it by exit status.
GATE_IGNORE_RE='^rcu:[[:space:]]+RCU lockdep checking is enabled\.$|(^|\] )traps: ib_[a-z_]+\[[0-9]+\] general protection fault ip:[0-9a-f]+ sp:[0-9a-f]+ error:[0-9a-f]+ in librdmacm\.so'


# gate_known_reports FILE: FILE without the reports that are known to come from
# the in-tree code a variant runs as its peer, each one moved to
# FILE.known.  One so far, on the debug kernel: the in-tree nvmet-rdma
# (6.1) executes a Connect that arrived before ESTABLISHED inside its CM
# handler, so rdma_cm's handler_mutex is held when nvmet takes
# nvmet_config_sem; removing a port takes them the other way round
# (drop_link -> remove_port -> rdma_destroy_id).  Lockdep cannot tell the
# listener's id from the queue's and reports a cycle.  Recognised by
# nvmet_rdma_execute_command, a function our target does not have.  A
# line of another kind of report inside such a block still fails.
gate_known_reports() {
	GATE_HARD_RE=$GATE_HARD_RE awk -v known="$1.known" '
	/WARNING: possible circular locking dependency detected/ { flush(); inblk = 1 }
	inblk {
		blk = blk $0 "\n"
		if ($0 ~ /<\/TASK>/)
			flush()
		next
	}
	{ print }
	function flush() {
		if (!inblk)
			return
		if (blk ~ /nvmet_config_sem/ && blk ~ /handler_mutex/ &&
		    blk ~ /nvmet_rdma_execute_command\+/) {
			printf "%s", blk > known
			n = split(blk, l, "\n")
			for (i = 1; i <= n; i++)
				if (l[i] ~ ENVIRON["GATE_HARD_RE"])
					print l[i]
		} else {
			printf "%s", blk
		}
		blk = ""
		inblk = 0
	}
	# A report cut short is not recognised: it fails.
	END { printf "%s", blk }' "$1"
}

# dmesg_gate FILE: print the lines that fail a run.
dmesg_gate() {
	rm -f "$1.known"
	gate_known_reports "$1" | grep -E "$GATE_RE" | grep -vE "$GATE_IGNORE_RE"
}

# kmemleak_gate FILE: print the leak reports (of a kmemleak_scan output)
# that fail a run: those whose allocation backtrace has a frame in a module
# ("func+0x12/0x40 [nvme_rdma]"), or at an address no symbol covers any
# more (a module unloaded since, as our transports are by the teardown).
# Leaks whose backtrace is all core kernel (boot-time allocations of ACPI,
# the driver core, ...) are not ours and do not fail a run; they stay
# visible in kmemleak.log.  A kmemleak that is not there or has turned
# itself off fails the run: it would otherwise pass everything.
kmemleak_gate() {
	KMEMLEAK_MODULE_FRAME_RE=$KMEMLEAK_MODULE_FRAME_RE awk '
	/^kmemleak_scan: / { print; bad = 1; next }
	/^unreferenced object / { flush(); blk = $0; hit = 0; next }
	blk != "" {
		blk = blk "\n" $0
		if ($0 ~ ENVIRON["KMEMLEAK_MODULE_FRAME_RE"])
			hit = 1
	}
	function flush() { if (blk != "" && hit) { print blk; bad = 1 } blk = "" }
	END { flush(); exit !bad }' "$1"
}

boot() {
	TEST_BOOTED=1
	progress "booting $TOPOLOGY${KERNEL:+ ($KERNEL kernel)}"
	[ -z "$VM_SETUP_ERROR" ] || vm_select_kernel || fail "$VM_SETUP_ERROR"
	vm_boot || fail "boot: see $RUN/vm-*/console.log"
}

# boot_connected NQN [nvme connect options...]: boot, set up target_simple
# and connect the host to it.
boot_connected() {
	local nqn=$1
	shift
	boot
	check target target_simple "$nqn"
	check host host_connect "$nqn" "$@"
}

# load_start NQN [fio options...]: start fio_load on the host's namespace
# of NQN in the background (its handle in LOAD, for on_wait) and give it
# 5 s to get going.
load_start() {
	local nqn=$1
	shift
	# shellcheck disable=SC2034 # LOAD is the caller's handle for on_wait
	LOAD=$(on_bg host "fio_load \$(host_ns $nqn) $* > /dev/null 2>&1 || true")
	sleep 5
}

# hostile_tool [MODE]: build tests/tools (the hostile NVMe/RDMA peer,
# /xfer/tools/nvmf-rdma-hostile in the guests) and print the names of the
# tool's cases of MODE (cm, capsule, target), if one is given.
hostile_tool() {
	make -s -C "$VM_ROOT" tools > /dev/null ||
		fail "cannot build tests/tools (needs libibverbs-dev, librdmacm-dev)"
	[ -z "${1:-}" ] ||
		"$VM_ROOT/build/tools/nvmf-rdma-hostile" list | awk -v m="$1" '$1 == m {print $2}'
}

# to_bytes N[k|K|m|M]: N in bytes.
to_bytes() {
	case $1 in
	*[kK]) echo $((${1%?} << 10)) ;;
	*[mM]) echo $((${1%?} << 20)) ;;
	*) echo "$1" ;;
	esac
}

# fio_verify_matrix NQN NSIDS SIZE LABEL BS...: one fio run on the host
# with a job for every namespace of NQN in NSIDS (a space-separated list),
# block size and queue depth (1 and 32), all running at once, each doing
# randrw with crc32c verify on a region of its own: SIZE bytes, but at
# most 256 and at least 4 blocks.  One run rather than one per
# combination: in the TCG guests the bytes moved and the I/Os of the
# slowest job, not the number of combinations, set the time, and the
# concurrent jobs keep the target's queues deep.  fio's JSON must show
# every job without error and with data written (fio's default random
# seeds are fixed, so which blocks a job writes does not vary between
# runs).  LABEL prefixes messages.
fio_verify_matrix() {
	local nqn=$1 nsids=$2 size=$3 label=$4 ns dev bs b qd len off n=0
	local jobs=""
	shift 4
	for ns in $nsids; do
		dev=$(on host "host_ns $nqn $ns") || fail "$label: no namespace $ns of $nqn"
		off=0
		for bs in "$@"; do
			b=$(to_bytes "$bs")
			len=$(to_bytes "$size")
			[ "$len" -le $((256 * b)) ] || len=$((256 * b))
			[ "$len" -ge $((4 * b)) ] || len=$((4 * b))
			for qd in 1 32; do
				jobs+=" --name=ns$ns-bs$bs-qd$qd --filename=$dev --bs=$bs --iodepth=$qd --offset=$off --size=$len"
				off=$((off + len))
				n=$((n + 1))
			done
		done
	done
	progress "$label: $n fio jobs, bs $*, QD 1 and 32, namespaces $nsids"
	check host "fio --direct=1 --ioengine=libaio --rw=randrw --verify=crc32c --verify_fatal=1 --do_verify=1 --verify_state_save=0 --output-format=json $jobs > /xfer/fio.json"
	if ! on host "jq -e '[.jobs[] | select(.error == 0 and .write.io_bytes > 0)] | length == $n' /xfer/fio.json" > /dev/null; then
		on host "jq -c '.jobs[] | {jobname, error, write: .write.io_bytes, read: .read.io_bytes}' /xfer/fio.json" || true
		fail "$label: a fio job reported an error or wrote nothing"
	fi
}

# assert_inline_used INLINE: our target's live queues carried in-capsule
# data exactly when the port allowed it (INLINE bytes, 0: none).
assert_inline_used() {
	local n
	n=$(on target target_qstat inline_commands)
	echo "inline $1: $n in-capsule commands"
	if [ "$1" = 0 ]; then
		[ "$n" = 0 ] || fail "inline 0: $n commands carried in-capsule data"
	else
		[ "$n" -gt 0 ] || fail "inline $1: no command carried in-capsule data"
	fi
}

# cmd_summary CMD: the first non-blank line of a command, for messages.
cmd_summary() {
	local l
	l=$(printf '%s\n' "$1" | grep -m1 -v '^[[:space:]]*$')
	l=${l#"${l%%[![:space:]]*}"}
	[ ${#l} -le 80 ] || l="${l:0:77}..."
	echo "$l"
}

# check ROLE CMD...: run CMD in the guest, fail the test if it fails.
check() {
	local role=$1
	shift
	local rc=0
	on "$role" "$@" || rc=$?
	[ $rc = 0 ] || fail "in $(vm_name "$role"): $(cmd_summary "$*") (rc $rc)"
}

# expect_fail ROLE CMD...: CMD must fail in the guest.
expect_fail() {
	local role=$1
	shift
	! on "$role" "$@" || fail "in $(vm_name "$role"): expected failure: $(cmd_summary "$*")"
}

# assert_module ROLE IMPL MODULE: the loaded MODULE is ours or in-tree.
assert_module() {
	check "$1" module_is "$2" "$3"
}

test_finish() {
	local rc=$? i name dir tail gate="" leak="" scans=()
	trap - EXIT TERM INT
	if [ $TEST_BOOTED = 1 ]; then
		# Hosts first (VMs were started targets first): a target that
		# goes away under a connected host would start its recovery.
		for ((i = ${#VMS[@]} - 1; i >= 0; i--)); do
			name=${VMS[i]}
			dir="$RUN/vm-$name"
			if vm_alive "$name"; then
				VM_CMD_TIMEOUT=120 on "$name" teardown > "$dir/teardown.log" 2>&1 ||
					{ [ $rc = 0 ] && rc=1 && echo "FAIL: teardown in $name: $(tail -n 3 "$dir/teardown.log" | tr '\n' ' ')" > "$RUN/result"; }
				# After the teardown, so that leaks of the exit
				# paths count.  A scan takes a minute or more and
				# needs nothing from the other VMs: the host's
				# runs while the target tears down.
				{
					[ "$KERNEL" != debug ] ||
						VM_CMD_TIMEOUT=300 on "$name" kmemleak_scan > "$dir/kmemleak.log" 2>&1
					VM_CMD_TIMEOUT=60 on "$name" dmesg > "$dir/dmesg.log" 2>&1
				} &
				scans+=($!)
			else
				cp "$dir/console.log" "$dir/dmesg.log" 2>/dev/null
				[ $rc = 0 ] && rc=1 && echo "FAIL: VM $name died" > "$RUN/result"
			fi
		done
		[ ${#scans[@]} = 0 ] || wait "${scans[@]}"
		for name in "${VMS[@]}"; do
			dir="$RUN/vm-$name"
			if [ "$KERNEL" = debug ] && [ -e "$dir/kmemleak.log" ] &&
			   kmemleak_gate "$dir/kmemleak.log" > "$dir/kmemleak-gate.log"; then
				leak="$leak $name"
			fi
			# A guest killed and booted again (vm_restart): the
			# console of its earlier life counts too.
			[ ! -e "$dir/console.log.1" ] ||
				{ echo "== earlier life (console)"; cat "$dir/console.log.1"; } >> "$dir/dmesg.log"
			if dmesg_gate "$dir/dmesg.log" > "$dir/gate.log"; then
				gate="$gate $name"
			fi
		done
		vm_stop_all
		for name in "$RUN"/vm-*/dmesg.log.known; do
			[ -e "$name" ] && echo "note: a known report of in-tree code did not count: $name"
		done
		if [ -n "$gate" ]; then
			rc=1
			echo "FAIL: dmesg gate in$gate: $(head -n 1 "$RUN"/vm-*/gate.log | grep -v '^==' | head -n 1)" > "$RUN/result"
		elif [ -n "$leak" ]; then
			rc=1
			tail=$(cat "$RUN"/vm-*/kmemleak-gate.log | grep -m1 -E "$KMEMLEAK_MODULE_FRAME_RE|^kmemleak_scan" ||
				cat "$RUN"/vm-*/kmemleak-gate.log | head -n 1)
			echo "FAIL: kmemleak gate in$leak: ${tail#"${tail%%[![:space:]]*}"} (see vm-*/kmemleak-gate.log)" > "$RUN/result"
		fi
	fi
	if [ $rc = 0 ]; then
		[ -e "$RUN/result" ] || echo "PASS" > "$RUN/result"
	elif [ $rc = 77 ]; then
		:
	else
		[ -e "$RUN/result" ] || echo "FAIL: exit $rc" > "$RUN/result"
		for name in "$RUN"/vm-*; do
			[ -d "$name" ] || continue
			tail="$name/console.log"
			[ -s "$tail" ] && { echo "--- console tail of ${name##*/}"; tail -n 15 "$tail"; }
		done > "$RUN/console-tail"
	fi
	# dmesg gate overrides a skip, too: a splat is never silent.
	exit "$rc"
}

test_timeout() { fail "timed out"; }

trap test_finish EXIT
trap test_timeout TERM INT
