#!/usr/bin/env bash
# Every backend the harness offers the target carries verified data: a
# memory-backed null_blk, the QEMU-emulated NVMe disk (driven by the guest's
# PCIe nvme driver), a file (buffered, on tmpfs) and a loop device, as four
# namespaces of one subsystem.
# topology: one
# transport: rdma
# impl: intree/intree intree/ours
# timeout: 900
# debug-env: FIO_SIZE=4M
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:backends
truncate -s 256M "$RUN/nvme0.img"
# shellcheck disable=SC2034,SC2054 # vm_boot reads it; the commas are QEMU's
TARGET_QEMU_ARGS=(-drive "file=$RUN/nvme0.img,if=none,id=nvm0,format=raw"
		  -device nvme,serial=nvmeofrdma0,drive=nvm0)
boot
check target '
nullblk_load
truncate -s 128M /tmp/ns-file.img
truncate -s 128M /tmp/ns-loop.img
modprobe loop
loop=$(losetup -f)
losetup "$loop" /tmp/ns-loop.img
nvmet_subsys '"$nqn"'
nvmet_ns '"$nqn"' 1 /dev/nullb0
nvmet_ns '"$nqn"' 2 "$(pci_nvme_ns)"
nvmet_ns '"$nqn"' 3 /tmp/ns-file.img buffered_io=1
nvmet_ns '"$nqn"' 4 "$loop"
nvmet_port 1 $TRANSPORT $TARGET_ADDR 4420
nvmet_link 1 '"$nqn"'
'
check host "host_connect $nqn"
for ns in 1 2 3 4; do
	progress "fio verify on namespace $ns"
	check host "FIO_SIZE=\${FIO_SIZE:-16M} fio_verify \$(host_ns $nqn $ns) --rw=randrw --bsrange=4k-128k --iodepth=8"
done
