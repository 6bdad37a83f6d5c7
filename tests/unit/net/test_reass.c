/* tests/unit/net/test_reass.c: IPv4 reassembly (net/ip4_reass.c; RFC 791
 * 3.2, RFC 1122 3.3.2) and fragmentation on output (net/ip4_out.c) through
 * a whole stack. A large echo request goes in as fragments in every order;
 * exactly one reply must come out, as fragments that fit the link, which
 * this test reassembles with code of its own. Overlaps, duplicates,
 * timeouts, slot and memory limits, and bad fragments each have a test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers/frames.h"

#define BIG_DATA 20000 /* echo data bytes: "a 20000-byte echo" */

struct echo {
    uint8_t *dgram; /* the whole request datagram */
    size_t len;
    struct fr_frame *frags;
    size_t n;
};

static uint16_t csum(const uint8_t *p, size_t len)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* An echo request of @data_len bytes with IP id @id (from @src, 0 = the
 * peer), optionally with IP options, split at @mtu. */
static struct echo echo_new(uint16_t id, size_t data_len, size_t mtu, uint32_t src,
                            const uint8_t *opts, size_t opts_len)
{
    struct echo e;
    uint8_t *icmp = malloc(8 + data_len);
    uint8_t *data = malloc(data_len + 1);
    e.dgram = malloc(65536);
    assert_true(icmp && data && e.dgram);
    fr_pattern(data, data_len, id);
    size_t n = fr_icmp_echo(icmp, 8, (uint16_t)(0x1000 + id), 1, data, data_len);
    e.len = fr_ip4(e.dgram,
                   &(struct fr_ip){.proto = 1, .id = id, .src = src, .opts = opts,
                                   .opts_len = opts_len},
                   icmp, n);
    e.frags = fr_fragment(e.dgram, e.len, mtu, &e.n);
    free(icmp);
    free(data);
    return e;
}

static void echo_free(struct echo *e)
{
    free(e->dgram);
    free(e->frags);
}

static void send_frag(struct sn_stack *s, const struct fr_frame *f, sn_time now)
{
    fr_input(s, f->b, f->len, now);
}

/* Reads every output frame; each must be a valid IPv4 frame to the peer of
 * at most 1514 bytes. Returns the number of frames, and in *reply_len the
 * length of the datagram they reassemble into (0 if none). */
static size_t collect(struct sn_stack *s, uint8_t *reply, size_t *reply_len)
{
    struct fr_reasm *r = malloc(sizeof(*r));
    assert_non_null(r);
    fr_reasm_init(r);
    uint8_t f[FR_FRAME_MAX];
    size_t len, n = 0;
    while ((len = fr_output(s, f)) > 0) {
        assert_true(len <= FR_FRAME_MAX);
        struct ip4_hdr ip;
        const uint8_t *b = fr_check_ip4(f, len, fr_peer_mac, &ip);
        assert_true(ip.total_len <= FR_MTU);
        fr_reasm_add(r, b, ip.total_len);
        n++;
    }
    *reply_len = n ? fr_reasm_done(r, reply) : 0;
    if (n)
        assert_true(*reply_len > 0); /* whatever came out is complete */
    free(r);
    return n;
}

/* The reply to @e: an echo reply from us to its source with the same id,
 * sequence number and data, checksums valid. */
static void check_reply(const struct echo *e, const uint8_t *reply, size_t len)
{
    size_t req_hl = (size_t)(e->dgram[0] & 15) * 4;
    size_t icmp_len = e->len - req_hl;
    assert_int_equal(len, 20 + icmp_len);
    assert_int_equal(reply[9], 1);
    assert_memory_equal(reply + 12, e->dgram + 16, 4); /* to where it came from */
    const uint8_t *icmp = reply + 20;
    assert_int_equal(icmp[0], 0);
    assert_int_equal(icmp[1], 0);
    assert_int_equal(csum(icmp, icmp_len), 0);
    assert_memory_equal(icmp + 4, e->dgram + req_hl + 4, icmp_len - 4);
}

