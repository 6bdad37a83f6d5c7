/* tests/unit/link/test_impair.c: the impairment link (link/impair.c).
 * Measured rates match the configured ones within statistical bounds (a
 * binomial count within 5 standard deviations: a false alarm about once in
 * 3.5 million runs, and the seeds are fixed anyway), every corruption is a
 * single bit that the IPv4 or ICMP checksum catches, reordering holds a
 * frame back by exactly its gap, delay and jitter stay in their range
 * without reordering, the rate limit keeps to its rate and its queue bound,
 * and the same seed gives the same decisions. Every test ends with the
 * pool back at in_use == 0. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/bytes.h"
#include "helpers/frames.h"
#include "link/link.h"
#include "wire/csum.h"

#define N_FRAMES 100000
#define PAYLOAD 100

struct fixture {
    struct pkt_pool *pool;
    struct link *a, *b; /* a: the impairment around one end of a pipe; b: the other end */
};

static struct fixture fx;

static void wrap(const struct impair_params *tx, const struct impair_params *rx, uint64_t seed)
{
    struct link *pa;
    fx.pool = pkt_pool_new("impair", 4096, 2048);
    assert_non_null(fx.pool);
    assert_int_equal(pipe_pair(1500, 1u << 20, &pa, &fx.b), 0);
    struct impair_cfg cfg = {.seed = seed};
    if (tx)
        cfg.dir[IMPAIR_TX] = *tx;
    if (rx)
        cfg.dir[IMPAIR_RX] = *rx;
    assert_int_equal(impair_wrap(pa, &cfg, &fx.a), 0);
}

static void unwrap(void)
{
    link_close(fx.a);
    link_close(fx.b);
    assert_int_equal(pkt_pool_stats(fx.pool)->in_use, 0);
    assert_int_equal(pkt_pool_destroy(fx.pool), 0);
    memset(&fx, 0, sizeof(fx));
}

/* An echo request whose ICMP sequence number is @seq (so the frame says
 * which one it is), with valid IPv4 and ICMP checksums. */
static struct pkt *ping_frame(uint16_t seq)
{
    uint8_t data[PAYLOAD];
    uint8_t frame[FR_FRAME_MAX];
    fr_pattern(data, sizeof(data), seq);
    size_t len = fr_ping(frame, 0x5151, seq, data, sizeof(data));
    struct pkt *p = pkt_alloc(fx.pool, PKT_HEADROOM);
    assert_non_null(p);
    memcpy(pkt_put(p, (uint32_t)len), frame, len);
    return p;
}

static uint16_t frame_seq(const struct pkt *p) { return rd16(p->data + 14 + 20 + 6); }

static void send_one(struct pkt *p, sn_time now)
{
    assert_int_equal(link_send(fx.a, &p, 1, now), 1);
}

/* Receives what arrived at the far end by @now (releasing the line of
 * frames due then), frees it and returns how many. @seqs (may be NULL)
 * gets their sequence numbers. */
static int drain(sn_time now, uint16_t *seqs, int max)
{
    struct pkt *out[64];
    int total = 0, n;
    link_recv(fx.a, fx.pool, out, 0, now); /* flushes the send direction */
    while ((n = link_recv(fx.b, fx.pool, out, 64, now)) > 0) {
        for (int i = 0; i < n; i++) {
            if (seqs && total < max)
                seqs[total] = frame_seq(out[i]);
            total++;
            pkt_free(out[i]);
        }
    }
    return total;
}

/* |measured - n*p| within 5 binomial standard deviations. */
static void assert_rate(uint64_t measured, uint64_t n, double p)
{
    double mean = (double)n * p, sd = sqrt((double)n * p * (1 - p));
    if (fabs((double)measured - mean) > 5 * sd + 1)
        fail_msg("measured %llu of %llu, expected %.1f +- %.1f (5 sd)",
                 (unsigned long long)measured, (unsigned long long)n, mean, 5 * sd);
}

/* ---- tests -------------------------------------------------------------- */

