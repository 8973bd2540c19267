#!/usr/bin/env bash
# Runs the whole test suite: installs what the tests need on a fresh Debian 12 machine (idempotent),
# checks formatting, builds with warnings as errors, runs every test project, and prints one summary line.
source "$(dirname "$0")/lib.sh"
# etcd-server: real etcd for inventory and API tests; procps: kill(1) for the process tests; curl, atftp: TFTP
# clients; iproute2, busybox-static, isc-dhcp-client: DHCP clients in network namespaces; qemu-system-x86,
# ipxe-qemu, ipxe, ovmf: network-boot VMs (end-to-end); cpio, gzip: building the discovery image; dnsmasq-base:
# the home router beside which proxyDHCP is tested; systemd-container, debootstrap, openssh-client, util-linux: the
# systemd-nspawn test nodes (docs/test-nodes.md).
apt_install etcd-server procps ca-certificates curl atftp iproute2 busybox-static isc-dhcp-client \
  qemu-system-x86 ipxe-qemu ipxe ovmf cpio gzip dnsmasq-base systemd-container debootstrap openssh-client util-linux
need_dotnet
cd "$REPO"
echo "==> restore"
dotnet restore NekkoMetal.sln --nologo -v q
echo "==> build (warnings are errors)"
dotnet build NekkoMetal.sln --no-restore --nologo -v q -clp:ErrorsOnly
echo "==> dotnet format --verify-no-changes"
dotnet format NekkoMetal.sln --no-restore --verify-no-changes -v q
results="$REPO/artifacts/test-results"
rm -rf "$results"
echo "==> test"
status=0
dotnet test NekkoMetal.sln --no-build --nologo -v q --logger "trx" --results-directory "$results" -- RunConfiguration.TreatNoTestsAsError=true || status=$?
passed=0 failed=0 skipped=0 total=0
for f in "$results"/*.trx; do
  [ -e "$f" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$f" | head -n1)
  get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  total=$((total + $(get total))); passed=$((passed + $(get passed))); failed=$((failed + $(get failed)))
  skipped=$((skipped + $(get total) - $(get executed)))
done
if [ "$total" -eq 0 ]; then echo "error: no test ran" >&2; status=1; fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
