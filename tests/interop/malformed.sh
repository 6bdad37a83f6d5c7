#!/bin/bash
# tests/interop/malformed.sh: malformed and hostile frames from the kernel
# side of a TAP, crafted with scapy: truncated frames and headers, lying
# lengths, bad checksums, bad IHL, TTL 0, overlapping fragments, a bad ICMP
# checksum, an unknown protocol, a bad version. synack must drop each under
# its own counter (netstat -s style output on SIGUSR1 and at exit), answer
# the unknown protocol with a protocol unreachable, keep answering ping with
# 0% loss, and exit cleanly.
# timeout: 120
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ip ping
PY=/usr/bin/python3 # Debian's python3 has scapy (python3-scapy); a pyenv one may not
[ -x $PY ] || fail "$PY is missing (Debian's python3 with python3-scapy)"
$PY -c 'import scapy.all' 2>/dev/null || fail "scapy is not importable by $PY (apt-get install python3-scapy)"

TAP=snt0
KADDR=192.0.2.1
SADDR=192.0.2.2
SMAC=02:53:4e:00:00:02
N=3 # frames of each kind

netns_new malformed
tmpdir_new TMP
tap_stack_up "$NS" "$TAP" $KADDR/24 $SADDR/24 --mac $SMAC
KMAC=$(ip netns exec "$NS" cat "/sys/class/net/$TAP/address") || fail "no MAC address for $TAP"
echo "kernel side $KADDR ($KMAC), synack $SADDR ($SMAC) on $TAP in $NS"

# The drop counters checked, by reason, with synack's description of each
# (the text after the count in its netstat -s style output).
declare -A DESC=(
    [ETH_SHORT]="frame shorter than an Ethernet header (ETH_SHORT)"
    [ETH_UNKNOWN_TYPE]="unsupported EtherType (ETH_UNKNOWN_TYPE)"
    [IP4_SHORT]="shorter than an IPv4 header (IP4_SHORT)"
    [IP4_BAD_VERSION]="IP version is not 4 (IP4_BAD_VERSION)"
    [IP4_BAD_IHL]="IPv4 header length below 20 or beyond the packet (IP4_BAD_IHL)"
    [IP4_BAD_LEN]="IPv4 total length below the header or beyond the frame (IP4_BAD_LEN)"
    [IP4_BAD_CSUM]="IPv4 header checksum mismatch (IP4_BAD_CSUM)"
    [IP4_TTL_ZERO]="IPv4 TTL is zero (IP4_TTL_ZERO)"
    [IP4_FRAG_OVERLAP]="fragment overlaps another: datagram discarded (as Linux) (IP4_FRAG_OVERLAP)"
    [ICMP_BAD_CSUM]="ICMP checksum mismatch (ICMP_BAD_CSUM)"
    [IP4_UNKNOWN_PROTO]="no handler for the IP protocol (IP4_UNKNOWN_PROTO)"
    [UNREACH_SENT]="ICMP destination unreachable sent"
)

# Counters before: setting up sent pings and ARP, nothing malformed, but
# compare against a snapshot rather than assume zeros.
declare -A BEFORE
for k in "${!DESC[@]}"; do
    BEFORE[$k]=$(stack_counter "${DESC[$k]}")
done

cat >"$TMP/send.py" <<'EOF'
# Sends N frames of each malformed kind from the kernel side of the TAP.
import sys
from scapy.all import Ether, IP, ICMP, Raw, conf, raw, sendp, sniff, AsyncSniffer
conf.verb = 0
iface, kmac, smac, kaddr, saddr, n = sys.argv[1:7]
n = int(n)
eth = Ether(src=kmac, dst=smac, type=0x0800)

def echo(seq, **ip):
    return IP(src=kaddr, dst=saddr, **ip) / ICMP(id=0x5a5a, seq=seq) / Raw(b"malformed!" * 2)

def ip_bytes(pkt):
    return bytearray(raw(pkt))

