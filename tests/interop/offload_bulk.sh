#!/bin/bash
# tests/interop/offload_bulk.sh: tcp_bulk.sh with `synack serve --offload`
# (IFF_VNET_HDR: the kernel hands synack 64 KiB GSO super-frames whose TCP
# checksum it left undone, and takes synack's TSO super-frames and partial
# checksums). The kernel (tcpclient.py) sends 100 MiB to discard, 100 MiB
# through echo and reads 100 MiB from chargen; every byte must be exact.
# synack's counters must show super-frames both ways, no checksum error,
# no reset, no fragmentation. Then, with tcpdump on the kernel's side of
# the TAP (synack's own --pcap would show the checksums it leaves to the
# kernel, unfilled), 5 MiB through echo and to discard: every IPv4 header
# checksum must be right and every TCP checksum right or exactly the
# pseudo-header sum a device completes (offload_check.py), and tshark must
# find no malformed packet and no ACKed unseen segment.
# timeout: 150
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/interop/lib_tcpclient.sh
. "$(dirname "$0")/lib_tcpclient.sh"

need_root
need_cmd ip python3 sha256sum tshark tcpdump

KADDR=192.0.2.1
SADDR=192.0.2.2
BIG=$((100 * 1024 * 1024))
SMALL=$((5 * 1024 * 1024))
CHECK=$SYNACK_ROOT/tests/interop/offload_check.py

netns_new offbulk
# shellcheck disable=SC2119 # the default variable, TMP
tmpdir_new
head -c $BIG /dev/urandom >"$TMP/big"
head -c $SMALL /dev/urandom >"$TMP/small"
big_sha=$(sha256sum <"$TMP/big" | cut -d' ' -f1)
small_sha=$(sha256sum <"$TMP/small" | cut -d' ' -f1)

# ---------------------------------------------------------------------------
# Part 1: 100 MiB each way with offloads.
STACK_PCAP_ON=0
tap_stack_up "$NS" sno0 $KADDR/24 $SADDR/24 -v --offload
grep -q '^synack: serving .*offload' "$STACK_LOG" ||
    fail "synack did not report offloads on: $(grep -m1 '^synack: serving' "$STACK_LOG")"
ip -d -n "$NS" link show sno0 | grep -q 'vnet_hdr on' || fail "sno0 has no vnet_hdr"
echo "synack is up: $(grep -m1 '^synack: serving' "$STACK_LOG")"

bulk_phases $BIG "$TMP/big" "$big_sha"

rc=0
# shellcheck disable=SC2119 # the default stack
stack_stop || rc=$?
[ $rc -eq 0 ] || { log_tail "$STACK_LOG" >&2; fail "synack exited with status $rc, expected 0"; }
c() { counter "$STACK_LOG" "$1"; }
opens=$(c "passive connection openings")
estab=$(c "connections established now")
bad_csum=$(c "TCP checksum mismatch")
bad_ip=$(c "IPv4 header checksum mismatch")
resets=$(c "resets sent")
fragmented=$(c "IPv4 datagrams fragmented")
gro=$(c "GSO super-frames received (--offload: up to 64 KiB)")
tso=$(c "TSO super-frames handed to the device to segment")
partial_in=$(c "frames received with the checksum left undone (trusted)")
partial_out=$(c "frames handed to the device to fill in the checksum")
frames_out=$(c "frames handed to the device")
segs_out=$(c "segments sent")
too_big=$(c "IPv4 total length below the header or beyond the frame")
echo "counters: $opens passive opens, $gro super-frames in, $tso TSO super-frames out" \
    "($segs_out segments in $frames_out frames), $partial_in/$partial_out partial checksums" \
    "in/out, $bad_csum bad TCP checksums, $resets resets, $fragmented fragmented"
[ "$opens" -eq 3 ] || fail "passive connection openings: $opens, expected 3"
[ "$estab" -eq 0 ] || fail "$estab connections still established after every client closed"
[ "$bad_csum" -eq 0 ] && [ "$bad_ip" -eq 0 ] || fail "synack counted bad checksums: TCP $bad_csum, IPv4 $bad_ip"
[ "$resets" -eq 0 ] || fail "synack sent $resets resets; every connection should close with FINs"
[ "$fragmented" -eq 0 ] || fail "synack fragmented $fragmented datagrams: a TSO super-frame went out as fragments"
[ "$too_big" -eq 0 ] || fail "$too_big frames dropped for their length"
# 200 MiB came in (discard + echo): most of it in super-frames.
[ "$gro" -ge 1000 ] || fail "only $gro GSO super-frames received: are the kernel's offloads on?"
# 200 MiB went out (echo + chargen) in at most 64 KiB per super-frame.
[ "$tso" -ge 1000 ] || fail "only $tso TSO super-frames sent"
[ "$partial_in" -gt 0 ] && [ "$partial_out" -gt 0 ] || fail "no partial checksums in or out"
[ "$segs_out" -gt $((2 * frames_out)) ] || fail "segments sent $segs_out, frames $frames_out: TSO did not batch"
pass "counters: super-frames both ways, no checksum error, 3 connections closed cleanly"

