#!/usr/bin/env bash
# Discovery lists the subsystem with its transport and address; connect
# makes its namespace appear with the transport and address in
# list-subsys; disconnect removes the controller again.
# topology: one two
# transport: rdma tcp
# impl: intree/intree
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:discover
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
[ "$TRANSPORT" = rdma ] && assert_module host "$HOST_IMPL" nvme_rdma
[ "$TRANSPORT" = rdma ] && assert_module target "$TARGET_IMPL" nvmet_rdma
check host '
dev=$(host_ns '"$nqn"')
[ "$(blockdev --getsize64 $dev)" = $((1 << 30)) ] || { echo "unexpected size of $dev"; exit 1; }
nvme list-subsys -o json > /tmp/subsys.json
grep -q "\"Transport\" *: *\"$TRANSPORT\"" /tmp/subsys.json &&
	grep -q "traddr=$TARGET_ADDR" /tmp/subsys.json || { cat /tmp/subsys.json; exit 1; }
host_disconnect_wait '"$nqn"'
'
