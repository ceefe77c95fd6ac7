#!/usr/bin/env bash
# Our host moves data intact at every transfer shape: fio crc32c verify at
# 512 B, 4 KiB, 16 KiB, 128 KiB and 1 MiB blocks, QD1 and QD32, against a
# port with the default in-capsule data size (small writes go in the
# capsule, the rest through registered MRs) and one with
# param_inline_data_size=0 (everything keyed). Our debugfs counters must
# show which path the data took: on the default port at least the 8192
# writes of the 512 B passes went in the capsule (inline_writes counts I/O
# writes, not the queues' Connect), on the other none. Runs against the
# in-tree target and ours.
# topology: one
# transport: rdma
# impl: ours/intree ours/ours
# timeout: 1800
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-sizes
boot
check target "target_nullb $nqn 1 && nvmet_port 2 rdma \$TARGET_ADDR 4421 param_inline_data_size=0 && nvmet_link 2 $nqn"
for svc in 4420 4421; do
	progress "port $svc: connect"
	check host "modprobe nvme-fabrics; nvme connect -t rdma -a \$TARGET_ADDR -s $svc -n $nqn"
	assert_module host ours nvme_rdma
	for bs in 512 4k 16k 128k 1M; do
		for qd in 1 32; do
			progress "port $svc: bs=$bs qd=$qd"
			size=4M
			[ "$bs" = 1M ] && size=16M
			check host "FIO_SIZE=$size fio_verify \$(host_ns $nqn) --rw=randwrite --bs=$bs --iodepth=$qd --output-format=json > /tmp/fio.json && jq -e '.jobs[0].error == 0 and .jobs[0].write.io_bytes > 0 and .jobs[0].read.io_bytes > 0' /tmp/fio.json > /dev/null"
		done
	done
	progress "port $svc: data paths"
	check host '
stats=$(ls -d /sys/kernel/debug/nvme_rdma/nvme* | head -n 1)/stats
cat $stats
sum() { awk -v k=$1 '"'"'{ for (i = 1; i < NF; i++) if ($i == k) n += $(i + 1) } END { print n + 0 }'"'"' $stats; }
echo "inline $(sum inline_writes) keyed $(sum keyed) remote_inv $(sum remote_inv) local_inv $(sum local_inv) bad $(sum bad_responses)"
[ $(sum keyed) -gt 0 ] && [ $(sum remote_inv) -gt 0 ] && [ $(sum bad_responses) = 0 ] || exit 1
if [ '"$svc"' = 4420 ]; then [ $(sum inline_writes) -ge 8192 ]; else [ $(sum inline_writes) = 0 ]; fi
'
	check host "nvme disconnect -n $nqn"
done
