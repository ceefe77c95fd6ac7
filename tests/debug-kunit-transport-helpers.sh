#!/usr/bin/env bash
# KUnit: the transports' pure helpers (CM private data, SGL descriptors,
# queue depth negotiation, latency histogram; include/nvmeof_rdma_*.h)
# pass their KUnit tests on the debug kernel.  tests/kunit/ is built
# against the debug tree and loaded in a guest; its suites run at insmod.
# The verdicts come from /sys/kernel/debug/kunit/<suite>/results, the
# per-case results from the KTAP in the kernel log (debugfs keeps only 512
# bytes of each case's log, which a failing case can overflow).  First a
# build with NVMEOF_RDMA_KUNIT_FORCE_FAILURE=y is loaded: its one case that
# fails on purpose must be reported as failed, or this test could not fail.
# kernel: debug
# topology: one
# transport: rdma
# impl: intree/intree
# timeout: 300
# debug-timeout: 1800
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

suites="nvmeof_rdma_cm nvmeof_rdma_sgl nvmeof_rdma_depth nvmeof_rdma_stats"

[ "$KERNEL" = debug ] || skip "needs the debug kernel (CONFIG_KUNIT)"
[ -z "$VM_SETUP_ERROR" ] || fail "$VM_SETUP_ERROR"

# kunit_build DIR [MAKE VARS...]: the module and include/ side by side in
# DIR, built against the debug tree.
kunit_build() {
	local dir=$1
	shift
	mkdir -p "$dir/include"
	cp "$VM_ROOT"/tests/kunit/{Kbuild,nvmeof_rdma_kunit.c} "$dir/"
	cp "$VM_ROOT"/include/*.h "$VM_ROOT"/drivers/nvme/host/nvme_rdma_calc.h \
		"$dir/include/"
	make -C "$DEBUG_KERNEL_DIR/linux" M="$dir" W=1 "$@" modules > "$dir.log" 2>&1 ||
		fail "building nvmeof_rdma_kunit.ko failed (see $dir.log)"
}

progress "building nvmeof_rdma_kunit.ko against the debug kernel"
kunit_build "$RUN/kunit"
kunit_build "$RUN/kunit-forced" NVMEOF_RDMA_KUNIT_FORCE_FAILURE=y

# kunit_tally NAME: from $RUN/NAME-dmesg.log (KTAP in the kernel log) and
# $RUN/NAME-results.log (the debugfs results of each suite), print one
# line per suite, the failed cases, and "kunit: N passed, N failed, N
# skipped"; fail (return 1) on any failed case or suite, a suite that did
# not report or whose plan does not match the cases that ran.
kunit_tally() {
	awk -v suites="$suites" '
	FNR == 1 { file++ }
	file == 1 {
		sub(/^\[[ 0-9.]*\] /, "")
		if ($0 ~ /^    # Subtest: /) { cur = $3; seen[cur] = 1; next }
		if (cur != "" && $0 ~ /^    1\.\.[0-9]+$/) { split($1, a, /\.\./); plan[cur] = a[2] + 0; next }
		if (cur != "" && $0 ~ /^    (not )?ok [0-9]+ /) {
			ran[cur]++
			if ($1 == "not") { nf[cur]++; failed_cases = failed_cases " " cur "." $4 }
			else if ($0 ~ / # SKIP/) ns[cur]++
			else np[cur]++
		}
		next
	}
	/^(not )?ok 1 nvmeof_rdma_/ { verdict[$NF] = $1 == "not" ? "not ok" : "ok" }
	END {
		n = split(suites, s, " ")
		bad = 0
		for (i = 1; i <= n; i++) {
			x = s[i]
			if (!seen[x] || !(x in verdict)) {
				printf "%s: did not report\n", x; bad = 1; continue
			}
			printf "%s: %d passed, %d failed, %d skipped (plan %d, debugfs %s)\n",
				x, np[x], nf[x], ns[x], plan[x], verdict[x]
			if (ran[x] != plan[x] || plan[x] == 0 || nf[x] || verdict[x] != "ok")
				bad = 1
			tp += np[x]; tf += nf[x]; ts += ns[x]
		}
		if (failed_cases != "")
			printf "failed cases:%s\n", failed_cases
		printf "kunit: %d passed, %d failed, %d skipped\n", tp, tf, ts
		exit bad
	}' "$RUN/$1-dmesg.log" "$RUN/$1-results.log"
}

# run_kunit NAME: load /xfer/NAME.ko, keep its KTAP and results.
run_kunit() {
	local name=$1
	check host "dmesg -c > /dev/null; insmod /xfer/$name.ko"
	on host "for s in $suites; do cat /sys/kernel/debug/kunit/\$s/results || echo \"no results for \$s\"; done" \
		> "$RUN/$name-results.log" 2>&1
	on host dmesg > "$RUN/$name-dmesg.log"
	# A failed expectation is no splat, but keep the gate's input clean.
	check host 'rmmod nvmeof_rdma_kunit; dmesg -c > /dev/null'
}

boot
cp "$RUN/kunit/nvmeof_rdma_kunit.ko" "$(vm_dir host)/xfer/kunit.ko"
cp "$RUN/kunit-forced/nvmeof_rdma_kunit.ko" "$(vm_dir host)/xfer/forced.ko"

progress "KUnit, the build with a failing case: the harness must see it"
run_kunit forced
if kunit_tally forced > "$RUN/forced-tally.log"; then
	cat "$RUN/forced-tally.log"
	fail "a case failing on purpose (NVMEOF_RDMA_KUNIT_FORCE_FAILURE=y) went unnoticed"
fi
{ grep -q '^kunit: [0-9]* passed, 1 failed' "$RUN/forced-tally.log" &&
	grep -qx 'failed cases: nvmeof_rdma_stats.forced_failure' "$RUN/forced-tally.log"; } || {
	cat "$RUN/forced-tally.log"
	fail "the forced build should fail exactly nvmeof_rdma_stats.forced_failure (see $RUN/forced-*.log)"
}
echo "self-check: $(grep '^kunit:' "$RUN/forced-tally.log") in the forced build, as it must be"

progress "KUnit"
run_kunit kunit
kunit_tally kunit | tee "$RUN/kunit-tally.log"
[ "${PIPESTATUS[0]}" = 0 ] || fail "KUnit: $(grep '^kunit:' "$RUN/kunit-tally.log") (see $RUN/kunit-*.log)"
