#!/usr/bin/env bash
# Fault injection on the debug kernel: every setup step of our host that
# can fail does so cleanly.  (1) failslab via /proc/self/fail-nth fails
# the Nth slab allocation made in the context of a connect (its options
# written to /dev/nvme-fabrics), for N spread over all the connect's
# allocations (counted by a first, unfailed connect): the connect must
# fail or, for an allocation whose loss is tolerated (debugfs), work.
# (2) With injection off, a connect carries crc32c-verified data and
# lockdep is still on.  (3) fail_function fails, one at a time, the admin
# queue's and the first I/O queue's call of nvme_rdma_queue_alloc,
# nvme_rdma_mrs_alloc, nvme_rdma_cm_resolve and nvme_rdma_cm_connect (the functions our host
# marks ALLOW_ERROR_INJECTION): nvme connect must fail.  After each
# attempt no controller may be left and our target must have released
# every queue and slot; the harness's teardown (modules unload), kmemleak
# and dmesg gates apply at the end, and the kernel log is gated after
# each phase except for the reports injection makes by design
# (known_reports below).  FAULT_POINTS (default 12) sets how many values
# of N phase 1 tries.
# topology: one
# transport: rdma
# impl: ours/ours
# timeout: 600
# debug-timeout: 3000
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"
# shellcheck source=tests/fault-inject/host.sh
. "$(dirname "$0")/fault-inject/host.sh"

# Part of `make check-debug`, not of `make check`: about 4 min of debug VM
# time that the smoke test's connect path already exercises in part.
[ "$KERNEL" = debug ] ||
	skip "needs the debug kernel (make check-debug): the Debian kernel has no fault injection"

nqn=nqn.2024-01.io.nvmeof-rdma:fault-inject
points=${FAULT_POINTS:-12}
g=". /xfer/fault-inject.sh; NQN=$nqn"

progress "make debug-modules"
make -C "$VM_ROOT" --no-print-directory debug-modules > "$RUN/build.log" 2>&1 ||
	fail "make debug-modules failed: $(tail -n 3 "$RUN/build.log" | tr '\n' ' ')"
boot
cp "$VM_ROOT/tests/fault-inject/guest.sh" "$(vm_dir host)/xfer/fault-inject.sh"

check target target_simple "$nqn"
# fail_function finds a function only while its module is loaded.
check host "modprobe nvme-fabrics; modprobe nvme-rdma; $g; fault_setup"
assert_module host ours nvme_rdma

failslab_sweep "a connect" "$g; fabrics_nth" "$points"

known_reports failslab

verify_uninjected "$nqn" "$g"
check host 'grep -q "debug_locks: *1" /proc/lockdep_stats || { echo "lockdep turned itself off"; exit 1; }'

progress "fail_function on our setup steps"
for f in nvme_rdma_queue_alloc nvme_rdma_mrs_alloc nvme_rdma_cm_resolve nvme_rdma_cm_connect; do
	for nth in 1 2; do
		progress "fail_function: $f, call $nth"
		check host "$g; fei_connect $f $nth"
	done
done
check host "$g; fault_off"
known_reports fail_function
