# shellcheck shell=bash
# Guest side of tests/debug-fault-inject-{connect,target-setup}.sh, sourced
# after /xfer/guest/lib.sh.  Needs NQN set.
DBG=/sys/kernel/debug
FEI=$DBG/fail_function
FSLAB=$DBG/failslab

# Only the failure of a counted call is printed, without a stack trace:
# "Call Trace" would (rightly) trip the dmesg gate.
fault_setup() {
	{ [ -d $FEI ] && [ -d $FSLAB ] && [ -e /proc/self/fail-nth ]; } ||
		{ echo "no fail_function/failslab/fail-nth in this kernel"; return 1; }
	echo 1 > $FEI/verbose
	echo 1 > $FSLAB/verbose
	# Sleeping allocations are the ones the setup paths make.
	echo N > $FSLAB/ignore-gfp-wait
	# Only fail-nth (per task) fails slab allocations; nothing random.
	echo 0 > $FSLAB/probability
}

fault_off() {
	echo > $FEI/inject
	echo 0 > $FEI/probability
	echo 0 > $FSLAB/probability
	echo Y > $FSLAB/ignore-gfp-wait
}

no_ctrl() { [ -z "$(ls /sys/class/nvme 2> /dev/null)" ]; }

# Ports and listeners stay while a port is enabled; the rest goes with
# the last queue (the device object holds the PD and the SRQs).
target_idle() {
	awk '$1 ~ /^(queues|slots|devices|srqs)$/ && $2 != 0 {bad = 1} END {exit bad}' \
		$DBG/nvmet_rdma/objects
}

# settle: after a connect that failed (or was deleted again), no host
# controller is left and the target has released every queue, its RDMA
# device object and the shared receive queues.
settle() {
	wait_for $((20 * TIMEOUT_SCALE)) no_ctrl ||
		{ echo "controller left behind: $(ls /sys/class/nvme)"; return 1; }
	wait_for $((20 * TIMEOUT_SCALE)) target_idle ||
		{ echo "target objects left behind:"; cat $DBG/nvmet_rdma/objects; return 1; }
}

# fei_arm FUNC NTH: fail the NTH call of FUNC from now on (and only that
# one) with -ENOMEM.  FUNC must be marked ALLOW_ERROR_INJECTION and its
# module loaded.
fei_arm() {
	local f=$1 nth=$2
	echo "$f" > $FEI/inject
	printf '%#x' -12 > "$FEI/$f/retval"
	echo 100 > $FEI/probability
	echo 1 > $FEI/interval
	# space N: the first N-1 calls pass, the Nth fails; times: once.
	echo "$nth" > $FEI/space
	echo 1 > $FEI/times
}

# fei_disarm FUNC: stop injecting; prints the failures left to inject
# (0: the armed call was made and failed).
fei_disarm() {
	echo "!$1" > $FEI/inject
	echo 0 > $FEI/probability
	cat $FEI/times
}

# fei_connect FUNC NTH: fail the NTH call of FUNC (1: the admin queue's,
# 2: the first I/O queue's) with -ENOMEM; nvme connect must fail, and
# nothing may be left behind.
fei_connect() {
	local f=$1 nth=$2 rc=0 left
	fei_arm "$f" "$nth"
	nvme connect -t rdma -a "$TARGET_ADDR" -s 4420 -n "$NQN" -i 1 || rc=$?
	left=$(fei_disarm "$f")
	if [ "$rc" = 0 ]; then
		nvme disconnect -n "$NQN" > /dev/null || true
		echo "FAIL: $f call $nth failed (times left $left) but nvme connect succeeded"
		return 1
	fi
	[ "$left" = 0 ] || { echo "FAIL: $f call $nth was never made (times left $left)"; return 1; }
	settle
	echo "ok: $f call $nth failed -> nvme connect exit $rc, nothing left"
}

