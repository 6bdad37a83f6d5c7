#!/bin/bash
# tests/interop/tcp_bulk.sh: bulk TCP between the Linux kernel and synack
# serve, byte-exact. The kernel (tcpclient.py) sends 100 MiB of random bytes
# to discard (RFC 863) and synack must count exactly that many received;
# it sends the same 100 MiB through echo (RFC 862) while reading the echo
# back, and the SHA-256 of what came back must match the file's; it reads
# 100 MiB from chargen (RFC 864) and checks every line of the pattern.
# synack's counters must then show no checksum errors and no connection
# left open. Last, a smaller transfer (5 MiB each through echo and discard)
# runs with a capture, and tshark's TCP analysis of it must find no "ACKed
# unseen segment", no bad IPv4 or TCP checksum and no malformed packet.
# timeout: 120
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/interop/lib_tcpclient.sh
. "$(dirname "$0")/lib_tcpclient.sh"

need_root
need_cmd ip python3 sha256sum tshark

KADDR=192.0.2.1
SADDR=192.0.2.2
BIG=$((100 * 1024 * 1024))
SMALL=$((5 * 1024 * 1024))

netns_new tcpbulk
# shellcheck disable=SC2119 # the default variable, TMP
tmpdir_new
head -c $BIG /dev/urandom >"$TMP/big"
head -c $SMALL /dev/urandom >"$TMP/small"
big_sha=$(sha256sum <"$TMP/big" | cut -d' ' -f1)
small_sha=$(sha256sum <"$TMP/small" | cut -d' ' -f1)

# ---------------------------------------------------------------------------
# Part 1: 100 MiB each way, no capture (writing 300 MiB of pcap would
# measure the disk, not TCP).
STACK_PCAP_ON=0
tap_stack_up "$NS" snb0 $KADDR/24 $SADDR/24 -v
echo "synack is up: $(grep -m1 '^synack: serving' "$STACK_LOG" || true)"

bulk_phases $BIG "$TMP/big" "$big_sha"

rc=0
# shellcheck disable=SC2119 # the default stack
stack_stop || rc=$?
[ $rc -eq 0 ] || { log_tail "$STACK_LOG" >&2; fail "synack exited with status $rc, expected 0"; }
opens=$(counter "$STACK_LOG" "passive connection openings")
segs_in=$(counter "$STACK_LOG" "segments received")
segs_out=$(counter "$STACK_LOG" "segments sent")
retrans=$(counter "$STACK_LOG" "segments retransmitted")
estab=$(counter "$STACK_LOG" "connections established now")
bad_csum=$(counter "$STACK_LOG" "TCP checksum mismatch")
resets=$(counter "$STACK_LOG" "resets sent")
fragmented=$(counter "$STACK_LOG" "IPv4 datagrams fragmented")
echo "counters: $opens passive opens, $segs_in segments in, $segs_out out, $retrans" \
    "retransmitted, $resets resets sent, $estab still established, $bad_csum bad checksums," \
    "$fragmented datagrams fragmented"
[ "$opens" -eq 3 ] || fail "passive connection openings: $opens, expected 3"
[ "$estab" -eq 0 ] || fail "$estab connections still established after every client closed"
[ "$bad_csum" -eq 0 ] || fail "synack counted $bad_csum TCP checksum mismatches"
[ "$resets" -eq 0 ] || fail "synack sent $resets resets; every connection should close with FINs"
# RFC 9293 3.7.1: no segment larger than the peer's MSS (1460 here), so no
# TCP segment of synack's is ever fragmented.
[ "$fragmented" -eq 0 ] || fail "synack fragmented $fragmented datagrams: a segment exceeded the MSS"
# 100 MiB in at most 64 KiB per segment: at least 1600 segments each way.
[ "$segs_in" -ge 3200 ] || fail "segments received: $segs_in, expected >= 3200"
# One copy of each payload byte on the way in (frame to receive ring):
# exactly the 100 MiB to discard and the 100 MiB to echo. On the way out,
# one per byte put in a frame (send ring to frame): at least the 100 MiB
# from echo and from chargen (which runs on until the client closes), and
# no more than the frames handed to the device hold.
rx_copied=$(counter "$STACK_LOG" "payload bytes copied from frames into receive buffers")
tx_copied=$(counter "$STACK_LOG" "payload bytes copied from send buffers into frames")
tx_bytes=$(counter "$STACK_LOG" "bytes handed to the device")
echo "copies: $rx_copied payload bytes into receive buffers, $tx_copied out of send buffers" \
    "(frames out: $tx_bytes bytes)"
