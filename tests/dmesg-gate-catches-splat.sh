#!/usr/bin/env bash
# The dmesg gate is able to fail: a WARNING line written to the guest's
# kernel log is caught, in every VM of the topology.  The log is cleared
# afterwards so that this test's own gate passes.
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
