/* net/icmp4.c: ICMP (RFC 792, RFC 1122 3.2.2): echo replies carrying the
 * request's exact payload, rate-limited destination unreachable, and
 * errors about our own datagrams passed up to their protocol. */
#include <string.h>

#include "core/bytes.h"
#include "net/net.h"
#include "wire/icmp4.h"
#include "wire/wire.h"

/* RFC 1812 4.3.2.8 / RFC 1122 3.2.2: errors are rate limited; a token
 * bucket of cfg->icmp_burst refilled at cfg->icmp_rate_per_s. */
static int ratelimit_allow(struct net *n, sn_time now)
{
    uint32_t rate = n->cfg->icmp_rate_per_s;
    if (rate) {
        sn_time per_token = SN_SEC(1) / rate;
        sn_time earned = (now - n->icmp_refill) / per_token;
        if (earned > 0) {
            uint64_t t = n->icmp_tokens + (uint64_t)earned;
            n->icmp_tokens = t > n->cfg->icmp_burst ? n->cfg->icmp_burst : (uint32_t)t;
            n->icmp_refill += earned * per_token;
        }
    }
    if (n->icmp_tokens == 0)
        return 0;
    n->icmp_tokens--;
    return 1;
}

static int is_icmp_error_type(uint8_t type)
{
    return type == ICMP4_DEST_UNREACH || type == 4 || type == 5 || type == ICMP4_TIME_EXCEEDED ||
           type == 12;
}

/* RFC 1122 3.2.2: never answer an ICMP error, a datagram to a broadcast or
 * multicast address, a non-first fragment, or one whose source does not
 * name a single host. */
static int error_allowed(const struct net *n, const struct pkt *orig, const struct ip4_hdr *ip)
{
    if (ip->proto == IP4_PROTO_ICMP) {
        if (orig->len <= ip->hdr_len || is_icmp_error_type(orig->data[ip->hdr_len]))
            return 0;
    }
    uint32_t bcast = n->addr | ~n->mask;
    if (ip->dst == 0xffffffffu || ip->dst == bcast || (ip->dst >> 28) == 0xe)
        return 0;
    if (ip4_frag_off(ip) != 0)
        return 0;
    return ip->src != 0 && ip->src != 0xffffffffu && ip->src != bcast && (ip->src >> 28) != 0xe;
}

void icmp4_send_error(struct net *n, const struct pkt *orig, uint8_t type, uint8_t code,
                      sn_time now)
{
    struct ip4_hdr ip;
    if (ip4_parse(&ip, orig->data, orig->len) != 0 || !error_allowed(n, orig, &ip))
        return;
    if (!ratelimit_allow(n, now)) {
        pkt_drop(n->st, NULL, SN_DROP_ICMP_RATELIMIT);
        return;
    }
    struct pkt *p = net_alloc_tx(n);
    if (!p)
        return;
    /* RFC 1812 4.3.2.3: quote as much as fits in a 576-byte datagram. */
    uint32_t quoted = orig->len < 576 - IP4_HDR_LEN - ICMP4_HDR_LEN
                          ? orig->len
                          : 576 - IP4_HDR_LEN - ICMP4_HDR_LEN;
    uint8_t *b = pkt_put(p, ICMP4_HDR_LEN + quoted);
    memcpy(b + ICMP4_HDR_LEN, orig->data, quoted);
    icmp4_build(b, ICMP4_HDR_LEN + quoted, &(struct icmp4_hdr){.type = type, .code = code});
    if (type == ICMP4_DEST_UNREACH)
        STAT_INC(n->st, icmp, tx_unreach);
    ip4_output(n, p, ip.src, IP4_PROTO_ICMP, now);
}

/* An error about a datagram we sent goes to the protocol that sent it. */
static void error_input(struct net *n, struct pkt *p, const struct icmp4_hdr *h, sn_time now)
{
    const uint8_t *inner = p->data + ICMP4_HDR_LEN;
    size_t len = p->len - ICMP4_HDR_LEN;
    /* The quote must hold a whole IPv4 header (IHL >= 5) and the 8 bytes
     * after it (RFC 792) that name the transport connection. */
    if (len < IP4_HDR_LEN || inner[0] >> 4 != 4 || (inner[0] & 15) < 5 ||
        (size_t)(inner[0] & 15) * 4 + 8 > len) {
        pkt_drop(n->st, p, SN_DROP_ICMP_SHORT);
        return;
    }
    const struct proto_handler *ph = &n->proto[inner[9]];
    if (ph->icmp_error)
        ph->icmp_error(ph->ctx, h->type, h->code, inner, len, now);
    pkt_free(p);
}

static void echo_reply(struct net *n, struct pkt *p, const struct ip4_hdr *ip, sn_time now)
{
    STAT_INC(n->st, icmp, rx_echo_requests);
    if (ip->dst != n->addr) {
        /* RFC 1122 3.2.2.6: echo to a broadcast address may be ignored. */
        pkt_drop(n->st, p, SN_DROP_ICMP_UNHANDLED);
        return;
    }
    /* Reply in place: same identifier, sequence number and payload. */
    struct icmp4_hdr h = {.type = ICMP4_ECHO_REPLY, .code = 0, .rest = rd32(p->data + 4)};
    icmp4_build(p->data, p->len, &h);
    STAT_INC(n->st, icmp, tx_echo_replies);
    ip4_output(n, p, ip->src, IP4_PROTO_ICMP, now);
}

void icmp4_input(void *ctx, struct pkt *p, const struct ip4_hdr *ip, sn_time now)
{
    struct net *n = ctx;
    struct icmp4_hdr h;
    int err = icmp4_parse(&h, p->data, p->len);
    if (err) {
        pkt_drop(n->st, p, err == WIRE_EBADCSUM ? SN_DROP_ICMP_BAD_CSUM : SN_DROP_ICMP_SHORT);
        return;
    }
    STAT_INC(n->st, icmp, rx_msgs);
    switch (h.type) {
    case ICMP4_ECHO_REQUEST:
        echo_reply(n, p, ip, now);
        break;
    case ICMP4_DEST_UNREACH:
        STAT_INC(n->st, icmp, rx_unreach);
        error_input(n, p, &h, now);
        break;
    case ICMP4_TIME_EXCEEDED:
        error_input(n, p, &h, now);
        break;
    default:
        pkt_drop(n->st, p, SN_DROP_ICMP_UNHANDLED);
    }
}
