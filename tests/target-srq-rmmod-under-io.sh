#!/usr/bin/env bash
# Teardown with use_srq=1 under I/O: the port is removed while a host runs
# fio through queues on the device's SRQs (admin and 16 KiB in-capsule);
# every queue closes and gives its SRQ buffers back, the SRQs go with the
# device object after the last QP (live-object counters, srqs included,
# return to zero), rmmod succeeds promptly and the host's I/O fails
# rather than hangs.
# topology: one
# transport: rdma
# impl: intree/ours
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:srq-rmmod
boot
check target 'modprobe nvmet && modprobe nvmet-rdma use_srq=1'
check target target_simple "$nqn" param_inline_data_size=16384
assert_module target ours nvmet_rdma
check host host_connect "$nqn" --reconnect-delay=2 --ctrl-loss-tmo=10
progress "I/O in flight"
io=$(on_bg host 'fio --name=bg --filename=$(host_ns '"$nqn"') --direct=1 --ioengine=libaio --rw=randrw --bs=4k-64k --iodepth=32 --time_based --runtime=120 > /xfer/fio-bg.txt 2>&1 || rc=$?; echo "fio rc ${rc:-0}"')
sleep 5
check target 'grep -q "^rxe0 inline 16384 size 1024 receives [1-9]" /sys/kernel/debug/nvmet_rdma/srqs'
on target 'cat /sys/kernel/debug/nvmet_rdma/srqs'
progress "remove port"
check target nvmet_clear
check target 'objects_zero 30'
check target "grep -qx 'srqs 0' /sys/kernel/debug/nvmet_rdma/objects"
progress "rmmod"
check target 'timeout 60 rmmod nvmet_rdma && ! [ -d /sys/module/nvmet_rdma ]'
progress "host gives up"
out=$(on_wait host "$io" 180) || fail "fio did not finish: $out"
echo "$out"
case "$out" in
*"fio rc 0"*) fail "fio succeeded although the target went away" ;;
esac
