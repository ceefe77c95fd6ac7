#!/usr/bin/env bash
# With remote_invalidate=0 our host asks for no SEND with Invalidate and
# invalidates every MR itself (LOCAL_INV) before completing: fio verify
# passes and the counters show local, never remote, invalidations.
# topology: one
# transport: rdma
# impl: ours/intree
# timeout: 900
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-localinv
boot
check target target_simple "$nqn"
check host "modprobe nvme-rdma remote_invalidate=0 && host_connect $nqn"
assert_module host ours nvme_rdma
progress "fio verify"
check host 'FIO_SIZE=8M fio_verify $(host_ns '"$nqn"') --rw=randrw --bsrange=4k-128k --iodepth=16'
check host '
stats=$(ls -d /sys/kernel/debug/nvme_rdma/nvme* | head -n 1)/stats
cat $stats
sum() { awk -v k=$1 '"'"'{ for (i = 1; i < NF; i++) if ($i == k) n += $(i + 1) } END { print n + 0 }'"'"' $stats; }
[ $(sum local_inv) -gt 0 ] && [ $(sum local_inv) = $(sum keyed) ] && [ $(sum remote_inv) = 0 ] &&
	[ $(sum bad_responses) = 0 ] && [ $(sum wc_errors) = 0 ]
'
