/* net/udp.c: a minimal UDP (RFC 768): checksum, per-port handlers, and
 * ICMP port unreachable for ports nobody listens on (RFC 1122 4.1.3.1). */
#include <errno.h>

#include "core/bytes.h"
#include "net/net.h"
#include "wire/csum.h"
#include "wire/icmp4.h"

#define UDP_HDR_LEN 8

int udp_bind(struct net *n, uint16_t port, udp_handler fn, void *ctx)
{
    int free_slot = -1;
    for (int i = 0; i < UDP_MAX_BINDS; i++) {
        if (n->udp[i].fn && n->udp[i].port == port)
            return -EADDRINUSE;
        if (!n->udp[i].fn && free_slot < 0)
            free_slot = i;
    }
    if (free_slot < 0)
        return -ENOSPC;
    n->udp[free_slot].port = port;
    n->udp[free_slot].fn = fn;
    n->udp[free_slot].ctx = ctx;
    return 0;
}

void udp_input(void *ctx, struct pkt *p, const struct ip4_hdr *ip, sn_time now)
{
    struct net *n = ctx;
    uint16_t len = p->len >= UDP_HDR_LEN ? rd16(p->data + 4) : 0;
    if (len < UDP_HDR_LEN || len > p->len) {
        pkt_drop(n->st, p, SN_DROP_UDP_SHORT);
        return;
    }
    pkt_trim(p, len);
    /* RFC 768: a zero checksum means the sender computed none. */
    if (rd16(p->data + 6) != 0 && !pkt_l4_csum_trusted(p, 6) &&
        csum_fold(csum_add(csum_pseudo4(ip->src, ip->dst, IP4_PROTO_UDP, len), p->data, len)) != 0) {
        pkt_drop(n->st, p, SN_DROP_UDP_BAD_CSUM);
        return;
    }
    STAT_INC(n->st, udp, rx_datagrams);
    uint16_t sport = rd16(p->data), dport = rd16(p->data + 2);
    for (int i = 0; i < UDP_MAX_BINDS; i++) {
        if (n->udp[i].fn && n->udp[i].port == dport) {
            pkt_pull(p, UDP_HDR_LEN);
            n->udp[i].fn(n->udp[i].ctx, p, ip->src, sport, dport, now);
            return;
        }
    }
    if (ip->dst == n->addr) {
        pkt_push(p, ip->hdr_len); /* the quoted datagram starts at its IPv4 header */
        icmp4_send_error(n, p, ICMP4_DEST_UNREACH, ICMP4_UNREACH_PORT, now);
    }
    pkt_drop(n->st, p, SN_DROP_UDP_NO_PORT);
}

int udp_output(struct net *n, struct pkt *p, uint16_t sport, uint32_t dst, uint16_t dport,
               sn_time now)
{
    uint8_t *h = pkt_push(p, UDP_HDR_LEN);
    if (!h || p->len > 0xffff) {
        pkt_drop(n->st, p, SN_DROP_NOMEM);
        return -EMSGSIZE;
    }
    uint16_t len = (uint16_t)p->len;
    wr16(h, sport);
    wr16(h + 2, dport);
    wr16(h + 4, len);
    wr16(h + 6, 0);
    uint16_t sum = csum_fold(csum_add(csum_pseudo4(n->addr, dst, IP4_PROTO_UDP, len), h, len));
    wr16(h + 6, sum ? sum : 0xffff);
    STAT_INC(n->st, udp, tx_datagrams);
    return ip4_output(n, p, dst, IP4_PROTO_UDP, now);
}
