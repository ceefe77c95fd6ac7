#!/usr/bin/env bash
# rmmod nvme-rdma with controllers connected deletes them, as
# `nvme disconnect-all` would, and unloads; under fio it does the same and
# fio ends instead of hanging.  (nvme-fabrics holds no module reference
# for a live controller; only an open namespace of a controller without
# multipath does, and then rmmod is refused with "in use": what the test
# checks instead on the debug kernel, which boots with multipath=N.)
# topology: one
# transport: rdma
# impl: ours/intree
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-rmmod
boot
check target target_simple "$nqn"

progress "idle controllers"
check host "host_connect $nqn && fabrics_connect $nqn duplicate_connect"
assert_module host ours nvme_rdma
check host '[ $(ls -d /sys/class/nvme/nvme* | wc -l) = 2 ]'
check host 'timeout 60 rmmod nvme_rdma || { echo "rmmod failed or hung (rc $?)"; exit 1; }'
check host '[ ! -d /sys/module/nvme_rdma ] && [ -z "$(ls /sys/class/nvme 2>/dev/null)" ]'

progress "under I/O"
check host "host_connect $nqn"
assert_module host ours nvme_rdma
load_start "$nqn"
check host '
if [ "$(cat /sys/module/nvme_core/parameters/multipath)" != Y ]; then
	# The debug kernel boots with multipath=N: fio holds our module
	# through the namespace, so rmmod must be refused, changing nothing.
	# fio may need more than the 5 s of load_start to open it there.
	wait_for 60 sh -c "[ \$(cat /sys/module/nvme_rdma/refcnt) -gt 0 ]"
	if rmmod nvme_rdma 2> /tmp/rmmod.err; then
		echo "rmmod succeeded while fio held a namespace"; exit 1
	fi
	# kmod says "in use", busybox passes on EWOULDBLOCK.
	grep -qE "in use|temporarily unavailable" /tmp/rmmod.err || { cat /tmp/rmmod.err; exit 1; }
	ctrl_state '"$nqn"' live
	fio_signal TERM
	wait_for 30 sh -c "! pidof fio"
fi
timeout 60 rmmod nvme_rdma || { echo "rmmod failed or hung (rc $?)"; exit 1; }
wait_for 20 host_gone '"$nqn"'
'
rc=0
on_wait host "$LOAD" 60 > /dev/null || rc=$?
[ $rc = 124 ] && fail "fio still running 60 s after rmmod"
check host '[ -z "$(pidof fio)" ]'
