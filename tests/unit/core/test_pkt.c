/* tests/unit/core/test_pkt.c: packet buffers and pools (core/pkt.c).
 * Pool accounting in the lwIP style: every test ends with the pool back at
 * in_use == 0 and pkt_pool_destroy() reporting no leak. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/pkt.h"

#define BUF_SIZE 2048u
#define COUNT 8u

static int setup_pool(void **state)
{
    struct pkt_pool *pool = pkt_pool_new("test", COUNT, BUF_SIZE);
    if (!pool)
        return -1;
    *state = pool;
    return 0;
}

/* Fails the test when the pool still has buffers out. */
static int teardown_pool(void **state)
{
    struct pkt_pool *pool = *state;
    assert_int_equal(pkt_pool_stats(pool)->in_use, 0);
    assert_int_equal(pkt_pool_destroy(pool), 0);
    return 0;
}

static void pool_properties(void **state)
{
    struct pkt_pool *pool = *state;
    const struct pkt_pool_stats *st = pkt_pool_stats(pool);

    assert_string_equal(pkt_pool_name(pool), "test");
    assert_int_equal(pkt_pool_buf_size(pool), BUF_SIZE);
    assert_int_equal(st->count, COUNT);
    assert_int_equal(st->in_use, 0);
    assert_int_equal(st->high_water, 0);
    assert_int_equal(st->allocs, 0);
    assert_int_equal(st->alloc_fail, 0);
}

static void alloc_free_basic(void **state)
{
    struct pkt_pool *pool = *state;
    const struct pkt_pool_stats *st = pkt_pool_stats(pool);

    struct pkt *p = pkt_alloc(pool, PKT_HEADROOM);
    assert_non_null(p);
    assert_ptr_equal(p->pool, pool);
    assert_null(p->next);
    assert_int_equal(p->len, 0);
    assert_int_equal(p->cap, BUF_SIZE);
    assert_int_equal(pkt_headroom(p), PKT_HEADROOM);
    assert_int_equal(pkt_tailroom(p), BUF_SIZE - PKT_HEADROOM);
    assert_ptr_equal(p->data, p->buf + PKT_HEADROOM);
    assert_int_equal(p->stamp, 0);
    assert_int_equal(p->off.csum_partial, 0);
    assert_int_equal(p->off.gso_size, 0);
    assert_int_equal(st->in_use, 1);
    assert_int_equal(st->allocs, 1);
    assert_int_equal(st->high_water, 1);

    pkt_free(p);
    assert_int_equal(st->in_use, 0);
    assert_int_equal(st->high_water, 1);
    pkt_free(NULL); /* allowed, and changes nothing */
    assert_int_equal(st->in_use, 0);
}

/* A recycled buffer must come back clean: no stale length, offload
 * metadata, stamp or queue link from its previous life. */
static void alloc_resets_recycled_buffer(void **state)
{
    struct pkt_pool *pool = *state;

    struct pkt *p = pkt_alloc(pool, 0);
    assert_non_null(p);
    memset(pkt_put(p, 100), 0xaa, 100);
    p->stamp = 12345;
    p->off.csum_partial = 1;
    p->off.gso_size = 1448;
    p->off.csum_start = 34;
    p->next = p; /* garbage link */
    pkt_free(p);

    /* Drain the pool so the recycled descriptor is among those handed out. */
    struct pkt *got[COUNT];
    for (unsigned i = 0; i < COUNT; i++) {
        got[i] = pkt_alloc(pool, 64);
        assert_non_null(got[i]);
        assert_int_equal(got[i]->len, 0);
        assert_int_equal(pkt_headroom(got[i]), 64);
        assert_int_equal(got[i]->stamp, 0);
        assert_null(got[i]->next);
        assert_int_equal(got[i]->off.csum_partial, 0);
        assert_int_equal(got[i]->off.gso_size, 0);
        assert_int_equal(got[i]->off.csum_start, 0);
    }
    for (unsigned i = 0; i < COUNT; i++)
        pkt_free(got[i]);
}