# ---------------------------------------------------------------------------
# Part 2: the frames as the kernel sees them, from tcpdump on its side.
wait_for "! ip -n $NS link show sno0" 5 || fail "TAP sno0 still exists after synack exited"
tap_stack_up "$NS" sno1 $KADDR/24 $SADDR/24 -v --offload
KPCAP=$ARTIFACTS/kernel-side.pcap
bg_run "$ARTIFACTS/tcpdump.log" ip netns exec "$NS" tcpdump -i sno1 -n -s 0 -B 65536 -U -w "$KPCAP" tcp
DUMP_PID=$BG_PID
wait_for "grep -q 'listening on' '$ARTIFACTS/tcpdump.log'" 10 ||
    fail "tcpdump did not start: $(cat "$ARTIFACTS/tcpdump.log")"
client echo $SADDR 7 "$TMP/small"
if [ "$(field received)" != $SMALL ] || [ "$(field received_sha256)" != "$small_sha" ]; then
    fail "echo (captured): $(field received) bytes came back, or their SHA-256 differs"
fi
client discard $SADDR 9 "$TMP/small"
[ "$(discard_count)" = $SMALL ] || fail "discard (captured): synack received $(discard_count) bytes"
sleep 0.3 # the last ACKs
bg_stop "$DUMP_PID" 5 || true
lost_check=$(capture_lost_check "$ARTIFACTS/tcpdump.log")
rc=0
# shellcheck disable=SC2119
stack_stop || rc=$?
[ $rc -eq 0 ] || { log_tail "$STACK_LOG" >&2; fail "synack exited with status $rc, expected 0"; }
pass "echo and discard of $SMALL bytes under tcpdump"

[ -s "$KPCAP" ] || fail "no capture at $KPCAP"
python3 "$CHECK" csum --partial-ok "$KPCAP" >"$TMP/csum" 2>"$ARTIFACTS/csum-bad.txt" ||
    { cat "$TMP/csum" "$ARTIFACTS/csum-bad.txt" >&2; fail "bad checksums in the kernel-side capture"; }
echo "checksums: $(cat "$TMP/csum")"
tcp_pkts=$(tr ' ' '\n' <"$TMP/csum" | sed -n 's/^tcp=//p')
big_pkts=$(tr ' ' '\n' <"$TMP/csum" | sed -n 's/^big=//p')
[ "$tcp_pkts" -gt 100 ] || fail "only $tcp_pkts TCP packets captured"
[ "$big_pkts" -gt 10 ] || fail "only $big_pkts packets over 1500 bytes: no super-frames on the wire"
pass "kernel-side capture: every IPv4 checksum right, every TCP checksum right or left to the device"

# tshark: checksums are not its to judge here (partial ones look wrong to
# it); framing, lengths and the TCP sequence analysis are.
# shellcheck disable=SC2054 # the commas belong to tshark's arguments
topts=(-n -o tcp.check_checksum:FALSE -o ip.check_checksum:TRUE -o tcp.analyze_sequence_numbers:TRUE
    -d tcp.port==7,data -d tcp.port==9,data)
filter="${lost_check}ip.checksum.status == \"Bad\" || _ws.malformed || _ws.expert.severity >= error"
tshark "${topts[@]}" -r "$KPCAP" -Y "$filter" >"$ARTIFACTS/tshark-bad.txt" 2>"$ARTIFACTS/tshark.err" ||
    { log_tail "$ARTIFACTS/tshark.err" >&2; fail "tshark failed on the capture"; }
bad=$(wc -l <"$ARTIFACTS/tshark-bad.txt")
if [ "$bad" -ne 0 ]; then
    log_tail "$ARTIFACTS/tshark-bad.txt" >&2
    fail "tshark found $bad bad packets in $KPCAP (list: $ARTIFACTS/tshark-bad.txt)"
fi
pass "tshark: nothing malformed${lost_check:+, no ACKed unseen segment}"

pass "offload_bulk"
