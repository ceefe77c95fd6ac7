#!/usr/bin/env bash
# Every pairing of our and the in-tree host and target across the two-VM
# link, and nvme-tcp as the baseline: discovery lists the subsystem with
# its transport and address; a connect creates a live controller of that
# transport and address (sysfs, list-subsys, the "new ctrl" message) whose
# 1 GiB namespace answers a read; with our target its queues appear in
# debugfs; disconnect removes the controller within 30 s, and our target's
# object counters return to zero once the port is gone.
# topology: two
# transport: rdma tcp
# impl: intree/intree ours/intree intree/ours ours/ours
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:connect-discover
boot
check target target_simple "$nqn"
progress "discover"
check host '
modprobe nvme-fabrics
nvme discover -t $TRANSPORT -a $TARGET_ADDR -s 4420 -o json > /tmp/disc.json
jq -e --arg n '"$nqn"' --arg t $TRANSPORT --arg a $TARGET_ADDR \
	"[.records[] | select(.subnqn == \$n and .trtype == \$t and .traddr == \$a)] | length == 1" /tmp/disc.json ||
	{ cat /tmp/disc.json; exit 1; }
'
progress "connect"
check host "host_connect $nqn"
if [ "$TRANSPORT" = rdma ]; then
	assert_module host "$HOST_IMPL" nvme_rdma
	assert_module target "$TARGET_IMPL" nvmet_rdma
fi
check host '
dev=$(host_ns '"$nqn"')
[ "$(blockdev --getsize64 $dev)" = $((1 << 30)) ] || { echo "unexpected size of $dev"; exit 1; }
dd if=$dev of=/dev/null bs=4k count=256 iflag=direct status=none
c=/sys/class/nvme/$(host_ctrls '"$nqn"')
[ "$(cat $c/transport)" = $TRANSPORT ] || { echo "transport $(cat $c/transport)"; exit 1; }
grep -q "traddr=$TARGET_ADDR" $c/address || { cat $c/address; exit 1; }
[ "$(cat $c/state)" = live ] || { echo "state $(cat $c/state)"; exit 1; }
nvme list-subsys -o json > /tmp/subsys.json
grep -q "\"Transport\" *: *\"$TRANSPORT\"" /tmp/subsys.json &&
	grep -q "traddr=$TARGET_ADDR" /tmp/subsys.json || { cat /tmp/subsys.json; exit 1; }
dmesg | grep -q "new ctrl: NQN \"'"$nqn"'\"" || { echo "no new ctrl message"; exit 1; }
'
ours_target() { [ "$TRANSPORT" = rdma ] && [ "$TARGET_IMPL" = ours ]; }
if ours_target; then
	check target 'ls /sys/kernel/debug/nvmet_rdma/queues | wc -l | grep -qv "^0$"'
fi
progress "disconnect"
check host "host_disconnect_wait $nqn 30"
if ours_target; then
	check target nvmet_clear
	check target objects_zero
fi
