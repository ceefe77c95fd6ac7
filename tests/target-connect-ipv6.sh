#!/usr/bin/env bash
# An IPv6 port: our listener binds an IPv6 address (AF-only), the in-tree
# host connects over it and data verifies.
# topology: one two
# transport: rdma
# impl: intree/ours
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:ipv6
taddr=fd00:198:18::1
haddr=fd00:198:18::2
boot
check target "ip -6 addr add $taddr/64 dev dev0 nodad"
[ "$TOPOLOGY" = two ] && check host "ip -6 addr add $haddr/64 dev dev0 nodad"
check target 'nullblk_load 1 1 && nvmet_subsys '"$nqn"' && nvmet_ns '"$nqn"' 1 /dev/nullb0'
check target "nvmet_port 1 rdma $taddr 4420 && nvmet_link 1 $nqn"
assert_module target ours nvmet_rdma
check target "dmesg | grep -q 'nvmet-rdma: port 1: listening on \[$taddr\]:4420'"
check host "modprobe nvme-fabrics && nvme connect -t rdma -a $taddr -s 4420 -n $nqn"
check host 'FIO_SIZE=4M fio_verify $(host_ns '"$nqn"') --rw=randwrite --bs=4k-128k --iodepth=8'
