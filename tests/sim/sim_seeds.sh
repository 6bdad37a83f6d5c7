#!/bin/bash
# tests/sim/sim_seeds.sh: the deterministic simulator (sim/, `synack sim`).
# Two synack stacks in one process on a virtual clock, impaired link
# between them; every seed must deliver every byte exactly once and in
# order, close every connection through TIME-WAIT or CLOSED, get stuck
# nowhere and leak no buffer. Runs:
#   1. 5,000 seeds, each with its own impairment mix (loss, some of it
#      bursty, reordering, duplication, corruption, delay and jitter, rate);
#   2. 400 seeds at 15 % loss, 5 % reordering, 5 % duplication, 5 %
#      corruption, 50+-20 ms delay;
#   3. 300 seeds of bursty loss behind a 5 Mbit/s rate limit with a small
#      queue (tail drops);
#   4. seeds that once exposed TCP bugs, replayed;
#   5. determinism: one seed run twice gives the same output, byte for
#      byte, and its --pcap capture is a readable pcap.
# A failing seed prints its replay command (see README, "Simulator").
# timeout: 300
set -u

SYNACK=${SYNACK:-$(cd "$(dirname "$0")/../.." && pwd)/build/synack}
JOBS=$(nproc 2>/dev/null || echo 2)
[ "$JOBS" -gt 8 ] && JOBS=8
fails=0

run() { # run DESCRIPTION ARGS...
    local what=$1
    shift
    echo "== $what: synack sim $*"
    if ! "$SYNACK" sim -q -j "$JOBS" "$@"; then
        echo "FAIL: $what"
        fails=$((fails + 1))
    fi
}

[ -x "$SYNACK" ] || { echo "FAIL: $SYNACK is missing: build it first (make)"; exit 1; }

run "5000 seeds, each its own impairment mix" --seeds 5000 --seed 1
run "400 seeds, heavy impairment" --seeds 400 --seed 100001 \
    --loss 15 --reorder 5 --dup 5 --corrupt 5 --delay 50:20
run "300 seeds, bursty loss behind a rate limit" --seeds 300 --seed 200001 \
    --loss 3:3 --reorder 1 --delay 20:5 --rate 5 --queue 30000

# Seeds of the long soak that exposed TCP bugs (the replay commands they
# printed), kept as regressions: an RTO retransmission sent past SND.MAX
# (an ACK war), a reset half-open passive connection never freed, a zero
# window with data in flight and no persist timer.
for r in "2069253 --reorder 3.6:3 --dup 0.3 --corrupt 2.8 --delay 65:2 --rate 38" \
    "2057481 --loss 1.8 --reorder 0.7:3 --dup 1.9 --corrupt 0.7 --delay 5" \
    "1051363 --loss 9.3 --reorder 4.3:3 --dup 3 --corrupt 2.3 --delay 4" \
    "5067000 --loss 0.1 --dup 0.8 --corrupt 1.2 --delay 2"; do
    # shellcheck disable=SC2086 # the seed and its options, split on purpose
    run "regression seed ${r%% *}" --seed $r
done

echo "== determinism: seed 4242 twice, with a capture"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/synack-sim.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
"$SYNACK" sim --seed 4242 -v 2>&1 | grep -v "^sim:" >"$tmp/1.txt"; [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "FAIL: seed 4242 failed"; fails=$((fails + 1)); }
"$SYNACK" sim --seed 4242 -v --pcap "$tmp/run.pcap" 2>&1 | grep -v "^sim:" >"$tmp/2.txt"
if ! cmp -s "$tmp/1.txt" "$tmp/2.txt"; then
    echo "FAIL: seed 4242 ran differently the second time:"
    diff "$tmp/1.txt" "$tmp/2.txt" | head -20
    fails=$((fails + 1))
fi
# The pcap magic (either byte order) and at least one record.
magic=$(od -An -tx1 -N4 "$tmp/run.pcap" 2>/dev/null | tr -d ' ')
size=$(stat -c %s "$tmp/run.pcap" 2>/dev/null || echo 0)
case $magic in
a1b2c3d4 | d4c3b2a1) ;;
*) echo "FAIL: --pcap wrote no pcap file (magic '$magic')"; fails=$((fails + 1)) ;;
esac
[ "$size" -gt 1000 ] || { echo "FAIL: the capture holds only $size bytes"; fails=$((fails + 1)); }
tail -n 8 "$tmp/1.txt"

if [ $fails -ne 0 ]; then
    echo "FAIL: $fails simulator runs failed (replay commands above)"
    exit 1
fi
echo "PASS: simulator"
