#!/usr/bin/env bash
# `nvme disconnect` while fio runs against a healthy target: it returns
# promptly, the in-flight and queued I/O fail instead of hanging, and the
# controller and its queues are gone (teardown then unloads the modules).
# topology: one
# transport: rdma
# impl: ours/intree ours/ours
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-disconnect-io
boot_connected "$nqn"
assert_module host ours nvme_rdma
load_start "$nqn" --bsrange=4k-128k --iodepth=32
progress "disconnect under I/O"
check host host_disconnect_wait "$nqn"
rc=0
on_wait host "$LOAD" 60 > /dev/null || rc=$?
[ $rc = 124 ] && fail "fio still running 60 s after disconnect"
check host '[ -z "$(pidof fio)" ]'
# Our target must have let go of the host's queues too.
[ "$TARGET_IMPL" != ours ] || check target 'wait_for 20 sh -c "[ -z \"\$(ls /sys/kernel/debug/nvmet_rdma/queues)\" ]"'
