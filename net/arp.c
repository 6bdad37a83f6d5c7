/* net/arp.c: the ARP cache and protocol (RFC 826) for IPv4 over Ethernet.
 *
 * Entries are preallocated and hashed by address. An unresolved entry holds
 * a bounded queue of packets waiting for the answer and retries its request
 * a bounded number of times; a resolved entry expires after
 * cfg->arp_timeout_ms. Each entry carries its own timer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/container.h"
#include "net/net.h"
#include "wire/arp.h"
#include "wire/eth.h"

enum arp_state { ARP_FREE, ARP_INCOMPLETE, ARP_RESOLVED };

struct arp_entry {
    struct arp_entry *next; /* hash chain or free list */
    struct net *net;
    uint32_t ip;
    uint8_t mac[6];
    uint8_t state;
    uint8_t tries;
    struct pkt_queue pending; /* packets (data = IPv4 header) awaiting resolution */
    struct tw_entry timer;    /* retry while incomplete, expiry when resolved */
};

static uint32_t bucket_of(const struct arp_cache *c, uint32_t ip)
{
    return (ip * 2654435761u) >> 7 & (c->n_buckets - 1);
}

static void entry_timer(struct tw_entry *t, sn_time now);

int arp_cache_init(struct net *n)
{
    struct arp_cache *c = &n->arp;
    uint32_t size = n->cfg->arp_cache_size;
    c->n_buckets = 1;
    while (c->n_buckets < size)
        c->n_buckets <<= 1;
    c->entries = calloc(size, sizeof(*c->entries));
    c->buckets = calloc(c->n_buckets, sizeof(*c->buckets));
    if (!c->entries || !c->buckets)
        return -ENOMEM;
    for (uint32_t i = size; i-- > 0;) {
        struct arp_entry *e = &c->entries[i];
        e->net = n;
        pktq_init(&e->pending);
        tw_entry_init(&e->timer, entry_timer);
        e->next = c->free_list;
        c->free_list = e;
    }
    return 0;
}

void arp_cache_free(struct net *n)
{
    struct arp_cache *c = &n->arp;
    if (c->entries)
        for (uint32_t i = 0; i < n->cfg->arp_cache_size; i++) {
            pktq_purge(&c->entries[i].pending);
            tw_cancel(n->tw, &c->entries[i].timer);
        }
    free(c->entries);
    free(c->buckets);
    memset(c, 0, sizeof(*c));
}

static struct arp_entry *lookup(struct arp_cache *c, uint32_t ip)
{
    for (struct arp_entry *e = c->buckets[bucket_of(c, ip)]; e; e = e->next)
        if (e->ip == ip)
            return e;
    return NULL;
}

static void entry_release(struct net *n, struct arp_entry *e, enum sn_drop why)
{
    struct arp_cache *c = &n->arp;
    struct arp_entry **pp = &c->buckets[bucket_of(c, e->ip)];
    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    struct pkt *p;
    while ((p = pktq_pop(&e->pending)))
        pkt_drop(n->st, p, why);
    tw_cancel(n->tw, &e->timer);
    e->state = ARP_FREE;
    e->next = c->free_list;
    c->free_list = e;
    c->n_used--;
}

/* A free entry; when the cache is full, the resolved entry closest to
 * expiry is recycled (incomplete ones are kept: they hold packets). */
static struct arp_entry *entry_new(struct net *n, uint32_t ip)
{
    struct arp_cache *c = &n->arp;
    if (!c->free_list) {
        struct arp_entry *victim = NULL;
        for (uint32_t i = 0; i < n->cfg->arp_cache_size; i++) {
            struct arp_entry *e = &c->entries[i];
            if (e->state == ARP_RESOLVED && (!victim || e->timer.deadline < victim->timer.deadline))
                victim = e;
        }
        if (!victim)
            return NULL;
        entry_release(n, victim, SN_DROP_ARP_UNRESOLVED);
    }
    struct arp_entry *e = c->free_list;
    c->free_list = e->next;
    e->ip = ip;
    e->tries = 0;
    uint32_t b = bucket_of(c, ip);
    e->next = c->buckets[b];
    c->buckets[b] = e;
    c->n_used++;
    return e;
}

static void arp_send(struct net *n, uint16_t op, const uint8_t *eth_dst, const uint8_t *tha,
                     uint32_t tpa, sn_time now)
{
    (void)now;
    struct pkt *p = net_alloc_tx(n);
    if (!p)
        return;
    struct arp_msg m = {.op = op, .spa = n->addr, .tpa = tpa};
    memcpy(m.sha, n->mac, 6);
    memcpy(m.tha, tha, 6);
    arp_build(pkt_put(p, ARP_LEN), &m);
    eth_build(pkt_push(p, ETH_HDR_LEN), eth_dst, n->mac, ETHERTYPE_ARP);
    pktq_push(&n->out, p);
}

static void send_request(struct net *n, struct arp_entry *e, sn_time now)
{
    static const uint8_t zero[6];
    e->tries++;
    arp_send(n, ARP_OP_REQUEST, eth_broadcast, zero, e->ip, now);
    STAT_INC(n->st, arp, tx_requests);
    tw_arm(n->tw, &e->timer, now + SN_MSEC(n->cfg->arp_retry_ms));
}

