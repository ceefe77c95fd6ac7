#!/usr/bin/env bash
# A target that stops answering while the link stays up: the target VM
# drops every RoCE packet it receives (tc ingress filter on UDP 4791), so
# the host's keep-alive goes unanswered with no link event and no I/O to
# fail first.  With keep_alive_tmo 3 s our host must time the keep-alive
# command out (admin queue, opcode 0x18) and start error recovery within
# two keep-alive periods and a margin (8 s), then reconnect by itself
# once the filter is gone, and carry verified I/O again.
# topology: two
# transport: rdma
# impl: ours/intree
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-kato
boot_connected "$nqn" --keep-alive-tmo=3 --reconnect-delay=1 --ctrl-loss-tmo=120
on target 'modprobe -a sch_ingress cls_u32 act_gact' > /dev/null 2>&1 ||
	skip "the guest kernel has no sch_ingress, cls_u32 or act_gact to drop packets with"
assert_module host ours nvme_rdma
check host "wait_for 20 ctrl_state $nqn live"

progress "target goes silent"
check host dmesg_mark
check target 'tc qdisc add dev dev0 ingress &&
tc filter add dev dev0 parent ffff: protocol ip prio 1 u32 match ip protocol 17 0xff match ip dport 4791 0xffff action drop'
check host '
not_live() { ! ctrl_state "$1" live; }
start=${EPOCHREALTIME/./}
wait_for 30 not_live '"$nqn"' || { echo "still live after 30 s"; exit 1; }
ms=$(((${EPOCHREALTIME/./} - start) / 1000))
dmesg_since | grep -E "nvme|rdma" | head -n 10
echo "left live after $ms ms"
dmesg_since | grep -qE "queue 0: command_id 0x[0-9a-f]+ \(opcode 0x18\) timed out" ||
	{ echo "no keep-alive timeout logged"; exit 1; }
[ $ms -le 8000 ] || { echo "keep_alive_tmo is 3 s, took $ms ms"; exit 1; }'

progress "target answers again: reconnect"
check target 'tc qdisc del dev dev0 ingress'
check host "wait_for 60 ctrl_state $nqn live"
check host 'FIO_SIZE=8M fio_verify $(host_ns '"$nqn"') --rw=randwrite --bs=16k --iodepth=16 > /tmp/fio.out 2>&1 || { tail -n 20 /tmp/fio.out; exit 1; }'
check host "host_disconnect_wait $nqn"
