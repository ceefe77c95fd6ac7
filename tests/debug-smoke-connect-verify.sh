#!/usr/bin/env bash
# The debug kernel (KASAN, lockdep, kmemleak; scripts/debug-kernel.sh)
# works in the harness: it boots, our host connects to our target over
# RDMA (both built against the debug tree), carries crc32c-verified data
# and disconnects with the KASAN/lockdep/kmemleak gate passing.  The first run on
# a machine builds the debug kernel (10-30 min on 2 cores); later runs and
# other clones reuse it.
# kernel: debug
# topology: one
# transport: rdma
# impl: ours/ours
# timeout: 3600
# debug-timeout: 3600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:debug-smoke
progress "make debug-modules (builds the debug kernel unless cached)"
make -C "$VM_ROOT" --no-print-directory debug-modules > "$RUN/build.log" 2>&1 ||
	fail "make debug-modules failed: $(tail -n 3 "$RUN/build.log" | tr '\n' ' ')"
boot
check host '
uname -r | grep -q -- -nvmeof-debug || { echo "not the debug kernel: $(uname -r)"; exit 1; }
[ -e /sys/kernel/debug/kmemleak ] || { echo "no kmemleak"; exit 1; }
grep -q "debug_locks: *1" /proc/lockdep_stats || { echo "lockdep is not on"; exit 1; }
'
check target target_simple "$nqn"
progress "connect"
check host host_connect "$nqn"
assert_module host "$HOST_IMPL" nvme_rdma
assert_module target "$TARGET_IMPL" nvmet_rdma
# The harness boots the debug kernel with nvme_core.multipath=N (lockdep).
check host '[ "$(cat /sys/module/nvme_core/parameters/multipath)" = N ]'
progress "fio verify"
check host 'FIO_SIZE=8M fio_verify $(host_ns '"$nqn"') --rw=randrw --bs=4k --iodepth=8'
progress "disconnect"
check host 'nvme disconnect -n '"$nqn"
check target nvmet_clear

check host '
for m in nvme_rdma nvmet_rdma; do
	vm=$(modinfo -F vermagic $m)
	[ "${vm%% *}" = "$(uname -r)" ] || { echo "$m vermagic \"$vm\" is not for $(uname -r)"; exit 1; }
done
'
# A lockdep report turns lockdep off: it must still be on.
check host 'grep -q "debug_locks: *1" /proc/lockdep_stats || { echo "lockdep turned itself off"; exit 1; }'
