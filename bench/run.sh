#!/bin/bash
# bench/run.sh: `make bench`. synack against the Linux kernel on the same
# work, with the same kernel-side clients, in one run; each measurement is
# repeated BENCH_REPS times (default 3) and the median is reported. Prints a
# table of ratios (synack / kernel) and writes bench/results/latest.json
# (bench/summarize.py); the raw outputs of the run go to
# bench/results/raw/<time>/ (not committed).
#
# Topology, all inside two network namespaces this script creates (and
# removes at exit; stale ones from a killed run are swept at the next start):
#
#   snb-c-PID  the clients (benchtool, wrk, h2load), and synack serve on the
#              TAP snb0: kernel 192.0.2.1 (+ .11-.16 as extra sources),
#              synack 192.0.2.2
#   snb-k-PID  the kernel's servers (benchtool sink/source/echod/hold, nginx,
#              iperf3) at 198.51.100.2, reached from snb-c over the veth pair
#              snbv0 (198.51.100.1 + .11-.16) <-> snbv1
#
# The machine has 2 cores that clients and servers share: every client runs
# on CPU 0 (taskset -c 0) and every server, synack or kernel, on CPU 1
# (taskset -c 1); the kernel's own softirq work lands where it happens. Both
# namespaces use reno (net.ipv4.tcp_congestion_control, and TCP_CONGESTION on
# every benchtool socket), the kernel's match for synack's NewReno.
#
# Measurements (keys of latest.json):
#   bulk_rx        benchtool send -> synack discard (9) | -> benchtool sink, Gbit/s
#   bulk_tx        synack chargen (19) -> benchtool recv | benchtool source ->, Gbit/s
#   conn_rate      wrk -H 'Connection: close' -c50: synack serve --http | nginx, conn/s
#   h1_keepalive   wrk -c50: same servers, requests/s
#   h2             h2load -c10 -m10: same servers (nginx: http2 port), requests/s
#   echo_p50/p99   benchtool echo: 1-byte round trips on one connection, us
#                  (client and servers SCHED_FIFO: see the echo phase)
#   bytes_per_conn idle connections held (100,000; 10,000 in "detail"):
#                  VmRSS growth / N of bench/synhold (synack's stack accepting
#                  and keeping connections, no service state; synack serve's
#                  discard service in "detail") | the growth of the kernel's
#                  socket slab caches with benchtool hold, minus the client
#                  sockets' own (measured in the synack run), / N
#   queue_scaling  synack serve --queues 2 vs --queues 1 (wrk -c50 keep-alive)
# A measurement that cannot be made (synack lacks the feature, a tool is
# missing, the time budget ran out) is null in the JSON with the reason.
#
# Environment: BENCH_SECONDS (5) per timed run, BENCH_REPS (3),
# BENCH_ECHO_N (20000) round trips, BENCH_MEM_CONNS ("10000 100000"),
# BENCH_BUDGET (540) seconds for the whole run, BENCH_ONLY (a regex of the
# phases to run: memory echo bulk http queues), BENCH_OUT (bench/results),
# BENCH_ECHO_FIFO=0 (the echo phase without SCHED_FIFO), BENCH_SYNACK_ARGS
# (extra `synack serve` arguments for every synack run but synhold's;
# default "--offload": the TAP with IFF_VNET_HDR, as the veth it is
# compared with has TSO/GRO; set it to "" for the plain TAP path).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
SYNACK=$ROOT/build/synack
TOOL=$ROOT/build/bench/benchtool
OUT=${BENCH_OUT:-$ROOT/bench/results}
SECS=${BENCH_SECONDS:-5}
REPS=${BENCH_REPS:-3}
ECHO_N=${BENCH_ECHO_N:-20000}
MEM_CONNS=${BENCH_MEM_CONNS:-"10000 100000"}
BUDGET=${BENCH_BUDGET:-540}
ONLY=${BENCH_ONLY:-.}
SYNACK_ARGS=${BENCH_SYNACK_ARGS---offload}
CPU_CLIENT=0
CPU_SERVER=1
START=$SECONDS

NSC=snb-c-$$
NSK=snb-k-$$
TAP=snb0
KADDR=192.0.2.1
SADDR=192.0.2.2
VC=198.51.100.1
VK=198.51.100.2
TAP_SRCS="$KADDR,192.0.2.11,192.0.2.12,192.0.2.13,192.0.2.14,192.0.2.15,192.0.2.16"
VETH_SRCS="$VC,198.51.100.11,198.51.100.12,198.51.100.13,198.51.100.14,198.51.100.15,198.51.100.16"

