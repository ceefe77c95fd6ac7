#!/usr/bin/env bash
# Data integrity through our target with per-queue receive buffers
# (use_srq=0) and in-capsule data off, at the default and at the maximum:
# for each param_inline_data_size, one fio run does randrw with crc32c
# verify at 512B, 4k, 16k, 128k and 1M blocks, QD1 and QD32, on a
# memory-backed null_blk and on the QEMU-emulated NVMe disk (two
# namespaces), all at once.  With inline data on, small writes must
# actually travel in the capsule; with it off, none.
# topology: one
# transport: rdma
# impl: intree/ours
# timeout: 1200
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:fio-inline
size=${FIO_SIZE:-1M}
truncate -s 256M "$RUN/nvme0.img"
# shellcheck disable=SC2034,SC2054 # vm_boot reads it; the commas are QEMU's
TARGET_QEMU_ARGS=(-drive "file=$RUN/nvme0.img,if=none,id=nvm0,format=raw"
		  -device nvme,serial=nvmeofrdma0,drive=nvm0)
boot
for inline in 0 4096 16384; do
	progress "inline $inline: setup"
	check target target_simple "$nqn" param_inline_data_size=$inline
	check target 'nvmet_ns '"$nqn"' 2 "$(pci_nvme_ns)"'
	assert_module target ours nvmet_rdma
	check target '[ "$(cat /sys/module/nvmet_rdma/parameters/use_srq)" = N ]'
	check target '[ "$(cat $NVMET/ports/1/param_inline_data_size)" = '"$inline"' ]'
	check host host_connect "$nqn"
	fio_verify_matrix "$nqn" "1 2" "$size" "inline $inline" 512 4k 16k 128k 1M
	assert_inline_used "$inline"
	check host "nvme disconnect -n $nqn"
	check target nvmet_clear
	check target objects_zero
done
# A host that keeps to its queue depth is never taken for overflowing it,
# and no work completion failed.
check target 'grep -qx "sq_overflows 0" /sys/kernel/debug/nvmet_rdma/objects &&
	grep -qx "wc_errors 0" /sys/kernel/debug/nvmet_rdma/objects ||
	{ cat /sys/kernel/debug/nvmet_rdma/objects; exit 1; }'
