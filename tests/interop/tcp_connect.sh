#!/bin/bash
# tests/interop/tcp_connect.sh: `synack connect`, the netcat over synack,
# against servers on the Linux kernel's side (tcpclient.py). synack creates
# its TAP, so the kernel's address is added only after it started: the SYN
# waits for ARP. Checks:
#   1. 100 MiB each way at once: synack's stdin to the kernel and the
#      kernel's file to synack's stdout, SHA-256 equal both ways; synack
#      half-closes at the end of stdin and exits 0 once the server closed.
#      Once with files, once with pipes, and once (20 MiB) with a stdout
#      that fills up, so synack must stop reading and close the window.
#   2. the server closes first while stdin stays open: synack writes all it
#      got and keeps its side open (half-close); a line written to stdin
#      then still reaches the server; at the end of stdin synack closes and
#      exits 0. The capture is clean for tshark.
#   3. a port nobody listens on: "refused", exit 1.
#   4. the server resets the connection mid-transfer: "reset", exit 1.
#   5. nobody at the address: the SYN times out, exit 1.
#   6. command-line errors exit 2 with one line.
# timeout: 120
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ip python3 sha256sum tshark

KADDR=192.0.2.1
SADDR=192.0.2.2
TAP=snk0
BIG=$((100 * 1024 * 1024))
CLIENT=$SYNACK_ROOT/tests/interop/tcpclient.py

netns_new tcpconn
# shellcheck disable=SC2119 # the default variable, TMP
tmpdir_new
head -c $BIG /dev/urandom >"$TMP/to_kernel"
head -c $BIG /dev/urandom >"$TMP/to_synack"

run_no=0

# server NAME ARGS...: tcpclient.py ARGS in the namespace, in the
# background, until it listens; sets SERVER_PID and SERVER_LOG.
server() {
    local name=$1
    shift
    SERVER_LOG=$ARTIFACTS/server-$name.log
    bg_run "$SERVER_LOG" ip netns exec "$NS" python3 "$CLIENT" "$@"
    SERVER_PID=$BG_PID
    wait_for "grep -q '^listening' '$SERVER_LOG'" 5 ||
        { log_tail "$SERVER_LOG" >&2; fail "tcpclient.py $1 did not start listening"; }
}

# server_result: waits for the server to exit 0; its key=value line is then
# in $TMP/server.out.
server_result() {
    wait_for "_gone $SERVER_PID" 30 || fail "the kernel's server did not finish within 30 s"
    local rc=0
    wait "$SERVER_PID" || rc=$?
    [ $rc -eq 0 ] || { log_tail "$SERVER_LOG" >&2; fail "the kernel's server failed (exit $rc)"; }
    grep -v '^listening' "$SERVER_LOG" >"$TMP/server.out"
    sed 's/^/    server: /' "$TMP/server.out"
}

# field FILE KEY: the value of KEY=... in FILE's key=value line.
field() {
    tr ' ' '\n' <"$1" | sed -n "s/^$2=//p"
}

# How connect_start wires synack's stdin and stdout: "file" (stdin from IN,
# stdout to OUT, both regular files: always ready, read and written
# directly), "pipe" (cat IN | synack | cat >OUT: both watched through the
# event loop), "slow" (as pipe, but the reader sleeps 2 s first, so stdout
# fills and synack must stop reading the connection).
CONN_IO="file"

