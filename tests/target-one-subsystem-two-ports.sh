#!/usr/bin/env bash
# One subsystem on two ports of our target (two trsvcids on one address):
# the host connects through each port alone, and data written through one
# verifies through the other; connected through both at once, 6.1's
# nvme-core puts the two controllers in one subsystem and, with native
# multipath (the Debian default), merges them into one namespace with two
# paths that both carry I/O under the round-robin policy; without
# multipath (the debug kernel) each controller gets its own disk.
# topology: one
# transport: rdma
# impl: intree/ours
# timeout: 600
# debug-env: FIO_SIZE=2M
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:two-ports
fio_write="FIO_SIZE=\${FIO_SIZE:-8M} fio_verify \$(host_ns $nqn) --rw=randwrite --bsrange=4k-64k --iodepth=8"
boot
check target "target_nullb $nqn 1 && nvmet_port 2 rdma \$TARGET_ADDR 4421 && nvmet_link 2 $nqn"
assert_module target ours nvmet_rdma

progress "through port 4420 alone"
check host "host_connect $nqn"
assert_module host "$HOST_IMPL" nvme_rdma
check host 'grep -q "trsvcid=4420" /sys/class/nvme/$(host_ctrls '"$nqn"')/address'
check host "$fio_write"
check host "host_disconnect_wait $nqn"

progress "through port 4421 alone: what 4420 wrote verifies"
check host "nvme connect -t rdma -a \$TARGET_ADDR -s 4421 -n $nqn"
check host 'grep -q "trsvcid=4421" /sys/class/nvme/$(host_ctrls '"$nqn"')/address'
check host "$fio_write --verify_only"
check host "host_disconnect_wait $nqn"

progress "through both ports at once"
check host "host_connect $nqn && nvme connect -t rdma -a \$TARGET_ADDR -s 4421 -n $nqn"
mpath=$(on host 'cat /sys/module/nvme_core/parameters/multipath 2>/dev/null || echo N')
echo "nvme_core multipath=$mpath"
check host '
nqn='"$nqn"'
ctrls=$(host_ctrls $nqn | xargs)
[ "$(echo $ctrls | wc -w)" = 2 ] || { echo "controllers: $ctrls"; exit 1; }
[ "$(ls /sys/class/nvme-subsystem | wc -l)" = 1 ] || { echo "not one subsystem:"; ls /sys/class/nvme-subsystem; exit 1; }
ports=$(for c in $ctrls; do sed -n "s/.*trsvcid=\([0-9]*\).*/\1/p" /sys/class/nvme/$c/address; done | sort | xargs)
[ "$ports" = "4420 4421" ] || { echo "controller ports: $ports"; exit 1; }
for c in $ctrls; do
	[ "$(cat /sys/class/nvme/$c/state)" = live ] || { echo "$c: $(cat /sys/class/nvme/$c/state)"; exit 1; }
	n=$(ls /sys/class/nvme/$c | grep -c "^nvme[0-9]*\(c[0-9]*\)\?n1$" || true)
	[ "$n" = 1 ] || { echo "$c: $n paths to namespace 1"; ls /sys/class/nvme/$c; exit 1; }
done
'
if [ "$mpath" = Y ]; then
	check host '
heads=$(ls /dev | grep -c "^nvme[0-9]*n1$" || true)
[ "$heads" = 1 ] || { echo "$heads namespace devices:"; ls /dev/nvme*; exit 1; }
echo round-robin > /sys/class/nvme-subsystem/$(ls /sys/class/nvme-subsystem)/iopolicy
'
	check host "$fio_write"
	cntlids=$(on host 'for c in $(host_ctrls '"$nqn"'); do cat /sys/class/nvme/$c/cntlid; done' | xargs)
	check target "target_ctrls_did_io $cntlids"
else
	# Each controller's own disk: write through one, verify through the other.
	check host '
set -- $(for c in $(host_ctrls '"$nqn"'); do ls /sys/class/nvme/$c | grep "^nvme[0-9]*n1$"; done)
[ $# = 2 ] || { echo "disks: $*"; exit 1; }
FIO_SIZE=${FIO_SIZE:-8M} fio_verify /dev/$1 --rw=randwrite --bsrange=4k-64k --iodepth=8
FIO_SIZE=${FIO_SIZE:-8M} fio_verify /dev/$2 --rw=randwrite --bsrange=4k-64k --iodepth=8 --verify_only
'
fi
check host "host_disconnect_wait $nqn"
check target nvmet_clear
check target objects_zero