static void headroom_bounds(void **state)
{
    struct pkt_pool *pool = *state;
    const struct pkt_pool_stats *st = pkt_pool_stats(pool);

    struct pkt *p = pkt_alloc(pool, BUF_SIZE); /* all headroom, no tailroom */
    assert_non_null(p);
    assert_int_equal(pkt_headroom(p), BUF_SIZE);
    assert_int_equal(pkt_tailroom(p), 0);
    assert_null(pkt_put(p, 1));
    pkt_free(p);

    p = pkt_alloc(pool, 0);
    assert_non_null(p);
    assert_int_equal(pkt_headroom(p), 0);
    assert_null(pkt_push(p, 1));
    pkt_free(p);

    uint64_t fails = st->alloc_fail;
    assert_null(pkt_alloc(pool, BUF_SIZE + 1)); /* cannot fit */
    assert_int_equal(st->alloc_fail, fails + 1);
    assert_int_equal(st->in_use, 0);
}

static void push_pull_put_trim(void **state)
{
    struct pkt_pool *pool = *state;

    struct pkt *p = pkt_alloc(pool, 40);
    assert_non_null(p);

    /* put: appends at the tail */
    uint8_t *payload = pkt_put(p, 10);
    assert_ptr_equal(payload, p->data);
    memcpy(payload, "0123456789", 10);
    assert_int_equal(p->len, 10);
    assert_int_equal(pkt_tailroom(p), BUF_SIZE - 40 - 10);

    /* push: prepends without moving the payload */
    uint8_t *hdr = pkt_push(p, 20);
    assert_non_null(hdr);
    assert_ptr_equal(hdr, p->data);
    assert_ptr_equal(hdr + 20, payload);
    assert_int_equal(p->len, 30);
    assert_int_equal(pkt_headroom(p), 20);
    memset(hdr, 'h', 20);

    /* push exactly the remaining headroom, then one more byte fails */
    assert_non_null(pkt_push(p, 20));
    assert_int_equal(pkt_headroom(p), 0);
    uint8_t *before = p->data;
    assert_null(pkt_push(p, 1));
    assert_ptr_equal(p->data, before);
    assert_int_equal(p->len, 50);

    /* pull: removes from the front */
    assert_ptr_equal(pkt_pull(p, 40), payload);
    assert_int_equal(p->len, 10);
    assert_memory_equal(p->data, "0123456789", 10);
    assert_null(pkt_pull(p, 11)); /* longer than the packet: unchanged */
    assert_ptr_equal(p->data, payload);
    assert_int_equal(p->len, 10);

    /* trim: shortens, never lengthens */
    pkt_trim(p, 20);
    assert_int_equal(p->len, 10);
    pkt_trim(p, 4);
    assert_int_equal(p->len, 4);
    assert_memory_equal(p->data, "0123", 4);

    /* pull everything: empty but valid */
    assert_non_null(pkt_pull(p, 4));
    assert_int_equal(p->len, 0);
    pkt_trim(p, 0);
    assert_int_equal(p->len, 0);

    /* put up to exactly the tailroom, then one more fails */
    uint32_t room = pkt_tailroom(p);
    assert_non_null(pkt_put(p, room));
    assert_int_equal(pkt_tailroom(p), 0);
    assert_int_equal(pkt_headroom(p) + p->len, BUF_SIZE);
    assert_null(pkt_put(p, 1));
    assert_int_equal(p->len, room);

    /* huge values must not wrap around the bounds checks */
    assert_null(pkt_put(p, UINT32_MAX));
    assert_null(pkt_push(p, UINT32_MAX));
    assert_null(pkt_pull(p, UINT32_MAX));
    assert_int_equal(p->len, room);
    pkt_free(p);
}

