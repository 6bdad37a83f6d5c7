#!/bin/bash
# tests/interop/offload_forward.sh: synack's TSO super-frames and partial
# checksums (`serve --offload`) cut and completed by the Linux kernel
# itself, and checked where they land. The kernel of a router namespace
# holds the TAP and forwards to a client namespace over a veth whose TX
# checksumming, scatter-gather, TSO and GSO are off, so the router's kernel
# segments every super-frame (tcp_gso_segment) and computes every checksum
# in software from the pseudo-header sum synack left. The client's veth has
# RX checksumming and GRO off, so the client's kernel verifies every
# segment's checksum itself (Tcp InCsumErrors must stay 0), and tcpdump
# there sees synack's segments as they crossed the wire: tshark must find
# every IPv4 and TCP checksum of them good, none over the 1500-byte MTU,
# nothing malformed. The other way, the client's GSO super-frames reach synack
# through the router with their checksums still partial. Transfers are
# byte-exact: 5 MiB through echo, 5 MiB to discard, 20 MiB from chargen.
# timeout: 90
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ip python3 sha256sum tshark tcpdump

GW=192.0.2.1
SADDR=192.0.2.2
RADDR=198.51.100.1
CADDR=198.51.100.2
SMALL=$((5 * 1024 * 1024))
CHARGEN=$((20 * 1024 * 1024))
CLIENT=$SYNACK_ROOT/tests/interop/tcpclient.py
CHECK=$SYNACK_ROOT/tests/interop/offload_check.py

netns_new offfwd NS    # the router: TAP + veth
netns_new offcli NSC   # the client
# shellcheck disable=SC2119
tmpdir_new
head -c $SMALL /dev/urandom >"$TMP/small"
small_sha=$(sha256sum <"$TMP/small" | cut -d' ' -f1)

STACK_PCAP_ON=0
tap_stack_up "$NS" snf0 $GW/24 $SADDR/24 -v --offload --gateway $GW
ip link add snfr0 netns "$NS" type veth peer name snfc0 netns "$NSC" || fail "cannot make the veth pair"
ip -n "$NS" addr add $RADDR/24 dev snfr0
ip -n "$NSC" addr add $CADDR/24 dev snfc0
ip -n "$NS" link set snfr0 up
ip -n "$NSC" link set snfc0 up
ip -n "$NSC" route add default via $RADDR
ip netns exec "$NS" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
# Router: segment and checksum in software toward the client.
ip netns exec "$NS" python3 "$CHECK" features snfr0 tx=off sg=off tso=off gso=off ||
    fail "cannot turn the router veth's offloads off"
# Client: verify every checksum in software, see every segment alone.
ip netns exec "$NSC" python3 "$CHECK" features snfc0 rx=off gro=off ||
    fail "cannot turn the client veth's offloads off"
wait_for "ip netns exec $NSC ping -c 1 -W 1 $SADDR" 10 || fail "no route from the client to synack"

csum_errors() { # the client kernel's TCP and IPv4 checksum error counters, summed
    ip netns exec "$NSC" awk '
        /^Tcp:/ { if (!t) { for (i = 2; i <= NF; i++) h[$i] = i; t = 1 } else s += $h["InCsumErrors"] }
        /^Ip:/ { if (!ip) { for (i = 2; i <= NF; i++) g[$i] = i; ip = 1 } else s += $g["InHdrErrors"] }
        END { print s + 0 }' /proc/net/snmp
}
before=$(csum_errors)

CPCAP=$ARTIFACTS/client-side.pcap
bg_run "$ARTIFACTS/tcpdump.log" ip netns exec "$NSC" tcpdump -i snfc0 -n -s 0 -B 65536 -U -w "$CPCAP" tcp
DUMP_PID=$BG_PID
wait_for "grep -q 'listening on' '$ARTIFACTS/tcpdump.log'" 10 ||
    fail "tcpdump did not start: $(cat "$ARTIFACTS/tcpdump.log")"

client() {
    if ! ip netns exec "$NSC" python3 "$CLIENT" "$@" >"$TMP/out"; then
        log_tail "$STACK_LOG" >&2
        fail "tcpclient.py $1 failed (its error is above)"
    fi
    sed 's/^/    /' "$TMP/out"
}
field() { tr ' ' '\n' <"$TMP/out" | sed -n "s/^$1=//p"; }

