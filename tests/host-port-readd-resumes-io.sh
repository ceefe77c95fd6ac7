#!/usr/bin/env bash
# The target's port goes away under fio verify and comes back within
# ctrl_loss_tmo: the host reconnects by itself and fio finishes with no
# I/O or verification error (the outage only delays I/O).
# topology: two
# transport: rdma
# impl: ours/intree ours/ours
# timeout: 900
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-port-readd
boot_connected "$nqn" --reconnect-delay=1 --ctrl-loss-tmo=120
assert_module host ours nvme_rdma
assert_module target "$TARGET_IMPL" nvmet_rdma
fio=$(on_bg host 'FIO_SIZE=32M fio_verify $(host_ns '"$nqn"') --rw=randwrite --bs=4k --iodepth=8 > /tmp/fio.out 2>&1; rc=$?; tail -n 30 /tmp/fio.out; exit $rc')
check host 'wait_for 30 pidof fio && sleep 3'
[ -e "$(vm_dir host)/xfer/res/$fio.rc" ] && fail "fio ended before the outage; raise FIO_SIZE"

progress "port removed"
check target "rm \$NVMET/ports/1/subsystems/$nqn && rmdir \$NVMET/ports/1"
check host 'wait_for 30 sh -c "dmesg | grep -q \"reconnect attempt 2\""'
progress "port back"
check target "nvmet_port 1 rdma \$TARGET_ADDR 4420 && nvmet_link 1 $nqn"
check host "wait_for 60 ctrl_state $nqn live"
progress "fio after reconnect"
out=$(on_wait host "$fio" 600) || fail "fio failed across the outage: $(echo "$out" | grep -m3 -iE 'error|verify')"
echo "$out" | grep -E 'WRITE:|READ:'
check host 'dmesg | grep -E "nvme[0-9]+: (Successfully reconnected|.*reconnect)" | tail -n 3'
