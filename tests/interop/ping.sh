#!/bin/bash
# tests/interop/ping.sh: the foundation interop test. synack serves on a TAP
# device in a namespace of its own; the Linux kernel on the other side
# resolves it with ARP and pings it, small and large (IPv4 fragmentation and
# reassembly both ways). Then synack's counters must show the work, and
# tshark must find no malformed packet and no bad checksum in synack's
# capture.
# timeout: 120
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ip ping tshark

TAP=snt0
KADDR=192.0.2.1
SADDR=192.0.2.2
MAC=02:53:4e:00:00:02 # given with --mac, so we know what ARP must return

netns_new ping
tap_stack_up "$NS" "$TAP" $KADDR/24 $SADDR/24 --mac $MAC
echo "synack is up: $(grep -m1 '^synack: serving' "$STACK_LOG" || true)"
grep -q "^synack: serving $SADDR/24 on $TAP (mac $MAC, mtu 1500" "$STACK_LOG" ||
    fail "synack's start line does not name $SADDR/24, $TAP and mac $MAC"

kping() { # kping ARGS...: ping from the kernel side; prints its summary
    local out
    out=$(ip netns exec "$NS" ping "$@" $SADDR 2>&1) || true
    echo "$out" | grep -E 'packets transmitted|rtt' | sed 's/^/    /'
    echo "$out" | grep -q ' 0% packet loss'
}

# 1. ARP: the kernel resolved synack's address to the MAC it was given.
neigh=$(ip -n "$NS" neigh show $SADDR dev "$TAP")
echo "kernel neighbour entry: $neigh"
case $neigh in
*"lladdr $MAC "*REACHABLE* | *"lladdr $MAC "*STALE* | *"lladdr $MAC "*DELAY*) ;;
*) fail "ARP: expected $SADDR lladdr $MAC (REACHABLE/STALE), got '$neigh'" ;;
esac
pass "ARP: the kernel resolved $SADDR to $MAC"

# 2. A burst of small pings.
echo "ping -c 200 -i 0.01 $SADDR:"
kping -c 200 -i 0.01 -W 1 || fail "ping -c 200: some echo requests got no reply"
pass "200 small pings, 0% loss"

# 3. Fragmentation both ways: 4028-byte datagrams are 3 fragments, 20028-byte
# ones 14, from the kernel to synack (reassembly) and back (fragmentation).
for size in 4000 20000; do
    echo "ping -c 5 -s $size $SADDR:"
    kping -c 5 -i 0.05 -W 1 -s $size || fail "ping -s $size: some echo requests got no reply"
    pass "5 pings of $size bytes (fragmented both ways), 0% loss"
done

# 4. synack's counters after a clean stop.
rc=0
# shellcheck disable=SC2119 # the default stack
stack_stop || rc=$?
[ $rc -eq 0 ] || { log_tail "$STACK_LOG" >&2; fail "synack exited with status $rc on SIGTERM, expected 0"; }
grep -q '^synack counters:' "$STACK_LOG" || fail "synack printed no 'synack counters:' on exit"
echo_req=$(counter "$STACK_LOG" "ICMP echo requests received")
echo_rep=$(counter "$STACK_LOG" "ICMP echo replies sent")
reass=$(counter "$STACK_LOG" "IPv4 datagrams reassembled")
frag_rx=$(counter "$STACK_LOG" "IPv4 fragments received")
frag_tx=$(counter "$STACK_LOG" "IPv4 fragments created")
arp_rep=$(counter "$STACK_LOG" "ARP replies sent")
echo "counters: echo requests $echo_req, echo replies $echo_rep, fragments received $frag_rx," \
    "datagrams reassembled $reass, fragments created $frag_tx, ARP replies $arp_rep"
[ "$echo_req" -ge 210 ] || fail "echo requests received: $echo_req, expected >= 210"
[ "$echo_rep" -eq "$echo_req" ] || fail "echo replies sent ($echo_rep) != echo requests ($echo_req)"
# 5 x 3 + 5 x 14 fragments at least, each way.
[ "$reass" -ge 10 ] || fail "datagrams reassembled: $reass, expected >= 10"
[ "$frag_rx" -ge 85 ] || fail "fragments received: $frag_rx, expected >= 85"
[ "$frag_tx" -ge 85 ] || fail "fragments created: $frag_tx, expected >= 85"
[ "$arp_rep" -ge 1 ] || fail "ARP replies sent: $arp_rep, expected >= 1"
pass "counters moved as expected"

# 5. The capture, through tshark: well formed, checksums right (IPv4 header
# checks on; ICMP checksums are always checked, over reassembled datagrams).
[ -s "$STACK_PCAP" ] || fail "no capture at $STACK_PCAP"
topts=(-n -o ip.check_checksum:TRUE -o ip.defragment:TRUE)
total=$(tshark "${topts[@]}" -r "$STACK_PCAP" 2>"$ARTIFACTS/tshark.err" | wc -l)
[ "$total" -gt 400 ] || { log_tail "$ARTIFACTS/tshark.err" >&2; fail "tshark read only $total packets from the capture"; }
tshark "${topts[@]}" -r "$STACK_PCAP" -Y '_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == "Bad" || icmp.checksum.status == "Bad"' \
    >"$ARTIFACTS/tshark-bad.txt" 2>>"$ARTIFACTS/tshark.err" ||
    { log_tail "$ARTIFACTS/tshark.err" >&2; fail "tshark failed on the capture"; }
bad=$(wc -l <"$ARTIFACTS/tshark-bad.txt")
echo "tshark: $total packets, $bad malformed or with errors"
if [ "$bad" -ne 0 ]; then
    log_tail "$ARTIFACTS/tshark-bad.txt" >&2
    fail "tshark found $bad malformed packets or checksum errors in $STACK_PCAP"
fi
echo_pairs=$(tshark "${topts[@]}" -r "$STACK_PCAP" -Y 'icmp.type == 0 && icmp.resp_to' 2>/dev/null | wc -l)
echo "tshark: $echo_pairs echo replies matched to their requests"
[ "$echo_pairs" -ge 210 ] || fail "tshark matched only $echo_pairs echo replies to requests"
pass "capture is clean"

pass "ping"
