/* tests/unit/api/test_offload.c: checksum and segmentation offloads
 * (SN_OFFLOAD_CSUM | SN_OFFLOAD_TSO, `serve --offload`), between a stack
 * with offloads (A) and one without (B) on a virtual clock, through a wire
 * in this file that does what the Linux kernel does with a TAP device's
 * virtio-net frames:
 *
 *   A -> B: a TSO super-frame is cut into segments of gso_size the way
 *           tcp_gso_segment does (headers copied, sequence numbers and IPv4
 *           IDs counted up, FIN and PSH on the last segment only), and every
 *           partial checksum is completed the way a device does (the sum
 *           from csum_start on, over the pre-filled pseudo-header sum). B
 *           verifies every checksum in software.
 *   B -> A: runs of full-sized in-order segments are merged into GSO
 *           super-frames (as GRO does), handed over with a partial
 *           checksum (only the pseudo-header sum), as the kernel hands
 *           frames to a TAP reader with IFF_VNET_HDR.
 *
 * The wire checks every super-frame it sees independently of wire/csum.c
 * and can lose frames, so retransmissions (of super-segments too) and SACK
 * recovery run; transfers must arrive byte-exact, and both stacks must end
 * holding no packet buffer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/stack_impl.h"
#include "core/bytes.h"
#include "core/pkt.h"
#include "synack/synack.h"
#include "wire/tcp.h"

#define ADDR_A 0xc0000201u
#define ADDR_B 0xc0000202u
#define PORT 5001
#define MTU 1500u
#define ETH 14u

static const uint8_t mac_a[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t mac_b[6] = {2, 0, 0, 0, 0, 2};

/* ---- an independent Internet checksum (RFC 1071) ---------------------- */

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* The TCP checksum to store for the segment at @tcp (@len bytes, its
 * checksum field taken as 0). */
static uint16_t tcp_sum(uint32_t src, uint32_t dst, const uint8_t *tcp, size_t len)
{
    uint32_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + (uint32_t)len;
    s = sum16(s, tcp, 16);
    s = sum16(s, tcp + 18, len - 18);
    return (uint16_t)~fold(s);
}

static uint16_t ip_sum(const uint8_t *ip)
{
    uint32_t s = sum16(0, ip, 10);
    s = sum16(s, ip + 12, 8);
    return (uint16_t)~fold(s);
}

/* ---- the environment -------------------------------------------------- */

struct env {
    struct sn_stack *a, *b;
    sn_time now;
    /* Loss on the wire: every frame A sends whose index (counted from 1)
     * is a multiple of a_drop_every, after a_drop_from frames, is lost;
     * seg_drop: within the segments cut from one super-frame, lose the
     * one at this index instead of the whole frame (-1: whole). */
    uint32_t a_frames, a_drop_every, a_drop_from;
    int seg_drop;
    uint32_t a_lost;
    /* What the wire saw. */
    uint32_t tso_frames, tso_segs, partial_frames, gro_frames;
    uint16_t last_ip_id;
    int have_ip_id;
};

static struct sn_stack *make_stack(uint32_t addr, const uint8_t *mac, uint32_t offload,
                                   uint64_t seed)
{
    struct sn_stack_opts o;
    memset(&o, 0, sizeof(o));
    sn_config_defaults(&o.cfg);
    o.cfg.tcp_sndbuf = 1 << 20;
    o.cfg.tcp_rcvbuf = 1 << 20;
    o.link = SN_LINK_ETH;
    memcpy(o.mac, mac, 6);
    o.addr = addr;
    o.prefix_len = 24;
    o.mtu = MTU;
    o.seed = seed;
    o.offload = offload;
    struct sn_stack *s;
    assert_int_equal(sn_stack_new(&o, SN_SEC(1), &s), 0);
    return s;
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    if (!e)
        return -1;
    e->now = SN_SEC(1);
    e->a = make_stack(ADDR_A, mac_a, SN_OFFLOAD_CSUM | SN_OFFLOAD_TSO, 1);
    e->b = make_stack(ADDR_B, mac_b, 0, 2);
    e->seg_drop = -1;
    *state = e;
    return 0;
}