static void expect_one_reply(struct sn_stack *s, const struct echo *e)
{
    uint8_t *reply = malloc(65536);
    assert_non_null(reply);
    size_t len;
    size_t frames = collect(s, reply, &len);
    assert_true(frames >= 1);
    check_reply(e, reply, len);
    free(reply);
}

static void expect_nothing(struct sn_stack *s) { assert_int_equal(fr_drain(s), 0); }

static void in_order_reverse_random(void **state)
{
    (void)state;
    for (int order = 0; order < 2 + 8; order++) {
        struct sn_stack *s = fr_stack_new(NULL, 1);
        struct echo e = echo_new(100, BIG_DATA, FR_MTU, 0, NULL, 0);
        assert_int_equal(e.n, 14);
        if (order == 1)
            for (size_t i = 0; i < e.n / 2; i++) {
                struct fr_frame t = e.frags[i];
                e.frags[i] = e.frags[e.n - 1 - i];
                e.frags[e.n - 1 - i] = t;
            }
        else if (order >= 2)
            fr_shuffle(e.frags, e.n, (uint32_t)order * 7919u); /* seeded */
        for (size_t i = 0; i < e.n; i++) {
            send_frag(s, &e.frags[i], FR_T0 + (sn_time)i * 1000);
            if (i + 1 < e.n)
                expect_nothing(s);
        }
        expect_one_reply(s, &e);
        assert_int_equal(fr_count(s, SN_C_ip4_frag_rx), e.n);
        assert_int_equal(fr_count(s, SN_C_ip4_reass_ok), 1);
        assert_int_equal(fr_count(s, SN_C_ip4_frag_ok), 1);
        assert_int_equal(fr_drops_total(s), 0);
        assert_int_equal(sn_stack_bufs_in_use(s), 0); /* nothing held once done */
        echo_free(&e);
        fr_stack_done(s, FR_T0 + SN_SEC(1));
    }
}

/* Fragments of odd sizes (a small MTU) and the largest datagram IPv4 can
 * carry: 65535 bytes. */
static void sizes(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    struct echo e = echo_new(7, 3000, 576, 0, NULL, 0);
    for (size_t i = 0; i < e.n; i++)
        send_frag(s, &e.frags[i], FR_T0);
    expect_one_reply(s, &e);
    echo_free(&e);

    e = echo_new(8, 65535 - 20 - 8, FR_MTU, 0, NULL, 0);
    assert_int_equal(e.len, 65535);
    fr_shuffle(e.frags, e.n, 3);
    for (size_t i = 0; i < e.n; i++)
        send_frag(s, &e.frags[i], FR_T0);
    expect_one_reply(s, &e);
    echo_free(&e);
    assert_int_equal(fr_drops_total(s), 0);
    fr_stack_done(s, FR_T0);
}

/* A short last fragment arrives in a padded Ethernet frame: the padding is
 * trimmed before reassembly, or the datagram would grow by it. */
static void padded_last_fragment(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    struct echo e = echo_new(13, 1480 - 8 + 4, FR_MTU, 0, NULL, 0); /* 4 bytes in the last */
    assert_int_equal(e.n, 2);
    assert_int_equal(e.frags[1].len, 14 + 20 + 4);
    memset(e.frags[1].b + e.frags[1].len, 0xa5, 60 - e.frags[1].len);
    e.frags[1].len = 60;
    send_frag(s, &e.frags[1], FR_T0);
    send_frag(s, &e.frags[0], FR_T0);
    expect_one_reply(s, &e);
    assert_int_equal(fr_drops_total(s), 0);
    echo_free(&e);
    fr_stack_done(s, FR_T0);
}

/* Options in the first fragment's header do not disturb reassembly. */
static void with_options(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    static const uint8_t opts[8] = {1, 1, 1, 1, 1, 1, 1, 0};
    struct echo e = echo_new(9, 5000, FR_MTU, 0, opts, sizeof(opts));
    for (size_t i = e.n; i-- > 0;)
        send_frag(s, &e.frags[i], FR_T0);
    expect_one_reply(s, &e);
    echo_free(&e);
    fr_stack_done(s, FR_T0);
}

