#!/usr/bin/env bash
# `nvme reset` 20 times while fio verifies data through our host: every
# reset reconnects, no I/O fails and no data is lost.
# topology: one
# transport: rdma
# impl: ours/intree
# timeout: 1200
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-reset
boot_connected "$nqn"
assert_module host ours nvme_rdma
progress "fio under resets"
fio=$(on_bg host 'FIO_SIZE=16M fio_verify $(host_ns '"$nqn"') --rw=randrw --bsrange=4k-64k --iodepth=8 --time_based --runtime=600 --verify_backlog=64 --output-format=json > /xfer/fio.json || [ $? -ge 128 ]')
check host '
ctrl=$(basename $(ls -d /sys/class/nvme-subsystem/*/nvme[0-9]* | head -n 1))
sleep 3
for i in $(seq 20); do
	nvme reset /dev/$ctrl
	for t in $(seq 300); do
		[ "$(cat /sys/class/nvme/$ctrl/state)" = live ] && break
		sleep 0.1
	done
	[ "$(cat /sys/class/nvme/$ctrl/state)" = live ] || { echo "not live 30 s after reset $i"; exit 1; }
	sleep 1
done
echo "20 resets done"
# fio stops on SIGINT, still writing its report (with any verify error),
# and exits 128+.
fio_signal INT
exit 0
'
on_wait host "$fio" 300 || fail "fio failed under resets"
# Skip fio's "terminating on signal" line in front of the JSON.
on host "sed -n '/^{/,\$p' /xfer/fio.json | jq -e '.jobs[0].error == 0 and .jobs[0].write.io_bytes > 0 and .jobs[0].read.io_bytes > 0'" ||
	fail "fio reported an error or moved no data"
check host '[ "$(dmesg | grep -c "nvme nvme[0-9]*: resetting controller")" = 20 ] || { dmesg | grep nvme; exit 1; }'
