#!/usr/bin/env bash
# The target vanishes without a word (its link goes down) while fio runs
# through our host, and `nvme disconnect` is issued right away, before
# keep-alive could notice: it must still return within 90 s, and the
# module must unload afterwards.
#
# The link comes back once the host is done.  rxe pins a QP for every skb
# it has handed to the netdev, and a downed virtio-net keeps the skbs of its
# TX ring until it is opened again: a target tearing its queues down with
# the link still down waits 50 s in rxe_destroy_qp and then WARNs
# (seen with the in-tree target in CI), which is the link's problem, not
# the host's under test.
# topology: two
# transport: rdma
# impl: ours/intree
# timeout: 900
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-silent
boot_connected "$nqn"
assert_module host ours nvme_rdma
load_start "$nqn"
progress "target link down"
check target 'ip link set dev0 down'
progress "disconnect"
check host "host_disconnect_wait $nqn 90"
check target 'ip link set dev0 up'
on_wait host "$LOAD" 120 > /dev/null || fail "fio did not end after disconnect"
