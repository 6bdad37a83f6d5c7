#!/bin/bash
# tests/trace/golden.sh: `synack trace` on the small captures captures.py
# writes (handshake, simultaneous open and close, RST, retransmissions,
# zero window, half-close, folding, --states), compared with the expected
# ladders in golden/; then the states and marks each one is about, named
# explicitly; then the same segments over every link type give the same
# ladder.
# timeout: 120
set -eu
# shellcheck source=tests/trace/lib.sh
. "$(dirname "$0")/lib.sh"

make_captures

golden handshake handshake.pcap
expect handshake "CLOSED |" "| LISTEN" "SYN-SENT |" "| SYN-RECEIVED" "ESTABLISHED |" \
    "| ESTABLISHED" "CLOSE-WAIT |" "| FIN-WAIT-1" "LAST-ACK |" "| TIME-WAIT" "CLOSED |" \
    "SYN seq=0 len=0 win=64240 <mss 1460,sackOK,TS,wscale 7>" \
    "SYN,ACK seq=0 ack=1 len=0 win=65160" "PSH,ACK seq=1 ack=1 len=18 win=64256 <TS>" \
    "handshake: RTT 1.000 ms" "closed: FIN both ways, server first"
golden handshake-absolute handshake.pcap --absolute --verbose
expect handshake-absolute "SYN seq=1000 len=0" "SYN,ACK seq=5000 ack=1001" "TS val 100 ecr 0" "#1"

golden simopen simopen.pcap
expect simopen "| SYN-SENT" "SYN-RECEIVED |" "| SYN-RECEIVED" "FIN-WAIT-1 |" "| FIN-WAIT-1" \
    "CLOSING |" "| CLOSING" "TIME-WAIT |" "| TIME-WAIT" "handshake: simultaneous open"
if grep -q retransmission "$TMP/simopen.txt"; then
    fail "simopen: a simultaneous open's SYN,ACK is not a retransmission"
fi

golden rst rst.pcap
expect rst "RST,ACK" "[reset]" "closed: refused (the server answered with RST)" \
    "closed: reset by the server" "| CLOSED"
golden rst-conn2 rst.pcap --conn 2
expect rst-conn2 "Connection 2:"
if grep -q "Connection 1:" "$TMP/rst-conn2.txt"; then
    fail "rst-conn2: --conn 2 drew connection 1 too"
fi

golden retrans retrans.pcap
expect retrans "[previous segment not captured]" "[dup ACK #1]" "[dup ACK #3]" \
    "[fast retransmission]" "[out-of-order]" "[retransmission]" "<sack 2001-5001>" \
    "client -> server: 8000 bytes in 11 segments, 2 retransmitted"

golden zerowin zerowin.pcap
expect zerowin "[zero window]" "[window probe]" "[window update]" "[keep-alive]"

golden halfclose halfclose.pcap
expect halfclose "FIN-WAIT-1 |" "| CLOSE-WAIT" "FIN-WAIT-2 |" "| LAST-ACK" "TIME-WAIT |" \
    "closed: FIN both ways, client first"

golden bulk-max bulk.pcap --max 6
expect bulk-max "rows folded" "CLOSE-WAIT |" "LAST-ACK |"
golden bulk-notime bulk.pcap --max 6 --no-time

golden list handshake.pcap simopen.pcap rst.pcap retrans.pcap zerowin.pcap halfclose.pcap \
    bulk.pcap --list
golden port rst.pcap handshake.pcap --port 80 --list

