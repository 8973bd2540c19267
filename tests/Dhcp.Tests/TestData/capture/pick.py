# Picks the golden packets out of the pcaps written by capture.sh (run inside its workdir).
import sys, os
from extract import packets
out = sys.argv[1]
picks = [
 ('udhcpc.pcap', 0, 'udhcpc-discover.bin'),
 ('udhcpc.pcap', 2, 'udhcpc-request-selecting.bin'),
 ('udhcpc.pcap', 4, 'udhcpc-request-renewing.bin'),
 ('udhcpc.pcap', 6, 'udhcpc-release.bin'),
 ('udhcpc.pcap', 1, 'udhcpd-offer.bin'),
 ('udhcpc.pcap', 3, 'udhcpd-ack.bin'),
 ('udhcpc-pxe.pcap', 0, 'udhcpc-pxe-options-discover.bin'),
 ('dhclient.pcap', 0, 'dhclient-discover.bin'),
 ('dhclient.pcap', 2, 'dhclient-request-selecting.bin'),
 ('dhclient.pcap', 4, 'dhclient-release.bin'),
 ('dhclient.pcap', 9, 'dhclient-request-init-reboot.bin'),
 ('ipxe-bios.pcap', 0, 'ipxe-bios-discover.bin'),
 ('ipxe-bios.pcap', 4, 'ipxe-bios-request.bin'),
 ('ipxe-efi.pcap', 0, 'ipxe-efi-discover.bin'),
 ('ipxe-efi.pcap', 4, 'ipxe-efi-request.bin'),
 ('ovmf-pxe.pcap', 0, 'ovmf-pxe-discover.bin'),
 ('ovmf-pxe.pcap', 2, 'ovmf-pxe-request.bin'),
 ('ovmf-http.pcap', 0, 'ovmf-http-discover.bin'),
]
for pcap, idx, name in picks:
    p = list(packets(pcap))[idx][2]
    open(os.path.join(out, name), 'wb').write(p)
    print(name, len(p), p[4:8].hex())
