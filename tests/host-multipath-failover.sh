#!/usr/bin/env bash
# nvme-core multipath over two of our controllers: one subsystem on two
# ports gives one namespace with two paths; removing one port under fio
# verify fails I/O over to the other path without a single error.
# topology: one
# transport: rdma
# impl: ours/intree
# timeout: 900
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-mpath
boot
[ "$(on host 'modprobe nvme-fabrics; cat /sys/module/nvme_core/parameters/multipath')" = Y ] ||
	skip "nvme_core multipath is off"
check target "target_nullb $nqn 1 && nvmet_port 2 rdma \$TARGET_ADDR 4421 && nvmet_link 2 $nqn"
check host "
modprobe nvme-fabrics
nvme connect -t rdma -a \$TARGET_ADDR -s 4420 -n $nqn
nvme connect -t rdma -a \$TARGET_ADDR -s 4421 -n $nqn --ctrl-loss-tmo=5 --reconnect-delay=1
"
assert_module host ours nvme_rdma
check host '
dev=$(host_ns '"$nqn"')
# Two live controllers in one subsystem behind one namespace head.
n=$(cat /sys/class/nvme-subsystem/*/nvme[0-9]*/state | grep -c live || true)
[ "$n" = 2 ] || { echo "$n live controllers"; exit 1; }
heads=$(ls /dev | grep -c "^nvme[0-9]*n1$" || true)
[ "$heads" = 1 ] || { echo "$heads namespace devices"; ls /dev/nvme*; exit 1; }
'
progress "fio verify while a path goes away"
fio=$(on_bg host 'FIO_SIZE=16M fio_verify $(host_ns '"$nqn"') --rw=randrw --bsrange=4k-64k --iodepth=8 --time_based --runtime=40 --verify_backlog=64 --output-format=json > /xfer/fio.json')
sleep 8
check target '
rm $NVMET/ports/2/subsystems/'"$nqn"'
rmdir $NVMET/ports/2
'
on_wait host "$fio" 300 || fail "fio failed while failing over"
on host "jq -e '.jobs[0].error == 0 and .jobs[0].write.io_bytes > 0 and .jobs[0].read.io_bytes > 0' /xfer/fio.json" ||
	fail "fio reported an error or moved no data"
check host '
# The controller of the lost path gives up after ctrl_loss_tmo=5.
for i in $(seq 300); do
	[ "$(ls /sys/class/nvme-subsystem/* | grep -c "^nvme[0-9]*$")" = 1 ] && exit 0
	sleep 0.1
done
echo "lost path still present"; exit 1
'
