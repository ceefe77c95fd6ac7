#!/usr/bin/env bash
# Unloading our target while a host is connected and doing I/O: removing
# the port (the only way to drop the module reference nvmet core holds)
# must close every queue, and rmmod must then succeed promptly without a
# hang or splat; the host sees its I/O fail rather than hang for ever.
# topology: one two
# transport: rdma
# impl: intree/ours
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:rmmod-connected
# A short reconnect budget so the host gives up on its own, too.
boot_connected "$nqn" --reconnect-delay=2 --ctrl-loss-tmo=10
assert_module target ours nvmet_rdma
progress "I/O in flight"
io=$(on_bg host 'rc=0; fio_load $(host_ns '"$nqn"') --bs=4k-64k --runtime=120 > /xfer/fio-bg.txt 2>&1 || rc=$?; echo "fio rc $rc"')
sleep 5
progress "remove port and rmmod"
check target 'nvmet_clear && timeout 60 rmmod nvmet_rdma'
check target '! [ -d /sys/module/nvmet_rdma ]'
progress "host gives up"
out=$(on_wait host "$io" 180) || fail "fio did not finish: $out"
echo "$out"
case "$out" in
*"fio rc 0"*) fail "fio succeeded although the target went away" ;;
esac
