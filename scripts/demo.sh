#!/bin/bash
# scripts/demo.sh: the tour `make demo` gives (run as root, after the build).
#
# Creates a network namespace of its own, starts `synack serve` on a TAP
# device inside it, and lets the Linux kernel on the other side of that TAP
# talk to synack: ARP, ping, fragmented ping. Then shows synack's counters
# and a few lines of the capture synack wrote, and ends by drawing
# connections from that capture as ladder diagrams (and an HTML page of them
# side by side, build/demo/ladders.html, which is kept). Everything else it
# creates (the namespace, the device, the synack process, the temporary
# directory) is removed on exit, also when a step fails. Exits non-zero with
# the failing step named.
#
# Environment: SYNACK (default build/synack), DEMO_KEEP=1 keeps the capture
# and logs (the directory is printed).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SYNACK=${SYNACK:-$ROOT/build/synack}

NS=synack-demo-$$
TAP=snd0
KERNEL_ADDR=192.0.2.1 # the kernel's end of the TAP (RFC 5737 documentation range)
STACK_ADDR=192.0.2.2  # synack's address
PREFIX=24

if [ -t 1 ]; then
    B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'
else
    B='' G='' R='' N=''
fi

step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
say() {
    local line
    for line in "$@"; do
        if [ -n "$line" ]; then printf '   %s\n' "$line"; else echo; fi
    done
}
ok() { printf '   %sok:%s %s\n' "$G" "$N" "$*"; }
die() {
    printf '\n%sdemo failed:%s %s\n' "$R" "$N" "$*" >&2
    exit 1
}

# Runs a command on the kernel's side (inside the namespace), showing it as
# a user would type it there and its output indented; the output is also
# left in $TMP/last for checks. Returns the command's status.
kernel() { kernel_as "$*" "$@"; }
# kernel_sh 'LINE': the same for a shell command line (pipes, redirections).
kernel_sh() { kernel_as "$1" sh -c "$1"; }
kernel_as() { # SHOWN CMD...: shows SHOWN, runs CMD
    printf '   %s# %s%s\n' "$B" "$1" "$N"
    shift
    ip netns exec "$NS" "$@" >"$TMP/last" 2>&1
    local rc=$?
    sed 's/^/     /' "$TMP/last"
    return $rc
}

[ "$(id -u)" -eq 0 ] || die "run as root (it creates a network namespace and a TAP device): sudo make demo"
[ -x "$SYNACK" ] || die "$SYNACK is missing: run make first"
for tool in ip ping tcpdump nc; do
    command -v "$tool" >/dev/null || die "$tool is not installed (make demo installs it: scripts/deps.sh demo)"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/synack-demo.XXXXXX") || die "cannot create a temporary directory"
LADDERS=() # "LABEL|SELECTION": the connections the last step draws (see HTTP below)
SYNACK_PID=
NS_MADE=0

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    local rc=$?
    if [ -n "$SYNACK_PID" ] && kill -0 "$SYNACK_PID" 2>/dev/null; then
        kill -TERM "$SYNACK_PID" 2>/dev/null
        wait "$SYNACK_PID" 2>/dev/null
    fi
    [ "$NS_MADE" = 1 ] && ip netns del "$NS" 2>/dev/null
    if [ "${DEMO_KEEP:-0}" = 1 ]; then
        echo "demo: kept the capture and logs in $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Reads the value of a counter line ("    12 ICMP echo requests received")
# from synack's printed counters; 0 when the line is absent (zero counters
# are not printed).
counter() {
    awk -v d="$1" '{ n = $1; $1 = ""; sub(/^ /, "") } $0 == d { v = n } END { print v + 0 }' \
        "$TMP/synack.out"
}

# -------------------------------------------------------------------------
step "A network namespace and synack on a TAP device inside it"
say "synack is a TCP/IP stack that runs as an ordinary process. It gets raw" \
    "Ethernet frames from a TAP device; the Linux kernel sits at the other end" \
    "of the same TAP, so the kernel and synack are two hosts on one wire."
ip netns add "$NS" || die "cannot create network namespace $NS"
NS_MADE=1
ip -n "$NS" link set lo up
# No IPv6 in the namespace: the kernel would greet the new TAP with router
# solicitations and MLD reports that have nothing to do with the demo.
# shellcheck disable=SC2016 # $f belongs to the inner sh
ip netns exec "$NS" sh -c 'for f in /proc/sys/net/ipv6/conf/all/disable_ipv6 \
    /proc/sys/net/ipv6/conf/default/disable_ipv6; do [ ! -e $f ] || echo 1 >$f; done' || true
