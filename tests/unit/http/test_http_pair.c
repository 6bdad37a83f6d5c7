/* tests/unit/http/test_http_pair.c: synack's HTTP server and client against
 * each other on two stacks joined in memory, on a virtual clock: no
 * device, no root, the same run every time. The server (http/server.c and
 * friends) serves a temporary directory from stack A; the client
 * (http/client.c) fetches from stack B with HTTP/1.0, HTTP/1.1 and HTTP/2,
 * and raw sockets on B check what the client never does: pipelining,
 * chunked uploads, the slow-request (408) and idle timeouts, which the
 * virtual clock makes instant. Both stacks must hold no buffer at the end. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/client.h"
#include "http/http.h"

#define ADDR_A 0xc0000201u /* 192.0.2.1: the server */
#define ADDR_B 0xc0000202u /* 192.0.2.2: the client */
#define PORT 80

struct pair {
    struct sn_stack *a, *b;
    struct http_server *srv;
    struct http_client *cl;
    sn_time now;
    struct sn_clock clock;
    char root[64];
    /* client results */
    char *body[64];
    size_t body_len[64];
    int status[64], err[64], done;
};

static sn_time vclock(void *ctx) { return ((struct pair *)ctx)->now; }

static struct sn_stack *stack(uint32_t addr, uint8_t last, sn_time now)
{
    struct sn_stack_opts o = {
        .link = SN_LINK_ETH,
        .mac = {2, 0, 0, 0, 0, last},
        .addr = addr,
        .prefix_len = 24,
        .mtu = 1500,
        .seed = last,
    };
    sn_config_defaults(&o.cfg);
    struct sn_stack *s;
    assert_int_equal(sn_stack_new(&o, now, &s), 0);
    return s;
}

static void write_file(const char *dir, const char *name, size_t len)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < len; i++)
        fputc((int)('a' + (i * 7 + len) % 26), f);
    fclose(f);
}

static int setup(void **state)
{
    struct pair *p = calloc(1, sizeof(*p));
    p->now = SN_SEC(1);
    p->clock = (struct sn_clock){vclock, p};
    strcpy(p->root, "/tmp/synack-http-pair.XXXXXX");
    if (!mkdtemp(p->root))
        return -1;
    write_file(p->root, "small.txt", 100);
    write_file(p->root, "big.bin", 3 << 20);
    for (int i = 1; i <= 20; i++) {
        char n[16];
        snprintf(n, sizeof(n), "f%d", i);
        write_file(p->root, n, (size_t)i * 333);
    }
    p->a = stack(ADDR_A, 1, p->now);
    p->b = stack(ADDR_B, 2, p->now);
    struct http_server_opts so;
    http_server_opts_defaults(&so);
    so.port = PORT;
    so.root = p->root;
    so.clock = p->clock;
    so.request_timeout_ms = 5000;
    so.idle_timeout_ms = 8000;
    assert_int_equal(http_server_new(p->a, &so, &p->srv), 0);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    struct pair *p = *state;
    http_client_free(p->cl);
    http_server_free(p->srv);
    sn_stack_free(p->a);
    sn_stack_free(p->b);
    for (int i = 0; i < 64; i++)
        free(p->body[i]);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", p->root);
    assert_int_equal(system(cmd), 0);
    free(p);
    return 0;
}

/* Fires what is due and moves every frame each way, until quiet. */
static void pump(struct pair *p)
{
    static uint8_t frame[2048];
    for (int moved = 1, rounds = 0; moved && rounds < 100000; rounds++) {
        sn_stack_advance(p->a, p->now);
        sn_stack_advance(p->b, p->now);
        http_server_advance(p->srv, p->now);
        if (p->cl)
            http_client_advance(p->cl, p->now);
        moved = 0;
        int n;
        while ((n = sn_stack_output_bytes(p->a, frame, sizeof(frame))) > 0) {
            sn_stack_input_bytes(p->b, frame, (size_t)n, p->now);
            moved = 1;
        }
        while ((n = sn_stack_output_bytes(p->b, frame, sizeof(frame))) > 0) {
            sn_stack_input_bytes(p->a, frame, (size_t)n, p->now);
            moved = 1;
        }
    }
}

static sn_time min_t(sn_time a, sn_time b) { return a < b ? a : b; }

/* Runs for @ms of virtual time: in 1 ms steps while a client runs (it has
 * no deadline to ask for), else from deadline to deadline. */
static void run_for(struct pair *p, int64_t ms)
{
    sn_time end = p->now + SN_MSEC(ms);
    while (p->now < end) {
        pump(p);
        sn_time next = p->now + SN_MSEC(1);
        if (!p->cl) {
            sn_time d = min_t(http_server_next_deadline(p->srv),
                              min_t(sn_stack_next_deadline(p->a), sn_stack_next_deadline(p->b)));
            next = d > next ? d : next;
        }
        p->now = min_t(next, end);
    }
    pump(p);
}

