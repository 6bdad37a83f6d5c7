#!/bin/bash
# tests/interop/trace_capture.sh: one short exchange with synack's echo
# service, captured three ways at once: by synack itself (--pcap), and by
# tcpdump on the kernel's side of the TAP (Ethernet) and on "any" (Linux
# cooked v2). `synack trace` must draw the same ladder from all three
# (times left out: each capture has its own clock), with the states RFC
# 9293 gives each side. synack's own state trace (--trace) must hold the
# server's transitions with their causes, match the states inferred from
# the capture, and go on the ladder with --states.
# timeout: 120
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ip tcpdump
PY=/usr/bin/python3
[ -x $PY ] || fail "$PY is missing"

TAP=snt6
KADDR=192.0.2.1
SADDR=192.0.2.2
STATES=$ARTIFACTS/states.jsonl

netns_new trcap
tap_stack_up "$NS" $TAP $KADDR/24 $SADDR/24 --trace "$STATES" --no-ctl
grep -q "^synack: state trace $STATES" "$STACK_LOG" ||
    fail "synack did not say it writes the state trace to $STATES"

# tcpdump on the kernel's side, two ways; -U writes each packet at once.
bg_run "$ARTIFACTS/tcpdump-tap.log" ip netns exec "$NS" tcpdump -i $TAP -n -U -w "$ARTIFACTS/kernel-tap.pcap" tcp
TD1=$BG_PID
bg_run "$ARTIFACTS/tcpdump-any.log" ip netns exec "$NS" tcpdump -i any -n -U -w "$ARTIFACTS/kernel-any.pcap" tcp
TD2=$BG_PID
wait_for "grep -q 'listening on' '$ARTIFACTS/tcpdump-tap.log' && grep -q 'listening on' '$ARTIFACTS/tcpdump-any.log'" 10 ||
    fail "tcpdump did not start: $(cat "$ARTIFACTS/tcpdump-tap.log" "$ARTIFACTS/tcpdump-any.log")"

# Ping-pong, so that no two segments cross on the wire (then every capture
# point sees one order): request, echo, a pause for the delayed ACK, then
# the client's FIN, the server's FIN, the last ACK.
ip netns exec "$NS" $PY - $SADDR <<'PYEOF' || fail "the echo exchange failed"
import socket, sys, time
s = socket.create_connection((sys.argv[1], 7), timeout=5)
time.sleep(0.2)
s.sendall(b"hello\n")
got = b""
while len(got) < 6:
    got += s.recv(100)
assert got == b"hello\n", got
time.sleep(0.3)
s.shutdown(socket.SHUT_WR)
while s.recv(100):
    pass
time.sleep(0.3)
s.close()
PYEOF
sleep 0.5
bg_stop $TD1 || true
bg_stop $TD2 || true
stack_stop || fail "synack serve did not stop cleanly"

# The three ladders, without times and the first line (which names the file).
for c in kernel-tap kernel-any; do
    "$SYNACK" trace "$ARTIFACTS/$c.pcap" --no-time --port 7 >"$ARTIFACTS/$c.ladder" ||
        fail "synack trace $c.pcap failed"
done
"$SYNACK" trace "$STACK_PCAP" --no-time --port 7 >"$ARTIFACTS/synack.ladder" ||
    fail "synack trace on synack's own capture failed"
sed -n '3,$p' "$ARTIFACTS/synack.ladder" >"$ARTIFACTS/synack.body"
for c in kernel-tap kernel-any; do
    sed -n '3,$p' "$ARTIFACTS/$c.ladder" >"$ARTIFACTS/$c.body"
    diff -u "$ARTIFACTS/synack.body" "$ARTIFACTS/$c.body" ||
        fail "the ladder of tcpdump's capture ($c) differs from the one of synack's --pcap"
    echo "ok: tcpdump ($c) and synack --pcap give the same ladder"
done
cat "$ARTIFACTS/synack.ladder"

