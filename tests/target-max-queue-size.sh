#!/usr/bin/env bash
# The max_queue_size module parameter bounds I/O queues: nvmet core
# reports it in CAP.MQES, the in-tree host sizes its I/O queues down to
# it, and our I/O queues are created with that many receive slots.
# Values outside 32..1024 are refused, with a message naming them: 6.1
# nvmet core checks the admin queue's 32 entries against MQES too.
# topology: one
# transport: rdma
# impl: intree/ours
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:max-queue-size
boot
check target 'modprobe nvmet && modprobe nvmet-rdma max_queue_size=32'
assert_module target ours nvmet_rdma
expect_fail target 'echo 31 > /sys/module/nvmet_rdma/parameters/max_queue_size'
check target "dmesg | grep -qF 'nvmet-rdma: max_queue_size 31 refused: must be 32-1024 (-22)'"
expect_fail target 'echo 4096 > /sys/module/nvmet_rdma/parameters/max_queue_size'
check target "dmesg | grep -qF 'nvmet-rdma: max_queue_size 4096 refused: must be 32-1024 (-22)'"
check target '[ "$(cat /sys/module/nvmet_rdma/parameters/max_queue_size)" = 32 ]'
check target target_simple "$nqn"
check host host_connect "$nqn" --queue-size=128
check target 'grep -l "^qid [1-9]" /sys/kernel/debug/nvmet_rdma/queues/* | xargs grep -h "^depth" | sort -u > /xfer/depths'
on target 'cat /xfer/depths'
check target '[ "$(cat /xfer/depths)" = "depth 32" ]'
check host 'FIO_SIZE=2M fio_verify $(host_ns '"$nqn"') --rw=randwrite --bs=4k --iodepth=64'
