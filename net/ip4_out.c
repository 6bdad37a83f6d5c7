/* net/ip4_out.c: IPv4 output: header, route (on-link or default gateway),
 * fragmentation when the datagram exceeds the MTU (RFC 791 3.2, "An Example
 * Fragmentation Procedure"). */
#include <errno.h>
#include <string.h>

#include "net/net.h"

/* The next hop for @dst, or 0 when there is no route. */
uint32_t ip4_route(const struct net *n, uint32_t dst)
{
    if ((dst & n->mask) == (n->addr & n->mask) || dst == 0xffffffffu)
        return dst;
    return n->gateway;
}

/* Sends the datagram in @p (data = IPv4 header, @hdr) as fragments of at
 * most the MTU; every fragment but the last carries a multiple of 8 bytes.
 * Consumes @p. */
static int fragment(struct net *n, struct pkt *p, const struct ip4_hdr *hdr, uint32_t next_hop,
                    sn_time now)
{
    uint32_t payload = p->len - IP4_HDR_LEN;
    uint32_t chunk = (n->mtu - IP4_HDR_LEN) & ~7u;
    const uint8_t *data = p->data + IP4_HDR_LEN;
    int ret = 0;
    for (uint32_t off = 0; off < payload; off += chunk) {
        uint32_t len = payload - off < chunk ? payload - off : chunk;
        struct pkt *f = net_alloc_tx(n);
        if (!f) {
            ret = -ENOBUFS;
            break;
        }
        struct ip4_hdr fh = *hdr;
        fh.total_len = (uint16_t)(IP4_HDR_LEN + len);
        fh.frag = (uint16_t)((hdr->frag & ~IP4_FRAG_MASK) | (off / 8));
        if (off + len < payload)
            fh.frag |= IP4_FLAG_MF;
        uint8_t *b = pkt_put(f, IP4_HDR_LEN + len);
        ip4_build(b, &fh);
        memcpy(b + IP4_HDR_LEN, data + off, len);
        STAT_INC(n->st, ip4, frag_created);
        STAT_INC(n->st, ip4, tx_packets);
        net_xmit_ip4(n, f, next_hop, now);
    }
    if (!ret)
        STAT_INC(n->st, ip4, frag_ok);
    pkt_free(p);
    return ret;
}

int ip4_output(struct net *n, struct pkt *p, uint32_t dst, uint8_t proto, sn_time now)
{
    uint32_t next_hop = ip4_route(n, dst);
    if (!next_hop) {
        pkt_drop(n->st, p, SN_DROP_IP4_NO_ROUTE);
        return -EHOSTUNREACH;
    }
    if (p->len + IP4_HDR_LEN > 0xffff) {
        pkt_drop(n->st, p, SN_DROP_IP4_FRAG_TOO_BIG);
        return -EMSGSIZE;
    }
    struct ip4_hdr h = {
        .total_len = (uint16_t)(p->len + IP4_HDR_LEN),
        .id = n->next_ip_id++,
        .ttl = (uint8_t)n->cfg->ip_ttl,
        .proto = proto,
        .src = n->addr,
        .dst = dst,
    };
    uint8_t *b = pkt_push(p, IP4_HDR_LEN);
    if (!b) {
        pkt_drop(n->st, p, SN_DROP_NOMEM);
        return -ENOBUFS;
    }
    if (p->off.gso_type) {
        /* The link cuts a TSO super-frame into segments whose IDs count up
         * from this one (Linux inet_gso_segment): skip those IDs. */
        uint32_t tcp_hdr = (uint32_t)(p->data[IP4_HDR_LEN + 12] >> 4) * 4;
        uint32_t payload = h.total_len - IP4_HDR_LEN - tcp_hdr;
        uint32_t segs = p->off.gso_size ? (payload + p->off.gso_size - 1) / p->off.gso_size : 1;
        n->next_ip_id = (uint16_t)(n->next_ip_id + (segs > 1 ? segs - 1 : 0));
    } else if (h.total_len > n->mtu) {
        return fragment(n, p, &h, next_hop, now);
    }
    ip4_build(b, &h);
    STAT_INC(n->st, ip4, tx_packets);
    net_xmit_ip4(n, p, next_hop, now);
    return 0;
}
