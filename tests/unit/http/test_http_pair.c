/* tests/unit/http/test_http_pair.c: synack's HTTP server and client against
 * each other on two stacks joined in memory, on a virtual clock: no
 * device, no root, the same run every time. The server (http/server.c and
 * friends) serves a temporary directory from stack A; the client
 * (http/client.c) fetches from stack B with HTTP/1.0, HTTP/1.1 and HTTP/2,
 * and raw sockets on B check what the client never does: pipelining,
 * chunked uploads, the slow-request (408) and idle timeouts, which the
 * virtual clock makes instant. Both stacks must hold no buffer at the end. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/client.h"
#include "http/http.h"

#define ADDR_A 0xc0000201u /* 192.0.2.1: the server */
#define ADDR_B 0xc0000202u /* 192.0.2.2: the client */
#define PORT 80
#define PORT2 81

struct pair {
    struct sn_stack *a, *b;
    struct http_server *srv;
    struct http_server *srv2; /* setup_cmp: the same root, no file cache */
    sn_time wall0;            /* setup_cmp: the wall clock at now = 0 */
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

/* A wall clock on the virtual one, a minute ahead of the real time, so
 * that files the test just wrote are not "racy" (file_cache.h). */
static sn_time vwall(void *ctx)
{
    struct pair *p = ctx;
    return p->wall0 + p->now;
}

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

/* Writes @len bytes to dir/name: all @ch, or a pattern when @ch is 0. */
static void write_fill(const char *dir, const char *name, char ch, size_t len)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < len; i++)
        fputc(ch ? ch : (int)('a' + (i * 7 + len) % 26), f);
    fclose(f);
}

static void write_file(const char *dir, const char *name, size_t len)
{
    write_fill(dir, name, 0, len);
}

static int setup_opts(void **state, int cmp)
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
    if (cmp) {
        p->wall0 = ((sn_time)time(NULL) + 60) * 1000000;
        so.wall = (struct sn_clock){vwall, p};
    }
    assert_int_equal(http_server_new(p->a, &so, &p->srv), 0);
    if (cmp) {
        so.port = PORT2;
        so.file_cache_entries = 0;
        assert_int_equal(http_server_new(p->a, &so, &p->srv2), 0);
    }
    *state = p;
    return 0;
}

static int setup(void **state) { return setup_opts(state, 0); }

/* Two servers of one root on one stack: the file cache on (PORT, with a
 * wall clock) and off (PORT2), to compare their answers. */
static int setup_cmp(void **state) { return setup_opts(state, 1); }

