# shellcheck shell=bash
# Helpers sourced by every command the harness runs in a guest.
# Target side: nvmet configfs.  Host side: nvme-cli wrappers.  Both: the
# teardown that must leave every transport module unloadable.

NVMET=/sys/kernel/config/nvmet
# shellcheck source=/dev/null # written for each guest by scripts/lib/vm.sh
. /xfer/config
# Guest-side waits are sized for the Debian kernel; the debug kernel is
# about 30x slower (vm.sh sets TIMEOUT_SCALE in the config).
TIMEOUT_SCALE=${TIMEOUT_SCALE:-1}

# nullblk_load [COUNT] [GB]: memory-backed null_blk devices.  Without
# memory_backed=1 reads return zeroes and every data verification fails.
nullblk_load() {
	modprobe null_blk nr_devices="${1:-1}" gb="${2:-1}" memory_backed=1 \
		queue_mode=2 bs=512
}

# nullb_slow NAME NSEC: a 64 MB null_blk configfs disk whose every command
# completes NSEC late (null_blk loaded already); prints its node, as does
# nullb_node NAME later.  nullb_slow_remove NAME.  Kernels name such a
# disk after its directory, older ones nullb<index>.
nullb_slow() {
	local d=/sys/kernel/config/nullb/$1
	mkdir "$d"
	echo 64 > "$d/size"
	echo 2 > "$d/irqmode"
	echo "$2" > "$d/completion_nsec"
	echo 1 > "$d/power"
	nullb_node "$1"
}

nullb_node() {
	if [ -b "/dev/$1" ]; then
		echo "/dev/$1"
	else
		echo "/dev/nullb$(cat "/sys/kernel/config/nullb/$1/index")"
	fi
}

nullb_slow_remove() {
	echo 0 > "/sys/kernel/config/nullb/$1/power"
	rmdir "/sys/kernel/config/nullb/$1"
}

# delay_dev_create NAME DEV: a dm-delay device over DEV that delays
# nothing yet (so that partition scans, here and on a host, are quick);
# prints its node (/dev/dm-N).  delay_dev_set NAME MS delays every I/O
# submitted from then on by MS milliseconds; delay_dev_remove NAME.
delay_dev_create() {
	modprobe dm-delay
	dmsetup create "$1" --noudevsync \
		--table "0 $(blockdev --getsz "$2") delay $2 0 0"
	echo "/dev/$(dmsetup info -c --noheadings -o blkdevname "$1")"
}

delay_dev_set() {
	local table
	table=$(dmsetup table "$1" | awk -v ms="$2" '{ $6 = ms; print }')
	dmsetup suspend --noudevsync "$1"
	dmsetup load "$1" --table "$table"
	dmsetup resume --noudevsync "$1"
}

delay_dev_remove() {
	dmsetup remove --noudevsync "$1"
}

