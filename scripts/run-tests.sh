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
#   # debug: always            on the debug kernel: run even the variants
#                              without our modules (the gate's own tests)
#   # debug-env: FIO_SIZE=8M   on the debug kernel: run with these variables
#   # debug-timeout: 3600      on the debug kernel: seconds before the kill
#                              (default: timeout x DEBUG_TIMEOUT_SCALE, 10)
# On the debug kernel, variants with none of our modules (TCP, in-tree
# against in-tree) are skipped unless DEBUG_BASELINES=1, and a test runs
# in one variant: the one-VM topology and ours/ours where it declares them
# among others (DEBUG_FULL=1 runs its whole matrix).
# TOPOLOGY, TRANSPORT, HOST_IMPL, TARGET_IMPL set in the environment replace
# what the tests declare; KERNEL=debian|debug picks the kernel the VMs boot.
# Results go to OUT (default build/results/DATE).
#   # slots: all              needs the whole machine although it boots no VM
#                              itself (the benchmark, which takes the VM slots)
# Tests run side by side, as many as the machine has VM slots (VM_SLOTS,
# default nproc; scripts/lib/vmlock.sh): a one-VM test takes one slot, a
# two-VM test all of them, because a TCG guest keeps one core busy and more
# guests than cores only time each other out.  The slots are machine-wide
# flocks (VM_LOCK, default /tmp/nvmeof-rdma-vm.lock), so runs started from
# several clones share them; VM_LOCK=none takes none (a caller that holds
# them already).  Results print in completion order.
# The braces make bash read the whole script before running it: a checkout
# edited or updated during a run does not change the run midway.
{
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
OUT=${OUT:-$root/build/results/$(date +%Y%m%d-%H%M%S)}
TESTS=${TESTS:-}
KERNEL=${KERNEL:-debian}
DEBUG_TIMEOUT_SCALE=${DEBUG_TIMEOUT_SCALE:-10}
. "$root/scripts/lib/vmlock.sh"
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

# run_one FILE NAME TOPO TRANSPORT HOSTIMPL TARGETIMPL TIMEOUT KERNEL SLOTS [VAR=value...]
# Runs in the background: what it has to say goes to $run/summary, which
# the main loop prints when it ends (progress lines go straight out).
run_one() {
	local file=$1 name=$2 run t0 pid elapsed result reason next
	run=$(run_dir "$name")
	rm -rf "$run"
	mkdir -p "$run"
	# Topology none boots nothing, or takes the slots itself (bench).
	[ "$3" = none ] || vm_slots_take "$9" "$name"
	t0=$(now)
	env RUN="$run" TOPOLOGY="$3" TRANSPORT="$4" HOST_IMPL="$5" TARGET_IMPL="$6" \
		KERNEL="$8" "${@:10}" \
		timeout -k 30 "$7" bash "$file" > "$run/test.log" 2>&1 &
	pid=$!
	# A run stopped by a signal stops its tests the way a timeout does,
	# so that they tear their VMs down ("timeout" runs the test in a
	# process group of its own, out of reach of a signal to ours).
	trap 'kill -TERM "$pid" 2> /dev/null' TERM INT
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
	vm_slots_release
	elapsed=$(printf '%.1f' "$(echo "$(now) - $t0" | bc)")
	result=$(cat "$run/result" 2>/dev/null || echo "FAIL: no result (killed after ${7}s?)")
	case "$result" in
	PASS*) echo "PASS $name (${elapsed}s)" ;;
	SKIP*) echo "SKIP $name: ${result#SKIP: }" ;;
	*)
		reason=${result#FAIL: }
		echo "FAIL $name: $reason (${elapsed}s)"
		echo "     log: $run/test.log"
		[ -s "$run/console-tail" ] && sed 's/^/     /' "$run/console-tail"
		tail -n 5 "$run/test.log" | sed 's/^/     | /'
		;;
	esac > "$run/summary"
}

run_dir() { echo "$OUT/$(echo "$1" | tr ' /[]' '_-__' | sed 's/_*$//')"; }

