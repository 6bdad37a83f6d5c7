/* net/ip4_in.c: IPv4 input (RFC 791 3.2, RFC 1122 3.2.1): validate the
 * header, drop what is not ours, reassemble fragments, hand the payload to
 * the protocol. */
#include "net/net.h"
#include "wire/icmp4.h"
#include "wire/csum.h"
#include "wire/wire.h"

static enum sn_drop parse_error_reason(int err)
{
    switch (err) {
    case WIRE_EBADVER: return SN_DROP_IP4_BAD_VERSION;
    case WIRE_EBADHDR: return SN_DROP_IP4_BAD_IHL;
    case WIRE_EBADLEN: return SN_DROP_IP4_BAD_LEN;
    default: return SN_DROP_IP4_SHORT;
    }
}

static int is_broadcast(const struct net *n, uint32_t a)
{
    return a == 0xffffffffu || (n->mask != 0xffffffffu && a == (n->addr | ~n->mask));
}

/* RFC 1122 3.2.1.3: a source that is broadcast, multicast, ours (a
 * looped-back spoof), "this host" 0.0.0.0 ((a): only for bootstrapping,
 * which we do not serve) or loopback 127/8 ((g): never outside a host) is
 * discarded. */
static int bad_source(const struct net *n, uint32_t src)
{
    return is_broadcast(n, src) || (src >> 28) == 0xe || src == n->addr || src == 0 ||
           (src >> 24) == 127;
}

void ip4_input(struct net *n, struct pkt *p, sn_time now)
{
    struct ip4_hdr ip;
    int err = ip4_parse(&ip, p->data, p->len);
    if (err) {
        pkt_drop(n->st, p, parse_error_reason(err));
        return;
    }
    STAT_INC(n->st, ip4, rx_packets);
    if (!p->off.csum_valid && !ip4_csum_ok(p->data, ip.hdr_len)) {
        pkt_drop(n->st, p, SN_DROP_IP4_BAD_CSUM);
        return;
    }
    /* RFC 1122 3.2.1.7: TTL 0 must never be sent, so such a datagram is bogus. */
    if (ip.ttl == 0) {
        pkt_drop(n->st, p, SN_DROP_IP4_TTL_ZERO);
        return;
    }
    if (ip.dst != n->addr && !is_broadcast(n, ip.dst)) {
        pkt_drop(n->st, p, SN_DROP_IP4_NOT_FOR_US);
        return;
    }
    if (bad_source(n, ip.src)) {
        pkt_drop(n->st, p, SN_DROP_IP4_BAD_SRC);
        return;
    }
    /* The Ethernet header eth_input pulled is still in front of the data. */
    if (n->cfg->arp_glean && n->kind == LINK_ETH && (ip.src & n->mask) == (n->addr & n->mask) &&
        pkt_headroom(p) >= 14)
        arp_glean(n, ip.src, p->data - 14 + 6, now);
    pkt_trim(p, ip.total_len); /* Ethernet pads short frames */
    if (ip.hdr_len > IP4_HDR_LEN)
        STAT_INC(n->st, ip4, rx_options); /* options are skipped with the header */
    if (ip4_is_fragment(&ip)) {
        STAT_INC(n->st, ip4, frag_rx);
        ip4_reass_input(n, p, &ip, now);
        return;
    }
    ip4_deliver(n, p, &ip, now);
}

void ip4_deliver(struct net *n, struct pkt *p, const struct ip4_hdr *ip, sn_time now)
{
    const struct proto_handler *h = &n->proto[ip->proto];
    if (!h->input) {
        icmp4_send_error(n, p, ICMP4_DEST_UNREACH, ICMP4_UNREACH_PROTO, now);
        pkt_drop(n->st, p, SN_DROP_IP4_UNKNOWN_PROTO);
        return;
    }
    STAT_INC(n->st, ip4, rx_delivered);
    pkt_pull(p, ip->hdr_len);
    h->input(h->ctx, p, ip, now);
}
