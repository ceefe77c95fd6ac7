#!/usr/bin/env bash
# A teardown that cannot finish yet says what it is waiting for, then
# finishes.  The release of a queue waits for nvmet core to complete the
# commands that are in the backend (they may still write into our
# buffers, so the wait cannot be cut short) and RDMA device removal waits
# for those releases.  With a backend that holds every command 20 s
# (dm-delay over null_blk):
# - port removal under reads: within 5 s (50 s on the debug kernel) dmesg
#   names the queue (qid, cntlid, host, port), what its teardown waits for
#   and how many commands are outstanding; once the backend answers, the
#   teardown ends ("teardown done") and no queue is left;
# - the same for `rdma link delete`, which also names the device and the
#   number of queues it waits for, and returns once they are released;
# and nvmet-rdma unloads afterwards.  Two VMs: on one, the host's queues
# would share the RDMA device, and its removal would first wait for the
# host's own teardown.
# topology: two
# transport: rdma
# impl: intree/ours
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:teardown-waits
delay_ms=20000
boot
on target 'modprobe dm-delay 2> /dev/null && command -v dmsetup' > /dev/null ||
	skip "no dm-delay or dmsetup in the guest (the debug kernel has no device mapper)"
check target 'nullblk_load 1 1 && delay_dev_create stuck /dev/nullb0 > /tmp/stuck-dev && cat /tmp/stuck-dev'
target_up='nvmet_subsys '"$nqn"' && nvmet_ns '"$nqn"' 1 $(cat /tmp/stuck-dev) &&
	nvmet_port 1 rdma $TARGET_ADDR 4420 && nvmet_link 1 '"$nqn"
# stuck_reads: the host connected, then reads held by the backend.
stuck_reads() {
	check target 'delay_dev_set stuck 0'
	check host host_connect "$nqn" --reconnect-delay=2 --ctrl-loss-tmo=5
	check host "host_ns $nqn"
	check target "delay_dev_set stuck $delay_ms"
	on_bg host 'fio --name=stuck --filename=$(host_ns '"$nqn"') --direct=1 --ioengine=libaio --rw=randread --bs=4k --iodepth=4 --size=1M --runtime=120 > /dev/null 2>&1; echo done' > /dev/null
	check target 'wait_for 30 eval "[ \$(target_qstat inflight) -ge 4 ]"'
}
waiting='teardown waiting [0-9]+ s for nvmet core to complete its commands; commands unanswered: [1-9][0-9]*'

progress "port removal with commands in the backend"
check target "$target_up"
stuck_reads
check target 'dmesg_mark; start=$SECONDS; rm $NVMET/ports/1/subsystems/'"$nqn"' && rmdir $NVMET/ports/1; echo "port removal returned after $((SECONDS - start)) s"'
check target 'wait_for $((10 * TIMEOUT_SCALE)) eval "dmesg_since | grep -qE \"queue [0-9]+ \\(qid 1, cntlid [0-9]+, host [^ ]+, port 1\\): '"$waiting"'\""; dmesg_since | grep "teardown waiting" | head -n 3'
check target 'objects_zero 60 && dmesg_since | grep -E "queue [0-9]+ \(qid 1\): teardown done after [0-9]+ s"'
check host "wait_for 60 host_gone $nqn"
check target nvmet_clear

progress "rdma link delete with commands in the backend"
check target "$target_up"
stuck_reads
check target 'dmesg_mark; start=$SECONDS; timeout 120 rdma link delete rxe0; echo "rdma link delete returned after $((SECONDS - start)) s"'
check target 'dmesg_since | grep -E "rxe0: removal waiting [0-9]+ s for its queues to release the device \([1-9][0-9]* left\)"'
check target 'dmesg_since | grep -E "'"$waiting"'"'
# The port stays, listening again once the device is back.
check target 'grep -qx "queues 0" /sys/kernel/debug/nvmet_rdma/objects && grep -qx "devices 0" /sys/kernel/debug/nvmet_rdma/objects'
check host "wait_for 60 host_gone $nqn"
check target 'rdma link add rxe0 type rxe netdev dev0'
check target nvmet_clear
check target 'delay_dev_set stuck 0 && delay_dev_remove stuck'
check target 'timeout 60 rmmod nvmet_rdma'
