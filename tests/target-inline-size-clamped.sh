#!/usr/bin/env bash
# param_inline_data_size above what we support (16 KiB) does not fail the
# port: it is clamped to 16384 with a message naming the port, configfs
# shows the value in use, and in-capsule writes of 16 KiB verify.  A value
# that is not a number is refused by configfs outright.
# topology: one
# transport: rdma
# impl: intree/ours
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:inline-clamp
boot
check target 'modprobe nvmet && mkdir $NVMET/ports/9'
expect_fail target 'echo lots > $NVMET/ports/9/param_inline_data_size'
check target 'rmdir $NVMET/ports/9'
check target target_simple "$nqn" param_inline_data_size=1048576
assert_module target ours nvmet_rdma
check target 'dmesg | grep -q "nvmet-rdma: port 1: param_inline_data_size 1048576 is above the 16384-byte maximum, using 16384"'
check target '[ "$(cat $NVMET/ports/1/param_inline_data_size)" = 16384 ]'
check host host_connect "$nqn"
check host 'FIO_SIZE=2M fio_verify $(host_ns '"$nqn"') --rw=randwrite --bs=16k --iodepth=8'
n=$(on target target_qstat inline_commands)
[ "$n" -gt 0 ] || fail "no 16 KiB write travelled in the capsule"
