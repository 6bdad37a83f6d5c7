#!/bin/bash
# tests/interop/http_client.sh: `synack get` against kernel HTTP servers in a
# namespace: nginx (HTTP/1.0, HTTP/1.1 and, on a second port, h2c with prior
# knowledge) and python's http.server (HTTP/1.0 answers). synack opens the
# connections from its own stack on a TAP; bodies must be byte-exact, and
# the connections it reports must agree with the stack's counter and with
# what nginx logged ($connection, $connection_requests):
#   --http1.0: one connection per request; --http1.1: keep-alive, one
#   connection (or C with --concurrency C); --http2: one connection for
#   every request, streams in flight up to --concurrency.
# timeout: 120
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ip nginx curl /usr/bin/python3 cmp

KADDR=192.0.2.1
SADDR=192.0.2.2
TAP=snt0
STACK_PCAP_ON=0
tmpdir_new WORK
mkdir -p "$WORK/www" "$WORK/ngx"
head -c 5242880 /dev/urandom >"$WORK/www/big.bin" # 5 MiB
printf 'small file\n' >"$WORK/www/small.txt"
for i in $(seq 1 20); do head -c $((i * 700)) /dev/urandom >"$WORK/www/f$i.bin"; done

netns_new httpget
# The TAP exists before synack opens it, with the kernel's address on it,
# so the SYN does not wait for the device to be configured.
ip -n "$NS" tuntap add dev $TAP mode tap || fail "cannot create $TAP"
ip -n "$NS" addr add $KADDR/24 dev $TAP
ip -n "$NS" link set $TAP up

cat >"$WORK/ngx/nginx.conf" <<NGX
user root;
worker_processes 1;
daemon off;
pid $WORK/ngx/nginx.pid;
error_log $WORK/ngx/error.log;
events { worker_connections 1024; }
http {
    client_body_temp_path $WORK/ngx; proxy_temp_path $WORK/ngx; fastcgi_temp_path $WORK/ngx;
    uwsgi_temp_path $WORK/ngx; scgi_temp_path $WORK/ngx;
    log_format conns '\$connection \$connection_requests \$server_protocol \$status \$request_uri';
    access_log $ARTIFACTS/nginx-access.log conns;
    keepalive_requests 10000;
    server { listen $KADDR:8080; root $WORK/www; }
    server { listen $KADDR:8081 http2; root $WORK/www; }
}
NGX
bg_run "$ARTIFACTS/nginx.log" ip netns exec "$NS" nginx -c "$WORK/ngx/nginx.conf"
bg_run "$ARTIFACTS/pyhttp.log" ip netns exec "$NS" /usr/bin/python3 -m http.server 8082 \
    --bind $KADDR --directory "$WORK/www"
wait_for "ip netns exec $NS curl -sf -o /dev/null http://$KADDR:8080/small.txt &&
    ip netns exec $NS curl -sf -o /dev/null http://$KADDR:8082/small.txt" 10 ||
    fail "nginx or http.server did not start: $(cat "$ARTIFACTS/nginx.log" "$WORK/ngx/error.log" 2>/dev/null)"

run_no=0
# get NAME ARGS...: synack get on the TAP; its summary goes to $ARTIFACTS/get-NAME.txt
get() {
    local name=$1 rc=0
    shift
    run_no=$((run_no + 1))
    ip netns exec "$NS" timeout 60 "$SYNACK" get --tap $TAP --addr $SADDR/24 -q "$@" \
        >"$ARTIFACTS/get-$name.txt" 2>&1 || rc=$?
    [ $rc = 0 ] || { cat "$ARTIFACTS/get-$name.txt" >&2; fail "synack get $name: exit $rc"; }
}
summary() { # NAME FIELD: a number from the summary
    local f=$ARTIFACTS/get-$1.txt
    case $2 in
    conns) sed -n 's/.*TCP connections: \([0-9]*\) opened.*/\1/p' "$f" ;;
    hs) sed -n 's/.* opened, \([0-9]*\) handshakes.*/\1/p' "$f" ;;
    stack) sed -n 's/.*the stack counted \([0-9]*\) active opens.*/\1/p' "$f" ;;
    ok) sed -n 's/.*: \([0-9]*\) answered 2xx.*/\1/p' "$f" ;;
    esac
}
expect_conns() { # NAME REQUESTS CONNS
    local ok hs stack
    ok=$(summary "$1" ok) hs=$(summary "$1" hs) stack=$(summary "$1" stack)
    [ "$ok" = "$2" ] || fail "$1: $ok of $2 requests answered 2xx: $(cat "$ARTIFACTS/get-$1.txt")"
    [ "$hs" = "$3" ] && [ "$stack" = "$3" ] ||
        fail "$1: $hs handshakes (stack: $stack), want $3: $(cat "$ARTIFACTS/get-$1.txt")"
}
ngx_conns() { # distinct nginx connections in the log lines since line $1
    tail -n +"$1" "$ARTIFACTS/nginx-access.log" | awk '{ print $1 }' | sort -u | wc -l
}
ngx_line() { [ -f "$ARTIFACTS/nginx-access.log" ] && echo $(($(wc -l <"$ARTIFACTS/nginx-access.log") + 1)) || echo 1; }

