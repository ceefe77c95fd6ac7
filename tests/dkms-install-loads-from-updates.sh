#!/usr/bin/env bash
# The DKMS route works end to end for the harness kernel: `make dkms`
# registers, builds and installs the modules through the real dkms, and
# the guest loads those very files from updates/ in preference to the
# in-tree modules, which stay in place (modinfo -n points into updates/,
# /sys/module/*/version is ours).
#
# Why the build runs on the machine: the guest has no compiler and no
# kernel headers (scripts/guest-image.sh puts only the modules and the
# test userland in the initramfs), and dkms cannot install into a
# staging root of its own accord.  So `make dkms` runs here with dkms's
# own options pointing every tree into this run's directory
# (--sourcetree, --dkmstree, --installtree, --no-depmod): DKMS copies the
# sources, runs dkms.conf's MAKE line (header extraction included) and
# installs into <installtree>/KVER/updates/dkms/, all as on a real
# machine, without touching /usr/src, /var/lib/dkms or /lib/modules.  The
# installed files then go into the guest's module tree at the same place,
# where depmod and modprobe choose between them and the in-tree ones.
# topology: one
# transport: rdma
# impl: intree/intree
# timeout: 900
# debug: skip the DKMS build is for the Debian kernel
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

command -v dkms > /dev/null || skip "dkms is not installed (make deps installs it)"
[ "$(id -u)" = 0 ] || skip "dkms needs root"
[ -d "/lib/modules/$KVER/build" ] || skip "no kernel headers for $KVER; make deps installs them"

d=$RUN/dkms
inst=$d/install/$KVER
mkdir -p "$d/src" "$d/tree" "$inst"
# The installtree needs the kernel's headers where /lib/modules has them.
ln -s "/lib/modules/$KVER/build" "$inst/build"

progress "make dkms (private trees)"
make -C "$VM_ROOT" --no-print-directory dkms KVER="$KVER" \
	DKMS_SOURCE_TREE="$d/src" \
	DKMS_FLAGS="--sourcetree $d/src --dkmstree $d/tree --installtree $d/install --no-depmod" \
	> "$RUN/dkms.log" 2>&1 || {
	cat "$RUN/dkms.log"
	cat "$d"/tree/nvmeof-rdma/*/build/make.log 2>/dev/null | tail -n 20
	fail "make dkms failed: $(tail -n 3 "$RUN/dkms.log" | tr '\n' ' ')"
}
cat "$RUN/dkms.log"

mkdir -p "$RUN/vm-one/xfer/dkms"
for m in nvme-rdma nvmet-rdma; do
	ko=$(find "$inst/updates" -name "$m.ko*" | head -n 1)
	[ -n "$ko" ] || fail "dkms installed no $m under $inst/updates"
	echo "dkms installed ${ko#"$d"/install/}: version $(modinfo -F version "$ko")"
done
rel=$(cd "$inst" && find updates -name '*.ko*' | head -n 1)
reldir=$(dirname "$rel")

boot
cp "$inst/$reldir"/*.ko* "$RUN/vm-one/xfer/dkms/"
# The guest's module tree gets them where DKMS put them, then depmod, as
# dkms install does on a real machine.
check host "mkdir -p /lib/modules/\$(uname -r)/$reldir &&
	cp /xfer/dkms/* /lib/modules/\$(uname -r)/$reldir/ && depmod -a"
for m in nvme-rdma nvmet-rdma; do
	path=$(on host "modinfo -n $m") || fail "modinfo -n $m: $path"
	echo "modinfo -n $m: $path"
	case $path in
	/lib/modules/*/updates/*) ;;
	*) fail "modinfo -n $m points to $path, not into updates/" ;;
	esac
	want=$(modinfo -F version "$(find "$inst/updates" -name "$m.ko*" | head -n 1)")
	got=$(on host "modinfo -F version $m")
	[ "$got" = "$want" ] || fail "$m in the guest has version '$got', dkms built '$want'"
done
progress "modprobe the DKMS-installed modules"
check host "modprobe nvme-rdma && modprobe nvmet-rdma"
check host 'test -e /sys/module/nvme_rdma/version && test -e /sys/module/nvmet_rdma/version'
assert_module host ours nvme_rdma
assert_module target ours nvmet_rdma
echo "loaded: $(on host 'module_desc nvme_rdma; module_desc nvmet_rdma' | xargs)"
