#!/usr/bin/env bash
# `nvme connect -t rdma` with our host skeleton fails at once with a clear
# message (it has no data path yet) instead of hanging, and creates nothing.
# topology: one
# transport: rdma
# impl: ours/intree
# timeout: 300
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:skeleton
[ "$HOST_IMPL" = ours ] || skip "tests our host module (HOST_IMPL=$HOST_IMPL)"
boot
check target target_simple "$nqn"
check host '
modprobe nvme-fabrics
start=$SECONDS
rc=0
timeout 60 nvme connect -t rdma -a $TARGET_ADDR -s 4420 -n '"$nqn"' 2> /tmp/err || rc=$?
[ $rc != 0 ] || { echo "connect succeeded on a skeleton"; exit 1; }
[ $rc != 124 ] || { echo "connect hung"; exit 1; }
echo "connect failed in $((SECONDS - start))s (rc $rc): $(cat /tmp/err)"
module_is ours nvme_rdma
dmesg | grep -q "nvme-rdma: $TARGET_ADDR: this build has no data path yet" ||
	{ echo "no clear message in dmesg"; exit 1; }
[ -z "$(ls /sys/class/nvme-subsystem 2>/dev/null)" ] || { echo "a subsystem appeared"; exit 1; }
'
