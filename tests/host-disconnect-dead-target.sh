#!/usr/bin/env bash
# The target's port disappears under a connected host doing I/O: the host
# notices and tries to reconnect, and `nvme disconnect` still returns
# within 60 s, leaving nothing behind (teardown then unloads the module).
# topology: one two
# transport: rdma
# impl: ours/intree
# timeout: 900
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-dead
boot
check target target_simple "$nqn"
check host "host_connect $nqn --reconnect-delay=2 --ctrl-loss-tmo=600"
assert_module host ours nvme_rdma
fio=$(on_bg host 'fio --name=load --filename=$(host_ns '"$nqn"') --direct=1 --ioengine=libaio --rw=randrw --bs=4k --iodepth=8 --time_based --runtime=600 > /dev/null 2>&1 || true')
sleep 5
progress "remove the target port"
check target '
rm $NVMET/ports/1/subsystems/'"$nqn"'
rmdir $NVMET/ports/1
'
progress "wait for recovery"
check host '
for i in $(seq 300); do
	dmesg | grep -q "reconnect attempt" && exit 0
	sleep 0.1
done
echo "no reconnect attempt within 30 s"; dmesg | tail -n 20; exit 1
'
progress "disconnect"
check host '
start=$SECONDS
timeout 60 nvme disconnect -n '"$nqn"' || { echo "disconnect failed or hung (rc $?)"; exit 1; }
echo "disconnect took $((SECONDS - start)) s"
for i in $(seq 100); do
	[ -z "$(ls /sys/class/nvme-subsystem 2>/dev/null)" ] && exit 0
	sleep 0.1
done
echo "controller still present after disconnect"; exit 1
'
on_wait host "$fio" 120 > /dev/null || fail "fio did not end after disconnect"
