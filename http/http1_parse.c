/* http/http1_parse.c: HTTP/1.x heads, body framing and the chunked coding
 * (see http1_parse.h). Every loop is bounded by the caller's length; no
 * function reads a byte at or past buf + len, and none allocates. */
#include <string.h>

#include "http/http1_parse.h"

int http1_err_status(int err)
{
    switch (err) {
    case HTTP1_E_URI_TOO_LONG:
        return 414;
    case HTTP1_E_FIELDS_TOO_LARGE:
        return 431;
    case HTTP1_E_VERSION:
        return 505;
    case HTTP1_E_METHOD:
    case HTTP1_E_CODING:
        return 501;
    case HTTP1_E_BODY_TOO_LARGE:
        return 413;
    default:
        return 400;
    }
}

/* RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
 * "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 9110 5.5: field-vchar = VCHAR / obs-text, plus SP and HTAB inside. */
static int is_field_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

static int is_ows(unsigned char c) { return c == ' ' || c == '\t'; }

static void limits_fill(struct http1_limits *l, const struct http1_limits *in)
{
    *l = in ? *in : (struct http1_limits){0};
    if (!l->max_line)
        l->max_line = HTTP1_DEFAULT_MAX_LINE;
    if (!l->max_target)
        l->max_target = HTTP1_DEFAULT_MAX_TARGET;
    if (!l->max_head)
        l->max_head = HTTP1_DEFAULT_MAX_HEAD;
    if (!l->max_fields)
        l->max_fields = HTTP1_DEFAULT_MAX_FIELDS;
}

/* The end of a line starting at @p: the index of its LF, or -1. The line's
 * content is [p, lf) minus a CR just before the LF. */
static long find_lf(const char *buf, size_t p, size_t len)
{
    if (p >= len)
        return -1;
    const char *q = memchr(buf + p, '\n', len - p);
    return q ? (long)(q - buf) : -1;
}

static size_t line_end(const char *buf, size_t start, size_t lf)
{
    return lf > start && buf[lf - 1] == '\r' ? lf - 1 : lf;
}

/* RFC 9112 2.2: a server SHOULD ignore at least one empty line before the
 * request line. Returns the index after the empty lines, or -1 when the
 * buffer ends inside a CRLF. Bare CRs are left for the line parser. */
static long skip_empty_lines(const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (buf[i] == '\n') {
            i++;
        } else if (buf[i] == '\r') {
            if (i + 1 == len)
                return -1;
            if (buf[i + 1] != '\n')
                break;
            i += 2;
        } else {
            break;
        }
    }
    return (long)i;
}

/* Finds the empty line ending a head that starts at @start, searching from
 * @from (>= start). Returns the index just past it, or 0 when absent. */
static size_t find_head_end(const char *buf, size_t start, size_t from, size_t len)
{
    size_t p = from > start ? from : start;
    for (;;) {
        long lf = find_lf(buf, p, len);
        if (lf < 0)
            return 0;
        size_t n = (size_t)lf + 1;
        if (n < len && buf[n] == '\n')
            return n + 1;
        if (n + 1 < len && buf[n] == '\r' && buf[n + 1] == '\n')
            return n + 2;
        p = n;
    }
}

/* One field line [a, b) (terminator removed). RFC 9112 5.1: no whitespace
 * between the name and the colon (MUST reject with 400); RFC 9112 5.2:
 * obs-fold is refused with 400 (a line starting with whitespace).
 * Returns 0 or HTTP1_E_BAD. */
