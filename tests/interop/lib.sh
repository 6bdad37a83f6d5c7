# tests/interop/lib.sh: sourced (by bash) from every tests/interop/*.sh.
#
# An interop test puts synack on a TAP device inside a network namespace of
# its own and uses the Linux kernel and ordinary tools as its peers. Nothing
# it creates outlives it: namespaces, background processes and temp dirs are
# removed on exit, on Ctrl-C and on TERM (run.sh's timeout), and namespaces
# left by a test that was killed outright are swept at the next start.
# Namespaces hold only lo and the TAP, and addresses come from TEST-NET-1
# (192.0.2.0/24), so no traffic can leave.
#
#   #!/bin/bash
#   # timeout: 60
#   set -eu
#   . "$(dirname "$0")/lib.sh"
#   need_root
#   netns_new ping                      # sets $NS
#   tap_stack_up "$NS" snt0 192.0.2.1/24 192.0.2.2/24
#   ip netns exec "$NS" ping -c 3 -i 0.2 192.0.2.2 >/dev/null || fail "no echo replies"
#   stack_stop                          # counters now at the end of $STACK_LOG
#   [ "$(counter "$STACK_LOG" "ICMP echo requests received")" -ge 3 ] || fail "not counted"
#   pass "ping"
#
# Functions (all fail the test with "FAIL: ..." when something is wrong):
#   need_root                      fail unless running as root
#   need_cmd CMD...                fail unless every CMD is on PATH
#   netns_new PREFIX [VAR]         new namespace snt-PREFIX-<pid>-<rand>, lo up,
#                                  IPv6 off; its name goes into $VAR (default NS)
#   tmpdir_new [VAR]               new temp dir, removed on exit (default TMP)
#   bg_run LOGFILE CMD [ARG...]    start CMD in the background, output to LOGFILE;
#                                  sets BG_PID; killed on exit
#   bg_stop PID [SECS]             TERM, wait (default 5 s), KILL; returns its status
#   at_exit CMD                    run the string CMD at cleanup (before the rest)
#   wait_for CMD TIMEOUT_S         poll the string CMD (eval'd, output hidden)
#                                  every 0.1 s; 0 once it succeeds, 1 on timeout
#   fail MSG                       print "FAIL: MSG" and exit 1
#   pass MSG                       print "PASS: MSG" (does not exit)
#   tap_stack_up NS TAP KADDR/N STACKADDR/N [SYNACK ARGS...]
#                                  synack serve on TAP inside NS, kernel side
#                                  KADDR on TAP, waits until STACKADDR answers
#                                  ping; sets STACK_PID, STACK_LOG, STACK_PCAP
#   stack_stop [PID]               stop a stack (default STACK_PID) so that it
#                                  prints its counters; returns its exit status
#   counter LOGFILE DESC           last value of counter line "  N DESC" (0 if none)
#   stack_counter DESC             SIGUSR1 the stack, then the value DESC has now
#   log_tail FILE [N]              the last N (30) lines of FILE, indented
#   capture_lost_check LOG         tshark's ACKed-unseen clause, or "" when
#                                  tcpdump's LOG says it dropped packets
#
# Variables: SYNACK_ROOT (repo root), SYNACK (build/synack, absolute),
# ARTIFACTS (build/test-logs/<test>/: logs and pcaps, kept after the test),
# STACK_PCAP_ON (1: tap_stack_up records a pcap in ARTIFACTS; 0: not).
#
# Do not call fail inside $(...): it would only leave the subshell. Do not
# set your own EXIT/INT/TERM trap: use at_exit.

if [ -z "${BASH_VERSION:-}" ]; then
    echo "FAIL: tests/interop/lib.sh needs bash (#!/bin/bash)" >&2
    exit 1
fi

