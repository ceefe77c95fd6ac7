#!/usr/bin/env bash
# A reconnect that the controller refuses with Do Not Retry (our host was
# removed from the subsystem's allowed hosts) removes the controller at
# once instead of retrying until ctrl_loss_tmo.
# topology: one
# transport: rdma
# impl: ours/intree
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-dnr
boot
check target 'target_nullb '"$nqn"' 1 $(cat /etc/nvme/hostnqn)'
check host "host_connect $nqn --reconnect-delay=1 --ctrl-loss-tmo=600"
assert_module host ours nvme_rdma
progress "revoke the host, reset"
check target 'rm $NVMET/subsystems/'"$nqn"'/allowed_hosts/*'
check host '
# The reset itself reports failure: the controller does not come back.
nvme reset /dev/$(host_ctrls '"$nqn"') || true
wait_for 30 host_gone '"$nqn"' || { echo "controller still there 30 s after the refused reconnect"; dmesg | grep nvme; exit 1; }
dmesg | grep -q "do not retry" || { echo "no do-not-retry message"; dmesg | grep nvme; exit 1; }
[ "$(dmesg | grep -c "reconnect attempt [0-9]*/")" -le 1 ] || { echo "kept reconnecting"; exit 1; }
'
