#!/usr/bin/env bash
# Enabling an nvmet port with addr_trtype=rdma autoloads nvmet-rdma through
# its "nvmet-transport-1" alias, and the module that comes is ours.  The
# skeleton refuses the port with a message naming it, and the link fails.
# topology: one
# transport: rdma
# impl: intree/ours
# timeout: 300
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:autoload
[ "$TARGET_IMPL" = ours ] || skip "tests our target module (TARGET_IMPL=$TARGET_IMPL)"
boot
check target '
nullblk_load
nvmet_subsys '"$nqn"'
nvmet_ns '"$nqn"' 1 /dev/nullb0
nvmet_port 7 rdma $TARGET_ADDR 4420
[ ! -e /sys/module/nvmet_rdma ] || { echo "nvmet_rdma loaded before the port was enabled"; exit 1; }
if nvmet_link 7 '"$nqn"'; then
	echo "the skeleton accepted a port"; exit 1
fi
module_is ours nvmet_rdma
dmesg | grep -q "nvmet-rdma: port 7 ($TARGET_ADDR:4420): this build has no data path yet" ||
	{ echo "no message naming the port"; exit 1; }
'