/* A duplicate fragment (retransmitted by a router, say) is ignored; the
 * datagram still completes once. */
static void duplicate_ignored(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    struct echo e = echo_new(11, BIG_DATA, FR_MTU, 0, NULL, 0);
    send_frag(s, &e.frags[0], FR_T0);
    send_frag(s, &e.frags[0], FR_T0);
    send_frag(s, &e.frags[5], FR_T0);
    send_frag(s, &e.frags[5], FR_T0);
    send_frag(s, &e.frags[e.n - 1], FR_T0);
    send_frag(s, &e.frags[e.n - 1], FR_T0);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_DUP), 3);
    for (size_t i = 0; i < e.n; i++)
        if (i != 0 && i != 5 && i != e.n - 1)
            send_frag(s, &e.frags[i], FR_T0);
    expect_one_reply(s, &e);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_DUP), 3);
    assert_int_equal(fr_count(s, SN_C_ip4_reass_ok), 1);
    echo_free(&e);
    fr_stack_done(s, FR_T0);
}

/* Rewrites the fragment in @f to cover payload [@off, @off + @len) of
 * @e's datagram with MF = @mf. */
static void make_frag(struct fr_frame *f, const struct echo *e, uint32_t off, uint32_t len,
                      int mf)
{
    uint8_t *ip = f->b + 14;
    fr_eth(f->b, fr_our_mac, fr_peer_mac, 0x0800);
    memcpy(ip, e->dgram, 20);
    memcpy(ip + 20, e->dgram + 20 + off, len);
    ip[2] = (uint8_t)((20 + len) >> 8), ip[3] = (uint8_t)(20 + len);
    uint16_t frag = (uint16_t)((mf ? 0x2000 : 0) | off / 8);
    ip[6] = (uint8_t)(frag >> 8), ip[7] = (uint8_t)frag;
    ip[10] = ip[11] = 0;
    uint16_t c = csum(ip, 20);
    ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
    f->len = 14 + 20 + len;
}

/* A fragment that lies wholly inside data already held (contiguous
 * fragments merged) is a duplicate too, as Linux's frag runs treat it. */
static void contained_is_duplicate(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    struct echo e = echo_new(12, BIG_DATA, FR_MTU, 0, NULL, 0);
    send_frag(s, &e.frags[0], FR_T0);
    send_frag(s, &e.frags[1], FR_T0);
    /* Payload bytes 1464..1472: across the two fragments, inside the run. */
    struct fr_frame f;
    make_frag(&f, &e, 1464, 8, 1);
    send_frag(s, &f, FR_T0);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_DUP), 1);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_OVERLAP), 0);
    for (size_t i = 2; i < e.n; i++)
        send_frag(s, &e.frags[i], FR_T0);
    expect_one_reply(s, &e);
    echo_free(&e);
    fr_stack_done(s, FR_T0);
}

/* Overlapping fragments (not duplicates) discard the whole datagram; a
 * later clean datagram with another id is reassembled. */
static void overlap_discards(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    struct echo e = echo_new(20, BIG_DATA, FR_MTU, 0, NULL, 0);
    struct fr_frame f;
    struct {
        uint32_t a_off, a_len, b_off, b_len;
    } cases[] = {
        {0, 1480, 8, 1480},       /* starts inside, runs past the end */
        {1480, 1480, 1472, 1480}, /* starts before, ends inside */
        {1480, 16, 1472, 32},     /* covers it wholly */
        {1480, 1480, 1480, 1488}, /* same start, longer */
        {2960, 8, 2000, 1000},    /* spans a hole and the range */
    };
    uint64_t overlaps = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        make_frag(&f, &e, cases[i].a_off, cases[i].a_len, 1);
        send_frag(s, &f, FR_T0);
        assert_int_equal(sn_stack_bufs_in_use(s), 1); /* one slot holds it */
        make_frag(&f, &e, cases[i].b_off, cases[i].b_len, 1);
        send_frag(s, &f, FR_T0);
        assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_OVERLAP), ++overlaps);
        assert_int_equal(sn_stack_bufs_in_use(s), 0); /* the datagram is gone */
        expect_nothing(s);
    }
    /* Another id, clean, in order: one reply. */
    struct echo e2 = echo_new(21, BIG_DATA, FR_MTU, 0, NULL, 0);
    for (size_t i = 0; i < e2.n; i++)
        send_frag(s, &e2.frags[i], FR_T0);
    expect_one_reply(s, &e2);
    /* The same id as the discarded one, resent whole: a fresh start. */
    for (size_t i = 0; i < e.n; i++)
        send_frag(s, &e.frags[i], FR_T0);
    expect_one_reply(s, &e);
    echo_free(&e);
    echo_free(&e2);
    fr_stack_done(s, FR_T0);
}

