#!/usr/bin/env bash
# nvme-core multipath over two of our controllers on two RDMA devices: one
# subsystem on two ports, one on rxe0 (dev0) and one on a second rxe
# device (rxe1 on its own netdev), gives one namespace with two paths.
# Under fio verify the second path's port is removed (its controller
# reconnects in vain while I/O fails over to the first path) and then
# re-added (the controller comes back live): fio ends without a single
# error and the queues of both paths were on their own device.
# topology: one
# transport: rdma
# impl: ours/intree ours/ours
# timeout: 900
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-mpath
addr2=198.18.1.1
boot
[ "$(on host 'modprobe nvme-fabrics; cat /sys/module/nvme_core/parameters/multipath')" = Y ] ||
	skip "nvme_core multipath is off"
check target "
ip link add dev1 type dummy && ip addr add $addr2/24 dev dev1 && ip link set dev1 up
rdma link add rxe1 type rxe netdev dev1
wait_for 10 eval '[ -e /sys/class/infiniband/rxe1 ]'
target_nullb $nqn 1 && nvmet_port 2 rdma $addr2 4420 && nvmet_link 2 $nqn"
check host "
nvme connect -t rdma -a \$TARGET_ADDR -s 4420 -n $nqn
nvme connect -t rdma -a $addr2 -s 4420 -n $nqn --ctrl-loss-tmo=120 --reconnect-delay=1
"
assert_module host "$HOST_IMPL" nvme_rdma

# live_paths N: N controllers of the subsystem are live.
live_paths='live_paths() { [ "$(cat /sys/class/nvme-subsystem/*/nvme[0-9]*/state | grep -c live)" = "$1" ]; }'
check host "$live_paths"'
live_paths 2 || { cat /sys/class/nvme-subsystem/*/nvme[0-9]*/state; exit 1; }
heads=$(ls /dev | grep -c "^nvme[0-9]*n1$" || true)
[ "$heads" = 1 ] || { echo "$heads namespace devices"; ls /dev/nvme*; exit 1; }
# Each path on its own device: both carry queue pairs.
for d in rxe0 rxe1; do
	n=$(rdma res show qp link $d/1 | grep -c "lqpn" || true)
	echo "$d: $n queue pairs"
	[ "$n" -gt 0 ] || exit 1
done
'
progress "fio verify while the rxe1 path goes away and comes back"
fio=$(on_bg host 'FIO_SIZE=16M fio_verify $(host_ns '"$nqn"') --rw=randrw --bsrange=4k-64k --iodepth=8 --time_based --runtime=45 --verify_backlog=64 --output-format=json > /xfer/fio.json')
sleep 8
check target "
rm \$NVMET/ports/2/subsystems/$nqn
rmdir \$NVMET/ports/2
"
check host "$live_paths"'; wait_for 30 live_paths 1'
sleep 5
check target "nvmet_port 2 rdma $addr2 4420 && nvmet_link 2 $nqn"
progress "waiting for the rxe1 path to come back"
check host "$live_paths"'; wait_for 60 live_paths 2'
on_wait host "$fio" 300 || fail "fio failed while failing over"
on host "jq -e '.jobs[0].error == 0 and .jobs[0].write.io_bytes > 0 and .jobs[0].read.io_bytes > 0' /xfer/fio.json" ||
	fail "fio reported an error or moved no data"
check host "nvme disconnect -n $nqn"
