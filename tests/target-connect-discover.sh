#!/usr/bin/env bash
# Our target against the in-tree host: discovery lists the subsystem, a
# connect creates the admin and I/O queues, the namespace appears and
# answers a read, and the debugfs object counters return to zero once
# the host has disconnected and the port is gone.
# topology: one two
# transport: rdma
# impl: intree/ours
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:connect-discover
boot
check target target_simple "$nqn"
assert_module target ours nvmet_rdma
progress "discover"
check host 'modprobe nvme-fabrics && nvme discover -t rdma -a "$TARGET_ADDR" -s 4420 > /xfer/discover.txt'
on host "grep -q 'subnqn: *$nqn' /xfer/discover.txt" || fail "discovery log lacks $nqn"
progress "connect"
check host host_connect "$nqn"
check host 'dd if=$(host_ns '"$nqn"') of=/dev/null bs=4k count=256 iflag=direct'
check target 'ls /sys/kernel/debug/nvmet_rdma/queues | wc -l | grep -qv "^0$"'
progress "disconnect"
check host "nvme disconnect -n $nqn"
check target nvmet_clear
check target 'objects_zero'
