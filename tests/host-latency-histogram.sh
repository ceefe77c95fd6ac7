#!/usr/bin/env bash
# Our host's latency histogram (debugfs nvme_rdma/<ctrl>/latency) counts
# every completed command of a queue once and in the right bucket: after
# fio's 2048 QD1 4 KiB reads on the one I/O queue, the queue's buckets
# add up to its commands counter exactly, hold at least the 2048 reads,
# and the bucket holding the median covers fio's own median completion
# latency within a factor of two (both measure submission to completion).
# topology: one
# transport: rdma
# impl: ours/intree
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-latency
boot_connected "$nqn" --nr-io-queues=1
assert_module host ours nvme_rdma

progress "2048 QD1 reads"
check host 'fio --name=lat --filename=$(host_ns '"$nqn"') --direct=1 --ioengine=psync --rw=randread --bs=4k --number_ios=2048 --size=64M --output-format=json > /tmp/fio.json &&
jq -e ".jobs[0].error == 0 and .jobs[0].read.total_ios == 2048" /tmp/fio.json > /dev/null'

progress "histogram against the counters and fio"
check host '
d=/sys/kernel/debug/nvme_rdma/$(host_ctrls '"$nqn"')
cat $d/latency
cmds=$(awk '"'"'$1 == "queue" && $2 == "1:" { for (i = 3; i < NF; i += 2) if ($i == "commands") print $(i + 1) }'"'"' $d/stats)
# Queue 1 lines of the histogram: "  < U us: N" or "  >= L us: N".
awk '"'"'/^queue / { q = $2 } q == "1:" && /us:/ { print ($1 == "<" ? $2 : -$2), $NF }'"'"' $d/latency > /tmp/buckets
total=$(awk '"'"'{ n += $2 } END { print n + 0 }'"'"' /tmp/buckets)
echo "queue 1: commands $cmds, histogram $total"
[ "$total" = "$cmds" ] || { echo "the histogram holds $total commands, the counter $cmds"; exit 1; }
[ "$total" -ge 2048 ] || { echo "fewer than the 2048 reads"; exit 1; }
# The median bucket: [upper/2, upper) us.
upper=$(awk -v half=$((total / 2)) '"'"'{ n += $2; if (n > half) { print $1; exit } }'"'"' /tmp/buckets)
p50=$(jq ".jobs[0].read.clat_ns.percentile[\"50.000000\"] / 1000 | floor" /tmp/fio.json)
echo "median bucket below $upper us, fio median $p50 us"
[ "$upper" -gt 0 ] || { echo "the median is in the open last bucket"; exit 1; }
[ $((upper * 2)) -ge "$p50" ] && [ $((upper / 2)) -le $((p50 * 2)) ] ||
	{ echo "the median bucket does not cover fio median $p50 us"; exit 1; }
'
check host "host_disconnect_wait $nqn"