static int parse_field(const char *buf, size_t a, size_t b, struct http1_field *f)
{
    size_t i = a;
    while (i < b && is_tchar((unsigned char)buf[i]))
        i++;
    if (i == a || i == b || buf[i] != ':')
        return HTTP1_E_BAD;
    f->name = buf + a;
    f->name_len = i - a;
    i++;
    while (i < b && is_ows((unsigned char)buf[i]))
        i++;
    size_t v = i;
    for (; i < b; i++)
        if (!is_field_char((unsigned char)buf[i]))
            return HTTP1_E_BAD; /* CTLs, NUL, DEL, bare CR (RFC 9112 2.2) */
    size_t e = b;
    while (e > v && is_ows((unsigned char)buf[e - 1]))
        e--;
    f->value = buf + v;
    f->value_len = e - v;
    return 0;
}

/* The field lines from @p up to the empty line ending at @end. */
static int parse_fields(const char *buf, size_t p, size_t end, const struct http1_limits *lim,
                        struct http1_field *fields, size_t *n_fields)
{
    size_t cap = *n_fields < lim->max_fields ? *n_fields : lim->max_fields;
    size_t n = 0;
    for (;;) {
        long lf = find_lf(buf, p, end);
        if (lf < 0)
            return HTTP1_E_BAD; /* cannot happen: end is past an LF */
        size_t e = line_end(buf, p, (size_t)lf);
        if (e == p) /* the empty line */
            break;
        if (is_ows((unsigned char)buf[p]))
            return HTTP1_E_BAD; /* obs-fold, or whitespace before the first field */
        if (n == cap)
            return HTTP1_E_FIELDS_TOO_LARGE;
        int err = parse_field(buf, p, e, &fields[n]);
        if (err)
            return err;
        n++;
        p = (size_t)lf + 1;
    }
    *n_fields = n;
    return 0;
}

/* "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3), case-sensitive. Returns the
 * minor version, HTTP1_E_VERSION for a major other than 1, or
 * HTTP1_E_BAD. */
static int parse_version(const char *v, size_t n)
{
    if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.')
        return HTTP1_E_BAD;
    if (v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
        return HTTP1_E_BAD;
    if (v[5] != '1')
        return HTTP1_E_VERSION;
    return v[7] - '0';
}

/* RFC 9112 3: request-line = method SP request-target SP HTTP-version,
 * with single spaces (we do not take the MAY of whitespace-delimited
 * parsing). @e is the end of the line without its terminator; @complete
 * says whether the line is whole (else only the prefix is checked for
 * limits and bad bytes, so a bad line is answered without waiting). */
static int parse_request_line(const char *buf, size_t a, size_t e, int complete,
                              const struct http1_limits *lim, struct http1_request *req)
{
    size_t i = a;
    while (i < e && is_tchar((unsigned char)buf[i]) && i - a <= HTTP1_MAX_METHOD)
        i++;
    if (i - a > HTTP1_MAX_METHOD)
        return HTTP1_E_METHOD; /* RFC 9112 3: longer than any we implement */
    if (i == e && !complete)
        return HTTP1_PARTIAL;
    if (i == a || i == e || buf[i] != ' ')
        return HTTP1_E_BAD;
    req->method = buf + a;
    req->method_len = i - a;

    size_t t = ++i;
    for (; i < e && buf[i] != ' '; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c <= 0x20 || c >= 0x7f)
            return HTTP1_E_BAD;
        if (i - t >= lim->max_target)
            return HTTP1_E_URI_TOO_LONG; /* RFC 9112 3: 414 */
    }
    if (i == e && !complete)
        return e - a > lim->max_line ? HTTP1_E_BAD : HTTP1_PARTIAL;
    if (i == t || i == e)
        return HTTP1_E_BAD; /* no target, or no version (HTTP/0.9) */
    req->target = buf + t;
    req->target_len = i - t;

    i++;
    if (!complete)
        return e - i > 8 || e - a > lim->max_line ? HTTP1_E_BAD : HTTP1_PARTIAL;
    if (e - a > lim->max_line)
        return HTTP1_E_BAD;
    int minor = parse_version(buf + i, e - i);
    if (minor < 0)
        return minor;
    req->minor_version = minor;
    return 0;
}

