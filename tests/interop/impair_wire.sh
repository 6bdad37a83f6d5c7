#!/bin/bash
# tests/interop/impair_wire.sh: `synack wire` joins two network namespaces
# with an impaired wire: a TAP device in each, bridged in user space through
# the impairment layer with 5 % loss, 1 % reordering and 1 % corruption both
# ways (the conditions of impair_tcp.sh, where synack is one end). Kernel
# to kernel, 50 MiB go each way at once over one TCP connection, and both
# must arrive byte-exact (SHA-256). Then the bridge's counters must show the
# impairments, and the kernels must have caught the corrupted frames with
# their checksums (InCsumErrors, InHdrErrors). Plain ping first: the wire
# carries ARP and ICMP too.
# timeout: 300
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ip python3 sha256sum ping

LADDR=192.0.2.1
RADDR=192.0.2.2
SIZE=$((50 * 1024 * 1024))
PORT=5001
CLIENT=$SYNACK_ROOT/tests/interop/tcpclient.py

netns_new wirel LNS
netns_new wirer RNS
# shellcheck disable=SC2119 # the default variable, TMP
tmpdir_new
head -c $SIZE /dev/urandom >"$TMP/left"
head -c $SIZE /dev/urandom >"$TMP/right"
lsha=$(sha256sum <"$TMP/left" | cut -d' ' -f1)
rsha=$(sha256sum <"$TMP/right" | cut -d' ' -f1)

WIRE_LOG=$ARTIFACTS/wire.log
bg_run "$WIRE_LOG" "$SYNACK" wire --a snwl0 --a-netns "$LNS" --b snwr0 --b-netns "$RNS" \
    --loss 5 --reorder 1 --corrupt 1 --impair-seed 3
WIRE_PID=$BG_PID
wait_for "ip -n $LNS link show snwl0 && ip -n $RNS link show snwr0" 5 ||
    { log_tail "$WIRE_LOG" >&2; fail "synack wire did not create snwl0 in $LNS and snwr0 in $RNS"; }
grep -q "^synack: wire snwl0 in $LNS <-> snwr0 in $RNS (mtu 1500), impairments: --loss 5 --reorder 1:3 --corrupt 1, impair seed 3" \
    "$WIRE_LOG" || { log_tail "$WIRE_LOG" >&2; fail "synack wire's start line is not as expected"; }
ip -n "$LNS" addr add $LADDR/24 dev snwl0
ip -n "$LNS" link set snwl0 up
ip -n "$RNS" addr add $RADDR/24 dev snwr0
ip -n "$RNS" link set snwr0 up
wait_for "ip netns exec $LNS ping -c 1 -W 1 $RADDR" 10 ||
    { log_tail "$WIRE_LOG" >&2; fail "no ping through the wire within 10 s"; }
out=$(ip netns exec "$LNS" ping -c 100 -i 0.01 -W 1 $RADDR 2>&1 | grep 'packets transmitted' || true)
echo "ping -c 100 through the wire: $out"
pass "the wire carries ARP and ICMP"

kernel_snmp() { # kernel_snmp NS PROTO FIELD
    ip netns exec "$1" awk -v p="$2:" -v f="$3" '
        $1 == p && !names { for (i = 2; i <= NF; i++) col[$i] = i; names = 1; next }
        $1 == p && names { print $col[f]; exit }' /proc/net/snmp
}
caught0=$(($(kernel_snmp "$LNS" Tcp InCsumErrors) + $(kernel_snmp "$LNS" Ip InHdrErrors) +
    $(kernel_snmp "$RNS" Tcp InCsumErrors) + $(kernel_snmp "$RNS" Ip InHdrErrors)))

echo "TCP: $SIZE bytes each way at once, $LNS <-> $RNS, kernel to kernel through synack wire"
bg_run "$TMP/server.out" ip netns exec "$RNS" python3 "$CLIENT" serve $PORT "$TMP/right"
SERVER_PID=$BG_PID
wait_for "grep -q 'listening on port' $TMP/server.out" 5 || fail "the server did not start listening"
ip netns exec "$LNS" python3 "$CLIENT" echo $RADDR $PORT "$TMP/left" >"$TMP/client.out" ||
    { cat "$TMP/client.out" "$TMP/server.out" >&2; fail "the client failed (its error is above)"; }
rc=0
wait "$SERVER_PID" || rc=$?
[ $rc -eq 0 ] || { cat "$TMP/server.out" >&2; fail "the server failed (exit $rc)"; }
sed 's/^/    client: /' "$TMP/client.out"
grep -v listening "$TMP/server.out" | sed 's/^/    server: /'
field() { tr ' ' '\n' <"$1" | sed -n "s/^$2=//p"; }
[ "$(field "$TMP/client.out" sent_sha256)" = "$lsha" ] || fail "the client did not send its file"
[ "$(field "$TMP/client.out" received)" = $SIZE ] ||
    fail "the client received $(field "$TMP/client.out" received) bytes, expected $SIZE"
[ "$(field "$TMP/client.out" received_sha256)" = "$rsha" ] ||
    fail "what the client received is not the server's file (SHA-256)"
[ "$(field "$TMP/server.out" received)" = $SIZE ] ||
    fail "the server received $(field "$TMP/server.out" received) bytes, expected $SIZE"
[ "$(field "$TMP/server.out" received_sha256)" = "$lsha" ] ||
    fail "what the server received is not the client's file (SHA-256)"
pass "$SIZE bytes each way, byte-exact ($(field "$TMP/client.out" seconds) s)"

caught=$(($(kernel_snmp "$LNS" Tcp InCsumErrors) + $(kernel_snmp "$LNS" Ip InHdrErrors) +
    $(kernel_snmp "$RNS" Tcp InCsumErrors) + $(kernel_snmp "$RNS" Ip InHdrErrors) - caught0))

rc=0
bg_stop "$WIRE_PID" 5 || rc=$?
[ $rc -eq 0 ] || { log_tail "$WIRE_LOG" >&2; fail "synack wire exited with status $rc on SIGTERM, expected 0"; }
grep -A2 '^impairment' "$WIRE_LOG" | sed 's/^/    /'
imp() { # imp DIRECTION FIELD
    awk -v d="impairment $1:" -v f="$2" '
        index($0, d) == 1 { grab = 1; next }
        grab { for (i = 1; i <= NF; i++) if ($(i + 1) ~ "^" f) { print $i + 0; exit } }' "$WIRE_LOG"
}
corrupted=0
for d in snwl0-\>snwr0 snwr0-\>snwl0; do
    lost=$(imp "$d" lost)
    corr=$(imp "$d" corrupted)
    reord=$(imp "$d" reordered)
    [ "${lost:-0}" -gt 0 ] && [ "${corr:-0}" -gt 0 ] && [ "${reord:-0}" -gt 0 ] ||
        fail "impairment $d: lost ${lost:-?}, corrupted ${corr:-?}, reordered ${reord:-?}: expected all > 0"
    corrupted=$((corrupted + corr))
done
echo "the kernels caught $caught of the $corrupted frames the wire corrupted"
[ "$caught" -gt 0 ] || fail "the kernels caught no corrupted frame (InCsumErrors, InHdrErrors)"
[ "$caught" -le "$corrupted" ] || fail "the kernels rejected more frames than the wire corrupted"
pass "impairments applied both ways, corrupted frames caught by the kernels"

pass "impair_wire"