SYNACK_ROOT=${SYNACK_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SYNACK=${SYNACK:-$SYNACK_ROOT/build/synack}
TEST_NAME=${TEST_NAME:-interop/$(basename "$0" .sh)}
ARTIFACTS=${TEST_LOG_DIR:-$SYNACK_ROOT/build/test-logs}/$TEST_NAME
STACK_PCAP_ON=${STACK_PCAP_ON:-1}
export SYNACK_ROOT SYNACK

NETNS_PREFIX=snt- # every synack test namespace starts with this

_lib_netns=()   # namespaces to delete
_lib_pids=()    # background processes to stop
_lib_dirs=()    # temp dirs to remove
_lib_at_exit=() # commands to run first
_lib_cleaned=0

rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

pass() {
    echo "PASS: $*"
}

log_tail() {
    local file=$1 n=${2:-30}
    if [ -s "$file" ]; then
        echo "--- last $n lines of $file:"
        tail -n "$n" "$file" | sed 's/^/    /'
    else
        echo "--- $file is empty or missing"
    fi
}

need_root() {
    [ "$(id -u)" -eq 0 ] ||
        fail "$TEST_NAME needs root (network namespaces, TAP devices): run as root, e.g. sudo make test"
}

need_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 ||
            fail "$TEST_NAME needs '$c', which is not installed (scripts/deps.sh test installs it)"
    done
}

_now_us() {
    local t=$EPOCHREALTIME # seconds, a locale's decimal point, 6 decimals
    echo "${t//[!0-9]/}"
}