/* RFC 1122 3.3.2: an incomplete datagram is given up after the reassembly
 * timeout, its memory freed (IP4_FRAG_TIMEOUT); when fragment 0 had
 * arrived, ICMP Time Exceeded (code 1, fragment reassembly) quotes its
 * header and first 8 data bytes. */
static void timeout_with_first_fragment(void **state)
{
    (void)state;
    struct sn_config cfg;
    sn_config_defaults(&cfg);
    cfg.reass_timeout_ms = 5000;
    struct sn_stack *s = fr_stack_new(&cfg, 1);
    struct echo e = echo_new(30, BIG_DATA, FR_MTU, 0, NULL, 0);
    sn_time t0 = FR_T0 + SN_SEC(1);
    send_frag(s, &e.frags[0], t0);
    send_frag(s, &e.frags[2], t0 + SN_SEC(2)); /* later fragments do not extend it */
    assert_true(sn_stack_bufs_in_use(s) > 0);
    sn_stack_advance(s, t0 + SN_MSEC(4999));
    expect_nothing(s);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_TIMEOUT), 0);
    sn_stack_advance(s, t0 + SN_MSEC(5000));
    assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_TIMEOUT), 1);
    assert_int_equal(sn_stack_bufs_in_use(s), 1); /* only the queued ICMP error */
    uint8_t got[FR_FRAME_MAX];
    size_t len = fr_output(s, got);
    struct ip4_hdr ip;
    const uint8_t *b = fr_check_ip4(got, len, fr_peer_mac, &ip);
    assert_int_equal(ip.proto, 1);
    const uint8_t *icmp = b + 20;
    size_t icmp_len = ip.total_len - 20u;
    assert_int_equal(icmp[0], 11);
    assert_int_equal(icmp[1], 1);
    assert_int_equal(csum(icmp, icmp_len), 0);
    assert_int_equal(icmp_len, 8 + 20 + 8);
    const uint8_t *q = icmp + 8; /* the quoted header: the datagram's */
    assert_int_equal(q[0], 0x45);
    assert_memory_equal(q + 4, e.dgram + 4, 2);   /* id */
    assert_int_equal(q[9], 1);                    /* protocol */
    assert_memory_equal(q + 12, e.dgram + 12, 8); /* addresses */
    assert_memory_equal(q + 20, e.dgram + 20, 8); /* the echo header */
    assert_int_equal(fr_output(s, got), 0);
    assert_int_equal(sn_stack_bufs_in_use(s), 0);

    /* The slot is free: the same datagram, sent whole, now completes. */
    for (size_t i = 0; i < e.n; i++)
        send_frag(s, &e.frags[i], t0 + SN_SEC(6));
    expect_one_reply(s, &e);
    echo_free(&e);
    fr_stack_done(s, t0 + SN_SEC(6));
}

/* Without fragment 0 there is nothing to quote: the timeout is silent. The
 * default timeout is the config's. */