# nvmet_subsys NQN [allowed host NQNs...]: create a subsystem; with no
# hosts listed any host may connect.
nvmet_subsys() {
	local nqn=$1 h
	shift
	modprobe nvmet
	mkdir "$NVMET/subsystems/$nqn"
	if [ $# -eq 0 ]; then
		echo 1 > "$NVMET/subsystems/$nqn/attr_allow_any_host"
		return
	fi
	for h in "$@"; do
		[ -d "$NVMET/hosts/$h" ] || mkdir "$NVMET/hosts/$h"
		ln -s "$NVMET/hosts/$h" "$NVMET/subsystems/$nqn/allowed_hosts/$h"
	done
}

# nvmet_ns NQN NSID PATH [attr=value...]: add and enable a namespace
# backed by a block device or a file (e.g. buffered_io=1 for tmpfs files,
# which cannot be opened O_DIRECT).
nvmet_ns() {
	local d="$NVMET/subsystems/$1/namespaces/$2" kv
	mkdir "$d"
	echo -n "$3" > "$d/device_path"
	shift 3
	for kv in "$@"; do
		echo "${kv#*=}" > "$d/${kv%%=*}"
	done
	echo 1 > "$d/enable"
}

# pci_nvme_ns: the namespace of the QEMU-emulated NVMe disk (the only
# controller on PCIe; fabrics controllers may sit beside it).
pci_nvme_ns() {
	local c i
	modprobe nvme
	for i in $(seq $((200 * TIMEOUT_SCALE))); do
		for c in /sys/class/nvme/nvme*; do
			[ "$(cat "$c/transport" 2>/dev/null)" = pcie ] || continue
			for n in "$c"/nvme*n1; do
				[ -b "/dev/${n##*/}" ] && { echo "/dev/${n##*/}"; return 0; }
			done
		done
		sleep 0.1
	done
	echo "pci_nvme_ns: no emulated NVMe disk" >&2
	return 1
}

# nvmet_port ID TRTYPE ADDR [SVCID] [attr=value...]: create a port, ipv4
# unless ADDR has a colon.  Attributes are port attributes such as
# param_inline_data_size=4096.
nvmet_port() {
	local id=$1 trtype=$2 addr=$3 svcid=${4:-4420} d kv
	shift 4 2>/dev/null || shift $#
	modprobe nvmet
	d="$NVMET/ports/$id"
	mkdir "$d"
	echo "$trtype" > "$d/addr_trtype"
	if [[ $addr == *:* ]]; then
		echo ipv6 > "$d/addr_adrfam"
	else
		echo ipv4 > "$d/addr_adrfam"
	fi
	echo "$addr" > "$d/addr_traddr"
	echo "$svcid" > "$d/addr_trsvcid"
	for kv in "$@"; do
		echo "${kv#*=}" > "$d/${kv%%=*}"
	done
}

# nvmet_link PORT NQN: expose a subsystem on a port (enables the port).
nvmet_link() {
	ln -s "$NVMET/subsystems/$2" "$NVMET/ports/$1/subsystems/$2"
}

# nvmet_clear: remove every port, subsystem and host, in dependency order.
nvmet_clear() {
	local p l s n
	[ -d "$NVMET" ] || return 0
	for p in "$NVMET"/ports/*/; do
		[ -d "$p" ] || continue
		for l in "$p"subsystems/*; do
			[ -L "$l" ] && rm "$l"
		done
		for l in "$p"referrals/*/; do
			[ -d "$l" ] && rmdir "$l"
		done
		rmdir "$p"
	done
	for s in "$NVMET"/subsystems/*/; do
		[ -d "$s" ] || continue
		for n in "$s"namespaces/*/; do
			[ -d "$n" ] || continue
			echo 0 > "$n/enable"
			rmdir "$n"
		done
		for l in "$s"allowed_hosts/*; do
			[ -L "$l" ] && rm "$l"
		done
		rmdir "$s"
	done
	for s in "$NVMET"/hosts/*/; do
		[ -d "$s" ] && rmdir "$s"
	done
	return 0
}

# target_simple NQN [port attrs...]: the common setup: one memory-backed
# null_blk namespace behind one subsystem on one port of $TRANSPORT.
target_simple() {
	local nqn=$1
	shift
	nullblk_load 1 1
	nvmet_subsys "$nqn"
	nvmet_ns "$nqn" 1 /dev/nullb0
	nvmet_port 1 "$TRANSPORT" "$TARGET_ADDR" 4420 "$@"
	nvmet_link 1 "$nqn"
}

# target_nullb NQN COUNT [HOST...]: subsystem NQN with COUNT memory-backed
# null_blk namespaces (NSIDs 1..COUNT, each on the next null_blk device no
# earlier call took), open to the HOSTs listed (to any host if none) and
# linked to port 1 ($TARGET_ADDR:4420, created if missing).
target_nullb() {
	local nqn=$1 count=$2 i n
	shift 2
	nullblk_load 4 1
	nvmet_subsys "$nqn" "$@"
	for i in $(seq "$count"); do
		n=$(cat /tmp/nullb-next 2>/dev/null || echo 0)
		[ -b "/dev/nullb$n" ] || { echo "target_nullb: no /dev/nullb$n"; return 1; }
		nvmet_ns "$nqn" "$i" "/dev/nullb$n"
		echo $((n + 1)) > /tmp/nullb-next
	done
	[ -d "$NVMET/ports/1" ] || nvmet_port 1 "$TRANSPORT" "$TARGET_ADDR" 4420
	nvmet_link 1 "$nqn"
}

# host_multipath_off: nvme-core without native multipath, so that each
# controller has a disk of its own (nvme-core and the fabrics modules are
# reloaded when needed; nothing may be connected).
host_multipath_off() {
	[ "$(cat /sys/module/nvme_core/parameters/multipath 2>/dev/null)" != Y ] ||
		modprobe -r nvme_rdma nvme_fabrics nvme_core
	modprobe nvme_core multipath=N
	[ "$(cat /sys/module/nvme_core/parameters/multipath 2>/dev/null || echo N)" = N ]
}

# host_connect NQN [nvme connect options...]
host_connect() {
	local nqn=$1
	shift
	modprobe nvme-fabrics
	nvme connect -t "$TRANSPORT" -a "$TARGET_ADDR" -s 4420 -n "$nqn" "$@"
}

# fabrics_connect NQN [key=value...]: connect by writing the options to
# /dev/nvme-fabrics, as nvme-cli does, for what this nvme-cli will not
# pass: it refuses a second controller to the same address and subsystem
# as "already connected" even when the hostnqn differs, --duplicate-connect
# or not.  Prints the kernel's answer (instance=N,cntlid=M).
fabrics_connect() {
	local opts="nqn=$1,transport=$TRANSPORT,traddr=$TARGET_ADDR,trsvcid=4420" kv reply rc=0
	shift
	for kv in "$@"; do
		opts="$opts,$kv"
	done
	modprobe nvme-fabrics
	exec 3<> /dev/nvme-fabrics
	# shellcheck disable=SC2320 # echo's own status: the kernel refuses bad options at the write
	echo "$opts" >&3 || rc=$?
	[ $rc != 0 ] || read -r reply <&3 || rc=$?
	exec 3>&-
	[ $rc = 0 ] && echo "$reply"
}

# host_ns NQN [NSID]: the block device of a connected subsystem's namespace,
# waiting up to 20 s for it to appear.
host_ns() {
	local nqn=$1 nsid=${2:-1} s c ns i
	for i in $(seq $((200 * TIMEOUT_SCALE))); do
		for s in /sys/class/nvme-subsystem/*/; do
			[ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$nqn" ] || continue
			# The head disk of a multipath subsystem, else (nvme_core
			# multipath=N, as on the debug kernel) the disk under
			# each controller; hidden paths (nvmeXcYnZ) have no node.
			for ns in "$s"nvme*n* "$s"nvme*/nvme*n*; do
				[ -e "$ns/nsid" ] || continue
				if [ "$(cat "$ns/nsid")" = "$nsid" ]; then
					c=/dev/$(basename "$ns")
					[ -b "$c" ] && { echo "$c"; return 0; }
				fi
			done
		done
		sleep 0.1
	done
	echo "host_ns: no namespace $nsid of $nqn" >&2
	return 1
}

# host_ctrls NQN: the controllers (nvmeN) of subsystem NQN, one a line.
host_ctrls() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[ "$(cat "$c/subsysnqn" 2>/dev/null)" != "$1" ] || echo "${c##*/}"
	done
}

