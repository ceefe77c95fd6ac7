#!/usr/bin/env bash
# Static checks are tests too: checkpatch --strict, a W=1 build and sparse
# (make style) report nothing on the tree.
# topology: none
# timeout: 600
# debug: skip boots no VM: nothing for the debug kernel to check
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

make -C "$VM_ROOT" style || fail "make style reported problems (see test.log)"