static void timeout_without_first_fragment(void **state)
{
    (void)state;
    struct sn_config cfg;
    sn_config_defaults(&cfg);
    struct sn_stack *s = fr_stack_new(&cfg, 1);
    struct echo e = echo_new(31, BIG_DATA, FR_MTU, 0, NULL, 0);
    for (size_t i = 1; i < e.n; i++)
        send_frag(s, &e.frags[i], FR_T0);
    sn_stack_advance(s, FR_T0 + SN_MSEC(cfg.reass_timeout_ms) - 1);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_TIMEOUT), 0);
    sn_stack_advance(s, FR_T0 + SN_MSEC(cfg.reass_timeout_ms));
    assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_TIMEOUT), 1);
    expect_nothing(s);
    assert_int_equal(sn_stack_bufs_in_use(s), 0);
    echo_free(&e);
    fr_stack_done(s, FR_T0 + SN_MSEC(cfg.reass_timeout_ms));
}

/* RFC 1122 3.2.2: no ICMP error about an ICMP error, even when its
 * reassembly times out with fragment 0 in hand. */
static void timeout_of_icmp_error_is_silent(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint8_t *msg = calloc(1, 3000);
    uint8_t *dgram = malloc(3100);
    assert_true(msg && dgram);
    msg[0] = 3; /* destination unreachable, quoting 2992 bytes */
    msg[1] = 1;
    fr_pattern(msg + 8, 2992, 1);
    msg[8] = 0x45;
    uint16_t c = csum(msg, 3000);
    msg[2] = (uint8_t)(c >> 8), msg[3] = (uint8_t)c;
    size_t len = fr_ip4(dgram, &(struct fr_ip){.proto = 1, .id = 40}, msg, 3000);
    size_t n;
    struct fr_frame *f = fr_fragment(dgram, len, FR_MTU, &n);
    send_frag(s, &f[0], FR_T0);
    sn_stack_advance(s, FR_T0 + SN_SEC(60));
    assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_TIMEOUT), 1);
    expect_nothing(s);
    free(f);
    free(dgram);
    free(msg);
    fr_stack_done(s, FR_T0 + SN_SEC(60));
}

/* At most cfg->reass_max_datagrams at once: a new one evicts the oldest
 * (IP4_FRAG_LIMIT); the others are untouched. */
static void slot_limit_evicts_oldest(void **state)
{
    (void)state;
    struct sn_config cfg;
    sn_config_defaults(&cfg);
    cfg.reass_max_datagrams = 4;
    struct sn_stack *s = fr_stack_new(&cfg, 1);
    struct echo e[5];
    for (int i = 0; i < 5; i++) {
        e[i] = echo_new((uint16_t)(50 + i), BIG_DATA, FR_MTU, 0, NULL, 0);
        send_frag(s, &e[i].frags[0], FR_T0 + i * SN_MSEC(10));
        assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_LIMIT), i < 4 ? 0 : 1);
    }
    assert_int_equal(sn_stack_bufs_in_use(s), 4);
    /* Datagrams 1..4 complete; 0 lost its first fragment. */
    for (int i = 1; i < 5; i++) {
        for (size_t k = 1; k < e[i].n; k++)
            send_frag(s, &e[i].frags[k], FR_T0 + SN_SEC(1));
        expect_one_reply(s, &e[i]);
    }
    assert_int_equal(sn_stack_bufs_in_use(s), 0);
    for (size_t k = 1; k < e[0].n; k++)
        send_frag(s, &e[0].frags[k], FR_T0 + SN_SEC(1));
    expect_nothing(s);
    for (int i = 0; i < 5; i++)
        echo_free(&e[i]);
    fr_stack_done(s, FR_T0 + SN_SEC(1));
}

/* cfg->reass_max_bytes bounds the memory held: with room for three
 * buffers, a fourth datagram evicts the oldest. */
