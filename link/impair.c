/* link/impair.c: a link that wraps another and impairs what crosses it, the
 * way netem does in the kernel, but in user space and from a seed: loss
 * (independent or Gilbert-Elliott), duplication, corruption, reordering,
 * delay with jitter, and a rate limit with a bounded queue. Owns the inner
 * link and, per direction, a delay line of the frames it holds.
 *
 * Each direction is a pipeline. A frame offered to it is lost, or goes on
 * (with perhaps a copy beside it) to corruption, then gets a departure
 * time from the rate limiter (or is tail-dropped when the queue in front
 * of it is full), then a release time from delay and jitter; a frame
 * picked for reordering waits further, in a side list, until enough later
 * frames overtook it or its hold time ran out. Released frames leave in
 * release-time order (ties in arrival order), so the link is FIFO unless
 * reordering says otherwise. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/rng.h"
#include "link/link.h"

#define DEFAULT_LIMIT 8192
#define DEFAULT_QUEUE_BYTES (128 * 1024)
#define DEFAULT_BURST_BYTES 1514
#define DEFAULT_REORDER_HOLD SN_MSEC(100)
#define BATCH 64

/* A frame in the delay line: released at @t; @seq breaks ties so equal
 * times leave in the order they came. */
struct slot {
    sn_time t;
    uint64_t seq;
    struct pkt *p;
};

/* A frame held back for reordering: it goes into the line after @gap more
 * frames entered it, or at @until, whichever is first. */
struct held {
    sn_time until;
    uint32_t gap;
    struct pkt *p;
};

struct dir {
    struct impair_params prm;
    struct rng rng;
    struct slot *heap; /* min-heap on (t, seq); prm.limit slots */
    uint32_t n;
    struct held *held; /* in the order they were held; prm.limit slots */
    uint32_t n_held;
    uint64_t seq;
    int ge_bad;          /* Gilbert-Elliott state */
    int ge_seen;         /* ge_last is set */
    sn_time ge_last;     /* when the chain last moved */
    sn_time tat;         /* rate limiter: theoretical arrival time (GCRA) */
    sn_time last_release;/* jitter never releases before an earlier frame */
    struct impair_stats st;
};

struct impair {
    struct link l; /* first: a struct link * is a struct impair * */
    struct link *inner;
    struct dir d[2];
};

static const struct link_ops impair_ops;

static struct impair *impair_of(const struct link *l)
{
    return l && l->ops == &impair_ops ? (struct impair *)l : NULL;
}

/* ---- the delay line: a binary min-heap ---------------------------------- */

static int slot_before(const struct slot *a, const struct slot *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_push(struct dir *d, sn_time t, struct pkt *p)
{
    uint32_t i = d->n++;
    struct slot s = {t, d->seq++, p};
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!slot_before(&s, &d->heap[parent]))
            break;
        d->heap[i] = d->heap[parent];
        i = parent;
    }
    d->heap[i] = s;
}

static struct pkt *heap_pop(struct dir *d)
{
    struct pkt *top = d->heap[0].p;
    struct slot last = d->heap[--d->n];
    uint32_t i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= d->n)
            break;
        if (c + 1 < d->n && slot_before(&d->heap[c + 1], &d->heap[c]))
            c++;
        if (!slot_before(&d->heap[c], &last))
            break;
        d->heap[i] = d->heap[c];
        i = c;
    }
    if (d->n > 0)
        d->heap[i] = last;
    return top;
}

static uint32_t dir_held(const struct dir *d) { return d->n + d->n_held; }

/* Held frames whose time ran out join the line at their hold time. */
static void expire_held(struct dir *d, sn_time now)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < d->n_held; i++) {
        if (d->held[i].until <= now)
            heap_push(d, d->held[i].until, d->held[i].p);
        else
            d->held[k++] = d->held[i];
    }
    d->n_held = k;
}

/* A frame entered the line at @t: held frames count it, and those it was
 * the last to overtake follow right behind it. */
static void count_overtaker(struct dir *d, sn_time t)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < d->n_held; i++) {
        struct held *h = &d->held[i];
        if (h->gap > 0 && --h->gap == 0)
            heap_push(d, t > h->until ? h->until : t, h->p);
        else
            d->held[k++] = *h;
    }
    d->n_held = k;
}

static sn_time dir_deadline(const struct dir *d)
{
    sn_time t = d->n ? d->heap[0].t : SN_TIME_NEVER;
    for (uint32_t i = 0; i < d->n_held; i++)
        if (d->held[i].until < t)
            t = d->held[i].until;
    return t;
}

/* The next frame due at @now, or NULL. */
static struct pkt *dir_take(struct dir *d, sn_time now)
{
    expire_held(d, now);
    if (d->n == 0 || d->heap[0].t > now)
        return NULL;
    struct pkt *p = heap_pop(d);
    d->st.frames_out++;
    d->st.bytes_out += p->len;
    p->stamp = now;
    return p;
}