RAW=$OUT/raw/$(date -u +%Y%m%dT%H%M%SZ)
VALUES=$RAW/values.tsv # key side rep value
NULLS=$RAW/nulls.tsv   # key side reason
DETAIL=$RAW/detail.tsv # key name value
TMP=$(mktemp -d /tmp/synack-bench.XXXXXX)
chmod 755 "$TMP" # nginx's worker (not root) reads the files under it
WWW=$TMP/www

say() { printf '%s\n' "$*" >&2; }
die() {
    say "bench: $*"
    exit 1
}

# ---- processes and cleanup ----------------------------------------------

PIDS=()
RT=() # a scheduling class prefix for what bg and client start (the echo phase)

# bg NAME NS CPU CMD...: start CMD in namespace NS on CPU (or "-": any),
# output to $RAW/NAME.log; sets BG.
bg() {
    local name=$1 ns=$2 cpu=$3
    shift 3
    local pin=()
    [ "$cpu" = - ] || pin=(taskset -c "$cpu")
    ip netns exec "$ns" "${RT[@]}" "${pin[@]}" "$@" </dev/null >"$RAW/$name.log" 2>&1 &
    BG=$!
    PIDS+=("$BG")
}

# stop PID: TERM, up to 5 s, then KILL.
stop() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local pid ns
    set +e
    exec 7>&- 2>/dev/null
    for pid in "${PIDS[@]}"; do
        stop "$pid"
    done
    for ns in $NSC $NSK; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
        ip netns delete "$ns" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'say "bench: interrupted"; exit 130' INT TERM

# Namespaces snb-[ck]-PID whose run (PID) is gone.
sweep_stale() {
    local ns pid
    for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
        case $ns in snb-c-* | snb-k-*) ;; *) continue ;; esac
        pid=${ns##*-}
        if ! kill -0 "$pid" 2>/dev/null; then
            say "bench: removing stale namespace $ns"
            ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
            ip netns delete "$ns" 2>/dev/null
        fi
    done
}

wait_for() { # CMD TIMEOUT_S: eval CMD every 0.1 s until it succeeds
    local cond=$1 end=$((SECONDS + $2))
    until eval "$cond" >/dev/null 2>&1; do
        [ $SECONDS -lt $end ] || return 1
        sleep 0.1
    done
}

over_budget() { [ $((SECONDS - START)) -ge "$BUDGET" ]; }

# phase NAME: whether BENCH_ONLY selects it; notes the load average.
phase() {
    [[ $1 =~ $ONLY ]] || return 1
    detail meta "loadavg_$1" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# sides REP: synack first on odd repetitions, the kernel first on even ones,
# so that a drift in the machine's load does not favour one side.
sides() { if [ $(($1 % 2)) = 1 ]; then echo synack kernel; else echo kernel synack; fi; }

# ---- recording -------------------------------------------------------------

val() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$VALUES"; }   # key side rep value
null() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$NULLS"; }            # key side reason
detail() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$DETAIL"; }         # key name value

# field KEY FILE: the value of KEY=... in FILE's last such line
field() { tr ' ' '\n' <"$2" | sed -n "s/^$1=//p" | tail -n 1; }

# ---- setup -------------------------------------------------------------------

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, TAP devices): sudo make bench"
for c in ip taskset timeout python3 cc; do
    command -v $c >/dev/null 2>&1 || die "needs '$c' (scripts/deps.sh bench installs the tools)"
done
[ -x "$SYNACK" ] || die "$SYNACK is missing: run make first (make bench builds it)"
[ -c /dev/net/tun ] || die "/dev/net/tun is missing: no TAP devices here"

mkdir -p "$RAW" "$ROOT/build/bench" "$WWW"
# A private copy: a `make` elsewhere during the run must not swap the binary.
cp "$SYNACK" "$TMP/synack" || die "cannot copy $SYNACK"
SYNACK=$TMP/synack
: >"$VALUES"
: >"$NULLS"
: >"$DETAIL"
cc -std=c11 -O2 -Wall -Wextra -o "$TOOL" bench/benchtool.c || die "cannot build bench/benchtool.c"
# bench/synhold: synack's stack holding idle connections with no service
# state (the memory benchmark's synack side), built from make's objects.
HOLD=$ROOT/build/bench/synhold
HOLD_REASON=
# shellcheck disable=SC2046 # pkg-config's words
if ! cc -std=c11 -D_GNU_SOURCE -O2 -I. -Iinclude $(pkg-config --cflags libnghttp2 2>/dev/null) \
    -o "$HOLD" bench/synhold.c build/obj/tools/stackup.o build/obj/tools/cli.o build/libsynack.a \
    -lpcap $(pkg-config --libs libnghttp2 2>/dev/null || echo -lnghttp2) -lpthread -lm \
    >"$RAW/synhold-build.log" 2>&1; then
    HOLD=
    HOLD_REASON="bench/synhold.c did not build ($(head -c 300 "$RAW/synhold-build.log")); synack serve's discard service holds the connections instead"
    say "bench: $HOLD_REASON"
