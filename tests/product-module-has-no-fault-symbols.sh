#!/usr/bin/env bash
# The modules a plain build makes (what make, make install and DKMS ship)
# carry none of the test-only code: no fault or error-injection symbol in
# either .ko and no _error_injection_whitelist section; a build with
# FAULT_INJECTION=1 does carry them, so the check can see them.  Both are
# built from a private copy of the sources, against the harness kernel.
# topology: none
# timeout: 900
# debug: skip boots no VM: the Debian build is the one that ships
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

kdir=/lib/modules/$KVER/build
[ -d "$kdir" ] || skip "no kernel headers for $KVER ($kdir); make deps installs them"
{ command -v nm && command -v objdump; } > /dev/null ||
	skip "nm and objdump (binutils) are not installed; make deps installs them"
make -s -C "$VM_ROOT" KVER="$KVER" kheaders > "$RUN/kheaders.log" 2>&1 ||
	fail "cannot extract the private headers: $(tail -n 2 "$RUN/kheaders.log" | tr '\n' ' ')"
btf=()
[ -e "$kdir/vmlinux" ] || btf=(CONFIG_DEBUG_INFO_BTF_MODULES=)

# build NAME FAULT_INJECTION: the two modules of a fresh copy in $RUN/NAME.
build() {
	local dir=$RUN/$1
	progress "build $1 (NVMEOF_RDMA_FAULT_INJECTION=$2)"
	mkdir -p "$dir"
	(cd "$VM_ROOT" && find Kbuild drivers include -type f \
		\( -name Kbuild -o -name '*.c' -o -name '*.h' \) ! -name '*.mod.c' |
		cpio -pdm --quiet "$dir") || fail "cannot copy the sources to $dir"
	make -C "$kdir" M="$dir" "${btf[@]}" NVMEOF_RDMA_VERSION=test \
		NVMEOF_RDMA_KHEADERS="$VM_ROOT/build/ksrc" \
		NVMEOF_RDMA_FAULT_INJECTION="$2" modules > "$dir/build.log" 2>&1 ||
		fail "build $1 failed: $(tail -n 3 "$dir/build.log" | tr '\n' ' ')"
}

# test_only KO: the test-only symbols and sections of KO, one a line.
test_only() {
	nm "$1" | awk '{print $NF}' | grep -iE 'fault|error_injection' | sed 's/^/symbol /'
	objdump -h "$1" | awk '$2 == "_error_injection_whitelist" {print "section " $2}'
}

build plain ""
build fault 1
bad=""
for ko in drivers/nvme/host/nvme-rdma.ko drivers/nvme/target/nvmet-rdma.ko; do
	found=$(test_only "$RUN/plain/$ko")
	if [ -n "$found" ]; then
		echo "plain ${ko##*/} has test-only code:"
		printf '  %s\n' "$found" | head -n 20
		bad="$bad ${ko##*/}($(printf '%s\n' "$found" | wc -l))"
	else
		echo "plain ${ko##*/}: no test-only symbol or section"
	fi
done
# The check must be able to see what it looks for: the test build has
# test-only code (the target's fault modes; the host's error-injection
# points only where the kernel has CONFIG_FUNCTION_ERROR_INJECTION, which
# Debian's has not).
seen=0
for ko in drivers/nvme/host/nvme-rdma.ko drivers/nvme/target/nvmet-rdma.ko; do
	found=$(test_only "$RUN/fault/$ko")
	echo "FAULT_INJECTION=1 ${ko##*/}: $(printf '%s\n' "$found" | grep -c .) test-only symbol(s)/section(s)"
	[ -z "$found" ] || seen=1
done
[ $seen = 1 ] || fail "the FAULT_INJECTION=1 build has no fault symbol either: the check sees nothing"
[ -z "$bad" ] || fail "the plain build ships test-only code in:$bad (symbols/sections)"
