#!/usr/bin/env bash
# Install everything the project needs on a Debian 12 machine, idempotently.
# Packages are named, never downloaded by URL; a package already installed is
# not touched, so a second run costs a dpkg query and nothing else.
set -euo pipefail

KVER=${KVER:-6.1.0-56-amd64}
# The source package of the kernel's X.Y series, for the private headers.
srcpkg=linux-source-$(echo "$KVER" | sed -n 's/^\([0-9]\+\.[0-9]\+\)\..*/\1/p')

pkgs=(
	"linux-image-$KVER" "linux-headers-$KVER"
	qemu-system-x86 nvme-cli fio rdma-core ibverbs-utils perftest
	libibverbs-dev librdmacm-dev busybox-static kmod cpio sparse
	iproute2 xz-utils jq gnuplot-nox python3 bc flex bison libelf-dev libssl-dev
	dkms shellcheck binutils dmsetup
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

# The private headers come from linux-source-X.Y, which must be the exact
# version the image was built from: pin it to the image's version.
need_src=1
if dpkg-query -W -f='${Status}' "linux-image-$KVER" 2>/dev/null | grep -q 'install ok installed'; then
	imgver=$(dpkg-query -W -f='${Version}' "linux-image-$KVER")
	srcver=$(dpkg-query -W -f='${Version}' "$srcpkg" 2>/dev/null || true)
	[ "$imgver" = "$srcver" ] && need_src=0
fi

if [ ${#missing[@]} -eq 0 ] && [ $need_src -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages: ${missing[*]} $srcpkg; run as root (make deps)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
apt-get update -q >/dev/null
if [ ${#missing[@]} -gt 0 ]; then
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
imgver=$(dpkg-query -W -f='${Version}' "linux-image-$KVER")
echo "install-deps: installing $srcpkg=$imgver"
apt-get install -y -q --no-install-recommends "$srcpkg=$imgver" >/dev/null
echo "install-deps: done"
