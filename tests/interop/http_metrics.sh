#!/bin/bash
# tests/interop/http_metrics.sh: the HTTP server serves the stack's
# counters in Prometheus text format at --metrics-path (issue: "the HTTP
# server also serves the counters in Prometheus text format at a
# configurable path"): well-formed exposition lines, counters that move
# with traffic, the default path /metrics, and '' turning it off.
# timeout: 60
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ip curl

SADDR=192.0.2.2
netns_new httpmet
tap_stack_up "$NS" snt0 192.0.2.1/24 $SADDR/24 --metrics-path /stats/prom

# get PATH OUTFILE: prints "STATUS CONTENT-TYPE" (with a newline, for read).
get() { ip netns exec "$NS" curl -sS --max-time 5 -o "$2" -w '%{http_code} %{content_type}\n' "http://$SADDR$1"; }

read -r code ctype < <(get /stats/prom "$ARTIFACTS/m1.txt")
[ "$code" = 200 ] || fail "GET /stats/prom answered $code"
case "$ctype" in text/plain*version=0.0.4*) ;; *) fail "content type '$ctype'" ;; esac
# Every line is a comment or "name{labels} value".
bad=$(grep -vcE '^(# (HELP|TYPE) [a-z0-9_]+ .*|[a-z0-9_]+(\{reason="[A-Z0-9_]+"\})? [0-9]+)$' "$ARTIFACTS/m1.txt" || true)
[ "$bad" = 0 ] || fail "$bad lines are not Prometheus exposition lines"
opens1=$(awk '$1 == "synack_tcp_passive_opens" { print $2 }' "$ARTIFACTS/m1.txt")
[ -n "$opens1" ] || fail "no synack_tcp_passive_opens counter"
grep -q '^synack_drops_total{reason="TCP_BAD_CSUM"} ' "$ARTIFACTS/m1.txt" || fail "no drop counters"
pass "metrics: $(wc -l <"$ARTIFACTS/m1.txt") well-formed lines, passive opens $opens1"

for _ in 1 2 3; do get / /dev/null >/dev/null; done
get /stats/prom "$ARTIFACTS/m2.txt" >/dev/null
opens2=$(awk '$1 == "synack_tcp_passive_opens" { print $2 }' "$ARTIFACTS/m2.txt")
[ "$opens2" -ge $((opens1 + 4)) ] || fail "passive opens went from $opens1 to $opens2, expected +4"
pass "the counters move: passive opens $opens1 -> $opens2"

read -r code _ < <(get /metrics /dev/null)
[ "$code" = 404 ] || fail "/metrics answered $code with --metrics-path elsewhere"
stack_stop

tap_stack_up "$NS" snt1 192.0.2.1/24 $SADDR/24
read -r code _ < <(get /metrics /dev/null)
[ "$code" = 200 ] || fail "the default /metrics answered $code"
stack_stop
tap_stack_up "$NS" snt2 192.0.2.1/24 $SADDR/24 --metrics-path ''
read -r code _ < <(get /metrics /dev/null)
[ "$code" = 404 ] || fail "--metrics-path '' still served /metrics ($code)"
pass "default path /metrics; --metrics-path '' turns it off"