printf '   %s# %s%s\n' "$B" \
    "synack serve --tap $TAP --addr $STACK_ADDR/$PREFIX --pcap demo.pcap --trace states.jsonl &" "$N"
ip netns exec "$NS" "$SYNACK" serve --tap "$TAP" --addr "$STACK_ADDR/$PREFIX" \
    --pcap "$TMP/demo.pcap" --trace "$TMP/states.jsonl" >"$TMP/synack.out" 2>"$TMP/synack.err" &
SYNACK_PID=$!
for _ in $(seq 50); do
    grep -q '^synack: serving' "$TMP/synack.err" && break
    kill -0 "$SYNACK_PID" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q '^synack: serving' "$TMP/synack.err"; then
    sed 's/^/     /' "$TMP/synack.err" >&2
    die "synack did not start (its messages are above)"
fi
sed 's/^/     /' "$TMP/synack.err"
STACK_MAC=$(sed -n 's/.*(mac \([0-9a-f:]*\),.*/\1/p' "$TMP/synack.err")

say "" "The kernel's end of the TAP gets $KERNEL_ADDR/$PREFIX:"
kernel ip addr add "$KERNEL_ADDR/$PREFIX" dev "$TAP" || die "cannot add $KERNEL_ADDR to $TAP"

# -------------------------------------------------------------------------
step "ARP and ping"
say "Before the first ping the kernel does not know synack's MAC address, so" \
    "it broadcasts an ARP request (who has $STACK_ADDR?) and synack answers" \
    "with its MAC (RFC 826). Then three ICMP echo requests, three replies."
# shellcheck disable=SC2015 # die when either fails
kernel ping -c 3 -i 0.5 "$STACK_ADDR" && grep -q ' 0% packet loss' "$TMP/last" || die "ping $STACK_ADDR did not get every reply"
ok "3 of 3 echo requests answered"
say "" "The kernel's neighbour table now holds synack's MAC:"
kernel ip neigh show dev "$TAP"
grep -q "$STACK_ADDR .*lladdr $STACK_MAC" "$TMP/last" ||
    die "the kernel did not learn $STACK_ADDR is-at $STACK_MAC"
ok "$STACK_ADDR is-at $STACK_MAC, the MAC synack printed at start"

# -------------------------------------------------------------------------
step "A ping too big for one frame: IPv4 fragmentation both ways"
say "With -s 4000 the ICMP message is 4008 bytes, a 4028-byte IPv4 datagram." \
    "The link MTU is 1500, so the kernel sends it as 3 fragments (1480 + 1480" \
    "+ 1048 bytes of payload). synack reassembles them (RFC 791), answers" \
    "with a 4028-byte reply, and fragments that into 3 fragments itself; the" \
    "kernel reassembles those."
# shellcheck disable=SC2015
kernel ping -c 3 -i 0.5 -s 4000 "$STACK_ADDR" && grep -q ' 0% packet loss' "$TMP/last" || die "ping -s 4000 $STACK_ADDR did not get every reply"
ok "3 of 3 fragmented echo requests answered"

# -------------------------------------------------------------------------
step "TCP: echo and daytime, with the kernel's nc as the client"
say "synack serve also runs the classic TCP services. nc on the kernel's side" \
    "connects to echo (RFC 862, port 7): the three-way handshake, the line goes" \
    "over and comes straight back, then both sides close."
kernel_sh "echo 'hello over TCP' | nc -q1 $STACK_ADDR 7" || die "nc to the echo service failed"
grep -qx 'hello over TCP' "$TMP/last" || die "echo did not send the line back"
ok "the line came back through synack's TCP"
say "" "daytime (RFC 867, port 13) sends the time and closes first. tcpdump on" \
    "the kernel's end of the TAP: SYN, SYN+ACK, ACK; synack's line (flag P);" \
    "then synack's FIN (F) before nc's, so synack is the side that closes" \
    "actively and waits in TIME-WAIT."
timeout 5 ip netns exec "$NS" tcpdump -l -n -t -i "$TAP" 'tcp port 13' \
    >"$TMP/tcp13" 2>"$TMP/tcp13.err" &
dump_pid=$!
for _ in $(seq 30); do grep -q 'listening on' "$TMP/tcp13.err" && break; sleep 0.1; done
kernel_sh "nc $STACK_ADDR 13 </dev/null" || die "nc to the daytime service failed"
grep -qE '^[A-Z][a-z]+day, .*UTC' "$TMP/last" || die "daytime did not send the time"
sleep 0.3
kill -INT $dump_pid 2>/dev/null
wait $dump_pid
sed -e '/^$/d' -e 's/, options \[[^]]*\]//' -e 's/^/     /' "$TMP/tcp13"
grep -m1 'Flags \[F' "$TMP/tcp13" | grep -q "^IP $STACK_ADDR\.13 >" ||
    die "the first FIN of the daytime connection was not synack's"