static void dir_purge(struct dir *d)
{
    while (d->n)
        pkt_free(heap_pop(d));
    for (uint32_t i = 0; i < d->n_held; i++)
        pkt_free(d->held[i].p);
    d->n_held = 0;
}

/* ---- decisions ------------------------------------------------------------ */

/* x^k by squaring: exact IEEE operations, so the same on every machine. */
static double pow_u(double x, uint64_t k)
{
    double r = 1;
    while (k) {
        if (k & 1)
            r *= x;
        x *= x;
        k >>= 1;
    }
    return r;
}

/* Moves the Gilbert-Elliott chain @steps steps in one draw: for a two
 * state chain, P(Bad after k steps) = pi + (start - pi) * (1 - p - r)^k,
 * with pi = p / (p + r) the stationary share of Bad. */
static void ge_move(struct dir *d, uint64_t steps)
{
    const struct impair_params *pr = &d->prm;
    if (steps == 1) {
        if (d->ge_bad ? rng_chance(&d->rng, pr->ge_r) : rng_chance(&d->rng, pr->ge_p))
            d->ge_bad = !d->ge_bad;
        return;
    }
    double pi = pr->ge_p / (pr->ge_p + pr->ge_r);
    double bad = pi + ((d->ge_bad ? 1 : 0) - pi) * pow_u(1 - pr->ge_p - pr->ge_r, steps);
    d->ge_bad = rng_unit(&d->rng) < bad;
}

static int decide_loss(struct dir *d, sn_time now)
{
    const struct impair_params *pr = &d->prm;
    if (pr->ge_p > 0) {
        /* The chain moves first (one step, and one per idle slot), then
         * the frame meets the new state. */
        uint64_t steps = 1;
        if (pr->ge_slot_us > 0 && d->ge_seen && now > d->ge_last)
            steps += (uint64_t)((now - d->ge_last) / pr->ge_slot_us);
        d->ge_seen = 1;
        d->ge_last = now;
        ge_move(d, steps);
        if (rng_chance(&d->rng, d->ge_bad ? pr->ge_loss_bad : pr->ge_loss_good)) {
            if (d->ge_bad)
                d->st.lost_bad++;
            return 1;
        }
    }
    return rng_chance(&d->rng, pr->loss);
}

/* Where the IPv4 packet in @p starts, and how long it is; -1 if @p holds
 * none. Bounded by the frame, whatever the header claims. */
static int ip4_extent(const struct pkt *p, enum link_kind kind, uint32_t *off, uint32_t *len)
{
    uint32_t o = 0;
    if (kind == LINK_ETH) {
        if (p->len < 14 + 20 || rd16(p->data + 12) != 0x0800)
            return -1;
        o = 14;
    }
    if (p->len < o + 20 || (p->data[o] >> 4) != 4)
        return -1;
    uint32_t ihl = (uint32_t)(p->data[o] & 15) * 4;
    uint32_t tot = rd16(p->data + o + 2);
    if (ihl < 20 || tot < ihl)
        return -1;
    if (tot > p->len - o)
        tot = p->len - o;
    if (tot < ihl)
        return -1;
    *off = o;
    *len = tot;
    return (int)ihl;
}

/* Flips one bit. One flipped bit always changes a one's complement sum,
 * so the IPv4 header checksum (bit in the header) or the TCP/UDP/ICMP
 * checksum (bit in the payload) catches it; two could cancel out. ARP has
 * no checksum (on a real wire the Ethernet FCS would catch it), a UDP
 * datagram may carry none, and an offloaded checksum is computed after us:
 * those are never corrupted (or only in the IPv4 header). */
static void corrupt(struct dir *d, struct pkt *p, enum link_kind kind)
{
    uint32_t off, len;
    int ihl = ip4_extent(p, kind, &off, &len);
    if (ihl < 0 || p->off.csum_partial || p->off.gso_type) {
        d->st.corrupt_skipped++;
        return;
    }
    uint32_t span = len;
    uint8_t proto = p->data[off + 9];
    uint16_t frag = rd16(p->data + off + 6);
    int later_fragment = (frag & 0x1fff) != 0;
    if (proto == 17 && !later_fragment && len >= (uint32_t)ihl + 8 &&
        rd16(p->data + off + (uint32_t)ihl + 6) == 0)
        span = (uint32_t)ihl; /* UDP without a checksum: only the IP header */
    uint64_t bit = rng_below(&d->rng, (uint64_t)span * 8);
    p->data[off + bit / 8] ^= (uint8_t)(1u << (bit % 8));
    p->off.csum_valid = 0; /* the device's verdict no longer holds */
    d->st.corrupted++;
}