static void deliver_b(struct env *e, const uint8_t *f, size_t len)
{
    assert_int_equal(sn_stack_input_bytes(e->b, f, len, e->now), 0);
}

/* Checks a frame of A's with a partial checksum and completes it the way a
 * device does: the sum from csum_start to the end, over the pre-filled
 * pseudo-header sum, complemented. It must equal the checksum computed from
 * scratch. */
static void complete_partial(const struct pkt *p, uint8_t *f, size_t len)
{
    assert_int_equal(p->off.csum_start, ETH + 20);
    assert_int_equal(p->off.csum_offset, 16);
    uint8_t *ip = f + ETH, *tcp = ip + 20;
    size_t tcp_len = len - ETH - 20;
    uint16_t want = tcp_sum(rd32(ip + 12), rd32(ip + 16), tcp, tcp_len);
    uint16_t c = (uint16_t)~fold(sum16(0, tcp, tcp_len));
    assert_int_equal(c, want);
    wr16(tcp + 16, c);
}

/* A -> B: what the kernel does with a frame A wrote to its TAP. */
static void wire_a_to_b(struct env *e, struct pkt *p)
{
    if (rd16(p->data + 12) != 0x0800) { /* ARP */
        deliver_b(e, p->data, p->len);
        return;
    }
    e->a_frames++;
    bool lose = e->a_drop_every && e->a_frames > e->a_drop_from &&
                e->a_frames % e->a_drop_every == 0;
    uint8_t *f = malloc(p->len);
    memcpy(f, p->data, p->len);
    size_t len = p->len;
    uint8_t *ip = f + ETH;
    assert_int_equal(ip[0], 0x45);
    assert_int_equal(rd16(ip + 2), len - ETH);
    assert_int_equal(rd16(ip + 10), ip_sum(ip)); /* the IPv4 header is always complete */
    uint16_t id = rd16(ip + 4);
    if (e->have_ip_id)
        assert_true((uint16_t)(id - e->last_ip_id) >= 1); /* IDs never reused back to back */

    if (!p->off.gso_type) {
        assert_true(len - ETH <= MTU);
        if (p->off.csum_partial) {
            e->partial_frames++;
            complete_partial(p, f, len);
        }
        e->last_ip_id = id, e->have_ip_id = 1;
        if (lose)
            e->a_lost++;
        else
            deliver_b(e, f, len);
        free(f);
        return;
    }

    /* A super-frame: what tcp_gso_segment makes of it. */
    assert_int_equal(p->off.gso_type, PKT_GSO_TCPV4);
    assert_true(p->off.csum_partial);
    complete_partial(p, f, len); /* the whole super-segment sums right too */
    uint8_t *tcp = ip + 20;
    uint32_t thl = (uint32_t)(tcp[12] >> 4) * 4;
    uint32_t payload = (uint32_t)(len - ETH - 20 - thl);
    uint32_t gso = p->off.gso_size;
    assert_true(gso > 0);
    assert_true(20 + thl + gso <= MTU);            /* every segment fits the MTU */
    assert_true(payload > gso);                    /* else it would not be GSO */
    assert_true(len - ETH <= 65535);
    uint32_t segs = (payload + gso - 1) / gso;
    e->tso_frames++;
    e->tso_segs += segs;
    uint32_t seq = rd32(tcp + 4);
    uint8_t flags = tcp[13];
    uint8_t seg[2048];
    for (uint32_t i = 0; i < segs; i++) {
        uint32_t n = i + 1 < segs ? gso : payload - i * gso;
        memcpy(seg, f, ETH + 20 + thl);
        uint8_t *sip = seg + ETH, *stcp = sip + 20;
        wr16(sip + 2, (uint16_t)(20 + thl + n));
        wr16(sip + 4, (uint16_t)(id + i));
        wr16(sip + 10, 0);
        wr16(sip + 10, ip_sum(sip));
        wr32(stcp + 4, seq + i * gso);
        stcp[13] = i + 1 < segs ? (uint8_t)(flags & ~(TCP_F_FIN | TCP_F_PSH)) : flags;
        memcpy(stcp + thl, tcp + thl + i * gso, n);
        wr16(stcp + 16, tcp_sum(rd32(sip + 12), rd32(sip + 16), stcp, thl + n));
        e->last_ip_id = (uint16_t)(id + i), e->have_ip_id = 1;
        if (lose && (e->seg_drop < 0 || (uint32_t)e->seg_drop == i)) {
            e->a_lost++;
            continue;
        }
        deliver_b(e, seg, ETH + 20 + thl + n);
    }
    free(f);
}