# host_gone NQN: the host has no controller of subsystem NQN left.
host_gone() {
	[ -z "$(host_ctrls "$1")" ]
}

# host_disconnect_wait NQN [SECONDS]: nvme disconnect must return within
# SECONDS (30), and the controllers of NQN must be gone 10 s later (their
# deletion may finish after the command returns).
host_disconnect_wait() {
	local nqn=$1 t=$((${2:-30} * TIMEOUT_SCALE)) start=$SECONDS rc=0
	timeout "$t" nvme disconnect -n "$nqn" > /dev/null || rc=$?
	if [ $rc != 0 ]; then
		echo "nvme disconnect -n $nqn failed or hung (rc $rc) after $((SECONDS - start)) s"
		return 1
	fi
	if ! wait_for $((10 * TIMEOUT_SCALE)) host_gone "$nqn"; then
		echo "controller of $nqn still present after disconnect: $(host_ctrls "$nqn" | xargs)"
		return 1
	fi
	echo "$nqn disconnected in $((SECONDS - start)) s"
}

# host_nsids NQN: the NSIDs the host shows for subsystem NQN, sorted.
host_nsids() {
	local s ns
	for s in /sys/class/nvme-subsystem/*/; do
		[ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$1" ] || continue
		for ns in "$s"nvme*n* "$s"nvme*/nvme*n*; do
			[ -e "$ns/nsid" ] || continue
			cat "$ns/nsid"
		done
	done | sort -nu
}