static void passthrough(void **state)
{
    (void)state;
    struct impair_params none;
    memset(&none, 0, sizeof(none));
    assert_false(impair_params_active(&none));
    wrap(&none, &none, 1);
    assert_int_equal(fx.a->kind, LINK_ETH);
    assert_int_equal(fx.a->mtu, 1500);
    for (uint16_t i = 0; i < 100; i++)
        send_one(ping_frame(i), 0);
    uint16_t seqs[100];
    assert_int_equal(drain(0, seqs, 100), 100);
    for (uint16_t i = 0; i < 100; i++)
        assert_int_equal(seqs[i], i);
    assert_int_equal(link_next_deadline(fx.a), SN_TIME_NEVER);
    const struct impair_stats *st = impair_stats(fx.a, IMPAIR_TX);
    assert_int_equal(st->frames_in, 100);
    assert_int_equal(st->frames_out, 100);
    assert_int_equal(st->bytes_in, st->bytes_out);
    assert_null(impair_stats(fx.b, IMPAIR_TX));
    unwrap();
}

static void invalid_params(void **state)
{
    (void)state;
    struct link *pa, *pb, *out = NULL;
    struct impair_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.dir[IMPAIR_RX].loss = 1.5;
    assert_int_equal(pipe_pair(1500, 16, &pa, &pb), 0);
    assert_int_equal(impair_wrap(pa, &cfg, &out), -EINVAL); /* closes pa */
    assert_null(out);
    cfg.dir[IMPAIR_RX].loss = 0;
    cfg.dir[IMPAIR_TX].delay_us = -1;
    assert_int_equal(pipe_pair(1500, 16, &pa, &pb), 0);
    assert_int_equal(impair_wrap(pa, &cfg, &out), -EINVAL);
    link_close(pb);
}

static void loss_rate(void **state)
{
    (void)state;
    struct impair_params p = {.loss = 0.1};
    wrap(&p, NULL, 7);
    for (uint32_t i = 0; i < N_FRAMES; i++) {
        send_one(ping_frame((uint16_t)i), 0);
        if (i % 1000 == 999)
            drain(0, NULL, 0);
    }
    int got = drain(0, NULL, 0);
    (void)got;
    const struct impair_stats *st = impair_stats(fx.a, IMPAIR_TX);
    assert_int_equal(st->frames_in, N_FRAMES);
    assert_rate(st->lost, N_FRAMES, 0.1);
    assert_int_equal(st->frames_out, N_FRAMES - st->lost);
    assert_int_equal(st->lost_bad, 0);
    unwrap();
}

/* Gilbert-Elliott: the mean loss and the mean burst length. Losses are
 * correlated, so the count's spread is wider than a binomial's: the
 * bounds are relative (10 % of the mean loss, 10 % of the burst). */
static void bursty_loss(void **state)
{
    (void)state;
    struct impair_params p;
    memset(&p, 0, sizeof(p));
    impair_params_burst_loss(&p, 0.05, 4);
    wrap(&p, NULL, 11);
    uint16_t seqs[1024];
    uint32_t expect = 0, lost = 0, bursts = 0, run = 0;
    for (uint32_t i = 0; i < N_FRAMES; i++) {
        send_one(ping_frame((uint16_t)i), 0);
        if (i % 1000 == 999 || i == N_FRAMES - 1) {
            int n = drain(0, seqs, 1024);
            for (int k = 0; k < n; k++) {
                uint16_t gap = (uint16_t)(seqs[k] - (uint16_t)expect);
                if (gap) {
                    lost += gap;
                    bursts++;
                }
                expect += gap + 1u;
            }
            run = (uint32_t)(i + 1) - expect; /* a burst still open at the end */
        }
    }
    lost += run;
    bursts += run > 0;
    const struct impair_stats *st = impair_stats(fx.a, IMPAIR_TX);
    assert_int_equal(st->lost, lost);
    assert_int_equal(st->lost_bad, lost); /* none lost in Good */
    double rate = (double)lost / N_FRAMES, burst = (double)lost / bursts;
    if (fabs(rate - 0.05) > 0.005 || fabs(burst - 4) > 0.4)
        fail_msg("loss %.4f (want 0.05), mean burst %.2f (want 4)", rate, burst);
    unwrap();
}

/* The chain also moves with time: frames a second apart (a thousand
 * 1 ms slots) meet independent states, so the mean loss holds but bursts
 * shrink to what independent loss gives (1 / (1 - 0.05) frames). */