static void memory_limit_evicts_oldest(void **state)
{
    (void)state;
    struct sn_config cfg;
    sn_config_defaults(&cfg);
    cfg.reass_max_bytes = 3 * (65536 + 192) + 100; /* three big buffers */
    struct sn_stack *s = fr_stack_new(&cfg, 1);
    struct echo e[4];
    for (int i = 0; i < 4; i++) {
        e[i] = echo_new((uint16_t)(60 + i), BIG_DATA, FR_MTU, 0, NULL, 0);
        send_frag(s, &e[i].frags[1], FR_T0 + i * SN_MSEC(10));
    }
    assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_LIMIT), 1);
    assert_int_equal(sn_stack_bufs_in_use(s), 3);
    for (int i = 1; i < 4; i++) {
        send_frag(s, &e[i].frags[0], FR_T0 + SN_SEC(1));
        for (size_t k = 2; k < e[i].n; k++)
            send_frag(s, &e[i].frags[k], FR_T0 + SN_SEC(1));
        expect_one_reply(s, &e[i]);
    }
    for (int i = 0; i < 4; i++)
        echo_free(&e[i]);
    fr_stack_done(s, FR_T0 + SN_SEC(1));
}

/* At its smallest setting (64 KiB) the memory bound still lets one
 * datagram of any size be reassembled at a time. */
static void memory_limit_minimum_still_works(void **state)
{
    (void)state;
    struct sn_config cfg;
    sn_config_defaults(&cfg);
    cfg.reass_max_bytes = 65536;
    struct sn_stack *s = fr_stack_new(&cfg, 1);
    struct echo e = echo_new(70, 65535 - 28, FR_MTU, 0, NULL, 0);
    for (size_t i = 0; i < e.n; i++)
        send_frag(s, &e.frags[i], FR_T0);
    expect_one_reply(s, &e);
    echo_free(&e);
    fr_stack_done(s, FR_T0);
}

/* RFC 791: the largest datagram is 65535 bytes; a fragment whose data would
 * end beyond that is dropped (IP4_FRAG_TOO_BIG) and nothing is held. */
static void too_big(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint8_t payload[64], f[200];
    fr_pattern(payload, sizeof(payload), 9);
    struct {
        uint16_t frag;
        size_t len;
        int ok;
    } cases[] = {
        {0x1fff, 8, 0},          /* offset 65528 + 8: MF clear, last */
        {0x2000 | 0x1fff, 8, 0}, /* same with MF */
        {8189, 24, 0},           /* 65512 + 24 = 65536 */
        {8189, 4, 0},            /* 65512 + 4 = 65516: one too many */
        {8189, 3, 1},            /* 65512 + 3 = 65515: exactly 65535 in all */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t before = fr_drops(s, SN_DROP_IP4_FRAG_TOO_BIG);
        size_t n = fr_eth_ip4(
            f, &(struct fr_ip){.proto = 1, .id = (uint16_t)(80 + i), .frag = cases[i].frag},
            payload, cases[i].len);
        fr_input(s, f, n, FR_T0);
        assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_TOO_BIG), before + !cases[i].ok);
        assert_int_equal(sn_stack_bufs_in_use(s), cases[i].ok ? 1 : 0);
        expect_nothing(s);
    }
    fr_stack_done(s, FR_T0);
}

/* RFC 791: every fragment but the last carries a multiple of 8 bytes, and
 * fragments carry data. A last fragment that disagrees with an earlier
 * one about the end, or a middle one beyond the end, is corrupt. */
static void bad_fragments(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    struct echo e = echo_new(90, BIG_DATA, FR_MTU, 0, NULL, 0);
    struct fr_frame f;

    make_frag(&f, &e, 1480, 1479, 1); /* middle, not a multiple of 8 */
    send_frag(s, &f, FR_T0);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_BAD), 1);
    make_frag(&f, &e, 1480, 0, 1); /* no data */
    send_frag(s, &f, FR_T0);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_BAD), 2);
    make_frag(&f, &e, 1480, 0, 0); /* no data, last */
    send_frag(s, &f, FR_T0);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_BAD), 3);
    assert_int_equal(sn_stack_bufs_in_use(s), 0);

    /* Two different ends. */
    make_frag(&f, &e, 2960, 100, 0);
    send_frag(s, &f, FR_T0);
    make_frag(&f, &e, 4440, 100, 0);
    send_frag(s, &f, FR_T0);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_BAD), 4);
    assert_int_equal(sn_stack_bufs_in_use(s), 0);
    /* A middle fragment past a known end. */
    make_frag(&f, &e, 1480, 100, 0);
    send_frag(s, &f, FR_T0);
    make_frag(&f, &e, 2960, 8, 1);
    send_frag(s, &f, FR_T0);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_BAD), 5);
    /* A last fragment ending before data already held. */
    make_frag(&f, &e, 2960, 800, 1);
    send_frag(s, &f, FR_T0);
    make_frag(&f, &e, 1480, 8, 0);
    send_frag(s, &f, FR_T0);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_FRAG_BAD), 6);
    assert_int_equal(sn_stack_bufs_in_use(s), 0);
    expect_nothing(s);

    /* Still works afterwards. */
    for (size_t i = 0; i < e.n; i++)
        send_frag(s, &e.frags[i], FR_T0);
    expect_one_reply(s, &e);
    echo_free(&e);
    fr_stack_done(s, FR_T0);
}