static void exhaustion_counted(void **state)
{
    struct pkt_pool *pool = *state;
    const struct pkt_pool_stats *st = pkt_pool_stats(pool);

    struct pkt *got[COUNT];
    for (unsigned i = 0; i < COUNT; i++) {
        got[i] = pkt_alloc(pool, PKT_HEADROOM);
        assert_non_null(got[i]);
        for (unsigned j = 0; j < i; j++) {
            assert_ptr_not_equal(got[i], got[j]);
            /* buffers do not overlap */
            assert_true(got[i]->buf + BUF_SIZE <= got[j]->buf ||
                        got[j]->buf + BUF_SIZE <= got[i]->buf);
        }
    }
    assert_int_equal(st->in_use, COUNT);
    assert_int_equal(st->high_water, COUNT);
    assert_int_equal(st->alloc_fail, 0);

    assert_null(pkt_alloc(pool, PKT_HEADROOM));
    assert_null(pkt_alloc(pool, 0));
    assert_int_equal(st->alloc_fail, 2);
    assert_int_equal(st->allocs, COUNT);
    assert_int_equal(st->in_use, COUNT);

    /* one back, one out again */
    pkt_free(got[3]);
    assert_int_equal(st->in_use, COUNT - 1);
    got[3] = pkt_alloc(pool, PKT_HEADROOM);
    assert_non_null(got[3]);
    assert_int_equal(st->allocs, COUNT + 1);

    for (unsigned i = 0; i < COUNT; i++)
        pkt_free(got[i]);
    assert_int_equal(st->in_use, 0);
    assert_int_equal(st->high_water, COUNT);
}

static void clone_copies(void **state)
{
    struct pkt_pool *pool = *state;
    const struct pkt_pool_stats *st = pkt_pool_stats(pool);

    struct pkt *p = pkt_alloc(pool, 100);
    assert_non_null(p);
    for (uint32_t i = 0; i < 300; i++)
        *pkt_put(p, 1) = (uint8_t)i;
    p->stamp = 777;
    p->off.csum_partial = 1;
    p->off.csum_start = 34;
    p->off.csum_offset = 16;
    p->off.gso_type = 1;
    p->off.gso_size = 1448;

    struct pkt *c = pkt_clone(pool, p, 50);
    assert_non_null(c);
    assert_ptr_not_equal(c, p);
    assert_ptr_not_equal(c->buf, p->buf);
    assert_int_equal(c->len, 300);
    assert_int_equal(pkt_headroom(c), 50);
    assert_memory_equal(c->data, p->data, 300);
    assert_int_equal(c->stamp, 777);
    assert_memory_equal(&c->off, &p->off, sizeof(p->off));
    assert_int_equal(st->in_use, 2);

    /* the copy is independent of the original */
    c->data[0] = 0xff;
    assert_int_equal(p->data[0], 0);
    pkt_free(p);
    assert_int_equal(c->data[1], 1);

    /* a clone that cannot fit is refused and counted */
    uint64_t fails = st->alloc_fail;
    assert_null(pkt_clone(pool, c, BUF_SIZE - 299));
    assert_int_equal(st->alloc_fail, fails + 1);
    assert_int_equal(st->in_use, 1);

    /* exactly fitting works */
    struct pkt *d = pkt_clone(pool, c, BUF_SIZE - 300);
    assert_non_null(d);
    assert_int_equal(pkt_tailroom(d), 0);
    pkt_free(d);

    /* a clone into another pool with smaller buffers */
    struct pkt_pool *small = pkt_pool_new("small", 1, 256);
    assert_non_null(small);
    assert_null(pkt_clone(small, c, 0)); /* 300 bytes do not fit in 256 */
    assert_int_equal(pkt_pool_stats(small)->alloc_fail, 1);
    pkt_trim(c, 200);
    d = pkt_clone(small, c, 56);
    assert_non_null(d);
    assert_ptr_equal(d->pool, small);
    assert_int_equal(d->len, 200);
    assert_null(pkt_clone(small, c, 0)); /* pool exhausted */
    assert_int_equal(pkt_pool_stats(small)->alloc_fail, 2);
    pkt_free(d);
    assert_int_equal(pkt_pool_destroy(small), 0);

    /* cloning an empty packet */
    pkt_trim(c, 0);
    d = pkt_clone(pool, c, 10);
    assert_non_null(d);
    assert_int_equal(d->len, 0);
    pkt_free(d);
    pkt_free(c);
}

