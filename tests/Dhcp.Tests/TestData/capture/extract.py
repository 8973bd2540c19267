# Minimal pcap reader: yields (sport, dport, udp payload) of IPv4/UDP frames on Ethernet.
import struct, sys, os
def packets(path):
    d = open(path, 'rb').read()
    magic = struct.unpack('<I', d[:4])[0]
    assert magic == 0xa1b2c3d4, hex(magic)
    linktype = struct.unpack('<I', d[20:24])[0]
    assert linktype == 1
    off = 24
    while off + 16 <= len(d):
        ts, tu, incl, orig = struct.unpack('<IIII', d[off:off+16]); off += 16
        frame = d[off:off+incl]; off += incl
        if struct.unpack('>H', frame[12:14])[0] != 0x0800: continue
        ihl = (frame[14] & 0xf) * 4
        ip = frame[14:]
        if ip[9] != 17: continue
        udp = ip[ihl:]
        sport, dport, ulen = struct.unpack('>HHH', udp[:6])
        yield sport, dport, udp[8:ulen]
names = {1:'DISCOVER',2:'OFFER',3:'REQUEST',4:'DECLINE',5:'ACK',6:'NAK',7:'RELEASE',8:'INFORM'}
def mtype(p):
    i = 240
    while i < len(p):
        c = p[i]
        if c == 0: i += 1; continue
        if c == 255: break
        l = p[i+1]
        if c == 53: return names.get(p[i+2], str(p[i+2]))
        i += 2 + l
    return '?'
if __name__ == '__main__':
    for path in sys.argv[1:]:
        for n, (s, dp, payload) in enumerate(packets(path)):
            print(path, n, s, dp, len(payload), mtype(payload), payload[4:8].hex())