/* Too many holes: a datagram that needs more than the tracked number of
 * separate ranges is discarded (IP4_FRAG_LIMIT) instead of growing. */
static void too_many_holes(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    struct echo e = echo_new(95, BIG_DATA, FR_MTU, 0, NULL, 0);
    struct fr_frame f;
    int sent = 0;
    while (fr_drops(s, SN_DROP_IP4_FRAG_LIMIT) == 0 && sent < 1000) {
        make_frag(&f, &e, (uint32_t)sent * 16, 8, 1);
        send_frag(s, &f, FR_T0);
        sent++;
    }
    assert_true(sent > 1 && sent < 1000);
    assert_int_equal(sn_stack_bufs_in_use(s), 0);
    expect_nothing(s);
    echo_free(&e);
    fr_stack_done(s, FR_T0);
}

/* Datagrams are told apart by (source, destination, protocol, id): the same
 * id from two hosts are two datagrams. */
static void keyed_by_source(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    struct echo a = echo_new(99, 3000, FR_MTU, 0, NULL, 0);
    struct echo b = echo_new(99, 3000, FR_MTU, FR_OTHER_IP, NULL, 0);
    /* Teach the stack the other host's MAC so its reply can leave. */
    uint8_t arp[42];
    fr_arp(arp, 2, fr_our_mac, fr_other_mac, FR_OTHER_IP, fr_our_mac, FR_OUR_IP);
    fr_input(s, arp, sizeof(arp), FR_T0);
    for (size_t i = 0; i < a.n; i++) {
        send_frag(s, &a.frags[i], FR_T0);
        send_frag(s, &b.frags[i], FR_T0);
    }
    uint8_t got[FR_FRAME_MAX];
    size_t len, from_a = 0, from_b = 0;
    while ((len = fr_output(s, got)) > 0) {
        if (memcmp(got, fr_peer_mac, 6) == 0)
            from_a++;
        else if (memcmp(got, fr_other_mac, 6) == 0)
            from_b++;
    }
    assert_true(from_a >= 2 && from_b >= 2); /* each got its fragmented reply */
    assert_int_equal(fr_count(s, SN_C_ip4_reass_ok), 2);
    assert_int_equal(fr_drops_total(s), 0);
    echo_free(&a);
    echo_free(&b);
    fr_stack_done(s, FR_T0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(in_order_reverse_random),
        cmocka_unit_test(sizes),
        cmocka_unit_test(padded_last_fragment),
        cmocka_unit_test(with_options),
        cmocka_unit_test(duplicate_ignored),
        cmocka_unit_test(contained_is_duplicate),
        cmocka_unit_test(overlap_discards),
        cmocka_unit_test(timeout_with_first_fragment),
        cmocka_unit_test(timeout_without_first_fragment),
        cmocka_unit_test(timeout_of_icmp_error_is_silent),
        cmocka_unit_test(slot_limit_evicts_oldest),
        cmocka_unit_test(memory_limit_evicts_oldest),
        cmocka_unit_test(memory_limit_minimum_still_works),
        cmocka_unit_test(too_big),
        cmocka_unit_test(bad_fragments),
        cmocka_unit_test(too_many_holes),
        cmocka_unit_test(keyed_by_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