static void bursty_loss_idle(void **state)
{
    (void)state;
    struct impair_params p;
    memset(&p, 0, sizeof(p));
    impair_params_burst_loss(&p, 0.05, 4);
    wrap(&p, NULL, 12);
    uint32_t n = 20000, lost = 0, bursts = 0;
    bool prev_lost = false;
    for (uint32_t i = 0; i < n; i++) {
        send_one(ping_frame((uint16_t)i), SN_SEC(i));
        bool l = drain(SN_SEC(i), NULL, 0) == 0;
        lost += l;
        bursts += l && !prev_lost;
        prev_lost = l;
    }
    assert_rate(lost, n, 0.05);
    double burst = (double)lost / bursts;
    if (burst > 1.15)
        fail_msg("mean burst %.2f frames a second apart, want about 1.05", burst);
    unwrap();
}

static void dup_rate(void **state)
{
    (void)state;
    struct impair_params p = {.dup = 0.05};
    wrap(NULL, &p, 3); /* the receive direction this time */
    uint64_t got = 0;
    uint16_t last = 0;
    for (uint32_t i = 0; i < N_FRAMES; i++) {
        struct pkt *f = ping_frame((uint16_t)i);
        assert_int_equal(link_send(fx.b, &f, 1, 0), 1);
        if (i % 1000 == 999 || i == N_FRAMES - 1) {
            struct pkt *out[64];
            int n;
            while ((n = link_recv(fx.a, fx.pool, out, 64, 0)) > 0)
                for (int k = 0; k < n; k++) {
                    /* A copy follows its original at once. */
                    uint16_t s = frame_seq(out[k]);
                    assert_true(got == 0 || s == last || s == (uint16_t)(last + 1));
                    last = s;
                    got++;
                    pkt_free(out[k]);
                }
        }
    }
    const struct impair_stats *st = impair_stats(fx.a, IMPAIR_RX);
    assert_rate(st->duplicated, N_FRAMES, 0.05);
    assert_int_equal(got, N_FRAMES + st->duplicated);
    assert_int_equal(st->frames_out, got);
    assert_int_equal(st->dup_failed, 0);
    unwrap();
}

/* Every corrupted frame differs from its original in exactly one bit, in
 * the IPv4 packet, and fails the IPv4 header or the ICMP checksum. */
static void corrupt_rate_and_caught(void **state)
{
    (void)state;
    struct impair_params p = {.corrupt = 0.02};
    wrap(&p, NULL, 5);
    uint64_t corrupted = 0;
    for (uint32_t i = 0; i < N_FRAMES; i++) {
        send_one(ping_frame((uint16_t)i), 0);
        link_recv(fx.a, fx.pool, NULL, 0, 0);
        struct pkt *out;
        assert_int_equal(link_recv(fx.b, fx.pool, &out, 1, 0), 1);
        struct pkt *orig = ping_frame((uint16_t)i);
        assert_int_equal(out->len, orig->len);
        uint32_t bits = 0, first = 0;
        for (uint32_t k = 0; k < out->len; k++) {
            uint8_t d = out->data[k] ^ orig->data[k];
            if (d && !bits)
                first = k;
            bits += (uint32_t)__builtin_popcount(d);
        }
        if (bits) {
            corrupted++;
            assert_int_equal(bits, 1);
            assert_true(first >= 14); /* never the Ethernet header */
            const uint8_t *ip = out->data + 14;
            bool ip_bad = csum_buf(ip, 20) != 0;
            bool icmp_bad = csum_buf(ip + 20, out->len - 34) != 0;
            assert_true(ip_bad || icmp_bad);
        }
        pkt_free(out);
        pkt_free(orig);
    }
    const struct impair_stats *st = impair_stats(fx.a, IMPAIR_TX);
    assert_int_equal(st->corrupted, corrupted);
    assert_rate(corrupted, N_FRAMES, 0.02);
    unwrap();
}

/* ARP has no checksum: a corruption picked for it is skipped and counted. */
static void arp_not_corrupted(void **state)
{
    (void)state;
    struct impair_params p = {.corrupt = 1};
    wrap(&p, NULL, 5);
    uint8_t frame[64];
    size_t len = fr_arp(frame, 1, fr_bcast, fr_peer_mac, FR_PEER_IP, fr_bcast, FR_OUR_IP);
    struct pkt *f = pkt_alloc(fx.pool, PKT_HEADROOM);
    memcpy(pkt_put(f, (uint32_t)len), frame, len);
    send_one(f, 0);
    link_recv(fx.a, fx.pool, NULL, 0, 0);
    struct pkt *out;
    assert_int_equal(link_recv(fx.b, fx.pool, &out, 1, 0), 1);
    assert_memory_equal(out->data, frame, len);
    pkt_free(out);
    const struct impair_stats *st = impair_stats(fx.a, IMPAIR_TX);
    assert_int_equal(st->corrupted, 0);
    assert_int_equal(st->corrupt_skipped, 1);
    unwrap();
}

