#!/usr/bin/env bash
# Our host against our target's connection-time fault modes (debugfs
# nvmet_rdma/fault): the target answers as soon as a queue is
# established, before the host has sent anything on it.  early-response
# puts a success for a command_id that names nothing on the next I/O
# queues: the host must log that a response came before any command was
# sent, count it in the queue's bad_responses, and fail that connect
# attempt (a first connect fails, a reset retries and comes back).
# early-aen puts an async event completion on the admin queue: the host
# must log that it ignored it (the controller is not live) and connect
# normally.  A fio verify pass after every case; dmesg stays clean
# (gate), and no early response is left in flight.
# topology: one
# transport: rdma
# impl: ours/ours
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:hostile-early
fault=/sys/kernel/debug/nvmet_rdma/fault
objects=/sys/kernel/debug/nvmet_rdma/objects
# Two I/O queues on the one-CPU guest (a default and a read queue): the
# host establishes queue 2, a whole CM handshake, between establishing
# queue 1 and sending queue 1's Connect, so queue 1's early response
# always arrives before that Connect.
qopts='--nr-io-queues=1 --nr-write-queues=1'
early_rsp='queue 1: response for command_id 0xfff before any command was sent'
early_aen='async event completion \(command_id 0x1f\) while not live, ignored'

# bad_responses of queue 1 of our host's controller of $nqn.
bad_rsp='awk '\''$1 == "queue" && $2 == "1:" { for (i = 3; i < NF; i += 2) if ($i == "bad_responses") print $(i + 1) }'\'' /sys/kernel/debug/nvme_rdma/$(host_ctrls '"$nqn"')/stats'

verify() {
	progress "$1: fresh verify pass"
	check host 'FIO_SIZE=8M fio_verify $(host_ns '"$nqn"') --rw=randwrite --bs=16k --iodepth=16 > /tmp/fio.out 2>&1 || { tail -n 20 /tmp/fio.out; exit 1; }'
}

# applied N: the target sent exactly N early responses since arming,
# has none left to send and none in flight.
applied() {
	on target "wait_for 30 grep -qx 'applied $1' $fault" ||
		fail "the target did not apply $1 faults: $(on target cat $fault | xargs)"
	check target "grep -qx 'left 0' $fault && grep -qx 'skipped 0' $fault"
	check target "wait_for 10 grep -qx 'fault_sends 0' $objects"
}

boot
check target target_simple "$nqn"

progress "early-response on the first connect"
check host dmesg_mark
check target "echo 'early-response 1' > $fault && grep -qx 'mode early-response' $fault"
expect_fail host "host_connect $nqn $qopts"
applied 1
on host 'dmesg_since > /tmp/dmesg.case; grep -E "nvme|rdma" /tmp/dmesg.case | head -n 20'
on host "grep -qE '$early_rsp' /tmp/dmesg.case" || fail "first connect: the host did not log /$early_rsp/"
check host "wait_for 20 host_gone $nqn"
assert_module host ours nvme_rdma
assert_module target ours nvmet_rdma
# The failed controller's queues are all released on the target.
check target "wait_for 20 grep -qx 'queues 0' $objects"

progress "connect once disarmed"
check host "host_connect $nqn $qopts --reconnect-delay=1 --ctrl-loss-tmo=60"
check host "wait_for 20 ctrl_state $nqn live"
verify "first connect"

progress "early-response on the reconnect after a reset"
check host dmesg_mark
before=$(on host "$bad_rsp")
# Count 1: queue 1 only.  Queue 2, the last one established, may see its
# early response before or after its Connect went out.
check target "echo 'early-response 1' > $fault"
# The reset's own setup fails, so nvme reset reports an error.
on host 'nvme reset /dev/$(host_ctrls '"$nqn"')' && fail "reset: the setup after the reset did not fail"
applied 1
check host "wait_for 60 ctrl_state $nqn live"
on host 'dmesg_since > /tmp/dmesg.case; grep -E "nvme|rdma" /tmp/dmesg.case | head -n 30'
on host "grep -qE '$early_rsp' /tmp/dmesg.case" || fail "reset: the host did not log /$early_rsp/"
check host "grep -q 'reconnected after' /tmp/dmesg.case"
after=$(on host "$bad_rsp")
[ "$after" = $((before + 1)) ] || fail "reset: queue 1 bad_responses went from $before to $after, not up by 1"
verify "reset"

progress "early-aen on a reset"
check host dmesg_mark
check target "echo 'early-aen 1' > $fault"
check host 'nvme reset /dev/$(host_ctrls '"$nqn"')'
applied 1
check host "wait_for 20 ctrl_state $nqn live"
on host 'dmesg_since > /tmp/dmesg.case; grep -E "nvme|rdma" /tmp/dmesg.case | head -n 20'
on host "grep -qE '$early_aen' /tmp/dmesg.case" || fail "reset: the host did not log /$early_aen/"
on host "grep -qE 'starting error recovery|reconnect attempt' /tmp/dmesg.case" &&
	fail "reset: an ignored AEN made the host recover or reconnect"
verify "early-aen reset"

progress "early-aen on the first connect"
check host "host_disconnect_wait $nqn"
check host dmesg_mark
check target "echo 'early-aen 1' > $fault"
check host "host_connect $nqn $qopts"
applied 1
check host "wait_for 20 ctrl_state $nqn live"
on host 'dmesg_since > /tmp/dmesg.case; grep -E "nvme|rdma" /tmp/dmesg.case | head -n 20'
on host "grep -qE '$early_aen' /tmp/dmesg.case" || fail "first connect: the host did not log /$early_aen/"
verify "early-aen first connect"

progress "teardown"
# A spent mode still shows its name: disarm, as after any fault run.
check target "echo off > $fault && grep -qx 'mode off' $fault && grep -qx 'left 0' $fault"
check host "host_disconnect_wait $nqn"
check target 'nvmet_clear && objects_zero 20'