# --states: the stack's own states (as `synack serve --trace` writes them)
# replace the inferred ones on its side, each on the row of its cause.
cat >"$CAP/states.jsonl" <<'JSON'
{"t":1700000000.000000,"local":"192.0.2.2:80","remote":"192.0.2.1:40000","from":"LISTEN","to":"SYN-RECEIVED","cause":"segment S seq=1000 ack=0 len=0","iss":5000,"irs":1000,"snd_una":5000,"snd_nxt":5000,"snd_wnd":64240,"rcv_nxt":1001,"rcv_wnd":0,"cwnd":14600,"ssthresh":4294967295,"srtt_us":0,"rto_us":1000000}
{"t":1700000000.001000,"local":"192.0.2.2:80","remote":"192.0.2.1:40000","from":"SYN-RECEIVED","to":"ESTABLISHED","cause":"segment . seq=1001 ack=5001 len=0","iss":5000,"irs":1000,"snd_una":5001,"snd_nxt":5001,"snd_wnd":64256,"rcv_nxt":1001,"rcv_wnd":65160,"cwnd":14600,"ssthresh":4294967295,"srtt_us":500,"rto_us":200000}
{"t":1700000000.003100,"local":"192.0.2.2:80","remote":"192.0.2.1:40000","from":"ESTABLISHED","to":"FIN-WAIT-1","cause":"user close","iss":5000,"irs":1000,"snd_una":5001,"snd_nxt":5102,"snd_wnd":64256,"rcv_nxt":1019,"rcv_wnd":65160,"cwnd":14600,"ssthresh":4294967295,"srtt_us":500,"rto_us":200000}
{"t":1700000000.003600,"local":"192.0.2.2:80","remote":"192.0.2.1:40000","from":"FIN-WAIT-1","to":"FIN-WAIT-2","cause":"segment F. seq=1019 ack=5102 len=0","iss":5000,"irs":1000,"snd_una":5102,"snd_nxt":5102,"snd_wnd":64256,"rcv_nxt":1019,"rcv_wnd":65160,"cwnd":14600,"ssthresh":4294967295,"srtt_us":500,"rto_us":200000}
{"t":1700000000.003600,"local":"192.0.2.2:80","remote":"192.0.2.1:40000","from":"FIN-WAIT-2","to":"TIME-WAIT","cause":"segment F. seq=1019 ack=5102 len=0","iss":5000,"irs":1000,"snd_una":5102,"snd_nxt":5102,"snd_wnd":64256,"rcv_nxt":1020,"rcv_wnd":65160,"cwnd":14600,"ssthresh":4294967295,"srtt_us":500,"rto_us":200000}
{"t":1700000060.003600,"local":"192.0.2.2:80","remote":"192.0.2.1:40000","from":"TIME-WAIT","to":"CLOSED","cause":"timer time-wait","iss":5000,"irs":1000,"snd_una":5102,"snd_nxt":5102,"snd_wnd":64256,"rcv_nxt":1020,"rcv_wnd":65160,"cwnd":14600,"ssthresh":4294967295,"srtt_us":500,"rto_us":200000}
JSON
golden states handshake.pcap --states states.jsonl
expect states "states: server from the stack's trace, client inferred" \
    "^ server (stack): snd_una=0 snd_nxt=0 rcv_nxt=1 cwnd=14600 ssthresh=inf rto=1000ms (segment S seq=0 len=0)" \
    "(user close)" "(timer time-wait)" "| FIN-WAIT-2" "| TIME-WAIT"

# A reused 4-tuple: each connection gets its own transitions, found by the
# segments that caused them, although all are within a millisecond.
golden reuse reuse.pcap --states reuse-states.jsonl
[ "$(grep -c "states: server from the stack's trace" "$TMP/reuse.txt")" = 2 ] ||
    fail "reuse: both connections should show the server's traced states"
[ "$(grep -c '\^ server (stack)' "$TMP/reuse.txt")" = 10 ] ||
    fail "reuse: the ten transitions should be placed, five on each connection"

# One exchange, five link types: one ladder (but for the file name).
(cd "$CAP" && "$SYNACK" trace --color never handshake.pcap) | sed 1d >"$TMP/eth.txt"
for f in handshake-raw.pcap handshake-ipv4.pcap handshake-sll.pcap handshake-sll2.pcap \
    handshake.pcapng; do
    (cd "$CAP" && "$SYNACK" trace --color never "$f") | sed 1d >"$TMP/other.txt" ||
        fail "synack trace $f failed"
    diff -u "$TMP/eth.txt" "$TMP/other.txt" || fail "$f gives another ladder than handshake.pcap"
    echo "ok: $f draws the same ladder as handshake.pcap (Ethernet)"
done

pass "trace golden outputs"