/* B -> A: frames as the kernel hands them to a TAP reader with offloads:
 * in-order full-sized data segments of one flow merged (GRO), every TCP
 * frame with only the pseudo-header sum in its checksum (CHECKSUM_PARTIAL). */
struct held {
    uint8_t f[65536 + 64];
    size_t len;
    uint32_t n_merged, gso, next_seq;
    int active;
};

static void give_a(struct env *e, struct held *h)
{
    if (!h->active)
        return;
    uint8_t *ip = h->f + ETH, *tcp = ip + 20;
    size_t tcp_len = h->len - ETH - 20;
    struct pkt *p = pkt_alloc(sn_stack_rx_pool(e->a), PKT_HEADROOM);
    assert_non_null(p);
    wr16(ip + 2, (uint16_t)(h->len - ETH));
    wr16(ip + 10, 0);
    wr16(ip + 10, ip_sum(ip));
    /* CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum. */
    uint32_t ps = (rd32(ip + 12) >> 16) + (rd32(ip + 12) & 0xffff) + (rd32(ip + 16) >> 16) +
                  (rd32(ip + 16) & 0xffff) + 6 + (uint32_t)tcp_len;
    wr16(tcp + 16, fold(ps));
    memcpy(pkt_put(p, (uint32_t)h->len), h->f, h->len);
    p->off.csum_partial = 1;
    p->off.csum_start = ETH + 20;
    p->off.csum_offset = 16;
    if (h->n_merged > 1) {
        p->off.gso_type = PKT_GSO_TCPV4;
        p->off.gso_size = (uint16_t)h->gso;
        e->gro_frames++;
    }
    sn_stack_input(e->a, p, e->now);
    h->active = 0;
}

static void wire_b_to_a(struct env *e, struct pkt *p, struct held *h)
{
    const uint8_t *ip = p->data + ETH, *tcp = ip + 20;
    bool is_tcp = p->len >= ETH + 40 && rd16(p->data + 12) == 0x0800 && ip[9] == 6 && ip[0] == 0x45;
    if (!is_tcp) {
        give_a(e, h);
        assert_int_equal(sn_stack_input_bytes(e->a, p->data, p->len, e->now), 0);
        return;
    }
    uint32_t thl = (uint32_t)(tcp[12] >> 4) * 4;
    uint32_t n = p->len - ETH - 20 - thl;
    uint8_t flags = tcp[13];
    bool plain = (flags & ~TCP_F_PSH) == TCP_F_ACK;
    if (h->active && plain && n > 0 && n <= h->gso && rd32(tcp + 4) == h->next_seq &&
        h->len + n <= ETH + 65535 && memcmp(h->f + ETH + 20 + 8, tcp + 8, 4) == 0 &&
        (uint32_t)(h->f[ETH + 20 + 12] >> 4) * 4 == thl) {
        memcpy(h->f + h->len, tcp + thl, n);
        h->len += n;
        h->n_merged++;
        h->next_seq += n;
        h->f[ETH + 20 + 13] |= flags; /* PSH of the last */
        if (n < h->gso)
            give_a(e, h); /* a short segment ends a GRO run */
        return;
    }
    give_a(e, h);
    memcpy(h->f, p->data, p->len);
    h->len = p->len;
    h->active = 1;
    h->n_merged = 1;
    h->gso = n;
    h->next_seq = rd32(tcp + 4) + n;
    if (!plain || n == 0)
        give_a(e, h); /* SYN, FIN, RST, pure ACKs pass alone */
}