# 1. Byte-exact, every mode.
for mode in --http1.0 --http1.1; do
    get "big$mode" $mode -o "$WORK/out" http://$KADDR:8080/big.bin
    cmp -s "$WORK/out" "$WORK/www/big.bin" || fail "$mode: 5 MiB body differs"
    expect_conns "big$mode" 1 1
done
get big--http2 --http2 -o "$WORK/out" http://$KADDR:8081/big.bin
cmp -s "$WORK/out" "$WORK/www/big.bin" || fail "--http2: 5 MiB body differs"
expect_conns big--http2 1 1
pass "5 MiB byte-exact from nginx over HTTP/1.0, HTTP/1.1 and HTTP/2"

# 2. 20 different URLs, bodies in order, and the handshakes per mode.
urls8080=() urls8081=()
for i in $(seq 1 20); do
    urls8080+=("http://$KADDR:8080/f$i.bin")
    urls8081+=("http://$KADDR:8081/f$i.bin")
done
for i in $(seq 1 20); do cat "$WORK/www/f$i.bin"; done >"$WORK/want20"
for m in "--http1.0 20 8080" "--http1.1 1 8080" "--http2 1 8081"; do
    read -r mode want port <<<"$m"
    line=$(ngx_line)
    if [ "$port" = 8080 ]; then
        get "20$mode" "$mode" -o "$WORK/out" "${urls8080[@]}"
    else
        get "20$mode" "$mode" -o "$WORK/out" "${urls8081[@]}"
    fi
    cmp -s "$WORK/out" "$WORK/want20" || fail "$mode: the 20 bodies differ (or are out of order)"
    expect_conns "20$mode" 20 "$want"
    n=$(ngx_conns "$line")
    [ "$n" = "$want" ] || fail "$mode: nginx saw $n connections, want $want"
    pass "$mode: 20 URLs, bodies in order, $want TCP handshake(s) (synack, its stack and nginx agree)"
done

# 3. Concurrency.
line=$(ngx_line)
get c4 --http1.1 -n 10 --concurrency 4 -o /dev/null "${urls8080[@]}"
expect_conns c4 200 4
[ "$(ngx_conns "$line")" = 4 ] || fail "--concurrency 4: nginx saw $(ngx_conns "$line") connections"
pass "--http1.1 --concurrency 4: 200 requests on 4 keep-alive connections"
line=$(ngx_line)
get h2c50 --http2 -n 25 --concurrency 50 -o "$WORK/out" "${urls8081[@]}"
expect_conns h2c50 500 1
for _ in $(seq 25); do cat "$WORK/want20"; done | cmp -s - "$WORK/out" ||
    fail "--http2 --concurrency 50: bodies differ or out of order"
[ "$(ngx_conns "$line")" = 1 ] || fail "h2: nginx saw $(ngx_conns "$line") connections"
pass "--http2 --concurrency 50: 500 requests, 50 streams in flight, 1 connection, bodies in order"

# 4. python's http.server answers HTTP/1.0 (and closes): even --http1.1
#    needs a connection per request there.
get py11 --http1.1 -n 5 -o "$WORK/out" http://$KADDR:8082/small.txt
expect_conns py11 5 5
[ "$(cat "$WORK/out")" = "$(for _ in 1 2 3 4 5; do cat "$WORK/www/small.txt"; done)" ] ||
    fail "http.server bodies differ"
get py10 --http1.0 -n 3 -o /dev/null http://$KADDR:8082/small.txt
expect_conns py10 3 3
pass "python http.server (HTTP/1.0 answers): one connection per request, as it closes"

# 5. Failures are reported: a closed port, a missing file.
rc=0
ip netns exec "$NS" timeout 30 "$SYNACK" get --tap $TAP --addr $SADDR/24 -q -o /dev/null \
    http://$KADDR:9/ >"$ARTIFACTS/get-refused.txt" 2>&1 || rc=$?
[ $rc = 1 ] && grep -q 'refused' "$ARTIFACTS/get-refused.txt" ||
    fail "a closed port: exit $rc, $(cat "$ARTIFACTS/get-refused.txt")"
get missing -o /dev/null http://$KADDR:8080/nope
grep -q '0 answered 2xx, 1 other status, 0 failed' "$ARTIFACTS/get-missing.txt" ||
    fail "404 not reported: $(cat "$ARTIFACTS/get-missing.txt")"
rc=0
"$SYNACK" get --tap x --addr $SADDR/24 https://$KADDR/ >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "an https URL: exit $rc, want 2"
pass "refused connection (exit 1), 404 counted, bad URL (exit 2)"
