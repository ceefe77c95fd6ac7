#!/usr/bin/env bash
# Both transports emit their tracepoints: one traced connect, fio and
# disconnect (host and target in one guest, so one trace buffer) shows
# every host and target event, and every I/O command the host posted was
# received by the target with the same queue and command_id.  A second
# connect with remote_invalidate=0 shows the host's local invalidations.
# topology: one
# transport: rdma
# impl: ours/ours
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:tracepoints
T=/sys/kernel/tracing

# trace_on: enable both modules' events into an empty 8 MiB buffer.
trace_on='
[ -e '$T'/trace ] || mount -t tracefs nodev '$T'
echo 8192 > '$T'/buffer_size_kb
echo 1 > '$T'/events/nvme_rdma/enable
echo 1 > '$T'/events/nvmet_rdma/enable
echo > '$T'/trace
echo 1 > '$T'/tracing_on'
# run_io: 4 KiB writes go in-capsule, 64 KiB ones and all reads are keyed.
run_io='
dev=$(host_ns '$nqn')
FIO_SIZE=512k fio_verify $dev --rw=write --bs=4k
FIO_SIZE=1M fio_verify $dev --rw=randrw --bs=64k --iodepth=4
host_disconnect_wait '$nqn'
# The target releases its queues in a work item.
wait_for 20 sh -c "[ -z \"\$(ls /sys/kernel/debug/nvmet_rdma/queues)\" ]"'

boot
check target target_simple "$nqn"
check host 'modprobe nvme-rdma'
assert_module host ours nvme_rdma
assert_module target ours nvmet_rdma
check host "$trace_on"
check host "host_connect $nqn"
progress "traced I/O"
check host "$run_io"
check host "echo 0 > $T/tracing_on; cat $T/trace > /xfer/trace1"

t=$(vm_dir host)/xfer/trace1
has() {	# has FILE REGEX: FILE has a matching event line
	grep -Eq "$2" "$1" || fail "no trace line matches '$2' ($(grep -c . "$1") lines)"
}
for e in 'nvme_rdma_cmd_post: .* data=inline' 'nvme_rdma_cmd_post: .* data=keyed' \
	'nvme_rdma_cmd_post: .* data=none' 'nvme_rdma_cmd_done: .*status=0x0 remote_inv=1' \
	'nvme_rdma_mr_reg: ' 'nvme_rdma_mr_remote_inv: ' \
	'nvme_rdma_queue_state: .*qid=0 state=connected' 'nvme_rdma_queue_state: .*qid=1 state=live' \
	'nvme_rdma_queue_state: .*state=stopping' 'nvme_rdma_queue_state: .*state=freed' \
	'nvmet_rdma_capsule_recv: ' 'nvmet_rdma_data_post: .* rdma_read' \
	'nvmet_rdma_data_post: .* rdma_write' 'nvmet_rdma_rsp_send: .*inv_rkey=0x[1-9a-f]' \
	'nvmet_rdma_queue_state: .*host=198\.18\.0\.1:[0-9]+ state=established' \
	'nvmet_rdma_queue_state: .*state=closing' 'nvmet_rdma_queue_state: .*state=released'; do
	has "$t" "$e"
done

# Every I/O command posted was received, under the same qid and cid.
sent=$(grep -Eo 'nvme_rdma_cmd_post: nvme[0-9]+ qid=[1-9][0-9]* cid=0x[0-9a-f]+' "$t" |
	sed 's/.* qid=/qid=/' | sort | uniq -c | sort)
got=$(grep -Eo 'nvmet_rdma_capsule_recv: queue=[0-9]+ qid=[1-9][0-9]* cid=0x[0-9a-f]+' "$t" |
	sed 's/.* qid=/qid=/' | sort | uniq -c | sort)
[ -n "$sent" ] || fail "no I/O command in the trace"
[ "$sent" = "$got" ] || fail "I/O commands posted and received differ: $(diff <(echo "$sent") <(echo "$got") | head -n 5)"
echo "$(echo "$sent" | awk '{ n += $1 } END { print n }') I/O commands traced on both sides"

progress "local invalidation traced"
check host "rmmod nvme-rdma && modprobe nvme-rdma remote_invalidate=0"
check host "$trace_on"
check host "host_connect $nqn"
check host "$run_io"
check host "echo 0 > $T/tracing_on; cat $T/trace > /xfer/trace2"
has "$(vm_dir host)/xfer/trace2" 'nvme_rdma_mr_local_inv: '
has "$(vm_dir host)/xfer/trace2" 'nvme_rdma_cmd_done: .*remote_inv=0'
