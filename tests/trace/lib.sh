# shellcheck shell=bash
# tests/trace/lib.sh: sourced (by bash) from every tests/trace/*.sh.
#
# The trace tests need no root and no network: each writes its captures
# with scapy (captures.py, the same bytes every run) into a temporary
# directory and runs `synack trace` on them.
#
#   fail MSG           print "FAIL: MSG" and exit 1
#   pass MSG           print "PASS: MSG"
#   need_cmd CMD...    fail unless every CMD is on PATH
#   make_captures      run captures.py into $CAP (a temp dir, removed at exit)
#   golden NAME ARGS.. run `synack trace ARGS` in $CAP and compare its output
#                      with golden/NAME.txt (UPDATE_GOLDEN=1 rewrites it)
#
# Variables: SYNACK_ROOT, SYNACK, TMP (a temp dir, removed at exit), CAP,
# PY (/usr/bin/python3: Debian's, which has python3-scapy).

if [ -z "${BASH_VERSION:-}" ]; then
    echo "FAIL: tests/trace/lib.sh needs bash" >&2
    exit 1
fi

SYNACK_ROOT=${SYNACK_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SYNACK=${SYNACK:-$SYNACK_ROOT/build/synack}
TRACE_DIR=$SYNACK_ROOT/tests/trace
GOLDEN_DIR=$TRACE_DIR/golden
PY=/usr/bin/python3

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

pass() {
    echo "PASS: $*"
}

need_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 ||
            fail "$c is not installed (scripts/deps.sh test installs it)"
    done
}

[ -x "$SYNACK" ] || fail "$SYNACK is missing: build it first (make)"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/synack-trace-test.XXXXXX") || fail "mktemp -d failed"
trap 'rm -rf "$TMP"' EXIT
CAP=$TMP/cap

make_captures() {
    [ -x "$PY" ] || fail "$PY is missing (python3 and python3-scapy: scripts/deps.sh test)"
    "$PY" -c 'import scapy' 2>/dev/null ||
        fail "$PY has no scapy (install python3-scapy: scripts/deps.sh test)"
    "$PY" "$TRACE_DIR/captures.py" "$CAP" || fail "captures.py could not write the captures"
}

# golden NAME ARGS...: the ladder must match golden/NAME.txt byte for byte.
golden() {
    local name=$1 out rc=0
    shift
    out=$TMP/$name.txt
    (cd "$CAP" && "$SYNACK" trace --color never "$@") >"$out" 2>&1 || rc=$?
    [ $rc -eq 0 ] || {
        cat "$out"
        fail "$name: synack trace $* exited $rc"
    }
    if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
        cp "$out" "$GOLDEN_DIR/$name.txt"
        echo "updated golden/$name.txt"
        return 0
    fi
    [ -f "$GOLDEN_DIR/$name.txt" ] || fail "$name: golden/$name.txt is missing (UPDATE_GOLDEN=1 writes it)"
    if ! diff -u "$GOLDEN_DIR/$name.txt" "$out"; then
        fail "$name: synack trace $* differs from golden/$name.txt (above; UPDATE_GOLDEN=1 rewrites it if the change is right)"
    fi
    echo "ok: $name (synack trace $*)"
}

# expect NAME TEXT...: golden output NAME (already checked) contains each TEXT.
expect() {
    local name=$1 t
    shift
    for t in "$@"; do
        grep -qF -- "$t" "$TMP/$name.txt" || fail "$name: the ladder does not say '$t'"
    done
}
