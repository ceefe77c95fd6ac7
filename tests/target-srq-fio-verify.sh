#!/usr/bin/env bash
# Data integrity through our target with use_srq=1: every queue is created
# on the device's shared receive queue, fio writes and verifies (crc32c)
# 4k, 128k and 1M blocks at QD1 and QD32 with in-capsule data off and at
# 16 KiB, and debugfs shows every command of every queue arriving through
# the SRQ (srq_receives >= commands, > 0), one SRQ per in-capsule size,
# all freed once the host is gone.
# topology: one
# transport: rdma
# impl: intree/ours ours/ours
# timeout: 900
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:srq-verify
size=${FIO_SIZE:-4M}
dbg=/sys/kernel/debug/nvmet_rdma
boot
check target 'modprobe nvmet && modprobe nvmet-rdma use_srq=1 srq_size=512'
assert_module target ours nvmet_rdma
check target '[ "$(cat /sys/module/nvmet_rdma/parameters/use_srq)" = Y ]'
for inline in 0 16384; do
	progress "inline $inline: setup"
	check target target_simple "$nqn" param_inline_data_size=$inline
	check host host_connect "$nqn"
	fio_write_matrix "$nqn" "$size" "inline $inline" 4k 128k 1M
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
