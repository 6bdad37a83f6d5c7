#!/bin/bash
# tests/trace/cli.sh: `synack trace`'s command line: --help, and one clear
# line with the right exit status for each way it can go wrong (2: bad
# command line, 1: a file it cannot use or nothing to draw). Also
# `synack ss` and `synack netstat` with no stack to ask.
# timeout: 60
set -eu
# shellcheck source=tests/trace/lib.sh
. "$(dirname "$0")/lib.sh"

make_captures

# expect_fail STATUS TEXT CMD...: CMD exits STATUS with one line on stderr
# containing TEXT, and prints nothing on stdout.
expect_fail() {
    local want=$1 text=$2 rc=0
    shift 2
    "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
    [ $rc -eq "$want" ] || fail "$* exited $rc, expected $want (stderr: $(cat "$TMP/err"))"
    [ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "$*: expected one line on stderr, got: $(cat "$TMP/err")"
    grep -qF -- "$text" "$TMP/err" || fail "$*: stderr '$(cat "$TMP/err")' does not say '$text'"
    [ ! -s "$TMP/out" ] || fail "$*: printed on stdout: $(head -3 "$TMP/out")"
    echo "ok: $* -> $rc: $(cat "$TMP/err")"
}

"$SYNACK" trace --help >"$TMP/help" || fail "synack trace --help failed"
grep -q "^usage: synack trace FILE" "$TMP/help" || fail "--help has no usage line"
"$SYNACK" help trace | cmp -s - "$TMP/help" || fail "synack help trace differs from --help"
"$SYNACK" --help | grep -q "^  trace " || fail "synack --help does not list trace"
"$SYNACK" --help | grep -q "^  ss " || fail "synack --help does not list ss"
"$SYNACK" --help | grep -q "^  netstat " || fail "synack --help does not list netstat"

expect_fail 2 "give a capture file" "$SYNACK" trace
expect_fail 2 "unknown option '--frobnicate'" "$SYNACK" trace "$CAP/handshake.pcap" --frobnicate
expect_fail 2 "--conn: 'x' is not a list" "$SYNACK" trace "$CAP/handshake.pcap" --conn x
expect_fail 2 "--conn: '3-1' is not a list" "$SYNACK" trace "$CAP/handshake.pcap" --conn 3-1
expect_fail 2 "--port: '0' is not a port" "$SYNACK" trace "$CAP/handshake.pcap" --port 0
expect_fail 2 "--max: '-1'" "$SYNACK" trace "$CAP/handshake.pcap" --max -1
expect_fail 2 "--color: 'sometimes'" "$SYNACK" trace "$CAP/handshake.pcap" --color sometimes
expect_fail 2 "--quiet leaves nothing to do" "$SYNACK" trace "$CAP/handshake.pcap" -q
expect_fail 2 "option '--svg' needs a value" "$SYNACK" trace "$CAP/handshake.pcap" --svg
expect_fail 1 "cannot read capture" "$SYNACK" trace "$TMP/no-such.pcap"
printf 'this is not a capture\n' >"$TMP/text.pcap"
expect_fail 1 "cannot read capture" "$SYNACK" trace "$TMP/text.pcap"
expect_fail 1 "none of the 2 TCP connections matches" "$SYNACK" trace "$CAP/rst.pcap" --conn 9
expect_fail 1 "none of the 2 TCP connections matches" "$SYNACK" trace "$CAP/rst.pcap" --port 443
expect_fail 1 "--svg: cannot write '$TMP/no/dir/x.svg'" \
    "$SYNACK" trace "$CAP/handshake.pcap" -q --svg "$TMP/no/dir/x.svg"
expect_fail 1 "--states: cannot read '$TMP/none.jsonl'" \
    "$SYNACK" trace "$CAP/handshake.pcap" --states "$TMP/none.jsonl"
printf '{"t":1.0,"local":"192.0.2.2:80","remote":"192.0.2.1:1","from":"LISTEN","to":"SYN-RECEIVED"}\n{"t":"x"}\n' >"$TMP/bad.jsonl"
expect_fail 1 "bad.jsonl:2: not a synack state-trace line" \
    "$SYNACK" trace "$CAP/handshake.pcap" --states "$TMP/bad.jsonl"
printf '{"t":1.0,"local":"192.0.2.2:80","remote":"192.0.2.1:1","from":"LISTEN","to":"NOWHERE"}\n' >"$TMP/bad2.jsonl"
expect_fail 1 "no TCP state" "$SYNACK" trace "$CAP/handshake.pcap" --states "$TMP/bad2.jsonl"

# A capture with no TCP at all (an ARP request, a ping).
"$PY" - "$TMP/notcp.pcap" <<'PYEOF'
import logging, sys
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import ARP, Ether
from scapy.utils import wrpcap
wrpcap(sys.argv[1], [Ether() / ARP(pdst="192.0.2.2"), Ether() / IP(dst="192.0.2.2") / ICMP()])
PYEOF
expect_fail 1 "no TCP connection in $TMP/notcp.pcap" "$SYNACK" trace "$TMP/notcp.pcap"

# Colour only when asked or on a terminal: never in a pipe.
"$SYNACK" trace "$CAP/handshake.pcap" | grep -q $'\e\[' && fail "colour codes in a pipe"
"$SYNACK" trace "$CAP/handshake.pcap" --color always | grep -q $'\e\[' ||
    fail "--color always gave no colour"
echo "ok: colour only when asked"

# ss and netstat without a stack.
expect_fail 1 "no synack stack is listening at $TMP/none.sock" "$SYNACK" ss --ctl "$TMP/none.sock"
expect_fail 1 "no synack stack is listening at $TMP/none.sock" \
    "$SYNACK" netstat --ctl "$TMP/none.sock"
expect_fail 2 "unexpected argument 'x'" "$SYNACK" ss x
expect_fail 2 "--prometheus always has every counter" "$SYNACK" netstat --prometheus -a
pass "trace, ss, netstat command lines"
