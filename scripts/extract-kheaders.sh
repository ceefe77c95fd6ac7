#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Provide the kernel files that the headers package does not ship: the
# private NVMe host/target headers our modules compile against, and
# checkpatch.pl with its data files for `make style`.
#
# usage: scripts/extract-kheaders.sh [--check] [KVER] [OUTDIR]
#   --check only say whether the files for KVER can be had (exit 0) or
#           what is missing (on stderr, exit 1); extract nothing
#   KVER    kernel release to build for   (default 6.1.0-56-amd64)
#   OUTDIR  where the tree subset goes    (default build/ksrc)
#   KSRC    env: take the files from this kernel tree instead of the
#           Debian source tarball (no package version check then)
#
# The private headers describe structs that nvme-core/nvmet share with
# their transports, so they must come from the very source the kernel
# was built from, found in this order:
#   1. KSRC, when set;
#   2. the kernel's own tree, /lib/modules/KVER/source or .../build, when
#      it is a full tree (a kernel built and installed from source; the
#      Debian headers package has no drivers/nvme/host/nvme.h);
#   3. linux-source-X.Y at exactly the version of linux-image-KVER.
# DKMS runs this for every kernel it builds for (through dkms.conf's MAKE
# line), so a new kernel either finds its own headers or stops with a
# message that names the package version or tree it needs.
set -euo pipefail

check_only=0
if [ "${1:-}" = --check ]; then
	check_only=1
	shift
fi
KVER=${1:-${KVER:-6.1.0-56-amd64}}
OUT=${2:-build/ksrc}
KSRC=${KSRC:-}

members=(
	drivers/nvme/host/nvme.h
	drivers/nvme/host/fabrics.h
	drivers/nvme/target/nvmet.h
	scripts/checkpatch.pl
	scripts/spelling.txt
	scripts/const_structs.checkpatch
)

die() {
	echo "extract-kheaders: $*" >&2
	exit 1
}

# A later kernel may make these headers pull in siblings by relative
# path; catch that here rather than as a puzzling compile error.
check_relative_includes() {
	local h inc missing=0

	for h in "${members[@]}"; do
		case $h in *.h) ;; *) continue ;; esac
		while read -r inc; do
			inc=$(dirname "$h")/$inc
			if [ ! -f "$OUT/$inc" ]; then
				echo "extract-kheaders: $h includes \"$inc\", which is not extracted; add it to members" >&2
				missing=1
			fi
		done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$OUT/$h")
	done
	return $missing
}

# Version of an installed package; empty when absent or only half there
# (removed with config files kept, unpacked but unconfigured, ...).
installed_version() {
	local st

	st=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$1" 2>/dev/null) || return 0
	case $st in
	"installed "*) echo "${st#installed }" ;;
	esac
}

all_present() {
	local m

	for m in "${members[@]}"; do
		[ -f "$OUT/$m" ] || return 1
	done
}

if [ -z "$KSRC" ]; then
	for t in "/lib/modules/$KVER/source" "/lib/modules/$KVER/build"; do
		if [ -f "$t/drivers/nvme/host/nvme.h" ]; then
			KSRC=$t
			break
		fi
	done
fi

if [ -n "$KSRC" ]; then
	[ -d "$KSRC" ] || die "KSRC=$KSRC is not a directory"
	for m in "${members[@]}"; do
		[ -f "$KSRC/$m" ] || die "KSRC=$KSRC has no $m"
	done
	stamp_want="KSRC=$(cd "$KSRC" && pwd)"
else
	series=$(echo "$KVER" | sed -n 's/^\([0-9]\+\.[0-9]\+\)\..*/\1/p')
	[ -n "$series" ] || die "cannot derive the X.Y series from KVER=$KVER"
	srcpkg=linux-source-$series
	tarball=/usr/src/$srcpkg.tar.xz

	imgver=$(installed_version "linux-image-$KVER")
	srcver=$(installed_version "$srcpkg")

	[ -n "$imgver" ] ||
		die "no kernel tree for $KVER (KSRC, /lib/modules/$KVER/source) and linux-image-$KVER" \
			"is not installed, so the matching $srcpkg version is unknown;" \
			"set KSRC= to the tree $KVER was built from, or (as root) make deps KVER=$KVER"
	[ -n "$srcver" ] ||
		die "$srcpkg is not installed, needed at version $imgver for $KVER;" \
			"as root: make deps KVER=$KVER, or apt-get install $srcpkg=$imgver"
	[ "$srcver" = "$imgver" ] ||
		die "$srcpkg is $srcver but linux-image-$KVER is $imgver;" \
			"as root: apt-get install $srcpkg=$imgver (or make deps KVER=$KVER)"
	[ -f "$tarball" ] || die "$tarball missing although $srcpkg is installed; reinstall: apt-get install --reinstall $srcpkg=$imgver"
	stamp_want="$srcpkg $srcver"
fi
[ $check_only = 0 ] || exit 0
# The member list is part of the stamp so that adding a file re-extracts.
stamp_want="$stamp_want
${members[*]}"

stamp=$OUT/.stamp
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_want" ] && all_present; then
	exit 0
fi

mkdir -p "$OUT"
rm -f "$stamp"

if [ -n "$KSRC" ]; then
	for m in "${members[@]}"; do
		mkdir -p "$OUT/$(dirname "$m")"
		# Copying an unchanged file would bump its mtime and make kbuild
		# rebuild everything that includes it.
		cmp -s "$KSRC/$m" "$OUT/$m" || cp "$KSRC/$m" "$OUT/$m"
	done
	echo "extract-kheaders: copied ${#members[@]} files from $KSRC into $OUT"
else
	echo "extract-kheaders: extracting ${#members[@]} files from $tarball ($srcver), ~30 s"
	tmp=$(mktemp -d "$OUT/.extract.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# One pass over the archive for all members; -m gives them the current
	# mtime so that kbuild rebuilds objects made against an older source.
	tar -xJmf "$tarball" -C "$tmp" --strip-components=1 \
		"${members[@]/#/$srcpkg/}"
	for m in "${members[@]}"; do
		mkdir -p "$OUT/$(dirname "$m")"
		mv -f "$tmp/$m" "$OUT/$m"
	done
fi

check_relative_includes || die "incomplete header set"
chmod +x "$OUT/scripts/checkpatch.pl"
printf '%s\n' "$stamp_want" >"$stamp"
