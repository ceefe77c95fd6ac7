#!/usr/bin/env bash
# The target vanishes without a word (its link goes down) while fio runs
# through our host, and `nvme disconnect` is issued right away, before
# keep-alive could notice: it must still return within 90 s, and the
# module must unload afterwards.
# topology: two
# transport: rdma
# impl: ours/intree
# timeout: 900
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-silent
boot
check target target_simple "$nqn"
check host "host_connect $nqn"
assert_module host ours nvme_rdma
fio=$(on_bg host 'fio --name=load --filename=$(host_ns '"$nqn"') --direct=1 --ioengine=libaio --rw=randrw --bs=4k --iodepth=16 --time_based --runtime=600 > /dev/null 2>&1 || true')
sleep 5
progress "target link down"
check target 'ip link set dev0 down'
progress "disconnect"
check host '
start=$SECONDS
timeout 90 nvme disconnect -n '"$nqn"' || { echo "disconnect failed or hung (rc $?) after $((SECONDS - start)) s"; exit 1; }
echo "disconnect took $((SECONDS - start)) s"
for i in $(seq 100); do
	[ -z "$(ls /sys/class/nvme-subsystem 2>/dev/null)" ] && exit 0
	sleep 0.1
done
echo "controller still present after disconnect"; exit 1
'
on_wait host "$fio" 120 > /dev/null || fail "fio did not end after disconnect"
