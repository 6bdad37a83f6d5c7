/* tests/unit/helpers/twostack.c: see twostack.h. */
#include <string.h>

#include "api/stack_impl.h"
#include "link/link.h"
#include "twostack.h"

static struct sn_stack *make_stack(const struct sn_config *cfg, uint32_t addr, const uint8_t *mac,
                                   uint64_t seed)
{
    struct sn_stack_opts o;
    memset(&o, 0, sizeof(o));
    if (cfg)
        o.cfg = *cfg;
    else
        sn_config_defaults(&o.cfg);
    o.link = SN_LINK_ETH;
    memcpy(o.mac, mac, 6);
    o.addr = addr;
    o.prefix_len = 24;
    o.mtu = 1500;
    o.seed = seed;
    struct sn_stack *s;
    return sn_stack_new(&o, SN_SEC(1), &s) == 0 ? s : NULL;
}

int twostack_new(struct twostack *ts, const struct sn_config *cfg)
{
    memset(ts, 0, sizeof(*ts));
    ts->now = SN_SEC(1);
    if (pipe_pair(1500, 4096, &ts->la, &ts->lb) < 0)
        return -1;
    ts->a = make_stack(cfg, TS_ADDR_A, ts->la->mac, 1);
    ts->b = make_stack(cfg, TS_ADDR_B, ts->lb->mac, 2);
    return ts->a && ts->b ? 0 : -1;
}

/* One exchange: each stack's output onto its link, the peer's link into
 * the peer. Returns how many frames moved. */
static int shuttle(struct twostack *ts)
{
    int moved = 0;
    struct sn_stack *st[2] = {ts->a, ts->b};
    struct link *out[2] = {ts->la, ts->lb}, *in[2] = {ts->lb, ts->la};
    for (int i = 0; i < 2; i++) {
        struct pkt *p;
        while ((p = sn_stack_output(st[i]))) {
            link_send(out[i], &p, 1, ts->now);
            moved++;
        }
        struct pkt *rx[64];
        int n;
        while ((n = link_recv(in[i], sn_stack_rx_pool(st[1 - i]), rx, 64, ts->now)) > 0)
            for (int k = 0; k < n; k++)
                sn_stack_input(st[1 - i], rx[k], ts->now);
    }
    return moved;
}

void twostack_settle(struct twostack *ts)
{
    do {
        sn_stack_advance(ts->a, ts->now);
        sn_stack_advance(ts->b, ts->now);
    } while (shuttle(ts) > 0);
}

void twostack_run_for(struct twostack *ts, sn_time us)
{
    sn_time end = ts->now + us;
    for (;;) {
        twostack_settle(ts);
        sn_time da = sn_stack_next_deadline(ts->a), db = sn_stack_next_deadline(ts->b);
        sn_time next = da < db ? da : db;
        if (next > end)
            break;
        ts->now = next > ts->now ? next : ts->now;
    }
    ts->now = end;
    twostack_settle(ts);
}

uint32_t twostack_free(struct twostack *ts)
{
    uint32_t held = 0;
    if (ts->a)
        held += sn_stack_bufs_in_use(ts->a);
    if (ts->b)
        held += sn_stack_bufs_in_use(ts->b);
    sn_stack_free(ts->a);
    sn_stack_free(ts->b);
    link_close(ts->la);
    link_close(ts->lb);
    return held;
}
