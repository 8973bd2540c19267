#!/usr/bin/env bash
# Builds the discovery image (kernel + initramfs) the boot server hands to unknown machines, into the boot
# server's discovery directory. Idempotent; rerun after a Debian kernel update.
#   scripts/build-discovery-image.sh [generic|cloud] [OUT]    (default: generic, $NEKKO_DATA_DIR/discovery)
source "$(dirname "$0")/lib.sh"
apt_install busybox-static cpio gzip
FLAVOUR="${1:-generic}"
OUT="${2:-${NEKKO_DATA_DIR:-/var/lib/nekkometal}/discovery}"
exec "$REPO/discovery/build.sh" "$OUT" "$FLAVOUR"
