#!/usr/bin/env bash
# Removing the target's RDMA device under a connected host (`rdma link
# delete`): our ib_client must close every queue and drop the listener so
# that the device can go, with no object of ours left; once the device is
# back the port listens again by itself, the host reconnects and data
# still verifies (the host reconnects by itself when only the target's
# device went away, in topology two).
# topology: one two
# transport: rdma
# impl: intree/ours
# timeout: 900
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:link-readd
boot_connected "$nqn" --reconnect-delay=2 --ctrl-loss-tmo=120
assert_module target ours nvmet_rdma
check host 'FIO_SIZE=4M fio_verify $(host_ns '"$nqn"') --rw=randwrite --bs=4k-64k --iodepth=8'
progress "rdma link delete"
check target 'timeout 60 rdma link delete rxe0'
check target 'wait_for 20 eval "grep -qx \"queues 0\" /sys/kernel/debug/nvmet_rdma/objects"'
check target 'grep -qx "listeners 0" /sys/kernel/debug/nvmet_rdma/objects && grep -qx "devices 0" /sys/kernel/debug/nvmet_rdma/objects'
sleep 3
progress "rdma link add"
check target 'rdma link add rxe0 type rxe netdev dev0'
check target 'wait_for 30 eval "dmesg | grep -q \"port 1: listening on .* again\""'
progress "host reconnects"
# With one VM the host lost its device as well, and the in-tree host
# deletes controllers on device removal: connect again in that case.
if [ "$TOPOLOGY" = one ]; then
	check host 'wait_for 30 eval "! ls /sys/class/nvme/ | grep -q nvme"'
	check host host_connect "$nqn"
fi
check host 'wait_for 90 ctrl_state '"$nqn"' live'
check host 'FIO_SIZE=4M fio_verify $(host_ns '"$nqn"') --rw=randwrite --bs=4k-64k --iodepth=8'
