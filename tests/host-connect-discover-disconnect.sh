#!/usr/bin/env bash
# Our host: discovery through it lists the subsystem, connect creates a
# controller of transport rdma with the namespace, and disconnect removes
# it within 30 s.
# topology: one two
# transport: rdma
# impl: ours/intree
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-connect
boot
check target target_simple "$nqn"
progress "discover"
check host '
modprobe nvme-fabrics
nvme discover -t rdma -a $TARGET_ADDR -s 4420 -o json > /tmp/disc.json
jq -e --arg n '"$nqn"' --arg a $TARGET_ADDR \
	"[.records[] | select(.subnqn == \$n and .trtype == \"rdma\" and .traddr == \$a)] | length == 1" /tmp/disc.json ||
	{ cat /tmp/disc.json; exit 1; }
'
assert_module host ours nvme_rdma
progress "connect"
check host "host_connect $nqn"
check host '
dev=$(host_ns '"$nqn"')
[ "$(blockdev --getsize64 $dev)" = $((1 << 30)) ] || { echo "unexpected size of $dev"; exit 1; }
c=$(ls -d /sys/class/nvme-subsystem/*/nvme[0-9]* | head -n 1)
[ "$(cat $c/transport)" = rdma ] || { echo "transport $(cat $c/transport)"; exit 1; }
grep -q "traddr=$TARGET_ADDR" $c/address || { cat $c/address; exit 1; }
[ "$(cat $c/state)" = live ] || { echo "state $(cat $c/state)"; exit 1; }
dmesg | grep -q "new ctrl: NQN \"'"$nqn"'\"" || { echo "no new ctrl message"; exit 1; }
'
progress "disconnect"
check host "host_disconnect_wait $nqn 30"
