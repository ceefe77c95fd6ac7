#!/bin/bash
# Guest bring-up, run by /init from the 9p share.  Reads /xfer/config
# (written by scripts/lib/vm.sh), selects which transport modules are
# reachable, brings up the link and a soft-RoCE device, then serves commands.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
cd /
# shellcheck source=/dev/null # written for each guest by scripts/lib/vm.sh
. /xfer/config
KVER=$(uname -r)
log=/xfer/boot.log
exec > >(tee -a "$log" > /dev/console) 2>&1

fail() {
	echo "boot: $*"
	echo "$*" > /xfer/boot.failed
	poweroff -f
}

hostname "$VM_NAME"
mount -t configfs none /sys/kernel/config 2>/dev/null || {
	modprobe configfs && mount -t configfs none /sys/kernel/config; } ||
	fail "cannot mount configfs"
mount -t debugfs none /sys/kernel/debug || fail "cannot mount debugfs"
ip link set lo up

# Our modules replace the in-tree ones by name.  The in-tree files are
# deleted rather than merely shadowed by updates/, so that nothing (modprobe
# aliases, nvmet's request_module) can reach them in "ours" mode.
moddir=/lib/modules/$KVER
ours=0
if [ "$HOST_IMPL" = ours ]; then
	rm -f "$moddir/kernel/drivers/nvme/host/nvme-rdma.ko"
	{ mkdir -p "$moddir/updates" && cp /xfer/modules/nvme-rdma.ko "$moddir/updates/"; } ||
		fail "HOST_IMPL=ours but /xfer/modules/nvme-rdma.ko is missing"
	ours=1
fi
if [ "$TARGET_IMPL" = ours ]; then
	rm -f "$moddir/kernel/drivers/nvme/target/nvmet-rdma.ko"
	{ mkdir -p "$moddir/updates" && cp /xfer/modules/nvmet-rdma.ko "$moddir/updates/"; } ||
		fail "TARGET_IMPL=ours but /xfer/modules/nvmet-rdma.ko is missing"
	ours=1
fi
[ $ours = 1 ] && depmod -a

# Lower than the default 120 s so a stuck task is reported within a test.
echo "${HUNG_TASK_SECS:-60}" > /proc/sys/kernel/hung_task_timeout_secs
dmesg -n 7

# rxe computes its ICRC with crc32 through the crypto API: load it first.
{ modprobe crc32_generic && modprobe crc32c_generic; } || fail "crc32 crypto modules"
if [ "$TOPOLOGY" = one ]; then
	ip link add dev0 type dummy || fail "dummy netdev"
else
	# shellcheck disable=SC2086 # module parameters, e.g. napi_tx=0
	modprobe virtio_net ${VIRTIO_NET_OPTS:-} || fail "virtio_net ${VIRTIO_NET_OPTS:-}"
	dev=
	for n in /sys/class/net/*; do
		[ "${n##*/}" = lo ] || { dev=${n##*/}; break; }
	done
	[ -n "$dev" ] || fail "no network device"
	ip link set "$dev" name dev0
fi
ip link set dev0 mtu "${MTU:-1500}" || fail "mtu ${MTU:-1500}"
for a in $VM_ADDRS; do
	ip addr add "$a/24" dev dev0 || fail "address $a"
done
ip link set dev0 up
{ modprobe rdma_rxe && modprobe ib_uverbs && modprobe rdma_ucm; } || fail "rdma modules"
rdma link add rxe0 type rxe netdev dev0 || fail "rdma link add rxe0"

mkdir -p /etc/nvme
echo "nqn.2014-08.org.nvmexpress:uuid:$VM_HOSTID" > /etc/nvme/hostnqn
echo "$VM_HOSTID" > /etc/nvme/hostid

echo "boot: $VM_NAME up in ${SECONDS}s (host=$HOST_IMPL target=$TARGET_IMPL transport=$TRANSPORT)"
exec /bin/bash /xfer/guest/agent.sh