/* Moves every frame both ways once; returns how many moved. */
static int shuttle(struct env *e)
{
    static struct held h;
    int moved = 0;
    struct pkt *p;
    while ((p = sn_stack_output(e->a))) {
        wire_a_to_b(e, p);
        sn_pkt_free(p);
        moved++;
    }
    while ((p = sn_stack_output(e->b))) {
        wire_b_to_a(e, p, &h);
        sn_pkt_free(p);
        moved++;
    }
    give_a(e, &h);
    return moved;
}

/* Returns how many frames moved. */
static int settle(struct env *e)
{
    int moved = 0, n;
    do {
        sn_stack_advance(e->a, e->now);
        sn_stack_advance(e->b, e->now);
        moved += n = shuttle(e);
    } while (n > 0);
    return moved;
}

/* Runs until @done(e, arg) or @limit of virtual time passed; returns
 * whether done. The wire is instantaneous: time only moves to the next
 * deadline when nothing else happens. */
static bool run_until(struct env *e, bool (*done)(struct env *, void *), void *arg, sn_time limit)
{
    sn_time end = e->now + limit;
    for (;;) {
        settle(e);
        if (done && done(e, arg))
            return true;
        if (settle(e) > 0)
            continue; /* the application's calls made frames: no time passes */
        sn_time da = sn_stack_next_deadline(e->a), db = sn_stack_next_deadline(e->b);
        sn_time next = da < db ? da : db;
        if (next > end) {
            e->now = end;
            settle(e);
            return done ? done(e, arg) : true;
        }
        e->now = next > e->now ? next : e->now;
    }
}

static bool established(struct env *e, void *arg)
{
    (void)e;
    struct sn_sock **c = arg;
    return (sn_sock_events(c[0]) & SN_EV_WRITABLE) && (sn_sock_events(c[1]) & SN_EV_READABLE);
}

/* A connection from A to B: c[0] on A, c[1] on B (accepted). */
static void connect_ab(struct env *e, struct sn_sock **ca, struct sn_sock **cb)
{
    struct sn_sock *l, *c[2];
    assert_int_equal(sn_listen(e->b, PORT, 4, &l), 0);
    assert_int_equal(sn_connect(e->a, ADDR_B, PORT, 0, e->now, &c[0]), 0);
    c[1] = l;
    assert_true(run_until(e, established, c, SN_SEC(5)));
    assert_int_equal(sn_accept(l, cb), 0);
    sn_close(l);
    *ca = c[0];
}

/* ---- a bulk transfer ---------------------------------------------------- */

struct xfer {
    struct sn_sock *from, *to;
    uint8_t *data;
    size_t total, sent, got;
    bool mismatch;
    uint8_t buf[65536];
};

static uint8_t pattern_byte(size_t i) { return (uint8_t)((i * 2654435761u) >> 13); }

static bool xfer_step(struct env *e, void *arg)
{
    (void)e;
    struct xfer *x = arg;
    while (x->sent < x->total) {
        size_t n = x->total - x->sent < 200000 ? x->total - x->sent : 200000;
        ssize_t r = sn_send(x->from, x->data + x->sent, n);
        if (r <= 0)
            break;
        x->sent += (size_t)r;
    }
    ssize_t r;
    while ((r = sn_recv(x->to, x->buf, sizeof(x->buf))) > 0) {
        if (memcmp(x->buf, x->data + x->got, (size_t)r) != 0)
            x->mismatch = true;
        x->got += (size_t)r;
    }
    return x->got >= x->total || x->mismatch;
}

static void transfer(struct env *e, struct sn_sock *from, struct sn_sock *to, size_t total)
{
    static struct xfer x;
    memset(&x, 0, sizeof(x));
    x.from = from, x.to = to, x.total = total;
    x.data = malloc(total);
    assert_non_null(x.data);
    for (size_t i = 0; i < total; i++)
        x.data[i] = pattern_byte(i);
    bool done = run_until(e, xfer_step, &x, SN_SEC(120));
    assert_false(x.mismatch);
    assert_true(done);
    assert_int_equal(x.got, total);
    free(x.data);
}

