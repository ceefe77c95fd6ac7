#!/usr/bin/env bash
# param_pi_enable on an RDMA port: configfs accepts it, but enabling the
# port on rxe (no signature offload) is refused: dmesg says T10-PI is not
# supported on rxe0, the link fails with EOPNOTSUPP, nothing of ours is
# left (no port, no listener) and nvmet does not list the port as
# enabled.  With param_pi_enable back to 0 the same port enables and a
# host connects.
# topology: one
# transport: rdma
# impl: intree/ours
# timeout: 300
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:pi-refused
boot
check target 'nullblk_load 1 1 && nvmet_subsys '"$nqn"' && nvmet_ns '"$nqn"' 1 /dev/nullb0'
check target 'nvmet_port 1 rdma "$TARGET_ADDR" 4420'
on target '[ -e $NVMET/ports/1/param_pi_enable ]' ||
	skip "kernel without CONFIG_BLK_DEV_INTEGRITY: no param_pi_enable"
check target 'echo 1 > $NVMET/ports/1/param_pi_enable && [ "$(cat $NVMET/ports/1/param_pi_enable)" = 1 ]'
progress "enable with PI"
expect_fail target 'nvmet_link 1 '"$nqn"' 2> /xfer/ln.err'
on target 'cat /xfer/ln.err'
check target 'grep -q "Operation not supported" /xfer/ln.err'
assert_module target ours nvmet_rdma
check target 'dmesg | grep -q "nvmet-rdma: port 1: T10-PI is not supported on rxe0 (no signature offload); refusing param_pi_enable"'
check target '[ ! -e $NVMET/ports/1/subsystems/'"$nqn"' ]'
check target 'grep -qx "ports 0" /sys/kernel/debug/nvmet_rdma/objects && grep -qx "listeners 0" /sys/kernel/debug/nvmet_rdma/objects'
expect_fail host 'modprobe nvme-fabrics && nvme discover -t rdma -a "$TARGET_ADDR" -s 4420'
progress "enable without PI"
check target 'echo 0 > $NVMET/ports/1/param_pi_enable && nvmet_link 1 '"$nqn"
check host host_connect "$nqn"
check host 'dd if=$(host_ns '"$nqn"') of=/dev/null bs=4k count=16 iflag=direct'
check host "nvme disconnect -n $nqn"
check target nvmet_clear
check target objects_zero
