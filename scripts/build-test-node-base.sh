#!/usr/bin/env bash
# Builds the shared root filesystem of the systemd-nspawn test nodes (Debian 12 minbase with systemd, sshd and
# etcd), once: ./build-test-node-base.sh DIR. Idempotent: DIR/.complete marks a finished build; a half-built DIR
# is thrown away and built again. Needs root, debootstrap and a Debian mirror (the one apt uses here).
set -euo pipefail
base="${1:?usage: build-test-node-base.sh DIR}"
[ -e "$base/.complete" ] && exit 0
# the mirror apt uses: deb822 "URIs:" lines or one-line "deb URL" entries (not security, not comments)
mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null \
  | sed -n -e 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' -e 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\).*/\2/p' \
  | grep -v security | head -n1 || true)
mirror="${mirror:-http://deb.debian.org/debian}"
tmp="$base.tmp.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp" "$tmp.log"' ERR
mkdir -p "$(dirname "$base")"
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,openssh-server,iproute2,iputils-ping,procps,ca-certificates,curl,etcd-server,etcd-client \
  bookworm "$tmp" "$mirror" >"$tmp.log" 2>&1 || { tail -n 30 "$tmp.log" >&2; exit 1; }
rm -f "$tmp/etc/hostname" "$tmp"/etc/ssh/ssh_host_*
: >"$tmp/etc/machine-id"
chroot "$tmp" systemctl disable etcd.service >/dev/null 2>&1 || true
chroot "$tmp" systemctl enable systemd-networkd.service >/dev/null 2>&1
mkdir -p "$tmp/etc/systemd/system/ssh.service.d"
printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' >"$tmp/etc/systemd/system/ssh.service.d/host-keys.conf"
rm -rf "$tmp/var/cache/apt/archives"/*.deb
touch "$tmp/.complete"
rm -rf "$base" "$tmp.log"
mv "$tmp" "$base"
