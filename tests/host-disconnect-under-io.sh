#!/usr/bin/env bash
# `nvme disconnect` while fio runs against a healthy target: it returns
# promptly, the in-flight and queued I/O fail instead of hanging, and the
# controller and its queues are gone (teardown then unloads the modules).
# topology: one
# transport: rdma
# impl: ours/intree ours/ours
# timeout: 600
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-disconnect-io
boot
check target target_simple "$nqn"
check host "host_connect $nqn"
assert_module host ours nvme_rdma
fio=$(on_bg host 'fio --name=load --filename=$(host_ns '"$nqn"') --direct=1 --ioengine=libaio --rw=randrw --bsrange=4k-128k --iodepth=32 --time_based --runtime=600 > /tmp/fio.out 2>&1')
check host 'wait_for 30 pidof fio && sleep 3'
progress "disconnect under I/O"
check host '
start=$SECONDS
timeout 30 nvme disconnect -n '"$nqn"' || { echo "disconnect failed or hung (rc $?)"; exit 1; }
echo "disconnect took $((SECONDS - start)) s"
wait_for 20 sh -c "[ -z \"\$(ls /sys/class/nvme-subsystem)\" ]"
'
rc=0
on_wait host "$fio" 60 > /dev/null || rc=$?
[ $rc = 124 ] && fail "fio still running 60 s after disconnect"
[ $rc != 0 ] || fail "fio reported success although its controller was deleted"
# Our target must have let go of the host's queues too.
[ "$TARGET_IMPL" != ours ] || check target 'wait_for 20 sh -c "[ -z \"\$(ls /sys/kernel/debug/nvmet_rdma/queues)\" ]"'
