#!/bin/bash
# tests/interop/http_traversal.sh: no request reaches a file outside
# synack's --root: dot segments plain and percent-encoded (any case),
# encoded slashes, backslashes, NUL, absolute-form targets, symlinks out of
# the root (file and directory), over HTTP/1.1 (raw, so nothing normalizes
# the path first) and HTTP/2. Each answer is 400 or 404 and never holds the
# secret; a symlink inside the root still works.
# timeout: 60
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ip curl /usr/bin/python3

SADDR=192.0.2.2
tmpdir_new BASE
SECRET="secret-$RANDOM$RANDOM"
mkdir -p "$BASE/www/sub" "$BASE/outside"
echo "$SECRET" >"$BASE/secret.txt"
echo "$SECRET" >"$BASE/outside/file.txt"
echo inside >"$BASE/www/sub/ok.txt"
ln -s ../secret.txt "$BASE/www/link-out"        # a file outside
ln -s ../outside "$BASE/www/dir-out"            # a directory outside
ln -s /etc "$BASE/www/etc"                       # an absolute one
ln -s sub/ok.txt "$BASE/www/link-in"             # inside: allowed

netns_new httptrav
tap_stack_up "$NS" snt0 192.0.2.1/24 $SADDR/24 --root "$BASE/www"

targets=(
    /../secret.txt /sub/../../secret.txt /%2e%2e/secret.txt /%2E%2e/secret.txt
    /sub/%2e%2e/%2e%2e/secret.txt /..%2fsecret.txt /sub/..%2F..%2Fsecret.txt
    /%2e%2e%2f%2e%2e%2fsecret.txt /.%2e/secret.txt /sub/./../../secret.txt
    '/..\secret.txt' /sub/ok.txt%00.html /link-out /dir-out/file.txt /dir-out/
    /etc/passwd /etc/ /%2fetc/passwd //etc/passwd http://x/../secret.txt
    /sub/%252e%252e/secret.txt /%c0%ae%c0%ae/secret.txt /%ZZ /sub/ok.txt/..
)
# One raw HTTP/1.1 request per target (curl would normalize dot segments).
ip netns exec "$NS" /usr/bin/python3 - $SADDR "$SECRET" "${targets[@]}" >"$ARTIFACTS/raw.txt" <<'PY' ||
import socket, sys
host, secret, targets = sys.argv[1], sys.argv[2].encode(), sys.argv[3:]
bad = 0
for t in targets:
    s = socket.create_connection((host, 80), timeout=5)
    s.sendall(b"GET " + t.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    st = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/1.1 ") else "?"
    ok = st in ("400", "404") and secret not in data and b"root:" not in data
    print(("ok   " if ok else "FAIL ") + st + " " + t)
    bad += not ok
sys.exit(1 if bad else 0)
PY
    fail "a traversal got through: $(grep FAIL "$ARTIFACTS/raw.txt" | head -5)"
pass "HTTP/1.1: ${#targets[@]} traversal targets all 400/404, no secret"

# HTTP/2 (curl keeps the path as given with --path-as-is).
for t in /../secret.txt /%2e%2e/secret.txt /link-out /dir-out/file.txt /etc/passwd; do
    out=$(ip netns exec "$NS" curl -sS -m 5 --path-as-is --http2-prior-knowledge \
        -w '\n%{http_code}' "http://$SADDR$t") || fail "curl h2 $t failed"
    code=${out##*$'\n'}
    case $code in 400 | 404) ;; *) fail "h2 $t: status $code" ;; esac
    case $out in *"$SECRET"* | *root:*) fail "h2 $t: the secret leaked" ;; esac
done
pass "HTTP/2: traversal targets all 400/404, no secret"

got=$(ip netns exec "$NS" curl -sS -m 5 "http://$SADDR/link-in")
[ "$got" = inside ] || fail "a symlink inside the root should work, got '$got'"
pass "a symlink that stays inside the root is served"