static void close_both(struct env *e, struct sn_sock *ca, struct sn_sock *cb)
{
    sn_close(ca);
    sn_close(cb);
    run_until(e, NULL, NULL, SN_SEC(300)); /* TIME-WAIT and every timer end */
    assert_int_equal(sn_stack_bufs_in_use(e->a), 0);
    assert_int_equal(sn_stack_bufs_in_use(e->b), 0);
}

static int teardown(void **state)
{
    struct env *e = *state;
    assert_int_equal(e->b->st.drop[SN_DROP_TCP_BAD_CSUM], 0);
    assert_int_equal(e->b->st.drop[SN_DROP_IP4_BAD_CSUM], 0);
    assert_int_equal(e->a->st.drop[SN_DROP_TCP_BAD_CSUM], 0);
    assert_int_equal(e->b->st.c[SN_C_ip4_frag_rx], 0);
    assert_int_equal(e->a->st.c[SN_C_ip4_frag_created], 0);
    sn_stack_free(e->a);
    sn_stack_free(e->b);
    free(e);
    return 0;
}

/* ---- tests -------------------------------------------------------------- */

/* wire/tcp.c: a partial checksum completed by a device equals the full one,
 * with or without options and payload, odd lengths included. */
static void partial_checksum_completes(void **state)
{
    (void)state;
    static uint8_t full[2000], part[2000];
    struct tcp_opts_out o;
    memset(&o, 0, sizeof(o));
    for (uint32_t len = 0; len < 1400; len += 97) {
        for (int ts = 0; ts < 2; ts++) {
            o.ts_on = (uint8_t)ts;
            o.ts_val = 0x01020304, o.ts_ecr = 0xa0b0c0d0;
            uint32_t hl = TCP_HDR_LEN + tcp_opts_len(&o);
            for (uint32_t i = 0; i < len; i++)
                full[hl + i] = part[hl + i] = pattern_byte(i + len);
            tcp_build(full, ADDR_A, ADDR_B, 1234, 80, 7, 9, TCP_F_ACK, 100, &o, len);
            tcp_build_csum(part, ADDR_A, ADDR_B, 1234, 80, 7, 9, TCP_F_ACK, 100, &o, len, 1);
            assert_memory_equal(full, part, 16); /* only the checksum differs */
            assert_memory_equal(full + 18, part + 18, hl + len - 18);
            uint16_t dev = (uint16_t)~fold(sum16(0, part, hl + len));
            assert_int_equal(dev, rd16(full + 16));
            assert_int_equal(rd16(full + 16), tcp_sum(ADDR_A, ADDR_B, full, hl + len));
        }
    }
}

/* core/pkt.c: csum_start follows the data as headers are pushed and pulled. */
static void csum_start_follows_data(void **state)
{
    (void)state;
    struct pkt_pool *pool = pkt_pool_new("t", 2, 4096);
    struct pkt *p = pkt_alloc(pool, 64);
    pkt_put(p, 40);
    p->off.csum_partial = 1;
    p->off.csum_offset = 16;
    pkt_push(p, 20);
    pkt_push(p, 14);
    assert_int_equal(p->off.csum_start, 34);
    pkt_pull(p, 14);
    assert_int_equal(p->off.csum_start, 20);
    pkt_pull(p, 20);
    assert_int_equal(p->off.csum_start, 0);
    assert_true(pkt_l4_csum_trusted(p, 16));
    assert_false(pkt_l4_csum_trusted(p, 6));
    p->off.csum_partial = 0; /* without it nothing moves */
    pkt_push(p, 20);
    assert_int_equal(p->off.csum_start, 0);
    assert_false(pkt_l4_csum_trusted(p, 16));
    pkt_free(p);
    assert_int_equal(pkt_pool_destroy(pool), 0);
}

/* 8 MiB each way: A sends super-segments that the wire cuts, B's data
 * reaches A as GRO super-frames with partial checksums. */
