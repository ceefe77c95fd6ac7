#!/usr/bin/env bash
# The target's VM is killed (SIGKILL to its QEMU: a power cut) while the
# host writes, and booted again 5 s later with the same disk: the host
# reconnects by itself, the writes resume without an I/O error, and the
# acknowledged-write ledger (tests/tools/ack-ledger) finds every write
# that was acknowledged and flushed, and none torn.  The backend is the
# emulated NVMe disk with its write cache on (QEMU cache=writeback, so
# the guest sends flushes), exported through nvmet's bdev backend; the
# ledger flushes after every 8 writes of each of its 4 writers.  The
# longest pause the writers saw and the time from the restart to the
# host's reconnection are printed.
# topology: two
# transport: rdma
# impl: ours/ours
# timeout: 900
# debug: skip a KASAN guest takes minutes to boot again: ctrl_loss_tmo and the CM timeouts would time the test, not the transport
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:target-killed
# Opt-in until the connection after the reboot is understood: in one of
# three runs it went silent 35 s after the reconnect (both sides' keep-
# alives expired, no transport error), and the host's rxe then held its
# QP for 50 s and WARNed in rxe_destroy_qp.
[ "${POWER_CUT_TESTS:-0}" = 1 ] ||
	skip "opt-in (POWER_CUT_TESTS=1): the connection after the target's reboot sometimes goes silent under rxe"
truncate -s 256M "$RUN/disk0.img"
# shellcheck disable=SC2034,SC2054 # vm_boot reads it; the commas are QEMU's
TARGET_QEMU_ARGS=(-drive "file=$RUN/disk0.img,if=none,id=d0,format=raw,cache=writeback"
		  -device virtio-blk-pci,drive=d0,serial=ledger0)
# The configuration a restarted target must restore, identifiers included
# (as nvmetcli restore does): nvmet makes up a namespace's UUID and NGUID
# and a subsystem's serial when they are created, and a host that finds
# other identifiers behind the same NSID drops the namespace.
target_up='modprobe nvmet && modprobe nvmet-rdma && modprobe virtio_blk && dev=/dev/vda &&
	wait_for 20 test -b $dev &&
	nvmet_subsys '"$nqn"' && echo 5e1a1ed0c0ffee01 > $NVMET/subsystems/'"$nqn"'/attr_serial &&
	nvmet_ns '"$nqn"' 1 $dev device_uuid=8c1f0e2a-6b7d-4a59-9e31-5d2c4b6a7f01 device_nguid=8c1f0e2a-6b7d-4a59-9e31-5d2c4b6a7f01 &&
	nvmet_port 1 rdma $TARGET_ADDR 4420 && nvmet_link 1 '"$nqn"
boot
check target "$target_up"
check target 'grep -qx "write back" /sys/block/vda/queue/write_cache'
assert_module target "$TARGET_IMPL" nvmet_rdma
check host host_connect "$nqn" --reconnect-delay=1 --ctrl-loss-tmo=120
assert_module host "$HOST_IMPL" nvme_rdma
check host "host_ns $nqn"

progress "ledger writers running"
writer=$(on_bg host '/xfer/tools/ack-ledger write $(host_ns '"$nqn"') /tmp/ledger --blocks 8192 --jobs 4 --seconds 75 --flush 8 --seed 11')
check host 'wait_for 30 eval "[ \$(grep -c ^ack /tmp/ledger 2> /dev/null || echo 0) -ge 200 ]"'
sleep 5
progress "target killed"
acked_before=$(on host 'grep -c ^ack /tmp/ledger')
vm_kill target
sleep 5
progress "target booted again"
restart=$SECONDS
vm_restart target || fail "the target VM did not boot again"
check target "$target_up"
check host "wait_for 120 ctrl_state $nqn live"
echo "host live again $((SECONDS - restart)) s after the target's restart"
out=$(on_wait host "$writer" 300) || fail "ledger writer failed: $out"
echo "$out"
echo "$out" | grep -qE '^writes [0-9]+ acked [0-9]+ failed 0 ' || fail "writes failed across the power cut: $out"
check host '[ $(grep -c ^ack /tmp/ledger) -gt '"$acked_before"' ]'

progress "verify every acknowledged write"
check host '/xfer/tools/ack-ledger verify $(host_ns '"$nqn"') /tmp/ledger | tail -n 5'
check host "host_disconnect_wait $nqn"
check target nvmet_clear
