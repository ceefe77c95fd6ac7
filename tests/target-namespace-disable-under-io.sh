#!/usr/bin/env bash
# Namespaces of our target disabled under I/O.  Namespace 2 disabled and
# re-enabled while fio verify runs on namespace 1: the host is told (AEN,
# rescan) and drops namespace 2, then gets it back readable, and fio on
# namespace 1 ends with no error.  Namespace 1 disabled under the fio that
# runs on it: fio fails with I/O errors instead of hanging, the host drops
# the namespace, and once it is enabled again it carries verified data.
# No splat, and the teardown is clean.
# topology: one
# transport: rdma
# impl: intree/ours
# timeout: 600
# debug-env: FIO_SIZE=2M
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:ns-disable
ns=/sys/kernel/config/nvmet/subsystems/$nqn/namespaces
# nsids_are "LIST": the host shows exactly these namespaces within 30 s.
nsids_are() {
	check host 'wait_for 30 eval "[ \"\$(host_nsids '"$nqn"' | xargs)\" = \"'"$1"'\" ]" ||
		{ echo "host namespaces: $(host_nsids '"$nqn"' | xargs), expected '"$1"'"; exit 1; }'
}
boot
check target "target_nullb $nqn 2"
assert_module target ours nvmet_rdma
check host "host_connect $nqn"
assert_module host "$HOST_IMPL" nvme_rdma
nsids_are "1 2"

progress "namespace 2 off and on under fio verify on namespace 1"
fio=$(on_bg host 'FIO_SIZE=${FIO_SIZE:-8M} fio_verify $(host_ns '"$nqn"' 1) --rw=randrw --bsrange=4k-64k --iodepth=8 --time_based --runtime=30 --verify_backlog=64 --output-format=json > /xfer/fio1.json')
sleep 5
check target "echo 0 > $ns/2/enable"
nsids_are "1"
check target "echo 1 > $ns/2/enable"
nsids_are "1 2"
check host 'dd if=$(host_ns '"$nqn"' 2) of=/dev/null bs=4k count=16 iflag=direct status=none'
on_wait host "$fio" 300 || fail "fio on namespace 1 failed while namespace 2 went away"
on host "jq -e '.jobs[0].error == 0 and .jobs[0].write.io_bytes > 0 and .jobs[0].read.io_bytes > 0' /xfer/fio1.json" ||
	fail "fio on namespace 1 reported an error or moved no data"
check host 'ctrl_state '"$nqn"' live'

progress "namespace 1 off under fio on it"
fio=$(on_bg host 'rc=0; fio_load $(host_ns '"$nqn"' 1) --runtime=120 > /xfer/fio2.txt 2>&1 || rc=$?; echo "fio rc $rc"')
sleep 5
check target "echo 0 > $ns/1/enable"
out=$(on_wait host "$fio" 120) || fail "fio on the disabled namespace did not end: $out"
echo "$out"
case "$out" in
*"fio rc 0"*) fail "fio succeeded on a disabled namespace" ;;
esac
check host 'grep -E "err= *[1-9]" /xfer/fio2.txt || { echo "no I/O error in the fio report:"; cat /xfer/fio2.txt; exit 1; }'
nsids_are "2"
check host 'ctrl_state '"$nqn"' live'

progress "namespace 1 back"
check target "echo 1 > $ns/1/enable"
nsids_are "1 2"
check host 'FIO_SIZE=${FIO_SIZE:-8M} fio_verify $(host_ns '"$nqn"' 1) --rw=randrw --bsrange=4k-64k --iodepth=8'
check host "host_disconnect_wait $nqn"
check target nvmet_clear
check target objects_zero
