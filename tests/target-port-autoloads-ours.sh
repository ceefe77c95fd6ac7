#!/usr/bin/env bash
# Enabling an nvmet port with addr_trtype=rdma autoloads nvmet-rdma through
# its "nvmet-transport-1" alias, the module that comes is ours, and it
# listens on the port's address; an address that is on no RDMA device is
# refused with a message naming it and leaves nothing behind.
# topology: one
# transport: rdma
# impl: intree/ours
# timeout: 300
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
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
nvmet_link 7 '"$nqn"'
module_is ours nvmet_rdma
dmesg | grep -q "nvmet-rdma: port 7: listening on $TARGET_ADDR:4420" ||
	{ echo "no listening message for port 7"; exit 1; }
grep -q "^listeners 1$" /sys/kernel/debug/nvmet_rdma/objects
'
check target '
nvmet_port 8 rdma 192.0.2.1 4420
if nvmet_link 8 '"$nqn"' 2> /tmp/err; then
	echo "a port on an address no device has was enabled"; exit 1
fi
dmesg | grep "nvmet-rdma: port 8" | grep -q 192.0.2.1 ||
	{ echo "no message naming port 8 and its address"; exit 1; }
grep -q "^listeners 1$" /sys/kernel/debug/nvmet_rdma/objects
'
