/* tests/unit/link/test_pipe.c: the memory link pair (link/pipe.c).
 * Ordering, the depth bound and its drop count, zero-copy hand-over, and
 * pool accounting: every test ends with the pool back at in_use == 0. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "link/link.h"

#define MTU 1500u
#define DEPTH 4u

struct fixture {
    struct pkt_pool *pool;
    struct link *a, *b;
};

static int setup(void **state)
{
    static struct fixture f;
    f.pool = pkt_pool_new("pipe", 16, 2048);
    if (!f.pool || pipe_pair(MTU, DEPTH, &f.a, &f.b) != 0)
        return -1;
    *state = &f;
    return 0;
}

/* Closes whatever ends the test left open, then checks for leaks. */
static int teardown(void **state)
{
    struct fixture *f = *state;
    link_close(f->a);
    link_close(f->b);
    assert_int_equal(pkt_pool_stats(f->pool)->in_use, 0);
    assert_int_equal(pkt_pool_destroy(f->pool), 0);
    return 0;
}

/* A frame of @len bytes whose first byte is @tag, the rest a pattern. */
static struct pkt *frame(struct pkt_pool *pool, uint32_t len, uint8_t tag)
{
    struct pkt *p = pkt_alloc(pool, PKT_HEADROOM);
    assert_non_null(p);
    uint8_t *d = pkt_put(p, len);
    assert_non_null(d);
    for (uint32_t i = 0; i < len; i++)
        d[i] = (uint8_t)(tag + i);
    return p;
}

static void properties(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->a->kind, LINK_ETH);
    assert_int_equal(f->b->kind, LINK_ETH);
    assert_int_equal(f->a->mtu, MTU);
    assert_int_equal(f->b->mtu, MTU);
    assert_int_equal(link_fd(f->a), -1);
    assert_true(link_next_deadline(f->a) == SN_TIME_NEVER);
    /* Distinct, locally administered, unicast. */
    assert_memory_not_equal(f->a->mac, f->b->mac, 6);
    assert_int_equal(f->a->mac[0] & 0x03, 0x02);
    assert_int_equal(f->b->mac[0] & 0x03, 0x02);
    assert_string_not_equal(f->a->name, f->b->name);
}

static void zero_depth_rejected(void **state)
{
    (void)state;
    struct link *a = NULL, *b = NULL;
    assert_int_equal(pipe_pair(MTU, 0, &a, &b), -EINVAL);
    assert_null(a);
    assert_null(b);
}

static void nothing_waiting(void **state)
{
    struct fixture *f = *state;
    struct pkt *out[4];
    assert_int_equal(link_recv(f->a, f->pool, out, 4, 0), 0);
    assert_int_equal(link_recv(f->b, f->pool, out, 4, 0), 0);
}

/* Frames arrive in the order sent, as the same buffers (zero copy), with
 * their bytes untouched and stamped with the receiver's "now". */
static void ordered_zero_copy(void **state)
{
    struct fixture *f = *state;
    struct pkt *sent[3];
    for (int i = 0; i < 3; i++)
        sent[i] = frame(f->pool, 60 + (uint32_t)i, (uint8_t)(i * 16));
    struct pkt *keep[3] = {sent[0], sent[1], sent[2]};
    assert_int_equal(link_send(f->a, sent, 3, 100), 3);

    struct pkt *out[8];
    assert_int_equal(link_recv(f->b, f->pool, out, 8, 250), 3);
    for (int i = 0; i < 3; i++) {
        assert_ptr_equal(out[i], keep[i]);
        assert_int_equal(out[i]->len, 60 + i);
        assert_int_equal(out[i]->data[0], i * 16);
        assert_int_equal(out[i]->data[59], (uint8_t)(i * 16 + 59));
        assert_int_equal(out[i]->stamp, 250);
        pkt_free(out[i]);
    }
    /* Nothing came back the other way. */
    assert_int_equal(link_recv(f->a, f->pool, out, 8, 300), 0);
}

/* recv returns at most @max; the rest stays queued, still in order. */
static void recv_respects_max(void **state)
{
    struct fixture *f = *state;
    struct pkt *sent[4];
    for (int i = 0; i < 4; i++)
        sent[i] = frame(f->pool, 64, (uint8_t)i);
    assert_int_equal(link_send(f->b, sent, 4, 0), 4);

    struct pkt *out[4];
    assert_int_equal(link_recv(f->a, f->pool, out, 3, 0), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(out[i]->data[0], i);
        pkt_free(out[i]);
    }
    assert_int_equal(link_recv(f->a, f->pool, out, 3, 0), 1);
    assert_int_equal(out[0]->data[0], 3);
    pkt_free(out[0]);
}

/* Past @depth frames waiting, sends are dropped, freed and counted at the
 * receiving end; the first @depth still arrive in order. */
static void depth_limit_drops(void **state)
{
    struct fixture *f = *state;
    struct pkt *sent[DEPTH + 3];
    for (uint32_t i = 0; i < DEPTH + 3; i++)
        sent[i] = frame(f->pool, 64, (uint8_t)i);
    assert_int_equal(link_send(f->a, sent, DEPTH + 3, 0), DEPTH);
    assert_int_equal(pipe_dropped(f->b), 3);
    assert_int_equal(pipe_dropped(f->a), 0);
    assert_int_equal(pkt_pool_stats(f->pool)->in_use, DEPTH);

    /* Once drained there is room again. */
    struct pkt *out[DEPTH + 3];
    assert_int_equal(link_recv(f->b, f->pool, out, DEPTH + 3, 0), DEPTH);
    for (uint32_t i = 0; i < DEPTH; i++) {
        assert_int_equal(out[i]->data[0], i);
        pkt_free(out[i]);
    }
    struct pkt *one = frame(f->pool, 64, 0x42);
    assert_int_equal(link_send(f->a, &one, 1, 0), 1);
    assert_int_equal(pipe_dropped(f->b), 3);
}

/* Frames still queued when the ends close go back to their pool. */
static void close_frees_queued(void **state)
{
    struct fixture *f = *state;
    struct pkt *to_b[3], *to_a[2];
    for (int i = 0; i < 3; i++)
        to_b[i] = frame(f->pool, 100, (uint8_t)i);
    for (int i = 0; i < 2; i++)
        to_a[i] = frame(f->pool, 100, (uint8_t)i);
    assert_int_equal(link_send(f->a, to_b, 3, 0), 3);
    assert_int_equal(link_send(f->b, to_a, 2, 0), 2);
    assert_int_equal(pkt_pool_stats(f->pool)->in_use, 5);

    link_close(f->b);
    f->b = NULL;
    assert_int_equal(pkt_pool_stats(f->pool)->in_use, 2);
    link_close(f->a);
    f->a = NULL;
    assert_int_equal(pkt_pool_stats(f->pool)->in_use, 0);
}

/* Sending towards an end that is closed drops (and frees) the frames. */
static void send_to_closed_end(void **state)
{
    struct fixture *f = *state;
    link_close(f->b);
    f->b = NULL;
    struct pkt *sent[2] = {frame(f->pool, 64, 1), frame(f->pool, 64, 2)};
    assert_int_equal(link_send(f->a, sent, 2, 0), 0);
    assert_int_equal(pkt_pool_stats(f->pool)->in_use, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(properties, setup, teardown),
        cmocka_unit_test(zero_depth_rejected),
        cmocka_unit_test_setup_teardown(nothing_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(ordered_zero_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(recv_respects_max, setup, teardown),
        cmocka_unit_test_setup_teardown(depth_limit_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(close_frees_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(send_to_closed_end, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
