#!/usr/bin/env bash
# A controller that comes back with less than it had.  Under fio verify
# (crc32c, its backlog checked as it goes), the subsystem's attr_qid_max
# drops from 2 to 1 and the host resets: it must reconnect with one I/O
# queue (queue_count 3 -> 2: blk_mq_update_nr_hw_queues() shrinks the tag
# set's hardware queues under I/O), then with two again after attr_qid_max
# goes back to 2, and fio must finish with no error.  Then our target's
# max_queue_size drops to 32, below the 128 the host's tag set was built
# with, and the host resets: it must say once that the controller now
# allows depth 32, less than the 128 in use, and remove the controller,
# making no reconnect attempt; a new connect with --queue-size=32 works.
# topology: one
# transport: rdma
# impl: ours/ours
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-fewer-queues
qid_max="\$NVMET/subsystems/$nqn/attr_qid_max"
mqs=/sys/module/nvmet_rdma/parameters/max_queue_size
ctrl='c=/sys/class/nvme/$(host_ctrls '"$nqn"')'

boot
check target target_simple "$nqn"
# A default and a read queue, whatever the guest's CPU count.
check host "host_connect $nqn --nr-io-queues=1 --nr-write-queues=1 --reconnect-delay=1 --ctrl-loss-tmo=30"
assert_module host ours nvme_rdma
assert_module target ours nvmet_rdma
check host "$ctrl"'; [ "$(cat $c/queue_count)" = 3 ] || { echo "queue_count $(cat $c/queue_count)"; exit 1; }'

fio=$(on_bg host 'FIO_SIZE=16M fio_verify $(host_ns '"$nqn"') --rw=randrw --bs=4k --iodepth=16 --time_based --runtime=40 --verify_backlog=64 --output-format=json > /xfer/fio-fewer.json 2> /xfer/fio-fewer.err')
check host 'wait_for 30 pidof fio && sleep 2'

# reset_to QUEUES: set attr_qid_max, reset, wait until live with QUEUES
# I/O queues.
reset_to() {
	check target "echo $1 > $qid_max && [ \"\$(cat $qid_max)\" = $1 ]"
	check host "$ctrl"'
nvme reset /dev/${c##*/}
wait_for 30 ctrl_state '"$nqn"' live || { echo "not live: $(cat $c/state)"; exit 1; }
[ "$(cat $c/queue_count)" = '$(($1 + 1))' ] || { echo "queue_count $(cat $c/queue_count)"; exit 1; }'
}

progress "attr_qid_max 1, reset under fio: one I/O queue"
reset_to 1
check host 'sleep 3'
progress "attr_qid_max 2, reset under fio: two I/O queues"
reset_to 2

on_wait host "$fio" 120 > /dev/null || fail "fio failed: $(on host 'head -n 5 /xfer/fio-fewer.err')"
on host "jq -e '.jobs[0].error == 0 and .jobs[0].write.io_bytes > 0 and .jobs[0].read.io_bytes > 0' /xfer/fio-fewer.json" > /dev/null ||
	fail "fio reported an error or moved no data"

progress "max_queue_size 32 < the 128 in use: removed once, no retry"
check target "echo 32 > $mqs && [ \"\$(cat $mqs)\" = 32 ]"
check host "dmesg_mark; $ctrl"'
nvme reset /dev/${c##*/} || true
wait_for 30 host_gone '"$nqn"' || { echo "controller still there: $(cat $c/state)"; exit 1; }
dmesg_since | grep -E "nvme|rdma" | tail -n 20
[ "$(dmesg_since | grep -c "controller now allows queue depth 32, less than the 128 in use: removing it")" = 1 ]
! dmesg_since | grep -q "reconnect attempt"'

progress "connect again with --queue-size=32"
check host "host_connect $nqn --queue-size=32"
check host "$ctrl"'; [ "$(cat $c/sqsize)" = 31 ] || { echo "sqsize $(cat $c/sqsize)"; exit 1; }'
check host 'FIO_SIZE=8M fio_verify $(host_ns '"$nqn"') --rw=randwrite --bs=16k --iodepth=16 > /tmp/fio.out 2>&1 || { tail -n 20 /tmp/fio.out; exit 1; }'
check host "host_disconnect_wait $nqn"
check target "echo 256 > $mqs"
