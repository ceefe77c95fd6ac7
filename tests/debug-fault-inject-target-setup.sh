#!/usr/bin/env bash
# Fault injection on the debug kernel: every setup step of our target that
# can fail does so cleanly.  (1) failslab via fail-nth fails the Nth slab
# allocation of the symlink() that links the subsystem into the port,
# which enables the port (nvmet core, our add_port, rdma_cm's id, bind and
# listen), for N spread over all of them (counted by a first, unfailed
# link): the link must fail and leave no link, port or listener, or work
# and leave an enabled port.  (2) fail_function fails our
# nvmet_rdma_listen: enabling the port fails with a message, and linking
# again afterwards works.  (3) fail_function fails, one at a time, the
# admin queue's and the first I/O queue's call of the queue set-up steps
# our target marks ALLOW_ERROR_INJECTION (nvmet_rdma_bufs_alloc,
# nvmet_rdma_ib_create, nvmet_rdma_queue_publish, nvmet_rdma_accept):
# nvme connect must fail.  Then a connect carries crc32c-verified data.
# (4) With use_srq=1, the admin queue's and the I/O queues' shared
# receive queue set-up (nvmet_rdma_srq_setup) fails: the queue falls back
# to its own receive buffers, the connect works and carries verified data.
# After each attempt no controller may be left and our target's object
# counters must be back to zero (but for an enabled port's port and
# listener); the kernel log is gated after each phase except for the
# reports injection makes by design (known_reports); at the end the
# harness's teardown, kmemleak and dmesg gates apply.  FAULT_POINTS
# (default 12) sets how many values of N phase 1 tries.  Failing the
# target's allocations during a connect is not done: they are made in
# the rdma_cm's work context, which fail-nth (per task) cannot reach and
# failslab's task filter cannot single out; failslab on every task would
# fail the shell, nvme-cli and the guest agent as well.
# topology: one
# transport: rdma
# impl: ours/ours
# timeout: 600
# debug-timeout: 3000
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"
# shellcheck source=tests/fault-inject/host.sh
. "$(dirname "$0")/fault-inject/host.sh"

# Part of `make check-debug`, not of `make check`, like
# debug-fault-inject-connect.
[ "$KERNEL" = debug ] ||
	skip "needs the debug kernel (make check-debug): the Debian kernel has no fault injection"

nqn=nqn.2024-01.io.nvmeof-rdma:fault-inject-target
points=${FAULT_POINTS:-40}
g=". /xfer/fault-inject.sh; NQN=$nqn"

progress "make debug-modules, tools"
make -C "$VM_ROOT" --no-print-directory debug-modules > "$RUN/build.log" 2>&1 ||
	fail "make debug-modules failed: $(tail -n 3 "$RUN/build.log" | tr '\n' ' ')"
make -s -C "$VM_ROOT" tools > "$RUN/tools.log" 2>&1 ||
	fail "make tools failed: $(tail -n 3 "$RUN/tools.log" | tr '\n' ' ')"
boot
cp "$VM_ROOT/tests/fault-inject/guest.sh" "$(vm_dir host)/xfer/fault-inject.sh"

# Everything but the link: phase 1 makes it.  fail_function finds a
# function only while its module is loaded.
check target "nullblk_load 1 1 && nvmet_subsys $nqn && nvmet_ns $nqn 1 /dev/nullb0 &&
	nvmet_port 1 rdma \$TARGET_ADDR 4420 && modprobe nvmet-rdma && modprobe nvme-rdma"
assert_module target ours nvmet_rdma
assert_module host ours nvme_rdma
check host "$g; fault_setup"

failslab_sweep "enabling the port" "$g; link_nth" "$points"
check host "$g; fault_off"
known_reports failslab

# fail_function may turn lockdep off (known_reports): check it first.
check host 'grep -q "debug_locks: *1" /proc/lockdep_stats || { echo "lockdep turned itself off"; exit 1; }'

progress "fail_function: nvmet_rdma_listen"
check host "$g; fei_listen"

for f in nvmet_rdma_bufs_alloc nvmet_rdma_ib_create nvmet_rdma_queue_publish nvmet_rdma_accept; do
	for nth in 1 2; do
		progress "fail_function: $f, call $nth"
		check host "$g; fei_connect $f $nth"
	done
done

verify_uninjected "$nqn" "$g"

progress "use_srq=1: fail_function on nvmet_rdma_srq_setup"
check target "nvmet_clear && objects_zero && rmmod nvmet_rdma && modprobe nvmet-rdma use_srq=1 &&
	[ \"\$(cat /sys/module/nvmet_rdma/parameters/use_srq)\" = Y ] && target_simple $nqn"
assert_module target ours nvmet_rdma
for nth in 1 2; do
	progress "fail_function: nvmet_rdma_srq_setup, call $nth"
	check host "$g; fei_srq $nth"
done
check host "$g; fault_off"
known_reports fail_function
