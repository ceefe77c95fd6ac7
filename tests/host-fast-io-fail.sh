#!/usr/bin/env bash
# fast_io_fail_tmo through our host: with the only path's port gone and
# reconnects failing, queued I/O fails once fast_io_fail_tmo expires
# (seconds) instead of waiting out ctrl_loss_tmo (10 minutes).
# topology: one
# transport: rdma
# impl: ours/intree
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-failfast
boot
check target target_simple "$nqn"
# This nvme-cli has no --fast-io-fail-tmo: write the options ourselves.
check host '
modprobe nvme-fabrics
exec 3<> /dev/nvme-fabrics
echo "nqn='"$nqn"',transport=rdma,traddr=$TARGET_ADDR,trsvcid=4420,hostnqn=$(cat /etc/nvme/hostnqn),reconnect_delay=2,ctrl_loss_tmo=600,fast_io_fail_tmo=3" >&3
read -r reply <&3
echo "$reply"
'

assert_module host ours nvme_rdma
check target '
rm $NVMET/ports/1/subsystems/'"$nqn"'
rmdir $NVMET/ports/1
'
progress "I/O must fail fast"
check host '
dev=$(host_ns '"$nqn"')
sleep 1
start=$SECONDS
rc=0
timeout 60 dd if=$dev of=/dev/null bs=4k count=1 iflag=direct 2> /tmp/dd.err || rc=$?
[ $rc != 0 ] || { echo "read succeeded without a path"; exit 1; }
[ $rc != 124 ] || { echo "read still pending after 60 s"; exit 1; }
echo "read failed after $((SECONDS - start)) s: $(cat /tmp/dd.err)"
dmesg | grep -q "reconnect attempt 2" || { echo "not reconnecting"; exit 1; }
'
