# shellcheck shell=bash
# Harness side of the fault-injection tests (tests/debug-fault-inject-*.sh),
# sourced after scripts/lib/test.sh.  Their guest side is guest.sh here.

# known_reports PHASE: take the guest's kernel log, set aside the reports
# that fault injection makes by design, fail on anything else the dmesg
# gate would catch, then clear the log (the harness gates what follows).
# By design: the allocation-failure warning of an allocation without
# __GFP_NOWARN ("vmalloc error:" or "page allocation failure:" with
# warn_alloc's stack trace: rxe's vmalloc_user() of a QP's queue is one),
# and, from fail_function only, lockdep's "inconsistent lock state" on
# base_crng.lock: 6.1's should_fail_ex() draws prandom_u32_max() for the
# probability inside the kprobe's int3 handler, which lockdep counts as
# NMI context (fixed upstream after 6.1 by using prandom there).  That one
# turns lockdep off for the rest of the boot, so it is the last phase.
known_reports() {
	local log=$RUN/dmesg-$1.log
	on host dmesg > "$log"
	awk -v known="$RUN/known-$1.log" '
	/vmalloc error:|page allocation failure:|WARNING: inconsistent lock state/ {
		inblk = 1; blk = $0; next
	}
	inblk {
		blk = blk "\n" $0
		if ($0 !~ /^ <\/TASK>$/)
			next
		inblk = 0
		if (blk ~ /warn_alloc/ && blk ~ /(vmalloc error|page allocation failure):/ ||
		    blk ~ /inconsistent lock state/ && blk ~ /base_crng\.lock/ &&
		    blk ~ /should_fail_ex/ && blk ~ /fei_kprobe_handler/) {
			print blk > known
			print "---" > known
		} else
			print blk
		next
	}
	{ print }
	END { if (inblk) print blk }' "$log" > "$RUN/rest-$1.log"
	if dmesg_gate "$RUN/rest-$1.log" > "$RUN/gate-$1.log"; then
		fail "dmesg gate after $1: $(head -n 1 "$RUN/gate-$1.log") (see $log)"
	fi
	touch "$RUN/known-$1.log"
	echo "$1: $(grep -c '^---$' "$RUN/known-$1.log" || true) report(s) by design set aside (see $RUN/known-$1.log)"
	check host 'dmesg -c > /dev/null'
}

# failslab_sweep WHAT CMD POINTS: run CMD in the host VM (a guest.sh
# function with its sourcing prefix, taking N) with no allocation failed
# to count the slab allocations WHAT makes in its own context, then once
# for each of POINTS values of N spread over them, failing the Nth.
# CMD N prints "N failed" or "N tolerated"; at least one injected failure
# must surface.
failslab_sweep() {
	local what=$1 cmd=$2 points=$3 out total n k nfail=0 ntol=0
	progress "failslab: counting the allocations of $what"
	out=$(on host "$cmd 1000000") || fail "unfailed $what: $out"
	echo "$out"
	total=$(echo "$out" | sed -n 's/^1000000 beyond \([0-9]*\)$/\1/p')
	if [ -z "$total" ] || [ "$total" -eq 0 ]; then
		fail "cannot count the allocations of $what: $out"
	fi
	echo "$what makes $total slab allocations in its own context"
	[ "$points" -le "$total" ] || points=$total
	for ((k = 0; k < points; k++)); do
		n=$((1 + k * total / points))
		progress "failslab: allocation $n of $total"
		out=$(on host "$cmd $n") || fail "failslab, allocation $n of $total: $out"
		echo "$out"
		case "$out" in
		*"$n failed"*) nfail=$((nfail + 1)) ;;
		*"$n tolerated"*) ntol=$((ntol + 1)) ;;
		esac
	done
	echo "failslab: $points points, $nfail failed, $ntol tolerated the failure"
	[ "$nfail" -gt 0 ] || fail "no injected allocation failure made $what fail"
}

# verify_uninjected NQN PREFIX: with injection off (PREFIX: the guest.sh
# sourcing prefix), a connect to NQN carries crc32c-verified data,
# disconnects, and leaves nothing behind.
verify_uninjected() {
	progress "injection off: connect, fio verify, disconnect"
	check host "$2; fault_off"
	check host host_connect "$1" -i 1
	# shellcheck disable=SC2016 # host_ns is expanded in the guest
	check host 'FIO_SIZE=4M fio_verify $(host_ns '"$1"') --rw=randrw --bs=4k --iodepth=8'
	check host "nvme disconnect -n $1"
	check host "$2; settle"
}
