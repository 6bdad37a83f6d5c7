/* tests/fuzz/fuzz_http1.c: libFuzzer target for the HTTP/1.x parser
 * (http/http1_parse.c) and the small parsers beside it (HTTP-dates,
 * percent-decoding, base64url in http/util.c).
 *
 * Every parser gets an exact-size heap copy of its input, so ASan catches
 * a read one byte past the end. Beyond not crashing, the harness checks
 * properties:
 *   - feeding a head in two pieces (with the resume hint) gives the same
 *     result as feeding it whole; a prefix is HTTP1_PARTIAL or gives the
 *     same answer as the whole;
 *   - a successful parse returns a length within the input, and every
 *     field points inside it;
 *   - the chunked decoder, fed in steps of any size, yields the same data
 *     and the same outcome as fed whole, never consumes more than it got,
 *     and never exceeds the body limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http1_parse.h"
#include "http/server_impl.h"

#define NF 100

static void check_fields(const char *buf, size_t len, const struct http1_field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (f[i].name < buf || f[i].name + f[i].name_len > buf + len || f[i].name_len == 0)
            __builtin_trap();
        if (f[i].value < buf || f[i].value + f[i].value_len > buf + len)
            __builtin_trap();
    }
}

static int parse_req(const char *buf, size_t len, size_t prev, struct http1_request *r,
                     struct http1_field *f)
{
    memset(r, 0, sizeof(*r));
    r->fields = f;
    r->n_fields = NF;
    return http1_parse_request(buf, len, prev, NULL, r);
}

static void fuzz_request(const char *buf, size_t len, size_t split)
{
    struct http1_field f1[NF], f2[NF];
    struct http1_request r1, r2;
    int whole = parse_req(buf, len, 0, &r1, f1);
    if (whole > 0) {
        if ((size_t)whole > len)
            __builtin_trap();
        check_fields(buf, len, r1.fields, r1.n_fields);
        struct http1_body b;
        http1_request_body(&r1, &b);
    }
    /* In two pieces: the first piece's answer, then the whole with the
     * resume hint, must agree with the whole at once. */
    if (split < len) {
        char *part = malloc(split ? split : 1);
        memcpy(part, buf, split);
        int first = parse_req(part, split, 0, &r2, f2);
        free(part);
        if (first == HTTP1_PARTIAL) {
            int second = parse_req(buf, len, split, &r2, f2);
            if (second != whole)
                __builtin_trap();
        } else if (first != whole) {
            /* A complete head cannot change with more bytes, and a prefix
             * refused early is refused the same way whole. */
            __builtin_trap();
        }
    }
}

static void fuzz_response(const char *buf, size_t len)
{
    struct http1_field f[NF];
    struct http1_response r = {.fields = f, .n_fields = NF};
    int rc = http1_parse_response(buf, len, 0, NULL, &r);
    if (rc > 0) {
        if ((size_t)rc > len)
            __builtin_trap();
        check_fields(buf, len, r.fields, r.n_fields);
        struct http1_body b;
        http1_response_body(&r, 0, &b);
    }
}

/* Decodes all of buf in steps of @step bytes (the decoder sees only what
 * has "arrived"); returns the outcome and the data's length and hash. */
static int dechunk(const char *buf, size_t len, size_t step, uint64_t max, uint64_t *total,
                   uint64_t *hash)
{
    struct http1_chunked d;
    http1_chunked_init(&d, max);
    size_t pos = 0, arrived = 0;
    *total = 0;
    *hash = 1469598103934665603ull;
    for (;;) {
        arrived = arrived + step < len ? arrived + step : len;
        int rc;
        for (;;) {
            size_t avail = arrived - pos;
            char *copy = malloc(avail ? avail : 1);
            memcpy(copy, buf + pos, avail);
            size_t used, off, n;
            rc = http1_chunked_decode(&d, copy, avail, &used, &off, &n);
            if (used > avail || (rc == HTTP1_CHUNK_DATA && (off + n > used || n == 0)))
                __builtin_trap();
            for (size_t i = 0; rc == HTTP1_CHUNK_DATA && i < n; i++)
                *hash = (*hash ^ (uint8_t)copy[off + i]) * 1099511628211ull;
            if (rc == HTTP1_CHUNK_DATA)
                *total += n;
            free(copy);
            pos += used;
            if (rc != HTTP1_CHUNK_DATA)
                break;
        }
        if (max && *total > max)
            __builtin_trap();
        if (rc != HTTP1_PARTIAL || arrived == len)
            return rc;
    }
}

static void fuzz_chunked(const char *buf, size_t len, size_t step, uint64_t max)
{
    uint64_t t1, h1, t2, h2;
    int a = dechunk(buf, len, len ? len : 1, max, &t1, &h1);
    int b = dechunk(buf, len, step ? step : 1, max, &t2, &h2);
    if (a != b || t1 != t2 || h1 != h2)
        __builtin_trap();
}

static void fuzz_util(const char *buf, size_t len)
{
    int64_t t;
    if (http_date_parse(buf, len, &t) == 0) {
        char d[HTTP_DATE_LEN];
        http_date_format(t, d);
        int64_t t2;
        /* A date we accept and can print must read back the same. */
        if (t >= 0 && t < 253402300800ll && (http_date_parse(d, HTTP_DATE_LEN - 1, &t2) != 0 || t2 != t))
            __builtin_trap();
    }
    char out[256];
    long n = http_pct_decode(buf, len, out, sizeof(out));
    if (n >= (long)sizeof(out) || (n >= 0 && out[n] != 0))
        __builtin_trap();
    uint8_t b[256];
    n = http_b64url_decode(buf, len, b, sizeof(b));
    if (n > (long)sizeof(b))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    size_t split = data[0] | (size_t)data[1] << 8;
    uint8_t mode = data[2];
    size_t len = size - 3;
    char *buf = malloc(len ? len : 1);
    memcpy(buf, data + 3, len);
    split = len ? split % (len + 1) : 0;
    switch (mode % 4) {
    case 0:
        fuzz_request(buf, len, split);
        break;
    case 1:
        fuzz_response(buf, len);
        break;
    case 2:
        fuzz_chunked(buf, len, split % 17 + 1, mode & 0x80 ? 64 : 0);
        break;
    case 3:
        fuzz_util(buf, len);
        break;
    }
    free(buf);
    return 0;
}