/* Held back by a gap of 3: each reordered frame arrives right after the
 * third frame sent after it. */
static void reorder_gap(void **state)
{
    (void)state;
    struct impair_params p = {.reorder = 0.05, .reorder_gap = 3, .reorder_hold_us = SN_SEC(10)};
    wrap(&p, NULL, 9);
    static uint16_t seqs[N_FRAMES];
    int got = 0;
    for (uint32_t i = 0; i < N_FRAMES; i++) {
        send_one(ping_frame((uint16_t)i), 0);
        got += drain(0, seqs + got, N_FRAMES - got);
    }
    got += drain(SN_SEC(100), seqs + got, N_FRAMES - got); /* the last held ones time out */
    assert_int_equal(got, N_FRAMES);
    const struct impair_stats *st = impair_stats(fx.a, IMPAIR_TX);
    assert_rate(st->reordered, N_FRAMES, 0.05);
    /* Frames that arrived after a later one (overtaken), and by how many:
     * exactly the gap, unless another held frame was among them. Held
     * frames among the last three were overtaken by fewer (none followed). */
    uint64_t late = 0, exact = 0;
    uint16_t highest = 0;
    for (int k = 0; k < got; k++) {
        if (k > 0 && (int16_t)(seqs[k] - highest) < 0) {
            late++;
            int overtook = 0;
            for (int j = k - 1; j >= 0 && j >= k - 10; j--)
                overtook += (int16_t)(seqs[j] - seqs[k]) > 0;
            exact += overtook == 3;
        } else {
            highest = seqs[k];
        }
    }
    assert_true(late <= st->reordered && late + 3 >= st->reordered);
    assert_true(exact * 10 >= late * 8); /* most: held frames rarely sit side by side */
    unwrap();
}

/* Held back by time: 10 % of frames leave 20 ms after the others sent with
 * them; the rest are not delayed at all. */
static void reorder_time(void **state)
{
    (void)state;
    struct impair_params p = {.reorder = 0.1, .reorder_gap = 0, .reorder_hold_us = SN_MSEC(20)};
    wrap(&p, NULL, 21);
    int now_n = 0, late_n = 0;
    for (uint16_t i = 0; i < 1000; i++) {
        send_one(ping_frame(i), SN_MSEC(100) * i);
        now_n += drain(SN_MSEC(100) * i, NULL, 0);
        assert_true(link_next_deadline(fx.a) == SN_TIME_NEVER ||
                    link_next_deadline(fx.a) == SN_MSEC(100) * i + SN_MSEC(20));
        late_n += drain(SN_MSEC(100) * i + SN_MSEC(20), NULL, 0);
    }
    const struct impair_stats *st = impair_stats(fx.a, IMPAIR_TX);
    assert_int_equal(late_n, st->reordered);
    assert_int_equal(now_n + late_n, 1000);
    assert_rate(st->reordered, 1000, 0.1);
    unwrap();
}

/* Delay with jitter: every frame within delay +- jitter of its sending,
 * in order; next_deadline names the first release. */
static void delay_jitter(void **state)
{
    (void)state;
    struct impair_params p = {.delay_us = SN_MSEC(50), .jitter_us = SN_MSEC(10)};
    wrap(&p, NULL, 13);
    const sn_time step = SN_MSEC(3);
    uint16_t sent = 0, expect = 0;
    send_one(ping_frame(sent++), 0);
    sn_time first = link_next_deadline(fx.a);
    assert_true(first >= SN_MSEC(40) && first <= SN_MSEC(60));
    /* The clock moves to the next send or the next release, whichever is
     * first, as an event loop would. */
    while (expect < 1000) {
        sn_time t_send = sent < 1000 ? sent * step : SN_TIME_NEVER;
        sn_time t_rel = link_next_deadline(fx.a);
        sn_time now = t_send < t_rel ? t_send : t_rel;
        assert_true(now != SN_TIME_NEVER);
        if (now == t_send)
            send_one(ping_frame(sent++), now);
        uint16_t seqs[64];
        int n = drain(now, seqs, 64);
        for (int k = 0; k < n; k++) {
            assert_int_equal(seqs[k], expect);
            sn_time at = expect * step;
            /* Jitter never reorders: a frame may wait for its predecessor. */
            assert_true(now >= at + SN_MSEC(40));
            assert_true(now <= at + SN_MSEC(60));
            expect++;
        }
    }
    assert_int_equal(link_next_deadline(fx.a), SN_TIME_NEVER);
    unwrap();
}

