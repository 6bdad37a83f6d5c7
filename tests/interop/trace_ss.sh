#!/bin/bash
# tests/interop/trace_ss.sh: the live view. synack serve opens its control
# socket (default place, printed at start); while the kernel holds a
# connection to synack's echo service open, `synack ss` lists it
# ESTABLISHED with the kernel's port (as the kernel's own ss sees it) and
# its variables; `synack netstat` shows the counters that moved, also in
# Prometheus format; once the kernel closes, the connection is gone from
# `synack ss`. Then the socket file is removed when synack stops.
# timeout: 90
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ip ss
PY=/usr/bin/python3
[ -x $PY ] || fail "$PY is missing"

TAP=snt7
KADDR=192.0.2.1
SADDR=192.0.2.2

netns_new trss
tmpdir_new
tap_stack_up "$NS" $TAP $KADDR/24 $SADDR/24
CTL=$(sed -n 's/^synack: control socket \([^ ,]*\).*/\1/p' "$STACK_LOG" | head -n 1)
[ -n "$CTL" ] || fail "synack serve did not print its control socket: $(cat "$STACK_LOG")"
[ -S "$CTL" ] || fail "the control socket $CTL does not exist"
echo "control socket: $CTL"

# A client that connects, checks the echo, and holds the connection until
# told to close (the file $TMP/close appears).
bg_run "$ARTIFACTS/client.log" ip netns exec "$NS" $PY -c '
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], 7), timeout=10)
s.sendall(b"hold\n")
got = b""
while len(got) < 5:
    got += s.recv(100)
open(sys.argv[2] + ".tmp", "w").write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
s.shutdown(socket.SHUT_WR)
while s.recv(100):
    pass
s.close()
' $SADDR "$TMP/port" "$TMP/close"
CLIENT=$BG_PID
wait_for "[ -s '$TMP/port' ]" 10 || fail "the client did not connect: $(cat "$ARTIFACTS/client.log")"
PORT=$(cat "$TMP/port")
echo "the kernel's end: $KADDR:$PORT"
ip netns exec "$NS" ss -tn state established "( dport = :7 )" | tee "$ARTIFACTS/kernel-ss.txt"
grep -q "$KADDR:$PORT *$SADDR:7" "$ARTIFACTS/kernel-ss.txt" ||
    fail "the kernel's ss does not show $KADDR:$PORT -> $SADDR:7 established"

"$SYNACK" ss --ctl "$CTL" >"$ARTIFACTS/ss-open.txt" || fail "synack ss failed"
cat "$ARTIFACTS/ss-open.txt"
head -n 1 "$ARTIFACTS/ss-open.txt" | grep -q "^State *Recv-Q *Send-Q *Local Address:Port *Peer Address:Port" ||
    fail "synack ss has no header line"
grep -Eq "^ESTABLISHED +0 +0 +$SADDR:7 +$KADDR:$PORT *$" "$ARTIFACTS/ss-open.txt" ||
    fail "synack ss does not list $SADDR:7 <- $KADDR:$PORT as ESTABLISHED"
line=$(grep -A1 "$KADDR:$PORT" "$ARTIFACTS/ss-open.txt" | tail -n 1)
for v in rto: rtt: cwnd: ssthresh: bytes_sent:5 bytes_acked:5 bytes_received:5 retrans:0/0 \
    mss: snd_wnd: rcv_wnd:; do
    case $line in *"$v"*) ;; *) fail "synack ss's variables lack '$v': $line" ;; esac
done
grep -q "^LISTEN" "$ARTIFACTS/ss-open.txt" && fail "synack ss without -l/-a listed listeners"
"$SYNACK" ss --ctl "$CTL" -l >"$ARTIFACTS/ss-l.txt" || fail "synack ss -l failed"
grep -Eq "^LISTEN +0 +0 +$SADDR:7 " "$ARTIFACTS/ss-l.txt" || fail "synack ss -l does not list the echo listener"
grep -q "^ESTABLISHED" "$ARTIFACTS/ss-l.txt" && fail "synack ss -l listed a connection"
"$SYNACK" ss --ctl "$CTL" -a >"$ARTIFACTS/ss-a.txt" || fail "synack ss -a failed"
if ! grep -q "^LISTEN" "$ARTIFACTS/ss-a.txt" || ! grep -q "^ESTABLISHED" "$ARTIFACTS/ss-a.txt"; then
    fail "synack ss -a should list listeners and connections"
fi
SYNACK_CTL=$CTL "$SYNACK" ss | cmp -s - "$ARTIFACTS/ss-open.txt" ||
    fail "synack ss with SYNACK_CTL differs from --ctl"
echo "ok: synack ss shows the held connection ESTABLISHED, with its variables"

"$SYNACK" netstat --ctl "$CTL" >"$ARTIFACTS/netstat.txt" || fail "synack netstat failed"
cat "$ARTIFACTS/netstat.txt"
[ "$(counter "$ARTIFACTS/netstat.txt" "connections established now")" = 1 ] ||
    fail "synack netstat does not count 1 connection established now"
[ "$(counter "$ARTIFACTS/netstat.txt" "passive connection openings")" -ge 1 ] ||
    fail "synack netstat counts no passive opening"
if ! grep -q "^tcp:" "$ARTIFACTS/netstat.txt" || ! grep -q "^ip4:" "$ARTIFACTS/netstat.txt"; then
    fail "synack netstat lacks a layer"
fi
"$SYNACK" netstat --ctl "$CTL" -a | grep -q "0 SYN cookies sent" ||
    fail "synack netstat -a does not show the zero counters"
"$SYNACK" netstat --ctl "$CTL" --prometheus >"$ARTIFACTS/prometheus.txt" ||
    fail "synack netstat --prometheus failed"
grep -qx "synack_tcp_curr_estab 1" "$ARTIFACTS/prometheus.txt" ||
    fail "the Prometheus text lacks synack_tcp_curr_estab 1"
grep -qx "# TYPE synack_tcp_passive_opens counter" "$ARTIFACTS/prometheus.txt" ||
    fail "the Prometheus text lacks its TYPE lines"
echo "ok: synack netstat shows the counters (text and Prometheus)"

# Close from the kernel's side: the echo service closes too (LAST-ACK,
# then CLOSED), and the connection leaves the table.
touch "$TMP/close"
wait_for "! kill -0 $CLIENT" 10 || fail "the client did not finish"
if ! wait_for "! '$SYNACK' ss --ctl '$CTL' | grep -q '$KADDR:$PORT'" 5; then
    "$SYNACK" ss --ctl "$CTL" >&2
    fail "the closed connection is still listed by synack ss"
fi
"$SYNACK" ss --ctl "$CTL" >"$ARTIFACTS/ss-closed.txt"
[ "$(wc -l <"$ARTIFACTS/ss-closed.txt")" = 1 ] || fail "synack ss still lists something: $(cat "$ARTIFACTS/ss-closed.txt")"
echo "ok: after the close synack ss lists nothing"

stack_stop || fail "synack serve did not stop cleanly"
[ ! -e "$CTL" ] || fail "synack serve left its control socket $CTL behind"
pass "ss and netstat over the control socket"
