#!/usr/bin/env bash
# nr_poll_queues and nr_write_queues give our host dedicated poll and
# read queues: the controller gets one queue per kind and the maps say
# so.  Per-queue command counters (debugfs stats) must show where I/O
# went: polled I/O (io_uring --hipri, verified) on the poll queue only,
# plain writes on the default queue (nr_write_queues), plain reads on the
# read queue (nr_io_queues), and none of it on the poll queue.
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
# cmds QID: commands queue QID carried so far.
cmds='cmds() { awk -v q="queue $1:" '"'"'index($0, q) == 1 { for (i = 3; i < NF; i += 2) if ($i == "commands") print $(i + 1) }'"'"' $(ls -d /sys/kernel/debug/nvme_rdma/nvme* | head -n 1)/stats; }'

# phase NAME Q1 Q2 Q3 FIO...: run FIO and check what each queue carried
# meanwhile: "N+" at least N commands, "N-" at most N (other I/O, such
# as udev's, is not expected then but would not be ours to fail on).
phase() {
	local name=$1 want1=$2 want2=$3 want3=$4
	shift 4
	progress "$name"
	check host "$cmds"'
b=()
for q in 1 2 3; do b[q]=$(cmds $q); done
'"$*"'
for q in 1 2 3; do
	d=$(($(cmds $q) - b[q]))
	case $q in 1) w='"$want1"' ;; 2) w='"$want2"' ;; 3) w='"$want3"' ;; esac
	echo "queue $q: $d commands (want $w)"
	case $w in
	*+) [ $d -ge ${w%+} ] ;;
	*-) [ $d -le ${w%-} ] ;;
	esac || { echo "queue $q carried $d commands, want $w"; exit 1; }
done'
}

dev='$(host_ns '"$nqn"')'
check host "[ \"\$(cat /sys/block/\$(basename $dev)/queue/io_poll)\" = 1 ]"
# 4 MiB in 4 KiB blocks: 1024 writes, then 1024 verify reads.
phase "polled writes and reads: the poll queue" 16- 16- 2048+ \
	"fio --name=poll --filename=$dev --direct=1 --ioengine=io_uring --hipri=1 --iodepth=4 --verify=crc32c --verify_fatal=1 --do_verify=1 --size=4M --rw=randwrite --bs=4k > /tmp/fio.out || { tail /tmp/fio.out; exit 1; }"
phase "plain writes: the default (write) queue" 1024+ 16- 0- \
	"fio --name=w --filename=$dev --direct=1 --ioengine=libaio --iodepth=8 --size=4M --rw=randwrite --bs=4k > /tmp/fio.out || { tail /tmp/fio.out; exit 1; }"
phase "plain reads: the read queue" 16- 1024+ 0- \
	"fio --name=r --filename=$dev --direct=1 --ioengine=libaio --iodepth=8 --size=4M --rw=randread --bs=4k > /tmp/fio.out || { tail /tmp/fio.out; exit 1; }"
progress "plain fio verify on read and write queues"
check host 'FIO_SIZE=4M fio_verify $(host_ns '"$nqn"') --rw=randrw --bsrange=4k-64k --iodepth=8'
