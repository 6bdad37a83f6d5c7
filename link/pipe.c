/* link/pipe.c: a pair of memory links joined back to back, for two stacks
 * in one process (unit tests, the simulator). Each end owns a bounded FIFO
 * of the frames sent to it by the other end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "link/link.h"

struct pipe;

struct pipe_end {
    struct link l; /* first: a struct link * is a struct pipe_end * */
    struct pipe *pipe;
    struct pipe_end *peer;
    struct pkt_queue q; /* frames sent to this end, not yet received */
    uint64_t dropped;   /* frames that found q full or this end closed */
    int open;
};

/* Both ends live in one allocation, freed when the second end closes, so
 * the end still open can keep sending to (and dropping at) the closed one. */
struct pipe {
    struct pipe_end end[2];
    uint32_t depth;
};

static const struct link_ops pipe_ops;

static struct pipe_end *pipe_end_of(const struct link *l)
{
    return l && l->ops == &pipe_ops ? (struct pipe_end *)l : NULL;
}

/* Zero copy: the sent pkt itself moves into the peer's queue, so ownership
 * passes from the sender to the receiver. Returns 1 if queued, 0 if dropped
 * (and freed). */
static int deliver(struct pipe_end *to, struct pkt *p)
{
    if (!to->open || to->q.n >= to->pipe->depth) {
        to->dropped++;
        pkt_free(p);
        return 0;
    }
    pktq_push(&to->q, p);
    return 1;
}

static int pipe_send(struct link *l, struct pkt **frames, int n, sn_time now)
{
    (void)now;
    struct pipe_end *e = pipe_end_of(l);
    int sent = 0;
    for (int i = 0; i < n; i++)
        sent += deliver(e->peer, frames[i]);
    return sent;
}

/* Returns the very pkts the peer sent, ignoring @pool: they still belong to
 * the sender's pool, and pkt_free() returns them there. No copy is made, so
 * a pipe can never fail for lack of buffers on the receiving side. */
static int pipe_recv(struct link *l, struct pkt_pool *pool, struct pkt **out, int max,
                     sn_time now)
{
    (void)pool;
    struct pipe_end *e = pipe_end_of(l);
    int got = 0;
    struct pkt *p;
    while (got < max && (p = pktq_pop(&e->q))) {
        p->stamp = now;
        out[got++] = p;
    }
    return got;
}

/* The simulator polls pipes directly; there is nothing to wait on. */
static int pipe_fd(const struct link *l)
{
    (void)l;
    return -1;
}

/* Frees the frames still queued for this end; the pair's memory goes with
 * the second close. */
static void pipe_close(struct link *l)
{
    struct pipe_end *e = pipe_end_of(l);
    pktq_purge(&e->q);
    e->open = 0;
    if (!e->peer->open)
        free(e->pipe);
}

static const struct link_ops pipe_ops = {
    .recv = pipe_recv,
    .send = pipe_send,
    .fd = pipe_fd,
    .next_deadline = NULL,
    .close = pipe_close,
};

/* Fixed, distinct, locally administered MACs (02:00:00:00:00:01 and :02)
 * keep simulator runs reproducible; callers may overwrite them. */
static void pipe_end_init(struct pipe *pp, int i, uint32_t mtu)
{
    struct pipe_end *e = &pp->end[i];
    e->l.ops = &pipe_ops;
    e->l.kind = LINK_ETH;
    e->l.mtu = mtu;
    const uint8_t mac[6] = {0x02, 0, 0, 0, 0, (uint8_t)(i + 1)};
    memcpy(e->l.mac, mac, sizeof(mac));
    strcpy(e->l.name, i == 0 ? "pipe-a" : "pipe-b");
    e->pipe = pp;
    e->peer = &pp->end[!i];
    pktq_init(&e->q);
    e->open = 1;
}

int pipe_pair(uint32_t mtu, uint32_t depth, struct link **a, struct link **b)
{
    if (depth == 0)
        return -EINVAL;
    struct pipe *pp = calloc(1, sizeof(*pp));
    if (!pp)
        return -ENOMEM;
    pp->depth = depth;
    pipe_end_init(pp, 0, mtu);
    pipe_end_init(pp, 1, mtu);
    *a = &pp->end[0].l;
    *b = &pp->end[1].l;
    return 0;
}

uint64_t pipe_dropped(const struct link *l)
{
    const struct pipe_end *e = pipe_end_of(l);
    return e ? e->dropped : 0;
}