# connect_start IN OUT HOST PORT [ARGS...]: synack connect in the background
# with stdin IN and stdout OUT (as CONN_IO says), then the kernel's side of
# its new TAP gets its address. Sets CONN_PID and CONN_LOG (synack's stderr).
connect_start() {
    local in=$1 out=$2
    shift 2
    run_no=$((run_no + 1))
    CONN_LOG=$ARTIFACTS/connect-$run_no.log
    # The previous run's TAP must be gone (it is removed when synack exits).
    wait_for "! ip -n $NS link show $TAP" 5 || fail "TAP $TAP still exists"
    local how
    # shellcheck disable=SC2016 # $in, $out and $@ belong to the inner bash
    case $CONN_IO in
    file)
        echo "synack connect $* --tap $TAP --addr $SADDR/24 <${in##*/} >${out##*/}"
        how='exec "$@" <"$in" >"$out"'
        ;;
    pipe)
        echo "cat ${in##*/} | synack connect $* --tap $TAP --addr $SADDR/24 | cat >${out##*/}"
        how='cat "$in" | "$@" | cat >"$out"'
        ;;
    slow)
        echo "cat ${in##*/} | synack connect $* --tap $TAP --addr $SADDR/24 | (sleep 2; cat >${out##*/})"
        how='cat "$in" | "$@" | { sleep 2; cat >"$out"; }'
        ;;
    esac
    # shellcheck disable=SC2016 # $1... belong to the inner bash
    # fd 3 may hold a FIFO open for writing (part 2): not in synack's hands.
    bg_run "$CONN_LOG" bash -c 'exec 3>&-; set -o pipefail; in=$1 out=$2; shift 2; '"$how" bash "$in" "$out" \
        ip netns exec "$NS" "$SYNACK" connect "$@" --tap $TAP --addr $SADDR/24
    CONN_PID=$BG_PID
    wait_for "ip -n $NS link show $TAP || _gone $CONN_PID" 5 ||
        fail "synack connect did not create $TAP within 5 s"
    ip -n "$NS" link show $TAP >/dev/null 2>&1 ||
        { log_tail "$CONN_LOG" >&2; fail "synack connect exited before creating $TAP"; }
    ip -n "$NS" addr add $KADDR/24 dev $TAP || fail "ip addr add $KADDR/24 dev $TAP failed"
    ip -n "$NS" link set $TAP up || fail "ip link set $TAP up failed"
}

# connect_wait SECS: waits for synack connect to exit; sets CONN_RC and
# CONN_SECS (from start to exit).
connect_wait() {
    local t0
    t0=$(_now_us)
    wait_for "_gone $CONN_PID" "$1" ||
        { log_tail "$CONN_LOG" >&2; fail "synack connect still running after $1 s"; }
    CONN_RC=0
    wait "$CONN_PID" || CONN_RC=$?
    CONN_SECS=$(awk -v us=$(($(_now_us) - t0)) 'BEGIN { printf "%.2f", us / 1e6 }')
    grep -v '^ *[0-9]' "$CONN_LOG" | sed 's/^/    /' | head -n 5
}

# both_ways PORT SIZE: SIZE bytes of to_kernel from synack's stdin to a
# kernel server on PORT, and SIZE bytes of to_synack from it to synack's
# stdout, at the same time; both SHA-256 must match and synack exit 0.
both_ways() {
    local port=$1 size=$2 want_k want_s got mbs
    head -c "$size" "$TMP/to_kernel" >"$TMP/in"
    head -c "$size" "$TMP/to_synack" >"$TMP/srv"
    want_k=$(sha256sum <"$TMP/in" | cut -d' ' -f1)
    want_s=$(sha256sum <"$TMP/srv" | cut -d' ' -f1)
    server "$port" serve "$port" "$TMP/srv"
    connect_start "$TMP/in" "$TMP/got" $KADDR "$port"
    connect_wait 90
    [ $CONN_RC -eq 0 ] || { log_tail "$CONN_LOG" >&2; fail "synack connect exited $CONN_RC, expected 0"; }
    grep -q "^synack: connected to $KADDR:$port" "$CONN_LOG" ||
        fail "synack did not say 'connected to $KADDR:$port'"
    server_result
    [ "$(field "$TMP/server.out" received)" = "$size" ] ||
        fail "the kernel received $(field "$TMP/server.out" received) bytes from synack, expected $size"
    [ "$(field "$TMP/server.out" received_sha256)" = "$want_k" ] ||
        fail "SHA-256 of what the kernel received differs from synack's stdin"
    got=$(stat -c %s "$TMP/got")
    [ "$got" = "$size" ] || fail "synack wrote $got bytes to stdout, expected $size"
    [ "$(sha256sum <"$TMP/got" | cut -d' ' -f1)" = "$want_s" ] ||
        fail "SHA-256 of synack's stdout differs from the file the kernel sent"
    mbs=$(awk -v s="$CONN_SECS" -v b=$((2 * size)) 'BEGIN { printf "%.1f", b / s / 1e6 }')
    pass "$CONN_IO: $size bytes each way, SHA-256 equal both ways, exit 0" \
        "($CONN_SECS s with ARP and setup: $mbs MB/s)"
    rm -f "$TMP/in" "$TMP/srv" "$TMP/got"
}

