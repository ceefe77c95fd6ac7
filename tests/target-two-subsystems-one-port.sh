#!/usr/bin/env bash
# Two subsystems linked to one port of our target: discovery lists both,
# the host connects to each (two controllers in two subsystems), fio
# verify passes on both at once, and disconnecting one while fio runs on
# the other leaves the other live with no I/O error.
# topology: one
# transport: rdma
# impl: intree/ours
# timeout: 600
# debug-env: FIO_SIZE=2M
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

a=nqn.2024-01.io.nvmeof-rdma:two-subsys-a
b=nqn.2024-01.io.nvmeof-rdma:two-subsys-b
boot
check target "target_nullb $a 1 && target_nullb $b 1"
assert_module target ours nvmet_rdma

progress "discover and connect both"
check host '
modprobe nvme-fabrics
nvme discover -t rdma -a $TARGET_ADDR -s 4420 -o json > /tmp/disc.json
n=$(jq --arg a '"$a"' --arg b '"$b"' "[.records[] | select(.subnqn == \$a or .subnqn == \$b)] | length" /tmp/disc.json)
[ "$n" = 2 ] || { echo "discovery lists $n of the two subsystems"; cat /tmp/disc.json; exit 1; }
'
check host "host_connect $a && host_connect $b"
assert_module host "$HOST_IMPL" nvme_rdma
check host '
for q in '"$a $b"'; do
	n=$(host_ctrls $q | wc -l)
	[ "$n" = 1 ] || { echo "$q: $n controllers"; exit 1; }
	ctrl_state $q live || { echo "$q: controller not live"; exit 1; }
done
n=$(ls /sys/class/nvme-subsystem | wc -l)
[ "$n" = 2 ] || { echo "$n host subsystems"; ls /sys/class/nvme-subsystem; exit 1; }
'

progress "fio verify on both subsystems at once"
check host 'FIO_SIZE=${FIO_SIZE:-8M} fio_verify_many $(host_ns '"$a"') $(host_ns '"$b"') -- --rw=randrw --bsrange=4k-128k --iodepth=8'

progress "disconnect one while fio runs on the other"
fio=$(on_bg host 'FIO_SIZE=${FIO_SIZE:-8M} fio_verify $(host_ns '"$b"') --rw=randrw --bsrange=4k-64k --iodepth=8 --time_based --runtime=20 --verify_backlog=64 --output-format=json > /xfer/fio.json')
sleep 5
check host "host_disconnect_wait $a"
on_wait host "$fio" 300 || fail "fio on $b failed while $a was disconnected"
on host "jq -e '.jobs[0].error == 0 and .jobs[0].write.io_bytes > 0 and .jobs[0].read.io_bytes > 0' /xfer/fio.json" ||
	fail "fio reported an error or moved no data"
check host "ctrl_state $b live"
check host "host_disconnect_wait $b"
check target nvmet_clear
check target objects_zero
