#!/usr/bin/env bash
# A hostile initiator (tests/tools/nvmf-rdma-hostile.c) connects a queue
# properly (CM private data and a hand-built Fabrics Connect) and then
# sends malformed capsules to our target, one case per connection: SGL
# descriptors of an unsupported type and subtype, a keyed length beyond
# MDTS, a zero-length keyed SGL, in-capsule data with offset or length
# beyond what arrived, on a command that writes none, and on the admin
# queue, a capsule longer than the receive buffer and one shorter than an
# SQE, twice the queue depth outstanding, capsules without end (flood),
# a duplicate command_id, keyed
# SGLs with a bogus rkey (our RDMA READ, then our RDMA WRITE fails), a
# second connect for a qid in use, and a disconnect with a 1 MiB write in
# flight.  The tool checks each expected outcome (the NVMe status in the
# response, or the queue being closed); the overflow and the failed data
# transfers must be named in dmesg and counted in debugfs, and the
# overflow (reads from a namespace that completes 100 ms late, 1 s on
# the debug kernel) is
# detected with use_srq=1 too.  Afterwards the target has no
# queue left, a normal in-tree host passes fio verify and nvmet-rdma
# unloads (teardown), with a clean dmesg (gate).
# topology: one
# transport: rdma
# impl: intree/ours
# timeout: 420
# debug-env: SLOW_NSEC=1000000000
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

hostile_tool > /dev/null
tool=/xfer/tools/nvmf-rdma-hostile
cases=$(hostile_tool capsule)
n=$(echo "$cases" | wc -w)
nqn=nqn.2024-01.io.nvmeof-rdma:hostile-capsules

boot
check target target_simple "$nqn"
assert_module target ours nvmet_rdma
# Namespace 2 completes every command late (100 ms; 1 s on the debug
# kernel, which takes longer than 100 ms to receive 32 capsules):
# sq-overflow needs commands that stay outstanding while it sends more.
check target 'dev=$(nullb_slow slow '"${SLOW_NSEC:-100000000}"') && nvmet_ns '"$nqn"' 2 $dev'
for c in $cases; do
	progress "capsule case $c"
	check host "timeout 60 $tool capsule \$TARGET_ADDR 4420 $nqn \$(cat /etc/nvme/hostnqn) $c"
done
progress "hostile queues gone"
check target 'wait_for 60 eval "grep -qx \"queues 0\" /sys/kernel/debug/nvmet_rdma/objects" || { grep . /sys/kernel/debug/nvmet_rdma/queues/*; exit 1; }'
check target 'dmesg | grep -q "capsule is shorter than a command"'
# Named with the controller and the port, counted after the queue is gone.
check target 'dmesg | grep -E "qid 1, cntlid [0-9]+, host [^ ]+ .*port 1 .*: RDMA WRITE failed: remote access error"'
check target 'dmesg | grep -E "qid 1, cntlid [0-9]+, host .*: RDMA READ failed: remote access error"'
check target 'dmesg | grep "commands outstanding on a queue of depth 16, closing"'
check target 'awk '\''$1 == "xfer_errors" && $2 >= 2 {x = 1} $1 == "sq_overflows" && $2 >= 1 {o = 1}
	END {exit !(x && o)}'\'' /sys/kernel/debug/nvmet_rdma/objects || { cat /sys/kernel/debug/nvmet_rdma/objects; exit 1; }'

progress "capsule case sq-overflow with use_srq=1"
check target 'nvmet_clear && rmmod nvmet_rdma && modprobe nvmet-rdma use_srq=1'
check target target_simple "$nqn"
check target 'dev=$(nullb_node slow) && nvmet_ns '"$nqn"' 2 $dev'
check target '[ "$(cat /sys/module/nvmet_rdma/parameters/use_srq)" = Y ]'
check host "timeout 60 $tool capsule \$TARGET_ADDR 4420 $nqn \$(cat /etc/nvme/hostnqn) sq-overflow"
check target 'wait_for 60 eval "grep -qx \"queues 0\" /sys/kernel/debug/nvmet_rdma/objects"'
check target 'grep -qx "sq_overflows [1-9][0-9]*" /sys/kernel/debug/nvmet_rdma/objects || { cat /sys/kernel/debug/nvmet_rdma/objects; exit 1; }'

progress "normal host after the hostile one"
check host host_connect "$nqn"
check host 'FIO_SIZE=8M fio_verify $(host_ns '"$nqn"') --rw=randrw --bs=4k --iodepth=16'
check host "nvme disconnect -n $nqn"
check target nvmet_clear
check target 'nullb_slow_remove slow'
check target objects_zero
echo "$n hostile capsule cases passed, sq-overflow also with use_srq=1"
