#!/usr/bin/env bash
# host_traddr and tos reach the wire.  The host gets a second address on
# its link and connects with --host-traddr set to it: rdma_cm on both
# sides must show the connections bound to that address (rdma res show
# cm_id: the host's source, the target's peer).  With --tos=40 (DSCP 10)
# the host's RoCE packets must carry that TOS byte: a prio qdisc on the
# host's link files UDP 4791 packets with TOS 40 into band 1:1, and that
# band must count more than 100 packets after verified I/O; without
# --tos at most 5 (the same I/O sends thousands).
# topology: two
# transport: rdma
# impl: ours/intree
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-wire
boot
on host 'modprobe -a sch_prio cls_u32' > /dev/null 2>&1 ||
	skip "the guest kernel has no sch_prio or cls_u32 to count packets with"
check target target_simple "$nqn"
alias='${HOST_ADDR%.*}.200'
check host "ip addr add $alias/24 dev dev0"

# band1: packets of the host's TOS-40 band so far.
band1='band1() { tc -s class show dev dev0 | awk '"'"'$1 == "class" && $3 == "1:1" { c = 1 } c && $1 == "Sent" { print $4; exit }'"'"'; }'
check host "$band1"'
tc qdisc add dev dev0 root handle 1: prio &&
tc filter add dev dev0 parent 1: protocol ip prio 1 u32 match ip tos 40 0xff match ip dport 4791 0xffff flowid 1:1 &&
[ "$(band1)" = 0 ]'

progress "--host-traddr: the connection's source address"
check host "modprobe nvme-fabrics && nvme connect -t rdma -a \$TARGET_ADDR -s 4420 -n $nqn --host-traddr=$alias"
assert_module host ours nvme_rdma
check host "rdma res show cm_id | grep nvme_rdma | tee /tmp/cm; grep -q \"src-addr $alias:\" /tmp/cm && ! grep -q \"src-addr \$HOST_ADDR:\" /tmp/cm"
check target "rdma res show cm_id | grep -v 'state LISTEN' | tee /tmp/cm; grep -q \"dst-addr \${TARGET_ADDR%.*}.200:\" /tmp/cm"
progress "no --tos: nothing in the TOS-40 band"
check host 'FIO_SIZE=4M fio_verify $(host_ns '"$nqn"') --rw=randwrite --bs=16k --iodepth=8 > /tmp/fio.out 2>&1 || { tail -n 20 /tmp/fio.out; exit 1; }'
check host "$band1"'; echo "band 1:1: $(band1) packets"; [ "$(band1)" -le 5 ]'
check host "host_disconnect_wait $nqn"

progress "--tos=40: the host's packets carry it"
check host "nvme connect -t rdma -a \$TARGET_ADDR -s 4420 -n $nqn --tos=40"
check host 'FIO_SIZE=4M fio_verify $(host_ns '"$nqn"') --rw=randwrite --bs=16k --iodepth=8 > /tmp/fio.out 2>&1 || { tail -n 20 /tmp/fio.out; exit 1; }'
check host "$band1"'; echo "band 1:1: $(band1) packets"; [ "$(band1)" -gt 100 ]'
check host "host_disconnect_wait $nqn"
check host 'tc qdisc del dev dev0 root'
