#!/usr/bin/env bash
# Three namespaces of one subsystem on our target (two null_blk devices and
# a file) reach the host through one controller as NSIDs 1-3 with their own
# sizes, each keeps its own data, and fio verify passes on all three at once.
# topology: one
# transport: rdma
# impl: intree/ours
# timeout: 600
# debug-env: FIO_SIZE=2M
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:three-ns
boot
check target '
target_nullb '"$nqn"' 2
truncate -s 64M /tmp/ns3.img
nvmet_ns '"$nqn"' 3 /tmp/ns3.img buffered_io=1
'
assert_module target ours nvmet_rdma
check host "host_connect $nqn"
assert_module host "$HOST_IMPL" nvme_rdma

progress "the host sees three namespaces"
check host '
nqn='"$nqn"'
wait_for 20 eval "[ \"\$(host_nsids $nqn | xargs)\" = \"1 2 3\" ]" ||
	{ echo "namespaces: $(host_nsids $nqn | xargs)"; exit 1; }
c=$(host_ctrls $nqn)
[ "$(echo "$c" | wc -l)" = 1 ] || { echo "controllers: $c"; exit 1; }
n=$(nvme list-ns /dev/$c | grep -c "^\[")
[ "$n" = 3 ] || { echo "controller reports $n active namespaces"; nvme list-ns /dev/$c; exit 1; }
for ns in 1 2 3; do
	size=$(blockdev --getsize64 $(host_ns $nqn $ns))
	want=$((1 << 30))
	[ $ns != 3 ] || want=$((64 << 20))
	[ "$size" = $want ] || { echo "namespace $ns: $size bytes, expected $want"; exit 1; }
done
'

progress "each namespace keeps its own data"
check host '
for ns in 1 2 3; do
	head -c 4096 /dev/urandom > /tmp/mark$ns
	dd if=/tmp/mark$ns of=$(host_ns '"$nqn"' $ns) bs=4k count=1 oflag=direct status=none
done
for ns in 1 2 3; do
	dd if=$(host_ns '"$nqn"' $ns) of=/tmp/back$ns bs=4k count=1 iflag=direct status=none
	cmp /tmp/mark$ns /tmp/back$ns || { echo "namespace $ns lost its data"; exit 1; }
done
'

progress "fio verify on the three namespaces at once"
check host 'FIO_SIZE=${FIO_SIZE:-8M} fio_verify_many $(host_ns '"$nqn"' 1) $(host_ns '"$nqn"' 2) $(host_ns '"$nqn"' 3) -- --rw=randrw --bsrange=4k-128k --iodepth=8'
check host "host_disconnect_wait $nqn"
check target nvmet_clear
check target objects_zero
