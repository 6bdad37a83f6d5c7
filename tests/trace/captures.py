#!/usr/bin/python3
# tests/trace/captures.py OUTDIR: writes the small captures the trace tests
# read, with scapy, the same bytes on every run (fixed addresses, ISNs,
# options and timestamps). One scenario per file:
#
#   handshake.pcap      three-way handshake, a request and a response, the
#                       server closes first (HTTP/1.0 style)
#   simopen.pcap        simultaneous open, then simultaneous close
#                       (RFC 9293 3.5 figures 7 and 12)
#   rst.pcap            a refused SYN (RST,ACK), and an established
#                       connection reset by its server
#   retrans.pcap        a segment the capture missed, duplicate ACKs with
#                       SACK, a fast retransmission, a reordered segment, a
#                       timeout retransmission
#   zerowin.pcap        the receiver's window closes, window probes, the
#                       window update, a keep-alive
#   halfclose.pcap      the client shuts down writing; the server keeps
#                       sending in CLOSE-WAIT, then closes
#   bulk.pcap           40 data segments (for --max folding)
#   reuse.pcap          two connections on one 4-tuple, one after the other,
#                       and reuse-states.jsonl, the server's state trace
#   handshake-raw.pcap, -ipv4.pcap, -sll.pcap, -sll2.pcap, .pcapng
#                       handshake.pcap's segments over other link types
#
# Run with /usr/bin/python3 (Debian's python3-scapy).
import logging
import os
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Ether
from scapy.utils import PcapNgWriter, wrpcap

T0 = 1700000000.0
CMAC, SMAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
CIP, SIP = "192.0.2.1", "192.0.2.2"


class Conv:
    """A conversation between a client and a server: seg() appends one
    segment from either side, at a time in milliseconds after T0."""

    def __init__(self, cport, sport, cip=CIP, sip=SIP):
        self.c = (cip, cport)
        self.s = (sip, sport)
        self.pkts = []

    def seg(self, ms, frm, flags, seq, ack=0, data=b"", win=502, opts=None):
        src, dst = (self.c, self.s) if frm == "c" else (self.s, self.c)
        tcp = TCP(sport=src[1], dport=dst[1], flags=flags, seq=seq, ack=ack, window=win,
                  options=opts if opts is not None else [])
        ip = IP(src=src[0], dst=dst[0], id=len(self.pkts) + 1, flags="DF", ttl=64) / tcp
        if data:
            ip = ip / data
        ip.time = T0 + ms / 1000.0
        self.pkts.append(ip)


SYN_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (100, 0)), ("NOP", None),
            ("WScale", 7)]
SYNACK_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (200, 100)), ("NOP", None),
               ("WScale", 7)]


def ts(val, ecr):
    return [("NOP", None), ("NOP", None), ("Timestamp", (val, ecr))]


def handshake():
    k = Conv(40000, 80)
    k.seg(0.0, "c", "S", 1000, win=64240, opts=SYN_OPTS)
    k.seg(0.5, "s", "SA", 5000, 1001, win=65160, opts=SYNACK_OPTS)
    k.seg(1.0, "c", "A", 1001, 5001, opts=ts(101, 200))
    k.seg(1.2, "c", "PA", 1001, 5001, b"GET / HTTP/1.0\r\n\r\n", opts=ts(101, 200))
    k.seg(1.5, "s", "A", 5001, 1019, win=509, opts=ts(201, 101))
    k.seg(3.0, "s", "PA", 5001, 1019, b"x" * 100, win=509, opts=ts(202, 101))
    k.seg(3.1, "s", "FA", 5101, 1019, win=509, opts=ts(202, 101))
    k.seg(3.5, "c", "A", 1019, 5101, opts=ts(103, 202))
    k.seg(3.6, "c", "FA", 1019, 5102, opts=ts(103, 202))
    k.seg(4.0, "s", "A", 5102, 1020, win=509, opts=ts(203, 103))
    return k.pkts


