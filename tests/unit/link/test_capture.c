/* tests/unit/link/test_capture.c: the pcap recorder (link/capture.c), over
 * a memory pipe. Every file is read back with libpcap's reader: the exact
 * bytes, in order, with the link type and timestamps the capture promises. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "link/link.h"

struct fixture {
    struct pkt_pool *pool;
    struct link *cap; /* wraps one end of the pipe */
    struct link *peer;
    char path[64];
};

static void make_path(struct fixture *f)
{
    strcpy(f->path, "/tmp/synack-test-capture-XXXXXX");
    int fd = mkstemp(f->path);
    assert_true(fd >= 0);
    close(fd);
}

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    f.pool = pkt_pool_new("capture", 16, 2048);
    if (!f.pool)
        return -1;
    make_path(&f);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    link_close(f->cap);
    link_close(f->peer);
    unlink(f->path);
    assert_int_equal(pkt_pool_stats(f->pool)->in_use, 0);
    assert_int_equal(pkt_pool_destroy(f->pool), 0);
    return 0;
}

/* A pipe whose first end is wrapped; @kind is what the capture sees. */
static void wrap_pipe(struct fixture *f, enum link_kind kind)
{
    struct link *a;
    assert_int_equal(pipe_pair(1500, 16, &a, &f->peer), 0);
    a->kind = kind;
    assert_int_equal(capture_wrap(a, f->path, &f->cap), 0);
}

static struct pkt *frame(struct pkt_pool *pool, uint32_t len, uint8_t tag)
{
    struct pkt *p = pkt_alloc(pool, PKT_HEADROOM);
    assert_non_null(p);
    uint8_t *d = pkt_put(p, len);
    assert_non_null(d);
    for (uint32_t i = 0; i < len; i++)
        d[i] = (uint8_t)(tag ^ i);
    return p;
}

static int64_t tv_us(struct timeval tv) { return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec; }

/* Reads the file back and checks record @i against frame(len, tag). */
struct expect {
    uint32_t len;
    uint8_t tag;
    sn_time now;
};

static void check_file(const char *path, int dlt, const struct expect *e, int n)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pd = pcap_open_offline(path, err);
    assert_non_null(pd);
    assert_int_equal(pcap_datalink(pd), dlt);

    struct pcap_pkthdr *h;
    const u_char *data;
    int64_t first_us = 0;
    for (int i = 0; i < n; i++) {
        assert_int_equal(pcap_next_ex(pd, &h, &data), 1);
        assert_int_equal(h->len, e[i].len);
        assert_int_equal(h->caplen, e[i].len);
        for (uint32_t j = 0; j < e[i].len; j++)
            assert_int_equal(data[j], (uint8_t)(e[i].tag ^ j));
        /* Gaps between records are exactly the gaps between "now"s. */
        if (i == 0)
            first_us = tv_us(h->ts);
        assert_true(tv_us(h->ts) - first_us == e[i].now - e[0].now);
    }
    assert_int_equal(pcap_next_ex(pd, &h, &data), PCAP_ERROR_BREAK);
    pcap_close(pd);
}

static void copies_inner_properties(void **state)
{
    struct fixture *f = *state;
    wrap_pipe(f, LINK_ETH);
    assert_int_equal(f->cap->kind, LINK_ETH);
    assert_int_equal(f->cap->mtu, 1500);
    assert_string_equal(f->cap->name, "pipe-a");
    const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 1};
    assert_memory_equal(f->cap->mac, mac_a, 6);
    assert_int_equal(link_fd(f->cap), -1);
    assert_true(link_next_deadline(f->cap) == SN_TIME_NEVER);
}

/* Sent and received frames are all recorded, in the order they passed,
 * and still reach their destination intact. */