# wait_for CMD TIMEOUT_S: TIMEOUT_S may have a fraction ("0.5").
wait_for() {
    local cond=$1 secs=$2 whole frac deadline
    whole=${secs%%.*}
    frac=0
    if [[ $secs == *.* ]]; then
        frac=${secs#*.}000000
        frac=$((10#${frac:0:6}))
    fi
    deadline=$(($(_now_us) + 10#${whole:-0} * 1000000 + frac))
    while :; do
        if eval "$cond" >/dev/null 2>&1; then
            return 0
        fi
        [ "$(_now_us)" -lt $deadline ] || return 1
        sleep 0.1
    done
}

at_exit() {
    _lib_at_exit+=("$1")
}

tmpdir_new() {
    local __var=${1:-TMP} __d
    __d=$(mktemp -d "${TMPDIR:-/tmp}/synack-test.XXXXXX") || fail "mktemp -d failed"
    _lib_dirs+=("$__d")
    printf -v "$__var" '%s' "$__d"
}

bg_run() {
    local log=$1
    shift
    [ $# -gt 0 ] || fail "bg_run: no command"
    "$@" </dev/null >"$log" 2>&1 &
    BG_PID=$!
    _lib_pids+=("$BG_PID")
}

# /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold anything, so
# split after its closing parenthesis. No procps needed.
_proc_field() { # PID N: N=1 state, N=2 ppid
    local line
    local -a f
    read -r line <"/proc/$1/stat" 2>/dev/null || return 1
    read -r -a f <<<"${line##*) }"
    echo "${f[$2 - 1]:-}"
}

# True once PID has exited (gone, or a zombie waiting for our wait).
_gone() {
    [ "$(_proc_field "$1" 1)" = Z ] || ! kill -0 "$1" 2>/dev/null
}

# The pids of PID's descendants, deepest first.
_descendants() {
    local f line rest pid
    local -a kids=()
    for f in /proc/[0-9]*/stat; do
        read -r line <"$f" 2>/dev/null || continue
        rest=${line##*) }
        rest=${rest#* }
        [ "${rest%% *}" = "$1" ] || continue
        kids+=("${line%% *}")
    done
    for pid in "${kids[@]}"; do
        _descendants "$pid"
        echo "$pid"
    done
}

# bg_stop PID [SECS]: stops PID and whatever it started; returns PID's exit
# status when PID is our child (128+signal if it had to be killed).
bg_stop() {
    local pid=$1 secs=${2:-5} kids rc=0 i
    kids=$(_descendants "$pid")
    # shellcheck disable=SC2086 # kids is a list of pids
    kill -TERM "$pid" $kids 2>/dev/null || true
    if ! wait_for "_gone $pid" "$secs"; then
        echo "bg_stop: $pid did not exit within $secs s after TERM; killing it" >&2
        # shellcheck disable=SC2086
        kill -KILL "$pid" $kids 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || rc=$?
    for i in "${!_lib_pids[@]}"; do
        [ "${_lib_pids[$i]}" != "$pid" ] || unset '_lib_pids[i]'
    done
    return $rc
}

_netns_pids() {
    ip netns pids "$1" 2>/dev/null
}

_netns_delete() {
    local ns=$1 pids
    pids=$(_netns_pids "$ns")
    if [ -n "$pids" ]; then
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null || true
        if ! wait_for "[ -z \"\$(ip netns pids $ns)\" ]" 3; then
            pids=$(_netns_pids "$ns")
            # shellcheck disable=SC2086
            [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
        fi
    fi
    ip netns delete "$ns" 2>/dev/null || true
}

# Namespaces named snt-...-<pid>-<rand> whose test (pid) is gone.
_sweep_stale_netns() {
    [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null 2>&1 || return 0
    local ns owner
    for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
        case $ns in "$NETNS_PREFIX"*) ;; *) continue ;; esac
        owner=$(echo "$ns" | awk -F- 'NF >= 4 { print $(NF - 1) }')
        case $owner in '' | *[!0-9]*) continue ;; esac
        if ! kill -0 "$owner" 2>/dev/null; then
            echo "removing stale namespace $ns (its test, pid $owner, is gone)"
            _netns_delete "$ns"
        fi
    done
}

netns_new() {
    local prefix=${1:-t} __var=${2:-NS} name
    need_root
    need_cmd ip
    case $prefix in *[!A-Za-z0-9_]*) fail "netns_new: prefix '$prefix' must be [A-Za-z0-9_]" ;; esac
    name=$NETNS_PREFIX$prefix-$$-$RANDOM$RANDOM
    ip netns add "$name" || fail "ip netns add $name failed"
    _lib_netns+=("$name")
    ip -n "$name" link set lo up || fail "cannot bring lo up in $name"
    # No IPv6 in the namespace: the kernel would otherwise greet every new
    # TAP with router solicitations and MLD reports, and the stack would see
    # (and count, and capture) traffic that no test made.
    # shellcheck disable=SC2016 # $f belongs to the inner sh
    ip netns exec "$name" sh -c 'for f in /proc/sys/net/ipv6/conf/all/disable_ipv6 \
        /proc/sys/net/ipv6/conf/default/disable_ipv6; do [ ! -e $f ] || echo 1 >$f; done' ||
        fail "cannot turn IPv6 off in $name"
    printf -v "$__var" '%s' "$name"
}

_cleanup() {
    [ $_lib_cleaned = 1 ] && return 0
    _lib_cleaned=1
    local i pid
    for ((i = ${#_lib_at_exit[@]} - 1; i >= 0; i--)); do
        eval "${_lib_at_exit[$i]}" || true
    done
    for pid in "${_lib_pids[@]}"; do
        bg_stop "$pid" 3 >/dev/null 2>&1 || true
    done
    for i in "${_lib_netns[@]}"; do
        _netns_delete "$i"
    done
    for i in "${_lib_dirs[@]}"; do
        rm -rf "$i"
    done
}

_on_exit() {
    local rc=$?
    set +e
    _cleanup
    exit $rc
}

_on_signal() {
    set +e
    echo "FAIL: $TEST_NAME interrupted by SIG$1" >&2
    trap - "$1"
    _cleanup
    [ "$1" = INT ] && exit 130
    exit 143
}

trap _on_exit EXIT
trap '_on_signal INT' INT
trap '_on_signal TERM' TERM

# ---------------------------------------------------------------------------
# synack on a TAP device

tap_stack_up() {
    [ $# -ge 4 ] || fail "usage: tap_stack_up NS TAP KADDR/N STACKADDR/N [synack args...]"
    local ns=$1 tap=$2 kaddr=$3 saddr=$4
    shift 4
    local sip=${saddr%/*} a pcap_arg=() pcap_given=0

    [ -x "$SYNACK" ] || fail "$SYNACK is missing: build it first (make)"
    [ -c /dev/net/tun ] || fail "/dev/net/tun is missing: TAP devices are not available here"
    [ ${#tap} -le 15 ] || fail "TAP name '$tap' is longer than 15 characters"
    case $kaddr in */*) ;; *) fail "tap_stack_up: '$kaddr' needs a /prefix" ;; esac
    case $saddr in */*) ;; *) fail "tap_stack_up: '$saddr' needs a /prefix" ;; esac

    STACK_LOG=$ARTIFACTS/synack-$tap.log
    STACK_PCAP=
    if [ "$STACK_PCAP_ON" = 1 ]; then
        for a in "$@"; do
            [ "$a" != --pcap ] || pcap_given=1
        done
        if [ $pcap_given = 0 ]; then
            STACK_PCAP=$ARTIFACTS/synack-$tap.pcap
            pcap_arg=(--pcap "$STACK_PCAP")
        fi
    fi

    bg_run "$STACK_LOG" ip netns exec "$ns" "$SYNACK" serve --tap "$tap" --addr "$saddr" \
        "${pcap_arg[@]}" "$@"
    STACK_PID=$BG_PID

    local deadline=$(($(_now_us) + 5000000))
    until ip -n "$ns" link show "$tap" >/dev/null 2>&1; do
        if ! kill -0 "$STACK_PID" 2>/dev/null; then
            log_tail "$STACK_LOG" >&2
            fail "synack serve --tap $tap exited before creating the device"
        fi
        if [ "$(_now_us)" -ge $deadline ]; then
            log_tail "$STACK_LOG" >&2
            fail "TAP device $tap did not appear in $ns within 5 s"
        fi
        sleep 0.05
    done

    ip -n "$ns" addr add "$kaddr" dev "$tap" || fail "ip addr add $kaddr dev $tap failed"
    ip -n "$ns" link set "$tap" up || fail "ip link set $tap up failed"

    if ! wait_for "ip netns exec $ns ping -c 1 -W 1 $sip" 10; then
        log_tail "$STACK_LOG" >&2
        kill -0 "$STACK_PID" 2>/dev/null || fail "synack serve on $tap exited"
        fail "synack at $sip on $tap (namespace $ns) did not answer ping within 10 s"
    fi
}

stack_stop() {
    local pid=${1:-${STACK_PID:-}}
    [ -n "$pid" ] || fail "stack_stop: no stack running"
    bg_stop "$pid" 5
}

counter() {
    local file=$1 desc=$2
    awk -v d="$desc" '
        { line = $0; sub(/^[ \t]+/, "", line) }
        line ~ /^[0-9]+ / && substr(line, index(line, " ") + 1) == d { v = line + 0 }
        END { print v + 0 }' "$file"
}

# stack_counter DESC: the stack prints all its counters on SIGUSR1; wait until
# that output has arrived (the log grew and then stayed still for 0.2 s).
stack_counter() {
    local desc=$1 size new stable=0 deadline tmp
    [ -n "${STACK_PID:-}" ] || fail "stack_counter: no stack running"
    size=$(stat -c %s "$STACK_LOG")
    kill -USR1 "$STACK_PID" 2>/dev/null || fail "stack_counter: the stack (pid $STACK_PID) is gone"
    deadline=$(($(_now_us) + 3000000))
    local last=$size
    while [ $stable -lt 2 ]; do
        sleep 0.1
        new=$(stat -c %s "$STACK_LOG")
        if [ "$new" -gt "$size" ] && [ "$new" -eq "$last" ]; then
            stable=$((stable + 1))
        else
            stable=0
        fi
        last=$new
        [ "$(_now_us)" -lt $deadline ] || fail "stack_counter: no counters printed on SIGUSR1"
    done
    tmp=$(mktemp) || fail "mktemp failed"
    tail -c +$((size + 1)) "$STACK_LOG" >"$tmp"
    counter "$tmp" "$desc"
    rm -f "$tmp"
}

_sweep_stale_netns

# capture_lost_check LOG: tshark's "ACKed unseen segment" test is only
# sound on a complete capture: prints its filter clause, or nothing (with
# a note) when tcpdump's LOG says it dropped packets.
capture_lost_check() {
    local dropped
    dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel/\1/p' "$1")
    if [ "${dropped:-0}" -ne 0 ]; then
        echo "note: tcpdump dropped $dropped packets: no ACKed-unseen check" >&2
        return
    fi
    echo 'tcp.analysis.ack_lost_segment || '
}
