#!/usr/bin/env bash
# The benchmark keeps working: `make bench QUICK=1` (scripts/bench.sh, one
# round, short cells, a subset of the profiles) runs to the end and its
# results.json, results.md and plots hold every implementation and
# profile with nonzero numbers.  No timing is asserted: under TCG the
# numbers only mean something as ratios within one full run.
# The runner takes no VM slot for topology none: bench.sh takes them all
# itself, and "slots: all" keeps the runner from starting others meanwhile.
# slots: all
# topology: none
# timeout: 2400
# debug: skip the benchmark measures the Debian kernel only
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

out=$RUN/bench
progress "QUICK benchmark (waits for the VM slots, then ~5 min)"
QUICK=1 BENCH_OUT=$out KERNEL=debian "$VM_ROOT/scripts/bench.sh" > "$RUN/bench.log" 2>&1 ||
	fail "scripts/bench.sh QUICK=1 failed: $(grep -m1 -E 'FAIL|rror' "$RUN/bench.log" || tail -n 1 "$RUN/bench.log")"

for f in results.json results.md latency-qd1.png iops-4k.png bw-128k.png; do
	[ -s "$out/$f" ] || fail "$f missing or empty"
done
for f in "$out"/*.png; do
	[ "$(head -c 4 "$f" | tail -c 3)" = PNG ] || fail "${f##*/} is not a PNG"
done

# Every implementation and profile the run declares, with positive
# numbers: the headline metric, its min-max and the CPU time per I/O.
. "$out/params.env"
j=$out/results.json
for t in ib_send_lat ib_read_lat ib_write_lat ib_write_bw ib_read_bw; do
	jq -e --arg t "$t" '.raw_rdma[$t] | .median > 0 and .min > 0' "$j" > /dev/null ||
		fail "perftest $t: no positive result in results.json"
	grep -q "| $t |" "$out/results.md" || fail "perftest $t missing from results.md"
done
for cfg in nj1 nj2; do
	if [ $cfg = nj1 ]; then profs=$PROFILES1 impls=$IMPLS1; else profs=$PROFILES2 impls=$IMPLS2; fi
	for p in $profs; do
		grep -q "^| $p |" "$out/results.md" || fail "$cfg $p missing from results.md"
		for i in $impls; do
			[ "$i" = raw ] && continue
			jq -e --arg c "$cfg" --arg p "$p" --arg i "$i" '.configs[$c].profiles[$p].impls[$i] |
				.median > 0 and .min > 0 and .max >= .median and
				.cpu_us_per_io.median > 0 and (.cells | length) == '"$ROUNDS" "$j" > /dev/null ||
				fail "$cfg $p $i: missing or non-positive in results.json"
		done
		jq -e --arg c "$cfg" --arg p "$p" '.configs[$c].profiles[$p].ratios |
			."ours/intree" > 0 and ."ours/tcp" > 0 and ."ours'"'"'/ours" > 0' "$j" > /dev/null ||
			fail "$cfg $p: ratios missing"
	done
done
for n in "local null_blk" ours "ours' (A/A)" "in-tree rdma" "in-tree tcp"; do
	grep -qF "| $n |" "$out/results.md" || fail "column $n missing from results.md"
done
jq -e '.fabric_overhead_qd1["randread-4k-qd1"].ours.rtt_multiple | . != null' "$j" > /dev/null ||
	fail "fabric overhead of ours at QD1 missing"
# Which module each implementation loaded was asserted in the guests
# (module_is); the log records it.
for m in 'nvme_rdma ours' 'nvme_rdma in-tree' 'nvmet_rdma ours' 'nvmet_rdma in-tree' 'nvme_tcp in-tree'; do
	grep -q "$m" "$RUN/bench.log" || fail "bench.log does not show $m loaded"
done
