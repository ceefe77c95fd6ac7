#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make style`: fail on any checkpatch --strict report, then on any line a
# W=1 C=2 (sparse) build prints beyond kbuild's own progress lines.
#
# The build runs in a private copy of the sources under build/style, so it
# is always a full rebuild and never touches modules that a test run may
# be using; the Makefile passes KDIR, KBUILD_ARGS and NVMEOF_RDMA_VERSION.
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

# Stage 2: W=1 C=2 build of a fresh copy.
rm -rf "$shadow"
mkdir -p "$shadow/build"
find Kbuild drivers include -type f \( -name Kbuild -o -name '*.c' -o -name '*.h' \) ! -name '*.mod.c' |
	cpio -pdm --quiet "$shadow"
ln -s "$PWD/build/ksrc" "$shadow/build/ksrc"

build_log=$shadow/build.log
# shellcheck disable=SC2086 # KBUILD_ARGS holds VAR=value words
if make -C "$KDIR" M="$shadow" $KBUILD_ARGS W=1 C=2 \
	NVMEOF_RDMA_VERSION="$NVMEOF_RDMA_VERSION" modules >"$build_log" 2>&1; then
	built=1
else
	built=0
fi
# Everything but make's directory notes and kbuild's "  TAG  target" lines
# is a diagnostic from the compiler, sparse, modpost or kbuild.
diag=$(grep -vE '^make(\[[0-9]+\])?: (Entering|Leaving) directory|^  [A-Z][A-Z0-9]*( \[M\])? +[^ ]' \
	"$build_log" | sed "s|$shadow/||g" || true)
nwarn=$(printf '%s\n' "$diag" | grep -c 'warning:' || true)
nerr=$(printf '%s\n' "$diag" | grep -c 'error:' || true)
if [ $built = 1 ] && [ -z "$diag" ]; then
	echo "style: W=1 C=2 build: ok, no compiler or sparse output"
else
	printf '%s\n' "$diag"
	echo "style: W=1 C=2 build: FAIL, $([ $built = 1 ] && echo built || echo 'build failed'), $nwarn warning(s), $nerr error(s), $(printf '%s\n' "$diag" | grep -c .) line(s); full log in build/style/build.log"
	status=1
fi

exit $status
