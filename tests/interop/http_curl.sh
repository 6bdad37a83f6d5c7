#!/bin/bash
# tests/interop/http_curl.sh: synack serve --http --root DIR in a namespace,
# fetched by the kernel's curl (HTTP/1.0, HTTP/1.1, HTTP/2 with prior
# knowledge and by Upgrade: h2c) and nghttp: bodies byte-exact for a small
# and a 50 MiB file; HEAD, 304 on ETag and Last-Modified, Range (206, 416),
# directory index, listing and redirect, MIME types, the echo endpoint with
# Content-Length, chunked and 100-continue bodies, and the access log in
# Common Log Format.
# timeout: 120
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ip curl nghttp cmp
STACK_PCAP_ON=0 # 50 MiB several times over: no capture

SADDR=192.0.2.2
URL=http://$SADDR
tmpdir_new ROOT
tmpdir_new OUT

# The tree served.
printf 'hello, synack\n' >"$ROOT/hello.txt"
head -c 52428800 /dev/urandom >"$ROOT/big.bin" # 50 MiB
mkdir "$ROOT/docs" "$ROOT/empty dir"
printf '<h1>docs</h1>\n' >"$ROOT/docs/index.html"
printf '{"a":1}\n' >"$ROOT/data.json"
printf 'x' >"$ROOT/empty dir/a&b.txt"

netns_new httpcurl
tap_stack_up "$NS" snt0 192.0.2.1/24 $SADDR/24 --root "$ROOT" --access-log "$ARTIFACTS/access.log"
grep -q "^synack: http on port 80, root $ROOT" "$STACK_LOG" || fail "no HTTP start line in the log"

k() { ip netns exec "$NS" "$@"; }
C=(curl -sS --max-time 30)

# 1. Byte-exact bodies, every protocol.
for mode in --http1.0 --http1.1 --http2-prior-knowledge --http2; do
    for f in hello.txt big.bin; do
        out=$OUT/$f$mode
        info=$(k "${C[@]}" $mode -o "$out" -w '%{http_code} %{http_version} %{size_download}' \
            "$URL/$f") || fail "curl $mode $f failed"
        cmp -s "$out" "$ROOT/$f" || fail "curl $mode $f: body differs ($info)"
        rm -f "$out"
        case $mode in
        --http1.0 | --http1.1) want=1.1 ;; # RFC 9110 2.5: we answer with our highest version
        *) want=2 ;;
        esac
        [ "${info%% *}" = 200 ] && [ "$(echo "$info" | cut -d' ' -f2)" = $want ] ||
            fail "curl $mode $f: got '$info', want 200 in HTTP/$want"
    done
    pass "curl $mode: hello.txt and a 50 MiB file byte-exact"
done
k nghttp -n -s "$URL/big.bin" "$URL/hello.txt" >"$OUT/nghttp.txt" 2>&1 ||
    fail "nghttp failed: $(tail -3 "$OUT/nghttp.txt")"
k nghttp -d "$ROOT/hello.txt" -s "$URL/echo" >/dev/null 2>&1 || fail "nghttp POST failed"
k nghttp "$URL/big.bin" >"$OUT/nghttp.big" 2>/dev/null || fail "nghttp body failed"
cmp -s "$OUT/nghttp.big" "$ROOT/big.bin" || fail "nghttp: the 50 MiB body differs"
pass "nghttp: 50 MiB byte-exact, statistics and POST"
grep -q 'GET /hello.txt HTTP/1.1" 101 -' "$ARTIFACTS/access.log" ||
    fail "curl --http2 did not go through Upgrade: h2c (no 101 in the access log)"
pass "curl --http2 upgraded from HTTP/1.1 with Upgrade: h2c"