def simopen():
    k = Conv(5000, 6000)
    k.seg(0.0, "c", "S", 100, win=64240, opts=[("MSS", 1460)])
    k.seg(0.1, "s", "S", 900, win=64240, opts=[("MSS", 1460)])
    k.seg(0.5, "c", "SA", 100, 901, win=64240, opts=[("MSS", 1460)])
    k.seg(0.6, "s", "SA", 900, 101, win=64240, opts=[("MSS", 1460)])
    k.seg(2.0, "c", "PA", 101, 901, b"hello", win=64240)
    k.seg(2.4, "s", "A", 901, 106, win=64240)
    # Both close at once: each FIN acknowledges only the other's data.
    k.seg(5.0, "c", "FA", 106, 901, win=64240)
    k.seg(5.1, "s", "FA", 901, 106, win=64240)
    k.seg(5.5, "c", "A", 107, 902, win=64240)
    k.seg(5.6, "s", "A", 902, 107, win=64240)
    return k.pkts


def rst():
    refused = Conv(40001, 81)
    refused.seg(0.0, "c", "S", 7000, win=64240, opts=SYN_OPTS)
    refused.seg(0.2, "s", "RA", 0, 7001, win=0)
    reset = Conv(40002, 80)
    reset.seg(10.0, "c", "S", 2000, win=64240, opts=SYN_OPTS)
    reset.seg(10.5, "s", "SA", 9000, 2001, win=65160, opts=SYNACK_OPTS)
    reset.seg(11.0, "c", "A", 2001, 9001, opts=ts(101, 200))
    reset.seg(11.2, "c", "PA", 2001, 9001, b"hello\n", opts=ts(101, 200))
    reset.seg(11.6, "s", "RA", 9001, 2007, win=0)
    return refused.pkts + reset.pkts


def retrans():
    k = Conv(40003, 80)
    k.seg(0.0, "c", "S", 0, win=64240, opts=SYN_OPTS)
    k.seg(10.0, "s", "SA", 50000, 1, win=65160, opts=SYNACK_OPTS)
    k.seg(20.0, "c", "A", 1, 50001)
    d = b"d" * 1000
    k.seg(21.0, "c", "PA", 1, 50001, d)
    # 1001:2001 went out but the capture missed it.
    k.seg(21.1, "c", "PA", 2001, 50001, d)           # after a gap: previous not captured
    k.seg(21.2, "c", "PA", 3001, 50001, d)
    k.seg(21.3, "c", "PA", 4001, 50001, d)
    k.seg(31.0, "s", "A", 50001, 1001, win=509)
    k.seg(31.1, "s", "A", 50001, 1001, win=509, opts=[("NOP", None), ("NOP", None),
                                                       ("SAck", (2001, 3001))])
    k.seg(31.2, "s", "A", 50001, 1001, win=509, opts=[("NOP", None), ("NOP", None),
                                                       ("SAck", (2001, 4001))])
    k.seg(31.3, "s", "A", 50001, 1001, win=509, opts=[("NOP", None), ("NOP", None),
                                                       ("SAck", (2001, 5001))])
    k.seg(31.4, "c", "PA", 1001, 50001, d)           # fast retransmit of the lost one
    k.seg(41.5, "s", "A", 50001, 5001, win=509)
    # Reordered: 6001 first, 5001 right after (well within an RTT).
    k.seg(42.0, "c", "PA", 6001, 50001, d)
    k.seg(42.1, "c", "PA", 5001, 50001, d)
    k.seg(52.0, "s", "A", 50001, 7001, win=509)
    # A timeout: the same segment twice, 200 ms apart.
    k.seg(60.0, "c", "PA", 7001, 50001, d)
    k.seg(260.0, "c", "PA", 7001, 50001, d)
    k.seg(270.0, "s", "A", 50001, 8001, win=509)
    return k.pkts


