#!/usr/bin/env bash
# Build the guest initramfs: busybox, the userland the tests drive (bash,
# nvme-cli, fio, iproute2, rdma, perftest, kmod) with their shared
# libraries, and the subset of the Debian kernel's modules the VMs load.
# Everything that changes often (boot script, test helpers, our modules) is
# not baked in: the guest's /init mounts a 9p share and runs boot.sh from it,
# so the image is rebuilt only when this file, the init or the packages change.
#
# usage: guest-image.sh OUTDIR      prints the path of the image
#   KVER     the kernel release whose modules go in (default 6.1.0-56-amd64)
#   MODROOT  take the modules from MODROOT/lib/modules/KVER instead of
#            /lib/modules/KVER (the debug kernel's modules_install tree)
set -euo pipefail

KVER=${KVER:-6.1.0-56-amd64}
MODROOT=${MODROOT:-}
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: guest-image.sh OUTDIR}
mkdir -p "$out"

bins=(bash nvme fio ip tc rdma kmod jq dmsetup ibv_devices ibv_devinfo
      ib_send_lat ib_read_lat ib_write_lat ib_send_bw ib_read_bw ib_write_bw)
# Top-level modules; their dependencies are resolved with modprobe below.
mods=(virtio_pci virtio_net virtio_blk 9p 9pnet_virtio configfs dummy
      crc32_generic crc32c_generic crc32c-intel crc32-pclmul
      rdma_rxe ib_uverbs rdma_ucm rdma_cm ib_cm iw_cm
      nvme nvme-core nvme-fabrics nvme-rdma nvme-tcp
      nvmet nvmet-rdma nvmet-tcp null_blk loop)
# Taken where the kernel has them (the debug kernel's config does not):
# the tests that count or drop packets with tc, or that slow a backend
# down with dm-delay, skip without them.
optional_mods=(sch_prio sch_ingress cls_u32 act_gact dm_delay)

pkgver() { dpkg-query -W -f='${Package}=${Version} ' "$@" 2>/dev/null || true; }
moddir=$MODROOT/lib/modules/$KVER
[ -f "$moddir/modules.dep" ] || { echo "guest-image: no modules for $KVER in $moddir" >&2; exit 1; }
# A modules tree outside the package manager (the debug kernel) is
# identified by its modules.dep: a rebuilt kernel gets a new image.
key=$( { cat "$0" "$here/guest/init"; echo "$KVER $MODROOT"
	 [ -z "$MODROOT" ] || cat "$moddir/modules.dep"
	 pkgver "linux-image-$KVER" nvme-cli fio iproute2 rdma-core perftest \
		busybox-static kmod bash libc6 jq dmsetup; } | sha256sum | cut -c1-16)
img="$out/initrd-$KVER-$key.cpio"
if [ -s "$img" ]; then
	echo "$img"
	exit 0
fi

root=$(mktemp -d "$out/root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,xfer,var/tmp,mnt,lib64} \
	 "$root"/usr/{bin,sbin} "$root/etc/nvme"

copy_file() {	# copy a file keeping its absolute path, following links
	local src=$1 dst
	dst="$root$src"
	[ -e "$dst" ] && return 0
	mkdir -p "$(dirname "$dst")"
	cp -L "$src" "$dst"
}

copy_with_libs() {
	local lib
	copy_file "$1"
	for lib in $(ldd "$1" 2>/dev/null | awk '$3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
		copy_file "$lib"
	done
}

cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done

for b in "${bins[@]}"; do
	p=$(command -v "$b") || { echo "guest-image: $b not found; run scripts/install-deps.sh" >&2; exit 1; }
	copy_with_libs "$p"
	ln -sf "$p" "$root/bin/$b"
done
for t in modprobe insmod rmmod lsmod depmod modinfo; do
	ln -sf /usr/bin/kmod "$root/sbin/$t"
done
ln -sf /usr/bin/bash "$root/bin/sh.bash"

# libibverbs loads its providers by name from these two places.
mkdir -p "$root/etc/libibverbs.d"
cp /etc/libibverbs.d/rxe.driver "$root/etc/libibverbs.d/"
for p in /usr/lib/x86_64-linux-gnu/libibverbs/librxe-rdmav*.so; do
	copy_with_libs "$p"
done
copy_with_libs /usr/lib/x86_64-linux-gnu/libibverbs.so.1
copy_with_libs /usr/lib/x86_64-linux-gnu/librdmacm.so.1

# Modules may be built in (modprobe then prints "builtin NAME").
{
	for m in "${mods[@]}"; do
		modprobe ${MODROOT:+-d "$MODROOT"} -S "$KVER" --show-depends "$m" ||
			{ echo "guest-image: module $m not found for $KVER in $moddir" >&2; exit 1; }
	done
	for m in "${optional_mods[@]}"; do
		modprobe ${MODROOT:+-d "$MODROOT"} -S "$KVER" --show-depends "$m" 2> /dev/null || true
	done
} | awk '$1 == "insmod" {print $2}' | sort -u | while read -r ko; do
	rel=${ko#"$moddir"/}
	mkdir -p "$(dirname "$root/lib/modules/$KVER/$rel")"
	cp -L "$ko" "$root/lib/modules/$KVER/$rel"
done
mkdir -p "$root/lib/modules/$KVER"
cp "$moddir"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$KVER/"
depmod -b "$root" "$KVER"

echo 'root:x:0:0:root:/root:/bin/bash' > "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"
cp "$here/guest/init" "$root/init"
chmod 755 "$root/init"

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) > "$img.tmp.$$"
# Runs side by side may build the same image: the last rename wins, whole.
mv "$img.tmp.$$" "$img"
# Keep only the current image.
find "$out" -maxdepth 1 -name "initrd-$KVER-*.cpio" ! -name "$(basename "$img")" -delete
echo "$img"
