#!/bin/bash
# tests/interop/tcp_concurrent.sh: 200 Linux kernel connections open at
# once against synack's echo service (RFC 862). Each sends a payload of its
# own (1 to 20 KB), half-closes, reads the echo to EOF and checks it byte
# for byte, then closes. All 200 must succeed; then synack must have counted
# 200 passive opens, hold no connection, have sent no reset and fragmented
# no segment (none exceeds the MSS). Run twice, so the second round meets
# whatever the first left behind (TIME-WAIT on the kernel's side, freed
# state in synack's).
# timeout: 120
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ip python3

KADDR=192.0.2.1
SADDR=192.0.2.2
N=200
ROUNDS=2
CLIENT=$SYNACK_ROOT/tests/interop/tcpclient.py

netns_new tcpconc
# shellcheck disable=SC2119 # the default variable, TMP
tmpdir_new
# No capture: 400 connections' worth of pcap tells nothing the counters do not.
STACK_PCAP_ON=${STACK_PCAP_ON:-0}
tap_stack_up "$NS" snc0 $KADDR/24 $SADDR/24 -v
echo "synack is up: $(grep -m1 '^synack: serving' "$STACK_LOG" || true)"

for round in $(seq $ROUNDS); do
    echo "round $round: $N concurrent connections to $SADDR:7"
    if ! ip netns exec "$NS" python3 "$CLIENT" concurrent $SADDR 7 $N >"$TMP/out"; then
        cat "$TMP/out"
        log_tail "$STACK_LOG" >&2
        fail "round $round: not every connection echoed its payload (errors above)"
    fi
    sed 's/^/    /' "$TMP/out"
    grep -q "^ok=$N failed=0 " "$TMP/out" || fail "round $round: expected ok=$N failed=0"
    pass "round $round: $N connections, every payload echoed exactly"
done

# Every connection closed on synack's side: the echo service logs each one
# as it finishes (serve -v); wait for the last of the close handshakes.
total=$((N * ROUNDS))
done_count() { grep -c 'echo: connection from .* done' "$STACK_LOG" || true; }
wait_for "[ \$(done_count) -ge $total ]" 10 ||
    fail "synack's echo finished $(done_count) connections, expected $total"
errors=$(grep -c 'echo: connection from .* done.*error' "$STACK_LOG" || true)
[ "$errors" -eq 0 ] || fail "$errors echo connections ended with an error on synack's side"
pass "synack finished all $total echo connections without an error"

rc=0
# shellcheck disable=SC2119 # the default stack
stack_stop || rc=$?
[ $rc -eq 0 ] || { log_tail "$STACK_LOG" >&2; fail "synack exited with status $rc, expected 0"; }
opens=$(counter "$STACK_LOG" "passive connection openings")
estab=$(counter "$STACK_LOG" "connections established now")
resets=$(counter "$STACK_LOG" "resets sent")
overflow=$(counter "$STACK_LOG" "listen queue full")
cookies=$(counter "$STACK_LOG" "SYN cookies sent")
retrans=$(counter "$STACK_LOG" "segments retransmitted")
fragmented=$(counter "$STACK_LOG" "IPv4 datagrams fragmented")
echo "counters: $opens passive opens, $estab still established, $resets resets sent," \
    "$overflow listen-queue overflows, $cookies SYN cookies, $retrans retransmitted," \
    "$fragmented datagrams fragmented"
[ "$opens" -eq $total ] || fail "passive connection openings: $opens, expected $total"
[ "$estab" -eq 0 ] || fail "$estab connections still established"
[ "$resets" -eq 0 ] || fail "synack sent $resets resets"
# RFC 9293 3.7.1: segments (retransmissions too) never exceed the MSS.
[ "$fragmented" -eq 0 ] || fail "synack fragmented $fragmented datagrams: a segment exceeded the MSS"
pass "counters: $total passive opens, nothing left established, no resets"

pass "tcp_concurrent"
