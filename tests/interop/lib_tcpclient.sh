# tests/interop/lib_tcpclient.sh: sourced after lib.sh by the tests that
# drive synack's services with tcpclient.py. Uses $NS, $SADDR, $TMP and $STACK_LOG
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

# bulk_phases SIZE FILE SHA256: the kernel sends FILE (SIZE bytes) to
# discard, sends it through echo while reading it back, and reads SIZE
# bytes of chargen; each must be byte-exact.
bulk_phases() {
    echo "discard: the kernel sends $1 bytes to $SADDR:9"
    client discard "$SADDR" 9 "$2"
    [ "$(field sent)" = "$1" ] || fail "discard: the client sent $(field sent) bytes, expected $1"
    [ "$(field received)" = 0 ] || fail "discard: the server sent $(field received) bytes back"
    local got
    got=$(discard_count)
    [ "$got" = "$1" ] || fail "discard: synack received '${got}' bytes, expected $1"
    pass "discard: synack received exactly $1 bytes ($(rate "$1" "$(field seconds)"))"

    echo "echo: the kernel sends $1 bytes to $SADDR:7 and reads them back at the same time"
    client echo "$SADDR" 7 "$2"
    [ "$(field sent)" = "$1" ] || fail "echo: the client sent $(field sent) bytes, expected $1"
    echo_check "$1" "$3"
    pass "echo: $1 bytes back, SHA-256 matches ($(rate $((2 * $1)) "$(field seconds)") both ways together)"

    echo "chargen: the kernel reads $1 bytes from $SADDR:19"
    client chargen "$SADDR" 19 "$1"
    [ "$(field received)" = "$1" ] || fail "chargen: received $(field received), expected $1"
    pass "chargen: $1 bytes of RFC 864 lines, every byte as expected ($(rate "$1" "$(field seconds)"))"
}