[ "$rx_copied" -eq $((2 * BIG)) ] ||
    fail "payload bytes copied in: $rx_copied, expected exactly $((2 * BIG))"
[ "$tx_copied" -ge $((2 * BIG)) ] && [ "$tx_copied" -lt "$tx_bytes" ] ||
    fail "payload bytes copied out: $tx_copied, expected >= $((2 * BIG)) and < $tx_bytes"
pass "counters: 3 connections opened and closed cleanly, one copy per byte each way"

# ---------------------------------------------------------------------------
# Part 2: a smaller transfer with a capture, for tshark's TCP analysis.
wait_for "! ip -n $NS link show snb0" 5 || fail "TAP snb0 still exists after synack exited"
STACK_PCAP_ON=1
tap_stack_up "$NS" snb1 $KADDR/24 $SADDR/24 -v
echo "with a capture: $SMALL bytes through echo and $SMALL to discard"
client echo $SADDR 7 "$TMP/small"
if [ "$(field received)" != $SMALL ] || [ "$(field received_sha256)" != "$small_sha" ]; then
    fail "echo (captured): $(field received) bytes came back, or their SHA-256 differs"
fi
client discard $SADDR 9 "$TMP/small"
[ "$(discard_count)" = $SMALL ] || fail "discard (captured): synack received $(discard_count) bytes"
rc=0
# shellcheck disable=SC2119
stack_stop || rc=$?
[ $rc -eq 0 ] || { log_tail "$STACK_LOG" >&2; fail "synack exited with status $rc, expected 0"; }
pass "echo and discard of $SMALL bytes with a capture"

[ -s "$STACK_PCAP" ] || fail "no capture at $STACK_PCAP"
# The payload is random bytes: decode it as plain data, or a heuristic
# dissector (Thrift, ...) takes some segment for its protocol and calls it
# malformed.
# shellcheck disable=SC2054 # the commas belong to tshark's arguments
topts=(-n -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -o tcp.analyze_sequence_numbers:TRUE
    -d tcp.port==7,data -d tcp.port==9,data)
tcp_pkts=$(tshark "${topts[@]}" -r "$STACK_PCAP" -Y tcp 2>"$ARTIFACTS/tshark.err" | wc -l)
[ "$tcp_pkts" -gt 2000 ] ||
    { log_tail "$ARTIFACTS/tshark.err" >&2; fail "tshark read only $tcp_pkts TCP packets from the capture"; }
filter='tcp.analysis.ack_lost_segment || tcp.checksum.status == "Bad" || ip.checksum.status == "Bad" || _ws.malformed || _ws.expert.severity >= error'
tshark "${topts[@]}" -r "$STACK_PCAP" -Y "$filter" >"$ARTIFACTS/tshark-bad.txt" 2>>"$ARTIFACTS/tshark.err" ||
    { log_tail "$ARTIFACTS/tshark.err" >&2; fail "tshark failed on the capture"; }
tshark "${topts[@]}" -r "$STACK_PCAP" -q -z expert >"$ARTIFACTS/tshark-expert.txt" 2>/dev/null || true
bad=$(wc -l <"$ARTIFACTS/tshark-bad.txt")
echo "tshark: $tcp_pkts TCP packets, $bad with ACKed-unseen, a bad checksum, or malformed"
if [ "$bad" -ne 0 ]; then
    log_tail "$ARTIFACTS/tshark-bad.txt" >&2
    fail "tshark found $bad bad packets in $STACK_PCAP (list: $ARTIFACTS/tshark-bad.txt)"
fi
# The checksum checks really ran: tshark marks every TCP checksum Good.
good=$(tshark "${topts[@]}" -r "$STACK_PCAP" -Y 'tcp.checksum.status == "Good"' 2>/dev/null | wc -l)
[ "$good" -eq "$tcp_pkts" ] || fail "tshark verified only $good of $tcp_pkts TCP checksums"
pass "capture: no ACKed unseen segment, every IPv4 and TCP checksum good, nothing malformed"

pass "tcp_bulk"
