#!/bin/bash
# tests/interop/http_malformed.sh: what synack's HTTP server answers to
# requests no ordinary client sends, from raw sockets on the kernel's side
# (tests/interop/http_conformance.py): malformed request lines, huge and
# too many headers, request smuggling shapes, bad chunk sizes, obs-fold,
# timeouts (slowloris, idle), pipelining and persistence rules; an invalid
# HTTP/2 preface and crafted HTTP/2 frames (idle and closed streams,
# decreasing stream ids, bad SETTINGS, oversized frames, bad HPACK, bad
# pseudo-headers, flow-control violations). Each gets the status or the
# RFC 9113 error it must, and the server keeps serving others. Last, a
# SIGTERM sends GOAWAY on an open HTTP/2 connection before synack exits.
# timeout: 120
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ip curl /usr/bin/python3
/usr/bin/python3 -c 'import hyperframe, hpack' 2>/dev/null ||
    fail "needs python3-hyperframe and python3-hpack (scripts/deps.sh test installs them)"

SADDR=192.0.2.2
netns_new httpbad
# Short timeouts so the slowloris and idle checks take seconds; a 1 MB body
# limit for the 413 checks.
tap_stack_up "$NS" snt0 192.0.2.1/24 $SADDR/24 --http 8080 --http-request-ms 1000 \
    --http-idle-ms 1500 --http-max-body 1000000 --access-log "$ARTIFACTS/access.log"

ip netns exec "$NS" /usr/bin/python3 "$SYNACK_ROOT/tests/interop/http_conformance.py" \
    $SADDR 8080 h1 slow h2 | tee "$ARTIFACTS/checks.txt" |
    grep -v '^ok' || true
summary=$(tail -n 1 "$ARTIFACTS/checks.txt")
case $summary in
*" checks, 0 failed") ;;
*) fail "conformance checks: ${summary:-the script did not finish}" ;;
esac
pass "conformance: $summary"

# The stack itself came through: still up, still serving, nothing leaked.
code=$(ip netns exec "$NS" curl -sS -m 5 -o /dev/null -w '%{http_code}' http://$SADDR:8080/) ||
    fail "curl after the checks failed"
[ "$code" = 200 ] || fail "after the checks: status $code"
pass "server still serving after the checks"

# Stopping the server: an open HTTP/2 connection gets GOAWAY first.
bg_run "$ARTIFACTS/goaway.txt" ip netns exec "$NS" /usr/bin/python3 \
    "$SYNACK_ROOT/tests/interop/http_conformance.py" $SADDR 8080 goaway
GOAWAY_PID=$BG_PID
wait_for "grep -q '^ready' '$ARTIFACTS/goaway.txt'" 10 || fail "the HTTP/2 client did not connect"
stack_stop || fail "synack serve did not exit cleanly"
wait_for "_gone $GOAWAY_PID" 20 || fail "the HTTP/2 client did not finish"
grep -q '^ok    GOAWAY NO_ERROR on shutdown' "$ARTIFACTS/goaway.txt" ||
    fail "no GOAWAY on shutdown: $(cat "$ARTIFACTS/goaway.txt")"
pass "SIGTERM: GOAWAY (NO_ERROR, last stream 1) on the open HTTP/2 connection, clean exit"