/* GCRA form of a token bucket: returns the departure time, or -1 when the
 * wait in the queue would exceed queue_bytes at the rate (tail drop). */
static sn_time rate_depart(struct dir *d, uint32_t len, sn_time now)
{
    const struct impair_params *pr = &d->prm;
    if (!pr->rate_bps)
        return now;
    sn_time tx = (sn_time)(((uint64_t)len * 8000000 + pr->rate_bps - 1) / pr->rate_bps);
    sn_time tau = (sn_time)((uint64_t)pr->burst_bytes * 8000000 / pr->rate_bps);
    sn_time qmax = (sn_time)((uint64_t)pr->queue_bytes * 8000000 / pr->rate_bps);
    sn_time tat = (d->tat > now ? d->tat : now) + tx;
    sn_time depart = tat - tau > now ? tat - tau : now;
    if (depart - now > qmax)
        return -1;
    d->tat = tat;
    return depart;
}

/* Delay and jitter; never before a frame released earlier (jitter does
 * not reorder: that is the reorder parameter's job). */
static sn_time delay_release(struct dir *d, sn_time depart)
{
    const struct impair_params *pr = &d->prm;
    sn_time t = depart + pr->delay_us;
    if (pr->jitter_us > 0) {
        sn_time j = (sn_time)rng_below(&d->rng, (uint64_t)(2 * pr->jitter_us + 1)) - pr->jitter_us;
        t = t + j < depart ? depart : t + j;
    }
    if (t < d->last_release)
        t = d->last_release;
    d->last_release = t;
    return t;
}

/* One copy of a frame, after loss and duplication: into the line, held
 * back, or dropped. Consumes @p. */
static void enqueue(struct impair *im, struct dir *d, struct pkt *p, sn_time now)
{
    const struct impair_params *pr = &d->prm;
    if (rng_chance(&d->rng, pr->corrupt))
        corrupt(d, p, im->l.kind);
    sn_time depart = rate_depart(d, p->len, now);
    if (depart < 0) {
        d->st.rate_dropped++;
        pkt_free(p);
        return;
    }
    if (dir_held(d) >= pr->limit) {
        d->st.overflow++;
        pkt_free(p);
        return;
    }
    if (rng_chance(&d->rng, pr->reorder)) {
        /* Held back: the frame leaves the queue on time but is released
         * only after later frames overtook it. */
        d->st.reordered++;
        sn_time hold = pr->reorder_hold_us ? pr->reorder_hold_us : DEFAULT_REORDER_HOLD;
        d->held[d->n_held++] = (struct held){depart + pr->delay_us + hold, pr->reorder_gap, p};
        return;
    }
    sn_time t = delay_release(d, depart);
    heap_push(d, t, p);
    count_overtaker(d, t);
}

/* A frame offered to direction @d. Consumes @p; @pool gives the buffer of
 * a duplicate (NULL: the frame's own pool). */
static void offer(struct impair *im, struct dir *d, struct pkt *p, struct pkt_pool *pool,
                  sn_time now)
{
    d->st.frames_in++;
    d->st.bytes_in += p->len;
    if (decide_loss(d, now)) {
        d->st.lost++;
        pkt_free(p);
        return;
    }
    struct pkt *copy = NULL;
    if (rng_chance(&d->rng, d->prm.dup)) {
        copy = pkt_clone(pool ? pool : p->pool, p, pkt_headroom(p));
        if (copy)
            d->st.duplicated++;
        else
            d->st.dup_failed++;
    }
    enqueue(im, d, p, now);
    if (copy)
        enqueue(im, d, copy, now);
}

/* ---- link ops ------------------------------------------------------------- */

/* Hands the send direction's due frames to the inner link. */
static void flush_tx(struct impair *im, sn_time now)
{
    struct dir *d = &im->d[IMPAIR_TX];
    struct pkt *batch[BATCH];
    for (;;) {
        int n = 0;
        struct pkt *p;
        while (n < BATCH && (p = dir_take(d, now)))
            batch[n++] = p;
        if (n == 0)
            return;
        int r = link_send(im->inner, batch, n, now); /* consumes all n */
        if (r < n)
            d->st.inner_refused += (uint64_t)(n - (r < 0 ? 0 : r));
        if (n < BATCH)
            return;
    }
}

static int impair_recv(struct link *l, struct pkt_pool *pool, struct pkt **out, int max,
                       sn_time now)
{
    struct impair *im = impair_of(l);
    struct dir *d = &im->d[IMPAIR_RX];
    flush_tx(im, now);
    struct pkt *in[BATCH];
    int n = link_recv(im->inner, pool, in, max < BATCH ? max : BATCH, now);
    for (int i = 0; i < n; i++)
        offer(im, d, in[i], pool, now);
    int got = 0;
    struct pkt *p;
    while (got < max && (p = dir_take(d, now)))
        out[got++] = p;
    return got ? got : n < 0 ? n : 0;
}

