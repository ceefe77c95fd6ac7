#!/usr/bin/env bash
# The dmesg gate is able to fail: a WARNING line written to the guest's
# kernel log is caught, in every VM of the topology.  The log is cleared
# afterwards so that this test's own gate passes.  The one user-space
# crash the gate lets pass (a perftest client in librdmacm, which the
# benchmark retries) passes, and a kernel general protection fault line
# still fails it.
# topology: one two
# transport: rdma
# impl: intree/intree
# debug: always
# timeout: 300
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

boot
for role in target host; do
	check "$role" 'echo "WARNING: CPU: 0 PID: 1 at gate-self-test" > /dev/kmsg'
	on "$role" dmesg > "$RUN/probe.log"
	dmesg_gate "$RUN/probe.log" > /dev/null || fail "gate missed a WARNING in $(vm_name "$role")"
	check "$role" 'dmesg -c > /dev/null'
done

# Without a VM: the gate's own filters.
printf '%s\n' '[   30.105950] traps: ib_write_bw[138] general protection fault ip:7f78de98e472 sp:7fffa0f4b330 error:0 in librdmacm.so.1[7f78de988000+15000]' > "$RUN/user.log"
! dmesg_gate "$RUN/user.log" > /dev/null || fail "gate failed on perftest's user-space crash"
printf '%s\n' '[   31.000000] general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] PREEMPT SMP' > "$RUN/kernel.log"
dmesg_gate "$RUN/kernel.log" > /dev/null || fail "gate missed a kernel general protection fault"
printf '%s\n' '[   32.000000] traps: fio[200] general protection fault ip:7f0 sp:7ff error:0 in libc.so.6[7f0+1000]' > "$RUN/other.log"
dmesg_gate "$RUN/other.log" > /dev/null || fail "gate let another program's crash pass"
