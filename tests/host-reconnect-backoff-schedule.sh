#!/usr/bin/env bash
# The reconnect schedule after the target's port went away for good,
# with reconnect_delay 1 s and ctrl_loss_tmo 12 s.  With the default
# reconnect_backoff_max (4) the host must log "reconnect attempt N/5 in
# X ms" with X doubling from 1 s up to 4 s (each plus at most a quarter
# of jitter: 1000-1250, 2000-2500, 4000-5000 ms, the last attempt brought
# forward to the deadline), then give up ("no reconnect after N
# attempts") and remove the controller right after ctrl_loss_tmo, not
# later because the delays grew and not before its last attempt.  With
# reconnect_backoff_max=1 every delay is 1000-1250 ms and the log says
# N/12.  Values outside 1-64 are refused with a message naming them and
# leave the parameter as it was.
# topology: one
# transport: rdma
# impl: ours/intree
# timeout: 600
# shellcheck disable=SC2016 # single-quoted commands are expanded in the guest
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

nqn=nqn.2024-01.io.nvmeof-rdma:host-backoff
param=/sys/module/nvme_rdma/parameters/reconnect_backoff_max
boot
check target target_simple "$nqn"
check host "host_connect $nqn --reconnect-delay=1 --ctrl-loss-tmo=12"
assert_module host ours nvme_rdma
check host "[ \"\$(cat $param)\" = 4 ]"

progress "bad reconnect_backoff_max values refused"
for bad in 0 65 -1 abc; do
	expect_fail host "echo $bad > $param"
	check host "dmesg | grep -q 'reconnect_backoff_max $bad refused: must be 1-64'"
done
check host "[ \"\$(cat $param)\" = 4 ]"

# lose_port MAX MIN DELAY...: remove the port, wait for the controller to
# go, and check the logged schedule: attempts N/MAX, each of the DELAYs
# (ms, plus at most a quarter; the last attempt's may be cut short to the
# deadline) for as many attempts as were made, at least MIN and at most
# MAX attempts (jitter and the attempts' own time may leave no room for
# all the schedule has), and removal no earlier than ctrl_loss_tmo
# (12 s) and within the slack of one attempt after it.
lose_port() {
	local max=$1 min=$2
	shift 2
	check host "dmesg_mark"
	check target "rm \$NVMET/ports/1/subsystems/$nqn && rmdir \$NVMET/ports/1"
	check host '
start=${EPOCHREALTIME/./}
wait_for 60 host_gone '"$nqn"' ||
	{ echo "controller still there after 60 s"; dmesg_since | tail -n 20; exit 1; }
ms=$(((${EPOCHREALTIME/./} - start) / 1000))
dmesg_since | grep -E "reconnect attempt|no reconnect" | tee /tmp/schedule
echo "controller removed after $ms ms"
[ $ms -ge 11500 ] && [ $ms -le 15000 ] || { echo "removed after $ms ms, ctrl_loss_tmo is 12 s"; exit 1; }
k=$(sed -n "s/.*no reconnect after \([0-9]*\) attempts.*/\1/p" /tmp/schedule)
[ -n "$k" ] && [ $k -ge '"$min"' ] && [ $k -le '"$max"' ] ||
	{ echo "gave up after ${k:-?} attempts, expected '"$min"'-'"$max"'"; exit 1; }
[ $(grep -c "reconnect attempt [0-9]*/" /tmp/schedule) = $k ] ||
	{ echo "attempts logged differ from the $k counted"; exit 1; }
n=0
for want in '"$*"'; do
	n=$((n + 1))
	[ $n -le $k ] || break
	line=$(grep -o "reconnect attempt $n/'"$max"' in [0-9]* ms" /tmp/schedule) ||
		{ echo "no attempt $n/'"$max"' logged"; exit 1; }
	x=${line% ms}; x=${x##* }
	lo=$want
	[ $n -lt $k ] || lo=0
	[ $x -ge $lo ] && [ $x -le $((want + want / 4)) ] ||
		{ echo "attempt $n: $x ms, expected $lo-$((want + want / 4))"; exit 1; }
done
'
}

# Scheduled starts 1, 3, 7, 11 and 12 s (brought forward); with jitter
# and the attempts' own time the fourth may already be the one at 12 s.
progress "backoff up to 4x: 1, 2, 4, 4 s"
lose_port 5 4 1000 2000 4000 4000 4000

progress "reconnect_backoff_max=1: a fixed 1 s"
check host "echo 1 > $param && [ \"\$(cat $param)\" = 1 ]"
check target "nvmet_port 1 rdma \$TARGET_ADDR 4420 && nvmet_link 1 $nqn"
check host "host_connect $nqn --reconnect-delay=1 --ctrl-loss-tmo=12"
# Twelve starts fit without jitter; with up to 250 ms each and the
# attempts' own time, at least eight.
lose_port 12 8 1000 1000 1000 1000 1000 1000 1000 1000