static void queue_fifo(void **state)
{
    struct pkt_pool *pool = *state;
    const struct pkt_pool_stats *st = pkt_pool_stats(pool);
    struct pkt_queue q;

    pktq_init(&q);
    assert_null(pktq_pop(&q));
    assert_int_equal(q.n, 0);

    struct pkt *got[COUNT];
    for (unsigned i = 0; i < COUNT; i++) {
        got[i] = pkt_alloc(pool, 0);
        assert_non_null(got[i]);
        got[i]->stamp = i;
        pktq_push(&q, got[i]);
        assert_int_equal(q.n, i + 1);
    }
    for (unsigned i = 0; i < COUNT / 2; i++) {
        struct pkt *p = pktq_pop(&q);
        assert_ptr_equal(p, got[i]);
        assert_null(p->next);
        pkt_free(p);
    }
    assert_int_equal(q.n, COUNT / 2);
    assert_int_equal(st->in_use, COUNT / 2);

    /* pop to empty, then push again: head and tail must be reset */
    while (q.n > 1)
        pkt_free(pktq_pop(&q));
    struct pkt *last = pktq_pop(&q);
    assert_ptr_equal(last, got[COUNT - 1]);
    assert_null(q.head);
    assert_null(q.tail);
    assert_null(pktq_pop(&q));
    pktq_push(&q, last);
    assert_ptr_equal(q.head, last);
    assert_ptr_equal(q.tail, last);

    /* purge frees everything it holds */
    for (unsigned i = 1; i < COUNT; i++)
        pktq_push(&q, pkt_alloc(pool, 0));
    assert_int_equal(q.n, COUNT);
    assert_int_equal(st->in_use, COUNT);
    pktq_purge(&q);
    assert_int_equal(q.n, 0);
    assert_null(q.head);
    assert_null(q.tail);
    assert_int_equal(st->in_use, 0);
    pktq_purge(&q); /* purging an empty queue is fine */
}

static void destroy_reports_leaks(void **state)
{
    (void)state;
    struct pkt_pool *pool = pkt_pool_new("leaky", 4, 128);
    assert_non_null(pool);
    assert_non_null(pkt_alloc(pool, 0));
    assert_non_null(pkt_alloc(pool, 0));
    struct pkt *p = pkt_alloc(pool, 0);
    pkt_free(p);
    assert_int_equal(pkt_pool_destroy(pool), 2);
    assert_int_equal(pkt_pool_destroy(NULL), 0);
}

/* Random alloc/free churn against a simple model of what is outstanding. */
static void churn_accounting(void **state)
{
    struct pkt_pool *pool = *state;
    const struct pkt_pool_stats *st = pkt_pool_stats(pool);
    struct pkt *held[COUNT] = {0};
    uint32_t n_held = 0, high = 0;
    uint64_t allocs = st->allocs, fails = st->alloc_fail;
    uint32_t rng = 12345;

    for (int step = 0; step < 20000; step++) {
        rng = rng * 1103515245u + 12345u;
        unsigned slot = (rng >> 16) % COUNT;
        if (held[slot]) {
            /* the bytes written at alloc time must still be intact */
            assert_int_equal(held[slot]->data[0], slot);
            pkt_free(held[slot]);
            held[slot] = NULL;
            n_held--;
        } else if ((rng >> 8) & 1) {
            held[slot] = pkt_alloc(pool, (rng >> 20) % 256);
            assert_non_null(held[slot]);
            *pkt_put(held[slot], 1) = (uint8_t)slot;
            allocs++;
            if (++n_held > high)
                high = n_held;
        }
        assert_int_equal(st->in_use, n_held);
        assert_int_equal(st->allocs, allocs);
        assert_int_equal(st->alloc_fail, fails);
    }
    assert_true(st->high_water >= high);
    for (unsigned i = 0; i < COUNT; i++)
        pkt_free(held[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pool_properties, setup_pool, teardown_pool),
        cmocka_unit_test_setup_teardown(alloc_free_basic, setup_pool, teardown_pool),
        cmocka_unit_test_setup_teardown(alloc_resets_recycled_buffer, setup_pool, teardown_pool),
        cmocka_unit_test_setup_teardown(headroom_bounds, setup_pool, teardown_pool),
        cmocka_unit_test_setup_teardown(push_pull_put_trim, setup_pool, teardown_pool),
        cmocka_unit_test_setup_teardown(exhaustion_counted, setup_pool, teardown_pool),
        cmocka_unit_test_setup_teardown(clone_copies, setup_pool, teardown_pool),
        cmocka_unit_test_setup_teardown(queue_fifo, setup_pool, teardown_pool),
        cmocka_unit_test(destroy_reports_leaks),
        cmocka_unit_test_setup_teardown(churn_accounting, setup_pool, teardown_pool),
    };
    return cmocka_run_group_tests_name("core/pkt", tests, NULL, NULL);
}
