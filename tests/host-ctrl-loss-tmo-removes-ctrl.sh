#!/usr/bin/env bash
# The target's port goes away for good: the host keeps trying to
# reconnect, gives up when ctrl_loss_tmo expires and removes the
# controller; fio, which was running, fails with I/O errors instead of
# hanging, and nothing is left behind.
# topology: two
# transport: rdma
# impl: ours/intree
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-ctrl-loss
boot_connected "$nqn" --reconnect-delay=1 --ctrl-loss-tmo=8
assert_module host ours nvme_rdma
fio=$(on_bg host 'fio_load $(host_ns '"$nqn"') --iodepth=8 > /tmp/fio.out 2>&1')
check host 'wait_for 30 pidof fio && sleep 2'

progress "port removed for good"
check target "rm \$NVMET/ports/1/subsystems/$nqn && rmdir \$NVMET/ports/1"
check host '
start=$SECONDS
wait_for 60 host_gone '"$nqn"' ||
	{ echo "controller still there after 60 s"; dmesg | tail -n 20; exit 1; }
echo "controller removed after $((SECONDS - start)) s"
dmesg | grep -q "reconnect attempt" || { echo "no reconnect attempt logged"; exit 1; }
'
rc=0
on_wait host "$fio" 60 > /dev/null || rc=$?
[ $rc = 124 ] && fail "fio still running 60 s after the controller was removed"
[ $rc != 0 ] || fail "fio reported success after losing its only controller"
check host 'grep -m2 -iE "error|err=" /tmp/fio.out'
