#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Provide the kernel files that the headers package does not ship: the
# private NVMe host/target headers our modules compile against, and
# checkpatch.pl with its data files for `make style`.
#
# usage: scripts/extract-kheaders.sh [KVER] [OUTDIR]
#   KVER    kernel release to build for   (default 6.1.0-56-amd64)
#   OUTDIR  where the tree subset goes    (default build/ksrc)
#   KSRC    env: take the files from this kernel tree instead of the
#           Debian source tarball (no package version check then)
#
# The private headers describe structs that nvme-core/nvmet share with
# their transports, so they must come from the very source the running
# kernel was built from: linux-source-X.Y at the linux-image's version.
set -euo pipefail

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

if [ -n "$KSRC" ]; then
	[ -d "$KSRC" ] || die "KSRC=$KSRC is not a directory"
	stamp_want="KSRC=$(cd "$KSRC" && pwd)"
else
	series=$(echo "$KVER" | sed -n 's/^\([0-9]\+\.[0-9]\+\)\..*/\1/p')
	[ -n "$series" ] || die "cannot derive the X.Y series from KVER=$KVER"
	srcpkg=linux-source-$series
	tarball=/usr/src/$srcpkg.tar.xz

	imgver=$(installed_version "linux-image-$KVER")
	srcver=$(installed_version "$srcpkg")

	[ -n "$imgver" ] ||
		die "linux-image-$KVER is not installed, so the matching source version is unknown;" \
			"run KVER=$KVER scripts/install-deps.sh (as root), or: apt-get install linux-image-$KVER"
	[ -n "$srcver" ] ||
		die "$srcpkg is not installed; run KVER=$KVER scripts/install-deps.sh (as root)," \
			"or: apt-get install $srcpkg=$imgver"
	[ "$srcver" = "$imgver" ] ||
		die "$srcpkg is $srcver but linux-image-$KVER is $imgver;" \
			"run: apt-get install $srcpkg=$imgver (or KVER=$KVER scripts/install-deps.sh)"
	[ -f "$tarball" ] || die "$tarball missing although $srcpkg is installed; reinstall: apt-get install --reinstall $srcpkg=$imgver"
	stamp_want="$srcpkg $srcver"
fi
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
		[ -f "$KSRC/$m" ] || die "KSRC=$KSRC has no $m"
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