int http1_parse_request(const char *buf, size_t len, size_t prev_len,
                        const struct http1_limits *limits, struct http1_request *req)
{
    struct http1_limits lim;
    limits_fill(&lim, limits);
    long s = skip_empty_lines(buf, len);
    if (s < 0)
        return HTTP1_PARTIAL;
    size_t start = (size_t)s;
    if (start > lim.max_line)
        return HTTP1_E_BAD; /* a stream of empty lines */

    long lf = find_lf(buf, start, len);
    if (lf < 0) {
        /* The request line is incomplete: refuse it early if it cannot
         * become valid. A CR at the end may be the start of its CRLF. */
        size_t e = len > start && buf[len - 1] == '\r' ? len - 1 : len;
        int err = parse_request_line(buf, start, e, 0, &lim, req);
        return err == 0 ? HTTP1_PARTIAL : err;
    }
    size_t e = line_end(buf, start, (size_t)lf);
    int err = parse_request_line(buf, start, e, 1, &lim, req);
    if (err)
        return err;

    size_t from = prev_len >= 3 ? prev_len - 3 : 0;
    if (from < (size_t)lf)
        from = (size_t)lf;
    size_t end = find_head_end(buf, (size_t)lf, from, len);
    if (!end)
        return len - start > lim.max_head ? HTTP1_E_FIELDS_TOO_LARGE : HTTP1_PARTIAL;
    if (end - start > lim.max_head)
        return HTTP1_E_FIELDS_TOO_LARGE;
    /* The request line's own LF may be the start of the empty line. */
    err = parse_fields(buf, (size_t)lf + 1, end, &lim, req->fields, &req->n_fields);
    if (err)
        return err;
    return (int)end;
}

/* RFC 9112 4: status-line = HTTP-version SP status-code SP [ reason-phrase ].
 * A missing SP before an empty reason is accepted, as clients do. */
static int parse_status_line(const char *buf, size_t a, size_t e, struct http1_response *r)
{
    if (e - a < 12)
        return HTTP1_E_BAD;
    int minor = parse_version(buf + a, 8);
    if (minor < 0)
        return minor;
    const char *p = buf + a + 8;
    if (p[0] != ' ')
        return HTTP1_E_BAD;
    int status = 0;
    for (int k = 1; k <= 3; k++) {
        if (p[k] < '0' || p[k] > '9')
            return HTTP1_E_BAD;
        status = status * 10 + (p[k] - '0');
    }
    if (status < 100)
        return HTTP1_E_BAD;
    size_t i = a + 12;
    if (i < e && buf[i] != ' ')
        return HTTP1_E_BAD;
    if (i < e)
        i++;
    for (size_t k = i; k < e; k++)
        if (!is_field_char((unsigned char)buf[k]))
            return HTTP1_E_BAD;
    r->minor_version = minor;
    r->status = status;
    r->reason = buf + i;
    r->reason_len = e - i;
    return 0;
}

int http1_parse_response(const char *buf, size_t len, size_t prev_len,
                         const struct http1_limits *limits, struct http1_response *resp)
{
    struct http1_limits lim;
    limits_fill(&lim, limits);
    long lf = find_lf(buf, 0, len);
    if (lf < 0)
        return len > lim.max_line ? HTTP1_E_BAD : HTTP1_PARTIAL;
    size_t e = line_end(buf, 0, (size_t)lf);
    if (e > lim.max_line)
        return HTTP1_E_BAD;
    int err = parse_status_line(buf, 0, e, resp);
    if (err)
        return err;
    size_t from = prev_len >= 3 ? prev_len - 3 : 0;
    if (from < (size_t)lf)
        from = (size_t)lf;
    size_t end = find_head_end(buf, (size_t)lf, from, len);
    if (!end)
        return len > lim.max_head ? HTTP1_E_FIELDS_TOO_LARGE : HTTP1_PARTIAL;
    if (end > lim.max_head)
        return HTTP1_E_FIELDS_TOO_LARGE;
    err = parse_fields(buf, (size_t)lf + 1, end, &lim, resp->fields, &resp->n_fields);
    if (err)
        return err;
    return (int)end;
}

