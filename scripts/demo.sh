#!/bin/bash
# scripts/demo.sh: the tour `make demo` gives (run as root, after the build).
#
# Creates a network namespace of its own, starts `synack serve` on a TAP
# device inside it, and lets the Linux kernel on the other side of that TAP
# talk to synack: ARP, ping, fragmented ping. Then shows synack's counters
# and a few lines of the capture synack wrote. Everything it creates (the
# namespace, the device, the synack process, the temporary directory) is
# removed on exit, also when a step fails. Exits non-zero with the failing
# step named.
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
kernel() {
    printf '   %s# %s%s\n' "$B" "$*" "$N"
    ip netns exec "$NS" "$@" >"$TMP/last" 2>&1
    local rc=$?
    sed 's/^/     /' "$TMP/last"
    return $rc
}

[ "$(id -u)" -eq 0 ] || die "run as root (it creates a network namespace and a TAP device): sudo make demo"
[ -x "$SYNACK" ] || die "$SYNACK is missing: run make first"
for tool in ip ping tcpdump; do
    command -v "$tool" >/dev/null || die "$tool is not installed (make demo installs it: scripts/deps.sh demo)"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/synack-demo.XXXXXX") || die "cannot create a temporary directory"
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
    "synack serve --tap $TAP --addr $STACK_ADDR/$PREFIX --pcap demo.pcap &" "$N"
ip netns exec "$NS" "$SYNACK" serve --tap "$TAP" --addr "$STACK_ADDR/$PREFIX" \
    --pcap "$TMP/demo.pcap" >"$TMP/synack.out" 2>"$TMP/synack.err" &
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
# TCP echo: added here with tcp/ (nc to synack's echo service on port 7).
# -------------------------------------------------------------------------

# -------------------------------------------------------------------------
# HTTP: added here with http/ (curl to synack's HTTP server).
# -------------------------------------------------------------------------

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

step "Done"
say "Try it yourself (as root):" \
    "  build/synack serve --tap tap0 --addr $STACK_ADDR/$PREFIX &" \
    "  ip addr add $KERNEL_ADDR/$PREFIX dev tap0" \
    "  ping $STACK_ADDR" \
    "and kill -USR1 the synack process to see its counters."
exit 0
