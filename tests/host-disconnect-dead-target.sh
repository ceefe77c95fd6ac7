#!/usr/bin/env bash
# The target's port disappears under a connected host doing I/O: the host
# notices and tries to reconnect, and `nvme disconnect` still returns
# within 60 s, leaving nothing behind (teardown then unloads the module).
# topology: one two
# transport: rdma
# impl: ours/intree
# timeout: 900
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-dead
boot_connected "$nqn" --reconnect-delay=2 --ctrl-loss-tmo=600
assert_module host ours nvme_rdma
load_start "$nqn" --iodepth=8
progress "remove the target port"
check target '
rm $NVMET/ports/1/subsystems/'"$nqn"'
rmdir $NVMET/ports/1
'
progress "wait for recovery"
check host '
for i in $(seq 300); do
	dmesg | grep -q "reconnect attempt" && exit 0
	sleep 0.1
done
echo "no reconnect attempt within 30 s"; dmesg | tail -n 20; exit 1
'
progress "disconnect"
check host "host_disconnect_wait $nqn 60"
on_wait host "$LOAD" 120 > /dev/null || fail "fio did not end after disconnect"
