#!/usr/bin/env bash
# nr_poll_queues and nr_write_queues give our host dedicated poll and
# read queues: the controller gets one queue per kind, the maps say so,
# and polled I/O (io_uring --hipri) verifies through the poll queue.
# topology: one
# transport: rdma
# impl: ours/intree
# timeout: 900
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-poll
boot_connected "$nqn" --nr-io-queues=1 --nr-write-queues=1 --nr-poll-queues=1
assert_module host ours nvme_rdma
check host '
dmesg | grep -q "mapped 1 default, 1 read, 1 poll queues" || { dmesg | grep nvme; exit 1; }
c=$(ls -d /sys/class/nvme-subsystem/*/nvme[0-9]* | head -n 1)
[ "$(cat /sys/class/nvme/${c##*/}/queue_count)" = 4 ] || { echo "queue_count $(cat /sys/class/nvme/${c##*/}/queue_count)"; exit 1; }
'
progress "polled fio verify"
check host '
dev=$(host_ns '"$nqn"')
[ "$(cat /sys/block/${dev#/dev/}/queue/io_poll)" = 1 ] || { echo "$dev does not poll"; exit 1; }
fio --name=poll --filename=$dev --direct=1 --ioengine=io_uring --hipri=1 --iodepth=4 \
	--verify=crc32c --verify_fatal=1 --do_verify=1 --size=4M --rw=randwrite --bs=4k
'
progress "plain fio verify on read and write queues"
check host 'FIO_SIZE=4M fio_verify $(host_ns '"$nqn"') --rw=randrw --bsrange=4k-64k --iodepth=8'
check host '
stats=$(ls -d /sys/kernel/debug/nvme_rdma/nvme* | head -n 1)/stats
cat $stats
# The poll queue must have carried the polled writes and reads, 2 x 1024.
for q in 1 2 3; do
	n=$(awk -v q="queue $q:" '"'"'index($0, q) == 1 { print $4 }'"'"' $stats)
	[ "${n:-0}" -gt $([ $q = 3 ] && echo 2000 || echo 0) ] || { echo "queue $q carried $n commands"; exit 1; }
done
'
