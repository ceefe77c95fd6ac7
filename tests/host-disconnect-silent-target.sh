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
boot_connected "$nqn"
assert_module host ours nvme_rdma
load_start "$nqn"
progress "target link down"
check target 'ip link set dev0 down'
progress "disconnect"
check host "host_disconnect_wait $nqn 90"
on_wait host "$LOAD" 120 > /dev/null || fail "fio did not end after disconnect"