# fio_verify DEV [fio options...]: write then verify with crc32c; fails on
# any I/O or verification error.
fio_verify() {
	local dev=$1
	shift
	fio --name=verify --filename="$dev" --direct=1 --ioengine=libaio \
		--verify=crc32c --verify_fatal=1 --do_verify=1 \
		--size="${FIO_SIZE:-32M}" --group_reporting "$@"
}

# fio_load DEV [fio options...]: unverified random 4 KiB I/O at depth 16
# for up to 10 minutes, for tests that pull something away under it; its
# exit status says whether any I/O failed.
fio_load() {
	local dev=$1
	shift
	fio --name=load --filename="$dev" --direct=1 --ioengine=libaio \
		--rw=randrw --bs=4k --iodepth=16 --time_based --runtime=600 "$@"
}

# signal_comm SIGNAL COMM: send SIGNAL to every process named COMM;
# busybox has no pkill.  A process may be gone by the time its turn comes
# (fio's workers exit with the main one): not an error.
signal_comm() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = "$2" ] || continue
		kill "-$1" "${p#/proc/}" 2>/dev/null || true
	done
}

# fio_signal SIGNAL: send SIGNAL to every fio process.
fio_signal() {
	signal_comm "$1" fio
}

# fio_verify_many DEV... [-- fio options...]: fio_verify on every DEV at
# once, with the same options; fails if any of them fails.
fio_verify_many() {
	local devs=() pids=() i rc=0
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		devs+=("$1")
		shift
	done
	[ $# -eq 0 ] || shift
	for i in "${!devs[@]}"; do
		fio_verify "${devs[i]}" "$@" > "/tmp/fio-many-$i.log" 2>&1 &
		pids+=($!)
	done
	for i in "${!devs[@]}"; do
		wait "${pids[i]}" && continue
		rc=1
		echo "fio_verify ${devs[i]} failed:"
		tail -n 20 "/tmp/fio-many-$i.log"
	done
	return $rc
}

# transport_modules: the transport modules currently loaded.
transport_modules() {
	lsmod | awk '$1 ~ /^nvmet?_(rdma|tcp|loop)$/ {print $1}'
}

# teardown: disconnect, clear the target, then unload the transport and
# core modules: an unload that fails means something still holds them.
teardown() {
	local m rc=0
	[ ! -e /dev/nvme-fabrics ] || nvme disconnect-all > /dev/null 2>&1 || rc=1
	nvmet_clear
	for m in /dev/loop[0-9]*; do
		{ [ -b "$m" ] && losetup "$m" > /dev/null 2>&1; } || continue
		losetup -d "$m" || rc=1
	done
	for m in nvme_rdma nvme_tcp nvmet_rdma nvmet_tcp nvme_fabrics nvmet; do
		if [ -d "/sys/module/$m" ] && ! rmmod "$m"; then
			echo "teardown: rmmod $m failed (refcnt $(cat "/sys/module/$m/refcnt" 2>/dev/null))"
			rc=1
		fi
	done
	if [ -d /sys/module/null_blk ]; then
		rmmod null_blk || rc=1
	fi
	return $rc
}

# kmemleak_scan: scan now and print the suspected leaks (debug kernel).
# An object is reported once a scan finds it unreferenced and older than
# 5 s of jiffies, which lag behind the clock in a starved TCG guest; a
# first scan also misses objects still referenced from stale stacks.  In
# tests/debug-gate-catches-kasan-and-kmemleak.sh one scan never reported
# the selftest's leaks and a second always did: scan twice.
kmemleak_scan() {
	local f=/sys/kernel/debug/kmemleak
	if [ ! -e $f ]; then
		echo "kmemleak_scan: $f missing (kernel without DEBUG_KMEMLEAK?)"
		return 0
	fi
	if ! { echo scan > $f && echo scan > $f; } 2> /tmp/kmemleak.err; then
		echo "kmemleak_scan: cannot scan, kmemleak is off: $(cat /tmp/kmemleak.err)"
		return 0
	fi
	cat $f
}

# module_desc MODULE: "MODULE ours VERSION", "MODULE in-tree" or "MODULE not loaded".
module_desc() {
	local v
	if [ ! -d "/sys/module/$1" ]; then
		echo "$1 not loaded"
	elif v=$(cat "/sys/module/$1/version" 2> /dev/null); then
		echo "$1 ours $v"
	else
		echo "$1 in-tree"
	fi
}

# module_is IMPL MODULE: check which implementation of a module is loaded.
# Ours carries a version starting with our tag; in-tree has no version.
module_is() {
	local impl=$1 mod=$2 v
	[ -d "/sys/module/$mod" ] || { echo "$mod is not loaded"; return 1; }
	v=$(cat "/sys/module/$mod/version" 2>/dev/null || true)
	case "$impl" in
	ours)
		case "$(cat "/sys/module/$mod/taint" 2>/dev/null)" in
		*O*) [ -n "$v" ] && return 0 ;;
		esac
		echo "$mod is the in-tree module, expected ours"
		return 1
		;;
	intree) [ -z "$v" ] || { echo "$mod is ours ($v), expected in-tree"; return 1; } ;;
	esac
}

