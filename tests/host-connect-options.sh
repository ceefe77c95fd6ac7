#!/usr/bin/env bash
# Connect options reach our host: queue_size and nr_io_queues show in
# sysfs, an oversized queue_size is clamped with a message; hostnqn,
# hostid, host_traddr and the recovery timers show in sysfs, tos and
# keep_alive_tmo are accepted, the same connection twice is refused unless
# duplicate_connect asks for a second controller; and invalid
# values (bad address, queue_size below the fabrics minimum, unknown
# option) are refused at once without leaving a controller behind.
# topology: one
# transport: rdma
# impl: ours/intree ours/ours
# timeout: 900
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-opts
boot
check target target_simple "$nqn"

# ctrl_of: the one controller of our subsystem.
ctrl_of='c=/sys/class/nvme/$(host_ctrls '"$nqn"')'

progress "queue_size=32 nr_io_queues=1"
check host "host_connect $nqn --queue-size=32 --nr-io-queues=1"
assert_module host ours nvme_rdma
check host "$ctrl_of"'
[ "$(cat $c/sqsize)" = 31 ] || { echo "sqsize $(cat $c/sqsize)"; exit 1; }
[ "$(cat $c/queue_count)" = 2 ] || { echo "queue_count $(cat $c/queue_count)"; exit 1; }
'
check host "host_disconnect_wait $nqn"

progress "queue_size=1024 is clamped"
check host "dmesg_mark; host_connect $nqn --queue-size=1024"
check host "$ctrl_of"'
sq=$(cat $c/sqsize)
[ $sq -lt 1023 ] && [ $sq -ge 127 ] || { echo "sqsize $sq"; exit 1; }
dmesg_since | grep -q "using $((sq + 1))" || { echo "no clamp message"; dmesg_since | tail; exit 1; }
dd if=$(host_ns '"$nqn"') of=/dev/null bs=4k count=256 iflag=direct 2>/dev/null
'
check host "host_disconnect_wait $nqn"

progress "hostnqn, hostid, host_traddr, tos, timers, duplicate_connect"
check host '
hid=5eed0000-0000-4000-8000-000000000001
hn=nqn.2014-08.org.nvmexpress:uuid:$hid
same="hostnqn=$hn hostid=$hid host_traddr=$TARGET_ADDR"
fabrics_connect '"$nqn"' $same tos=32 keep_alive_tmo=7 reconnect_delay=3 ctrl_loss_tmo=33 fast_io_fail_tmo=5
c=/sys/class/nvme/$(host_ctrls '"$nqn"')
want() { [ "$(cat $c/$1)" = "$2" ] || { echo "$1: $(cat $c/$1), want $2"; exit 1; }; }
want hostnqn $hn
want hostid $hid
want reconnect_delay 3
want ctrl_loss_tmo 33
want fast_io_fail_tmo 5
grep -q "host_traddr=$TARGET_ADDR" $c/address || { echo "address: $(cat $c/address)"; exit 1; }
! fabrics_connect '"$nqn"' $same 2> /dev/null || { echo "the same connection was accepted twice"; exit 1; }
[ "$(host_ctrls '"$nqn"' | wc -l)" = 1 ]
fabrics_connect '"$nqn"' $same duplicate_connect
[ "$(host_ctrls '"$nqn"' | wc -l)" = 2 ] || { echo "duplicate_connect: $(host_ctrls '"$nqn"')"; exit 1; }
'
check host "host_disconnect_wait $nqn"

progress "invalid values are refused"
check host '
modprobe nvme-fabrics
try() {
	local start=$SECONDS rc=0
	timeout 60 nvme connect -t rdma -n '"$nqn"' "$@" > /tmp/out 2>&1 || rc=$?
	[ $rc != 0 ] || { echo "accepted: $*"; exit 1; }
	[ $rc != 124 ] || { echo "hung: $*"; exit 1; }
	echo "refused in $((SECONDS - start)) s: $*"
	[ -z "$(ls /sys/class/nvme-subsystem 2>/dev/null)" ] || { echo "controller left by $*"; exit 1; }
}
try -a not-an-address -s 4420
try -a $TARGET_ADDR -s 4420 --queue-size=8
try -a $TARGET_ADDR -s 4999
try -a 198.18.0.254 -s 4420
'