/* Every frame is taken (into the line, or lost on the way, as on a real
 * wire), so the count is @n; the inner link's refusals are counted. */
static int impair_send(struct link *l, struct pkt **frames, int n, sn_time now)
{
    struct impair *im = impair_of(l);
    for (int i = 0; i < n; i++)
        offer(im, &im->d[IMPAIR_TX], frames[i], NULL, now);
    flush_tx(im, now);
    return n;
}

static int impair_fd(const struct link *l) { return link_fd(impair_of(l)->inner); }

static sn_time impair_next_deadline(const struct link *l)
{
    const struct impair *im = impair_of(l);
    sn_time t = link_next_deadline(im->inner);
    for (int i = 0; i < 2; i++) {
        sn_time u = dir_deadline(&im->d[i]);
        if (u < t)
            t = u;
    }
    return t;
}

static void impair_close(struct link *l)
{
    struct impair *im = impair_of(l);
    for (int i = 0; i < 2; i++) {
        dir_purge(&im->d[i]);
        free(im->d[i].heap);
        free(im->d[i].held);
    }
    link_close(im->inner);
    free(im);
}

static const struct link_ops impair_ops = {
    .recv = impair_recv,
    .send = impair_send,
    .fd = impair_fd,
    .next_deadline = impair_next_deadline,
    .close = impair_close,
};

/* ---- setup ---------------------------------------------------------------- */

static int prob_ok(double p) { return p >= 0 && p <= 1; }

static int params_valid(const struct impair_params *p)
{
    return prob_ok(p->loss) && prob_ok(p->ge_p) && prob_ok(p->ge_r) &&
           prob_ok(p->ge_loss_good) && prob_ok(p->ge_loss_bad) && prob_ok(p->dup) &&
           prob_ok(p->corrupt) && prob_ok(p->reorder) && p->delay_us >= 0 &&
           p->jitter_us >= 0 && p->reorder_hold_us >= 0 && p->ge_slot_us >= 0;
}

void impair_params_burst_loss(struct impair_params *p, double loss, double burst)
{
    p->loss = 0;
    p->ge_r = 1 / burst;
    /* Stationary share of Bad: ge_p / (ge_p + ge_r) = loss. */
    p->ge_p = loss * p->ge_r / (1 - loss);
    p->ge_loss_good = 0;
    p->ge_loss_bad = 1;
    p->ge_slot_us = SN_MSEC(1);
}

int impair_params_active(const struct impair_params *p)
{
    return p->loss > 0 || p->ge_p > 0 || p->dup > 0 || p->corrupt > 0 || p->reorder > 0 ||
           p->delay_us > 0 || p->jitter_us > 0 || p->rate_bps > 0;
}

int impair_wrap(struct link *inner, const struct impair_cfg *cfg, struct link **out)
{
    if (!params_valid(&cfg->dir[0]) || !params_valid(&cfg->dir[1])) {
        link_close(inner);
        return -EINVAL;
    }
    struct impair *im = calloc(1, sizeof(*im));
    if (!im) {
        link_close(inner);
        return -ENOMEM;
    }
    im->l = *inner;
    im->l.ops = &impair_ops;
    im->inner = inner;
    for (int i = 0; i < 2; i++) {
        struct dir *d = &im->d[i];
        d->prm = cfg->dir[i];
        if (!d->prm.limit)
            d->prm.limit = DEFAULT_LIMIT;
        if (!d->prm.queue_bytes)
            d->prm.queue_bytes = DEFAULT_QUEUE_BYTES;
        if (!d->prm.burst_bytes)
            d->prm.burst_bytes = DEFAULT_BURST_BYTES;
        rng_seed(&d->rng, cfg->seed, 0x696d70616972ULL + (uint64_t)i); /* "impair" */
        d->heap = calloc(d->prm.limit, sizeof(*d->heap));
        d->held = calloc(d->prm.limit, sizeof(*d->held));
        if (!d->heap || !d->held) {
            impair_close(&im->l);
            return -ENOMEM;
        }
    }
    *out = &im->l;
    return 0;
}

const struct impair_stats *impair_stats(const struct link *l, enum impair_dir dir)
{
    const struct impair *im = impair_of(l);
    return im && (dir == IMPAIR_TX || dir == IMPAIR_RX) ? &im->d[dir].st : NULL;
}

uint32_t impair_held(const struct link *l, enum impair_dir dir)
{
    const struct impair *im = impair_of(l);
    return im && (dir == IMPAIR_TX || dir == IMPAIR_RX) ? dir_held(&im->d[dir]) : 0;
}
