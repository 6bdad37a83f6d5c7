#!/usr/bin/python3
"""tests/interop/offload_check.py: helpers of the offload interop tests
(tests/interop/offload_*.sh). Standard library only.

  offload_check.py features IFNAME NAME=on|off ...
        switch offloads of a device the way `ethtool -K` does, through the
        legacy SIOCETHTOOL commands (no ethtool needed): NAME is tx (TX
        checksumming), rx (RX checksumming), sg, tso, gso or gro
  offload_check.py csum [--partial-ok] [--src A.B.C.D] PCAP
        checks every IPv4 header checksum and every TCP checksum of a pcap
        (Ethernet), of the packets from A.B.C.D only with --src (a capture
        also holds the capturing host's own frames, whose checksums its
        device has yet to fill). With --partial-ok a TCP checksum may instead hold just
        the pseudo-header sum: what a capture on a TAP device shows for
        frames whose checksum was left to a device (CHECKSUM_PARTIAL,
        virtio-net NEEDS_CSUM), both the kernel's and synack's with
        --offload. Prints one line
          "ipv4=N ip_bad=N tcp=N tcp_good=N tcp_partial=N tcp_bad=N big=N
           max_ip_len=N"
        (big: IPv4 packets over 1500 bytes, i.e. TSO/GSO super-frames) and
        exits 1 when a checksum is bad, after listing the first few.
"""
import array
import fcntl
import socket
import struct
import sys

SIOCETHTOOL = 0x8946
# Legacy ethtool "set" commands (linux/ethtool.h); each takes a struct
# ethtool_value { u32 cmd; u32 data; }.
ETHTOOL_SET = {
    "rx": 0x15,   # ETHTOOL_SRXCSUM
    "tx": 0x17,   # ETHTOOL_STXCSUM
    "sg": 0x19,   # ETHTOOL_SSG
    "tso": 0x1F,  # ETHTOOL_STSO
    "gso": 0x24,  # ETHTOOL_SGSO
    "gro": 0x2C,  # ETHTOOL_SGRO
}


def fail(msg):
    print("error: " + msg, file=sys.stderr)
    sys.exit(1)


def features(ifname, settings):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for item in settings:
        name, _, val = item.partition("=")
        if name not in ETHTOOL_SET or val not in ("on", "off"):
            fail("bad feature setting '%s' (NAME=on|off, NAME one of %s)"
                 % (item, ", ".join(ETHTOOL_SET)))
        ecmd = array.array("B", struct.pack("II", ETHTOOL_SET[name], 1 if val == "on" else 0))
        addr, _ = ecmd.buffer_info()
        ifr = struct.pack("16sP", ifname.encode(), addr)
        ifr += b"\0" * (40 - len(ifr))  # sizeof(struct ifreq)
        try:
            fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifr)
        except OSError as e:
            fail("SIOCETHTOOL %s %s on %s: %s" % (name, val, ifname, e))
    s.close()


def sum16(b):
    if len(b) & 1:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def pcap_packets(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        fail("%s: not a pcap file" % path)
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        fail("%s: not a pcap file (pcapng is not read here)" % path)
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != 1:
        fail("%s: link type %d, expected Ethernet (1)" % (path, linktype))
    off = 24
    while off + 16 <= len(data):
        _, _, incl, orig = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        yield data[off:off + incl], orig
        off += incl


def csum(args):
    partial_ok = False
    src = None
    while args and args[0].startswith("--"):
        if args[0] == "--partial-ok":
            partial_ok = True
            args = args[1:]
        elif args[0] == "--src" and len(args) > 1:
            src = socket.inet_aton(args[1])
            args = args[2:]
        else:
            fail("unknown option '%s'" % args[0])
    if len(args) != 1:
        fail("usage: offload_check.py csum [--partial-ok] [--src A.B.C.D] PCAP")
    n = dict(ipv4=0, ip_bad=0, tcp=0, tcp_good=0, tcp_partial=0, tcp_bad=0, big=0, max_ip_len=0)
    bad = []
    for i, (pkt, orig) in enumerate(pcap_packets(args[0]), 1):
        if len(pkt) < 34 or struct.unpack("!H", pkt[12:14])[0] != 0x0800:
            continue
        if len(pkt) != orig:
            fail("packet %d was cut short by the capture (%d of %d bytes)" % (i, len(pkt), orig))
        ip = pkt[14:]
        if src is not None and ip[12:16] != src:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        n["ipv4"] += 1
        n["max_ip_len"] = max(n["max_ip_len"], total)
        if total > 1500:
            n["big"] += 1
        if ip[0] >> 4 != 4 or ihl < 20 or total < ihl or total > len(ip):
            n["ip_bad"] += 1
            bad.append("packet %d: bad IPv4 header" % i)
            continue
        if sum16(ip[:ihl]) != 0xFFFF:
            n["ip_bad"] += 1
            bad.append("packet %d: bad IPv4 header checksum" % i)
        frag = struct.unpack("!H", ip[6:8])[0]
        if ip[9] != 6 or frag & 0x3FFF:
            continue
        seg = ip[ihl:total]
        n["tcp"] += 1
        pseudo = ip[12:20] + struct.pack("!BBH", 0, 6, len(seg))
        if sum16(pseudo + seg) == 0xFFFF:
            n["tcp_good"] += 1
            continue
        field = struct.unpack("!H", seg[16:18])[0]
        if partial_ok and field == sum16(pseudo):
            n["tcp_partial"] += 1
            continue
        n["tcp_bad"] += 1
        bad.append("packet %d: bad TCP checksum 0x%04x (%d bytes)" % (i, field, len(seg)))
    print(" ".join("%s=%d" % kv for kv in n.items()))
    if bad:
        for line in bad[:10]:
            print("  " + line, file=sys.stderr)
        sys.exit(1)


def main():
    if len(sys.argv) < 2:
        fail("usage: offload_check.py features|csum ...")
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "features":
        if len(args) < 2:
            fail("usage: offload_check.py features IFNAME NAME=on|off ...")
        features(args[0], args[1:])
    elif cmd == "csum":
        csum(args)
    else:
        fail("unknown command '%s'" % cmd)


if __name__ == "__main__":
    main()
