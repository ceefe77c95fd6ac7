#!/usr/bin/env bash
# The max_queue_size module parameter bounds I/O queues: nvmet core
# reports it in CAP.MQES, the in-tree host sizes its I/O queues down to
# it, and our I/O queues are created with that many receive slots.
# Values outside 32..1024 are refused, with a message naming them: 6.1
# nvmet core checks the admin queue's 32 entries against MQES too.
# With our host the largest queues are shown in effect, not just
# accepted: max_queue_size=1024 and --queue-size=1024 give a depth of 256
# (our host's maximum, said in a message) in the host's sqsize and in
# every I/O queue of the target, and a null_blk that completes after
# 50 ms (so that Little's law needs no more than 3000 IOPS of the guest)
# lets four fio jobs at iodepth 64 keep more than 128 commands
# outstanding on the one I/O queue (the target's inflight_max).
# topology: one
# transport: rdma
# impl: intree/ours ours/ours
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
check host "host_disconnect_wait $nqn"

[ "$HOST_IMPL" = ours ] || exit 0
progress "max_queue_size 1024, --queue-size=1024: 256 in effect"
check target 'nvmet_clear && rmmod null_blk && modprobe null_blk nr_devices=1 gb=1 memory_backed=1 queue_mode=2 bs=512 irqmode=2 completion_nsec=50000000 hw_queue_depth=1024'
check target 'echo 1024 > /sys/module/nvmet_rdma/parameters/max_queue_size'
check target target_simple "$nqn"
check host "dmesg_mark; host_connect $nqn --queue-size=1024 --nr-io-queues=1"
check host 'c=/sys/class/nvme/$(host_ctrls '"$nqn"')
[ "$(cat $c/sqsize)" = 255 ] || { echo "sqsize $(cat $c/sqsize)"; exit 1; }
dmesg_since | grep -q "queue depth 1024 > this host.s maximum 256, using 256"'
check target 'grep -l "^qid [1-9]" /sys/kernel/debug/nvmet_rdma/queues/* | xargs grep -h "^depth" | sort -u > /xfer/depths'
on target 'cat /xfer/depths'
check target '[ "$(cat /xfer/depths)" = "depth 256" ]'
check host 'FIO_SIZE=16M fio_verify $(host_ns '"$nqn"') --rw=randwrite --bs=4k --iodepth=64 --numjobs=4 --offset_increment=16M > /tmp/fio.out 2>&1 || { tail -n 20 /tmp/fio.out; exit 1; }'
check target 'grep -l "^qid [1-9]" /sys/kernel/debug/nvmet_rdma/queues/* | xargs grep -h "^inflight_max" | sort -k2 -n | tail -n 1 > /xfer/peak'
on target 'cat /xfer/peak'
check target '[ "$(cut -d" " -f2 /xfer/peak)" -gt 128 ]'
check host "host_disconnect_wait $nqn"