fi
# Private copies, as for synack.
cp "$TOOL" "$TMP/benchtool" && TOOL=$TMP/benchtool
[ -z "$HOLD" ] || { cp "$HOLD" "$TMP/synhold" && HOLD=$TMP/synhold; }

sweep_stale
detail meta loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
say "bench: raw outputs in ${RAW#"$ROOT"/}; each run ${SECS}s, $REPS repetitions, budget ${BUDGET}s"

ip netns add $NSC || die "ip netns add failed"
ip netns add $NSK || die "ip netns add failed"
for ns in $NSC $NSK; do
    ip -n "$ns" link set lo up
    # shellcheck disable=SC2016 # $f is the inner shell's
    ip netns exec "$ns" sh -c '
        for f in /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/default/disable_ipv6; do
            [ ! -e $f ] || echo 1 >$f
        done
        sysctl -qw net.ipv4.tcp_congestion_control=reno
        sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
        sysctl -qw net.core.somaxconn=4096
        sysctl -qw net.ipv4.tcp_max_syn_backlog=4096' || die "cannot set up namespace $ns"
done
ip link add snbv0 netns $NSC type veth peer name snbv1 netns $NSK || die "cannot create the veth pair"
ip -n $NSC addr add $VC/24 dev snbv0
for a in ${VETH_SRCS//,/ }; do
    [ "$a" = $VC ] || ip -n $NSC addr add "$a/32" dev snbv0
done
ip -n $NSK addr add $VK/24 dev snbv1
ip -n $NSC link set snbv0 up
ip -n $NSK link set snbv1 up
wait_for "ip netns exec $NSC ping -c1 -W1 $VK" 10 || die "the veth pair does not answer ping"

CC_IN_USE=$(ip netns exec $NSC sysctl -n net.ipv4.tcp_congestion_control)
[ "$CC_IN_USE" = reno ] || die "could not set reno in the namespace (got $CC_IN_USE)"

# What synack offers (its --help is the contract).
SERVE_HELP=$("$SYNACK" serve --help 2>&1)
HAVE_HTTP=0
HTTP_REASON="synack serve --help lists no --http/--root (the HTTP server is not there yet)"
if grep -q -- '--http PORT' <<<"$SERVE_HELP" && grep -q -- '--root DIR' <<<"$SERVE_HELP"; then
    HAVE_HTTP=1
fi
HAVE_QUEUES=0
grep -q -- '--queues' <<<"$SERVE_HELP" && HAVE_QUEUES=1

head -c 100 /dev/zero | tr '\0' 'x' >"$WWW/100.html"
URL_PATH=/100.html

# Phases left out by BENCH_ONLY.
for p in memory:bytes_per_conn echo:echo_p50 echo:echo_p99 bulk:bulk_rx bulk:bulk_tx \
    http:conn_rate http:h1_keepalive http:h2 queues:queue_scaling; do
    [[ ${p%%:*} =~ $ONLY ]] || null "${p#*:}" both "not run (BENCH_ONLY=$ONLY)"
done

# ---- synack ----------------------------------------------------------------

SYN_PID=
SYN_N=0

# synack_up CPU [ARGS...]: synack serve on the TAP in $NSC; kernel addresses
# on the TAP; waits until it answers ping. Sets SYN_PID.
# synack_up CPU "$HOLD" [ARGS...] runs bench/synhold instead of synack serve.
synack_up() {
    local cpu=$1 a
    shift
    SYN_N=$((SYN_N + 1))
    if [ -n "$HOLD" ] && [ "${1:-}" = "$HOLD" ]; then
        shift
        bg "synack-$SYN_N" $NSC "$cpu" "$HOLD" --tap $TAP --addr $SADDR/24 -q "$@"
    else
        local http=(--no-http) ctl=(--ctl "$TMP/ctl.sock")
        [ $HAVE_HTTP = 0 ] || http=(--http 80 --root "$WWW")
        [[ " $* " != *" --queues "* ]] || ctl=(--no-ctl) # one instance only
        # shellcheck disable=SC2086 # SYNACK_ARGS is a list of words
        bg "synack-$SYN_N" $NSC "$cpu" "$SYNACK" serve --tap $TAP --addr $SADDR/24 \
            "${ctl[@]}" "${http[@]}" $SYNACK_ARGS "$@"
    fi
    SYN_PID=$BG
    if ! wait_for "ip -n $NSC link show $TAP" 5; then
        say "bench: synack did not create $TAP: $(tail -3 "$RAW/synack-$SYN_N.log")"
        return 1
    fi
    ip -n $NSC addr add $KADDR/24 dev $TAP
    for a in ${TAP_SRCS//,/ }; do
        [ "$a" = $KADDR ] || ip -n $NSC addr add "$a/32" dev $TAP
    done
    ip -n $NSC link set $TAP up
    if ! wait_for "ip netns exec $NSC ping -c1 -W1 $SADDR" 10; then
        say "bench: synack does not answer ping: $(tail -3 "$RAW/synack-$SYN_N.log")"
        return 1
    fi
}

synack_down() {
    [ -n "$SYN_PID" ] || return 0
    stop "$SYN_PID"
    SYN_PID=
    wait_for "! ip -n $NSC link show $TAP" 5 || true
}

# held_now PID LOG: synhold's count of accepted connections (SIGUSR1).
held_now() {
    local before
    before=$(grep -c '^held=' "$2")
    kill -USR1 "$1" 2>/dev/null || return 1
    wait_for "[ \$(grep -c '^held=' '$2') -gt $before ]" 5 || return 1
    grep '^held=' "$2" | tail -n 1 | cut -d= -f2
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# ---- kernel servers ------------------------------------------------------------

bg ksink $NSK $CPU_SERVER "$TOOL" sink 9
bg ksource $NSK $CPU_SERVER "$TOOL" source 19
wait_for "ip netns exec $NSK ss -Hltn sport = :19 | grep -q ." 5 || die "kernel servers did not start"

# client NAME TIMEOUT CMD...: a client in $NSC on CPU_CLIENT; output in
# $RAW/NAME.out; returns its status.
client() {
    local name=$1 t=$2
    shift 2
    ip netns exec $NSC timeout "$t" "${RT[@]}" taskset -c $CPU_CLIENT "$@" >"$RAW/$name.out" 2>&1
}

# ---- memory: idle connections held ------------------------------------------

# slab_kb: Slab from /proc/meminfo (kB). slabobj_kb: sum of active objects x
# object size over /proc/slabinfo (kB).
slab_kb() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }
slabobj_kb() { awk 'NR > 2 { s += $2 * $4 } END { printf "%d\n", s / 1024 }' /proc/slabinfo; }
# sockslab_kb: the same over the caches a socket with a descriptor lives in
# (tcp_sock, socket inode, file, dentry, their LSM blobs): less noise from
# whatever else the machine does than all of Slab.
SOCK_CACHES="TCP sock_inode_cache filp dentry lsm_inode_cache lsm_file_cache"
sockslab_kb() {
    awk -v c=" $SOCK_CACHES " 'NR > 2 && index(c, " " $1 " ") { s += $2 * $4 }
        END { printf "%d\n", s / 1024 }' /proc/slabinfo
}
# settle: wait (up to 10 s) until the TCP slab stops shrinking, after the
# last run's sockets were closed (they are freed after an RCU grace period).
settle() {
    local a b i
    a=$(awk '$1 == "TCP" { print $2 }' /proc/slabinfo)
    for ((i = 0; i < 20; i++)); do
        sleep 0.5
        b=$(awk '$1 == "TCP" { print $2 }' /proc/slabinfo)
        [ $((a - b)) -gt 200 ] || break
        a=$b
    done
}
# shellcheck disable=SC2016 # awk's fields
tcp_inuse() { ip netns exec "$1" awk '$1 == "TCP:" { print $3 }' /proc/net/sockstat; }

# mem_run SIDE REP: opens the connections step by step (MEM_CONNS) from
# $NSC and records, per step, synack's VmRSS growth (side synack) or the
# slab growth (both sides: the client's kernel sockets are in it too).
mem_run() {
    local side=$1 rep=$2 host port srcs pid fifo n rss0 slab0 obj0 sock0 ok=1
    if [ "$side" = synack ]; then # the stack alone: bench/synhold
        synack_up $CPU_SERVER "$HOLD" --port 5001 || return 1
        host=$SADDR port=5001 srcs=$TAP_SRCS pid=$SYN_PID
    elif [ "$side" = serve ]; then # synack serve's discard service
        synack_up $CPU_SERVER || return 1
        host=$SADDR port=9 srcs=$TAP_SRCS pid=$SYN_PID
    else
        bg "khold-$rep" $NSK $CPU_SERVER "$TOOL" hold 5001 $HOLD_PROCS
        pid=$BG
        wait_for "ip netns exec $NSK ss -Hltn sport = :5001 | grep -q ." 5 || return 1
        host=$VK port=5001 srcs=$VETH_SRCS
    fi
    sleep 1
    settle
    rss0=$(rss_kb "$pid")
    slab0=$(slab_kb)
    obj0=$(slabobj_kb)
    sock0=$(sockslab_kb)
    fifo=$TMP/open.fifo
    rm -f "$fifo"
    mkfifo "$fifo"
    exec 7<>"$fifo"
    local first=${MEM_CONNS%% *}
    ip netns exec $NSC taskset -c $CPU_CLIENT "$TOOL" open $host $port "$first" "$srcs" "$fifo" \
        >"$RAW/mem-$side-$rep.out" 2>&1 &
    local opener=$!
    PIDS+=("$opener")
    local t0=$SECONDS
    for n in $MEM_CONNS; do
        [ "$n" = "$first" ] || echo "$n" >&7
        if ! wait_for "grep -qx 'open=$n' '$RAW/mem-$side-$rep.out' || ! kill -0 $opener" 180 ||
            ! grep -qx "open=$n" "$RAW/mem-$side-$rep.out"; then
            say "bench: memory $side: could not open $n connections: $(tail -2 "$RAW/mem-$side-$rep.out")"
            ok=0
            break
        fi
        detail bytes_per_conn "$side.$n.rep$rep.open_s" "$((SECONDS - t0))"
        sleep 2 # the last handshakes complete, the server accepts them
        local rss slab obj sock srv
        rss=$(rss_kb "$pid")
        slab=$(slab_kb)
        obj=$(slabobj_kb)
        sock=$(sockslab_kb)
        if [ "$side" = kernel ]; then
            srv=$(($(tcp_inuse $NSK) - HOLD_PROCS - 3)) # the listeners: hold's, sink, source, echod
        elif [ "$side" = synack ]; then
            srv=$(held_now "$pid" "$RAW/synack-$SYN_N.log")
        else
            srv=$(ip netns exec $NSC timeout 20 "$SYNACK" ss --ctl "$TMP/ctl.sock" 2>/dev/null |
                grep -c '^ESTAB') || srv=0
        fi
        detail bytes_per_conn "$side.$n.rep$rep.server_conns" "$srv"
        detail bytes_per_conn "$side.$n.rep$rep.rss_kb" "$((rss - rss0))"
        detail bytes_per_conn "$side.$n.rep$rep.slab_kb" "$((slab - slab0))"
        detail bytes_per_conn "$side.$n.rep$rep.slabobj_kb" "$((obj - obj0))"
        detail bytes_per_conn "$side.$n.rep$rep.sockslab_kb" "$((sock - sock0))"
    done
    t0=$SECONDS
    echo 0 >&7
    exec 7>&-
    wait_for "! kill -0 $opener" 60 || stop $opener
    detail bytes_per_conn "$side.rep$rep.close_s" "$((SECONDS - t0))"
    if [ "$side" = kernel ]; then
        stop "$pid"
    else
        synack_down
    fi
    [ $ok = 1 ]
}

# The kernel's holder runs in processes of at most ~12,000 connections each
# (RLIMIT_NOFILE's hard limit may be low, and root may not raise it).
max_conns=0
for n in $MEM_CONNS; do [ "$n" -le "$max_conns" ] || max_conns=$n; done
HOLD_PROCS=$((max_conns / 12000 + 1))

if phase memory; then
    say "bench: memory: idle connections ($MEM_CONNS) held by synack and by the kernel"
    detail bytes_per_conn tcp_slab_objsize "$(awk '$1 == "TCP" { print $4 }' /proc/slabinfo)"
    detail bytes_per_conn sock_caches "$SOCK_CACHES"
    [ -z "$HOLD_REASON" ] || detail bytes_per_conn synhold_missing "$HOLD_REASON"
    for ((r = 1; r <= REPS; r++)); do
        over_budget && break
        if [ -n "$HOLD" ]; then
            mem_run synack $r || null bytes_per_conn synack "synhold could not hold the connections (rep $r): see ${RAW#"$ROOT"/}"
        fi
        # synack serve's discard service: once (a detail; its 64 KiB per
        # connection buffer dominates and does not vary)
        [ $r -gt 1 ] || mem_run serve $r || null bytes_per_conn serve "synack serve could not hold the connections (rep $r)"
        mem_run kernel $r || null bytes_per_conn kernel "could not hold the connections (rep $r)"
    done
fi

# ---- latency: 1-byte echo -----------------------------------------------------

if phase echo; then
    # Both servers and the client run SCHED_FIFO here (BENCH_ECHO_FIFO=0: not),
    # so that other jobs on the machine (even niced ones: a CFS task runs
    # out its slice before a woken one gets the CPU) do not put milliseconds
    # into p99. They sleep between round trips; nothing can starve.
    if [ "${BENCH_ECHO_FIFO:-1}" != 0 ] && chrt -f 10 true 2>/dev/null; then
        RT=(chrt -f 10)
        detail meta echo_sched "SCHED_FIFO 10 (chrt -f 10): synack, the kernel's echo server, the client"
    else
        detail meta echo_sched "SCHED_OTHER"
    fi
    say "bench: latency: $ECHO_N 1-byte echo round trips (${RT[*]:-no chrt})"
    bg kechod $NSK $CPU_SERVER "$TOOL" echod 7
    KECHOD=$BG
    wait_for "ip netns exec $NSK ss -Hltn sport = :7 | grep -q ." 5 || null echo_p50 kernel "benchtool echod did not start"
    if synack_up $CPU_SERVER; then
        for ((r = 1; r <= REPS; r++)); do
            over_budget && break
            for side in $(sides $r); do
                host=$SADDR
                [ "$side" = synack ] || host=$VK
                if client "echo-$side-$r" 60 "$TOOL" echo $host 7 "$ECHO_N"; then
                    val echo_p50 "$side" "$r" "$(field p50_us "$RAW/echo-$side-$r.out")"
                    val echo_p99 "$side" "$r" "$(field p99_us "$RAW/echo-$side-$r.out")"
                else
                    null echo_p50 "$side" "benchtool echo failed: $(tail -1 "$RAW/echo-$side-$r.out")"
                fi
            done
        done
    else
        null echo_p50 synack "synack serve did not come up"
    fi
    synack_down
    stop "$KECHOD"
    RT=()
fi

# ---- bulk throughput ----------------------------------------------------------------

if phase bulk; then
    say "bench: bulk: one connection, ${SECS}s each way"
    if synack_up $CPU_SERVER; then
        for ((r = 1; r <= REPS; r++)); do
            over_budget && break
            for side in $(sides $r); do
                host=$SADDR
                [ "$side" = synack ] || host=$VK
                if client "bulk_rx-$side-$r" $((SECS + 30)) "$TOOL" send $host 9 "$SECS"; then
                    val bulk_rx "$side" "$r" "$(field gbit "$RAW/bulk_rx-$side-$r.out")"
                else
                    null bulk_rx "$side" "benchtool send failed: $(tail -1 "$RAW/bulk_rx-$side-$r.out")"
                fi
                if client "bulk_tx-$side-$r" $((SECS + 30)) "$TOOL" recv $host 19 "$SECS"; then
                    val bulk_tx "$side" "$r" "$(field gbit "$RAW/bulk_tx-$side-$r.out")"
                else
                    null bulk_tx "$side" "benchtool recv failed: $(tail -1 "$RAW/bulk_tx-$side-$r.out")"
                fi
            done
        done
    else
        null bulk_rx synack "synack serve did not come up"
        null bulk_tx synack "synack serve did not come up"
    fi
    synack_down
    # A reference: iperf3 (reno, same pinning) kernel to kernel, one run each way.
    if command -v iperf3 >/dev/null 2>&1 && ! over_budget; then
        bg kiperf3 $NSK $CPU_SERVER iperf3 -s -p 5201
        if wait_for "ip netns exec $NSK ss -Hltn sport = :5201 | grep -q ." 5; then
            for dir in rx tx; do
                rev=()
                [ $dir = rx ] || rev=(-R)
                if client "iperf3-$dir" $((SECS + 20)) iperf3 -c $VK -p 5201 -C reno -t "$SECS" -J "${rev[@]}"; then
                    detail "bulk_$dir" iperf3_kernel_gbit "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(round(d["end"]["sum_received"]["bits_per_second"] / 1e9, 3))' "$RAW/iperf3-$dir.out" 2>/dev/null)"
                fi
            done
        fi
        stop "$BG"
    fi
fi

# ---- HTTP: connection rate, keep-alive, HTTP/2 ------------------------------------

NGINX_PID=
nginx_up() {
    command -v nginx >/dev/null 2>&1 || return 1
    mkdir -p "$TMP/nginx"
    cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    sendfile off;
    keepalive_requests 1000000;
    keepalive_timeout 65;
    default_type text/html;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    server { listen $VK:80 backlog=4096; root $WWW; }
    server { listen $VK:81 http2 backlog=4096; root $WWW; }
}
EOF
    bg nginx $NSK $CPU_SERVER nginx -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf"
    NGINX_PID=$BG
    wait_for "ip netns exec $NSK ss -Hltn sport = :81 | grep -q ." 5 || return 1
    http_check "$VK" 80 81 nginx
}

# http_check HOST PORT_H1 PORT_H2 NAME: GET the file over HTTP/1.1 and
# HTTP/2 (prior knowledge); both must answer 200 with the 100 bytes.
http_check() {
    local code
    code=$(ip netns exec $NSC timeout 5 curl -s -o "$TMP/got" -w '%{http_code}' "http://$1:$2$URL_PATH")
    if [ "$code" != 200 ] || ! cmp -s "$TMP/got" "$WWW$URL_PATH"; then
        HTTP_CHECK="$4 did not answer GET $URL_PATH (HTTP/1.1, port $2) with 200 and the file (status '$code')"
        return 1
    fi
    code=$(ip netns exec $NSC timeout 5 curl -s --http2-prior-knowledge -o "$TMP/got" -w '%{http_code} %{http_version}' "http://$1:$3$URL_PATH")
    if [ "$code" != "200 2" ] || ! cmp -s "$TMP/got" "$WWW$URL_PATH"; then
        HTTP_CHECK="$4 did not answer GET $URL_PATH (HTTP/2 prior knowledge, port $3) with 200 and the file (got '$code')"
        return 1
    fi
}

# wrk_rate NAME URL [WRK ARGS...]: Requests/sec, or nothing on failure (a
# run with any non-2xx answer is a failure: it measured something else).
wrk_rate() {
    local name=$1 url=$2
    shift 2
    client "$name" $((SECS + 20)) wrk -t1 -d "${SECS}s" --timeout 5s "$@" "$url" || return 1
    ! grep -q 'Non-2xx' "$RAW/$name.out" || return 1
    awk '/^Requests\/sec:/ { print $2 }' "$RAW/$name.out"
}

# h2_rate NAME URL: h2load -c10 -m10 for SECS; req/s, or nothing (failure
# unless every request finished got a 2xx).
h2_rate() {
    local name=$1 url=$2 line
    client "$name" $((SECS + 20)) h2load -t1 -c10 -m10 -D "$SECS" "$url" || return 1
    line=$(grep '^requests:' "$RAW/$name.out") || return 1
    # requests: T total, S started, D done, OK succeeded, F failed, E errored, TO timeout
    read -r _ _ _ _ _ ndone _ ok _ failed _ errored _ _ <<<"$line"
    [ "$ndone" = "$ok" ] && [ "$failed" = 0 ] && [ "$errored" = 0 ] || return 1
    grep -q '^status codes: [0-9]* 2xx, 0 3xx, 0 4xx, 0 5xx' "$RAW/$name.out" || return 1
    sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$RAW/$name.out"
}

# errs NAME: wrk's or h2load's error lines, for the detail.
errs() {
    grep -E 'Socket errors|Non-2xx|^requests:|^status codes' "$RAW/$1.out" | tr -s ' ' | tr '\n' ';'
}

http_bench() { # SIDE HOST PORT_H1 PORT_H2 REP
    local side=$1 host=$2 p1=$3 p2=$4 r=$5 v
    v=$(wrk_rate "conn_rate-$side-$r" "http://$host:$p1$URL_PATH" -c50 -H 'Connection: close')
    if [ -n "$v" ]; then val conn_rate "$side" "$r" "$v"; else null conn_rate "$side" "wrk failed or got non-2xx answers (rep $r): $(errs "conn_rate-$side-$r")"; fi
    detail conn_rate "$side.rep$r.errors" "$(errs "conn_rate-$side-$r")"
    v=$(wrk_rate "h1_keepalive-$side-$r" "http://$host:$p1$URL_PATH" -c50)
    if [ -n "$v" ]; then val h1_keepalive "$side" "$r" "$v"; else null h1_keepalive "$side" "wrk failed or got non-2xx answers (rep $r): $(errs "h1_keepalive-$side-$r")"; fi
    detail h1_keepalive "$side.rep$r.errors" "$(errs "h1_keepalive-$side-$r")"
    v=$(h2_rate "h2-$side-$r" "http://$host:$p2$URL_PATH")
    if [ -n "$v" ]; then val h2 "$side" "$r" "$v"; else null h2 "$side" "h2load failed or got non-2xx answers (rep $r): $(errs "h2-$side-$r")"; fi
    detail h2 "$side.rep$r.errors" "$(errs "h2-$side-$r")"
}

if phase http; then
    say "bench: HTTP: connection rate, keep-alive, HTTP/2 (${SECS}s each)"
    missing=""
    for c in wrk h2load nginx; do command -v $c >/dev/null 2>&1 || missing="$missing $c"; done
    if [ -n "$missing" ]; then
        for k in conn_rate h1_keepalive h2; do null $k both "not installed:$missing (scripts/deps.sh bench)"; done
    else
        NGINX_REASON=
        HTTP_CHECK=
        if ! nginx_up; then
            NGINX_REASON=${HTTP_CHECK:-"nginx did not start: $(tail -3 "$TMP/nginx/error.log" 2>/dev/null)"}
            say "bench: $NGINX_REASON"
            [ -z "$NGINX_PID" ] || stop "$NGINX_PID"
            NGINX_PID=
        fi
        syn_ok=0
        if [ $HAVE_HTTP = 1 ] && synack_up $CPU_SERVER; then
            HTTP_CHECK=
            if http_check $SADDR 80 80 "synack serve --http"; then
                syn_ok=1
            else
                HTTP_REASON=$HTTP_CHECK
                say "bench: $HTTP_REASON"
            fi
        elif [ $HAVE_HTTP = 1 ]; then
            HTTP_REASON="synack serve --http did not come up"
        fi
        for ((r = 1; r <= REPS; r++)); do
            over_budget && break
            for side in $(sides $r); do
                if [ "$side" = synack ] && [ $syn_ok = 1 ]; then
                    http_bench synack $SADDR 80 80 $r
                elif [ "$side" = kernel ] && [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
                    http_bench kernel $VK 80 81 $r
                fi
            done
        done
        if [ $syn_ok = 0 ]; then
            for k in conn_rate h1_keepalive h2; do null $k synack "$HTTP_REASON"; done
        fi
        [ -n "$NGINX_PID" ] || for k in conn_rate h1_keepalive h2; do null $k kernel "$NGINX_REASON"; done
        synack_down
        [ -z "$NGINX_PID" ] || stop "$NGINX_PID"
    fi
fi

# ---- queues: synack serve --queues 1 vs 2 ----------------------------------------------

if phase queues; then
    if [ $HAVE_QUEUES = 0 ]; then
        null queue_scaling synack "synack serve --help lists no --queues (multi-queue TAP not there yet)"
    elif [ $HAVE_HTTP = 0 ]; then
        null queue_scaling synack "the workload is HTTP keep-alive and $HTTP_REASON"
    else
        say "bench: queues: synack serve --queues 1 vs 2, wrk -t2 -c50 keep-alive (no pinning)"
        for ((r = 1; r <= REPS; r++)); do
            over_budget && break
            qs="1 2"
            [ $((r % 2)) = 1 ] || qs="2 1"
            for q in $qs; do
                if ! synack_up - --queues "$q"; then
                    null queue_scaling "q$q" "synack serve --queues $q did not come up: $(tail -1 "$RAW/synack-$SYN_N.log")"
                    synack_down
                    continue
                fi
                ip netns exec $NSC timeout $((SECS + 20)) wrk -t2 -c50 -d "${SECS}s" --timeout 5s \
                    "http://$SADDR$URL_PATH" >"$RAW/queues-$q-$r.out" 2>&1
                v=$(awk '/^Requests\/sec:/ { print $2 }' "$RAW/queues-$q-$r.out")
                if [ -n "$v" ] && ! grep -q 'Non-2xx' "$RAW/queues-$q-$r.out"; then
                    val queue_scaling "q$q" $r "$v"
                else
                    null queue_scaling "q$q" "wrk failed or got non-2xx answers (rep $r): $(errs "queues-$q-$r")"
                fi
                detail queue_scaling "q$q.rep$r.errors" "$(errs "queues-$q-$r")"
                synack_down
            done
        done
    fi
fi

over_budget && say "bench: the time budget (${BUDGET}s) ran out; what was not measured is null"

# ---- summary ---------------------------------------------------------------------------

detail meta seconds_total $((SECONDS - START))
detail meta synack_args "$SYNACK_ARGS"
detail meta loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$ROOT/bench/summarize.py" --raw "$RAW" --out "$OUT/latest.json" \
    --secs "$SECS" --reps "$REPS" --echo-n "$ECHO_N" --mem-conns "$MEM_CONNS" \
    --budget-exceeded "$(over_budget && echo 1 || echo 0)"
