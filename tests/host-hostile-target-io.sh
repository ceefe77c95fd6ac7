#!/usr/bin/env bash
# Our host against our target's fault mode (debugfs nvmet_rdma/fault)
# while fio verifies data on a live controller: the target spoils the
# next few I/O queue responses with a command_id no command has, the
# response twice, a response shorter than a CQE, no response at all, or
# an Internal Error status with DNR.  The first four must make the host
# say what was wrong, recover (error recovery, reconnect) and carry on
# with no I/O error; the error status must reach fio as EIO with the
# controller staying live and no recovery.  After every case a fresh
# fio verify pass must succeed; dmesg stays clean (gate).
#
# bogus-cid sets every tag bit (tag 0xfff), beyond the depth of any
# queue: nvme_find_rq() gets NULL from blk_mq_tag_to_rq(), which checks
# the tag against the tag set's size, so the host never indexes with it;
# the response must be counted in bad_responses.  (On the admin queue,
# tags from 31 up are the AEN's by nvme-core's definition and are never
# looked up; host-hostile-target-early-response covers an AEN before the
# controller is live.)
# topology: one
# transport: rdma
# impl: ours/ours
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:hostile-io
fault=/sys/kernel/debug/nvmet_rdma/fault

# What our host must log for each case (extended regex).  A duplicate is
# "second response" only while the command is still outstanding (the
# target sends the copy first, without invalidation, so a keyed command
# waits for the host's own LOCAL_INV); once the first response completed
# it, nvme-core has bumped the command_id's generation and the second one
# names no command.
declare -A expect=(
	[bogus-cid]='response for unknown command_id'
	[duplicate]='second response for command_id|response for unknown command_id'
	[short-response]='response of 8 bytes'
	[drop]='timed out'
	[error-status]='sc 0x6\) DNR'
)
declare -A count=([bogus-cid]=2 [duplicate]=2 [short-response]=2 [drop]=2 [error-status]=1)
# A dropped response takes io_timeout (5 s here) to be noticed, per fault.
declare -A runtime=([bogus-cid]=15 [duplicate]=15 [short-response]=15 [drop]=25 [error-status]=15)

boot
# HOSTILE_IO_SRQ=1: the target's queues share receive buffers (use_srq),
# where a dropped response holds a buffer of the device's SRQ.
if [ -n "${HOSTILE_IO_SRQ:-}" ]; then
	check target 'modprobe nvmet && modprobe nvmet-rdma use_srq=1 && [ "$(cat /sys/module/nvmet_rdma/parameters/use_srq)" = Y ]'
fi
check target target_simple "$nqn"
# Set before the connect: a namespace takes the timeout when it is created.
check host 'modprobe nvme-core && echo 5 > /sys/module/nvme_core/parameters/io_timeout'
check host host_connect "$nqn" --reconnect-delay=1 --ctrl-loss-tmo=60
assert_module host ours nvme_rdma
assert_module target ours nvmet_rdma
check host "wait_for 20 ctrl_state $nqn live"

progress "bad fault requests refused"
for bad in 'nonsense 1' 'drop 0' 'drop 70000' 'drop'; do
	expect_fail target "echo '$bad' > $fault"
done
check target "dmesg | grep -q 'nvmet-rdma: fault: unknown mode \"nonsense\"' && dmesg | grep -q 'nvmet-rdma: fault: count 70000 refused'"
check target "grep -qx 'mode off' $fault && grep -qx 'left 0' $fault"

# HOSTILE_IO_CASES narrows the run to some modes while iterating.
for m in ${HOSTILE_IO_CASES:-bogus-cid duplicate short-response drop error-status}; do
	progress "$m under fio"
	check host dmesg_mark
	fio=$(on_bg host 'FIO_SIZE=16M fio_verify $(host_ns '"$nqn"') --rw=randrw --bs=4k --iodepth=16 --time_based --runtime='"${runtime[$m]}"' --verify_backlog=64 --output-format=json > /xfer/fio-'"$m"'.json 2> /xfer/fio-'"$m"'.err || rc=$?; echo ${rc:-0} > /tmp/fio.rc')
	check host 'wait_for 30 pidof fio && sleep 2'
	[ -e "$(vm_dir host)/xfer/res/$fio.rc" ] && fail "$m: fio ended before the fault was armed"
	check target "echo '$m ${count[$m]}' > $fault"
	on target "wait_for 60 grep -qx 'applied ${count[$m]}' $fault" ||
		fail "$m: the target did not apply ${count[$m]} faults: $(on target cat $fault | xargs)"
	check target "grep -qx 'left 0' $fault"
	on_wait host "$fio" $((${runtime[$m]} + 120)) > /dev/null || fail "$m: fio did not end"
	on host 'dmesg_since > /tmp/dmesg.case; grep -E "nvme|rdma" /tmp/dmesg.case | head -n 20'
	on host "grep -qE '${expect[$m]}' /tmp/dmesg.case" ||
		fail "$m: the host did not log /${expect[$m]}/"
	check host "wait_for 60 ctrl_state $nqn live"
	if [ "$m" = bogus-cid ]; then
		on host 'awk '"'"'{ for (i = 3; i < NF; i += 2) if ($i == "bad_responses") n += $(i + 1) } END { print "bad_responses", n + 0; exit !(n > 0) }'"'"' /sys/kernel/debug/nvme_rdma/$(host_ctrls '"$nqn"')/stats' ||
			fail "$m: no bad response counted"
	fi
	rc=$(on host 'cat /tmp/fio.rc')
	if [ "$m" = error-status ]; then
		# DNR: nvme-core does not retry and the error is fio's.
		[ "$rc" != 0 ] || fail "$m: fio saw no error"
		# fio prints its error line ahead of the JSON: skip it.
		on host "sed -n '/^{/,\$p' /xfer/fio-$m.json | jq -e '.jobs[0].error == 5'" > /dev/null ||
			fail "$m: fio did not fail with EIO: $(on host "head -n 3 /xfer/fio-$m.err")"
		on host 'grep -q "starting error recovery" /tmp/dmesg.case' &&
			fail "$m: an error status made the host start error recovery"
	else
		[ "$rc" = 0 ] || fail "$m: fio failed (rc $rc): $(on host "head -n 3 /xfer/fio-$m.err")"
		on host "jq -e '.jobs[0].error == 0 and .jobs[0].write.io_bytes > 0 and .jobs[0].read.io_bytes > 0' /xfer/fio-$m.json" > /dev/null ||
			fail "$m: fio reported an error or moved no data"
		on host 'grep -q "starting error recovery" /tmp/dmesg.case && grep -q "reconnected after" /tmp/dmesg.case' ||
			fail "$m: the host did not recover by reconnecting"
	fi
	progress "$m: fresh verify pass"
	check host 'FIO_SIZE=8M fio_verify $(host_ns '"$nqn"') --rw=randwrite --bs=16k --iodepth=16 > /tmp/fio-after.out 2>&1 || { tail -n 20 /tmp/fio-after.out; exit 1; }'
done
[ -z "${HOSTILE_IO_SRQ:-}" ] || check target '[ "$(target_qstat srq_receives)" -gt 0 ]'
check target "echo off > $fault && grep -qx 'mode off' $fault"
