/* synack/config.h: every tunable of a stack instance, with its default,
 * bounds, unit and meaning in one table. The table generates the defaults,
 * the `--set name=value` parser, the --help text and validation. */
#ifndef SYNACK_CONFIG_H
#define SYNACK_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "synack/export.h"

/* X(name, default, min, max, help) — all fields are uint32_t. */
#define SN_CONFIG_FIELDS(X)                                                                       \
    X(pool_rx_bufs, 4096, 64, 1048576, "receive packet buffers in the pool")                     \
    X(pool_tx_bufs, 8192, 64, 1048576, "transmit packet buffers in the pool")                    \
    X(pool_big_bufs, 64, 4, 65536, "64 KiB buffers (reassembly, offload super-frames)")          \
    X(pool_rx_offload_bufs, 256, 16, 65536, "64 KiB receive buffers that replace rx (--offload)")  \
    X(pool_tso_bufs, 256, 4, 65536, "64 KiB buffers added to big for TSO super-frames (--offload)") \
    X(ip_ttl, 64, 1, 255, "TTL of packets we originate")                                         \
    X(arp_timeout_ms, 60000, 1000, 3600000, "how long a resolved ARP entry lives")                \
    X(arp_retry_ms, 1000, 100, 60000, "ARP request retransmission interval")                     \
    X(arp_retries, 3, 1, 100, "ARP requests before giving up on an address")                     \
    X(arp_queue_max, 8, 1, 1024, "packets held per unresolved address")                          \
    X(arp_glean, 0, 0, 1, "learn on-link senders' MACs from IPv4 frames (serve --queues)")        \
    X(arp_cache_size, 256, 4, 65536, "ARP cache entries")                                        \
    X(reass_timeout_ms, 30000, 1000, 120000, "IPv4 reassembly timeout (RFC 791: 15 s or more)") \
    X(reass_max_datagrams, 64, 1, 4096, "datagrams under reassembly at once")                    \
    X(reass_max_bytes, 4194304, 65536, 268435456, "bytes held by reassembly at once")            \
    X(icmp_rate_per_s, 100, 0, 100000, "ICMP errors sent per second (token bucket)")             \
    X(icmp_burst, 50, 1, 100000, "ICMP error burst")                                             \
    X(tcp_msl_ms, 30000, 1, 600000, "MSL: TIME-WAIT lasts 2*MSL")                                \
    X(tcp_rto_init_ms, 1000, 10, 60000, "initial RTO (RFC 6298 2.1: 1 s)")                       \
    X(tcp_rto_min_ms, 200, 1, 60000, "RTO floor (RFC 6298 2.4 says 1 s; Linux uses 200 ms)")     \
    X(tcp_rto_max_ms, 120000, 1000, 600000, "RTO ceiling (RFC 6298 2.5: at least 60 s)")         \
    X(tcp_pto_min_ms, 2, 0, 1000, "loss probe margin over 2 SRTT (RFC 8985 7.2); 0: no probes") \
    X(tcp_delack_ms, 200, 1, 500, "delayed ACK timeout (RFC 9293 3.8.6.3: < 0.5 s)")            \
    X(tcp_quickack_segs, 0, 0, 1000, "segments ACKed at once at connection start (Linux)")      \
    X(tcp_init_cwnd_segs, 10, 1, 100, "initial window in segments (RFC 6928)")                   \
    X(tcp_sndbuf, 2097152, 4096, 67108864, "send buffer bytes per connection (grows as used)")  \
    X(tcp_rcvbuf, 1048576, 4096, 67108864, "receive buffer bytes per connection (grows as used)")\
    X(tcp_wscale, 7, 0, 14, "window scale we offer (RFC 7323)")                                  \
    X(tcp_timestamps, 1, 0, 1, "offer timestamps (RFC 7323)")                                    \
    X(tcp_sack, 1, 0, 1, "offer SACK (RFC 2018)")                                                \
    X(tcp_mss, 1460, 88, 65495, "MSS we advertise (clamped to the MTU)")                         \
    X(tcp_syn_retries, 6, 1, 20, "SYN retransmissions before giving up")                          \
    X(tcp_synack_retries, 5, 1, 20, "SYN+ACK retransmissions before giving up")                   \
    X(tcp_retries2, 15, 1, 100, "data retransmissions before giving up (RFC 1122 R2)")           \
    X(tcp_syn_backlog, 256, 1, 1048576, "half-open connections per listener before cookies")     \
    X(tcp_syncookies, 1, 0, 2, "SYN cookies: 0 off, 1 when backlog full, 2 always")              \
    X(tcp_challenge_ack_per_s, 1000, 0, 1000000, "challenge ACKs per second (RFC 5961 7)")       \
    X(tcp_ofo_max_segs, 32, 1, 32, "out-of-order ranges held per connection")              \
    X(tcp_keepalive_idle_s, 7200, 1, 86400, "keepalive idle time (RFC 1122: >= 2 h)")           \
    X(tcp_keepalive_intvl_s, 75, 1, 3600, "keepalive probe interval")                            \
    X(tcp_keepalive_probes, 9, 1, 100, "keepalive probes before giving up")                      \
    X(tcp_max_conns, 262144, 16, 16777216, "connections per stack")

struct sn_config {
#define SN_CONFIG_MEMBER(name, def, min, max, help) uint32_t name;
    SN_CONFIG_FIELDS(SN_CONFIG_MEMBER)
#undef SN_CONFIG_MEMBER
};

/* Fills @cfg with the defaults. */
SN_API void sn_config_defaults(struct sn_config *cfg);

/* Applies "name=value". Returns 0, or -EINVAL (unknown name, not a number)
 * or -ERANGE (outside the field's bounds). */
SN_API int sn_config_set(struct sn_config *cfg, const char *assignment);

/* Applies a named preset: "linux" (quick ACKs at start, 40 ms delayed ACK,
 * window scale 8, as Linux). Returns 0 or -EINVAL. */
SN_API int sn_config_profile(struct sn_config *cfg, const char *name);

/* One line per field: name, default, bounds, help. */
SN_API void sn_config_help(FILE *out);

#endif
