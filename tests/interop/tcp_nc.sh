#!/bin/bash
# tests/interop/tcp_nc.sh: the README's promise, as written there: with
# `synack serve` on a TAP, `nc` on the kernel's side talks to synack's echo,
# daytime, discard and chargen services. echo returns the line; daytime
# sends one line of RFC 867 time and closes first (the capture's first FIN
# of that connection is synack's); discard takes a file; chargen streams
# RFC 864 lines.
# timeout: 60
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ip nc tshark

KADDR=192.0.2.1
SADDR=192.0.2.2

netns_new tcpnc
# shellcheck disable=SC2119 # the default variable, TMP
tmpdir_new
tap_stack_up "$NS" snn0 $KADDR/24 $SADDR/24 -v
echo "synack is up: $(grep -m1 '^synack: serving' "$STACK_LOG" || true)"

# knc ARGS...: nc on the kernel's side, stopped after 10 s whatever happens.
knc() {
    ip netns exec "$NS" timeout 10 nc "$@"
}

# 1. echo (RFC 862): the README's `echo hello | nc -q1 192.0.2.2 7`.
echo "echo hello | nc -q1 $SADDR 7"
out=$(echo hello | knc -q1 $SADDR 7) || fail "nc to echo exited with status $?"
echo "    $out"
[ "$out" = hello ] || fail "echo returned '$out', expected 'hello'"
pass "echo: the line came back"

# 2. daytime (RFC 867): `nc 192.0.2.2 13 </dev/null`; synack sends the time
# and closes, nc exits on its own.
echo "nc $SADDR 13 </dev/null"
out=$(knc $SADDR 13 </dev/null) || fail "nc to daytime exited with status $? (did synack not close?)"
echo "    $out"
year=$(date -u +%Y)
[[ $out =~ ^[A-Z][a-z]+day,\ [A-Z][a-z]+\ [0-9]{2},\ [0-9]{4}\ [0-9]{2}:[0-9]{2}:[0-9]{2}-UTC$'\r'?$ ]] ||
    fail "daytime sent '$out', expected e.g. 'Monday, January 02, $year 15:04:05-UTC'"
[[ $out == *"$year"* ]] || fail "daytime's year is not $year: '$out'"
pass "daytime: one line of the current time, then the connection closed"

# 3. discard (RFC 863): `nc 192.0.2.2 9 < /etc/services`, and synack read
# all of it (serve -v logs the bytes each connection received).
size=$(stat -c %s /etc/services)
echo "nc -N $SADDR 9 < /etc/services ($size bytes)"
knc -N $SADDR 9 </etc/services >"$TMP/discard.out" || fail "nc to discard exited with status $?"
[ ! -s "$TMP/discard.out" ] || fail "discard sent something back"
wait_for "grep -q 'discard: connection from .* done, $size bytes received' '$STACK_LOG'" 5 ||
    fail "synack's discard did not log a connection that received $size bytes"
pass "discard: synack received all $size bytes"

# 4. chargen (RFC 864): the first lines are the rotating pattern.
echo "nc $SADDR 19 </dev/null | head -n 3"
knc $SADDR 19 </dev/null 2>/dev/null | head -c 222 >"$TMP/chargen.out" || true
printf '%s\r\n' \
    ' !"#$%&'\''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefg' \
    '!"#$%&'\''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefgh' \
    '"#$%&'\''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghi' >"$TMP/chargen.want"
sed 's/^/    /' "$TMP/chargen.out"
cmp -s "$TMP/chargen.out" "$TMP/chargen.want" || fail "chargen's first 3 lines are not RFC 864's pattern"
pass "chargen: the first 3 lines are the RFC 864 pattern"

rc=0
# shellcheck disable=SC2119 # the default stack
stack_stop || rc=$?
[ $rc -eq 0 ] || { log_tail "$STACK_LOG" >&2; fail "synack exited with status $rc, expected 0"; }

# 5. Who closed first on daytime: the capture's first FIN on port 13.
first_fin=$(tshark -n -r "$STACK_PCAP" -Y 'tcp.port == 13 && tcp.flags.fin == 1' \
    -T fields -e ip.src 2>/dev/null | head -n 1)
fins=$(tshark -n -r "$STACK_PCAP" -Y 'tcp.port == 13 && tcp.flags.fin == 1' 2>/dev/null | wc -l)
echo "daytime: $fins FINs, the first from ${first_fin:-nobody}"
[ "$first_fin" = $SADDR ] || fail "daytime: the first FIN came from '$first_fin', expected synack ($SADDR)"
[ "$fins" -eq 2 ] || fail "daytime: $fins FINs in the capture, expected 2 (one each way)"
resets=$(tshark -n -r "$STACK_PCAP" -Y 'tcp.flags.reset == 1 && tcp.port != 19' 2>/dev/null | wc -l)
[ "$resets" -eq 0 ] || fail "$resets resets on echo, daytime or discard; they should close with FINs"
pass "daytime: synack closed first (active close), both FINs, no reset"

pass "tcp_nc"