# fabrics_nth N: connect through /dev/nvme-fabrics (what nvme connect
# does, without its own process start-up) with the Nth slab allocation of
# this task failed (/proc/self/fail-nth; 0 disables).  All of it runs in
# this shell: builtins only between arming and reading back.  Prints
# "N failed rc", "N tolerated" (fault injected, connect worked anyway) or
# "N beyond LEFT" (the connect needed fewer allocations), and the number
# of allocations the connect made when N is beyond them all.
fabrics_nth() {
	local n=$1 opts rc=0 left line
	opts="transport=rdma,traddr=$TARGET_ADDR,trsvcid=4420,nqn=$NQN"
	opts="$opts,hostnqn=$(cat /etc/nvme/hostnqn),nr_io_queues=1"
	exec 3<> /dev/nvme-fabrics
	echo "$n" > /proc/self/fail-nth
	printf '%s' "$opts" >&3 || rc=$?
	read -r left < /proc/self/fail-nth || left=0
	echo 0 > /proc/self/fail-nth
	if [ $rc = 0 ]; then
		read -r line <&3 || line=
		exec 3>&-
		line=${line#instance=}
		echo 1 > "/sys/class/nvme/nvme${line%%,*}/delete_controller"
		settle
		if [ "$left" = 0 ]; then
			echo "$n tolerated"
		else
			echo "$n beyond $((n - left))"
		fi
		return 0
	fi
	exec 3>&-
	settle
	echo "$n failed $rc"
}

# Target side (tests/debug-fault-inject-target-setup.sh): port PORT of our
# nvmet-rdma, enabled by linking subsystem NQN into it.
PORT=1

port_link() { echo "$NVMET/ports/$PORT/subsystems/$NQN"; }
port_linked() { [ -L "$(port_link)" ]; }

# obj NAME: the live-object counter NAME of our target.
obj() { awk -v k="$1" '$1 == k {print $2}' $DBG/nvmet_rdma/objects; }

# port_enabled: the subsystem is linked and the port has its one listener.
port_enabled() {
	port_linked && [ "$(obj ports)" = 1 ] && [ "$(obj listeners)" = 1 ]
}

# link_nth N: link the subsystem into the port, which enables it (our
# add_port: address, listening rdma_cm id, bind, listen), with the Nth
# fault-injection point of that symlink() call failed (fail-nth-symlink:
# the call's slab allocations, with failslab set up by fault_setup).  It
# must either fail and leave nothing (no link, no port, no listener), or
# work and leave an enabled port, which is unlinked again.  Prints "N
# failed ERRNO", "N tolerated" or "N beyond COUNT" like fabrics_nth.
link_nth() {
	local n=$1 out err left
	out=$(/xfer/tools/fail-nth-symlink "$n" "$NVMET/subsystems/$NQN" "$(port_link)")
	case $out in
	"ok "*)
		left=${out#ok }
		if ! port_enabled; then
			echo "FAIL: link with allocation $n failed: worked, but the port is not enabled"
			cat $DBG/nvmet_rdma/objects
			return 1
		fi
		rm "$(port_link)"
		objects_zero
		if [ "$left" = 0 ]; then
			echo "$n tolerated"
		else
			echo "$n beyond $((n - left))"
		fi
		;;
	"fail "*)
		err=${out#fail }
		left=${err#* }
		err=${err%% *}
		if port_linked; then
			echo "FAIL: link with allocation $n failed: errno $err, yet the link is there"
			return 1
		fi
		if [ "$left" != 0 ]; then
			echo "FAIL: link failed (errno $err) before reaching allocation $n ($left left)"
			return 1
		fi
		objects_zero
		echo "$n failed $err"
		;;
	*)
		echo "FAIL: fail-nth-symlink $n: $out"
		return 1
		;;
	esac
}

# fei_listen: with our nvmet_rdma_listen failed, linking the subsystem
# (enabling the port) must fail with a message naming the port and the
# errno, and leave nothing; with injection off, linking again works.
fei_listen() {
	local rc=0 left
	if port_linked; then
		rm "$(port_link)"
	fi
	objects_zero
	dmesg_mark
	fei_arm nvmet_rdma_listen 1
	ln -s "$NVMET/subsystems/$NQN" "$(port_link)" 2> /tmp/ln.err || rc=$?
	left=$(fei_disarm nvmet_rdma_listen)
	if [ "$rc" = 0 ]; then
		echo "FAIL: enabling the port worked with nvmet_rdma_listen failed (times left $left)"
		return 1
	fi
	[ "$left" = 0 ] || { echo "FAIL: the port's link failed without calling nvmet_rdma_listen: $(cat /tmp/ln.err)"; return 1; }
	! port_linked || { echo "FAIL: a failed link left $(port_link)"; return 1; }
	objects_zero
	dmesg_since | grep -q "nvmet-rdma: port $PORT: listen for .* failed (-12), port not enabled" ||
		{ echo "FAIL: no message says why port $PORT was not enabled"; return 1; }
	ln -s "$NVMET/subsystems/$NQN" "$(port_link)"
	port_enabled || { echo "FAIL: linking again did not enable the port"; return 1; }
	echo "ok: nvmet_rdma_listen failed -> ln: $(cat /tmp/ln.err); linking again works"
}

# fei_srq NTH: fail the NTH shared receive queue setup (use_srq=1; 1: the
# admin queue's SRQ, 2: the I/O queues'): the queue falls back to its own
# receive buffers, so the connect works, with the other SRQ only, and
# moves verified data; after the disconnect nothing is left.
fei_srq() {
	local nth=$1 rc=0 left n
	dmesg_mark
	fei_arm nvmet_rdma_srq_setup "$nth"
	nvme connect -t rdma -a "$TARGET_ADDR" -s 4420 -n "$NQN" -i 1 || rc=$?
	left=$(fei_disarm nvmet_rdma_srq_setup)
	[ "$rc" = 0 ] || { echo "FAIL: SRQ setup $nth failed and nvme connect failed ($rc): no fallback"; return 1; }
	n=$(obj srqs)
	if [ "$left" != 0 ] || [ "$n" != 1 ]; then
		nvme disconnect -n "$NQN" > /dev/null || true
		echo "FAIL: SRQ setup $nth failed (times left $left): $n SRQs, expected 1"
		return 1
	fi
	dmesg_since | grep -q "cannot create a shared receive queue (-12), using per-queue receives" ||
		{ echo "FAIL: no message about the SRQ that failed"; return 1; }
	FIO_SIZE=1M fio_verify "$(host_ns "$NQN")" --rw=randrw --bs=4k --iodepth=8 > /tmp/fio-srq.log ||
		{ tail -n 20 /tmp/fio-srq.log; return 1; }
	nvme disconnect -n "$NQN" > /dev/null
	settle
	echo "ok: SRQ setup $nth failed -> per-queue receives, 1 SRQ, fio verified, nothing left"
}
