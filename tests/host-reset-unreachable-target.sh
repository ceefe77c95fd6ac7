#!/usr/bin/env bash
# `nvme reset` while the target's port is gone: the setup after the reset
# fails, and the host must not leave its queues quiesced while it goes on
# reconnecting. An admin command then fails at once instead of hanging,
# the controller comes back LIVE with intact data when the port returns,
# and a second reset into the outage still lets `nvme disconnect` finish.
# topology: one
# transport: rdma
# impl: ours/intree
# timeout: 900
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-reset-unreachable
boot_connected "$nqn" --reconnect-delay=2 --ctrl-loss-tmo=600
assert_module host ours nvme_rdma
fio_write='FIO_SIZE=4M fio_verify $(host_ns '"$nqn"') --rw=write --bs=64k --iodepth=4'
check host "$fio_write"

# reset_into_outage: remove the port, reset, and wait for the failed setup.
reset_into_outage() {
	check target "rm \$NVMET/ports/1/subsystems/$nqn && rmdir \$NVMET/ports/1"
	check host '
ctrl=$(host_ctrls '"$nqn"' | head -n 1)
dmesg_mark
# The reset ioctl waits for the setup and reports it failed.
if nvme reset /dev/$ctrl; then echo "reset succeeded with the port gone"; exit 1; fi
for i in $(seq 150); do
	dmesg_since | grep -q "setup after reset failed" && break
	sleep 0.2
done
dmesg_since | grep -q "setup after reset failed" || { dmesg | tail -n 20; exit 1; }
ctrl_state '"$nqn"' connecting || { cat /sys/class/nvme/$ctrl/state; exit 1; }
'
}

progress "reset with the port gone"
reset_into_outage
progress "admin command while reconnecting"
check host '
ctrl=$(host_ctrls '"$nqn"' | head -n 1)
nvme id-ctrl /dev/$ctrl > /tmp/id-ctrl.out 2>&1 &
pid=$!
for i in $(seq 150); do
	kill -0 $pid 2>/dev/null || break
	sleep 0.2
done
if kill -0 $pid 2>/dev/null; then
	echo "nvme id-ctrl still waiting after 30 s: admin queue left quiesced"
	exit 1
fi
if wait $pid; then echo "nvme id-ctrl succeeded while reconnecting"; exit 1; fi
cat /tmp/id-ctrl.out
'
progress "port back"
check target "nvmet_port 1 rdma \$TARGET_ADDR 4420 && nvmet_link 1 $nqn"
check host "wait_for 60 ctrl_state $nqn live"
check host "$fio_write --verify_only"

progress "reset with the port gone, then disconnect"
reset_into_outage
check host "host_disconnect_wait $nqn 60"
