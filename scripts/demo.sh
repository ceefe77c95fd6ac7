#!/usr/bin/env bash
# make demo: two VMs joined by soft-RoCE, a target serving a null_blk
# namespace, a host connected to it over NVMe/RDMA, a few short fio runs,
# and a summary of what ran and how fast.
#
# Runs our host against our target; HOST_IMPL/TARGET_IMPL=intree and
# TRANSPORT=tcp give the baselines.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export RUN=${RUN:-$root/build/demo}
export TOPOLOGY=two TRANSPORT=${TRANSPORT:-rdma}
export HOST_IMPL=${HOST_IMPL:-ours} TARGET_IMPL=${TARGET_IMPL:-ours}
export DEMO_SECONDS=${DEMO_SECONDS:-10}
rm -rf "$RUN"
mkdir -p "$RUN"

(
. "$root/scripts/lib/test.sh"
nqn=nqn.2024-01.io.nvmeof-rdma:demo

echo "demo: booting target (198.18.0.1) and host (198.18.0.2) VMs under QEMU TCG..."
boot
echo "demo: target: null_blk (memory backed) as namespace 1 of $nqn on $TRANSPORT port 4420"
check target "target_simple $nqn"
echo "demo: host: nvme discover + nvme connect -t $TRANSPORT"
check host "modprobe nvme-fabrics; nvme discover -t $TRANSPORT -a $TARGET_ADDR -s 4420 | grep -E '^(trtype|subnqn|traddr)'"
check host "host_connect $nqn"
on host "nvme list-subsys" | sed 's/^/    /'

mods="host: $(on host "module_desc nvme_$TRANSPORT"), target: $(on target "module_desc nvmet_$TRANSPORT")"

run_fio() {	# run_fio NAME fio-args...
	local name=$1
	shift
	echo "demo: fio $name (${DEMO_SECONDS}s)"
	check host "fio --name=$name --filename=\$(host_ns $nqn) --direct=1 --ioengine=libaio \
		--time_based --runtime=$DEMO_SECONDS --ramp_time=2 --output-format=json $* > /xfer/$name.json"
}
run_fio verify-4k-128k --rw=randwrite --bsrange=4k-128k --iodepth=16 --size=16M \
	--verify=crc32c --verify_fatal=1 --do_verify=1 --time_based=0 --runtime=0
run_fio randread-4k-qd1 --rw=randread --bs=4k --iodepth=1
run_fio randread-4k-qd32 --rw=randread --bs=4k --iodepth=32
run_fio read-128k-qd16 --rw=read --bs=128k --iodepth=16

x=$RUN/vm-host/xfer
{
	echo
	echo "nvmeof-rdma demo: $TRANSPORT, two VMs (QEMU TCG, rxe over UDP), null_blk target"
	echo "modules: $mods"
	printf '%-22s %10s %12s %12s\n' profile IOPS "mean lat" bandwidth
	for p in randread-4k-qd1 randread-4k-qd32 read-128k-qd16; do
		jq -r --arg p "$p" '.jobs[0].read |
			[$p, (.iops | floor), ((.lat_ns.mean / 1000) | floor | tostring) + " us",
			 ((.bw_bytes / 1048576 * 10 | floor) / 10 | tostring) + " MiB/s"] | @tsv' "$x/$p.json"
	done | awk -F'\t' '{printf "%-22s %10s %12s %12s\n", $1, $2, $3, $4}'
	jq -r '"data verification (crc32c, 4k-128k random writes): " +
		(if .jobs[0].error == 0 then "OK" else "FAILED" end)' "$x/verify-4k-128k.json"
	echo "timings under TCG are only comparable as ratios within one run (see make bench)"
} | tee "$RUN/summary.txt"
)
rc=$?
echo "demo: $(cat "$RUN/result" 2>/dev/null || echo "FAIL: no result") (logs in $RUN)"
exit $rc