def zerowin():
    k = Conv(40004, 7)
    k.seg(0.0, "c", "S", 0, win=64240, opts=[("MSS", 1460)])
    k.seg(1.0, "s", "SA", 3000, 1, win=2000, opts=[("MSS", 1460)])
    k.seg(2.0, "c", "A", 1, 3001, win=64240)
    k.seg(3.0, "c", "PA", 1, 3001, b"z" * 1000, win=64240)
    k.seg(3.1, "c", "PA", 1001, 3001, b"z" * 1000, win=64240)
    k.seg(4.0, "s", "A", 3001, 1001, win=1000)
    k.seg(4.1, "s", "A", 3001, 2001, win=0)          # the receiver's buffer is full
    k.seg(204.0, "c", "A", 2000, 3001, win=64240)    # window probe (Linux: SND.UNA - 1)
    k.seg(205.0, "s", "A", 3001, 2001, win=0)
    k.seg(605.0, "c", "A", 2000, 3001, win=64240)    # probe again, backed off
    k.seg(606.0, "s", "A", 3001, 2001, win=0)
    k.seg(700.0, "s", "A", 3001, 2001, win=4000)     # the application read: window update
    k.seg(701.0, "c", "PA", 2001, 3001, b"z" * 500, win=64240)
    k.seg(702.0, "s", "A", 3001, 2501, win=3500)
    k.seg(9000.0, "c", "A", 2500, 3001, win=64240)   # keep-alive after idling
    k.seg(9001.0, "s", "A", 3001, 2501, win=3500)
    return k.pkts


def halfclose():
    k = Conv(40005, 9000)
    k.seg(0.0, "c", "S", 100, win=64240, opts=[("MSS", 1460)])
    k.seg(0.3, "s", "SA", 700, 101, win=64240, opts=[("MSS", 1460)])
    k.seg(0.6, "c", "A", 101, 701, win=64240)
    k.seg(1.0, "c", "PA", 101, 701, b"sort me\n", win=64240)
    k.seg(1.1, "c", "FA", 109, 701, win=64240)       # shutdown(SHUT_WR)
    k.seg(1.4, "s", "A", 701, 110, win=64240)
    k.seg(2.0, "s", "PA", 701, 110, b"e\nm\no\nr\ns\nt\n", win=64240)
    k.seg(2.3, "c", "A", 110, 713, win=64240)
    k.seg(3.0, "s", "PA", 713, 110, b"\n", win=64240)
    k.seg(3.3, "c", "A", 110, 714, win=64240)
    k.seg(4.0, "s", "FA", 714, 110, win=64240)
    k.seg(4.3, "c", "A", 110, 715, win=64240)
    return k.pkts


def bulk():
    k = Conv(40006, 19)
    k.seg(0.0, "c", "S", 0, win=64240, opts=[("MSS", 1460)])
    k.seg(0.5, "s", "SA", 0, 1, win=64240, opts=[("MSS", 1460)])
    k.seg(1.0, "c", "A", 1, 1, win=64240)
    seq, t = 1, 2.0
    for i in range(40):
        k.seg(t, "s", "PA", seq, 1, b"c" * 1460, win=64240)
        seq += 1460
        t += 0.1
        if i % 2 == 1:
            k.seg(t, "c", "A", 1, seq, win=64240)
            t += 0.1
    k.seg(t + 1, "s", "FA", seq, 1, win=64240)
    k.seg(t + 2, "c", "FA", 1, seq + 1, win=64240)
    k.seg(t + 3, "s", "A", seq + 1, 2, win=64240)
    return k.pkts


