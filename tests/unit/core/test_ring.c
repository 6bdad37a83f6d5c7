/* tests/unit/core/test_ring.c: socket byte rings (core/ring.c): growth on
 * demand up to the bound, wraparound, out-of-order writes then commit,
 * storage given back when empty, and that storage reused (the cache). Checked against a flat reference buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/ring.h"

static void test_lazy_and_bounded(void **state)
{
    (void)state;
    struct ring r;
    ring_init(&r, 10000);
    assert_null(r.buf); /* an idle connection costs nothing */
    uint8_t big[20000];
    memset(big, 7, sizeof(big));
    assert_int_equal(ring_write(&r, big, sizeof(big)), 10000);
    assert_int_equal(ring_space(&r), 0);
    assert_int_equal(ring_write(&r, big, 1), 0);
    assert_int_equal(ring_read(&r, NULL, 10000), 10000);
    ring_compact(&r);
    assert_null(r.buf);
    ring_free(&r);
}

static void test_wraparound_matches_reference(void **state)
{
    (void)state;
    struct ring r;
    ring_init(&r, 8192);
    uint8_t ref[1 << 16];
    size_t head = 0, tail = 0;
    srand(42);
    for (int i = 0; i < 20000; i++) {
        uint8_t buf[3000];
        if (rand() % 2) {
            uint32_t n = (uint32_t)(rand() % 3000);
            for (uint32_t k = 0; k < n; k++)
                buf[k] = (uint8_t)(tail + k);
            uint32_t w = ring_write(&r, buf, n);
            assert_true(w <= n);
            for (uint32_t k = 0; k < w; k++)
                ref[(tail + k) & 0xffff] = buf[k];
            tail += w;
        } else {
            uint32_t n = (uint32_t)(rand() % 3000);
            uint32_t got = ring_read(&r, buf, n);
            assert_int_equal(got, n < tail - head ? n : tail - head);
            for (uint32_t k = 0; k < got; k++)
                assert_int_equal(buf[k], ref[(head + k) & 0xffff]);
            head += got;
        }
        assert_int_equal(r.len, tail - head);
    }
    ring_free(&r);
}

static void test_out_of_order_then_commit(void **state)
{
    (void)state;
    struct ring r;
    ring_init(&r, 65536);
    ring_write(&r, "ab", 2);
    assert_int_equal(ring_write_at(&r, 2 + 3, "FGH", 3), 0); /* a hole of 3 */
    assert_int_equal(r.len, 2);
    assert_int_equal(ring_write_at(&r, 2, "CDE", 3), 0);
    ring_commit(&r, 6);
    char out[9] = {0};
    assert_int_equal(ring_read(&r, out, 8), 8);
    assert_string_equal(out, "abCDEFGH");
    assert_int_equal(ring_write_at(&r, 65536, "x", 1), -1); /* beyond the bound */
    ring_free(&r);
}

static void test_growth_keeps_uncommitted_bytes(void **state)
{
    (void)state;
    struct ring r;
    ring_init(&r, 1 << 20);
    ring_write_at(&r, 100, "Z", 1); /* held at 100 in a 4 KiB ring */
    ring_write_at(&r, 50000, "Y", 1); /* forces growth */
    uint8_t pad[100];
    memset(pad, 'p', sizeof(pad));
    ring_write_at(&r, 0, pad, 100);
    ring_commit(&r, 101);
    uint8_t out[101];
    ring_peek(&r, 0, out, 101);
    assert_int_equal(out[100], 'Z');
    ring_free(&r);
}

/* Storage given back goes to the per-thread cache and comes back to the
 * next ring that grows: a sender's buffer draining and refilling at full
 * speed neither frees nor regrows it. A ring never takes cached storage
 * beyond its own bound. */
static void test_cache_reuses_storage(void **state)
{
    (void)state;
    ring_cache_drain();
    struct ring r, small;
    ring_init(&r, 1 << 18);
    ring_init(&small, 8192);
    static uint8_t data[1 << 18];
    memset(data, 3, sizeof(data));
    assert_int_equal(ring_write(&r, data, sizeof(data)), sizeof(data));
    uint8_t *storage = r.buf;
    assert_int_equal(r.cap, 1 << 18);
    assert_int_equal(ring_read(&r, NULL, sizeof(data)), sizeof(data));
    ring_compact(&r);
    assert_null(r.buf);
    /* Too big for the small ring: it gets fresh storage of its own. */
    assert_int_equal(ring_write(&small, data, 100), 100);
    assert_ptr_not_equal(small.buf, storage);
    assert_int_equal(small.cap, 4096);
    /* The big ring's next write takes its old storage back, at full size. */
    assert_int_equal(ring_write(&r, data, 100), 100);
    assert_ptr_equal(r.buf, storage);
    assert_int_equal(r.cap, 1 << 18);
    uint8_t out[100];
    assert_int_equal(ring_read(&r, out, 100), 100);
    assert_memory_equal(out, data, 100);
    ring_free(&r);
    ring_free(&small);
    ring_cache_drain();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lazy_and_bounded),
        cmocka_unit_test(test_wraparound_matches_reference),
        cmocka_unit_test(test_out_of_order_then_commit),
        cmocka_unit_test(test_growth_keeps_uncommitted_bytes),
        cmocka_unit_test(test_cache_reuses_storage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
