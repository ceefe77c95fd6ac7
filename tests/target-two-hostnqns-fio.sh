#!/usr/bin/env bash
# Two host identities (two hostnqn/hostid pairs, both allowed) connected at
# once from one machine to the same subsystem of our target: two live
# controllers, each with a path to both namespaces; identity A runs fio
# verify on namespace 1 through its controller while B does the same on
# namespace 2 through its own, and the target's counters show each
# controller carried its share.  nvme-core is loaded with multipath=N so
# that each controller has a disk of its own to aim fio at (with native
# multipath both would hide behind one disk per namespace).
# topology: one
# transport: rdma
# impl: intree/ours
# timeout: 600
# debug-env: FIO_SIZE=2M
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:two-hostnqns
# The two identities: hostnqn and hostid of A, of B.
ha=${nqn%:*}:host-a hb=${nqn%:*}:host-b
ia=0f6a3c1e-7b2d-4e59-8c44-2d9e51a7b001 ib=0f6a3c1e-7b2d-4e59-8c44-2d9e51a7b002
boot
check target "target_nullb $nqn 2 $ha $hb"
assert_module target ours nvmet_rdma
check host host_multipath_off

progress "connect as A and as B"
# nvme-cli 2.3 would refuse B's connect as a duplicate of A's ("already
# connected") although the hostnqns differ: B goes through fabrics_connect.
check host "host_connect $nqn --hostnqn=$ha --hostid=$ia && fabrics_connect $nqn hostnqn=$hb hostid=$ib"
assert_module host "$HOST_IMPL" nvme_rdma
# ctrl_of HOSTNQN: the controller that identity connected.
ctrl_of='ctrl_of() { local c; for c in $(host_ctrls '"$nqn"'); do [ "$(cat /sys/class/nvme/$c/hostnqn)" != "$1" ] || echo $c; done; }'
# disk_of CTRL NSID: that controller's disk of namespace NSID.
disk_of='disk_of() { local d; for d in /sys/class/nvme/$1/nvme*n*; do [ "$(cat $d/nsid 2>/dev/null)" != "$2" ] || echo /dev/${d##*/}; done; }'
check host "$ctrl_of; $disk_of"'
ca=$(ctrl_of '"$ha"'); cb=$(ctrl_of '"$hb"')
[ -n "$ca" ] && [ -n "$cb" ] && [ "$ca" != "$cb" ] || { echo "controllers: A $ca, B $cb"; exit 1; }
[ "$(ls /sys/class/nvme-subsystem | wc -l)" = 1 ] || { echo "not one subsystem"; ls /sys/class/nvme-subsystem; exit 1; }
for c in $ca $cb; do
	[ "$(cat /sys/class/nvme/$c/state)" = live ] || { echo "$c: $(cat /sys/class/nvme/$c/state)"; exit 1; }
	for ns in 1 2; do
		wait_for 20 eval "[ -b \"\$(disk_of $c $ns)\" ]" || { echo "$c: no path to namespace $ns"; ls /sys/class/nvme/$c; exit 1; }
	done
done
echo "A: $ca $(disk_of $ca 1), B: $cb $(disk_of $cb 2)"
'

progress "fio verify: A on namespace 1, B on namespace 2, at once"
check host "$ctrl_of; $disk_of"'
FIO_SIZE=${FIO_SIZE:-8M} fio_verify_many $(disk_of $(ctrl_of '"$ha"') 1) $(disk_of $(ctrl_of '"$hb"') 2) -- --rw=randrw --bsrange=4k-128k --iodepth=8
'
cntlids=$(on host "$ctrl_of"'; for h in '"$ha $hb"'; do cat /sys/class/nvme/$(ctrl_of $h)/cntlid; done' | xargs)
check target "target_ctrls_did_io $cntlids"
check host "host_disconnect_wait $nqn"
check target nvmet_clear
check target objects_zero
