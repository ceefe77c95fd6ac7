#!/usr/bin/env bash
# Our host reposts a response's receive before handling it, so a command
# issued from that completion (the tag is free again) always finds a
# receive for its response: with every tag of the one I/O queue busy
# (fio at iodepth 128 = queue_size, crc32c verified), the host's rxe
# device must send no RNR NAK (send_rnr_err of rdma statistic stays
# put) while carrying thousands of responses.  The host also
# advertises a minimum RNR timer of 0.32 ms instead of 655 ms should one
# ever be sent.
# topology: two
# transport: rdma
# impl: ours/intree
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-rnr
boot_connected "$nqn" --nr-io-queues=1 --queue-size=128
assert_module host ours nvme_rdma
counter='counter() { rdma statistic show | awk -v k=$1 '"'"'{ for (i = 1; i < NF; i++) if ($i == k) n += $(i + 1) } END { print n + 0 }'"'"'; }'
check host "$counter"'; rdma statistic show | head -n 3; counter send_rnr_err > /tmp/rnr0; counter rcvd_pkts > /tmp/pkts0'
check host 'FIO_SIZE=64M fio_verify $(host_ns '"$nqn"') --rw=randrw --bs=4k --iodepth=128 --iodepth_batch_complete_min=1 --time_based --runtime=12 --verify_backlog=256 --output-format=json > /tmp/fio.json 2> /tmp/fio.err || { cat /tmp/fio.err; exit 1; }
jq -e ".jobs[0].error == 0" /tmp/fio.json > /dev/null'
check host "$counter"'
rnr=$(($(counter send_rnr_err) - $(cat /tmp/rnr0)))
pkts=$(($(counter rcvd_pkts) - $(cat /tmp/pkts0)))
ios=$(jq ".jobs[0].read.total_ios + .jobs[0].write.total_ios" /tmp/fio.json)
echo "$ios I/Os, $pkts packets received, $rnr RNR NAKs sent"
[ "$ios" -gt 5000 ] || { echo "too little I/O to tell"; exit 1; }
[ "$rnr" = 0 ]'
check host "host_disconnect_wait $nqn"
