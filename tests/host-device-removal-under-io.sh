#!/usr/bin/env bash
# The host's RDMA device is removed (rdma link delete) while fio runs
# through our host: the ib_client removal deletes the controller, fio
# ends with errors instead of hanging, and the module unloads cleanly.
# topology: two
# transport: rdma
# impl: ours/intree
# timeout: 900
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-devrm
boot_connected "$nqn"
assert_module host ours nvme_rdma
load_start "$nqn"
progress "remove rxe0 under I/O"
check host '
start=$SECONDS
timeout 120 rdma link delete rxe0 || { echo "rdma link delete failed or hung"; exit 1; }
echo "device removed in $((SECONDS - start)) s"
wait_for 10 host_gone '"$nqn"' || { echo "controller still present after device removal"; exit 1; }
'
on_wait host "$LOAD" 120 > /dev/null || fail "fio did not end after device removal"
check host 'dmesg | grep -q "RDMA device rxe0 removed, deleting controller"'
