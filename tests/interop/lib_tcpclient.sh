# tests/interop/lib_tcpclient.sh: sourced after lib.sh by the tests that
# drive synack's services with tcpclient.py. Uses $NS, $TMP and $STACK_LOG
# at call time.

CLIENT=$SYNACK_ROOT/tests/interop/tcpclient.py

# client CMD ARGS...: tcpclient.py in the namespace; its key=value line goes
# to $TMP/out (and is shown), errors to the test's output.
client() {
    if ! ip netns exec "$NS" python3 "$CLIENT" "$@" >"$TMP/out"; then
        log_tail "$STACK_LOG" >&2
        fail "tcpclient.py $1 failed (its error is above)"
    fi
    sed 's/^/    /' "$TMP/out"
}

# field KEY: the value of KEY=... in the last client's line.
field() {
    tr ' ' '\n' <"$TMP/out" | sed -n "s/^$1=//p"
}

# rate BYTES SECONDS: MB/s, one decimal.
rate() {
    awk -v b="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.01; printf "%.1f MB/s", b / s / 1e6 }'
}

# discard_count: the bytes synack's discard service counted on its last
# finished connection (serve -v logs one line per connection).
discard_count() {
    sed -n 's/.*discard: connection from .* done, \([0-9]*\) bytes received.*/\1/p' \
        "$STACK_LOG" | tail -n 1
}

# echo_check SIZE SHA256: the last client's echo line shows SIZE bytes
# sent and back, both with the file's SHA256.
echo_check() {
    [ "$(field sent_sha256)" = "$2" ] || fail "echo: the client did not send the file's bytes"
    [ "$(field received)" = "$1" ] || fail "echo: $(field received) bytes came back, expected $1"
    [ "$(field received_sha256)" = "$2" ] ||
        fail "echo: SHA-256 of the echo $(field received_sha256) != the file's $2"
}