def reuse():
    """Two connections on one 4-tuple, one after the other (the client's
    port reused); reuse-states.jsonl is the server's state trace."""
    k = Conv(40007, 80)
    for t, ci, si in ((0.0, 100, 900), (0.8, 5000, 7000)):
        k.seg(t, "c", "S", ci, win=64240, opts=[("MSS", 1460)])
        k.seg(t + 0.1, "s", "SA", si, ci + 1, win=64240, opts=[("MSS", 1460)])
        k.seg(t + 0.2, "c", "A", ci + 1, si + 1, win=64240)
        k.seg(t + 0.3, "c", "FA", ci + 1, si + 1, win=64240)
        k.seg(t + 0.4, "s", "A", si + 1, ci + 2, win=64240)
        k.seg(t + 0.4, "s", "FA", si + 1, ci + 2, win=64240)
        k.seg(t + 0.5, "c", "A", ci + 2, si + 2, win=64240)
    return k.pkts


def reuse_states(path):
    lines = []
    for t, ci, si in ((0.0, 100, 900), (0.8, 5000, 7000)):
        steps = [(t, "LISTEN", "SYN-RECEIVED", "segment S seq=%d ack=0 len=0" % ci),
                 (t + 0.2, "SYN-RECEIVED", "ESTABLISHED",
                  "segment . seq=%d ack=%d len=0" % (ci + 1, si + 1)),
                 (t + 0.3, "ESTABLISHED", "CLOSE-WAIT",
                  "segment F. seq=%d ack=%d len=0" % (ci + 1, si + 1)),
                 (t + 0.4, "CLOSE-WAIT", "LAST-ACK", "user close"),
                 (t + 0.5, "LAST-ACK", "CLOSED", "segment . seq=%d ack=%d len=0" % (ci + 2, si + 2))]
        for ms, frm, to, cause in steps:
            lines.append('{"t":%.6f,"local":"%s:80","remote":"%s:40007","from":"%s","to":"%s",'
                         '"cause":"%s","iss":%d,"irs":%d,"snd_una":%d,"snd_nxt":%d,"snd_wnd":64240,'
                         '"rcv_nxt":%d,"rcv_wnd":64240,"cwnd":14600,"ssthresh":4294967295,'
                         '"srtt_us":0,"rto_us":1000000}'
                         % (T0 + ms / 1000.0, SIP, CIP, frm, to, cause, si, ci, si, si + 1, ci + 1))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def eth(pkts):
    out = []
    for p in pkts:
        src, dst = (CMAC, SMAC) if p[IP].src == CIP else (SMAC, CMAC)
        e = Ether(src=src, dst=dst) / p
        e.time = p.time
        out.append(e)
    return out


def relink(pkts, head):
    out = []
    for p in pkts:
        q = head(p) / p
        q.time = p.time
        out.append(q)
    return out


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, fn in [("handshake", handshake), ("simopen", simopen), ("rst", rst),
                     ("retrans", retrans), ("zerowin", zerowin), ("halfclose", halfclose),
                     ("bulk", bulk), ("reuse", reuse)]:
        wrpcap(os.path.join(out, name + ".pcap"), eth(fn()), linktype=1)
    reuse_states(os.path.join(out, "reuse-states.jsonl"))
    hs = handshake()
    wrpcap(os.path.join(out, "handshake-raw.pcap"), hs, linktype=101)
    wrpcap(os.path.join(out, "handshake-ipv4.pcap"), hs, linktype=228)
    sll = relink(hs, lambda p: CookedLinux(pkttype=0 if p[IP].dst == SIP else 4,
                                           lladdrtype=1, lladdrlen=6, proto=0x0800))
    wrpcap(os.path.join(out, "handshake-sll.pcap"), sll, linktype=113)
    sll2 = relink(hs, lambda p: CookedLinuxV2(proto=0x0800, ifindex=2, lladdrtype=1,
                                              pkttype=0, lladdrlen=6))
    wrpcap(os.path.join(out, "handshake-sll2.pcap"), sll2, linktype=276)
    with PcapNgWriter(os.path.join(out, "handshake.pcapng")) as w:
        for p in eth(hs):
            w.write(p)


main()