def fix_csum(b):
    b[10:12] = b"\0\0"
    ihl = (b[0] & 15) * 4
    s = sum((b[i] << 8) + b[i + 1] for i in range(0, ihl, 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    s = ~s & 0xffff
    b[10:12] = bytes([s >> 8, s & 255])
    return b

def send(kind, payload):
    # payload: bytes after the Ethernet header, or a whole frame for "frame:"
    frame = payload if kind.startswith("frame:") else raw(eth) + bytes(payload)
    sendp(Raw(frame), iface=iface)

sniffer = AsyncSniffer(iface=iface, filter="icmp and src host %s" % saddr, store=True)
sniffer.start()
import time
time.sleep(0.5)

for i in range(n):
    # Short Ethernet: 10 bytes. The kernel may deliver it as is (ETH_SHORT)
    # or zero-fill it to a header of EtherType 0 (ETH_UNKNOWN_TYPE).
    send("frame:short", bytes.fromhex(smac.replace(":", "")) + b"\x02\x00\x00\x00")
    # IPv4 header cut at 10 bytes.
    send("ip_short", ip_bytes(echo(i))[:10])
    # Total length beyond the frame: claims 200 bytes, carries 48.
    b = ip_bytes(echo(i)); b[2:4] = (200).to_bytes(2, "big"); send("len_long", fix_csum(b))
    # Total length below the header: 16 < 20.
    b = ip_bytes(echo(i)); b[2:4] = (16).to_bytes(2, "big"); send("len_short", fix_csum(b))
    # Bad header checksum.
    b = ip_bytes(echo(i)); b[10] ^= 0x5a; send("bad_csum", b)
    # IHL 4 (< 5), and IHL 15 (60 bytes) in a 48-byte packet.
    b = ip_bytes(echo(i)); b[0] = 0x44; send("ihl_small", fix_csum(b))
    b = ip_bytes(echo(i)); b[0] = 0x4f; send("ihl_big", b)
    # Version 6 in an IPv4 frame.
    b = ip_bytes(echo(i)); b[0] = 0x65; send("version", fix_csum(b))
    # TTL 0.
    send("ttl0", ip_bytes(echo(i, ttl=0)))
    # Bad ICMP checksum.
    b = ip_bytes(echo(i)); b[22] ^= 0xff; send("icmp_csum", b)
    # Unknown protocol 253: answered with protocol unreachable.
    send("proto", ip_bytes(IP(src=kaddr, dst=saddr, proto=253, id=0x7700 + i) / Raw(b"8 bytes!")))
    # Overlapping fragments: [0, 64) then [32, 96), both with MF.
    data = raw(ICMP(id=0x1111, seq=i) / Raw(bytes(range(120))))
    f1 = IP(src=kaddr, dst=saddr, proto=1, id=0x6600 + i, flags="MF", frag=0) / Raw(data[:64])
    f2 = IP(src=kaddr, dst=saddr, proto=1, id=0x6600 + i, flags="MF", frag=4) / Raw(data[32:96])
    send("overlap1", ip_bytes(f1))
    send("overlap2", ip_bytes(f2))

time.sleep(1)
got = sniffer.stop()
unreach = [p for p in got if ICMP in p and p[ICMP].type == 3 and p[ICMP].code == 2]
print("protocol-unreachable replies seen by the kernel side: %d" % len(unreach))
EOF

echo "sending $N frames of each malformed kind with scapy"
ip netns exec "$NS" $PY "$TMP/send.py" "$TAP" "$KMAC" "$SMAC" $KADDR $SADDR $N \
    >"$ARTIFACTS/scapy.log" 2>&1 || { log_tail "$ARTIFACTS/scapy.log" >&2; fail "scapy failed"; }
grep -v '^WARNING' "$ARTIFACTS/scapy.log" | sed 's/^/    /'
unreach_seen=$(sed -n 's/^protocol-unreachable replies seen by the kernel side: \([0-9]*\)$/\1/p' "$ARTIFACTS/scapy.log")

kill -0 "$STACK_PID" 2>/dev/null || { log_tail "$STACK_LOG" >&2; fail "synack died on malformed input"; }

# Ping must still work, with no loss.
out=$(ip netns exec "$NS" ping -c 10 -i 0.1 -W 1 $SADDR 2>&1) || true
echo "$out" | grep -E 'packets transmitted' | sed 's/^/    /'
echo "$out" | grep -q ' 0% packet loss' || fail "ping after the malformed frames lost packets"
pass "ping still answered, 0% loss"

rc=0
# shellcheck disable=SC2119 # the default stack
stack_stop || rc=$?
[ $rc -eq 0 ] || { log_tail "$STACK_LOG" >&2; fail "synack exited with status $rc on SIGTERM, expected 0"; }

delta() { # delta KEY: how much the counter moved
    echo $(($(counter "$STACK_LOG" "${DESC[$1]}") - ${BEFORE[$1]}))
}
expect() { # expect KEY N WHAT
    local d
    d=$(delta "$1")
    [ "$d" -eq "$2" ] || fail "$3: counter $1 moved by $d, expected $2"
    pass "$3: $1 +$d"
}

short=$(($(delta ETH_SHORT) + $(delta ETH_UNKNOWN_TYPE)))
[ "$short" -eq $N ] ||
    fail "short Ethernet frames: ETH_SHORT + ETH_UNKNOWN_TYPE moved by $short, expected $N"
pass "short Ethernet frames: ETH_SHORT +$(delta ETH_SHORT), ETH_UNKNOWN_TYPE +$(delta ETH_UNKNOWN_TYPE) (the kernel zero-fills short headers)"
expect IP4_SHORT $N "IPv4 header shorter than 20 bytes"
expect IP4_BAD_LEN $((2 * N)) "total length beyond the frame / below the header"
expect IP4_BAD_CSUM $N "bad IPv4 header checksum"
expect IP4_BAD_IHL $((2 * N)) "IHL below 5 / beyond the packet"
expect IP4_BAD_VERSION $N "IP version 6 in an IPv4 frame"
expect IP4_TTL_ZERO $N "TTL 0"
expect ICMP_BAD_CSUM $N "bad ICMP checksum"
expect IP4_UNKNOWN_PROTO $N "unknown protocol 253"
expect IP4_FRAG_OVERLAP $N "overlapping fragments"
expect UNREACH_SENT $N "protocol unreachable sent for protocol 253"
[ "${unreach_seen:-0}" -eq $N ] ||
    fail "the kernel side saw ${unreach_seen:-0} protocol unreachable replies, expected $N"
pass "the kernel side received $N protocol unreachable replies"

pass "malformed"
