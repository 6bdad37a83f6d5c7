#!/bin/bash
# tests/interop/http_handshakes.sh: the point of the HTTP work, counted by
# synack itself. The kernel's curl fetches the same 20 URLs from synack
# with HTTP/1.0, with HTTP/1.1 keep-alive and with HTTP/2 (prior
# knowledge); synack's "passive connection openings" counter must move by
# 20, 1 and 1: one three-way handshake per request for HTTP/1.0, one for
# all of them otherwise. nghttp (20 streams at once) must also need one.
#
# curl 7.88.x (Debian 12) cannot reuse an HTTP/2 prior-knowledge connection
# (curl/curl#10634, fixed in curl 8.0: the second URL fails with "Error in
# the HTTP2 framing layer", against nginx too). With such a curl the HTTP/2
# run uses --http2 instead (Upgrade: h2c on the first request, then HTTP/2
# on the same connection), and nghttp covers prior knowledge.
# timeout: 60
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ip curl nghttp

SADDR=192.0.2.2
tmpdir_new ROOT
urls=()
for i in $(seq 1 20); do
    head -c $((i * 1000)) /dev/urandom >"$ROOT/f$i.bin"
    urls+=("http://$SADDR/f$i.bin")
done

netns_new httphs
tap_stack_up "$NS" snt0 192.0.2.1/24 $SADDR/24 --root "$ROOT"

opens() { stack_counter "passive connection openings"; }

run_mode() { # MODE WANT: curl MODE on all 20 URLs; handshakes must be WANT
    local mode=$1 want=$2 before after n
    before=$(opens)
    ip netns exec "$NS" curl -sS -m 30 "$mode" "${urls[@]}" -o /dev/null -o /dev/null \
        -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
        -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
        -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
        -w '%{http_code}\n' >"$ARTIFACTS/curl$mode.txt" || fail "curl $mode failed"
    n=$(grep -c '^200$' "$ARTIFACTS/curl$mode.txt")
    [ "$n" = 20 ] || fail "curl $mode: $n of 20 responses were 200"
    after=$(opens)
    [ $((after - before)) = "$want" ] ||
        fail "curl $mode: synack saw $((after - before)) handshakes for 20 requests, want $want"
    pass "curl $mode: 20 requests, $want TCP handshake(s)"
}

run_mode --http1.0 20
run_mode --http1.1 1
curl_major=$(curl --version | awk 'NR == 1 { split($2, v, "."); print v[1] }')
if [ "${curl_major:-0}" -ge 8 ]; then
    run_mode --http2-prior-knowledge 1
else
    echo "curl $(curl --version | awk 'NR == 1 { print $2 }') cannot reuse prior-knowledge" \
        "connections (curl/curl#10634): using --http2 (Upgrade: h2c)"
    run_mode --http2 1
fi

before=$(opens)
ip netns exec "$NS" nghttp -n "${urls[@]}" || fail "nghttp failed"
after=$(opens)
[ $((after - before)) = 1 ] || fail "nghttp: $((after - before)) handshakes for 20 streams"
pass "nghttp: 20 concurrent streams, 1 TCP handshake"