/* ---- fields -------------------------------------------------------------- */

static unsigned char lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

int http1_token_eq(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    if (n != len)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != lower((unsigned char)lit[i]))
            return 0;
    return 1;
}

const struct http1_field *http1_field_find(const struct http1_field *f, size_t n,
                                           const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (http1_token_eq(f[i].name, f[i].name_len, name))
            return &f[i];
    return NULL;
}

size_t http1_field_count(const struct http1_field *f, size_t n, const char *name)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += http1_token_eq(f[i].name, f[i].name_len, name);
    return c;
}

/* Calls @fn on each element of a comma-separated list (RFC 9110 5.6.1),
 * OWS trimmed, empty elements skipped; stops when @fn returns non-zero
 * and returns that. */
static int list_each(const char *v, size_t n, int (*fn)(const char *, size_t, void *), void *arg)
{
    size_t i = 0;
    while (i < n) {
        size_t a = i;
        while (i < n && v[i] != ',')
            i++;
        size_t b = i;
        while (a < b && is_ows((unsigned char)v[a]))
            a++;
        while (b > a && is_ows((unsigned char)v[b - 1]))
            b--;
        if (b > a) {
            int r = fn(v + a, b - a, arg);
            if (r)
                return r;
        }
        i++;
    }
    return 0;
}

static int token_match(const char *e, size_t n, void *arg)
{
    return http1_token_eq(e, n, arg);
}

int http1_field_has_token(const struct http1_field *f, size_t n, const char *name,
                          const char *token)
{
    for (size_t i = 0; i < n; i++)
        if (http1_token_eq(f[i].name, f[i].name_len, name) &&
            list_each(f[i].value, f[i].value_len, token_match, (void *)token))
            return 1;
    return 0;
}

/* ---- message body length -------------------------------------------------- */

struct te_scan {
    int n;           /* codings seen */
    int chunked_at;  /* 1-based index of "chunked", 0: none */
    int bad;
};

static int te_element(const char *e, size_t n, void *arg)
{
    struct te_scan *t = arg;
    size_t k = 0;
    while (k < n && is_tchar((unsigned char)e[k]))
        k++;
    if (k == 0) {
        t->bad = 1;
        return 1;
    }
    t->n++;
    if (http1_token_eq(e, k, "chunked")) {
        if (t->chunked_at || k != n) {
            /* RFC 9112 6.1: chunked MUST NOT be applied more than once; it
             * takes no parameters. */
            t->bad = 1;
            return 1;
        }
        t->chunked_at = t->n;
    } else if (t->chunked_at) {
        t->bad = 1; /* a coding after chunked: the length is unknowable */
        return 1;
    }
    return 0;
}

struct cl_scan {
    int n;
    uint64_t value;
    int bad;
};

static int cl_element(const char *e, size_t n, void *arg)
{
    struct cl_scan *c = arg;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i] < '0' || e[i] > '9') {
            c->bad = 1;
            return 1;
        }
        unsigned d = (unsigned)(e[i] - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    /* RFC 9112 6.3: a list of identical values may be taken as one;
     * differing ones are an unrecoverable error. */
    if (c->n && c->value != v) {
        c->bad = 1;
        return 1;
    }
    c->value = v;
    c->n++;
    return 0;
}

/* Scans every field named @name with @fn; returns how many fields. */
static size_t scan_fields(const struct http1_field *f, size_t n, const char *name,
                          int (*fn)(const char *, size_t, void *), void *arg, int *empty)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (!http1_token_eq(f[i].name, f[i].name_len, name))
            continue;
        count++;
        if (f[i].value_len == 0)
            *empty = 1;
        list_each(f[i].value, f[i].value_len, fn, arg);
    }
    return count;
}

