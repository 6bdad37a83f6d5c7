/* net/net.h: the network layer of one stack instance — Ethernet dispatch,
 * ARP (RFC 826), IPv4 in and out (RFC 791, RFC 1122) with reassembly and
 * fragmentation, ICMP (RFC 792) and a minimal UDP (RFC 768).
 *
 * Sans-I/O: frames come in through net_input(), frames to send collect in
 * net->out, time is passed in. Transport protocols above register handlers
 * in net->proto; net/ never includes anything from tcp/ or above. */
#ifndef SYNACK_NET_NET_H
#define SYNACK_NET_NET_H

#include <stdint.h>

#include "core/pkt.h"
#include "core/stats.h"
#include "core/timer_wheel.h"
#include "link/link.h"
#include "synack/config.h"
#include "synack/synack.h"
#include "wire/ip4.h"

/* What an upper protocol gets for each datagram addressed to us. */
struct proto_handler {
    /* Consumes @p, whose data is the transport header and payload (exactly
     * the IPv4 payload). @ip describes the datagram it came in. */
    void (*input)(void *ctx, struct pkt *p, const struct ip4_hdr *ip, sn_time now);
    /* An ICMP error about a datagram we sent: @inner points to its IPv4
     * header and what ICMP quoted of it (@len bytes, at least header + 8).
     * Borrowed for the call only. May be NULL. */
    void (*icmp_error)(void *ctx, uint8_t type, uint8_t code, const uint8_t *inner, size_t len,
                       sn_time now);
    void *ctx;
};

/* A handler for UDP datagrams to one port (services, tests). Consumes @p
 * (data = UDP payload). */
typedef void (*udp_handler)(void *ctx, struct pkt *p, uint32_t src, uint16_t sport,
                            uint16_t dport, sn_time now);

#define UDP_MAX_BINDS 8

struct arp_entry;
struct reass_dgram;

struct arp_cache {
    struct arp_entry *entries;   /* cfg->arp_cache_size of them */
    struct arp_entry **buckets;  /* hash of IPv4 address */
    struct arp_entry *free_list;
    uint32_t n_buckets;          /* power of two */
    uint32_t n_used;
};

struct ip4_reass {
    struct reass_dgram *dgrams;  /* cfg->reass_max_datagrams slots */
    uint32_t n_active;
    uint64_t bytes_held;
};

struct net {
    const struct sn_config *cfg;
    struct sn_stats *st;
    struct timer_wheel *tw;
    struct pkt_pool *rx, *tx, *big;

    enum link_kind kind;
    uint8_t mac[6];
    uint32_t addr, mask, gateway; /* host order; gateway 0 = none */
    uint32_t mtu;                 /* largest IPv4 datagram on the link */
    uint32_t offload;             /* SN_OFFLOAD_* the link does (TSO implies CSUM) */
    uint16_t next_ip_id;

    struct arp_cache arp;
    struct ip4_reass reass;

    /* ICMP error token bucket (RFC 1812 4.3.2.8 / RFC 1122 3.2.2). */
    uint32_t icmp_tokens;
    sn_time icmp_refill;

    struct proto_handler proto[256];
    struct {
        uint16_t port;
        udp_handler fn;
        void *ctx;
    } udp[UDP_MAX_BINDS];

    struct pkt_queue out; /* frames for the link, in order */
};

struct net_iface {
    enum link_kind kind;
    uint8_t mac[6];
    uint32_t addr;
    uint8_t prefix_len;
    uint32_t gateway;
    uint32_t mtu;
    uint32_t offload; /* SN_OFFLOAD_* */
};

/* Sets up @n; allocates the ARP cache and reassembly slots. Returns 0 or
 * -ENOMEM. Sends a gratuitous ARP (RFC 5227 announcement) on Ethernet. */
int net_init(struct net *n, const struct sn_config *cfg, struct sn_stats *st,
             struct timer_wheel *tw, struct pkt_pool *rx, struct pkt_pool *tx,
             struct pkt_pool *big, const struct net_iface *ifc, sn_time now);

/* Frees everything @n holds (queued frames included). */
void net_free(struct net *n);