# 2. HEAD, validators, conditional requests.
hdr=$(k "${C[@]}" -I "$URL/hello.txt") || fail "HEAD failed"
echo "$hdr" | grep -qi '^content-length: 14' || fail "HEAD: no Content-Length 14: $hdr"
echo "$hdr" | grep -qi '^content-type: text/plain' || fail "HEAD: wrong type: $hdr"
etag=$(echo "$hdr" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
lm=$(echo "$hdr" | tr -d '\r' | sed -n 's/^[Ll]ast-[Mm]odified: //p')
[ -n "$etag" ] && [ -n "$lm" ] || fail "no ETag or Last-Modified: $hdr"
code() { k "${C[@]}" -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code -H "If-None-Match: $etag" "$URL/hello.txt")" = 304 ] || fail "If-None-Match: no 304"
[ "$(code -H "If-None-Match: \"other\", $etag" "$URL/hello.txt")" = 304 ] || fail "If-None-Match list: no 304"
[ "$(code -H 'If-None-Match: "other"' "$URL/hello.txt")" = 200 ] || fail "If-None-Match other: no 200"
[ "$(code -H "If-Modified-Since: $lm" "$URL/hello.txt")" = 304 ] || fail "If-Modified-Since: no 304"
[ "$(code -H 'If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT' "$URL/hello.txt")" = 200 ] ||
    fail "If-Modified-Since in the past: no 200"
[ "$(code --http2-prior-knowledge -H "If-None-Match: $etag" "$URL/hello.txt")" = 304 ] ||
    fail "HTTP/2 If-None-Match: no 304"
pass "HEAD, ETag, Last-Modified, 304 (HTTP/1.1 and HTTP/2)"

# 3. Ranges.
[ "$(k "${C[@]}" -r 0-4 "$URL/hello.txt")" = hello ] || fail "Range 0-4"
[ "$(k "${C[@]}" -r -7 "$URL/hello.txt")" = "synack" ] || fail "Range -7 (suffix)"
[ "$(code -r 7- "$URL/hello.txt")" = 206 ] || fail "Range 7-: no 206"
[ "$(code -r 100-200 "$URL/hello.txt")" = 416 ] || fail "Range past the end: no 416"
k "${C[@]}" -r 1000000-1999999 -o "$OUT/part" "$URL/big.bin"
cmp -s "$OUT/part" <(tail -c +1000001 "$ROOT/big.bin" | head -c 1000000) || fail "1 MB range differs"
k "${C[@]}" --http2-prior-knowledge -r 1000000-1999999 -o "$OUT/part2" "$URL/big.bin"
cmp -s "$OUT/part2" "$OUT/part" || fail "HTTP/2 range differs"
[ "$(code -r 0-4 -H 'If-Range: "stale"' "$URL/hello.txt")" = 200 ] || fail "If-Range mismatch: no 200"
[ "$(code -r 0-4 -H "If-Range: $etag" "$URL/hello.txt")" = 206 ] || fail "If-Range match: no 206"
pass "Range: 206, suffix, 416, If-Range, 1 MB slice of 50 MiB (HTTP/1.1 and HTTP/2)"

# 4. Directories, MIME types, 404, 405.
[ "$(k "${C[@]}" "$URL/docs/")" = "<h1>docs</h1>" ] || fail "index.html not served"
loc=$(k "${C[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' "$URL/docs")
[ "$loc" = "301 $URL/docs/" ] || fail "directory without slash: got '$loc'"
listing=$(k "${C[@]}" "$URL/empty%20dir/")
echo "$listing" | grep -q 'href="a%26b.txt">a&amp;b.txt<' || fail "listing: $listing"
k "${C[@]}" "$URL/" | grep -q 'href="empty%20dir/"' || fail "root listing lacks the directory"
[ "$(k "${C[@]}" -o /dev/null -w '%{content_type}' "$URL/data.json")" = application/json ] ||
    fail "json MIME type"
[ "$(code "$URL/nope")" = 404 ] || fail "missing file: no 404"
[ "$(code -X DELETE "$URL/hello.txt")" = 405 ] || fail "DELETE: no 405"
pass "directory index, listing (escaped), redirect, MIME types, 404, 405"

# 5. The echo endpoint: Content-Length, chunked (both ways), 100-continue.
head -c 3000000 /dev/urandom >"$OUT/up"
for mode in --http1.1 --http1.0 --http2-prior-knowledge; do
    k "${C[@]}" $mode --data-binary "@$OUT/up" -o "$OUT/down" "$URL/echo" || fail "echo $mode"
    cmp -s "$OUT/up" "$OUT/down" || fail "echo $mode: body differs"
done
te=$(k "${C[@]}" -H 'Transfer-Encoding: chunked' --data-binary "@$OUT/up" -o "$OUT/down" \
    -w '%{header_json}' "$URL/echo")
cmp -s "$OUT/up" "$OUT/down" || fail "chunked echo: body differs"
echo "$te" | grep -qi '"transfer-encoding":\["chunked"\]' || fail "chunked request not echoed chunked"
k "${C[@]}" -H 'Expect: 100-continue' --data-binary "@$OUT/up" -o "$OUT/down" -v "$URL/echo" \
    2>"$OUT/v" || fail "100-continue echo"
grep -q '< HTTP/1.1 100 Continue' "$OUT/v" || fail "no 100 Continue"
cmp -s "$OUT/up" "$OUT/down" || fail "100-continue echo: body differs"
pass "POST /echo: 3 MB byte-exact over HTTP/1.0, 1.1, 2; chunked both ways; 100-continue"

# 6. The access log: one Common Log Format line per response.
stack_stop || fail "synack serve did not stop cleanly"
clf='^192\.0\.2\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} \+0000\] "[A-Z]+ [^ ]+ HTTP/[12]\.[01]" [0-9]{3} ([0-9]+|-)$'
n=$(wc -l <"$ARTIFACTS/access.log")
bad=$(grep -cvE "$clf" "$ARTIFACTS/access.log" || true)
[ "$n" -ge 40 ] && [ "$bad" = 0 ] || fail "access log: $n lines, $bad not in CLF: $(grep -vE "$clf" "$ARTIFACTS/access.log" | head -3)"
grep -qE '"GET /big.bin HTTP/2.0" 200 52428800$' "$ARTIFACTS/access.log" || fail "no HTTP/2 line for big.bin"
grep -qE '"GET /hello.txt HTTP/1.0" 200 14$' "$ARTIFACTS/access.log" || fail "no HTTP/1.0 line"
grep -qE '"GET /hello.txt HTTP/1.1" 304 -$' "$ARTIFACTS/access.log" || fail "no 304 line"
pass "access log: $n lines in Common Log Format"
