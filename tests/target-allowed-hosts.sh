#!/usr/bin/env bash
# A subsystem of our target that allows one host only (attr_allow_any_host
# 0, one allowed_hosts link): that hostnqn connects and reads; another one
# is refused at once, target and host both say why in dmesg, and nothing is
# left half-connected (no controller of it on the host, no queue of it on
# the target); once allowed, the second hostnqn connects too.
# topology: one
# transport: rdma
# impl: intree/ours ours/ours
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:allowed-hosts
good=nqn.2024-01.io.nvmeof-rdma:host-allowed
bad=nqn.2024-01.io.nvmeof-rdma:host-refused
good_id=6b3e0c52-5d4c-4a8e-9a1e-3f0b8d7c2a01
bad_id=6b3e0c52-5d4c-4a8e-9a1e-3f0b8d7c2a02
boot
check target '
target_nullb '"$nqn"' 1 '"$good"'
a=$(cat $NVMET/subsystems/'"$nqn"'/attr_allow_any_host)
[ "$a" = 0 ] || { echo "attr_allow_any_host is $a"; exit 1; }
'
assert_module target ours nvmet_rdma

progress "the allowed hostnqn connects"
check host "host_connect $nqn --hostnqn=$good --hostid=$good_id"
assert_module host "$HOST_IMPL" nvme_rdma
check host '
c=$(host_ctrls '"$nqn"')
[ "$(cat /sys/class/nvme/$c/hostnqn)" = '"$good"' ] || { echo "$c: hostnqn $(cat /sys/class/nvme/$c/hostnqn)"; exit 1; }
dd if=$(host_ns '"$nqn"') of=/dev/null bs=4k count=256 iflag=direct status=none
'
queues=$(on target 'ls /sys/kernel/debug/nvmet_rdma/queues | wc -l')
echo "target queues of the allowed host: $queues"

# nvme-cli 2.3 would refuse the second hostnqn itself ("already
# connected"): fabrics_connect writes to /dev/nvme-fabrics directly.
progress "another hostnqn is refused"
check target dmesg_mark
check host '
rc=0
timeout 60 bash -c ". /xfer/guest/lib.sh; fabrics_connect '"$nqn hostnqn=$bad hostid=$bad_id"'" > /tmp/out 2>&1 || rc=$?
[ $rc != 0 ] || { echo "connect of an unlisted hostnqn succeeded"; exit 1; }
[ $rc != 124 ] || { echo "connect of an unlisted hostnqn hung"; exit 1; }
cat /tmp/out
c=$(host_ctrls '"$nqn"' | xargs)
[ "$(echo $c | wc -w)" = 1 ] || { echo "controllers after the refusal: $c"; exit 1; }
! grep -l '"$bad"' /sys/class/nvme/*/hostnqn || { echo "a controller of the refused host is left"; exit 1; }
'
check host 'dmesg | grep -q "Connect for subsystem '"$nqn"' is not allowed, hostnqn: '"$bad"'"'
check target '
dmesg_since > /tmp/dmesg-new
grep -q "connect by host '"$bad"' for subsystem '"$nqn"' not allowed" /tmp/dmesg-new ||
	{ echo "target did not say why:"; cat /tmp/dmesg-new; exit 1; }
wait_for 10 eval "[ \$(ls /sys/kernel/debug/nvmet_rdma/queues | wc -l) = '"$queues"' ]" ||
	{ echo "target queues: $(ls /sys/kernel/debug/nvmet_rdma/queues | wc -l), expected '"$queues"'"; exit 1; }
'
check host 'ctrl_state '"$nqn"' live && dd if=$(host_ns '"$nqn"') of=/dev/null bs=4k count=256 iflag=direct status=none'

progress "allowed now, the second hostnqn connects"
check target '
mkdir $NVMET/hosts/'"$bad"'
ln -s $NVMET/hosts/'"$bad"' $NVMET/subsystems/'"$nqn"'/allowed_hosts/'"$bad"'
'
check host "fabrics_connect $nqn hostnqn=$bad hostid=$bad_id"
check host '[ "$(host_ctrls '"$nqn"' | wc -l)" = 2 ]'
check host "host_disconnect_wait $nqn"
check target nvmet_clear
check target objects_zero