# objects_zero [SECONDS]: our nvmet-rdma's live-object counters all reach
# zero (queues are released asynchronously), waiting up to SECONDS (10).
objects_zero() {
	local f=/sys/kernel/debug/nvmet_rdma/objects i
	for i in $(seq $((${1:-10} * 10))); do
		! awk '$1 ~ /^(ports|listeners|devices|queues|slots|srqs|fault_sends)$/ && $2 != 0 {bad=1} END {exit !bad}' "$f" && return 0
		sleep 0.1
	done
	echo "live objects left:"
	cat "$f"
	return 1
}

# target_qstat NAME: the sum of a per-queue counter of our nvmet-rdma over
# all its live queues.
target_qstat() {
	cat /sys/kernel/debug/nvmet_rdma/queues/* 2>/dev/null |
		awk -v k="$1" '$1 == k {s += $2} END {print s + 0}'
}

# target_cstat CNTLID NAME: the sum of a per-queue counter of our
# nvmet-rdma over the live I/O queues of controller CNTLID.
target_cstat() {
	local f
	for f in /sys/kernel/debug/nvmet_rdma/queues/*; do
		[ -e "$f" ] || continue
		cat "$f" 2>/dev/null || true
		echo "--"
	done | awk -v c="$1" -v k="$2" '
	$1 == "qid" { q = $2 }
	$1 == "cntlid" { id = $2 }
	$1 == k { v = $2 }
	$1 == "--" { if (q > 0 && id == c) s += v; q = id = v = "" }
	END { print s + 0 }'
}

# target_ctrls_did_io CNTLID...: each of these controllers of our
# nvmet-rdma has carried I/O commands on its live I/O queues.
target_ctrls_did_io() {
	local c n rc=0
	for c in "$@"; do
		n=$(target_cstat "$c" commands)
		echo "controller $c: $n I/O commands"
		[ "$n" -gt 0 ] || rc=1
	done
	return $rc
}

# dmesg_mark: remember where the kernel log ends; dmesg_since prints what
# came after.  The log itself is not cleared: the harness gates all of it.
# dmesg: the command, except that a reader that stops early is no failure.
# `dmesg | grep -q X` runs under pipefail here: grep exits at the first
# match, the rest of dmesg's output meets a closed pipe, and the SIGPIPE
# (status 141) would fail the pipeline although X was found.
# shellcheck disable=SC2120 # the tests' guest commands pass dmesg options
dmesg() {
	command dmesg "$@" || [ $? -eq 141 ]
}

dmesg_mark() {
	dmesg | wc -l > /tmp/dmesg-mark
}

# dmesg_since: the kernel log since dmesg_mark (an early reader is fine).
dmesg_since() {
	dmesg | tail -n +$(($(cat /tmp/dmesg-mark 2>/dev/null || echo 0) + 1)) ||
		[ $? -eq 141 ]
}

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds.
wait_for() {
	local n=$(($1 * 5))
	shift
	while [ $n -gt 0 ]; do
		"$@" > /dev/null 2>&1 && return 0
		sleep 0.2
		n=$((n - 1))
	done
	echo "wait_for: timed out: $*"
	return 1
}

# ctrl_state NQN STATE: a controller of subsystem NQN is in STATE.
ctrl_state() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$1" ] &&
			[ "$(cat "$c/state")" = "$2" ] && return 0
	done
	return 1
}