static int teardown(void **state)
{
    struct pair *p = *state;
    http_client_free(p->cl);
    http_server_free(p->srv);
    http_server_free(p->srv2);
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
        if (p->srv2)
            http_server_advance(p->srv2, p->now);
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
            if (p->srv2)
                d = min_t(d, http_server_next_deadline(p->srv2));
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

static void raw_open_port(struct pair *p, struct raw *r, uint16_t port)
{
    memset(r, 0, sizeof(*r));
    assert_int_equal(sn_connect(p->b, ADDR_A, port, 0, p->now, &r->so), 0);
    sn_sock_set_cb(r->so, raw_cb, r);
    run_for(p, 5);
}

static void raw_open(struct pair *p, struct raw *r) { raw_open_port(p, r, PORT); }

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

/* ---- the file cache (http/file_cache.c) through the server ------------------ */

/* One request on its own connection to @port; the answer, with its Date
 * line taken out, into @out. */
static void ask(struct pair *p, uint16_t port, const char *req, char *out, size_t cap)
{
    static struct raw r;
    raw_open_port(p, &r, port);
    raw_send(p, &r, req);
    for (int i = 0; i < 100 && !r.eof; i++)
        run_for(p, 5);
    assert_true(r.eof);
    char *d = strstr(r.in, "\r\nDate: ");
    if (d) {
        char *e = strstr(d + 2, "\r\n");
        memmove(d, e, strlen(e) + 1);
    }
    assert_true(strlen(r.in) < cap);
    strcpy(out, r.in);
    raw_close(p, &r);
}

/* The body of an answer (after the head). */
static const char *body_of(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");
    assert_non_null(b);
    return b + 4;
}

static void file_cache_hit_then_revalidate(void **state)
{
    struct pair *p = *state;
    static char a[70000];
    write_fill(p->root, "c.txt", 'a', 100);
    const char *get = "GET /c.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    ask(p, PORT, get, a, sizeof(a));
    assert_non_null(strstr(a, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(a, "Content-Length: 100\r\n"));
    const struct http_server_stats *st = http_server_stats(p->srv);
    uint64_t hits = st->file_cache_hits;
    ask(p, PORT, get, a, sizeof(a));
    st = http_server_stats(p->srv);
    assert_int_equal(st->file_cache_hits, hits + 1);
    assert_int_equal(st->file_cache_entries, 1);

    /* Rewritten, another size: the cached bytes until valid_ms (1 s) ran
     * out, then one stat sees the change and the new file is served. */
    write_fill(p->root, "c.txt", 'b', 150);
    ask(p, PORT, get, a, sizeof(a));
    assert_non_null(strstr(a, "Content-Length: 100\r\n"));
    assert_int_equal(body_of(a)[0], 'a');
    run_for(p, 1000);
    ask(p, PORT, get, a, sizeof(a));
    assert_non_null(strstr(a, "Content-Length: 150\r\n"));
    assert_int_equal(body_of(a)[0], 'b');
    assert_int_equal(strlen(body_of(a)), 150);
    st = http_server_stats(p->srv);
    assert_int_equal(st->file_cache_stale, 1);

    /* Same size, new bytes and mtime. */
    write_fill(p->root, "c.txt", 'c', 150);
    char path[160];
    snprintf(path, sizeof(path), "%s/c.txt", p->root);
    struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
    run_for(p, 1000);
    ask(p, PORT, get, a, sizeof(a));
    assert_non_null(strstr(a, "Content-Length: 150\r\n"));
    assert_non_null(strstr(a, "Last-Modified: Sun, 09 Sep 2001 01:46:40 GMT\r\n"));
    assert_int_equal(body_of(a)[0], 'c');
    assert_int_equal(http_server_stats(p->srv)->file_cache_stale, 2);
}

/* The ETag of an answer, quotes included. */
static void etag_of(const char *resp, char *out, size_t cap)
{
    const char *e = strstr(resp, "ETag: ");
    assert_non_null(e);
    e += 6;
    size_t n = strcspn(e, "\r");
    assert_true(n < cap);
    memcpy(out, e, n);
    out[n] = 0;
}

static void file_cache_answers_as_the_file_system(void **state)
{
    struct pair *p = *state;
    static char a[70000], b[70000], req[512];
    char dir[160];
    snprintf(dir, sizeof(dir), "%s/d", p->root);
    assert_int_equal(mkdir(dir, 0755), 0);
    write_fill(dir, "index.html", 'i', 50);
    ask(p, PORT2, "GET /small.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", a,
        sizeof(a));
    char etag[64];
    etag_of(a, etag, sizeof(etag));
    const char *fields[] = {
        "",
        "Range: bytes=10-19\r\n",
        "Range: bytes=-5\r\n",
        "Range: bytes=95-\r\n",
        "Range: bytes=200-\r\n",
        "Range: bytes=1-2,4-5\r\n",
        "Range: bytes=x-y\r\n",
        "If-None-Match: *\r\n",
        "If-None-Match: \"nope\"\r\n",
        "If-Modified-Since: Fri, 31 Dec 9999 23:59:59 GMT\r\n",
        "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n",
        "If-Range: \"nope\"\r\nRange: bytes=0-9\r\n",
        NULL, /* If-None-Match: the ETag */
        NULL, /* If-Range: the ETag, with a Range */
    };
    const char *targets[] = {"/small.txt", "//small.txt", "/d/", "/d", "/nope", "/f3", "/big.bin"};
    const char *methods[] = {"GET", "HEAD"};
    int n_req = 0;
    for (size_t t = 0; t < sizeof(targets) / sizeof(*targets); t++) {
        for (size_t m = 0; m < 2; m++) {
            for (size_t f = 0; f < sizeof(fields) / sizeof(*fields); f++) {
                int big = strcmp(targets[t], "/big.bin") == 0;
                if (big && (m == 0 && f != 1))
                    continue; /* big.bin (not cached): HEAD, and one range */
                char extra[160];
                if (f == 12)
                    snprintf(extra, sizeof(extra), "If-None-Match: %s\r\n", etag);
                else if (f == 13)
                    snprintf(extra, sizeof(extra), "If-Range: %s\r\nRange: bytes=3-4\r\n", etag);
                else
                    snprintf(extra, sizeof(extra), "%s", fields[f]);
                snprintf(req, sizeof(req),
                         "%s %s HTTP/1.1\r\nHost: a\r\n%sConnection: close\r\n\r\n",
                         methods[m], targets[t], extra);
                ask(p, PORT2, req, b, sizeof(b));
                for (int k = 0; k < 2; k++) { /* a miss, then a hit */
                    ask(p, PORT, req, a, sizeof(a));
                    if (strcmp(a, b) != 0)
                        fail_msg("%s: cached answer differs:\n%s\n--- uncached:\n%s", req, a, b);
                }
                n_req++;
            }
        }
    }
    /* HTTP/1.0 too. */
    ask(p, PORT2, "GET /small.txt HTTP/1.0\r\n\r\n", b, sizeof(b));
    ask(p, PORT, "GET /small.txt HTTP/1.0\r\n\r\n", a, sizeof(a));
    assert_string_equal(a, b);
    const struct http_server_stats *st = http_server_stats(p->srv);
    assert_true(st->file_cache_hits > (uint64_t)n_req / 2);
    assert_int_equal(st->file_cache_entries, 3); /* /small.txt, /d/, /f3 */
    assert_int_equal(http_server_stats(p->srv2)->file_cache_hits, 0);
}

static void file_cache_keeps_traversal_out(void **state)
{
    struct pair *p = *state;
    static char a[70000];
    char out[64], path[160], link[160];
    strcpy(out, "/tmp/synack-http-out.XXXXXX");
    assert_non_null(mkdtemp(out));
    write_fill(out, "secret.txt", 'S', 40);
    snprintf(path, sizeof(path), "%s/secret.txt", out);
    snprintf(link, sizeof(link), "%s/link-out", p->root);
    assert_int_equal(symlink(path, link), 0);
    snprintf(link, sizeof(link), "%s/link", p->root);
    assert_int_equal(symlink("small.txt", link), 0);

    const char *refused[] = {"/link-out", "/../secret.txt", "/%2e%2e/secret.txt",
                             "/link/../link-out", "//link-out"};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
            char req[256];
            snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                     refused[i]);
            ask(p, PORT, req, a, sizeof(a));
            assert_true(strstr(a, "HTTP/1.1 404 ") == a || strstr(a, "HTTP/1.1 400 ") == a);
            assert_null(strstr(a, "SSSS"));
        }
    }
    assert_int_equal(http_server_stats(p->srv)->file_cache_entries, 0);

    /* A link inside the root is served and cached; pointed out of the root,
     * it is refused once its entry is revalidated, and never leaks. */
    const char *get = "GET /link HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    ask(p, PORT, get, a, sizeof(a));
    assert_non_null(strstr(a, "HTTP/1.1 200 OK\r\n"));
    ask(p, PORT, get, a, sizeof(a));
    assert_int_equal(http_server_stats(p->srv)->file_cache_entries, 1);
    assert_int_equal(unlink(link), 0);
    assert_int_equal(symlink(path, link), 0);
    ask(p, PORT, get, a, sizeof(a));
    assert_null(strstr(a, "SSSS"));
    run_for(p, 1000);
    ask(p, PORT, get, a, sizeof(a));
    assert_true(strstr(a, "HTTP/1.1 404 ") == a);
    assert_null(strstr(a, "SSSS"));
    assert_int_equal(http_server_stats(p->srv)->file_cache_entries, 0);

    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", out);
    assert_int_equal(system(cmd), 0);
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
        cmocka_unit_test_setup_teardown(file_cache_hit_then_revalidate, setup_cmp, teardown),
        cmocka_unit_test_setup_teardown(file_cache_answers_as_the_file_system, setup_cmp,
                                        teardown),
        cmocka_unit_test_setup_teardown(file_cache_keeps_traversal_out, setup_cmp, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