# The job list: one line per run, its run_one arguments shell-quoted.
jobs=()
add_job() { jobs+=("$(printf '%q ' "$@")"); }

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
preskip=()
for f in "${files[@]}"; do
	b=$(basename "$f" .sh)
	topos=${TOPOLOGY:-$(header "$f" topology none)}
	trs=${TRANSPORT:-$(header "$f" transport rdma)}
	impls=$(header "$f" impl ours/ours)
	if [ -n "${HOST_IMPL:-}" ] || [ -n "${TARGET_IMPL:-}" ]; then
		impls="${HOST_IMPL:-${impls%%/*}}/${TARGET_IMPL:-${impls##*/}}"
	fi
	tmo=$(header "$f" timeout 900)
	slots=$(header "$f" slots 1)
	kern=$(header "$f" kernel "$KERNEL")
	tag="" extra=() dbg="" dtopo="" dimpl=""
	if [ "$kern" = debug ]; then
		# The same code of ours runs in every variant; on a kernel this
		# slow one boot that loads both modules finds its memory and
		# lock bugs, and the matrix is the Debian run's business.
		if [ "${DEBUG_FULL:-0}" != 1 ]; then
			[ -n "${TOPOLOGY:-}" ] || [[ " $topos " != *" one "* ]] ||
				dtopo=one
			[ -n "${HOST_IMPL:-}${TARGET_IMPL:-}" ] ||
				[[ " $impls " != *" ours/ours "* ]] || dimpl=ours/ours
		fi
		tag=" debug"
		dbg=$(header "$f" debug "")
		if [[ $dbg == skip* ]]; then
			reason=${dbg#skip}
			preskip+=("SKIP ${b}[debug]: not run on the debug kernel:${reason:- no reason given}")
			continue
		fi
		read -r -a extra <<< "$(header "$f" debug-env "")"
		tmo=$(header "$f" debug-timeout $((tmo * DEBUG_TIMEOUT_SCALE)))
	fi
	for topo in $topos; do
		if [ "$topo" = none ]; then
			add_job "$f" "$b${tag:+[${tag# }]}" none none none none "$tmo" "$kern" \
				"$slots" "${extra[@]}"
			continue
		fi
		for tr in $trs; do
			# The implementation pair only selects RDMA modules:
			# over TCP one run says all there is to say.
			[ "$tr" = rdma ] && ti=$impls || ti=${impls%% *}
			for impl in $ti; do
				# On the debug kernel only our modules are under
				# test: a variant without them (TCP, in-tree
				# against in-tree) is the Debian run's baseline.
				# Tests of the harness itself declare
				# "debug: always"; pinned ones are exempt too.
				if [ -n "$tag" ] && [ "$dbg" != always ] &&
				   [ "$(header "$f" kernel "")" != debug ] &&
				   [ "${DEBUG_BASELINES:-0}" != 1 ] &&
				   { [ "$tr" != rdma ] || [[ $impl != *ours* ]]; }; then
					preskip+=("SKIP ${b}[$topo $tr ${impl}$tag]: a baseline without our modules (DEBUG_BASELINES=1 runs it)")
					continue
				fi
				if [ "$topo" != "${dtopo:-$topo}" ] ||
				   [ "$impl" != "${dimpl:-$impl}" ]; then
					preskip+=("SKIP ${b}[$topo $tr ${impl}$tag]: the debug run has it as [${dtopo:-$topo} $tr ${dimpl:-$impl}$tag] (DEBUG_FULL=1 runs it)")
					continue
				fi
				[ "$topo" = two ] && need=all || need=$slots
				add_job "$f" "${b}[$topo $tr ${impl}$tag]" "$topo" "$tr" \
					"${impl%%/*}" "${impl##*/}" "$tmo" "$kern" "$need" \
					"${extra[@]}"
			done
		done
	done
done

for l in "${preskip[@]}"; do
	echo "$l"
	skipped=$((skipped + 1))
done

# Whole-machine jobs first, then the others two by two: grouping them wastes
# the fewest slot-hours waiting for a drain.  Debug-pinned tests stay last.
ordered=()
for pass in all 1; do
	for j in "${jobs[@]}"; do
		eval "set -- $j"
		[[ " ${pinned[*]} " == *" $1 "* ]] && continue
		[ "$9" = "$pass" ] || { [ "$pass" = 1 ] && [ "$9" != all ]; } || continue
		ordered+=("$j")
	done
done
for j in "${jobs[@]}"; do
	eval "set -- $j"
	[[ " ${pinned[*]} " == *" $1 "* ]] && ordered+=("$j")
done

declare -A running=()	# pid -> "slots name"
used=0
reap() {	# wait for one job, print and count its result
	local pid run name
	wait -n -p pid "${!running[@]}"
	name=${running[$pid]#* }
	used=$((used - ${running[$pid]%% *}))
	unset "running[$pid]"
	run=$(run_dir "$name")
	cat "$run/summary" 2>/dev/null || echo "FAIL $name: the runner lost it"
	case "$(head -c 4 "$run/summary" 2>/dev/null)" in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)); failures+=("$name") ;;
	esac
}
kernel_ready=
for j in "${ordered[@]}"; do
	eval "set -- $j"
	# The debug kernel may still be building in the background (make
	# check starts it): wait for it once, before the first test that
	# boots it, rather than let each of them find it missing.
	if [ "$8" = debug ] && [ -z "$kernel_ready" ]; then
		kernel_ready=1
		if ! scripts/debug-kernel.sh dir > /dev/null 2>&1; then
			echo "  ... waiting for the debug kernel build (scripts/debug-kernel.sh)"
			scripts/debug-kernel.sh > "$OUT/debug-kernel.log" 2>&1 ||
				echo "  ... the debug kernel build failed: $OUT/debug-kernel.log"
		fi
	fi
	[ "$9" = all ] && need=$VM_SLOTS || need=1
	[ "$need" -le "$VM_SLOTS" ] || need=$VM_SLOTS
	while [ $((used + need)) -gt "$VM_SLOTS" ]; do
		reap
	done
	run_one "$@" &
	running[$!]="$need $2"
	used=$((used + need))
done
while [ ${#running[@]} -gt 0 ]; do
	reap
done

echo
[ $failed -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
exit
}
