# shellcheck shell=bash
# Guest side of tests/debug-fault-inject-connect.sh, sourced after
# /xfer/guest/lib.sh.  Needs NQN set.
DBG=/sys/kernel/debug
FEI=$DBG/fail_function
FSLAB=$DBG/failslab

# Only the failure of a counted call is printed, without a stack trace:
# "Call Trace" would (rightly) trip the dmesg gate.
fault_setup() {
	[ -d $FEI ] && [ -d $FSLAB ] && [ -e /proc/self/fail-nth ] ||
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

target_idle() {
	awk '$1 ~ /^(queues|slots)$/ && $2 != 0 {bad = 1} END {exit bad}' \
		$DBG/nvmet_rdma/objects
}

# settle: after a connect that failed (or was deleted again), no host
# controller is left and the target has released every queue.
settle() {
	wait_for $((20 * TIMEOUT_SCALE)) no_ctrl ||
		{ echo "controller left behind: $(ls /sys/class/nvme)"; return 1; }
	wait_for $((20 * TIMEOUT_SCALE)) target_idle ||
		{ echo "target objects left behind:"; cat $DBG/nvmet_rdma/objects; return 1; }
}

# fei_connect FUNC NTH: fail the NTH call of our FUNC (1: the admin
# queue's, 2: the first I/O queue's) with -ENOMEM; nvme connect must fail,
# and nothing may be left behind.
fei_connect() {
	local f=$1 nth=$2 rc=0 left
	echo "$f" > $FEI/inject
	printf '%#x' -12 > "$FEI/$f/retval"
	echo 100 > $FEI/probability
	echo 1 > $FEI/interval
	# space N: the first N-1 calls pass, the Nth fails; times: once.
	echo "$nth" > $FEI/space
	echo 1 > $FEI/times
	nvme connect -t rdma -a "$TARGET_ADDR" -s 4420 -n "$NQN" -i 1 || rc=$?
	echo "!$f" > $FEI/inject
	echo 0 > $FEI/probability
	left=$(cat $FEI/times)
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
