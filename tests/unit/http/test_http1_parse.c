/* tests/unit/http/test_http1_parse.c: the HTTP/1.x parser (http/http1_parse.c)
 * fed whole, byte at a time, and ending at a page boundary before a
 * PROT_NONE guard page (picohttpparser's test shape), plus the RFC 9112
 * rules it enforces: limits, obs-fold, bare LF/CR, request smuggling
 * (Content-Length with Transfer-Encoding), chunk sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/http1_parse.h"

#define NF 100

static struct http1_field fields[NF];

static int parse_req(const char *s, size_t len, size_t prev, struct http1_request *r)
{
    memset(r, 0, sizeof(*r));
    r->fields = fields;
    r->n_fields = NF;
    return http1_parse_request(s, len, prev, NULL, r);
}

static int preq(const char *s, struct http1_request *r) { return parse_req(s, strlen(s), 0, r); }

static int req_status(const char *s)
{
    struct http1_request r;
    int rc = preq(s, &r);
    return rc > 0 ? 0 : rc == HTTP1_PARTIAL ? -1 : http1_err_status(rc);
}

/* A buffer whose last byte is the last byte before a PROT_NONE page. */
struct guard {
    char *base;
    size_t page;
};

static void guard_init(struct guard *g)
{
    g->page = (size_t)sysconf(_SC_PAGESIZE);
    g->base = mmap(NULL, 2 * g->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(g->base != MAP_FAILED);
    assert_int_equal(mprotect(g->base + g->page, g->page, PROT_NONE), 0);
}

static char *guard_put(struct guard *g, const char *s, size_t n)
{
    assert_true(n <= g->page);
    char *p = g->base + g->page - n;
    memcpy(p, s, n);
    return p;
}

static void guard_free(struct guard *g) { munmap(g->base, 2 * g->page); }

static int field_is(const struct http1_request *r, size_t i, const char *name, const char *value)
{
    return i < r->n_fields && r->fields[i].name_len == strlen(name) &&
           memcmp(r->fields[i].name, name, strlen(name)) == 0 &&
           r->fields[i].value_len == strlen(value) &&
           memcmp(r->fields[i].value, value, strlen(value)) == 0;
}

static const char simple[] = "GET /index.html?x=1 HTTP/1.1\r\n"
                             "Host: example.com\r\n"
                             "User-Agent:  curl/7.88 \t\r\n"
                             "Accept: */*\r\n"
                             "X-Empty:\r\n"
                             "\r\n";

static void whole_request(void **state)
{
    (void)state;
    struct http1_request r;
    int rc = preq(simple, &r);
    assert_int_equal(rc, (int)strlen(simple));
    assert_int_equal(r.method_len, 3);
    assert_memory_equal(r.method, "GET", 3);
    assert_int_equal(r.target_len, strlen("/index.html?x=1"));
    assert_memory_equal(r.target, "/index.html?x=1", r.target_len);
    assert_int_equal(r.minor_version, 1);
    assert_int_equal(r.n_fields, 4);
    assert_true(field_is(&r, 0, "Host", "example.com"));
    assert_true(field_is(&r, 1, "User-Agent", "curl/7.88")); /* OWS trimmed both sides */
    assert_true(field_is(&r, 3, "X-Empty", ""));

    /* Pipelined: only the first head counts. */
    char two[512];
    snprintf(two, sizeof(two), "%s%s", simple, simple);
    assert_int_equal(preq(two, &r), (int)strlen(simple));

    /* RFC 9112 2.2: empty lines before the request line are skipped. */
    assert_int_equal(preq("\r\n\nGET / HTTP/1.0\r\n\r\n", &r), 21);
    assert_int_equal(r.minor_version, 0);
    /* No fields at all. */
    assert_int_equal(preq("GET / HTTP/1.0\r\n\r\n", &r), 18);
    assert_int_equal(r.n_fields, 0);
}

static void bare_lf(void **state)
{
    (void)state;
    struct http1_request r;
    /* RFC 9112 2.2: a recipient MAY recognize a single LF as a line terminator. */
    const char *s = "GET / HTTP/1.1\nHost: a\n\n";
    assert_int_equal(preq(s, &r), (int)strlen(s));
    assert_true(field_is(&r, 0, "Host", "a"));
    s = "GET / HTTP/1.1\r\nHost: a\n\r\n";
    assert_int_equal(preq(s, &r), (int)strlen(s));
    /* A bare CR is not a terminator and is invalid (RFC 9112 2.2). */
    assert_int_equal(req_status("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"), 400);
    assert_int_equal(req_status("GET / HTTP/1.1\rHost: a\r\n\r\n"), 400);
}

/* Every prefix is partial, and the whole is whole, with the resume hint. */
static void byte_at_a_time(void **state)
{
    (void)state;
    struct http1_request r;
    size_t n = strlen(simple), prev = 0;
    for (size_t i = 1; i < n; i++) {
        int rc = parse_req(simple, i, prev, &r);
        assert_int_equal(rc, HTTP1_PARTIAL);
        prev = i;
    }
    assert_int_equal(parse_req(simple, n, prev, &r), (int)n);
    assert_true(field_is(&r, 0, "Host", "example.com"));
    /* Without the hint too. */
    for (size_t i = 1; i < n; i++)
        assert_int_equal(parse_req(simple, i, 0, &r), HTTP1_PARTIAL);
}

/* Each prefix of each message ends right at a PROT_NONE page: a read past
 * the end would fault. */
static void guard_page(void **state)
{
    (void)state;
    static const char *msgs[] = {
        simple,
        "GET / HTTP/1.1\nHost: a\n\n",
        "\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        "GET / HTTP/1.1\r\n folded: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET /\x01 HTTP/1.1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
    };
    struct guard g;
    guard_init(&g);
    struct http1_request r;
    struct http1_response resp;
    for (size_t m = 0; m < sizeof(msgs) / sizeof(msgs[0]); m++) {
        size_t n = strlen(msgs[m]);
        for (size_t i = 0; i <= n; i++) {
            char *p = guard_put(&g, msgs[m], i);
            parse_req(p, i, 0, &r);
            memset(&resp, 0, sizeof(resp));
            resp.fields = fields;
            resp.n_fields = NF;
            http1_parse_response(p, i, 0, NULL, &resp);
        }
    }
    /* The chunked decoder at the page end too. */
    static const char *bodies[] = {"5\r\nhello\r\n0\r\n\r\n", "5;x=y\nhello\n0\nT: v\n\n",
                                   "ffffffffffffffffff\r\n", "5\r\nhelloXX", "0\r\nbad trailer\r\n\r\n"};
    for (size_t m = 0; m < sizeof(bodies) / sizeof(bodies[0]); m++) {
        size_t n = strlen(bodies[m]);
        for (size_t i = 0; i <= n; i++) {
            char *p = guard_put(&g, bodies[m], i);
            struct http1_chunked d;
            http1_chunked_init(&d, 0);
            size_t off = 0;
            for (int steps = 0; steps < 100; steps++) {
                size_t used, doff, dlen;
                int rc = http1_chunked_decode(&d, p + off, i - off, &used, &doff, &dlen);
                assert_true(used <= i - off);
                off += used;
                if (rc != HTTP1_CHUNK_DATA)
                    break;
            }
        }
    }
    guard_free(&g);
}

static void request_line_errors(void **state)
{
    (void)state;
    /* RFC 9112 3: single spaces, three parts, a version. */
    assert_int_equal(req_status("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(req_status("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(req_status(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(req_status("GET /\r\n\r\n"), 400); /* HTTP/0.9 */
    assert_int_equal(req_status("GET / http/1.1\r\n\r\n"), 400);
    assert_int_equal(req_status("GET / HTTP/1.10\r\n\r\n"), 400);
    assert_int_equal(req_status("GET / HTTP/1\r\n\r\n"), 400);
    assert_int_equal(req_status("G@T / HTTP/1.1\r\n\r\n"), 400);
    assert_int_equal(req_status("GET /a\x7f HTTP/1.1\r\n\r\n"), 400);
    assert_int_equal(req_status("GET /\xc3\xa9 HTTP/1.1\r\n\r\n"), 400);
    assert_int_equal(req_status("\x16\x03\x01\x02\x00"), 400); /* TLS, at once */
    /* RFC 9110 2.5 / RFC 9112 2.3: well-formed but another major: 505. */
    assert_int_equal(req_status("GET / HTTP/2.0\r\n\r\n"), 505);
    assert_int_equal(req_status("GET / HTTP/0.9\r\n\r\n"), 505);
    assert_int_equal(req_status("GET / HTTP/3.0\r\nHost: a\r\n\r\n"), 505);
    /* Partial lines are refused as soon as they cannot become valid. */
    assert_int_equal(req_status("GET / HTTP/1.1x"), 400);
    assert_int_equal(req_status("GE\x01"), 400);
    assert_int_equal(req_status("GET /"), -1);
}

static void limits(void **state)
{
    (void)state;
    static char b[200000];
    /* Method longer than any known: 501 (RFC 9112 3). */
    memset(b, 'A', 100);
    strcpy(b + 100, " / HTTP/1.1\r\n\r\n");
    assert_int_equal(req_status(b), 501);
    /* Target over 8000: 414, also before the line is complete. */
    strcpy(b, "GET /");
    memset(b + 5, 'a', 9000);
    strcpy(b + 9005, " HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(req_status(b), 414);
    b[6000] = 0;
    assert_int_equal(req_status(b), -1);
    b[6000] = 'a';
    b[8500] = 0;
    assert_int_equal(req_status(b), 414);
    /* 101 fields: 431. */
    size_t n = (size_t)sprintf(b, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 101; i++)
        n += (size_t)sprintf(b + n, "X-%d: v\r\n", i);
    strcpy(b + n, "\r\n");
    assert_int_equal(req_status(b), 431);
    /* A head over 64 KiB: 431, complete or not. */
    n = (size_t)sprintf(b, "GET / HTTP/1.1\r\nX-Big: ");
    memset(b + n, 'v', 70000);
    n += 70000;
    b[n] = 0;
    assert_int_equal(req_status(b), 431);
    strcpy(b + n, "\r\n\r\n");
    assert_int_equal(req_status(b), 431);
    /* The caller's array is a limit too. */
    struct http1_request r = {0};
    r.fields = fields;
    r.n_fields = 1;
    assert_int_equal(http1_parse_request("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", 30, 0, NULL, &r),
                     HTTP1_E_FIELDS_TOO_LARGE);
    /* Custom limits. */
    struct http1_limits lim = {.max_line = 20};
    r.n_fields = NF;
    assert_int_equal(http1_parse_request("GET /aaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n", 38, 0, &lim, &r),
                     HTTP1_E_BAD);
}

static void field_errors(void **state)
{
    (void)state;
    /* RFC 9112 5.1: no whitespace between name and colon: 400. */
    assert_int_equal(req_status("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);
    assert_int_equal(req_status("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), 400);
    /* RFC 9112 5.2: obs-fold refused with 400. */
    assert_int_equal(req_status("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n"), 400);
    assert_int_equal(req_status("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n"), 400);
    /* RFC 9112 2.2: whitespace before the first field. */
    assert_int_equal(req_status("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), 400);
    assert_int_equal(req_status("GET / HTTP/1.1\r\n: a\r\n\r\n"), 400);
    assert_int_equal(req_status("GET / HTTP/1.1\r\nNoColon\r\n\r\n"), 400);
    assert_int_equal(req_status("GET / HTTP/1.1\r\nBad(Name): a\r\n\r\n"), 400);
    /* CTLs in values: NUL, DEL, bare CR. obs-text is allowed. */
    assert_int_equal(req_status("GET / HTTP/1.1\r\nX: a\x0b\r\n\r\n"), 400); /* VT */
    struct http1_request r;
    assert_true(parse_req("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26, 0, &r) == HTTP1_E_BAD);
    assert_int_equal(req_status("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n"), 400);
    assert_int_equal(req_status("GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n"), 0);
}

static int framing(const char *head, struct http1_body *b)
{
    struct http1_request r;
    int rc = preq(head, &r);
    assert_true(rc > 0);
    return http1_request_body(&r, b);
}

static void body_framing(void **state)
{
    (void)state;
    struct http1_body b;
    assert_int_equal(framing("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &b), 0);
    assert_int_equal(b.framing, HTTP1_BODY_NONE);
    assert_int_equal(framing("POST / HTTP/1.1\r\nContent-Length: 42\r\n\r\n", &b), 0);
    assert_int_equal(b.framing, HTTP1_BODY_LENGTH);
    assert_int_equal(b.length, 42);
    assert_int_equal(framing("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", &b), 0);
    assert_int_equal(b.framing, HTTP1_BODY_CHUNKED);
    /* RFC 9112 6.3: identical repeated lengths are one length. */
    assert_int_equal(framing("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &b), 0);
    assert_int_equal(b.length, 5);
    assert_int_equal(framing("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", &b), 0);
    /* Smuggling shapes: all 400 (or 501 for a coding we do not know). */
    assert_int_equal(framing("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", &b),
                     HTTP1_E_BAD);
    assert_int_equal(framing("POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", &b), HTTP1_E_BAD);
    assert_int_equal(framing("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", &b), HTTP1_E_BAD);
    assert_int_equal(framing("POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n", &b), HTTP1_E_BAD);
    assert_int_equal(framing("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", &b), HTTP1_E_BAD);
    assert_int_equal(framing("POST / HTTP/1.1\r\nContent-Length: 5\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n",
                             &b),
                     HTTP1_E_BAD);
    assert_int_equal(framing("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", &b),
                     HTTP1_E_BAD);
    assert_int_equal(framing("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", &b),
                     HTTP1_E_BAD);
    assert_int_equal(framing("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", &b),
                     HTTP1_E_BAD);
    assert_int_equal(framing("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n",
                             &b),
                     HTTP1_E_BAD);
    assert_int_equal(framing("POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", &b),
                     HTTP1_E_BAD);
    assert_int_equal(framing("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", &b), HTTP1_E_BAD);
    assert_int_equal(framing("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &b),
                     HTTP1_E_CODING);
    assert_int_equal(http1_err_status(HTTP1_E_CODING), 501);
    /* Too large to hold: saturated, the caller answers 413. */
    assert_int_equal(framing("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", &b),
                     0);
    assert_true(b.length == UINT64_MAX);
}

static void field_helpers(void **state)
{
    (void)state;
    struct http1_request r;
    preq("GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nconnection: HTTP2-Settings\r\n\r\n",
         &r);
    assert_true(http1_field_has_token(r.fields, r.n_fields, "connection", "upgrade"));
    assert_true(http1_field_has_token(r.fields, r.n_fields, "Connection", "http2-settings"));
    assert_false(http1_field_has_token(r.fields, r.n_fields, "connection", "close"));
    assert_int_equal(http1_field_count(r.fields, r.n_fields, "CONNECTION"), 2);
    assert_null(http1_field_find(r.fields, r.n_fields, "host"));
}

/* Decodes a whole chunked body; returns the status and the data in @out. */
static int dechunk(const char *in, size_t n, size_t step, char *out, size_t *out_len,
                   uint64_t max)
{
    struct http1_chunked d;
    http1_chunked_init(&d, max);
    char buf[4096];
    size_t have = 0, fed = 0;
    *out_len = 0;
    for (;;) {
        size_t add = n - fed < step ? n - fed : step;
        memcpy(buf + have, in + fed, add);
        have += add;
        fed += add;
        int rc;
        for (;;) {
            size_t used, off, len;
            rc = http1_chunked_decode(&d, buf, have, &used, &off, &len);
            if (rc == HTTP1_CHUNK_DATA) {
                memcpy(out + *out_len, buf + off, len);
                *out_len += len;
            }
            memmove(buf, buf + used, have - used);
            have -= used;
            if (rc != HTTP1_CHUNK_DATA)
                break;
        }
        if (rc != HTTP1_PARTIAL)
            return rc;
        if (fed == n)
            return HTTP1_PARTIAL;
    }
}

static void chunked(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        const char *data;
    } cases[] = {
        {"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", HTTP1_CHUNK_DONE, "hello world"},
        {"A\r\n0123456789\r\n0\r\n\r\n", HTTP1_CHUNK_DONE, "0123456789"},
        {"a;ext=1;y=\"q\"\r\n0123456789\r\n0\r\n\r\n", HTTP1_CHUNK_DONE, "0123456789"},
        {"3 ;e\r\nabc\r\n0\r\n\r\n", HTTP1_CHUNK_DONE, "abc"},
        {"003\r\nabc\r\n00\r\n\r\n", HTTP1_CHUNK_DONE, "abc"},
        {"3\nabc\n0\n\n", HTTP1_CHUNK_DONE, "abc"},               /* bare LF */
        {"3\r\nabc\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n", HTTP1_CHUNK_DONE, "abc"}, /* trailers */
        {"0\r\n\r\n", HTTP1_CHUNK_DONE, ""},
        /* RFC 9112 7.1: chunk-size = 1*HEXDIG; anything else is an error. */
        {"\r\n", HTTP1_E_BAD, ""},
        {"g\r\n", HTTP1_E_BAD, ""},
        {"-1\r\n", HTTP1_E_BAD, ""},
        {"0x5\r\nhello\r\n", HTTP1_E_BAD, ""},
        {" 5\r\nhello\r\n", HTTP1_E_BAD, ""},
        {"5 \r\nhello\r\n", HTTP1_E_BAD, ""},
        {"+5\r\nhello\r\n", HTTP1_E_BAD, ""},
        {"10000000000000000\r\n", HTTP1_E_BAD, ""}, /* 17 digits: > 64 bits */
        {"5\r\nhelloXX\r\n", HTTP1_E_BAD, ""},      /* data longer than the size */
        {"5\r\nhello\rX", HTTP1_E_BAD, ""},
        {"5\rhello\r\n", HTTP1_E_BAD, ""},          /* bare CR in the size line */
        {"0\r\n bad\r\n\r\n", HTTP1_E_BAD, ""},    /* folded trailer */
        {"0\r\nno colon\r\n\r\n", HTTP1_E_BAD, ""},
        {"5\r\nhel", HTTP1_PARTIAL, "hel"},
    };
    char out[256];
    size_t n;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (size_t step = 1; step <= strlen(cases[i].in); step = step * 2 + 1) {
            int rc = dechunk(cases[i].in, strlen(cases[i].in), step, out, &n, 0);
            if (rc != cases[i].rc)
                fail_msg("case %zu (%s) step %zu: rc %d, want %d", i, cases[i].in, step, rc,
                         cases[i].rc);
            if (rc == HTTP1_CHUNK_DONE || rc == HTTP1_PARTIAL) {
                assert_int_equal(n, strlen(cases[i].data));
                assert_memory_equal(out, cases[i].data, n);
            }
        }
    }
    /* Body limit: 413. */
    const char *big = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    assert_int_equal(dechunk(big, strlen(big), 100, out, &n, 8), HTTP1_E_BODY_TOO_LARGE);
    assert_int_equal(dechunk(big, strlen(big), 100, out, &n, 11), HTTP1_CHUNK_DONE);
    assert_int_equal(dechunk("ffffffffffffffff\r\n", 18, 100, out, &n, 1000),
                     HTTP1_E_BODY_TOO_LARGE);
    /* A size line with no end, over the limit. */
    char *line = malloc(HTTP1_CHUNK_LINE_MAX + 10);
    memset(line, 'a', HTTP1_CHUNK_LINE_MAX + 5);
    line[0] = '1';
    line[1] = ';';
    struct http1_chunked d;
    http1_chunked_init(&d, 0);
    size_t used, off, len;
    assert_int_equal(http1_chunked_decode(&d, line, HTTP1_CHUNK_LINE_MAX + 5, &used, &off, &len),
                     HTTP1_E_BAD);
    free(line);
}

static int presp(const char *s, struct http1_response *r)
{
    memset(r, 0, sizeof(*r));
    r->fields = fields;
    r->n_fields = NF;
    return http1_parse_response(s, strlen(s), 0, NULL, r);
}

static void responses(void **state)
{
    (void)state;
    struct http1_response r;
    struct http1_body b;
    const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello";
    assert_int_equal(presp(s, &r), (int)strlen(s) - 5);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.minor_version, 1);
    assert_int_equal(r.reason_len, 2);
    assert_int_equal(http1_response_body(&r, 0, &b), 0);
    assert_int_equal(b.framing, HTTP1_BODY_LENGTH);
    assert_int_equal(b.length, 5);
    assert_int_equal(http1_response_body(&r, 1, &b), 0); /* HEAD */
    assert_int_equal(b.framing, HTTP1_BODY_NONE);

    assert_true(presp("HTTP/1.1 204\r\n\r\n", &r) > 0);
    assert_int_equal(r.status, 204);
    assert_int_equal(http1_response_body(&r, 0, &b), 0);
    assert_int_equal(b.framing, HTTP1_BODY_NONE);
    assert_true(presp("HTTP/1.0 200 \r\n\r\n", &r) > 0);
    assert_int_equal(http1_response_body(&r, 0, &b), 0);
    assert_int_equal(b.framing, HTTP1_BODY_CLOSE);
    assert_true(presp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", &r) > 0);
    assert_int_equal(http1_response_body(&r, 0, &b), 0);
    assert_int_equal(b.framing, HTTP1_BODY_CHUNKED);
    assert_true(presp("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", &r) > 0);
    assert_int_equal(http1_response_body(&r, 0, &b), HTTP1_E_BAD);

    assert_int_equal(presp("HTTP/1.1 20 OK\r\n\r\n", &r), HTTP1_E_BAD);
    assert_int_equal(presp("HTTP/1.1 200OK\r\n\r\n", &r), HTTP1_E_BAD);
    assert_int_equal(presp("HTTX/1.1 200 OK\r\n\r\n", &r), HTTP1_E_BAD);
    assert_int_equal(presp("HTTP/1.1 200 OK\r\n", &r), HTTP1_PARTIAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_request),    cmocka_unit_test(bare_lf),
        cmocka_unit_test(byte_at_a_time),   cmocka_unit_test(guard_page),
        cmocka_unit_test(request_line_errors), cmocka_unit_test(limits),
        cmocka_unit_test(field_errors),     cmocka_unit_test(body_framing),
        cmocka_unit_test(field_helpers),    cmocka_unit_test(chunked),
        cmocka_unit_test(responses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
