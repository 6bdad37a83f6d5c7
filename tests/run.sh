#!/bin/bash
# tests/run.sh [--list] [PATTERN...]: the whole synack test suite, as run by
# `make test` after the build. Groups, in order:
#
#   unit/<layer>/test_<file>   build/tests/<layer>/test_<file> (cmocka), one
#                              per tests/unit/<layer>/test_<file>.c
#   sim/<name>                 tests/sim/<name>.sh
#   scripts/<path>.pkt         `build/synack pktscript FILE` per packet script
#                              under tests/scripts/
#   trace/<name>               tests/trace/<name>.sh (`synack trace` on captures
#                              the tests write themselves)
#   interop/<name>             tests/interop/<name>.sh (lib*.sh are helpers)
#   fuzz/<name>                build/fuzz/<name> for FUZZ_SECONDS (default 20)
#                              on a temporary corpus seeded from
#                              tests/fuzz/corpus/<name>/; FUZZ_SECONDS=0 only
#                              replays the seed corpus
#
# A test passes when it exits 0; anything else fails, including a test that
# cannot run (it must say why). Nothing is skipped silently: a test source
# without its binary, or a script that is not executable, is a failure.
# Each test's output goes to build/test-logs/<name>.log; a failure prints
# the log's last 40 lines. Each test runs under `timeout`: TEST_TIMEOUT
# seconds (default 300), or what a "# timeout: N" line in the script says.
#
# PATTERN is an extended regex; only tests whose name matches one run.
# Tests see: SYNACK_ROOT (repo root), SYNACK (build/synack), TEST_NAME,
# TEST_LOG_DIR (build/test-logs), all absolute; the cwd is the repo root.
#
# The last line printed is always "N passed, N failed"; the exit status is
# 0 only when nothing failed and at least one test ran.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

BUILD=$ROOT/build
LOG_DIR=$BUILD/test-logs
DEFAULT_TIMEOUT=${TEST_TIMEOUT:-300}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
TAIL_LINES=40

export SYNACK_ROOT=$ROOT
export SYNACK=$BUILD/synack
export TEST_LOG_DIR=$LOG_DIR

list_only=0
patterns=()
for arg in "$@"; do
    case $arg in
    --list) list_only=1 ;;
    -h | --help)
        sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0"
        exit 0
        ;;
    *) patterns+=("$arg") ;;
    esac
done

# ---------------------------------------------------------------------------
# The test list: parallel arrays of name, timeout (s) and command. A command
# whose first word is "missing:" is a test that cannot run; the rest of the
# line says why.

t_name=()
t_timeout=()
t_cmd=()

