#!/usr/bin/env bash
# The acknowledged-write ledger (tests/tools/ack-ledger.c) that the
# failure tests rely on catches what they look for.  On a file on this
# machine's disk (O_DIRECT, flush after every write): an untouched device
# verifies clean; the device put back to a copy taken halfway (a target
# that lost writes it had acknowledged and flushed) reports stale blocks;
# one durable block zeroed reports it lost; one byte changed in a block
# reports it torn.  Each fault makes verify exit 1, naming the block.
# topology: none
# timeout: 120
# debug: skip boots no VM: nothing for the debug kernel to check
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

make -s -C "$VM_ROOT" tools > /dev/null || fail "cannot build tests/tools"
tool=$VM_ROOT/build/tools/ack-ledger
dev=$RUN/dev ledger=$RUN/ledger bs=4096
dd if=/dev/zero of="$dev" bs=1M count=4 status=none

progress "write for 4 s, copy the device halfway"
"$tool" write "$dev" "$ledger" --blocks 512 --bs $bs --jobs 2 --seconds 4 --flush 1 --seed 7 > "$RUN/write.out" &
writer=$!
sleep 2
cp "$dev" "$RUN/halfway"
wait "$writer" || fail "write failed: $(cat "$RUN/write.out")"
cat "$RUN/write.out"
grep -qE '^writes [1-9][0-9]* acked [1-9][0-9]* failed 0 ' "$RUN/write.out" || fail "no acknowledged writes"
cp "$dev" "$RUN/good"

# verify_expect RC WHAT: verify exits RC and, for 1, says WHAT.
verify_expect() {
	local rc=0 out
	out=$("$tool" verify "$dev" "$ledger") || rc=$?
	echo "$out" | tail -n 2
	[ "$rc" = "$1" ] || fail "verify exited $rc, expected $1: $(echo "$out" | tail -n 1)"
	[ -z "${2:-}" ] || echo "$out" | grep -qE "$2" || fail "verify did not report: $2"
}

progress "untouched"
verify_expect 0 '^checked 512 ok 512 lost 0 stale 0 torn 0'
progress "lost writes: the device as it was halfway"
cp "$RUN/halfway" "$dev"
verify_expect 1 '^stale block [0-9]+: version [0-9]+, durable [0-9]+$'
progress "a durable block zeroed"
cp "$RUN/good" "$dev"
dd if=/dev/zero of="$dev" bs=$bs seek=7 count=1 conv=notrunc status=none
verify_expect 1 '^lost block 7: durable version [0-9]+'
progress "one byte changed"
cp "$RUN/good" "$dev"
printf '\377' | dd of="$dev" bs=1 seek=$((9 * bs + 2000)) conv=notrunc status=none
verify_expect 1 '^torn block 9: '