int http1_request_body(const struct http1_request *req, struct http1_body *out)
{
    struct te_scan te = {0};
    struct cl_scan cl = {0};
    int empty = 0;
    size_t n_te = scan_fields(req->fields, req->n_fields, "transfer-encoding", te_element, &te,
                              &empty);
    size_t n_cl = scan_fields(req->fields, req->n_fields, "content-length", cl_element, &cl,
                              &empty);
    *out = (struct http1_body){HTTP1_BODY_NONE, 0};
    if (n_te) {
        /* RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 means faulty framing;
         * RFC 9112 6.3: with Content-Length too it may be smuggling — we
         * refuse both with 400 (and the server closes). */
        if (req->minor_version == 0 || n_cl || te.bad || empty || te.n == 0)
            return HTTP1_E_BAD;
        if (!te.chunked_at)
            return HTTP1_E_BAD; /* RFC 9112 6.3 item 4: chunked not final: 400 */
        if (te.n > 1)
            return HTTP1_E_CODING; /* RFC 9112 6.1: unknown coding: 501 */
        out->framing = HTTP1_BODY_CHUNKED;
        return 0;
    }
    if (n_cl) {
        if (cl.bad || empty || cl.n == 0)
            return HTTP1_E_BAD; /* RFC 9112 6.3 item 5 */
        out->framing = HTTP1_BODY_LENGTH;
        out->length = cl.value;
        return 0;
    }
    return 0; /* RFC 9112 6.3 item 6: no body */
}

int http1_response_body(const struct http1_response *resp, int head, struct http1_body *out)
{
    *out = (struct http1_body){HTTP1_BODY_NONE, 0};
    /* RFC 9112 6.3 item 1: HEAD, 1xx, 204, 304 have no body. */
    if (head || resp->status < 200 || resp->status == 204 || resp->status == 304)
        return 0;
    struct te_scan te = {0};
    struct cl_scan cl = {0};
    int empty = 0;
    size_t n_te = scan_fields(resp->fields, resp->n_fields, "transfer-encoding", te_element,
                              &te, &empty);
    if (n_te) {
        /* RFC 9112 6.3 item 4: chunked last: chunked; else until close. */
        out->framing = te.chunked_at && !te.bad && resp->minor_version > 0 ? HTTP1_BODY_CHUNKED
                                                                           : HTTP1_BODY_CLOSE;
        return 0;
    }
    size_t n_cl = scan_fields(resp->fields, resp->n_fields, "content-length", cl_element, &cl,
                              &empty);
    if (n_cl) {
        if (cl.bad || empty || cl.n == 0)
            return HTTP1_E_BAD;
        out->framing = HTTP1_BODY_LENGTH;
        out->length = cl.value;
        return 0;
    }
    out->framing = HTTP1_BODY_CLOSE; /* RFC 9112 6.3 item 8 */
    return 0;
}

/* ---- chunked ---------------------------------------------------------------- */

enum { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER, CH_DONE };

void http1_chunked_init(struct http1_chunked *d, uint64_t max_body)
{
    memset(d, 0, sizeof(*d));
    d->max_body = max_body;
}

