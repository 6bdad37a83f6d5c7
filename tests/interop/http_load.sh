#!/bin/bash
# tests/interop/http_load.sh: load on synack's HTTP server from the
# kernel's side: h2load -n 20000 -c 10 -m 10 (HTTP/2, 10 connections, 10
# streams each) and h2load --h1 (HTTP/1.1 keep-alive, and pipelined with
# -m 10), then wrk for 5 s with 50 connections; every request must succeed
# (no errors, no non-2xx answers, no socket errors), and the server must
# then still serve.
# timeout: 120
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ip curl h2load wrk
STACK_PCAP_ON=0

SADDR=192.0.2.2
tmpdir_new ROOT
head -c 1024 /dev/urandom >"$ROOT/1k.bin"
head -c 65536 /dev/urandom >"$ROOT/64k.bin"

netns_new httpload
tap_stack_up "$NS" snt0 192.0.2.1/24 $SADDR/24 --root "$ROOT"

k() { ip netns exec "$NS" timeout 60 "$@"; }

h2load_check() { # NAME ARGS...: run h2load; all requests must succeed
    local name=$1 out
    shift
    out=$ARTIFACTS/h2load-$name.txt
    k h2load "$@" >"$out" 2>&1 || fail "h2load $name exited non-zero: $(tail -5 "$out")"
    local line
    line=$(grep '^requests:' "$out") || fail "h2load $name: no summary: $(tail -5 "$out")"
    # requests: 20000 total, 20000 started, 20000 done, 20000 succeeded, 0 failed, 0 errored, 0 timeout
    read -r _ total _ _ _ _ _ ok _ failed _ errored _ timeout _ <<<"$line"
    [ "$ok" = "$total" ] && [ "$failed" = 0 ] && [ "$errored" = 0 ] && [ "$timeout" = 0 ] ||
        fail "h2load $name: $line"
    grep -q '^status codes: [0-9]* 2xx, 0 3xx, 0 4xx, 0 5xx' "$out" ||
        fail "h2load $name: $(grep '^status codes' "$out")"
    pass "h2load $name: $line; $(grep '^finished in' "$out")"
}

h2load_check h2 -n 20000 -c 10 -m 10 "http://$SADDR/1k.bin"
h2load_check h2-64k -n 2000 -c 10 -m 10 "http://$SADDR/64k.bin"
h2load_check h1 --h1 -n 20000 -c 10 -m 1 "http://$SADDR/1k.bin"
h2load_check h1-pipelined --h1 -n 20000 -c 10 -m 10 "http://$SADDR/1k.bin"

out=$ARTIFACTS/wrk.txt
k wrk -t 2 -c 50 -d 5s --timeout 5s "http://$SADDR/1k.bin" >"$out" 2>&1 || fail "wrk failed: $(cat "$out")"
! grep -qE 'Socket errors|Non-2xx' "$out" || fail "wrk: $(grep -E 'Socket errors|Non-2xx' "$out")"
reqs=$(awk '/requests in/ { print $1 }' "$out")
[ "${reqs:-0}" -gt 1000 ] || fail "wrk: only ${reqs:-0} requests in 5 s"
pass "wrk: $reqs requests in 5 s with 50 connections, no errors ($(grep 'Requests/sec' "$out" | tr -s ' '))"

code=$(k curl -sS -m 5 -o /dev/null -w '%{http_code}' "http://$SADDR/1k.bin") || fail "curl after the load failed"
[ "$code" = 200 ] || fail "after the load: status $code"
stack_stop || fail "synack serve did not stop cleanly after the load"
pass "server still serving after the load, stopped cleanly"
