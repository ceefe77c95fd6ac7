#!/usr/bin/env bash
# scripts/check-host-layers.py finds a reference cycle and an include cycle
# in a small made-up source tree, ignores names in comments and strings,
# passes the same tree without the cycles, and enforces a layer table;
# the host driver itself passes with the table the script carries.
# topology: none
# timeout: 60
# debug: skip boots no VM: nothing for the debug kernel to check
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

checker=$VM_ROOT/scripts/check-host-layers.py
tree=$RUN/tree
mkdir -p "$tree"

# a.c calls b.c, b.c reads c.c's variable; c.c names a_fn only in a
# comment and a string, which must not count.
cat > "$tree/a.c" <<'C'
#include "a.h"
static int a_local(void) { return 1; }
int a_fn(int x)
{
	return b_fn(x) + a_local();
}
C
cat > "$tree/b.c" <<'C'
#include "a.h"
int b_fn(int x)
{
	return x + c_count;
}
C
cat > "$tree/c.c" <<'C'
#include "a.h"
/* a_fn(1) would make a cycle */
unsigned long c_count = 3;
static const char *c_msg = "a_fn";
struct c_ops { int (*op)(int); };
C
printf '#include "b.h"\nint a_fn(int x);\nint b_fn(int x);\nextern unsigned long c_count;\n' > "$tree/a.h"
printf 'struct b_thing;\n' > "$tree/b.h"

# The made-up files are not in the host's own layer table: an empty
# --layers turns it off unless a case gives its own.
run_checker() {	# run_checker EXPECTED_RC ARGS...: the output in $out
	local want=$1 rc=0
	shift
	out=$(python3 "$checker" --layers '' "$@" "$tree" 2>&1) || rc=$?
	[ -z "$out" ] || printf '%s\n' "$out"
	[ "$rc" = "$want" ] || fail "check-host-layers.py $*: exit $rc, expected $want"
}

progress "acyclic tree"
run_checker 0
[ -z "$out" ] || fail "acyclic tree: output on success: $out"

progress "layer table: a 3, b 2, c 1 passes; c above b fails"
run_checker 0 --layers a.c=3,b.c=2,c.c=1
run_checker 1 --layers a.c=3,b.c=1,c.c=2
grep -qx 'layers: b.c (layer 1) references c.c (layer 2): c_count' <<< "$out" ||
	fail "layer violation b.c -> c.c not reported"
run_checker 1 --layers a.c=3,b.c=2
grep -q 'layers: c.c has no layer' <<< "$out" || fail "file without a layer not reported"

progress "reference cycle a.c -> b.c -> c.c -> a.c"
cat >> "$tree/c.c" <<'C'
int c_fn(void)
{
	return a_fn(0);
}
C
run_checker 1
grep -qx 'reference cycle: a.c -> b.c -> c.c -> a.c' <<< "$out" ||
	fail "reference cycle not reported as a.c -> b.c -> c.c -> a.c"
grep -qx '  c.c -> a.c: a_fn' <<< "$out" || fail "the reference c.c -> a.c not named"
run_checker 0 --warn-only
grep -q 'reference cycle' <<< "$out" || fail "--warn-only printed no cycle"

progress "include cycle a.h -> b.h -> a.h"
printf '#include "a.h"\n' >> "$tree/b.h"
run_checker 1
grep -qx 'include cycle: a.h -> b.h -> a.h' <<< "$out" || fail "include cycle not reported"

progress "the host itself, with its own layer table"
out=$(python3 "$checker" "$VM_ROOT/drivers/nvme/host" 2>&1) ||
	fail "the host's files break their layering: $out"
