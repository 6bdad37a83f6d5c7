# tests/fuzz/gen_trace_seeds.py: writes the seed corpus of fuzz_trace from
# the trace tests' own captures (tests/trace/captures.py): small pcaps over
# each link type synack trace reads, big-endian and nanosecond variants,
# a pcapng, and state traces (alone, and after a capture, behind the
# harness's "#states\n" marker). Every seed stays under 4 KB. The
# regress-* files beside them are inputs that once failed, kept by hand.
# Run with Debian's python3 (scapy): /usr/bin/python3 tests/fuzz/gen_trace_seeds.py
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'corpus', 'fuzz_trace')
MARK = b'#states\n'


def records(pcap):
    """(global header fields, [(sec, usec, orig_len, data)]) of a
    little-endian microsecond pcap, as scapy writes them."""
    magic, vmaj, vmin, zone, sigfigs, snap, link = struct.unpack('<IHHiIII', pcap[:24])
    assert magic == 0xa1b2c3d4
    recs, off = [], 24
    while off < len(pcap):
        sec, usec, incl, orig = struct.unpack('<IIII', pcap[off:off + 16])
        recs.append((sec, usec, orig, pcap[off + 16:off + 16 + incl]))
        off += 16 + incl
    return (vmaj, vmin, snap, link), recs


def pcap(hdr, recs, endian='<', nano=False, link=None, wrap=lambda d: d):
    vmaj, vmin, snap, dlt = hdr
    magic = 0xa1b23c4d if nano else 0xa1b2c3d4
    out = struct.pack(endian + 'IHHiIII', magic, vmaj, vmin, 0, 0, snap,
                      dlt if link is None else link)
    for sec, usec, orig, data in recs:
        extra = len(wrap(data)) - len(data)
        data = wrap(data)
        out += struct.pack(endian + 'IIII', sec, usec * 1000 if nano else usec, len(data),
                           orig + extra) + data
    return out


def write(name, data):
    assert len(data) < 4096, (name, len(data))
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(HERE, '..', 'trace', 'captures.py'), tmp],
                       check=True)
        cap = {n: open(os.path.join(tmp, n), 'rb').read() for n in os.listdir(tmp)}

    for n in ('handshake.pcap', 'handshake-raw.pcap', 'handshake-ipv4.pcap',
              'handshake-sll.pcap', 'handshake-sll2.pcap', 'handshake.pcapng',
              'simopen.pcap', 'rst.pcap', 'halfclose.pcap', 'reuse.pcap'):
        write(n, cap[n])

    hdr, recs = records(cap['handshake.pcap'])
    write('handshake-be.pcap', pcap(hdr, recs, endian='>'))
    write('handshake-ns.pcap', pcap(hdr, recs, nano=True))
    write('handshake-ns-be.pcap', pcap(hdr, recs, endian='>', nano=True))
    # 802.1Q inside Ethernet: the tag goes after the two addresses.
    write('handshake-vlan.pcap',
          pcap(hdr, recs, wrap=lambda d: d[:12] + b'\x81\x00\x00\x07' + d[12:]))
    rhdr, rrecs = records(cap['handshake-raw.pcap'])
    write('handshake-null.pcap', pcap(rhdr, rrecs, link=0, wrap=lambda d: b'\x02\0\0\0' + d))
    write('handshake-loop.pcap', pcap(rhdr, rrecs, link=108, wrap=lambda d: b'\0\0\0\x02' + d))
    # The start of the longer scenarios: the frames that fit.
    for n in ('retrans.pcap', 'zerowin.pcap', 'bulk.pcap'):
        h, r = records(cap[n])
        k = len(r)
        while len(pcap(h, r[:k])) > 2048:
            k -= 1
        write(n.replace('.pcap', '-head.pcap'), pcap(h, r[:k]))
    # A capture cut off in the middle of a frame.
    write('handshake-cut.pcap', cap['handshake.pcap'][:-30])

    lines = cap['reuse-states.jsonl'].splitlines(keepends=True)
    write('states-only', MARK + b''.join(lines[:3]))
    write('reuse-states', cap['reuse.pcap'] + MARK + b''.join(lines[:8]))
    # The client's side too: a listener line (skipped), changes a call made
    # ("user ..."), string escapes, comments and blank lines.
    ev = ('{"t":1700000000.%06d,"local":"%s","remote":"%s","from":"%s","to":"%s",'
          '"cause":"%s","iss":100,"irs":900,"snd_una":100,"snd_nxt":101,"snd_wnd":64240,'
          '"rcv_nxt":0,"rcv_wnd":64240,"cwnd":14600,"ssthresh":4294967295,"srtt_us":0,'
          '"rto_us":1000000}\n')
    cli, srv = '192.0.2.1:40007', '192.0.2.2:80'
    write('states-client', cap['reuse.pcap'] + MARK + b'\n# a comment\n' + ''.join([
        ev % (0, srv, '0.0.0.0:0', 'CLOSED', 'LISTEN', 'user listen'),
        ev % (0, cli, srv, 'CLOSED', 'SYN-SENT', 'user connect'),
        ev % (100, cli, srv, 'SYN-SENT', 'ESTABLISHED', 'segment S. seq=900 ack=101 len=0'),
        ev % (350, cli, srv, 'ESTABLISHED', 'FIN-WAIT-1', 'user close \\u0041\\t\\"\\/'),
        ev % (900, cli, srv, 'FIN-WAIT-1', 'CLOSED', 'user abort'),
    ]).encode())
    # One direction with 40 holes: more ranges than the analysis keeps.
    from scapy.layers.inet import IP, TCP
    from scapy.utils import wrpcap
    c, s_ = dict(src='192.0.2.1', dst='192.0.2.2'), dict(src='192.0.2.2', dst='192.0.2.1')
    pkts = [IP(**c) / TCP(sport=40010, dport=80, flags='S', seq=1000),
            IP(**s_) / TCP(sport=80, dport=40010, flags='SA', seq=5000, ack=1001)]
    pkts += [IP(**c) / TCP(sport=40010, dport=80, flags='A', seq=1001 + 2 * i, ack=5001) / b'x'
             for i in range(40)]
    for i, p in enumerate(pkts):
        p.time = 1700000000 + i / 1000.0
    tmp = os.path.join(OUT, 'gaps.pcap.tmp')
    wrpcap(tmp, pkts, linktype=228)
    os.rename(tmp, os.path.join(OUT, 'gaps.pcap'))
    assert os.path.getsize(os.path.join(OUT, 'gaps.pcap')) < 4096


main()
