#!/usr/bin/env bash
# Our host against a hostile target: tests/tools/nvmf-rdma-hostile.c
# listens on its own trsvcid, accepts the host's CM connect with valid
# private data and answers the admin queue's Fabrics Connect with a
# response whose command_id was never issued, the right completion twice,
# a completion naming another submission queue (and a garbage SQ head),
# an error status, a response shorter than a CQE, or nothing at all.
# In every case `nvme connect` must fail within a bounded time (admin
# commands time out after nvme_core admin_timeout, set to 10 s here); when
# the response itself is the violation the Connect must fail at once, not
# by that timeout,
# the host must say what was wrong, no controller may be left behind,
# dmesg stays clean (gate) and nvme-rdma unloads (teardown).
# topology: one
# transport: rdma
# impl: ours/intree
# timeout: 420
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

# shellcheck disable=SC2119 # no mode: build the tool, list nothing
hostile_tool
tool=/xfer/tools/nvmf-rdma-hostile
nqn=nqn.2024-01.io.nvmeof-rdma:hostile-target

# What our host must log for each case (extended regex).
declare -A expect=(
	[bogus-cid]='response for unknown command_id'
	[duplicate]='second response for command_id|response for unknown command_id'
	[wrong-sqid]='response names submission queue 3'
	[error-status]='is not allowed'
	[short-response]='response of 8 bytes'
	[silent]='timed out'
)

boot
check host 'modprobe nvme-fabrics && modprobe nvme-rdma && echo 10 > /sys/module/nvme_core/parameters/admin_timeout'
assert_module host ours nvme_rdma
for c in bogus-cid duplicate wrong-sqid error-status short-response silent; do
	progress "hostile target case $c"
	check host 'dmesg | wc -l > /tmp/dmesg.lines'
	t=$(on_bg host "$tool target \$TARGET_ADDR 4421 $c 60")
	check host 'wait_for 10 eval "grep -q listening /xfer/res/'"$t"'.out"'
	check host '
start=$SECONDS rc=0
timeout 90 nvme connect -t rdma -a "$TARGET_ADDR" -s 4421 -n '"$nqn"' > /tmp/connect.out 2>&1 || rc=$?
echo "nvme connect: rc $rc after $((SECONDS - start)) s: $(cat /tmp/connect.out)"
[ $rc != 0 ] || { echo "nvme connect succeeded against a hostile target"; exit 1; }
[ $rc != 124 ] || { echo "nvme connect hung"; exit 1; }'
	on_wait host "$t" 90 || fail "$c: the hostile target did not end"
	check host 'dmesg | tail -n +$(($(cat /tmp/dmesg.lines) + 1)) | tee /tmp/dmesg.case | grep -E "nvme|rdma" || true'
	on host 'grep -qE "'"${expect[$c]}"'" /tmp/dmesg.case' ||
		fail "$c: the host did not log /${expect[$c]}/"
	case $c in
	bogus-cid | wrong-sqid | short-response)
		on host '! grep -q "timed out" /tmp/dmesg.case' ||
			fail "$c: the Connect waited for admin_timeout instead of failing at once"
		;;
	esac
	check host 'wait_for 20 eval "[ -z \"\$(ls /sys/class/nvme 2>/dev/null)\" ]"'
done
