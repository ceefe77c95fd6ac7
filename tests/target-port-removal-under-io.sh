#!/usr/bin/env bash
# nvmet port removal under I/O from several controllers, in a loop: two
# host identities (two controllers) run fio on two namespaces while the
# port is removed and created again PORT_LOOPS times (10; 50 on the debug
# kernel, where KASAN sees any use of the freed port), every other time
# again while the hosts' Connects are in flight.  nvmet core frees a port
# only after flushing nvmet_wq, where our queue releases run, so no queue
# outlives its port.  Each round the port is removed without waiting for
# the queues; both controllers are live again before the next; at the end
# fio verify passes on both, the hosts disconnect, no queue is left and
# the gate (KASAN, lockdep, kmemleak on the debug kernel) is clean.
# topology: one
# transport: rdma
# impl: ours/ours
# timeout: 1200
# debug-env: PORT_LOOPS=50 FIO_SIZE=2M
# debug-timeout: 7200
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:port-removal
ha=${nqn%:*}:host-a hb=${nqn%:*}:host-b
ia=5b1f7c2e-3a4d-4c6b-9e8f-7a6b5c4d3e01 ib=5b1f7c2e-3a4d-4c6b-9e8f-7a6b5c4d3e02
loops=${PORT_LOOPS:-10}
boot
check target "target_nullb $nqn 2 $ha $hb"
assert_module target ours nvmet_rdma
check host host_multipath_off
opts='--reconnect-delay=1 --ctrl-loss-tmo=600'
check host "host_connect $nqn --hostnqn=$ha --hostid=$ia $opts && fabrics_connect $nqn hostnqn=$hb hostid=$ib reconnect_delay=1 ctrl_loss_tmo=600"
assert_module host ours nvme_rdma
# both_live: both controllers of the subsystem are live.
both_live='both_live() { [ "$(for c in $(host_ctrls '"$nqn"'); do cat /sys/class/nvme/$c/state; done | grep -cx live)" = 2 ]; }'
check host "$both_live; wait_for 30 both_live"
# disk_of CTRL NSID: that controller's disk of namespace NSID.
disks='disks() { local c d n=1; for c in $(host_ctrls '"$nqn"'); do for d in /sys/class/nvme/$c/nvme*n*; do [ "$(cat $d/nsid 2>/dev/null)" = $n ] && echo /dev/${d##*/}; done; n=$((n + 1)); done; }'
check host "$disks; [ \$(disks | wc -l) = 2 ]"
load=$(on_bg host "$disks"'; for d in $(disks); do fio_load $d --iodepth=8 --runtime=3600 > /dev/null 2>&1 & done; wait')
check host 'wait_for 30 pidof fio'

remove='rm $NVMET/ports/1/subsystems/'"$nqn"' && rmdir $NVMET/ports/1'
add='nvmet_port 1 rdma $TARGET_ADDR 4420 && nvmet_link 1 '"$nqn"
start=$SECONDS
for ((i = 1; i <= loops; i++)); do
	progress "round $i/$loops"
	check target "$remove"
	if ((i % 2 == 0)); then
		# The hosts retry every second: remove the port again while
		# their Connects are on the way.
		check target "sleep 1.$((i % 7)); $add; sleep 0.$((i % 5)); $remove"
	fi
	check target "$add"
	check host "$both_live; wait_for 60 both_live || { dmesg | tail -n 20; exit 1; }"
done
echo "$loops port removals under I/O in $((SECONDS - start)) s"
check host 'fio_signal TERM'
on_wait host "$load" 60 > /dev/null || true

progress "fio verify on both controllers"
check host "$disks"'; FIO_SIZE=${FIO_SIZE:-8M} fio_verify_many $(disks) -- --rw=randrw --bs=4k --iodepth=8'
check host "host_disconnect_wait $nqn"
check target nvmet_clear
check target objects_zero