/* 10 Mbit/s offered 20 Mbit/s for a second: about 10 Mbit leave, the rest
 * is tail-dropped, and no frame waits longer than the queue allows. */
static void rate_limit(void **state)
{
    (void)state;
    struct impair_params p = {.rate_bps = 10000000, .queue_bytes = 64 * 1024};
    wrap(&p, NULL, 17);
    struct pkt *probe = ping_frame(0);
    uint32_t flen = probe->len;
    pkt_free(probe);
    sn_time gap = (sn_time)((uint64_t)flen * 8 * 1000000 / 20000000); /* 20 Mbit/s */
    uint64_t out_bytes = 0;
    sn_time now = 0, max_wait = (sn_time)(64 * 1024 * 8 / 10) + SN_MSEC(1);
    uint32_t i = 0;
    sn_time sent_at[65536];
    for (now = 0; now < SN_SEC(1); now += gap, i++) {
        sent_at[i & 0xffff] = now;
        send_one(ping_frame((uint16_t)i), now);
        uint16_t seqs[64];
        int n = drain(now, seqs, 64);
        for (int k = 0; k < n; k++) {
            assert_true(now - sent_at[seqs[k]] <= max_wait);
            out_bytes += flen;
        }
    }
    const struct impair_stats *st = impair_stats(fx.a, IMPAIR_TX);
    double mbit = (double)out_bytes * 8 / 1e6;
    if (mbit < 9.5 || mbit > 10.5)
        fail_msg("%.2f Mbit left in 1 s at a 10 Mbit/s limit", mbit);
    assert_true(st->rate_dropped > 0);
    assert_int_equal(st->frames_in, i);
    unwrap();
}

/* The same seed, the same decisions; another seed, others. */
static uint64_t fingerprint(uint64_t seed)
{
    struct impair_params p = {.loss = 0.1, .dup = 0.1, .reorder = 0.1, .reorder_gap = 2,
                              .corrupt = 0.1, .delay_us = SN_MSEC(5), .jitter_us = SN_MSEC(5)};
    wrap(&p, &p, seed);
    uint64_t h = 1469598103934665603ULL;
    for (uint16_t i = 0; i < 2000; i++) {
        send_one(ping_frame(i), i * 100);
        uint16_t seqs[64];
        int n = drain(i * 100, seqs, 64);
        for (int k = 0; k < n; k++)
            h = (h ^ seqs[k]) * 1099511628211ULL;
    }
    const struct impair_stats *st = impair_stats(fx.a, IMPAIR_TX);
    h = (h ^ st->lost) * 1099511628211ULL;
    h = (h ^ st->corrupted) * 1099511628211ULL;
    unwrap();
    return h;
}

static void deterministic(void **state)
{
    (void)state;
    assert_true(fingerprint(42) == fingerprint(42));
    assert_true(fingerprint(42) != fingerprint(43));
}

/* Frames still held when the link closes go back to their pool. */
static void close_frees_held(void **state)
{
    (void)state;
    struct impair_params p = {.delay_us = SN_SEC(1)};
    wrap(&p, &p, 1);
    for (uint16_t i = 0; i < 10; i++)
        send_one(ping_frame(i), 0);
    assert_int_equal(impair_held(fx.a, IMPAIR_TX), 10);
    assert_int_equal(link_next_deadline(fx.a), SN_SEC(1));
    unwrap(); /* asserts in_use == 0 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(passthrough),
        cmocka_unit_test(invalid_params),
        cmocka_unit_test(loss_rate),
        cmocka_unit_test(bursty_loss),
        cmocka_unit_test(bursty_loss_idle),
        cmocka_unit_test(dup_rate),
        cmocka_unit_test(corrupt_rate_and_caught),
        cmocka_unit_test(arp_not_corrupted),
        cmocka_unit_test(reorder_gap),
        cmocka_unit_test(reorder_time),
        cmocka_unit_test(delay_jitter),
        cmocka_unit_test(rate_limit),
        cmocka_unit_test(deterministic),
        cmocka_unit_test(close_frees_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
