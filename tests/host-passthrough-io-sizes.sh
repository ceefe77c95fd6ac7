#!/usr/bin/env bash
# Passthrough I/O (nvme write / nvme read, one NVMe command each) around
# every transfer limit: 512 KiB and 1 MiB, each minus one block, exact and
# plus one block, at a start block that is not 4 KiB-aligned.  Up to
# 1 MiB (the host's max_hw_sectors, which the block device must report as
# 1024 KiB, and MDTS 8 of both targets) every command succeeds and reads
# back what was written; 1 MiB + 1 block is refused with EINVAL and leaves
# the blocks it named untouched.  Run with the in-tree host too, so that
# both hosts are held to the same outcome.
# topology: one
# transport: rdma
# impl: ours/ours ours/intree intree/ours
# timeout: 900
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:passthrough-sizes
boot
check target target_simple "$nqn"
check host "host_connect $nqn"
assert_module host "$HOST_IMPL" nvme_rdma

progress "max_hw_sectors_kb"
check host 'dev=$(host_ns '"$nqn"')
kb=$(cat /sys/block/${dev#/dev/}/queue/max_hw_sectors_kb)
echo "max_hw_sectors_kb $kb"
[ "$kb" = 1024 ]'

# Blocks of 512 B: 512 KiB and 1 MiB, each -1, exact and +1.
for blocks in 1023 1024 1025 2047 2048 2049; do
	bytes=$((blocks * 512))
	if [ $blocks -le 2048 ]; then
		progress "$blocks blocks ($bytes bytes): written and read back"
		check host 'dev=$(host_ns '"$nqn"')
head -c '$bytes' /dev/urandom > /tmp/in
nvme write $dev --start-block=511 --block-count='$((blocks - 1))' --data-size='$bytes' --data=/tmp/in
nvme read $dev --start-block=511 --block-count='$((blocks - 1))' --data-size='$bytes' --data=/tmp/out
cmp /tmp/in /tmp/out'
	else
		progress "$blocks blocks ($bytes bytes): refused, nothing written"
		check host 'dev=$(host_ns '"$nqn"')
dd if=$dev of=/tmp/before bs=512 skip=511 count='$blocks' iflag=direct status=none
head -c '$bytes' /dev/urandom > /tmp/in
if nvme write $dev --start-block=511 --block-count='$((blocks - 1))' --data-size='$bytes' --data=/tmp/in > /tmp/err 2>&1; then
	echo "write of '$bytes' bytes succeeded"; exit 1
fi
cat /tmp/err
grep -q "Invalid argument" /tmp/err
if nvme read $dev --start-block=511 --block-count='$((blocks - 1))' --data-size='$bytes' --data=/tmp/out > /tmp/err 2>&1; then
	echo "read of '$bytes' bytes succeeded"; exit 1
fi
cat /tmp/err
grep -q "Invalid argument" /tmp/err
dd if=$dev of=/tmp/after bs=512 skip=511 count='$blocks' iflag=direct status=none
cmp /tmp/before /tmp/after'
	fi
done

check host "host_disconnect_wait $nqn"
