#!/usr/bin/env bash
# Sets up and runs a NekkoMetal boot server with its own embedded etcd.
#   scripts/run-bootserver.sh [nekko-bootserver options]      (see --help)
# Installs Debian's etcd-server if missing, builds nekko-bootserver and nekkoctl into artifacts/, and runs the
# boot server in the foreground. State lives in $NEKKO_DATA_DIR (default /var/lib/nekkometal). Idempotent.
source "$(dirname "$0")/lib.sh"
apt_install etcd-server ca-certificates curl
need_dotnet
cd "$REPO"
echo "==> building nekko-bootserver and nekkoctl (Release) into artifacts/"
dotnet publish src/BootServer/BootServer.csproj -c Release -o artifacts/bootserver --nologo -v q -p:UseAppHost=true >/dev/null
dotnet publish src/Cli/Cli.csproj -c Release -o artifacts/nekkoctl --nologo -v q >/dev/null
DATA_DIR="${NEKKO_DATA_DIR:-/var/lib/nekkometal}"
mkdir -p "$DATA_DIR"
echo "==> starting nekko-bootserver (data in $DATA_DIR); nekkoctl is artifacts/nekkoctl/nekkoctl"
exec artifacts/bootserver/nekko-bootserver --data-dir "$DATA_DIR" "$@"
