#!/usr/bin/env bash
# Data integrity through our target with in-capsule data off, at the
# default and at the maximum: for each param_inline_data_size, fio writes
# and verifies (crc32c) 512B..1M blocks at QD1 and QD32.  With inline data
# on, small writes must actually travel in the capsule; with it off, none.
# topology: one
# transport: rdma
# impl: intree/ours
# timeout: 1800
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:fio-inline
size=${FIO_SIZE:-4M}
boot
for inline in 0 4096 16384; do
	progress "inline $inline: setup"
	check target target_simple "$nqn" param_inline_data_size=$inline
	assert_module target ours nvmet_rdma
	check target '[ "$(cat $NVMET/ports/1/param_inline_data_size)" = '"$inline"' ]'
	check host host_connect "$nqn"
	fio_write_matrix "$nqn" "$size" "inline $inline" 512 4k 16k 128k 1M
	assert_inline_used "$inline"
	check host "nvme disconnect -n $nqn"
	check target nvmet_clear
	check target objects_zero
done
