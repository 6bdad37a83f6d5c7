/* core/stats.h: every counter of every layer, and the drop reasons.
 *
 * One X-macro list generates the enum, the names printed by `synack netstat`
 * and on SIGUSR1 (netstat -s style), and the Prometheus metric names. A drop
 * is a fact, not an error: pkt_drop() frees the packet and bumps the
 * reason's counter, so every discarded frame is accounted for. */
#ifndef SYNACK_CORE_STATS_H
#define SYNACK_CORE_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "core/pkt.h"

/* X(layer, name, description) for plain event counters. */
#define SN_COUNTERS(X)                                                                     \
    X(link, rx_frames, "frames received from the device")                                  \
    X(link, tx_frames, "frames handed to the device")                                      \
    X(link, rx_bytes, "bytes received from the device")                                    \
    X(link, tx_bytes, "bytes handed to the device")                                        \
    X(link, tx_errors, "frames the device refused")                                        \
    X(link, gro_frames_in, "GSO super-frames received (--offload: up to 64 KiB)")        \
    X(link, csum_partial_in, "frames received with the checksum left undone (trusted)")    \
    X(link, tso_frames_out, "TSO super-frames handed to the device to segment")            \
    X(link, csum_partial_out, "frames handed to the device to fill in the checksum")       \
    X(eth, rx_frames, "Ethernet frames accepted")                                          \
    X(arp, rx_requests, "ARP requests received")                                           \
    X(arp, rx_replies, "ARP replies received")                                             \
    X(arp, tx_requests, "ARP requests sent")                                               \
    X(arp, tx_replies, "ARP replies sent")                                                 \
    X(arp, tx_gratuitous, "gratuitous ARPs sent")                                          \
    X(arp, cache_expired, "ARP cache entries expired")                                     \
    X(ip4, rx_packets, "IPv4 packets received")                                            \
    X(ip4, rx_delivered, "IPv4 packets delivered to a protocol")                           \
    X(ip4, tx_packets, "IPv4 packets sent")                                                \
    X(ip4, rx_options, "IPv4 packets with options (skipped)")                              \
    X(ip4, frag_rx, "IPv4 fragments received")                                             \
    X(ip4, reass_ok, "IPv4 datagrams reassembled")                                         \
    X(ip4, frag_created, "IPv4 fragments created")                                         \
    X(ip4, frag_ok, "IPv4 datagrams fragmented")                                           \
    X(icmp, rx_msgs, "ICMP messages received")                                             \
    X(icmp, rx_echo_requests, "ICMP echo requests received")                               \
    X(icmp, tx_echo_replies, "ICMP echo replies sent")                                     \
    X(icmp, tx_unreach, "ICMP destination unreachable sent")                               \
    X(icmp, rx_unreach, "ICMP destination unreachable received")                           \
    X(tcp, active_opens, "active connection openings")                                     \
    X(tcp, passive_opens, "passive connection openings")                                   \
    X(tcp, attempt_fails, "failed connection attempts")                                    \
    X(tcp, estab_resets, "connection resets received in synchronized states")             \
    X(tcp, curr_estab, "connections established now")                                      \
    X(tcp, in_segs, "segments received")                                                   \
    X(tcp, out_segs, "segments sent")                                                      \
    X(tcp, retrans_segs, "segments retransmitted")                                         \
    X(tcp, out_rsts, "resets sent")                                                        \
    X(tcp, fast_retrans, "fast retransmits")                                               \
    X(tcp, rto_timeouts, "retransmission timeouts")                                        \
    X(tcp, loss_probes, "loss probe timeouts (RFC 8985 7)")                                \
    X(tcp, sack_recoveries, "SACK-based recovery episodes")                                \
    X(tcp, challenge_acks, "challenge ACKs sent (RFC 5961)")                               \
    X(tcp, syncookies_sent, "SYN cookies sent")                                            \
    X(tcp, syncookies_ok, "SYN cookies validated")                                         \
    X(tcp, syncookies_failed, "SYN cookies that did not validate")                         \
    X(tcp, delayed_acks, "delayed ACKs sent")                                              \
    X(tcp, persist_probes, "zero-window probes sent")                                      \
    X(tcp, keepalive_probes, "keepalive probes sent")                                      \
    X(tcp, ofo_queued, "out-of-order segments queued")                                     \
    X(tcp, rx_copied_bytes, "payload bytes copied from frames into receive buffers")       \
    X(tcp, tx_copied_bytes, "payload bytes copied from send buffers into frames")          \
    X(tcp, buf_grows, "socket buffer growths (rings start empty and double as used)")     \
    X(tcp, timewait_recycled, "TIME-WAIT connections reopened by a new SYN")              \
    X(udp, rx_datagrams, "UDP datagrams received")                                         \
    X(udp, tx_datagrams, "UDP datagrams sent")