static void on_data(void *user, size_t idx, const char *d, size_t n)
{
    struct pair *p = user;
    p->body[idx] = realloc(p->body[idx], p->body_len[idx] + n);
    memcpy(p->body[idx] + p->body_len[idx], d, n);
    p->body_len[idx] += n;
}

static void on_done(void *user, size_t idx, int status, int err)
{
    struct pair *p = user;
    p->status[idx] = status;
    p->err[idx] = err;
    p->done++;
}

static int file_equal(const struct pair *p, const char *name, const char *data, size_t len)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", p->root, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (fgetc(f) != (unsigned char)data[i]) {
            fclose(f);
            return 0;
        }
    int end = fgetc(f) == EOF;
    fclose(f);
    return end;
}

/* Fetches f1..f20 with @version and checks bodies and handshakes. */
static void fetch20(struct pair *p, int version, uint32_t concurrency, uint64_t want_hs)
{
    struct http_client_target t[20];
    char paths[20][16];
    for (int i = 0; i < 20; i++) {
        snprintf(paths[i], sizeof(paths[i]), "/f%d", i + 1);
        t[i] = (struct http_client_target){ADDR_A, PORT, "192.0.2.1", paths[i]};
    }
    struct http_client_opts o = {.version = version, .concurrency = concurrency,
                                 .clock = p->clock, .on_data = on_data, .on_done = on_done,
                                 .user = p};
    uint64_t accepted = http_server_stats(p->srv)->conns_accepted;
    assert_int_equal(http_client_new(p->b, &o, t, 20, &p->cl), 0);
    for (int i = 0; i < 20000 && !http_client_done(p->cl); i++)
        run_for(p, 1);
    assert_true(http_client_done(p->cl));
    for (int i = 0; i < 20; i++) {
        assert_int_equal(p->err[i], 0);
        assert_int_equal(p->status[i], 200);
        assert_true(file_equal(p, paths[i] + 1, p->body[i], p->body_len[i]));
    }
    const struct http_client_stats *st = http_client_stats(p->cl);
    assert_int_equal(st->handshakes, want_hs);
    assert_int_equal(st->requests_ok, 20);
    assert_int_equal(http_server_stats(p->srv)->conns_accepted - accepted, want_hs);
    http_client_free(p->cl);
    p->cl = NULL;
    run_for(p, 300000); /* TIME-WAIT, idle timeouts: everything closes */
    assert_int_equal(http_server_conns(p->srv), 0);
    assert_int_equal(sn_stack_bufs_in_use(p->a), 0);
    assert_int_equal(sn_stack_bufs_in_use(p->b), 0);
}

static void http10_one_connection_per_request(void **state)
{
    fetch20(*state, 10, 1, 20);
}

static void http11_keep_alive(void **state) { fetch20(*state, 11, 1, 1); }
static void http11_four_connections(void **state) { fetch20(*state, 11, 4, 4); }
static void http2_one_connection(void **state) { fetch20(*state, 20, 1, 1); }
static void http2_multiplexed(void **state) { fetch20(*state, 20, 20, 1); }

static void big_file_every_version(void **state)
{
    struct pair *p = *state;
    for (int v = 0; v < 3; v++) {
        static const int versions[] = {10, 11, 20};
        struct http_client_target t = {ADDR_A, PORT, "192.0.2.1", "/big.bin"};
        struct http_client_opts o = {.version = versions[v], .clock = p->clock,
                                     .on_data = on_data, .on_done = on_done, .user = p};
        free(p->body[v]);
        p->body[v] = NULL;
        p->body_len[v] = 0;
        assert_int_equal(http_client_new(p->b, &o, &t, 1, &p->cl), 0);
        /* The client reports request 0: keep each version's body apart. */
        for (int i = 0; i < 20000 && !http_client_done(p->cl); i++)
            run_for(p, 1);
        assert_true(http_client_done(p->cl));
        assert_int_equal(p->status[0], 200);
        assert_true(file_equal(p, "big.bin", p->body[0], p->body_len[0]));
        free(p->body[0]);
        p->body[0] = NULL;
        p->body_len[0] = 0;
        http_client_free(p->cl);
        p->cl = NULL;
    }
}

/* ---- raw sockets ------------------------------------------------------------ */

struct raw {
    struct sn_sock *so;
    char in[65536];
    size_t len;
    int eof;
};

static void raw_cb(struct sn_sock *so, uint32_t ev, void *user)
{
    (void)ev;
    struct raw *r = user;
    for (;;) {
        ssize_t n = sn_recv(so, r->in + r->len, sizeof(r->in) - 1 - r->len);
        if (n > 0) {
            r->len += (size_t)n;
            r->in[r->len] = 0;
            continue;
        }
        if (n != -EAGAIN)
            r->eof = 1;
        return;
    }
}