echo "1. 100 MiB each way at once, stdin and stdout regular files"
CONN_IO="file" both_ways 5000 $BIG
echo "   and again with stdin and stdout pipes"
CONN_IO="pipe" both_ways 5010 $BIG
echo "   and 20 MiB each way with a reader that starts 2 s late (stdout full)"
CONN_IO="slow" both_ways 5020 $((20 * 1024 * 1024))

# ---------------------------------------------------------------------------
echo "2. the server closes first; synack keeps sending stdin until its end"
head -c $((1024 * 1024)) "$TMP/to_synack" >"$TMP/small"
small_sha=$(sha256sum <"$TMP/small" | cut -d' ' -f1)
server first serve 5001 "$TMP/small"
mkfifo "$TMP/stdin"
# Opened after the server started (it would inherit it): only this shell
# holds the FIFO open for writing, so synack sees no end of stdin yet.
exec 3<>"$TMP/stdin"
connect_start "$TMP/stdin" "$TMP/got" $KADDR 5001 --pcap "$ARTIFACTS/connect-close.pcap"
# The server sends 1 MiB and its FIN at once; synack writes it all out but
# stays: its own direction is still open (CLOSE-WAIT).
wait_for "[ \$(stat -c %s '$TMP/got') -eq $((1024 * 1024)) ]" 10 ||
    fail "synack wrote $(stat -c %s "$TMP/got") bytes to stdout, expected 1 MiB"
sleep 0.5
! _gone "$CONN_PID" || { log_tail "$CONN_LOG" >&2; fail "synack exited on the server's FIN; stdin was still open"; }
pass "after the server's FIN synack wrote all 1 MiB and kept its side open"
# Now stdin carries a line, then ends: synack sends the line, then its FIN.
echo "sent after the server's FIN" >&3
exec 3>&-
connect_wait 20
[ $CONN_RC -eq 0 ] || { log_tail "$CONN_LOG" >&2; fail "synack connect exited $CONN_RC, expected 0"; }
server_result
[ "$(field "$TMP/server.out" received)" = 28 ] ||
    fail "the server received $(field "$TMP/server.out" received) bytes, expected the 28-byte line"
[ "$(sha256sum <"$TMP/got" | cut -d' ' -f1)" = "$small_sha" ] ||
    fail "synack's stdout ($(stat -c %s "$TMP/got") bytes) is not the 1 MiB the server sent"
pass "the line written after the server's FIN reached it; at the end of stdin synack closed, exit 0"

pcap=$ARTIFACTS/connect-close.pcap
# shellcheck disable=SC2054 # the commas belong to tshark's arguments
topts=(-n -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -d tcp.port==5001,data)
filter='tcp.analysis.ack_lost_segment || tcp.checksum.status == "Bad" || ip.checksum.status == "Bad" || _ws.malformed || _ws.expert.severity >= error || tcp.flags.reset == 1'
tshark "${topts[@]}" -r "$pcap" -Y "$filter" >"$ARTIFACTS/tshark-bad.txt" 2>"$ARTIFACTS/tshark.err" ||
    { log_tail "$ARTIFACTS/tshark.err" >&2; fail "tshark failed on $pcap"; }
