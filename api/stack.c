/* api/stack.c: creating a stack instance and the four sans-I/O calls that
 * drive it (input, output, advance, next deadline). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/stack_impl.h"
#include "core/ring.h"

#define RX_BUF_SIZE(mtu) ((mtu) + 14 + PKT_HEADROOM)
#define BIG_BUF_SIZE (65536 + PKT_HEADROOM)
/* With offloads the link may hand over a 64 KiB super-frame (an IPv4
 * datagram of up to 65535 bytes) behind an Ethernet header and a VLAN tag. */
#define RX_OFFLOAD_BUF_SIZE (65536 + 64 + PKT_HEADROOM)

static int opts_valid(const struct sn_stack_opts *o)
{
    return o->mtu >= 576 && o->mtu <= 65535 && o->prefix_len <= 32 && o->addr != 0 &&
           (o->link == SN_LINK_ETH || o->link == SN_LINK_IP) &&
           !(o->offload & ~(SN_OFFLOAD_CSUM | SN_OFFLOAD_TSO));
}

int sn_stack_new(const struct sn_stack_opts *o, sn_time_us now, struct sn_stack **out)
{
    if (!opts_valid(o))
        return -EINVAL;
    struct sn_stack *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->cfg = o->cfg;
    tw_init(&s->tw, now);
    uint32_t buf = RX_BUF_SIZE(o->mtu) < 2048 ? 2048 : RX_BUF_SIZE(o->mtu);
    uint32_t offload = o->offload & SN_OFFLOAD_TSO ? o->offload | SN_OFFLOAD_CSUM : o->offload;
    if (offload & SN_OFFLOAD_TSO) /* fewer, larger receive buffers */
        s->rx = pkt_pool_new("rx", s->cfg.pool_rx_offload_bufs, RX_OFFLOAD_BUF_SIZE);
    else
        s->rx = pkt_pool_new("rx", s->cfg.pool_rx_bufs, buf);
    s->tx = pkt_pool_new("tx", s->cfg.pool_tx_bufs, buf);
    uint32_t n_big = s->cfg.pool_big_bufs + (offload & SN_OFFLOAD_TSO ? s->cfg.pool_tso_bufs : 0);
    s->big = pkt_pool_new("big", n_big, BIG_BUF_SIZE);
    struct net_iface ifc = {
        .kind = o->link == SN_LINK_ETH ? LINK_ETH : LINK_IP,
        .addr = o->addr,
        .prefix_len = o->prefix_len,
        .gateway = o->gateway,
        .mtu = o->mtu,
        .offload = offload,
    };
    memcpy(ifc.mac, o->mac, 6);
    if (!s->rx || !s->tx || !s->big ||
        net_init(&s->net, &s->cfg, &s->st, &s->tw, s->rx, s->tx, s->big, &ifc, now) < 0 ||
        tcp_init(&s->tcp, &s->cfg, &s->st, &s->tw, &s->net, o->seed) < 0) {
        sn_stack_free(s);
        return -ENOMEM;
    }
    *out = s;
    return 0;
}

void sn_stack_free(struct sn_stack *s)
{
    if (!s)
        return;
    if (s->tcp.conn_hash)
        tcp_free(&s->tcp);
    ring_cache_drain(); /* the socket buffers just given back (core/ring.h) */
    net_free(&s->net);
    pkt_pool_destroy(s->rx);
    pkt_pool_destroy(s->tx);
    pkt_pool_destroy(s->big);
    free(s);
}

void sn_stack_input(struct sn_stack *s, struct pkt *frame, sn_time_us now)
{
    STAT_INC(&s->st, link, rx_frames);
    STAT_ADD(&s->st, link, rx_bytes, frame->len);
    if (frame->off.gso_type)
        STAT_INC(&s->st, link, gro_frames_in);
    if (frame->off.csum_partial)
        STAT_INC(&s->st, link, csum_partial_in);
    s->tcp.now = now;
    net_input(&s->net, frame, now);
}

int sn_stack_input_bytes(struct sn_stack *s, const void *frame, size_t len, sn_time_us now)
{
    struct pkt *p = pkt_alloc(s->rx, PKT_HEADROOM);
    if (!p) {
        pkt_drop(&s->st, NULL, SN_DROP_NOMEM);
        return -ENOBUFS;
    }
    uint8_t *b = pkt_put(p, (uint32_t)len);
    if (!b || len > UINT32_MAX) {
        pkt_free(p);
        return -EMSGSIZE;
    }
    memcpy(b, frame, len);
    sn_stack_input(s, p, now);
    return 0;
}

struct pkt *sn_stack_output(struct sn_stack *s)
{
    if (s->tcp.out_head) /* TCP output waits for this (tcp_output_soon) */
        tcp_flush_output(&s->tcp);
    struct pkt *p = net_output(&s->net);
    if (p) {
        STAT_INC(&s->st, link, tx_frames);
        STAT_ADD(&s->st, link, tx_bytes, p->len);
        if (p->off.gso_type)
            STAT_INC(&s->st, link, tso_frames_out);
        if (p->off.csum_partial)
            STAT_INC(&s->st, link, csum_partial_out);
    }
    return p;
}

const uint8_t *sn_pkt_data(const struct pkt *p) { return p->data; }
size_t sn_pkt_len(const struct pkt *p) { return p->len; }
void sn_pkt_free(struct pkt *p) { pkt_free(p); }

int sn_stack_output_bytes(struct sn_stack *s, void *buf, size_t cap)
{
    struct pkt *p = sn_stack_output(s);
    if (!p)
        return 0;
    int len = (int)p->len;
    if (p->len > cap)
        len = -EMSGSIZE;
    else
        memcpy(buf, p->data, p->len);
    pkt_free(p);
    return len;
}

void sn_stack_advance(struct sn_stack *s, sn_time_us now)
{
    s->tcp.now = now;
    tw_advance(&s->tw, now);
    tcp_deliver_events(&s->tcp); /* callbacks run here, never inside input */
}

sn_time_us sn_stack_next_deadline(const struct sn_stack *s) { return tw_next_deadline(&s->tw); }

struct pkt_pool *sn_stack_rx_pool(struct sn_stack *s) { return s->rx; }

void sn_stack_print_stats(const struct sn_stack *s, FILE *out, int all)
{
    sn_stats_print(&s->st, out, all);
}

uint32_t sn_stack_bufs_in_use(const struct sn_stack *s)
{
    return pkt_pool_stats(s->rx)->in_use + pkt_pool_stats(s->tx)->in_use +
           pkt_pool_stats(s->big)->in_use;
}

const char *sn_strerror(int err)
{
    return strerror(err < 0 ? -err : err);
}