static void raw_open(struct pair *p, struct raw *r)
{
    memset(r, 0, sizeof(*r));
    assert_int_equal(sn_connect(p->b, ADDR_A, PORT, 0, p->now, &r->so), 0);
    sn_sock_set_cb(r->so, raw_cb, r);
    run_for(p, 5);
}

static void raw_send(struct pair *p, struct raw *r, const char *s)
{
    assert_int_equal(sn_send(r->so, s, strlen(s)), (ssize_t)strlen(s));
    run_for(p, 5);
}

static void raw_close(struct pair *p, struct raw *r)
{
    sn_close(r->so);
    run_for(p, 5);
}

static void pipelined_and_chunked(void **state)
{
    struct pair *p = *state;
    struct raw r;
    raw_open(p, &r);
    raw_send(p, &r,
             "GET /small.txt HTTP/1.1\r\nHost: a\r\n\r\n"
             "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
             "3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\n\r\n"
             "HEAD /small.txt HTTP/1.1\r\nHost: a\r\n\r\n"
             "GET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert_true(r.eof);
    const char *s1 = strstr(r.in, "HTTP/1.1 200 OK");
    const char *s2 = s1 ? strstr(s1 + 1, "HTTP/1.1 200 OK") : NULL;
    const char *s3 = s2 ? strstr(s2 + 1, "HTTP/1.1 200 OK") : NULL;
    const char *s4 = s3 ? strstr(s3 + 1, "HTTP/1.1 404 Not Found") : NULL;
    assert_true(s1 == r.in && s2 && s3 && s4);
    assert_non_null(strstr(s2, "Transfer-Encoding: chunked\r\n"));
    assert_non_null(strstr(s2, "\r\n\r\n00000007\r\nabcdefg\r\n0\r\n\r\n"));
    assert_non_null(strstr(s3, "Content-Length: 100\r\n"));
    assert_true(strstr(s3, "\r\n\r\n") + 4 == s4); /* HEAD: no body */
    assert_non_null(strstr(s4, "Connection: close\r\n"));
    raw_close(p, &r);
}

static void slow_request_408(void **state)
{
    struct pair *p = *state;
    struct raw r;
    raw_open(p, &r);
    raw_send(p, &r, "GET / HTTP/1.1\r\nHo");
    sn_time start = p->now;
    for (int i = 0; i < 100 && !r.eof; i++) { /* a byte every 100 ms: slowloris */
        raw_send(p, &r, "s");
        run_for(p, 95);
    }
    /* request_timeout_ms is 5000: cut off after 5 s, however it trickles. */
    assert_true(r.eof);
    assert_true(p->now - start >= SN_MSEC(4900) && p->now - start <= SN_MSEC(5200));
    assert_non_null(strstr(r.in, "HTTP/1.1 408 Request Timeout"));
    assert_int_equal(http_server_stats(p->srv)->timeouts, 1);
    raw_close(p, &r);
}

static void idle_connection_closed(void **state)
{
    struct pair *p = *state;
    struct raw r;
    raw_open(p, &r);
    raw_send(p, &r, "GET /small.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_non_null(strstr(r.in, "HTTP/1.1 200 OK"));
    assert_false(r.eof);
    run_for(p, 7000);
    assert_false(r.eof); /* idle_timeout_ms is 8000 */
    run_for(p, 1500);
    assert_true(r.eof);
    raw_close(p, &r);
    assert_int_equal(http_server_conns(p->srv), 0);
}

static void shutdown_is_graceful(void **state)
{
    struct pair *p = *state;
    struct raw idle, busy;
    raw_open(p, &idle);
    raw_send(p, &idle, "GET /small.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    raw_open(p, &busy);
    raw_send(p, &busy, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345");
    http_server_shutdown(p->srv);
    run_for(p, 5);
    assert_true(idle.eof); /* idle: closed at once */
    assert_false(busy.eof);
    raw_send(p, &busy, "67890");
    assert_non_null(strstr(busy.in, "Connection: close\r\n"));
    assert_non_null(strstr(busy.in, "\r\n\r\n1234567890"));
    assert_true(busy.eof);
    raw_close(p, &idle);
    raw_close(p, &busy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(http10_one_connection_per_request, setup, teardown),
        cmocka_unit_test_setup_teardown(http11_keep_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(http11_four_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(http2_one_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(http2_multiplexed, setup, teardown),
        cmocka_unit_test_setup_teardown(big_file_every_version, setup, teardown),
        cmocka_unit_test_setup_teardown(pipelined_and_chunked, setup, teardown),
        cmocka_unit_test_setup_teardown(slow_request_408, setup, teardown),
        cmocka_unit_test_setup_teardown(idle_connection_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(shutdown_is_graceful, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
