#!/usr/bin/env bash
# A hostile initiator (tests/tools/nvmf-rdma-hostile.c) connects to our
# target with malformed NVMe/RDMA CM private data: bad record format, a
# qid beyond the controller's, hsqsize 0 and too large for admin and I/O
# queues, hrqsize below hsqsize, and private data shorter than the record.
# Each must be rejected with its NVMe/RDMA reject status (the tool checks
# the status in the REJECTED event), each reject is counted in debugfs,
# and afterwards a normal in-tree host connects and passes fio verify.
# topology: one
# transport: rdma
# impl: intree/ours
# timeout: 300
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

hostile_tool > /dev/null
tool=/xfer/tools/nvmf-rdma-hostile
cases=$(hostile_tool cm)
n=$(echo "$cases" | wc -w)
nqn=nqn.2024-01.io.nvmeof-rdma:hostile-cm

boot
check target target_simple "$nqn"
assert_module target ours nvmet_rdma
rejects() { on target "awk '\$1 == \"rejects\" {print \$2}' /sys/kernel/debug/nvmet_rdma/objects"; }
before=$(rejects)
for c in $cases; do
	progress "cm case $c"
	check host "$tool cm \$TARGET_ADDR 4420 $c"
done
after=$(rejects)
echo "rejects: $before before, $after after $n cases"
[ "$((after - before))" = "$n" ] || fail "debugfs counted $((after - before)) rejects for $n rejected connects"
check target 'dmesg | grep -c "rejecting connection from" > /xfer/nrej; [ "$(cat /xfer/nrej)" -ge '"$n"' ]'

progress "normal host after the hostile one"
check host host_connect "$nqn"
check host 'FIO_SIZE=8M fio_verify $(host_ns '"$nqn"') --rw=randrw --bs=4k --iodepth=16'
check host "nvme disconnect -n $nqn"
check target nvmet_clear
check target objects_zero
echo "$n hostile CM cases passed"
