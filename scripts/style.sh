#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make style`: fail on any checkpatch --strict report, on any line a W=1
# C=2 (sparse) build prints beyond kbuild's own progress lines (a plain
# build and one with NVMEOF_RDMA_FAULT_INJECTION=1), on any shellcheck
# report, and on a cycle in the host's file graph (check-host-layers.py).
#
# The builds run in private copies of the sources under build/style, so
# they are always full rebuilds and never touch modules that a test run
# may be using; the Makefile passes KDIR, KBUILD_ARGS and
# NVMEOF_RDMA_VERSION.
set -euo pipefail

cd "$(dirname "$0")/.."
: "${KDIR:?}" "${NVMEOF_RDMA_VERSION:?}"
KBUILD_ARGS=${KBUILD_ARGS:-}

checkpatch=build/ksrc/scripts/checkpatch.pl
shadow=$PWD/build/style
export LC_ALL=C
status=0

# Stage 1: checkpatch over every C source and header we own.
mapfile -t files < <(
	{
		find drivers include -type f \( -name '*.c' -o -name '*.h' \) ! -name '*.mod.c'
		find tests/tools -maxdepth 1 -type f -name '*.c' 2>/dev/null || true
		find tests/gate-selftest -maxdepth 1 -type f -name '*.c' 2>/dev/null || true
		find tests/kunit -maxdepth 1 -type f -name '*.c' 2>/dev/null || true
	} | sort
)
cp_log=$(mktemp)
trap 'rm -f "$cp_log"' EXIT
"$checkpatch" --strict --no-tree --terse --no-summary --show-types \
	-f "${files[@]}" >"$cp_log" 2>&1 || true
nreports=$(grep -cE '^[^:]+:[0-9]+: (ERROR|WARNING|CHECK):' "$cp_log" || true)
if [ -s "$cp_log" ]; then
	cat "$cp_log"
	echo "style: checkpatch: FAIL, $nreports report(s) in ${#files[@]} files"
	status=1
else
	echo "style: checkpatch: ok, ${#files[@]} files clean (--strict)"
fi

# Stage 2: W=1 C=2 builds of fresh copies, with and without the test-only
# code, so that both are warning-free.
# build_check NAME FAULT_INJECTION
build_check() {
	local dir=$shadow/$1 log diag nwarn nerr built

	rm -rf "$dir"
	mkdir -p "$dir"
	find Kbuild drivers include -type f \( -name Kbuild -o -name '*.c' -o -name '*.h' \) ! -name '*.mod.c' |
		cpio -pdm --quiet "$dir"
	log=$dir/build.log
	# shellcheck disable=SC2086 # KBUILD_ARGS holds VAR=value words
	if make -C "$KDIR" M="$dir" $KBUILD_ARGS W=1 C=2 \
		NVMEOF_RDMA_KHEADERS="$PWD/build/ksrc" \
		NVMEOF_RDMA_FAULT_INJECTION="$2" \
		NVMEOF_RDMA_VERSION="$NVMEOF_RDMA_VERSION" modules >"$log" 2>&1; then
		built=1
	else
		built=0
	fi
	# Everything but make's directory notes and kbuild's "  TAG  target"
	# lines is a diagnostic from the compiler, sparse, modpost or kbuild.
	diag=$(grep -vE '^make(\[[0-9]+\])?: (Entering|Leaving) directory|^  [A-Z][A-Z0-9]*( \[M\])? +[^ ]' \
		"$log" | sed "s|$dir/||g" || true)
	nwarn=$(printf '%s\n' "$diag" | grep -c 'warning:' || true)
	nerr=$(printf '%s\n' "$diag" | grep -c 'error:' || true)
	if [ $built = 1 ] && [ -z "$diag" ]; then
		echo "style: W=1 C=2 build ($1): ok, no compiler or sparse output"
	else
		printf '%s\n' "$diag"
		echo "style: W=1 C=2 build ($1): FAIL, $([ $built = 1 ] && echo built || echo 'build failed'), $nwarn warning(s), $nerr error(s), $(printf '%s\n' "$diag" | grep -c .) line(s); full log in ${log#"$PWD"/}"
		status=1
	fi
}
rm -rf "$shadow"
build_check plain ""
build_check fault-injection 1

# Stage 3: shellcheck over every shell script we own, following what
# they source (each test names the library with a source= directive).
mapfile -t shfiles < <(
	{
		find scripts tests -type f -name '*.sh'
		grep -rlE '^#!.*\b(ba)?sh\b' scripts tests 2>/dev/null || true
	} | sort -u
)
if sc_out=$(shellcheck -x -f gcc "${shfiles[@]}" 2>&1); then
	echo "style: shellcheck: ok, ${#shfiles[@]} files clean"
else
	printf '%s\n' "$sc_out"
	echo "style: shellcheck: FAIL, $(printf '%s\n' "$sc_out" | grep -c .) report(s)"
	status=1
fi

# Stage 4: the host's reference and include graphs have no cycle, and
# every file calls only into its own layer or lower ones.
if ! python3 scripts/check-host-layers.py drivers/nvme/host; then
	status=1
fi

exit $status
