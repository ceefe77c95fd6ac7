#!/usr/bin/env bash
# On the debug kernel the gate can fail: a KASAN out-of-bounds read and a
# memory leak, made on purpose by the test-only module tests/gate-selftest,
# are caught by the dmesg gate and the kmemleak gate respectively.  The
# kernel log and kmemleak's list are cleared afterwards so that this
# test's own gate passes.  Skipped on the Debian kernel (no KASAN, no
# kmemleak there).
# topology: one
# transport: rdma
# impl: intree/intree
# debug: always
# timeout: 300
# debug-timeout: 2400
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

[ "$KERNEL" = debug ] ||
	skip "needs the debug kernel (make check-debug): the Debian kernel has no KASAN or kmemleak"
[ -z "$VM_SETUP_ERROR" ] || fail "$VM_SETUP_ERROR"

progress "building gate_selftest.ko against the debug kernel"
mkdir -p "$RUN/gate-selftest"
cp "$VM_ROOT"/tests/gate-selftest/{Kbuild,gate_selftest.c} "$RUN/gate-selftest/"
make -C "$DEBUG_KERNEL_DIR/linux" M="$RUN/gate-selftest" modules > "$RUN/gate-selftest.log" 2>&1 ||
	fail "building gate_selftest.ko failed (see $RUN/gate-selftest.log)"

boot
cp "$RUN/gate-selftest/gate_selftest.ko" "$(vm_dir host)/xfer/"

progress "KASAN: out-of-bounds read"
check host 'dmesg -c > /dev/null; insmod /xfer/gate_selftest.ko mode=kasan; rmmod gate_selftest'
on host dmesg > "$RUN/kasan-dmesg.log"
dmesg_gate "$RUN/kasan-dmesg.log" > "$RUN/kasan-gate.log" || fail "the dmesg gate missed the KASAN report"
grep -q 'BUG: KASAN: slab-out-of-bounds in gate_selftest_oob_read' "$RUN/kasan-gate.log" ||
	fail "no KASAN slab-out-of-bounds report naming gate_selftest_oob_read (see $RUN/kasan-dmesg.log)"
check host 'dmesg -c > /dev/null'

progress "kmemleak: unreferenced allocations"
# kmemleak reports only objects older than 5 s.  insmod's exited task
# leaves its kernel stack, stale pointers included, in the per-CPU stack
# cache, where kmemleak sees them as references until a fork reuses (and
# clears) it: fork a few times, and allow a second scan.
check host 'insmod /xfer/gate_selftest.ko mode=leak; sleep 6; for i in $(seq 8); do /bin/true; done'
for scan in 1 2; do
	on host kmemleak_scan > "$RUN/kmemleak-$scan.log"
	kmemleak_gate "$RUN/kmemleak-$scan.log" > "$RUN/kmemleak-gate.log" &&
		grep -q 'gate_selftest_leak.*\[gate_selftest\]' "$RUN/kmemleak-gate.log" && break
	[ $scan = 2 ] && fail "the kmemleak gate missed the leak of gate_selftest_leak (see $RUN/kmemleak-*.log)"
done
# Forget the reported objects (kmemleak "clear" greys them), then unload.
check host 'echo clear > /sys/kernel/debug/kmemleak; rmmod gate_selftest; dmesg -c > /dev/null'
