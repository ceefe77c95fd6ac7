#!/usr/bin/env bash
# Our two modules load and unload 20 times in a row with nothing left
# behind: no module, no refcount, no registered transport, no dmesg splat.
# topology: one
# transport: rdma
# impl: ours/ours
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

boot
check host '
for i in $(seq 20); do
	modprobe nvme-rdma
	modprobe nvmet-rdma
	module_is ours nvme_rdma
	module_is ours nvmet_rdma
	rmmod nvme_rdma nvmet_rdma
	for m in nvme_rdma nvmet_rdma; do
		[ ! -e /sys/module/$m ] || { echo "round $i: $m still present"; exit 1; }
	done
done
modinfo -F version nvme-rdma nvmet-rdma
'