void arp_announce(struct net *n, sn_time now)
{
    static const uint8_t zero[6];
    /* RFC 5227 3: an announcement is a request with SPA = TPA = our address. */
    arp_send(n, ARP_OP_REQUEST, eth_broadcast, zero, n->addr, now);
    STAT_INC(n->st, arp, tx_gratuitous);
}

static void entry_timer(struct tw_entry *t, sn_time now)
{
    struct arp_entry *e = container_of(t, struct arp_entry, timer);
    struct net *n = e->net;
    if (e->state == ARP_RESOLVED) {
        STAT_INC(n->st, arp, cache_expired);
        entry_release(n, e, SN_DROP_ARP_UNRESOLVED);
    } else if (e->tries >= n->cfg->arp_retries) {
        entry_release(n, e, SN_DROP_ARP_UNRESOLVED);
    } else {
        send_request(n, e, now);
    }
}

static void push_eth(struct net *n, struct pkt *p, const uint8_t *dst)
{
    eth_build(pkt_push(p, ETH_HDR_LEN), dst, n->mac, ETHERTYPE_IPV4);
    pktq_push(&n->out, p);
}

static void resolved(struct net *n, struct arp_entry *e, const uint8_t *mac, sn_time now)
{
    memcpy(e->mac, mac, 6);
    e->state = ARP_RESOLVED;
    tw_arm(n->tw, &e->timer, now + SN_MSEC(n->cfg->arp_timeout_ms));
    struct pkt *p;
    while ((p = pktq_pop(&e->pending)))
        push_eth(n, p, e->mac);
}

/* lwIP's ETHARP_TRUST_IP_MAC: with several instances on one multi-queue
 * TAP, the ARP reply to one instance's request may reach another one (tun
 * steers it by the flow of the last ARP frame sent), but the peer's own
 * datagrams reach the instance they are for: learn its MAC from them. Not
 * refreshed while unchanged (one per datagram would cost a timer each). */
void arp_glean(struct net *n, uint32_t ip, const uint8_t mac[6], sn_time now)
{
    struct arp_entry *e = lookup(&n->arp, ip);
    if (e && e->state == ARP_RESOLVED && memcmp(e->mac, mac, 6) == 0)
        return;
    if (e || (e = entry_new(n, ip)))
        resolved(n, e, mac, now);
}

int arp_cache_lookup(struct net *n, uint32_t ip, uint8_t mac[6])
{
    struct arp_entry *e = lookup(&n->arp, ip);
    if (!e || e->state != ARP_RESOLVED)
        return 0;
    memcpy(mac, e->mac, 6);
    return 1;
}

void net_xmit_ip4(struct net *n, struct pkt *p, uint32_t next_hop, sn_time now)
{
    if (n->kind == LINK_IP) {
        pktq_push(&n->out, p);
        return;
    }
    if (next_hop == 0xffffffffu || (n->mask != 0xffffffffu && next_hop == (n->addr | ~n->mask))) {
        push_eth(n, p, eth_broadcast);
        return;
    }
    struct arp_entry *e = lookup(&n->arp, next_hop);
    if (e && e->state == ARP_RESOLVED) {
        push_eth(n, p, e->mac);
        return;
    }
    if (!e) {
        e = entry_new(n, next_hop);
        if (!e) {
            pkt_drop(n->st, p, SN_DROP_ARP_QUEUE_FULL);
            return;
        }
        e->state = ARP_INCOMPLETE;
        send_request(n, e, now);
    }
    if (e->pending.n >= n->cfg->arp_queue_max) {
        /* Keep the newest: TCP retransmits the old ones anyway. */
        pkt_drop(n->st, pktq_pop(&e->pending), SN_DROP_ARP_QUEUE_FULL);
    }
    pktq_push(&e->pending, p);
}

void arp_input(struct net *n, struct pkt *p, sn_time now)
{
    struct arp_msg m;
    if (arp_parse(&m, p->data, p->len) != 0) {
        pkt_drop(n->st, p, SN_DROP_ARP_MALFORMED);
        return;
    }
    if (m.op == ARP_OP_REQUEST)
        STAT_INC(n->st, arp, rx_requests);
    else if (m.op == ARP_OP_REPLY)
        STAT_INC(n->st, arp, rx_replies);
    else {
        pkt_drop(n->st, p, SN_DROP_ARP_MALFORMED);
        return;
    }
    /* RFC 826 "packet reception": update an existing entry for the sender
     * first (merge_flag); add one only if the packet is for us. */
    struct arp_entry *e = m.spa ? lookup(&n->arp, m.spa) : NULL;
    if (e)
        resolved(n, e, m.sha, now);
    if (m.tpa != n->addr || m.spa == n->addr) {
        pkt_drop(n->st, p, SN_DROP_ARP_NOT_FOR_US);
        return;
    }
    if (!e && m.spa && (e = entry_new(n, m.spa)))
        resolved(n, e, m.sha, now);
    if (m.op == ARP_OP_REQUEST) {
        arp_send(n, ARP_OP_REPLY, m.sha, m.sha, m.spa, now);
        STAT_INC(n->st, arp, tx_replies);
    }
    pkt_free(p);
}