# The states each side went through, as the ladder shows them. The echo
# service closes as soon as it reads EOF, and synack sends its output once
# per batch, so the server's FIN carries the ACK of the client's: the
# client goes from FIN-WAIT-1 straight to TIME-WAIT (a ladder with
# FIN-WAIT-2 is tests/trace/golden.sh's halfclose).
L=$ARTIFACTS/synack.ladder
for want in "SYN-SENT |" "| SYN-RECEIVED" "ESTABLISHED |" "| ESTABLISHED" "FIN-WAIT-1 |" \
    "| CLOSE-WAIT" "| LAST-ACK" "TIME-WAIT |" "| CLOSED" "len=6" \
    "closed: FIN both ways, client first" "handshake: complete"; do
    grep -qF -- "$want" "$L" || fail "the ladder does not show '$want'"
done
grep -Eq '^ *TIME-WAIT \|<-+ FIN,ACK seq=7 ack=8 ' "$L" ||
    fail "the server's FIN does not acknowledge the client's (a three-way close)"
echo "ok: the ladder shows the states of an active and a passive close"

# synack's own trace: valid JSON, the server's transitions and causes.
$PY - "$STATES" >"$ARTIFACTS/states.txt" <<'PYEOF' || fail "the state trace is not what it should be"
import json, sys
conn = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    for k in ("t", "local", "remote", "from", "to", "cause", "snd_una", "snd_nxt", "rcv_nxt",
              "cwnd", "ssthresh", "rto_us"):
        assert k in e, (k, e)
    if e["local"].endswith(":7") and not e["remote"].startswith("0.0.0.0"):
        conn.append(e)
steps = [(e["from"], e["to"], e["cause"].split(" ")[0] + " " + e["cause"].split(" ")[1]) for e in conn]
print("\n".join("%s -> %s (%s)" % s for s in steps))
want = [("LISTEN", "SYN-RECEIVED", "segment S"), ("SYN-RECEIVED", "ESTABLISHED", "segment ."),
        ("ESTABLISHED", "CLOSE-WAIT", "segment F."), ("CLOSE-WAIT", "LAST-ACK", "user close"),
        ("LAST-ACK", "CLOSED", "segment .")]
assert steps == want, steps
est = conn[1]  # at the change, before the ACK moved SND.UNA (RFC 9293 3.10.7.4 fifth)
assert est["snd_nxt"] == est["iss"] + 1 and est["rcv_nxt"] == est["irs"] + 1, est
assert conn[-1]["snd_una"] == conn[-1]["iss"] + 8, conn[-1]  # SYN, 6 bytes, FIN
PYEOF
cat "$ARTIFACTS/states.txt"
echo "ok: the state trace has the server's five transitions with their causes"

# With --states the server's side shows synack's own states: the same ones
# inference found, each on its row, with the variables.
"$SYNACK" trace "$STACK_PCAP" --port 7 --states "$STATES" >"$ARTIFACTS/states.ladder" ||
    fail "synack trace --states failed"
cat "$ARTIFACTS/states.ladder"
grep -q "states: server from the stack's trace" "$ARTIFACTS/states.ladder" ||
    fail "--states did not take the server's side"
[ "$(grep -c '\^ server (stack):' "$ARTIFACTS/states.ladder")" = 5 ] ||
    fail "--states did not place all five transitions"
server_states() { # the server's column, top to bottom
    sed -n 's/.*| \([A-Z][A-Z-]*[A-Z12]\)\( .*\)\{0,1\}$/\1/p' "$1" | grep -vx server
}
server_states "$ARTIFACTS/synack.ladder" >"$ARTIFACTS/inferred.states"
server_states "$ARTIFACTS/states.ladder" >"$ARTIFACTS/stack.states"
diff -u "$ARTIFACTS/stack.states" "$ARTIFACTS/inferred.states" ||
    fail "the states inferred from the capture differ from synack's own"
echo "ok: inferred states = synack's own: $(tr '\n' ' ' <"$ARTIFACTS/stack.states")"
pass "trace: tcpdump and --pcap captures, state trace"
