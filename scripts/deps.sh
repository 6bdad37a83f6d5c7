#!/bin/sh
# scripts/deps.sh MODE: make sure the Debian packages that `make MODE` needs
# are installed, installing the missing ones with apt-get.
#   MODE = test | demo | bench
# Quick (one dpkg-query) when everything is present; root is only needed
# when something is missing. SYNACK_SKIP_DEPS=1 skips the check entirely
# (for machines where the tools were installed some other way).
set -eu

me="scripts/deps.sh"

usage() {
    echo "usage: $me test|demo|bench" >&2
    exit 2
}

[ $# -eq 1 ] || usage
mode=$1

# What the build needs (compiler, headers, libraries).
build_pkgs="build-essential pkg-config libpcap-dev libcmocka-dev libnghttp2-dev"

# The whole test suite: unit (cmocka), fuzz (clang + libFuzzer runtime),
# packet capture checks (tshark, tcpdump), netns/TAP interop (iproute2,
# ping), peers (curl, nghttp, h2load, wrk, socat, nc, nginx, iperf3), packet
# crafting (scapy, h2), HTML/SVG output checks (xmllint, chromium).
test_pkgs="$build_pkgs clang libclang-rt-14-dev tshark tcpdump iproute2 iputils-ping
    python3 python3-scapy python3-h2 python3-hyperframe curl nghttp2-client wrk socat
    netcat-openbsd nginx-light iperf3 libxml2-utils chromium"

demo_pkgs="$build_pkgs iproute2 iputils-ping curl nghttp2-client tcpdump netcat-openbsd"

# bench/run.sh: namespaces (iproute2), the kernel-side load generators
# (wrk, h2load from nghttp2-client, iperf3 as a reference), nginx as the
# kernel's HTTP server, curl for the pre-flight GETs, python3 for the summary.
bench_pkgs="$build_pkgs iproute2 iputils-ping curl python3 wrk nghttp2-client nginx-light iperf3"

case $mode in
test) pkgs=$test_pkgs ;;
bench) pkgs=$bench_pkgs ;;
demo) pkgs=$demo_pkgs ;;
*) usage ;;
esac

if [ "${SYNACK_SKIP_DEPS:-0}" = 1 ]; then
    exit 0
fi

# The names of the packages that are installed, one line with spaces around
# each; packages dpkg does not know at all are simply not listed
# (dpkg-query complains on stderr and exits 1 for them).
# shellcheck disable=SC2086 # word splitting of the package list is intended
installed=" $(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $pkgs 2>/dev/null |
    awk '$2 == "installed" { printf "%s ", $1 }') " || true

missing=""
for p in $pkgs; do
    case $installed in
    *" $p "*) ;;
    *) missing="$missing $p" ;;
    esac
done
missing=${missing# }

[ -n "$missing" ] || exit 0

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
    echo "$me: this needs Debian's apt-get; install these packages by hand: $missing" \
        "(then SYNACK_SKIP_DEPS=1 skips this check)" >&2
    exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "$me: run as root: sudo make $mode (to install: $missing)" >&2
    exit 1
fi

echo "$me: installing for 'make $mode': $missing"

# tshark's wireshark-common asks whether non-root users may capture; answer
# "no" up front so the install never stops at a prompt.
case " $missing " in
*" tshark "*)
    echo "wireshark-common wireshark-common/install-setuid boolean false" |
        debconf-set-selections || true
    ;;
esac

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp "${TMPDIR:-/tmp}/synack-deps.XXXXXX")
trap 'rm -f "$log"' EXIT

# Wait for another apt/dpkg (unattended-upgrades on a fresh VM) rather
# than failing on its lock.
lock="-o DPkg::Lock::Timeout=300"
# shellcheck disable=SC2086
if ! apt-get $lock update >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "$me: apt-get update failed; could not install: $missing" >&2
    exit 1
fi
# shellcheck disable=SC2086
if ! apt-get $lock install -y $missing >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "$me: apt-get install failed for: $missing" >&2
    exit 1
fi
n=$(grep -c '^Setting up ' "$log" || true)
echo "$me: installed: $missing ($n packages including dependencies)"