ok "synack sent the first FIN: it closed first"

# -------------------------------------------------------------------------
# HTTP: the same 20 URLs with HTTP/1.0, HTTP/1.1 and HTTP/2, and the TCP
# handshakes synack counted for each ("passive connection openings",
# printed on SIGUSR1).
step "HTTP: 20 requests with HTTP/1.0, HTTP/1.1 keep-alive and HTTP/2"
say "synack serve also serves HTTP on port 80 (here its built-in page; --root DIR" \
    "serves a directory). The kernel's curl fetches the same 20 URLs three" \
    "times. HTTP/1.0 closes the connection after each response, so every" \
    "request pays a three-way handshake; HTTP/1.1 keeps the connection for the" \
    "next request; HTTP/2 carries every request as a stream of one connection."
command -v curl >/dev/null || die "curl is not installed (make demo installs it: scripts/deps.sh demo)"
http_opens() { # the "passive connection openings" counter, read live
    local before
    before=$(grep -c '^synack counters:' "$TMP/synack.out")
    kill -USR1 "$SYNACK_PID" 2>/dev/null || die "synack is gone"
    for _ in $(seq 50); do
        [ "$(grep -c '^synack counters:' "$TMP/synack.out")" -gt "$before" ] && break
        sleep 0.1
    done
    sleep 0.1
    counter "passive connection openings"
}
HTTP_URLS="http://$STACK_ADDR/?n=[1-20]"
# curl 7.88.x (Debian 12) cannot reuse an HTTP/2 prior-knowledge connection
# (curl/curl#10634, fixed in curl 8.0); there HTTP/2 starts with Upgrade: h2c.
H2_MODE=--http2-prior-knowledge
curl_major=$(curl --version | awk 'NR == 1 { split($2, v, "."); print v[1] }')
[ "${curl_major:-0}" -ge 8 ] || H2_MODE=--http2
http_rows=()
http_run() { # LABEL WANT MODE PORTS: one curl over the 20 URLs
    local label=$1 want=$2 mode=$3 ports=$4 before after ms n
    before=$(http_opens)
    printf '   %s# %s%s\n' "$B" "curl -s $mode -o /dev/null -w '%{http_code} ' '$HTTP_URLS'" "$N"
    # curl's own time per transfer (connect included), summed: the time
    # the protocol took, without curl's start-up.
    ip netns exec "$NS" curl -s "$mode" --local-port "$ports" -o /dev/null \
        -w '%{http_code} %{time_total}\n' "$HTTP_URLS" >"$TMP/last" 2>&1 ||
        die "curl $mode failed: $(tail -n 2 "$TMP/last")"
    awk '{ printf "%s ", $1 } END { print "" }' "$TMP/last" | sed 's/^/     /'
    n=$(grep -c '^200 ' "$TMP/last")
    [ "$n" = 20 ] || die "curl $mode: $n of 20 answers were 200"
    ms=$(awk '{ t += $2 } END { printf "%.1f", t * 1000 }' "$TMP/last")
    after=$(http_opens)
    [ $((after - before)) = "$want" ] ||
        die "curl $mode: synack counted $((after - before)) handshakes, expected $want"
    http_rows+=("$(printf '%-38s %8s %16s %9s ms' "$label" 20 $((after - before)) "$ms")")
    ok "$label: 20 responses, $((after - before)) TCP handshake(s), $ms ms"
}
http_run "HTTP/1.0 (curl --http1.0)" 20 --http1.0 40100-40199
http_run "HTTP/1.1 keep-alive (curl --http1.1)" 1 --http1.1 40011
if [ "$H2_MODE" = --http2 ]; then
    say "" "(This curl, $(curl --version | awk 'NR == 1 { print $2 }'), cannot reuse an HTTP/2 prior-knowledge" \
        "connection, curl/curl#10634, fixed in curl 8.0. --http2 asks for HTTP/2" \
        "with Upgrade: h2c on the first request and then multiplexes the rest" \
        "on the same connection.)"
fi
http_run "HTTP/2 (curl $H2_MODE)" 1 "$H2_MODE" 40012
LADDERS+=("HTTP/1.0|--port 40100" "HTTP/1.1|--port 40011" "HTTP/2|--port 40012")
say "" "The same 20 URLs, 20 requests each time; handshakes as synack counted them," \
    "and the time curl spent on the 20 transfers (its time_total, summed):" ""
