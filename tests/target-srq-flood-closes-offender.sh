#!/usr/bin/env bash
# With use_srq=1, a host that ignores flow control cannot hurt the other
# hosts of the device: its receives come from the shared pool, so before
# the target closes it, it may land as many receives as the SRQ holds,
# all completing on a CQ that the completion-queue pool shares with other
# queues.  Every queue on an SRQ therefore reserves the SRQ's size in its
# CQ (debugfs cq_entries), and the flooding host (the hostile tool's
# "flood" case, against a namespace that answers late) is closed each of
# five times while a well-behaved host runs fio verify through the same
# SRQ without an error.  rxe sends no Last WQE Reached event, so the
# first teardown of a queue on its SRQ says once that queues there are
# drained through their send queue only.
# topology: one
# transport: rdma
# impl: intree/ours
# timeout: 600
# debug-env: SLOW_NSEC=1000000000 FIO_SIZE=4M
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

cases=$(hostile_tool capsule)
grep -qx flood <<< "${cases// /$'\n'}" || fail "the hostile tool has no flood case: $cases"
tool=/xfer/tools/nvmf-rdma-hostile
nqn=nqn.2024-01.io.nvmeof-rdma:srq-flood
srq_size=256
boot
check target "modprobe nvmet && modprobe nvmet-rdma use_srq=1 srq_size=$srq_size"
check target target_simple "$nqn"
assert_module target ours nvmet_rdma
check target 'dev=$(nullb_slow slow '"${SLOW_NSEC:-100000000}"') && nvmet_ns '"$nqn"' 2 $dev'
check host host_connect "$nqn"

progress "every queue on the SRQ reserves the SRQ in its CQ"
check target '
n=0
for f in /sys/kernel/debug/nvmet_rdma/queues/*; do
	awk -v s='"$srq_size"' '\''$1 == "srq" {q = $2} $1 == "slots" {n = $2}
		$1 == "cq_entries" {c = $2}
		END {print FILENAME ": srq " q ", slots " n ", cq_entries " c;
		     exit !(q == "yes" && c >= s + n + 2)}'\'' "$f" || exit 1
	n=$((n + 1))
done
[ $n -ge 2 ] || { echo "only $n queues"; exit 1; }
'

progress "flood five times under fio verify"
fio=$(on_bg host 'FIO_SIZE=${FIO_SIZE:-16M} fio_verify $(host_ns '"$nqn"') --rw=randrw --bs=4k-64k --iodepth=16 --loops=4 > /tmp/fio.out 2>&1; rc=$?; tail -n 20 /tmp/fio.out; exit $rc')
check host 'wait_for 30 pidof fio'
for i in 1 2 3 4 5; do
	check host "timeout 120 $tool capsule \$TARGET_ADDR 4420 $nqn \$(cat /etc/nvme/hostnqn) flood"
	check target 'grep -q "^rxe0 inline 4096 size '"$srq_size"' " /sys/kernel/debug/nvmet_rdma/srqs'
done
out=$(on_wait host "$fio" 600) || fail "fio verify failed beside the flooding host: $(echo "$out" | grep -m3 -iE 'error|verify')"
echo "$out" | grep -E 'READ:|WRITE:'

progress "the flooder was closed for it, the neighbour was not"
check target 'dmesg | grep -c "commands outstanding on a queue of depth 16, closing" | awk "{exit !(\$1 >= 5)}"'
check target 'grep -qx "sq_overflows [5-9]" /sys/kernel/debug/nvmet_rdma/objects || grep -qx "sq_overflows [1-9][0-9]" /sys/kernel/debug/nvmet_rdma/objects || { cat /sys/kernel/debug/nvmet_rdma/objects; exit 1; }'
check host "ctrl_state $nqn live"
check target '[ "$(dmesg | grep -c "rxe0: sends no Last WQE Reached event")" = 1 ]'
check host "host_disconnect_wait $nqn"
check target nvmet_clear
check target 'nullb_slow_remove slow'
check target objects_zero
