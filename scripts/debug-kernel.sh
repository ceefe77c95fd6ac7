#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once per machine) and locate the debug kernel the harness boots
# with KERNEL=debug: Debian's linux-source-6.1 (the exact version of the
# linux-image the normal VMs boot), `make tinyconfig` plus
# scripts/debug-kernel.config (KASAN, lockdep, kmemleak, fault injection,
# KUnit, and what the guests need).
#
# usage: scripts/debug-kernel.sh [build]  build unless cached; print the cache dir
#        scripts/debug-kernel.sh dir      print the cache dir if built, else fail
#        scripts/debug-kernel.sh kver     print the debug kernel's release (uname -r)
#
# The cache dir (DEBUG_KERNEL_CACHE, default /var/cache/nvmeof-rdma) is
# outside the repository so that every clone on the machine shares it:
#   debug-kernel-<key>/linux/           configured and built tree (KDIR for our modules)
#   debug-kernel-<key>/mods/lib/modules/<kver>/   modules_install output
#   debug-kernel-<key>/bzImage, kernelrelease, build.log, build-seconds
#   debug-kernel-<key>/.complete        written last: only then is the tree used
# <key> hashes this script, the config fragment and the source package
# version, so a change to any of them builds a new tree beside the old one.
#
# Environment: DEBUG_KERNEL_CACHE, DEBUG_KERNEL_JOBS (make -j, default 2),
# BASE_KVER (the Debian kernel whose source is used, default 6.1.0-56-amd64).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
frag=$here/debug-kernel.config
CACHE=${DEBUG_KERNEL_CACHE:-/var/cache/nvmeof-rdma}
JOBS=${DEBUG_KERNEL_JOBS:-2}
BASE_KVER=${BASE_KVER:-6.1.0-56-amd64}
mode=${1:-build}

die() {
	echo "debug-kernel: $*" >&2
	exit 1
}
say() { echo "debug-kernel: $*" >&2; }

installed_version() {	# as in extract-kheaders.sh: empty unless fully installed
	local st
	st=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$1" 2>/dev/null) || return 0
	case $st in
	"installed "*) echo "${st#installed }" ;;
	esac
}

case $mode in
build | dir | kver) ;;
*) die "unknown mode '$mode' (build|dir|kver)" ;;
esac

[ -f "$frag" ] || die "$frag is missing"
series=$(echo "$BASE_KVER" | sed -n 's/^\([0-9]\+\.[0-9]\+\)\..*/\1/p')
[ -n "$series" ] || die "cannot derive the X.Y series from BASE_KVER=$BASE_KVER"
srcpkg=linux-source-$series
tarball=/usr/src/$srcpkg.tar.xz
imgver=$(installed_version "linux-image-$BASE_KVER")
srcver=$(installed_version "$srcpkg")
[ -n "$imgver" ] || die "linux-image-$BASE_KVER is not installed; run scripts/install-deps.sh (as root)"
[ -n "$srcver" ] || die "$srcpkg is not installed; run scripts/install-deps.sh (as root)"
[ "$srcver" = "$imgver" ] ||
	die "$srcpkg is $srcver but linux-image-$BASE_KVER is $imgver; run: apt-get install $srcpkg=$imgver"
[ -f "$tarball" ] || die "$tarball missing; reinstall: apt-get install --reinstall $srcpkg=$imgver"

key=$( { cat "$0" "$frag"; echo "$srcpkg $srcver"; } | sha256sum | cut -c1-16)
dir=$CACHE/debug-kernel-$key
tree=$dir/linux

built() { [ -f "$dir/.complete" ] && [ -f "$dir/bzImage" ] && [ -s "$dir/kernelrelease" ]; }

case $mode in
dir)
	built || die "not built yet ($dir); run scripts/debug-kernel.sh"
	echo "$dir"
	exit 0
	;;
kver)
	built || die "not built yet ($dir); run scripts/debug-kernel.sh"
	cat "$dir/kernelrelease"
	exit 0
	;;
esac

if built; then
	echo "$dir"
	exit 0
fi

for t in make gcc flex bison bc perl xz; do
	command -v "$t" > /dev/null || die "$t is missing; run scripts/install-deps.sh (as root)"
done
# objtool (ORC unwinder) needs libelf's headers; kconfig's tools need no more.
[ -n "$(installed_version libelf-dev)" ] || die "libelf-dev is missing; run scripts/install-deps.sh (as root)"

if ! mkdir -p "$CACHE" 2> /dev/null || [ ! -w "$CACHE" ]; then
	die "cannot write to $CACHE; run as root or set DEBUG_KERNEL_CACHE to a writable directory"
fi

# One builder per key and machine; a second clone waits and then reuses.
exec 9> "$dir.lock"
if ! flock -n 9; then
	say "another process is building $dir; waiting for it"
	flock 9
fi
if built; then
	echo "$dir"
	exit 0
fi

# Anything here without .complete is a half-built tree: start over.
rm -rf "$dir"
mkdir -p "$tree" "$dir/mods"
log=$dir/build.log
start=$SECONDS
say "building the debug kernel from $srcpkg $srcver into $dir"
say "(tinyconfig + $(basename "$frag"), make -j$JOBS; about 10-20 min on 2 busy cores; log: $log)"

say "extracting $tarball"
tar -xJf "$tarball" -C "$tree" --strip-components=1 ||
	die "cannot extract $tarball into $tree"

kmake() {	# quiet make in the tree; output to the log, tail on failure
	if ! nice -n 10 make -C "$tree" "$@" >> "$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "make $* failed (full log: $log)"
	fi
}

say "configuring"
kmake tinyconfig
(cd "$tree" && scripts/kconfig/merge_config.sh -m .config "$frag") >> "$log" 2>&1 ||
	die "merge_config.sh failed (log: $log)"
kmake olddefconfig

# Kconfig drops silently what a dependency forbids: check every line.
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		opt=${line%%=*}
		if ! grep -qxF "$line" "$tree/.config"; then
			got=$(grep -E "^$opt=|^# $opt is not set" "$tree/.config" || echo "absent")
			say "config: wanted '$line', got '$got'"
			bad=1
		fi
		;;
	"# CONFIG_"*" is not set")
		opt=${line#"# "}
		opt=${opt%% *}
		if grep -q "^$opt=" "$tree/.config"; then
			say "config: wanted '$line', got '$(grep "^$opt=" "$tree/.config")'"
			bad=1
		fi
		;;
	esac
done < "$frag"
[ $bad = 0 ] || die "options of $(basename "$frag") did not survive olddefconfig (see above); fix their dependencies"

say "compiling bzImage and modules"
kmake -j"$JOBS" bzImage modules
say "installing modules"
kmake INSTALL_MOD_PATH="$dir/mods" INSTALL_MOD_STRIP=1 modules_install
kver=$(cat "$tree/include/config/kernel.release")
[ -d "$dir/mods/lib/modules/$kver" ] || die "modules_install produced no lib/modules/$kver"
# The build/source links point into the tree; the guest image needs neither.
rm -f "$dir/mods/lib/modules/$kver/build" "$dir/mods/lib/modules/$kver/source"
cp "$tree/arch/x86/boot/bzImage" "$dir/bzImage"
echo "$kver" > "$dir/kernelrelease"
echo $((SECONDS - start)) > "$dir/build-seconds"
printf '%s\n' "$srcpkg $srcver" "$kver" > "$dir/.complete"
say "built $kver in $((SECONDS - start)) s"
echo "$dir"