static int hex_val(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* RFC 9112 7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF;
 * chunk-size = 1*HEXDIG; chunk-ext = *( BWS ";" BWS ext-name [ BWS "="
 * BWS ext-val ] ). Extensions are ignored (7.1.1) but must not hold
 * CTLs. Returns 0 and *size, or HTTP1_E_BAD. */
static int parse_chunk_size(const char *buf, size_t a, size_t e, uint64_t *size)
{
    size_t i = a;
    while (i < e && buf[i] == '0')
        i++;
    uint64_t v = 0;
    int digits = 0;
    for (; i < e && hex_val((unsigned char)buf[i]) >= 0; i++) {
        if (++digits > 16)
            return HTTP1_E_BAD; /* would not fit in 64 bits */
        v = v << 4 | (uint64_t)hex_val((unsigned char)buf[i]);
    }
    if (i == a)
        return HTTP1_E_BAD; /* no digits at all (also "-1", "0x5", " 5") */
    size_t k = i;
    while (k < e && is_ows((unsigned char)buf[k]))
        k++;
    if (k < e && buf[k] != ';')
        return HTTP1_E_BAD;
    if (k == e && k != i)
        return HTTP1_E_BAD; /* whitespace with no extension after it */
    for (; k < e; k++)
        if (!is_field_char((unsigned char)buf[k]))
            return HTTP1_E_BAD;
    *size = v;
    return 0;
}

int http1_chunked_decode(struct http1_chunked *d, const char *buf, size_t len, size_t *consumed,
                         size_t *data_off, size_t *data_len)
{
    size_t p = 0;
    *data_off = *data_len = 0;
    for (;;) {
        *consumed = p;
        switch (d->state) {
        case CH_SIZE: {
            size_t lim = len - p < HTTP1_CHUNK_LINE_MAX + 1 ? len - p : HTTP1_CHUNK_LINE_MAX + 1;
            long lf = find_lf(buf, p, p + lim);
            if (lf < 0)
                return len - p > HTTP1_CHUNK_LINE_MAX ? HTTP1_E_BAD : HTTP1_PARTIAL;
            uint64_t size;
            if (parse_chunk_size(buf, p, line_end(buf, p, (size_t)lf), &size) < 0)
                return HTTP1_E_BAD;
            p = (size_t)lf + 1;
            if (size == 0) {
                d->state = CH_TRAILER;
                break;
            }
            if (d->max_body && (size > d->max_body || d->total > d->max_body - size))
                return HTTP1_E_BODY_TOO_LARGE;
            d->total += size;
            d->remaining = size;
            d->state = CH_DATA;
            break;
        }
        case CH_DATA: {
            size_t n = len - p;
            if (n == 0)
                return HTTP1_PARTIAL;
            if (n > d->remaining)
                n = (size_t)d->remaining;
            d->remaining -= n;
            if (d->remaining == 0)
                d->state = CH_DATA_END;
            *data_off = p;
            *data_len = n;
            *consumed = p + n;
            return HTTP1_CHUNK_DATA;
        }
        case CH_DATA_END:
            /* RFC 9112 2.2: a bare LF MAY be taken as a line terminator. */
            if (p == len)
                return HTTP1_PARTIAL;
            if (buf[p] == '\n') {
                p++;
            } else if (buf[p] == '\r') {
                if (p + 1 == len)
                    return HTTP1_PARTIAL;
                if (buf[p + 1] != '\n')
                    return HTTP1_E_BAD;
                p += 2;
            } else {
                return HTTP1_E_BAD; /* more data than the chunk size said */
            }
            d->state = CH_SIZE;
            break;
        case CH_TRAILER: {
            long lf = find_lf(buf, p, len);
            if (lf < 0)
                return d->trailer_bytes + (len - p) > HTTP1_CHUNK_TRAILER_MAX
                           ? HTTP1_E_FIELDS_TOO_LARGE
                           : HTTP1_PARTIAL;
            size_t e = line_end(buf, p, (size_t)lf);
            if (e == p) {
                d->state = CH_DONE;
                *consumed = (size_t)lf + 1;
                return HTTP1_CHUNK_DONE;
            }
            d->trailer_bytes += (uint32_t)((size_t)lf + 1 - p);
            if (d->trailer_bytes > HTTP1_CHUNK_TRAILER_MAX)
                return HTTP1_E_FIELDS_TOO_LARGE;
            struct http1_field f;
            if (is_ows((unsigned char)buf[p]) || parse_field(buf, p, e, &f) < 0)
                return HTTP1_E_BAD; /* trailer fields are read and dropped */
            p = (size_t)lf + 1;
            break;
        }
        default:
            return HTTP1_CHUNK_DONE;
        }
    }
}