/* X(NAME, description): why a frame or segment was dropped. */
#define SN_DROP_REASONS(X)                                                                 \
    X(NOMEM, "no packet buffer available")                                                 \
    X(ETH_SHORT, "frame shorter than an Ethernet header")                                  \
    X(ETH_NOT_FOR_US, "destination MAC is not ours or broadcast")                          \
    X(ETH_UNKNOWN_TYPE, "unsupported EtherType")                                           \
    X(ARP_MALFORMED, "ARP packet malformed or not Ethernet/IPv4")                          \
    X(ARP_NOT_FOR_US, "ARP for an address that is not ours")                               \
    X(ARP_QUEUE_FULL, "packet waiting for ARP resolution dropped: queue full")            \
    X(ARP_UNRESOLVED, "ARP resolution timed out")                                          \
    X(IP4_SHORT, "shorter than an IPv4 header")                                            \
    X(IP4_BAD_VERSION, "IP version is not 4")                                              \
    X(IP4_BAD_IHL, "IPv4 header length below 20 or beyond the packet")                     \
    X(IP4_BAD_LEN, "IPv4 total length below the header or beyond the frame")               \
    X(IP4_BAD_CSUM, "IPv4 header checksum mismatch")                                       \
    X(IP4_NOT_FOR_US, "IPv4 destination is not ours")                                      \
    X(IP4_BAD_SRC, "IPv4 source is broadcast, multicast or ours")                         \
    X(IP4_TTL_ZERO, "IPv4 TTL is zero")                                                    \
    X(IP4_UNKNOWN_PROTO, "no handler for the IP protocol")                                 \
    X(IP4_NO_ROUTE, "no route to the destination")                                         \
    X(IP4_FRAG_BAD, "fragment malformed (bad offset or length)")                           \
    X(IP4_FRAG_OVERLAP, "fragment overlaps another: datagram discarded (as Linux)")       \
    X(IP4_FRAG_DUP, "duplicate fragment")                                                  \
    X(IP4_FRAG_TOO_BIG, "reassembled datagram would exceed 65535 bytes")                   \
    X(IP4_FRAG_LIMIT, "reassembly memory or queue limit reached")                          \
    X(IP4_FRAG_TIMEOUT, "reassembly timed out")                                            \
    X(IP4_DF_TOO_BIG, "packet larger than MTU with DF set")                                \
    X(ICMP_SHORT, "ICMP message too short")                                                \
    X(ICMP_BAD_CSUM, "ICMP checksum mismatch")                                             \
    X(ICMP_UNHANDLED, "ICMP type not handled")                                             \
    X(ICMP_RATELIMIT, "ICMP error suppressed by rate limit")                               \
    X(TCP_SHORT, "TCP segment shorter than its header")                                    \
    X(TCP_BAD_OFF, "TCP data offset out of range")                                         \
    X(TCP_BAD_CSUM, "TCP checksum mismatch")                                               \
    X(TCP_BAD_OPTION, "malformed TCP option")                                              \
    X(TCP_NO_SOCKET, "no connection or listener (answered with RST)")                     \
    X(TCP_OUT_OF_WINDOW, "sequence outside the window (RFC 9293 3.10.7.4)")               \
    X(TCP_PAWS, "timestamp older than TS.Recent (RFC 7323 5.3)")                           \
    X(TCP_ACK_UNACCEPTABLE, "ACK outside the acceptable range (RFC 5961 5.2)")            \
    X(TCP_RST_IGNORED, "RST not acceptable")                                               \
    X(TCP_BAD_FLAGS, "segment with a flag combination that is dropped")                    \
    X(TCP_LISTEN_OVERFLOW, "listen queue full")                                            \
    X(TCP_OFO_LIMIT, "out-of-order queue full")                                            \
    X(TCP_RCVBUF_FULL, "receive buffer full")                                              \
    X(TCP_SYN_BAD, "SYN not acceptable in this state")                                     \
    X(TCP_CLOSED, "segment for a closed connection")                                       \
    X(UDP_SHORT, "UDP datagram malformed")                                                 \
    X(UDP_BAD_CSUM, "UDP checksum mismatch")                                               \
    X(UDP_NO_PORT, "no UDP socket on the port")

enum sn_counter {
#define X(layer, name, desc) SN_C_##layer##_##name,
    SN_COUNTERS(X)
#undef X
        SN_C_COUNT
};

enum sn_drop {
#define X(name, desc) SN_DROP_##name,
    SN_DROP_REASONS(X)
#undef X
        SN_DROP_COUNT
};

struct sn_stats {
    uint64_t c[SN_C_COUNT];
    uint64_t drop[SN_DROP_COUNT];
};

#define STAT_INC(st, layer, name) ((st)->c[SN_C_##layer##_##name]++)
#define STAT_ADD(st, layer, name, n) ((st)->c[SN_C_##layer##_##name] += (n))
#define STAT_DEC(st, layer, name) ((st)->c[SN_C_##layer##_##name]--)
#define STAT_GET(st, layer, name) ((st)->c[SN_C_##layer##_##name])

/* Consumes @p (NULL allowed: a drop before a buffer existed) and counts the
 * drop under @reason. */
void pkt_drop(struct sn_stats *st, struct pkt *p, enum sn_drop reason);

const char *sn_counter_layer(enum sn_counter c);
const char *sn_counter_name(enum sn_counter c);
const char *sn_counter_desc(enum sn_counter c);
const char *sn_drop_name(enum sn_drop d);
const char *sn_drop_desc(enum sn_drop d);

/* netstat -s style dump, one layer per paragraph; zero counters omitted
 * unless @all. */
void sn_stats_print(const struct sn_stats *st, FILE *out, int all);

/* Prometheus text exposition format. */
void sn_stats_print_prometheus(const struct sn_stats *st, FILE *out);

#endif
