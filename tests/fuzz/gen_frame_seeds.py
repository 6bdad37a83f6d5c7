# tests/fuzz/gen_frame_seeds.py: writes the seed corpus of fuzz_frame
# (valid ARP, ICMP, fragments, UDP and a TCP SYN to port 7).
# Run with Debian's python3 (scapy): /usr/bin/python3 tests/fuzz/gen_frame_seeds.py
import struct, os
from scapy.all import Ether, IP, ICMP, UDP, TCP, ARP, Raw, fragment, IPOption_NOP, IPOption_RR
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'fuzz_frame')
US_MAC, PEER_MAC = '02:00:00:00:00:02', '02:00:00:00:00:01'
US, PEER = '192.0.2.2', '192.0.2.1'
def eth(): return Ether(src=PEER_MAC, dst=US_MAC)
arp_req = bytes(Ether(src=PEER_MAC, dst='ff:ff:ff:ff:ff:ff')/ARP(op=1, hwsrc=PEER_MAC, psrc=PEER, hwdst='00:00:00:00:00:00', pdst=US))
def single(f, adv=0, fix=True): return bytes([0x80 | (0x40 if fix else 0) | adv]) + f
def records(frames, fix=True):
    out = b'\x40' if fix else b'\x00'
    for dt, f in frames:
        out += struct.pack('>BH', dt, len(f)) + f
    return out
def w(name, data):
    open(os.path.join(OUT, name), 'wb').write(data)
ping = bytes(eth()/IP(src=PEER, dst=US, id=0x8c3e, flags='DF')/ICMP(id=0x34be, seq=1)/Raw(b'synack'*6))
w('arp_request', single(arp_req))
w('arp_other', single(bytes(Ether(src=PEER_MAC, dst='ff:ff:ff:ff:ff:ff')/ARP(op=1, hwsrc=PEER_MAC, psrc=PEER, pdst='192.0.2.3'))))
w('arp_reply', single(bytes(Ether(src=PEER_MAC, dst=US_MAC)/ARP(op=2, hwsrc=PEER_MAC, psrc=PEER, hwdst=US_MAC, pdst=US))))
w('ping_resolved', records([(0, arp_req), (0, ping)]))
w('ping_unresolved', single(ping, 2))
w('ping_options', records([(0, arp_req), (0, bytes(eth()/IP(src=PEER, dst=US, options=[IPOption_RR(routers=['0.0.0.0']*2), IPOption_NOP()])/ICMP(id=1, seq=2)/Raw(b'opts')))]))
w('ping_padded', records([(0, arp_req), (0, bytes(eth()/IP(src=PEER, dst=US)/ICMP(id=1, seq=3)) + b'\xa5' * 18)]))
big = IP(src=PEER, dst=US, id=0x8c44)/ICMP(id=0x34c0, seq=1)/Raw(bytes(range(256)) * 8)
frags = [bytes(eth()/f) for f in fragment(big, fragsize=1480)]
w('frag_2k', records([(0, arp_req)] + [(0, f) for f in frags]))
huge = IP(src=PEER, dst=US, id=0x1234)/ICMP(id=7, seq=7)/Raw(bytes((i * 7) & 255 for i in range(4000)))
hfr = [bytes(eth()/f) for f in fragment(huge, fragsize=1480)]
w('frag_4k_reverse', records([(0, arp_req)] + [(0, f) for f in reversed(hfr)]))
ov1 = IP(src=PEER, dst=US, id=99, proto=1, flags='MF', frag=0)/Raw(b'A' * 64)
ov2 = IP(src=PEER, dst=US, id=99, proto=1, flags='MF', frag=4)/Raw(b'B' * 64)
w('frag_overlap', records([(0, arp_req), (0, bytes(eth()/ov1)), (0, bytes(eth()/ov2))] + [(0, f) for f in frags]))
w('frag_timeout', records([(0, arp_req), (0, frags[0]), (200, b'')]))
w('frag_too_big', single(bytes(eth()/IP(src=PEER, dst=US, id=5, proto=1, frag=8189)/Raw(b'X' * 24))))
syn7 = bytes(eth()/IP(src=PEER, dst=US, id=0x8cc0, flags='DF')/TCP(sport=45679, dport=7, seq=1633506773, flags='S', window=64240, options=[('MSS', 1460), ('SAckOK', b''), ('Timestamp', (533210054, 0)), ('NOP', None), ('WScale', 10)]))
w('tcp_syn_port7', records([(0, arp_req), (0, syn7)]))
w('tcp_syn_port7_unresolved', single(syn7, 1))
w('tcp_syn_closed', records([(0, arp_req), (0, bytes(eth()/IP(src=PEER, dst=US)/TCP(sport=40000, dport=80, seq=1, flags='S')))]))
w('tcp_syn_ack_data', records([(0, arp_req), (0, syn7), (1, bytes(eth()/IP(src=PEER, dst=US)/TCP(sport=45679, dport=7, seq=1633506774, ack=1, flags='A', window=502)/Raw(b'hello')))]))
w('udp_port9', records([(0, arp_req), (0, bytes(eth()/IP(src=PEER, dst=US)/UDP(sport=45678, dport=9)/Raw(b'hi\n')))]))
w('unknown_proto', records([(0, arp_req), (0, bytes(eth()/IP(src=PEER, dst=US, proto=253)/Raw(b'12345678')))]))
inner = bytes(IP(src=US, dst=PEER)/TCP(sport=7, dport=45679, seq=1, flags='SA'))[:28]
w('icmp_unreach_tcp', records([(0, arp_req), (0, bytes(eth()/IP(src=PEER, dst=US)/ICMP(type=3, code=4, nexthopmtu=1280)/Raw(inner)))]))
w('icmp_bad_csum', records([(0, arp_req), (0, bytes(eth()/IP(src=PEER, dst=US)/ICMP(id=1, seq=1, chksum=0x1234)/Raw(b'x')))], fix=False))
w('ip_bad_ihl', single(bytes(eth()/IP(src=PEER, dst=US, ihl=3)/ICMP())))
w('ip_ttl0', single(bytes(eth()/IP(src=PEER, dst=US, ttl=0)/ICMP())))
w('eth_short', single(b'\x02\x00\x00\x00\x00\x02\x02\x00'))
for n in sorted(os.listdir(OUT)):
    print(n, os.path.getsize(os.path.join(OUT, n)))

w('ip_bad_csum_nofix', single(bytes(eth()/IP(src=PEER, dst=US, chksum=0xdead)/ICMP()), fix=False))
