#!/usr/bin/env bash
# Data integrity through our target with use_srq=1: every queue is created
# on the device's shared receive queue; for in-capsule data off, 4 KiB and
# 16 KiB, one fio run does randrw with crc32c verify at 512B, 4k, 16k,
# 128k and 1M blocks, QD1 and QD32, on a memory-backed null_blk and on
# the QEMU-emulated NVMe disk (two namespaces), all at once; debugfs shows
# every command of every queue arriving through the SRQ (srq_receives >=
# commands, > 0), one SRQ per in-capsule size, all freed once the host is
# gone.
# topology: one
# transport: rdma
# impl: intree/ours ours/ours
# timeout: 900
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:srq-verify
size=${FIO_SIZE:-1M}
dbg=/sys/kernel/debug/nvmet_rdma
truncate -s 256M "$RUN/nvme0.img"
# shellcheck disable=SC2034,SC2054 # vm_boot reads it; the commas are QEMU's
TARGET_QEMU_ARGS=(-drive "file=$RUN/nvme0.img,if=none,id=nvm0,format=raw"
		  -device nvme,serial=nvmeofrdma0,drive=nvm0)
boot
check target 'modprobe nvmet && modprobe nvmet-rdma use_srq=1 srq_size=512'
assert_module target ours nvmet_rdma
check target '[ "$(cat /sys/module/nvmet_rdma/parameters/use_srq)" = Y ]'
for inline in 0 4096 16384; do
	progress "inline $inline: setup"
	check target target_simple "$nqn" param_inline_data_size=$inline
	check target 'nvmet_ns '"$nqn"' 2 "$(pci_nvme_ns)"'
	check host host_connect "$nqn"
	fio_verify_matrix "$nqn" "1 2" "$size" "inline $inline" 512 4k 16k 128k 1M
	on target "cat $dbg/srqs"
	# Every queue on an SRQ, and none counted a command it did not
	# receive through it.
	check target 'for f in '"$dbg"'/queues/*; do
		grep -qx "srq yes" $f || { echo "$f not on an SRQ"; cat $f; exit 1; }
		awk '\''$1 == "commands" {c = $2} $1 == "srq_receives" {r = $2}
			END {if (r == 0 || r < c) {print FILENAME ": commands " c ", srq_receives " r; exit 1}}'\'' $f
	done'
	check target "grep -q '^rxe0 inline $inline size 512 receives [1-9]' $dbg/srqs"
	echo "inline $inline: $(on target target_qstat srq_receives) SRQ receives"
	assert_inline_used "$inline"
	check host "nvme disconnect -n $nqn"
	check target nvmet_clear
	check target objects_zero
	check target "grep -qx 'srqs 0' $dbg/objects"
done
# A host that keeps to its queue depth is never taken for overflowing it,
# and no work completion failed.
check target 'grep -qx "sq_overflows 0" '"$dbg"'/objects && grep -qx "wc_errors 0" '"$dbg"'/objects ||
	{ cat '"$dbg"'/objects; exit 1; }'