/* A frame (LINK_ETH) or IPv4 packet (LINK_IP) from the link. Consumes it. */
void net_input(struct net *n, struct pkt *frame, sn_time now);

/* The next frame to hand to the link, now owned by the caller, or NULL. */
static inline struct pkt *net_output(struct net *n) { return pktq_pop(&n->out); }

/* Sends the transport segment in @p (data = transport header) to @dst. The
 * checksum of the transport header must already be filled in (or left to
 * the link: p->off.csum_partial). Adds the IPv4 header (source = our
 * address), routes, fragments when larger than the MTU (not a TSO
 * super-frame, p->off.gso_type: the link cuts that), resolves the next hop.
 * Consumes @p. Returns 0, or a negative errno (-EHOSTUNREACH no route,
 * -ENOBUFS no buffer); it was counted. */
int ip4_output(struct net *n, struct pkt *p, uint32_t dst, uint8_t proto, sn_time now);

/* The next hop toward @dst (on-link: @dst itself; else the gateway), or 0
 * when there is no route. */
uint32_t ip4_route(const struct net *n, uint32_t dst);

/* The packet to @dst would leave with this source address and path MTU. */
static inline uint32_t net_src_addr(const struct net *n) { return n->addr; }
uint32_t net_path_mtu(const struct net *n, uint32_t dst);

/* A new transmit buffer with room for every header below transport, or NULL
 * (counted as a NOMEM drop). */
struct pkt *net_alloc_tx(struct net *n);

/* A 64 KiB transmit buffer for a TSO super-frame, or NULL when none is free
 * (not counted as a drop: the caller sends MSS-sized segments instead). */
struct pkt *net_alloc_tx_big(struct net *n);

/* Binds @fn to UDP @port. Returns 0, -EADDRINUSE or -ENOSPC. */
int udp_bind(struct net *n, uint16_t port, udp_handler fn, void *ctx);
/* Sends @p (data = payload) from @sport to @dst:@dport. Consumes @p. */
int udp_output(struct net *n, struct pkt *p, uint16_t sport, uint32_t dst, uint16_t dport,
               sn_time now);

/* Internal to net/: one function per file, wired by net.c. */
void arp_input(struct net *n, struct pkt *p, sn_time now);
int arp_cache_init(struct net *n);
void arp_cache_free(struct net *n);
void arp_announce(struct net *n, sn_time now);
/* Hands an IPv4 packet to the link toward @next_hop. Consumes @p. */
void net_xmit_ip4(struct net *n, struct pkt *p, uint32_t next_hop, sn_time now);
/* Looks up @ip; 1 and *mac when resolved. */
int arp_cache_lookup(struct net *n, uint32_t ip, uint8_t mac[6]);
/* Learns @ip's MAC from a datagram it sent (cfg->arp_glean). */
void arp_glean(struct net *n, uint32_t ip, const uint8_t mac[6], sn_time now);

void ip4_input(struct net *n, struct pkt *p, sn_time now);
/* Delivers a complete datagram (data = IPv4 header) to its protocol.
 * Consumes @p. */
void ip4_deliver(struct net *n, struct pkt *p, const struct ip4_hdr *ip, sn_time now);

int ip4_reass_init(struct net *n);
void ip4_reass_free(struct net *n);
/* Takes a fragment (data = IPv4 header); when it completes a datagram,
 * delivers it. Consumes @p. */
void ip4_reass_input(struct net *n, struct pkt *p, const struct ip4_hdr *ip, sn_time now);

void icmp4_input(void *ctx, struct pkt *p, const struct ip4_hdr *ip, sn_time now);
/* Sends an ICMP error about the datagram in @orig (data = its IPv4
 * header), rate limited and never about ICMP errors, broadcasts or
 * non-first fragments (RFC 1122 3.2.2). Borrows @orig. */
void icmp4_send_error(struct net *n, const struct pkt *orig, uint8_t type, uint8_t code,
                      sn_time now);

void udp_input(void *ctx, struct pkt *p, const struct ip4_hdr *ip, sn_time now);

#endif