printf '   %s%-38s %8s %16s %12s%s\n' "$B" protocol requests "TCP handshakes" "total time" "$N"
for row in "${http_rows[@]}"; do say "$row"; done
say "" "Each handshake is a round trip before the first byte of the request, and" \
    "each new connection starts TCP's congestion window small again: that is" \
    "what keep-alive and multiplexing save. (On this virtual wire a round trip" \
    "is a fraction of a millisecond; over a real network it is most of the time.)"

# Hook for the ladder diagrams at the end of the demo: append one entry per
# run to LADDERS, "LABEL|SELECTION[|N]", where SELECTION is `synack trace`
# options that select the run's connection in demo.pcap, and N which of the
# connections selected (in the order they started; default 1). E.g. with
# curl --local-port 40010 for the HTTP/1.0 run:
#   LADDERS+=("HTTP/1.0|--port 40010") LADDERS+=("HTTP/1.1|--port 40011")
#   LADDERS+=("HTTP/2|--port 40012")
# or, in the order the runs connected to port 80:
#   LADDERS+=("HTTP/1.0|--port 80|1" "HTTP/1.1|--port 80|2" "HTTP/2|--port 80|3")
# The first entry is drawn in the terminal, all of them side by side in the
# HTML page. Without entries the echo and daytime connections are drawn.

# -------------------------------------------------------------------------
step "Live connections: synack ss"
say "synack serve answers on a control socket (it printed the path at start)." \
    "synack ss lists its connections like ss -ti: state, queues, addresses," \
    "then RTO, RTT, MSS, cwnd, bytes and retransmissions. An nc holds a" \
    "connection to echo open for a moment:"
CTL=$(sed -n 's/^synack: control socket \([^ ,]*\).*/\1/p' "$TMP/synack.err" | head -n 1)
[ -n "$CTL" ] || die "synack did not print its control socket"
(sleep 2 | ip netns exec "$NS" nc -q1 "$STACK_ADDR" 7 >/dev/null 2>&1) &
held=$!
for _ in $(seq 30); do
    "$SYNACK" ss --ctl "$CTL" 2>/dev/null | grep -q ESTABLISHED && break
    sleep 0.1
done
printf '   %s# %s%s\n' "$B" "synack ss --ctl $CTL" "$N"
"$SYNACK" ss --ctl "$CTL" >"$TMP/ss" 2>&1 || die "synack ss failed: $(cat "$TMP/ss")"
sed 's/^/     /' "$TMP/ss"
grep -q "^ESTABLISHED .*$STACK_ADDR:7 " "$TMP/ss" || die "synack ss did not show the held connection"
ok "the connection nc holds is ESTABLISHED in synack's table"
wait $held
say "" "synack netstat prints the same counters as the end of this demo, from the" \
    "running stack (synack netstat --prometheus: for a metrics scraper)."

# -------------------------------------------------------------------------
step "synack's counters"
say "SIGTERM (or Ctrl-C) stops synack; it prints every non-zero counter," \
    "like netstat -s. The ones this demo moved:"
kill -TERM "$SYNACK_PID"
wait "$SYNACK_PID"
rc=$?
SYNACK_PID=
[ $rc -eq 0 ] || die "synack exited with status $rc"
grep -E 'ARP requests received|ARP replies sent|ICMP echo requests received|ICMP echo replies sent|IPv4 fragments received|IPv4 datagrams reassembled|IPv4 fragments created|IPv4 datagrams fragmented' \
    "$TMP/synack.out" | sed 's/^ */     /'
say "(synack printed $(grep -c "^    " "$TMP/synack.out") non-zero counters in all)"
echo_req=$(counter "ICMP echo requests received")
reass=$(counter "IPv4 datagrams reassembled")
frag=$(counter "IPv4 fragments created")
[ "$echo_req" -ge 6 ] || die "synack counted $echo_req echo requests, expected 6"
[ "$reass" -ge 3 ] || die "synack reassembled $reass datagrams, expected 3"
[ "$frag" -ge 9 ] || die "synack created $frag fragments, expected 9"
ok "$echo_req echo requests, $reass datagrams reassembled, $frag fragments created"

# -------------------------------------------------------------------------
step "What was on the wire"
say "synack wrote every frame it received and sent to a pcap file, which" \
    "tcpdump, tshark and Wireshark read. First synack's announcement of its" \
    "address (a gratuitous ARP, RFC 5227), then the ARP exchange and first ping:"
