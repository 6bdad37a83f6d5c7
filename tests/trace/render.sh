#!/bin/bash
# tests/trace/render.sh: the SVG `synack trace --svg` writes is well-formed
# XML (xmllint, a real XML parser) and the HTML page of --html renders in
# headless Chromium, the ladders side by side, with nothing fetched from
# outside the page.
# timeout: 180
set -eu
# shellcheck source=tests/trace/lib.sh
. "$(dirname "$0")/lib.sh"
need_cmd xmllint chromium

make_captures
cd "$CAP"

# Every capture as SVG: one ladder, and several side by side.
for f in handshake simopen rst retrans zerowin halfclose; do
    "$SYNACK" trace "$f.pcap" --quiet --svg "$TMP/$f.svg" || fail "synack trace $f.pcap --svg failed"
    xmllint --noout "$TMP/$f.svg" || fail "$f.svg is not well-formed XML"
    grep -q '<svg xmlns="http://www.w3.org/2000/svg"' "$TMP/$f.svg" || fail "$f.svg has no svg root"
done
"$SYNACK" trace handshake.pcap halfclose.pcap bulk.pcap --max 6 --quiet --svg "$TMP/three.svg" \
    --label "one" --label "two & <three>" || fail "synack trace --svg of three captures failed"
xmllint --noout "$TMP/three.svg" || fail "three.svg is not well-formed XML"
[ "$(grep -c '<g transform="translate(' "$TMP/three.svg")" = 3 ] ||
    fail "three.svg should hold 3 ladders"
grep -q 'two &amp; &lt;three&gt;' "$TMP/three.svg" || fail "a label was not escaped for XML"
echo "ok: SVG well-formed (xmllint)"

# The page: three ladders side by side, self-contained.
html=$TMP/page.html
"$SYNACK" trace handshake.pcap rst.pcap retrans.pcap --conn 1,3,4 --quiet --html "$html" \
    --title "trace test" --label "handshake" --label "reset" --label "retransmissions" ||
    fail "synack trace --html failed"
[ "$(grep -c '<section>' "$html")" = 3 ] || fail "the page should hold 3 ladders"
if grep -Eq '(src|href)="(https?:)?//|@import|url\(' "$html"; then
    fail "the page refers to something outside itself"
fi
# Its SVG parts are XML too: the page as XHTML-ish input to xmllint --html
# would complain about HTML5 tags, so check each inline svg instead.
awk -v dir="$TMP" '/<svg /,/<\/svg>/ { if (/<svg /) f = dir "/inline" (++n) ".svg"; print > f }' "$html"
for f in "$TMP"/inline*.svg; do
    xmllint --noout "$f" || fail "an inline SVG of the page is not well-formed"
done

profile=$(mktemp -d "$TMP/chromium.XXXXXX")
png=$TMP/page.png
rc=0
timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --no-first-run --user-data-dir="$profile" --window-size=2600,1400 \
    --screenshot="$png" "file://$html" >"$TMP/chromium.log" 2>&1 || rc=$?
[ $rc -eq 0 ] || {
    tail -n 20 "$TMP/chromium.log"
    fail "chromium --headless --screenshot exited $rc"
}
[ -s "$png" ] || fail "chromium wrote no screenshot"
size=$(stat -c %s "$png")
[ "$size" -gt 20000 ] || fail "the screenshot is only $size bytes: the page looks empty"
# Keep it for a human to look at.
if [ -n "${TEST_LOG_DIR:-}" ]; then
    mkdir -p "$TEST_LOG_DIR/trace"
    cp "$png" "$TEST_LOG_DIR/trace/render-page.png"
    cp "$html" "$TEST_LOG_DIR/trace/render-page.html"
fi
echo "ok: the HTML page renders in headless Chromium ($size-byte screenshot)"
pass "trace SVG and HTML"
