#!/usr/bin/env bash
# Test runner: every tests/*.sh (or those matching TESTS, a regular
# expression on the file name), once per variant it declares.
#
# Header lines a test declares (all optional):
#   # topology: one two        VM topologies to run in ("none" for no VM)
#   # transport: rdma tcp      TRANSPORT values
#   # impl: intree/intree      HOST_IMPL/TARGET_IMPL pairs
#   # timeout: 600             seconds before the test is killed
#   # kernel: debug            always run on the debug kernel (default: $KERNEL)
#   # debug: skip REASON       on the debug kernel: do not run, say why
#   # debug-env: FIO_SIZE=8M   on the debug kernel: run with these variables
#   # debug-timeout: 3600      on the debug kernel: seconds before the kill
#                              (default: timeout x DEBUG_TIMEOUT_SCALE, 10)
# TOPOLOGY, TRANSPORT, HOST_IMPL, TARGET_IMPL set in the environment replace
# what the tests declare; KERNEL=debian|debug picks the kernel the VMs boot.
# Results go to OUT (default build/results/DATE).
# Tests that boot guests take VM_LOCK (default /tmp/nvmeof-rdma-vm.lock)
# first: two TCG guests already fill this machine's two cores, and runs
# started side by side would only time each other out.  VM_LOCK=none skips it
# (a caller that holds it already, such as the benchmark).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
OUT=${OUT:-$root/build/results/$(date +%Y%m%d-%H%M%S)}
TESTS=${TESTS:-}
KERNEL=${KERNEL:-debian}
DEBUG_TIMEOUT_SCALE=${DEBUG_TIMEOUT_SCALE:-10}
VM_LOCK=${VM_LOCK:-/tmp/nvmeof-rdma-vm.lock}
case "$KERNEL" in
debian | debug) ;;
*) echo "unknown KERNEL=$KERNEL (debian|debug)"; exit 1 ;;
esac
mkdir -p "$OUT"
ln -sfn "$OUT" "$root/build/results/latest"

header() {	# header FILE KEY DEFAULT
	local v
	v=$(sed -n "s/^# $2:[[:space:]]*//p" "$1" | head -n 1)
	echo "${v:-$3}"
}

now() { date +%s.%N; }

passed=0 failed=0 skipped=0
declare -a failures=()

# run_one FILE NAME TOPO TRANSPORT HOSTIMPL TARGETIMPL TIMEOUT KERNEL [VAR=value...]
run_one() {
	local file=$1 name=$2 run t0 pid elapsed result reason next lockfd=
	run="$OUT/$(echo "$name" | tr ' /[]' '_-__' | sed 's/_*$//')"
	rm -rf "$run"
	mkdir -p "$run"
	if [ "$3" != none ] && [ "$VM_LOCK" != none ]; then
		exec {lockfd}>"$VM_LOCK"
		flock -n "$lockfd" || {
			echo "  ... $name: waiting for $VM_LOCK (another run has the VMs)"
			flock "$lockfd"
		}
	fi
	t0=$(now)
	env RUN="$run" TOPOLOGY="$3" TRANSPORT="$4" HOST_IMPL="$5" TARGET_IMPL="$6" \
		KERNEL="$8" "${@:9}" \
		timeout -k 30 "$7" bash "$file" > "$run/test.log" 2>&1 &
	pid=$!
	next=60
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		elapsed=$(printf '%.0f' "$(echo "$(now) - $t0" | bc)")
		if [ "$elapsed" -ge "$next" ]; then
			echo "  ... $name: ${elapsed}s, $(cat "$run/progress" 2>/dev/null)"
			next=$((next + 60))
		fi
	done
	wait "$pid"
	# Belt and braces: no guest outlives its test.
	for p in "$run"/vm-*/qemu.pid; do
		[ -s "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null
	done
	rm -f "$run"/*.img
	[ -z "${lockfd:-}" ] || { exec {lockfd}>&-; unset lockfd; }
	elapsed=$(printf '%.1f' "$(echo "$(now) - $t0" | bc)")
	result=$(cat "$run/result" 2>/dev/null || echo "FAIL: no result (killed after ${7}s?)")
	case "$result" in
	PASS*)
		echo "PASS $name (${elapsed}s)"
		passed=$((passed + 1))
		;;
	SKIP*)
		echo "SKIP $name: ${result#SKIP: }"
		skipped=$((skipped + 1))
		;;
	*)
		reason=${result#FAIL: }
		echo "FAIL $name: $reason (${elapsed}s)"
		echo "     log: $run/test.log"
		[ -s "$run/console-tail" ] && sed 's/^/     /' "$run/console-tail"
		tail -n 5 "$run/test.log" | sed 's/^/     | /'
		failed=$((failed + 1))
		failures+=("$name")
		;;
	esac
}

files=()
for f in tests/*.sh; do
	b=$(basename "$f" .sh)
	[ -z "$TESTS" ] || [[ $b =~ $TESTS ]] || continue
	files+=("$f")
done
# Tests pinned to the debug kernel go last: `make check` builds that kernel
# in the background meanwhile, on a machine that has none yet.
pinned=() rest=()
for f in "${files[@]}"; do
	if [ "$(header "$f" kernel "")" = debug ]; then pinned+=("$f"); else rest+=("$f"); fi
done
files=("${rest[@]}" "${pinned[@]}")
[ ${#files[@]} -gt 0 ] || { echo "no test matches TESTS='$TESTS'"; echo "0 passed, 0 failed, 0 skipped"; exit 1; }

echo "results: $OUT"
for f in "${files[@]}"; do
	b=$(basename "$f" .sh)
	topos=${TOPOLOGY:-$(header "$f" topology none)}
	trs=${TRANSPORT:-$(header "$f" transport rdma)}
	impls=$(header "$f" impl ours/ours)
	if [ -n "${HOST_IMPL:-}" ] || [ -n "${TARGET_IMPL:-}" ]; then
		impls="${HOST_IMPL:-${impls%%/*}}/${TARGET_IMPL:-${impls##*/}}"
	fi
	tmo=$(header "$f" timeout 900)
	kern=$(header "$f" kernel "$KERNEL")
	tag="" extra=()
	if [ "$kern" = debug ]; then
		tag=" debug"
		dbg=$(header "$f" debug "")
		if [[ $dbg == skip* ]]; then
			reason=${dbg#skip}
			echo "SKIP ${b}[debug]: not run on the debug kernel:${reason:- no reason given}"
			skipped=$((skipped + 1))
			continue
		fi
		read -r -a extra <<< "$(header "$f" debug-env "")"
		tmo=$(header "$f" debug-timeout $((tmo * DEBUG_TIMEOUT_SCALE)))
	fi
	for topo in $topos; do
		if [ "$topo" = none ]; then
			run_one "$f" "$b${tag:+[${tag# }]}" none none none none "$tmo" "$kern" "${extra[@]}"
			continue
		fi
		for tr in $trs; do
			# The implementation pair only selects RDMA modules:
			# over TCP one run says all there is to say.
			[ "$tr" = rdma ] && ti=$impls || ti=${impls%% *}
			for impl in $ti; do
				run_one "$f" "${b}[$topo $tr ${impl}$tag]" "$topo" "$tr" \
					"${impl%%/*}" "${impl##*/}" "$tmo" "$kern" "${extra[@]}"
			done
		done
	done
done

echo
[ $failed -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
