#!/bin/bash
# tests/interop/impair_tcp.sh: TCP between the Linux kernel and synack serve
# over an impaired TAP link: synack's own impairment layer (no netem here)
# loses 5 % of the frames, reorders 1 % and corrupts 1 % (one flipped bit
# inside the IPv4 packet), both ways. The kernel (tcpclient.py) sends 50 MiB
# of random bytes to discard, reads 50 MiB from chargen, and sends 50 MiB
# through echo while reading it back; every transfer must be byte-exact.
# The counters must show that the impairments happened (frames lost,
# reordered, corrupted) and that the corrupted ones were caught: by
# synack's checksum checks for frames toward synack, by the kernel's
# (InCsumErrors) for frames toward the kernel. Last, the same 50 MiB go
# kernel to kernel through `synack wire` (impair_wire.sh does that).
# timeout: 300
set -eu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/interop/lib_tcpclient.sh
. "$(dirname "$0")/lib_tcpclient.sh"

need_root
need_cmd ip python3 sha256sum

KADDR=192.0.2.1
SADDR=192.0.2.2
SIZE=$((50 * 1024 * 1024))
IMPAIR=(--loss 5 --reorder 1 --corrupt 1)

netns_new imptcp
# shellcheck disable=SC2119 # the default variable, TMP
tmpdir_new
head -c $SIZE /dev/urandom >"$TMP/data"
sha=$(sha256sum <"$TMP/data" | cut -d' ' -f1)

# kernel_snmp PROTO FIELD: a counter of the namespace's /proc/net/snmp.
kernel_snmp() {
    ip netns exec "$NS" awk -v p="$1:" -v f="$2" '
        $1 == p && !names { for (i = 2; i <= NF; i++) col[$i] = i; names = 1; next }
        $1 == p && names { print $col[f]; exit }' /proc/net/snmp
}

# A capture of 150 MiB would measure the disk, not TCP.
STACK_PCAP_ON=0
tap_stack_up "$NS" sni0 $KADDR/24 $SADDR/24 -v --impair-seed 1 "${IMPAIR[@]}"
echo "synack is up: $(grep -m1 '^synack: serving' "$STACK_LOG" || true)"
grep -q '^synack: impairing the link: --loss 5 --reorder 1:3 --corrupt 1 (impair seed 1)' \
    "$STACK_LOG" || { log_tail "$STACK_LOG" >&2; fail "synack serve did not announce the impairments"; }
k_csum0=$(kernel_snmp Tcp InCsumErrors)
k_hdr0=$(kernel_snmp Ip InHdrErrors)

echo "through 5 % loss, 1 % reordering, 1 % corruption:"
bulk_phases $SIZE "$TMP/data" "$sha"

k_csum=$(($(kernel_snmp Tcp InCsumErrors) - k_csum0))
k_hdr=$(($(kernel_snmp Ip InHdrErrors) - k_hdr0))
rc=0
# shellcheck disable=SC2119 # the default stack
stack_stop || rc=$?
[ $rc -eq 0 ] || { log_tail "$STACK_LOG" >&2; fail "synack exited with status $rc, expected 0"; }

# The impairment's own counters, one paragraph per direction:
#   impairment of frames sent: N frames in ..., N out ...
#     N lost (N in a burst), N duplicated, N corrupted (...), N reordered
imp() { # imp DIRECTION FIELD: lost | corrupted | reordered | in
    awk -v d="impairment $1:" -v f="$2" '
        index($0, d) == 1 { grab = 1; if (f == "in") { print $(NF - 7) + 0; exit } ; next }
        grab { for (i = 1; i <= NF; i++) if ($(i + 1) ~ "^" f) { print $i + 0; exit } }' \
        "$STACK_LOG"
}
grep -A2 '^impairment' "$STACK_LOG" | sed 's/^/    /'
for d in "of frames sent" "of frames received"; do
    lost=$(imp "$d" lost)
    corr=$(imp "$d" corrupted)
    reord=$(imp "$d" reordered)
    [ "${lost:-0}" -gt 0 ] && [ "${corr:-0}" -gt 0 ] && [ "${reord:-0}" -gt 0 ] ||
        fail "impairment $d: lost ${lost:-?}, corrupted ${corr:-?}, reordered ${reord:-?}: expected all > 0"
done
s_tcp=$(counter "$STACK_LOG" "TCP checksum mismatch (TCP_BAD_CSUM)")
s_ip=$(counter "$STACK_LOG" "IPv4 header checksum mismatch (IP4_BAD_CSUM)")
s_corr=$(imp "of frames received" corrupted)
echo "checksums caught: synack $s_tcp TCP + $s_ip IPv4 of $s_corr corrupted toward it;" \
    "the kernel $k_csum TCP + $k_hdr IPv4 (InCsumErrors, InHdrErrors)"
# Every frame corrupted toward synack was an IPv4 packet that synack's
# checks must have rejected; a few may be lost before they get there.
[ $((s_tcp + s_ip)) -gt 0 ] || fail "synack caught no corrupted frame"
[ $((s_tcp + s_ip)) -le "$s_corr" ] || fail "synack rejected more frames than were corrupted"
[ $((k_csum + k_hdr)) -gt 0 ] || fail "the kernel caught no corrupted frame"
estab=$(counter "$STACK_LOG" "connections established now")
[ "$estab" -eq 0 ] || fail "$estab connections still established after every client closed"
opens=$(counter "$STACK_LOG" "passive connection openings")
[ "$opens" -ge 3 ] || fail "passive connection openings: $opens, expected 3"
retrans=$(counter "$STACK_LOG" "segments retransmitted")
echo "synack retransmitted $retrans segments: $(counter "$STACK_LOG" "fast retransmits") fast," \
    "$(counter "$STACK_LOG" "loss probe timeouts (RFC 8985 7)") after loss probe timeouts," \
    "$(counter "$STACK_LOG" "retransmission timeouts") after RTOs"
[ "$retrans" -gt 0 ] || fail "synack retransmitted nothing through 5 % loss"
pass "impairments applied both ways, corrupted frames caught on both sides"

pass "impair_tcp"
