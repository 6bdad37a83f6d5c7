#!/bin/bash
# tests/interop/offload_queues.sh: `synack serve --queues 2`, one stack
# instance per queue of a multi-queue TAP, each on its own thread, without
# and then with --offload. Per run: 2 rounds of 200 concurrent echo
# connections (tcpclient.py checks every payload byte for byte), then 4
# parallel 10 MiB echo transfers checked by SHA-256. Both instances must
# have taken connections (their own counters, printed per queue), the sum
# must be every connection, SIGUSR1 must print the summed counters while
# running, and nothing may be reset, dropped for want of ARP or fail a
# checksum.
# timeout: 180
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ip python3 sha256sum

KADDR=192.0.2.1
SADDR=192.0.2.2
N=200
ROUNDS=2
PAR=4
SIZE=$((10 * 1024 * 1024))
CLIENT=$SYNACK_ROOT/tests/interop/tcpclient.py

netns_new offq
# shellcheck disable=SC2119
tmpdir_new
head -c $SIZE /dev/urandom >"$TMP/file"
sha=$(sha256sum <"$TMP/file" | cut -d' ' -f1)
STACK_PCAP_ON=0

# queue_counter LOG Q DESC: DESC's value in the last block of queue Q.
queue_counter() {
    awk -v q="synack counters, queue $2 " -v d="$3" '
        index($0, q) == 1 { inb = 1; v = 0; next }
        /^synack counters/ { inb = 0 }
        inb { line = $0; sub(/^[ \t]+/, "", line)
              if (line ~ /^[0-9]+ / && substr(line, index(line, " ") + 1) == d) v = line + 0 }
        END { print v + 0 }' "$1"
}

run_queues() { # TAP LABEL [serve args...]
    local tap=$1 label=$2
    shift 2
    tap_stack_up "$NS" "$tap" $KADDR/24 $SADDR/24 -v --queues 2 "$@"
    grep -q '^synack: serving .*, 2 queues' "$STACK_LOG" ||
        fail "$label: synack did not say it serves 2 queues: $(grep -m1 '^synack' "$STACK_LOG")"
    ip -d -n "$NS" link show "$tap" | grep -q 'multi_queue numqueues 2' ||
        fail "$label: $tap is not a 2-queue device: $(ip -d -n "$NS" link show "$tap")"
    echo "$label: $(grep -m1 '^synack: serving' "$STACK_LOG")"

    for round in $(seq $ROUNDS); do
        if ! ip netns exec "$NS" python3 "$CLIENT" concurrent $SADDR 7 $N >"$TMP/out"; then
            cat "$TMP/out"
            log_tail "$STACK_LOG" >&2
            fail "$label round $round: not every connection echoed its payload"
        fi
        grep -q "^ok=$N failed=0 " "$TMP/out" || fail "$label round $round: $(cat "$TMP/out")"
        pass "$label round $round: $N concurrent connections, every payload echoed exactly"
    done

    local pids=() i
    for i in $(seq $PAR); do
        ip netns exec "$NS" python3 "$CLIENT" echo $SADDR 7 "$TMP/file" >"$TMP/par$i" 2>&1 &
        pids+=($!)
    done
    for i in $(seq $PAR); do
        wait "${pids[$((i - 1))]}" || { cat "$TMP/par$i"; fail "$label: parallel echo $i failed"; }
        grep -q "received=$SIZE received_sha256=$sha" "$TMP/par$i" ||
            fail "$label: parallel echo $i: $(cat "$TMP/par$i")"
    done
    pass "$label: $PAR parallel echo transfers of $SIZE bytes, SHA-256 matches"

    local total=$((N * ROUNDS + PAR)) now
    now=$(stack_counter "passive connection openings")
    [ "$now" -eq $total ] || fail "$label: SIGUSR1 summed $now passive opens, expected $total"
    pass "$label: SIGUSR1 prints the sum over the queues ($now passive opens)"

    local rc=0
    stack_stop || rc=$?
    [ $rc -eq 0 ] || { log_tail "$STACK_LOG" >&2; fail "$label: synack exited with status $rc"; }
    local q0 q1 sum estab resets bad arp
    q0=$(queue_counter "$STACK_LOG" 0 "passive connection openings")
    q1=$(queue_counter "$STACK_LOG" 1 "passive connection openings")
    sum=$(counter "$STACK_LOG" "passive connection openings")
    estab=$(counter "$STACK_LOG" "connections established now")
    resets=$(counter "$STACK_LOG" "resets sent")
    bad=$(counter "$STACK_LOG" "TCP checksum mismatch")
    arp=$(counter "$STACK_LOG" "packet waiting for ARP resolution dropped: queue full")
    echo "$label: passive opens queue 0: $q0, queue 1: $q1, sum $sum; $resets resets," \
        "$bad bad checksums, $arp ARP queue drops"
    [ "$q0" -gt 0 ] && [ "$q1" -gt 0 ] || fail "$label: an instance got no connection ($q0, $q1)"
    [ $((q0 + q1)) -eq "$sum" ] && [ "$sum" -eq $total ] ||
        fail "$label: $q0 + $q1 passive opens, sum $sum, expected $total"
    [ "$estab" -eq 0 ] || fail "$label: $estab connections still established"
    [ "$resets" -eq 0 ] || fail "$label: $resets resets sent"
    [ "$bad" -eq 0 ] || fail "$label: $bad TCP checksum mismatches"
    [ "$arp" -eq 0 ] || fail "$label: $arp packets dropped waiting for ARP (arp_glean)"
    pass "$label: both instances served connections; counters per queue add up"
    wait_for "! ip -n $NS link show $tap" 5 || fail "$label: $tap still exists after synack exited"
}

run_queues snq0 "2 queues"
run_queues snq1 "2 queues + offload" --offload
pass "offload_queues"
