#!/usr/bin/env bash
# Data integrity for every pairing of our and the in-tree host and target
# (the interop matrix), across the two-VM link: connect, then fio writes
# 4k-128k random blocks mixed with reads at QD16 and verifies every
# written block with crc32c.
# topology: two
# transport: rdma tcp
# impl: intree/intree intree/ours ours/intree ours/ours
# timeout: 900
# debug-env: FIO_SIZE=8M
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:fio-verify
boot_connected "$nqn"
[ "$TRANSPORT" = rdma ] && assert_module host "$HOST_IMPL" nvme_rdma
[ "$TRANSPORT" = rdma ] && assert_module target "$TARGET_IMPL" nvmet_rdma
progress "fio randrw verify"
check host 'fio_verify $(host_ns '"$nqn"') --rw=randrw --bsrange=4k-128k --iodepth=16 --output-format=json > /xfer/fio.json'
on host "jq -e '.jobs[0].error == 0 and .jobs[0].write.io_bytes > 0 and .jobs[0].read.io_bytes > 0' /xfer/fio.json" ||
	fail "fio reported an error or moved no data"