tcpdump -nr "$TMP/demo.pcap" 'arp or icmp' >"$TMP/dump1" 2>"$TMP/dump.err" ||
    die "tcpdump could not read the capture: $(tail -n 1 "$TMP/dump.err")"
tcpdump -vnr "$TMP/demo.pcap" 'ip[6:2] & 0x3fff != 0' >"$TMP/dump2" 2>"$TMP/dump.err" ||
    die "tcpdump could not read the capture: $(tail -n 1 "$TMP/dump.err")"
printf '   %s# %s%s\n' "$B" "tcpdump -nr demo.pcap 'arp or icmp' | head -5" "$N"
head -5 "$TMP/dump1" | sed 's/^/     /'
say "" "The first fragmented request and reply: 3 fragments each way, with the" \
    "same IP id and offsets 0, 1480, 2960 ([+] means more fragments follow):"
printf '   %s# %s%s\n' "$B" "tcpdump -vnr demo.pcap 'ip[6:2] & 0x3fff != 0' | head -12" "$N"
head -12 "$TMP/dump2" | sed 's/^/     /'

# -------------------------------------------------------------------------
step "Ladder diagrams"
# Without HTTP runs (see LADDERS above), the echo and daytime connections.
if [ ${#LADDERS[@]} -eq 0 ]; then
    LADDERS=("echo (port 7)|--port 7" "daytime (port 13)|--port 13")
fi
# Each entry's connection number, so that one page holds them all; the page
# shows them in the order of their numbers, so the labels go in that order.
: >"$TMP/ids"
for entry in "${LADDERS[@]}"; do
    IFS='|' read -r label sel nth <<<"$entry"
    # shellcheck disable=SC2086 # the selection is options, split on purpose
    id=$("$SYNACK" trace "$TMP/demo.pcap" --list $sel 2>/dev/null |
        awk -v n="${nth:-1}" 'NR == n { print $1 }')
    [ -n "$id" ] || die "no connection in the capture for '$label' ($sel, #${nth:-1})"
    echo "$id|$label" >>"$TMP/ids"
done
first_id=$(head -n 1 "$TMP/ids" | cut -d'|' -f1)
first=${LADDERS[0]%%|*}
ids=() labels=()
while IFS='|' read -r id label; do
    ids+=("$id")
    labels+=(--label "$label")
done < <(sort -n -u -t'|' -k1,1 "$TMP/ids")
say "synack trace reads any capture (synack's own, or tcpdump's) and draws each" \
    "TCP connection as a ladder: the client's line left, the server's right," \
    "one arrow per segment with its flags, sequence and acknowledgment numbers" \
    "(relative, as Wireshark shows them), length, window and options, and each" \
    "side's TCP state where it changes. --states puts synack's own recorded" \
    "states (serve --trace) on the server's side. The $first connection:"
printf '   %s# %s%s\n' "$B" "synack trace demo.pcap --conn $first_id --states states.jsonl" "$N"
"$SYNACK" trace "$TMP/demo.pcap" --conn "$first_id" --states "$TMP/states.jsonl" \
    --color "$([ -t 1 ] && echo always || echo never)" >"$TMP/ladder" 2>&1 ||
    die "synack trace failed: $(tail -n 1 "$TMP/ladder")"
sed 's/^/  /' "$TMP/ladder"
if ! grep -q "SYN-SENT" "$TMP/ladder" || ! grep -q "ESTABLISHED" "$TMP/ladder"; then
    die "the ladder does not show the handshake"
fi
page_dir=$ROOT/build/demo
mkdir -p "$page_dir" || die "cannot create $page_dir"
page=$page_dir/ladders.html
conns=$(IFS=,; echo "${ids[*]}")
"$SYNACK" trace "$TMP/demo.pcap" --conn "$conns" --states "$TMP/states.jsonl" --max 16 --quiet \
    --html "$page" --svg "$page_dir/ladders.svg" "${labels[@]}" \
    --title "synack demo: $(printf '%s, ' "${LADDERS[@]%%|*}" | sed 's/, $//')" ||
    die "synack trace --html failed"
ok "the ladders of ${#ids[@]} connections side by side: $page"
say "(open it in a browser; $page_dir/ladders.svg is the same as an image)"

step "Done"
say "Try it yourself (as root):" \
    "  build/synack serve --tap tap0 --addr $STACK_ADDR/$PREFIX &" \
    "  ip addr add $KERNEL_ADDR/$PREFIX dev tap0" \
    "  ping $STACK_ADDR" \
    "and kill -USR1 the synack process to see its counters."
exit 0