static void bulk_both_ways(void **state)
{
    struct env *e = *state;
    struct sn_sock *ca, *cb;
    connect_ab(e, &ca, &cb);
    transfer(e, ca, cb, 8u << 20);
    assert_true(e->tso_frames > 100);
    /* Large super-frames, not one per ACK (TSO deferral: about 40 segments
     * each here, 20 without it); the sender here is sometimes short of
     * data, its buffer refilled between rounds. */
    assert_true(e->tso_segs > 16 * e->tso_frames);
    assert_true(e->partial_frames > 0);
    assert_int_equal(e->a->st.c[SN_C_link_tso_frames_out], e->tso_frames);
    /* Counters count the segments on the wire, as Linux's do. */
    assert_true(e->a->st.c[SN_C_tcp_out_segs] >= e->tso_segs);
    assert_int_equal(e->a->st.c[SN_C_tcp_retrans_segs], 0);
    transfer(e, cb, ca, 8u << 20);
    assert_true(e->gro_frames > 100);
    assert_int_equal(e->a->st.c[SN_C_link_gro_frames_in], e->gro_frames);
    assert_true(e->a->st.c[SN_C_link_csum_partial_in] >= e->gro_frames);
    close_both(e, ca, cb);
}

/* Whole super-frames lost: the retransmissions are super-segments too,
 * and every byte still arrives once, in order. */
static void lost_super_frames(void **state)
{
    struct env *e = *state;
    struct sn_sock *ca, *cb;
    connect_ab(e, &ca, &cb);
    e->a_drop_every = 29, e->a_drop_from = 10;
    transfer(e, ca, cb, 6u << 20);
    assert_true(e->a_lost > 10);
    assert_true(e->a->st.c[SN_C_tcp_retrans_segs] > 0);
    e->a_drop_every = 0;
    transfer(e, cb, ca, 1u << 20); /* and the other way still works */
    close_both(e, ca, cb);
}

/* One segment cut from a super-frame lost: B holds the rest out of order
 * and SACKs it; A repairs the hole (RFC 6675) without resending it all. */
static void lost_segment_sack(void **state)
{
    struct env *e = *state;
    struct sn_sock *ca, *cb;
    connect_ab(e, &ca, &cb);
    e->a_drop_every = 23, e->a_drop_from = 10, e->seg_drop = 3;
    transfer(e, ca, cb, 6u << 20);
    assert_true(e->a_lost > 5);
    assert_true(e->b->st.c[SN_C_tcp_ofo_queued] > 0);
    assert_true(e->a->st.c[SN_C_tcp_sack_recoveries] + e->a->st.c[SN_C_tcp_fast_retrans] > 0);
    /* A hole is a few segments: far fewer resent than were lost whole. */
    assert_true(e->a->st.c[SN_C_tcp_retrans_segs] < 40 * e->a_lost);
    e->a_drop_every = 0;
    close_both(e, ca, cb);
}

/* Without offloads nothing of this appears: no super-frame, no partial
 * checksum (the default path is unchanged). */
static void off_by_default(void **state)
{
    (void)state;
    struct sn_stack *s = make_stack(ADDR_A, mac_a, 0, 3);
    assert_int_equal(pkt_pool_buf_size(sn_stack_rx_pool(s)), 2048);
    sn_stack_free(s);
    s = make_stack(ADDR_A, mac_a, SN_OFFLOAD_TSO, 3);
    assert_true(pkt_pool_buf_size(sn_stack_rx_pool(s)) >= 65535 + ETH + PKT_HEADROOM);
    assert_int_equal(s->net.offload, SN_OFFLOAD_TSO | SN_OFFLOAD_CSUM);
    sn_stack_free(s);
    struct sn_stack_opts o;
    memset(&o, 0, sizeof(o));
    sn_config_defaults(&o.cfg);
    o.addr = ADDR_A, o.prefix_len = 24, o.mtu = MTU, o.offload = 4;
    assert_int_equal(sn_stack_new(&o, 0, &s), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(partial_checksum_completes),
        cmocka_unit_test(csum_start_follows_data),
        cmocka_unit_test(off_by_default),
        cmocka_unit_test_setup_teardown(bulk_both_ways, setup, teardown),
        cmocka_unit_test_setup_teardown(lost_super_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(lost_segment_sack, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
