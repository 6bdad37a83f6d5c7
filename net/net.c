/* net/net.c: setting up the network layer, Ethernet II dispatch, and the
 * hand-off of finished frames to the output queue. */
#include <errno.h>
#include <string.h>

#include "net/net.h"
#include "wire/eth.h"

int net_init(struct net *n, const struct sn_config *cfg, struct sn_stats *st,
             struct timer_wheel *tw, struct pkt_pool *rx, struct pkt_pool *tx,
             struct pkt_pool *big, const struct net_iface *ifc, sn_time now)
{
    memset(n, 0, sizeof(*n));
    n->cfg = cfg;
    n->st = st;
    n->tw = tw;
    n->rx = rx;
    n->tx = tx;
    n->big = big;
    n->kind = ifc->kind;
    memcpy(n->mac, ifc->mac, 6);
    n->addr = ifc->addr;
    n->mask = ip4_prefix_mask(ifc->prefix_len);
    n->gateway = ifc->gateway;
    n->mtu = ifc->mtu;
    n->offload = ifc->offload;
    n->icmp_tokens = cfg->icmp_burst;
    n->icmp_refill = now;
    pktq_init(&n->out);
    n->proto[IP4_PROTO_ICMP] = (struct proto_handler){icmp4_input, NULL, n};
    n->proto[IP4_PROTO_UDP] = (struct proto_handler){udp_input, NULL, n};
    if (arp_cache_init(n) < 0 || ip4_reass_init(n) < 0) {
        net_free(n);
        return -ENOMEM;
    }
    if (n->kind == LINK_ETH)
        arp_announce(n, now);
    return 0;
}

void net_free(struct net *n)
{
    arp_cache_free(n);
    ip4_reass_free(n);
    pktq_purge(&n->out);
}

static int mac_is_ours(const struct net *n, const uint8_t *dst)
{
    return memcmp(dst, n->mac, 6) == 0 || eth_is_broadcast(dst);
}

static void eth_input(struct net *n, struct pkt *p, sn_time now)
{
    struct eth_view eth;
    if (eth_view_parse(&eth, p->data, p->len) != 0) {
        pkt_drop(n->st, p, SN_DROP_ETH_SHORT);
        return;
    }
    if (!mac_is_ours(n, eth_v_dst(eth))) {
        pkt_drop(n->st, p, SN_DROP_ETH_NOT_FOR_US);
        return;
    }
    uint16_t type = eth_v_type(eth);
    STAT_INC(n->st, eth, rx_frames);
    pkt_pull(p, ETH_HDR_LEN);
    switch (type) {
    case ETHERTYPE_IPV4:
        ip4_input(n, p, now);
        break;
    case ETHERTYPE_ARP:
        arp_input(n, p, now);
        break;
    default:
        pkt_drop(n->st, p, SN_DROP_ETH_UNKNOWN_TYPE);
    }
}

void net_input(struct net *n, struct pkt *frame, sn_time now)
{
    if (n->kind == LINK_ETH)
        eth_input(n, frame, now);
    else
        ip4_input(n, frame, now);
}

struct pkt *net_alloc_tx(struct net *n)
{
    struct pkt *p = pkt_alloc(n->tx, PKT_HEADROOM);
    if (!p)
        pkt_drop(n->st, NULL, SN_DROP_NOMEM);
    return p;
}

struct pkt *net_alloc_tx_big(struct net *n)
{
    return pkt_alloc(n->big, PKT_HEADROOM);
}

uint32_t net_path_mtu(const struct net *n, uint32_t dst)
{
    (void)dst; /* one link, one MTU; PMTU discovery would refine this per path */
    return n->mtu;
}