selected() {
    local p
    [ ${#patterns[@]} -eq 0 ] && return 0
    for p in "${patterns[@]}"; do
        [[ $1 =~ $p ]] && return 0
    done
    return 1
}

# add NAME TIMEOUT CMD [ARGS...]
add() {
    local name=$1 timeout=$2
    shift 2
    selected "$name" || return 0
    t_name+=("$name")
    t_timeout+=("$timeout")
    t_cmd+=("$(printf '%q ' "$@")")
}

# add_missing NAME WHY: a test that fails because it cannot be run.
add_missing() {
    selected "$1" || return 0
    t_name+=("$1")
    t_timeout+=(0)
    t_cmd+=("missing: $2")
}

# The "# timeout: N" line of a script, else the default.
timeout_of() {
    local n
    n=$(sed -n 's/^#[[:space:]]*timeout:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
    echo "${n:-$DEFAULT_TIMEOUT}"
}

# Executable scripts in DIR matching GLOB, named PREFIX/<basename without
# .sh>; helpers named lib*.sh or _* are not tests.
add_scripts() {
    local dir=$1 prefix=$2 f base
    for f in "$dir"/*.sh; do
        [ -e "$f" ] || continue
        base=$(basename "$f" .sh)
        case $base in lib* | _*) continue ;; esac
        if [ -x "$f" ]; then
            add "$prefix/$base" "$(timeout_of "$f")" "$f"
        else
            add_missing "$prefix/$base" "$f is not executable (chmod +x it, or name a helper lib*.sh)"
        fi
    done
}

discover_unit() {
    local src rel bin
    for src in tests/unit/*/test_*.c; do
        [ -e "$src" ] || continue
        rel=${src#tests/unit/}
        rel=${rel%.c}
        bin=$BUILD/tests/$rel
        if [ -x "$bin" ]; then
            add "unit/$rel" "$DEFAULT_TIMEOUT" "$bin"
        else
            add_missing "unit/$rel" "$bin was not built (run: make tests)"
        fi
    done
}

discover_sim() {
    add_scripts tests/sim sim
}

# Packet scripts run through `synack pktscript FILE`, one test per file.
discover_scripts() {
    local files=() f runner=1
    while IFS= read -r f; do
        files+=("$f")
    done < <(find tests/scripts -name '*.pkt' -type f 2>/dev/null | LC_ALL=C sort)
    [ ${#files[@]} -gt 0 ] || return 0
    if ! [ -x "$SYNACK" ] || ! "$SYNACK" pktscript --help >/dev/null 2>&1; then
        runner=0
    fi
    for f in "${files[@]}"; do
        if [ $runner = 1 ]; then
            add "scripts/${f#tests/scripts/}" "$(timeout_of "$f")" "$SYNACK" pktscript "$f"
        else
            add_missing "scripts/${f#tests/scripts/}" \
                "$SYNACK has no working 'pktscript' command ('synack pktscript --help' failed)"
        fi
    done
}

# Golden-output and rendering tests of `synack trace` (no root needed).
discover_trace() {
    add_scripts tests/trace trace
}

discover_interop() {
    add_scripts tests/interop interop
}

discover_fuzz() {
    local src name bin
    for src in tests/fuzz/fuzz_*.c; do
        [ -e "$src" ] || continue
        name=$(basename "$src" .c)
        bin=$BUILD/fuzz/$name
        if [ -x "$bin" ]; then
            add "fuzz/$name" $((FUZZ_SECONDS + 120)) bash -c 'fuzz_one "$@"' fuzz_one "$name" "$bin"
        else
            add_missing "fuzz/$name" "$bin was not built (run: make fuzz-build)"
        fi
    done
}

# fuzz_one NAME BIN: libFuzzer writes new inputs to the first corpus
# directory only, so a temporary one goes first and the seeds in the repo
# are read but never changed. Crash inputs land in build/test-logs/fuzz/.
fuzz_one() {
    local name=$1 bin=$2 seeds=tests/fuzz/corpus/$1 tmp rc
    local -a args=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        "-artifact_prefix=$LOG_DIR/fuzz/$name-")
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/synack-fuzz-$name.XXXXXX") || return 1
    if [ "$FUZZ_SECONDS" -gt 0 ]; then
        args+=("-max_total_time=$FUZZ_SECONDS")
    else
        args+=(-runs=0)
    fi
    [ -d "$seeds" ] || seeds=
    echo "$bin ${args[*]} $tmp $seeds"
    # shellcheck disable=SC2086 # $seeds is empty or one directory
    "$bin" "${args[@]}" "$tmp" $seeds
    rc=$?
    rm -rf "$tmp"
    if [ $rc -ne 0 ]; then
        echo "fuzz/$name failed (exit $rc); the input is in $LOG_DIR/fuzz/$name-*:"
        echo "add it to $seeds as a regression input once fixed."
    fi
    return $rc
}
export -f fuzz_one
export LOG_DIR FUZZ_SECONDS

for group in unit sim scripts trace interop fuzz; do
    "discover_$group"
done

if [ $list_only = 1 ]; then
    for i in "${!t_name[@]}"; do
        echo "${t_name[$i]}"
    done
    exit 0
fi

# ---------------------------------------------------------------------------
# Running

passed=0
failed=0
failed_names=()
current=

now_us() {
    local t=$EPOCHREALTIME # seconds, a locale's decimal point, 6 decimals
    echo "${t//[!0-9]/}"
}

# Ctrl-C or a TERM from CI: stop the running test (timeout forwards the
# signal to the test's whole process group), then report what ran.
interrupted() {
    if [ -n "$current" ]; then
        kill -TERM "$current" 2>/dev/null && wait "$current" 2>/dev/null
        echo "FAIL $name (interrupted)"
        failed=$((failed + 1))
    fi
    echo "interrupted"
    echo "$passed passed, $failed failed"
    exit 130
}
trap interrupted INT TERM

# A full run starts from an empty log dir, so no log of a test that no
# longer exists lingers; a PATTERN run replaces only its own tests' logs.
[ ${#patterns[@]} -gt 0 ] || rm -rf "$LOG_DIR"
mkdir -p "$LOG_DIR/fuzz"

for i in "${!t_name[@]}"; do
    name=${t_name[$i]}
    log=$LOG_DIR/$name.log
    mkdir -p "$(dirname "$log")"
    start=$(now_us)

    if [[ ${t_cmd[$i]} == missing:* ]]; then
        echo "cannot run $name: ${t_cmd[$i]#missing: }" >"$log"
        rc=1
    else
        export TEST_NAME=$name
        # timeout runs the test in its own process group and kills all of it.
        eval "exec timeout --kill-after=10 ${t_timeout[$i]} ${t_cmd[$i]}" </dev/null >"$log" 2>&1 &
        current=$!
        wait "$current"
        rc=$?
        current=
    fi

    us=$(($(now_us) - start))
    if [ $rc -eq 124 ] || { [ $rc -eq 137 ] && [ $us -ge $((t_timeout[i] * 1000000)) ]; }; then
        echo "timed out after ${t_timeout[$i]} s" >>"$log"
    fi
    took="$((us / 1000000)).$((us / 100000 % 10))s"
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        echo "PASS $name ($took)"
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        echo "FAIL $name ($took)"
        echo "---- last $TAIL_LINES lines of ${log#"$ROOT"/} (exit $rc)"
        tail -n "$TAIL_LINES" "$log"
        echo "----"
    fi
done

if [ ${#t_name[@]} -eq 0 ]; then
    if [ ${#patterns[@]} -gt 0 ]; then
        echo "no test matches: ${patterns[*]} (tests/run.sh --list shows them all)"
    else
        echo "no tests found: was the build run (make all fuzz-build)?"
    fi
elif [ $failed -gt 0 ]; then
    echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ ${#t_name[@]} -gt 0 ]