static void records_both_directions(void **state)
{
    struct fixture *f = *state;
    wrap_pipe(f, LINK_ETH);
    const struct expect e[] = {
        {60, 0x10, 1000}, {1514, 0x20, 1000}, {42, 0x30, 1000}, /* sent */
        {64, 0x40, 2500}, {100, 0x50, 2500},                    /* received */
        {14, 0x60, SN_SEC(3)},                                  /* sent */
    };

    struct pkt *out[3] = {frame(f->pool, e[0].len, e[0].tag), frame(f->pool, e[1].len, e[1].tag),
                          frame(f->pool, e[2].len, e[2].tag)};
    assert_int_equal(link_send(f->cap, out, 3, e[0].now), 3);
    struct pkt *got[4];
    assert_int_equal(link_recv(f->peer, f->pool, got, 4, e[0].now), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(got[i]->len, e[i].len);
        assert_int_equal(got[i]->data[1], (uint8_t)(e[i].tag ^ 1));
        pkt_free(got[i]);
    }

    struct pkt *back[2] = {frame(f->pool, e[3].len, e[3].tag), frame(f->pool, e[4].len, e[4].tag)};
    assert_int_equal(link_send(f->peer, back, 2, e[3].now), 2);
    assert_int_equal(link_recv(f->cap, f->pool, got, 4, e[3].now), 2);
    assert_int_equal(got[0]->stamp, e[3].now);
    pkt_free(got[0]);
    pkt_free(got[1]);

    struct pkt *last = frame(f->pool, e[5].len, e[5].tag);
    assert_int_equal(link_send(f->cap, &last, 1, e[5].now), 1);
    got[0] = NULL;
    assert_int_equal(link_recv(f->peer, f->pool, got, 4, e[5].now), 1);
    pkt_free(got[0]);

    /* Each batch is flushed: the file is complete while still open. */
    check_file(f->path, DLT_EN10MB, e, 6);
    link_close(f->cap);
    f->cap = NULL;
    check_file(f->path, DLT_EN10MB, e, 6);
}

/* An empty recv writes nothing; a TUN-like inner link gives raw IPv4. */
static void raw_link_type(void **state)
{
    struct fixture *f = *state;
    wrap_pipe(f, LINK_IP);
    struct pkt *got[2];
    assert_int_equal(link_recv(f->cap, f->pool, got, 2, 5), 0);
    const struct expect e[] = {{20, 0x45, 7}};
    struct pkt *p = frame(f->pool, e[0].len, e[0].tag);
    assert_int_equal(link_send(f->cap, &p, 1, e[0].now), 1);
    assert_int_equal(link_recv(f->peer, f->pool, got, 2, 7), 1);
    pkt_free(got[0]);
    check_file(f->path, DLT_RAW, e, 1);
}

/* Frames refused by the inner link were still handed to the capture, so
 * they are recorded; the send count says what the inner link took. */
static void records_frames_inner_drops(void **state)
{
    struct fixture *f = *state;
    struct link *a;
    assert_int_equal(pipe_pair(1500, 1, &a, &f->peer), 0);
    assert_int_equal(capture_wrap(a, f->path, &f->cap), 0);
    const struct expect e[] = {{60, 1, 0}, {60, 2, 0}};
    struct pkt *out[2] = {frame(f->pool, 60, 1), frame(f->pool, 60, 2)};
    assert_int_equal(link_send(f->cap, out, 2, 0), 1);
    assert_int_equal(pipe_dropped(f->peer), 1);
    struct pkt *got[2];
    assert_int_equal(link_recv(f->peer, f->pool, got, 2, 0), 1);
    pkt_free(got[0]);
    check_file(f->path, DLT_EN10MB, e, 2);
}

/* A path that cannot be opened fails with its errno, and the inner link is
 * consumed anyway: the frames queued for it go back to the pool. */
static void bad_path_consumes_inner(void **state)
{
    struct fixture *f = *state;
    struct link *a;
    assert_int_equal(pipe_pair(1500, 16, &a, &f->peer), 0);
    struct pkt *p = frame(f->pool, 60, 9);
    assert_int_equal(link_send(f->peer, &p, 1, 0), 1);
    assert_int_equal(pkt_pool_stats(f->pool)->in_use, 1);

    struct link *cap = NULL;
    assert_int_equal(capture_wrap(a, "/nonexistent-dir/x.pcap", &cap), -ENOENT);
    assert_null(cap);
    assert_int_equal(pkt_pool_stats(f->pool)->in_use, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(copies_inner_properties, setup, teardown),
        cmocka_unit_test_setup_teardown(records_both_directions, setup, teardown),
        cmocka_unit_test_setup_teardown(raw_link_type, setup, teardown),
        cmocka_unit_test_setup_teardown(records_frames_inner_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_path_consumes_inner, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