[ ! -s "$ARTIFACTS/tshark-bad.txt" ] ||
    { log_tail "$ARTIFACTS/tshark-bad.txt" >&2; fail "tshark found bad packets or a reset in $pcap"; }
first_syn=$(tshark -n -r "$pcap" -Y 'tcp.flags.syn == 1' -T fields -e ip.src 2>/dev/null | head -n 1)
first_fin=$(tshark -n -r "$pcap" -Y 'tcp.flags.fin == 1' -T fields -e ip.src 2>/dev/null | head -n 1)
fins=$(tshark -n -r "$pcap" -Y 'tcp.flags.fin == 1' 2>/dev/null | wc -l)
echo "capture: first SYN from $first_syn, first FIN from $first_fin, $fins FINs"
[ "$first_syn" = $SADDR ] || fail "the first SYN came from '$first_syn', expected synack ($SADDR)"
[ "$first_fin" = $KADDR ] || fail "the first FIN came from '$first_fin', expected the kernel"
[ "$fins" -eq 2 ] || fail "$fins FINs in the capture, expected 2"
pass "capture: active open from synack, passive close, clean for tshark, no reset"

# ---------------------------------------------------------------------------
echo "3. a port nobody listens on"
connect_start /dev/null "$TMP/out" $KADDR 5999
connect_wait 10
[ $CONN_RC -eq 1 ] || fail "synack connect exited $CONN_RC on a refused connection, expected 1"
grep -qx "synack: connection to $KADDR:5999 refused" "$CONN_LOG" ||
    fail "no 'synack: connection to $KADDR:5999 refused' line"
pass "refused: one line, exit 1 ($CONN_SECS s)"

# ---------------------------------------------------------------------------
echo "4. the server resets the connection after 1 MiB"
server reset reset 5002 $((1024 * 1024))
connect_start "$TMP/to_kernel" "$TMP/out" $KADDR 5002
connect_wait 20
[ $CONN_RC -eq 1 ] || fail "synack connect exited $CONN_RC on a reset, expected 1"
grep -qx "synack: connection to $KADDR:5002 reset by the peer" "$CONN_LOG" ||
    fail "no 'synack: connection to $KADDR:5002 reset by the peer' line"
server_result
pass "reset: one line, exit 1"

# ---------------------------------------------------------------------------
echo "5. nobody at $KADDR's neighbour 192.0.2.3 (one SYN retry)"
connect_start /dev/null "$TMP/out" 192.0.2.3 5000 --set tcp_syn_retries=1
connect_wait 20
[ $CONN_RC -eq 1 ] || fail "synack connect exited $CONN_RC with nobody there, expected 1"
grep -qx "synack: connection to 192.0.2.3:5000 timed out (no answer to the SYN)" "$CONN_LOG" ||
    fail "no 'synack: connection to 192.0.2.3:5000 timed out (no answer to the SYN)' line"
pass "timeout: one line, exit 1 ($CONN_SECS s)"

# ---------------------------------------------------------------------------
echo "6. command-line errors"
for args in "" "$KADDR" "$KADDR 0 --tap $TAP --addr $SADDR/24" "example.org 80 --tap $TAP --addr $SADDR/24" \
    "198.51.100.1 80 --tap $TAP --addr $SADDR/24" "$KADDR 80 --addr $SADDR/24"; do
    rc=0
    # shellcheck disable=SC2086 # args is a word list
    "$SYNACK" connect $args </dev/null >/dev/null 2>"$TMP/err" || rc=$?
    echo "    synack connect $args -> exit $rc: $(head -n 1 "$TMP/err")"
    [ $rc -eq 2 ] || fail "synack connect $args exited $rc, expected 2"
    [ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "synack connect $args printed more than one line"
done
pass "command-line errors: exit 2, one line each"

pass "tcp_connect"
