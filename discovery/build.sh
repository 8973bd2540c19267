#!/usr/bin/env bash
# Builds the discovery image from Debian packages: a kernel (linux-image-{generic,cloud}-amd64), static busybox
# with the NIC driver modules, and ./init as PID 1. Writes vmlinuz and initrd.img into OUT.
#   discovery/build.sh OUT [generic|cloud]
# generic: every Ethernet driver of Debian's generic kernel (real laptops, mini-PCs, servers);
# cloud: virtio and a few virtual NICs only (VMs; smaller and LZ4, much faster under qemu without KVM).
set -euo pipefail
OUT="${1:?usage: build.sh OUT [generic|cloud]}"
FLAVOUR="${2:-generic}"
HERE="$(cd "$(dirname "$0")" && pwd)"
case "$FLAVOUR" in generic) meta=linux-image-amd64 ;; cloud) meta=linux-image-cloud-amd64 ;; *) echo "flavour must be generic or cloud" >&2; exit 2 ;; esac
pkg="$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
if [ -z "$pkg" ]; then
  apt-get update -qq >/dev/null 2>&1 || true
  pkg="$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
fi
[ -n "$pkg" ] || { echo "cannot resolve $meta to a kernel package (apt-get update?)" >&2; exit 1; }
kver="${pkg#linux-image-}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
(cd "$work" && apt-get download "$pkg" >/dev/null 2>&1)
dpkg-deb -x "$work"/"$pkg"_*.deb "$work/kernel"
root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,etc,tmp,run} "$root/lib/modules/$kver"
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"; done
mods="$work/kernel/lib/modules/$kver"
(cd "$mods" && { find kernel/drivers/net/ethernet kernel/drivers/net/virtio_net.ko* kernel/drivers/net/net_failover.ko* \
    kernel/net/core/failover.ko* kernel/drivers/virtio kernel/drivers/net/mii.ko* kernel/drivers/net/phy \
    kernel/drivers/net/mdio kernel/drivers/net/pcs kernel/drivers/ptp kernel/drivers/pps kernel/drivers/dca kernel/lib \
    kernel/drivers/net/usb -name '*.ko*' 2>/dev/null || true; } | cpio -pdm --quiet "$root/lib/modules/$kver")
cp "$mods"/modules.order "$mods"/modules.builtin "$root/lib/modules/$kver/" 2>/dev/null || true
"$root/bin/busybox" depmod -b "$root" "$kver"
install -m 0755 "$HERE/init" "$root/init"
install -m 0755 "$HERE/udhcpc.script" "$root/etc/udhcpc.script"
mkdir -p "$OUT"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 > "$OUT/initrd.img.tmp")
cp "$work/kernel/boot/vmlinuz-$kver" "$OUT/vmlinuz.tmp"
mv "$OUT/initrd.img.tmp" "$OUT/initrd.img"
mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
echo "discovery image ($FLAVOUR, kernel $kver): $OUT/vmlinuz $(du -h "$OUT/vmlinuz" | cut -f1), $OUT/initrd.img $(du -h "$OUT/initrd.img" | cut -f1)"
