#!/usr/bin/env bash
# VM start → registered: a qemu VM (TCG, BIOS, qemu's iPXE ROM) with an unknown MAC network-boots the discovery
# image and registers. Two set-ups, interleaved in one run (issue 3, "Must show" 5):
#   ours:      nekko-bootserver alone (its DHCP with router advertisements, TFTP, HTTP)
#   reference: dnsmasq as the DHCP server (the recipe of shared/PXE-VM.md: no-ping, option 175.176, RA) pointing
#              iPXE at the same boot server, whose DHCP is off — so only the DHCP side differs.
#   bench/vmboot.sh [ROUNDS]      (default 3)
# Needs root, qemu-system-x86, ipxe-qemu, dnsmasq-base, the built boot server (Debug) and the cloud discovery
# image (built into /var/tmp/nekkometal-tests/discovery-cloud if missing). Everything runs inside a network
# namespace of its own, deleted at the end.
set -euo pipefail
ROUNDS="${1:-3}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DLL="$ROOT/src/BootServer/bin/Debug/net10.0/nekko-bootserver.dll"
DISC="${NEKKO_TEST_CACHE:-/var/tmp/nekkometal-tests}/discovery-cloud"
[ -f "$DLL" ] || { echo "build the boot server first: dotnet build src/BootServer" >&2; exit 1; }
[ -f "$DISC/initrd.img" ] || "$ROOT/discovery/build.sh" "$DISC" cloud
NS="nekko-vmb-$$"
WORK="$(mktemp -d)"
cleanup() { pkill -f "$WORK" 2>/dev/null || true; ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null || true; sleep 1; ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add br0 type bridge stp_state 0 forward_delay 0
ip -n "$NS" addr add 10.214.9.1/24 dev br0
ip -n "$NS" addr add fd00:9::1/64 dev br0 nodad
ip -n "$NS" tuntap add dev tap0 mode tap
ip -n "$NS" link set tap0 master br0; ip -n "$NS" link set tap0 up; ip -n "$NS" link set br0 up

start_server() { # $1 = dhcp on|off
  rm -rf "$WORK/data"; mkdir -p "$WORK/data"
  local dhcp=()
  [ "$1" = on ] && dhcp=(--dhcp-interfaces br0=authoritative --dhcp-router-advertisements true)
  ip netns exec "$NS" dotnet "$DLL" --data-dir "$WORK/data" --http-url http://10.214.9.1:8080 --https-url https://10.214.9.1:8443 --tftp-port 0 \
    --discovery-dir "$DISC" --discovery-kernel-args "console=ttyS0 panic=-1 cryptomgr.notests" "${dhcp[@]}" > "$WORK/server.log" 2>&1 &
  for _ in $(seq 1 120); do ip netns exec "$NS" curl -sf http://10.214.9.1:8080/health/ready >/dev/null && break; sleep 0.5; done
  ip netns exec "$NS" curl -sf --cacert "$WORK/data/ca.pem" -XPUT -H "Authorization: Bearer $(cat "$WORK/data/admin.token")" -H 'Content-Type: application/json' \
    https://10.214.9.1:8443/api/v1/ipam -d '{"subnets":[{"name":"lab","cidr":"10.214.9.0/24","rangeStart":"10.214.9.10","rangeEnd":"10.214.9.99","dhcpRangeStart":"10.214.9.100","dhcpRangeEnd":"10.214.9.200"}]}' >/dev/null
}
stop_server() { pkill -TERM -f "$WORK/data" || true; sleep 2; }

boot_vm() { # prints seconds from qemu start to the NEKKO-DISCOVERED line
  local log="$WORK/vm.log" t0 t1
  rm -f "$log"
  t0=$(date +%s.%N)
  timeout 240 ip netns exec "$NS" qemu-system-x86_64 -accel tcg,thread=multi -m 512 -smp 1 -nographic -serial stdio -monitor none -no-reboot \
    -smbios type=1,serial="BENCH-$RANDOM" -netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
    -device virtio-net-pci,netdev=n0,mac=52:54:00:b0:0$((RANDOM % 10)):$((RANDOM % 90 + 10)),bootindex=1 > "$log" 2>&1 &
  local q=$!
  while kill -0 $q 2>/dev/null && ! grep -q NEKKO-DISCOVERED "$log" 2>/dev/null; do sleep 0.05; done
  t1=$(date +%s.%N)
  wait $q || true
  grep -q NEKKO-DISCOVERED "$log" || { echo "FAILED"; return; }
  echo "$t1 - $t0" | bc
}

declare -a OURS REF
for r in $(seq 1 "$ROUNDS"); do
  start_server on; OURS+=("$(boot_vm)"); stop_server
  start_server off
  ip netns exec "$NS" dnsmasq --no-daemon --conf-file=/dev/null --user=root --port=0 --interface=br0 --bind-interfaces \
    --dhcp-range=10.214.9.100,10.214.9.200,12h --dhcp-match=set:ipxe,175 --dhcp-boot=tag:ipxe,http://10.214.9.1:8080/boot/boot.ipxe \
    --no-ping --dhcp-option=tag:ipxe,175,176:1 --enable-ra --dhcp-range=::,constructor:br0,ra-only --ra-param=br0,mtu:1500,high,60,0 \
    --dhcp-leasefile="$WORK/dnsmasq.leases" --pid-file= > "$WORK/dnsmasq.log" 2>&1 &
  local_dns=$!
  REF+=("$(boot_vm)")
  kill "$local_dns"; stop_server
  echo "round $r: ours ${OURS[-1]} s, dnsmasq reference ${REF[-1]} s (load $(cut -d' ' -f1-3 /proc/loadavg))"
done
median() { printf '%s\n' "$@" | grep -v FAILED | sort -n | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
mo=$(median "${OURS[@]}"); mr=$(median "${REF[@]}")
echo "VM start → registered, median of $ROUNDS: ours $mo s, dnsmasq reference $mr s, ratio $(echo "scale=2; $mo / $mr" | bc)"
