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
