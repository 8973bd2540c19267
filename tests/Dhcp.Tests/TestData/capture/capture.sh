#!/bin/bash
# Captures DHCP traffic of real clients inside two private network namespaces (root needed).
# Usage: capture.sh [workdir]; then: cd workdir && python3 $HERE/pick.py <TestData dir>
# Packages: tcpdump busybox-static isc-dhcp-client qemu-system-x86 ipxe-qemu ovmf (Debian 12).
# Nothing leaves the namespaces: the server (busybox udhcpd) and all clients sit on one veth pair.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:-$(mktemp -d /tmp/nekko-cap.XXXXXX)}
mkdir -p "$W"; cp "$HERE/udhcpc.script" "$HERE/dhclient.script" "$HERE/extract.py" "$W/"
ID=$$
C=nekko-cap-$ID-c
S=nekko-cap-$ID-s
cleanup() {
  [ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
  ip netns pids "$C" 2>/dev/null | xargs -r kill 2>/dev/null
  ip netns pids "$S" 2>/dev/null | xargs -r kill 2>/dev/null
  sleep 1
  ip netns del "$C" 2>/dev/null; ip netns del "$S" 2>/dev/null
}
trap cleanup EXIT
ip netns add "$C"; ip netns add "$S"
ip -n "$C" link add vc0 type veth peer name vs0 netns "$S"
ip -n "$C" link add br0 type bridge stp_state 0 forward_delay 0
ip -n "$C" link set vc0 master br0
ip -n "$C" tuntap add dev tap0 mode tap
ip -n "$C" link set tap0 master br0
for l in lo vc0 br0 tap0; do ip -n "$C" link set "$l" up; done
ip -n "$S" link set lo up; ip -n "$S" link set vs0 up
ip -n "$S" addr add 10.215.0.1/24 dev vs0
: > $W/udhcpd.leases
cat > $W/udhcpd.conf <<CONF
start 10.215.0.100
end 10.215.0.150
interface vs0
lease_file $W/udhcpd.leases
pidfile $W/udhcpd.pid
siaddr 10.215.0.1
boot_file nekko-none.efi
opt subnet 255.255.255.0
opt router 10.215.0.1
opt lease 600
CONF
ip netns exec "$S" busybox udhcpd -f $W/udhcpd.conf > $W/udhcpd.log 2>&1 &
SRV=$!
sleep 1
cap() { # name
  ip netns exec "$S" tcpdump -i vs0 -U -w "$W/$1.pcap" 'udp port 67 or udp port 68' > "$W/$1.tcpdump.log" 2>&1 &
  TD=$!; sleep 1
}
endcap() { sleep 1; kill -INT "$TD"; wait "$TD" 2>/dev/null; }

# 1. busybox udhcpc: discover, request, renew (SIGUSR1), release on exit (-R)
cap udhcpc
ip netns exec "$C" busybox udhcpc -i br0 -f -R -s $W/udhcpc.script -x hostname:nekko-cap-host > $W/udhcpc.log 2>&1 &
P=$!; sleep 4; kill -USR1 $P; sleep 3; kill -TERM $P; wait $P
endcap

# 2. busybox udhcpc with PXE-style vendor options given on the command line
cap udhcpc-pxe
ip netns exec "$C" busybox udhcpc -i br0 -f -q -n -t 3 -s $W/udhcpc.script \
  -V PXEClient:Arch:00000:UNDI:002001 -x 0x5d:0000 -x 0x5e:010201 \
  -x 0x61:0044454c4c420010358051b4c04f4e3232 -O 0x2b -O 0x42 -O 0x43 > $W/udhcpc-pxe.log 2>&1
ip -n "$C" addr flush dev br0
endcap

# 3. ISC dhclient: discover+request, release, init-reboot request
cap dhclient
rm -f $W/dhclient.leases
ip netns exec "$C" dhclient -4 -1 -v -sf $W/dhclient.script -lf $W/dhclient.leases -pf $W/dhclient.pid br0 > $W/dhclient.log 2>&1
sleep 1
ip netns exec "$C" dhclient -4 -r -v -sf $W/dhclient.script -lf $W/dhclient.leases -pf $W/dhclient.pid br0 >> $W/dhclient.log 2>&1
sleep 1
ip netns exec "$C" dhclient -4 -1 -v -sf $W/dhclient.script -lf $W/dhclient.leases -pf $W/dhclient.pid br0 >> $W/dhclient.log 2>&1
sleep 1
ip netns exec "$C" dhclient -4 -x -v -sf $W/dhclient.script -lf $W/dhclient.leases -pf $W/dhclient.pid br0 >> $W/dhclient.log 2>&1
ip -n "$C" addr flush dev br0
endcap

qvm() { # name seconds extra-args...
  local name=$1 secs=$2; shift 2
  cap "$name"
  ip netns exec "$C" timeout "$secs" qemu-system-x86_64 -accel tcg,thread=multi -m 256 -smp 1 \
    -display none -serial file:$W/$name.serial -monitor none -no-reboot \
    -smbios type=1,serial=NEKKO-CAP-0001 -uuid 4c4c4544-0042-3510-8051-b4c04f4e3232 \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no "$@" > $W/$name.qemu.log 2>&1
  endcap
}
if [ "${SKIP_VM:-0}" != 1 ]; then
  qvm ipxe-bios 25 -device virtio-net-pci,netdev=n0,mac=52:54:00:21:40:01,bootindex=1
  qvm ipxe-efi 50 -bios /usr/share/ovmf/OVMF.fd -device virtio-net-pci,netdev=n0,mac=52:54:00:21:40:02,bootindex=1
  qvm ovmf-pxe 60 -bios /usr/share/ovmf/OVMF.fd -fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=no \
     -device virtio-net-pci,netdev=n0,mac=52:54:00:21:40:03,bootindex=1,romfile=
  qvm ovmf-http 60 -bios /usr/share/ovmf/OVMF.fd -fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=no \
     -fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=no \
     -device virtio-net-pci,netdev=n0,mac=52:54:00:21:40:04,bootindex=1,romfile=
fi
echo "pcaps in $W"