client echo $SADDR 7 "$TMP/small"
[ "$(field received)" = $SMALL ] && [ "$(field received_sha256)" = "$small_sha" ] ||
    fail "echo through the router: $(field received) bytes came back, or their SHA-256 differs"
client discard $SADDR 9 "$TMP/small"
client chargen $SADDR 19 $CHARGEN
[ "$(field received)" = $CHARGEN ] || fail "chargen through the router: received $(field received)"
sleep 0.3
bg_stop "$DUMP_PID" 5 || true
lost_check=$(capture_lost_check "$ARTIFACTS/tcpdump.log")
pass "echo, discard and chargen through a forwarding kernel, byte-exact"

after=$(csum_errors)
[ "$after" -eq "$before" ] ||
    fail "the client's kernel counted $((after - before)) checksum errors (Tcp InCsumErrors + Ip InHdrErrors)"
pass "the client's kernel verified every segment: no checksum error"

rc=0
# shellcheck disable=SC2119
stack_stop || rc=$?
[ $rc -eq 0 ] || { log_tail "$STACK_LOG" >&2; fail "synack exited with status $rc, expected 0"; }
tso=$(counter "$STACK_LOG" "TSO super-frames handed to the device to segment")
gro=$(counter "$STACK_LOG" "GSO super-frames received (--offload: up to 64 KiB)")
bad_csum=$(counter "$STACK_LOG" "TCP checksum mismatch")
echo "synack: $tso TSO super-frames out, $gro GSO super-frames in, $bad_csum bad TCP checksums"
[ "$tso" -gt 20 ] || fail "only $tso TSO super-frames: the router had little to segment"
[ "$gro" -gt 0 ] || fail "no GSO super-frame reached synack through the router"
[ "$bad_csum" -eq 0 ] || fail "synack counted $bad_csum TCP checksum mismatches"

python3 "$CHECK" csum --src $SADDR "$CPCAP" >"$TMP/csum" 2>"$ARTIFACTS/csum-bad.txt" ||
    { cat "$TMP/csum" "$ARTIFACTS/csum-bad.txt" >&2; fail "bad checksums on the client's wire"; }
echo "client-side checksums: $(cat "$TMP/csum")"
big=$(tr ' ' '\n' <"$TMP/csum" | sed -n 's/^big=//p')
tcp_pkts=$(tr ' ' '\n' <"$TMP/csum" | sed -n 's/^tcp=//p')
[ "$big" -eq 0 ] || fail "$big packets from synack over 1500 bytes on the client's wire"
[ "$tcp_pkts" -gt 10000 ] || fail "only $tcp_pkts TCP packets from synack on the client's wire"

# shellcheck disable=SC2054
topts=(-n -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -o tcp.analyze_sequence_numbers:TRUE
    -d tcp.port==7,data -d tcp.port==9,data -d tcp.port==19,data)
# The client's own frames leave their checksums to its veth (it captures
# them before): only synack's are judged on checksums.
filter="${lost_check}_ws.malformed || (ip.src == $SADDR && (tcp.checksum.status == \"Bad\" || ip.checksum.status == \"Bad\" || _ws.expert.severity >= error))"
tshark "${topts[@]}" -r "$CPCAP" -Y "$filter" >"$ARTIFACTS/tshark-bad.txt" 2>"$ARTIFACTS/tshark.err" ||
    { log_tail "$ARTIFACTS/tshark.err" >&2; fail "tshark failed on the capture"; }
bad=$(wc -l <"$ARTIFACTS/tshark-bad.txt")
if [ "$bad" -ne 0 ]; then
    log_tail "$ARTIFACTS/tshark-bad.txt" >&2
    fail "tshark found $bad bad packets in $CPCAP (list: $ARTIFACTS/tshark-bad.txt)"
fi
good=$(tshark "${topts[@]}" -r "$CPCAP" -Y "ip.src == $SADDR && tcp.checksum.status == \"Good\"" 2>/dev/null | wc -l)
[ "$good" -eq "$tcp_pkts" ] || fail "tshark verified only $good of $tcp_pkts TCP checksums"
pass "client-side capture: every segment within the MTU, every IPv4 and TCP checksum good"

pass "offload_forward"
