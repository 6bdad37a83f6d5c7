/* http/http1_server.c: HTTP/1.0 and HTTP/1.1 on one connection: read a
 * head, check it, read the body (Content-Length or chunked), answer it
 * (handler.c), write the response (Content-Length or chunked), then the
 * next request, pipelined ones in order. Also the two ways into HTTP/2
 * (the prior-knowledge preface and Upgrade: h2c).
 *
 * Read first: RFC 9112 3 (request line, Host), 6 (body length), 7
 * (chunked), 9.3 (persistence), 9.6 (tear-down); RFC 9110 10.1.1
 * (Expect); RFC 7540 3.2 (Upgrade: h2c; removed from RFC 9113). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/server_impl.h"

#define FILL_CHUNK 65536      /* body bytes copied into out at a time */
#define OUT_HIGH_WATER 65536  /* stop filling out beyond this */

static const char h2_preface_line[] = "PRI * HTTP/2.0\r\n";
#define H2_PREFACE_LINE_LEN (sizeof(h2_preface_line) - 1)

enum { P_NEED_INPUT, P_PROGRESS, P_SWITCH, P_GONE };

void h1_init(struct http_conn *c)
{
    c->mode = MODE_H1;
    memset(&c->h1, 0, sizeof(c->h1));
    http_resp_init(&c->h1.resp);
    c->h1.phase = H1_HEAD;
}

void h1_free(struct http_conn *c)
{
    free(c->h1.body);
    c->h1.body = NULL;
    c->h1.body_len = c->h1.body_cap = 0;
    http_resp_clear(&c->h1.resp);
}

/* Removes in[at .. at+n). */
static void in_remove(struct http_conn *c, size_t at, size_t n)
{
    memmove(c->in + at, c->in + at + n, c->in_len - at - n);
    c->in_len -= n;
}

static int body_append(struct http_conn *c, const char *p, size_t n)
{
    struct h1_state *h = &c->h1;
    return http_buf_append(&h->body, &h->body_len, &h->body_cap, p, n, 4096);
}

static int is_host_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("-._~!$&'()*+,;=%:[]", ch));
}

/* RFC 9112 3.2: Host = uri-host [ ":" port ]; empty is allowed. */
static int host_valid(const struct http1_field *f)
{
    for (size_t i = 0; i < f->value_len; i++)
        if (!is_host_char((unsigned char)f->value[i]))
            return 0;
    return 1;
}

/* ---- responses ------------------------------------------------------------ */

static int version_of(const struct h1_state *h) { return h->req.minor_version ? 11 : 10; }

static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define PUT_LIT(p, s) put((p), (s), sizeof(s) - 1)

/* @v in decimal. */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* Writes the status line and fields of h->resp into out and logs it. The
 * request's strings must still be valid (the head is in c->in). */
static int start_response(struct http_conn *c, int have_req)
{
    struct http_server *srv = c->srv;
    struct h1_state *h = &c->h1;
    struct http_resp *r = &h->resp;
    if (srv->shutting_down || r->close)
        h->keep_alive = 0;
    int chunked = r->chunked && have_req && h->req.minor_version >= 1 && !r->omit_body &&
                  !r->no_length;
    r->chunked = chunked;
    char *o = conn_out_reserve(c, 512 + r->arena_len + 4 * HTTP_RESP_MAX_HDRS);
    if (!o)
        return -1;
    char *p = o;
    /* Plain copies, no printf: this runs once per request. */
    p = PUT_LIT(p, "HTTP/1.1 ");
    *p++ = (char)('0' + r->status / 100 % 10);
    *p++ = (char)('0' + r->status / 10 % 10);
    *p++ = (char)('0' + r->status % 10);
    *p++ = ' ';
    const char *reason = http_reason(r->status);
    p = put(p, reason, strlen(reason));
    p = PUT_LIT(p, "\r\nServer: synack\r\n");
    const char *date = srv_date(srv);
    if (date) {
        p = PUT_LIT(p, "Date: ");
        p = put(p, date, HTTP_DATE_LEN - 1);
        p = PUT_LIT(p, "\r\n");
    }
    for (int i = 0; i < r->n_hdrs; i++) {
        p = put(p, r->arena + r->name_off[i], r->name_len[i]);
        *p++ = ':';
        *p++ = ' ';
        p = put(p, r->arena + r->value_off[i], r->value_len[i]);
        *p++ = '\r';
        *p++ = '\n';
    }
    if (chunked) {
        p = PUT_LIT(p, "Transfer-Encoding: chunked\r\n");
    } else if (!r->no_length) {
        p = PUT_LIT(p, "Content-Length: ");
        p = put_u64(p, r->len);
        p = PUT_LIT(p, "\r\n");
    }
    /* RFC 9112 9.3: HTTP/1.1 persists unless "close"; an HTTP/1.0 client
     * asked for keep-alive and is told it holds. */
    if (!h->keep_alive)
        p = PUT_LIT(p, "Connection: close\r\n");
    else if (version_of(h) == 10)
        p = PUT_LIT(p, "Connection: keep-alive\r\n");
    *p++ = '\r';
    *p++ = '\n';
    c->out.len += (size_t)(p - o);

    h->body_done = 0;
    h->last_chunk_done = 0;
    h->phase = H1_RESPOND;
    uint64_t bytes = r->omit_body || r->kind == HTTP_BODY_NONE ? 0 : r->len;
    if (have_req)
        srv_access_log(srv, c->peer, h->req.method, h->req.method_len, h->req.target,
                       h->req.target_len, version_of(h), r->status, bytes);
    else
        srv_access_log(srv, c->peer, NULL, 0, NULL, 0, 11, r->status, bytes);
    return 0;
}

/* An error answered before (or instead of) reading the whole request;
 * the connection closes after it (RFC 9112 9.6: the framing may be lost). */
static int respond_error(struct http_conn *c, int status, int have_req)
{
    struct h1_state *h = &c->h1;
    http_resp_clear(&h->resp);
    http_resp_error(&h->resp, status);
    h->resp.close = 1;
    h->keep_alive = 0;
    if (have_req && h->req.method_len == 4 && memcmp(h->req.method, "HEAD", 4) == 0)
        h->resp.omit_body = 1;
    c->srv->st.bad_requests++;
    if (start_response(c, have_req) < 0) {
        conn_destroy(c, 1);
        return P_GONE;
    }
    h->head_len = 0;
    return P_PROGRESS;
}

/* Copies more of the body into out, up to the high-water mark. Returns 0
 * or -1 (the file could not be read). */
static int fill_body(struct http_conn *c)
{
    struct h1_state *h = &c->h1;
    struct http_resp *r = &h->resp;
    if (r->omit_body || r->kind == HTTP_BODY_NONE)
        return 0;
    while (h->body_done < r->len && c->out.len - c->out.off < OUT_HIGH_WATER) {
        uint64_t left = r->len - h->body_done;
        size_t want = left < FILL_CHUNK ? (size_t)left : FILL_CHUNK;
        char *dst = conn_out_reserve(c, want + 32);
        if (!dst)
            return -1;
        /* chunk-size with leading zeros (RFC 9112 7.1: 1*HEXDIG), so the
         * line can be rewritten in place when the read comes up short. */
        size_t hdr = r->chunked ? 10 : 0;
        if (r->kind == HTTP_BODY_MEM) {
            memcpy(dst + hdr, r->mem + h->body_done, want);
        } else {
            ssize_t n = pread(r->fd, dst + hdr, want, (off_t)(r->off + h->body_done));
            if (n <= 0)
                return -1; /* the file shrank under us: the framing is lost */
            want = (size_t)n;
        }
        if (r->chunked) {
            char line[32];
            snprintf(line, sizeof(line), "%08zx\r\n", want);
            memcpy(dst, line, 10);
            memcpy(dst + hdr + want, "\r\n", 2);
            want += 2;
        }
        c->out.len += hdr + want;
        h->body_done += want - (r->chunked ? 2 : 0);
    }
    if (r->chunked && h->body_done == r->len && !h->last_chunk_done) {
        if (conn_out_append(c, "0\r\n\r\n", 5) < 0)
            return -1;
        h->last_chunk_done = 1;
    }
    return 0;
}

static int response_done(const struct http_conn *c)
{
    const struct h1_state *h = &c->h1;
    const struct http_resp *r = &h->resp;
    if (c->out.len > c->out.off)
        return 0;
    if (r->omit_body || r->kind == HTTP_BODY_NONE)
        return 1;
    return h->body_done == r->len && (!r->chunked || h->last_chunk_done);
}

/* ---- requests --------------------------------------------------------------- */

/* RFC 7540 3.2: an HTTP/1.1 request asking to upgrade to h2c, with exactly
 * one HTTP2-Settings naming in Connection. Returns the settings length
 * decoded into @settings, or -1. */
static long upgrade_settings(const struct h1_state *h, uint8_t *settings, size_t cap)
{
    const struct http1_field *f = h->req.fields;
    size_t n = h->req.n_fields;
    if (h->req.minor_version < 1 || !http1_field_has_token(f, n, "upgrade", "h2c") ||
        !http1_field_has_token(f, n, "connection", "upgrade") ||
        !http1_field_has_token(f, n, "connection", "http2-settings") ||
        http1_field_count(f, n, "http2-settings") != 1)
        return -1;
    const struct http1_field *s = http1_field_find(f, n, "http2-settings");
    return http_b64url_decode(s->value, s->value_len, settings, cap);
}

/* The whole request is here: answer it. */
static int dispatch(struct http_conn *c)
{
    struct http_server *srv = c->srv;
    struct h1_state *h = &c->h1;
    struct http_req req = {
        .version = version_of(h),
        .method = h->req.method,
        .method_len = h->req.method_len,
        .target = h->req.target,
        .target_len = h->req.target_len,
        .fields = h->req.fields,
        .n_fields = h->req.n_fields,
        .body = h->body,
        .body_len = h->body_len,
        .body_chunked = h->framing.framing == HTTP1_BODY_CHUNKED,
        .peer = c->peer,
    };
    srv->st.requests_h1++;

    uint8_t settings[1024];
    long sl = srv->o.no_h2 ? -1 : upgrade_settings(h, settings, sizeof(settings));
    if (sl >= 0) {
        static const char sw[] = "HTTP/1.1 101 Switching Protocols\r\n"
                                 "Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
        srv_access_log(srv, c->peer, req.method, req.method_len, req.target, req.target_len, 11,
                       101, 0);
        if (conn_out_append(c, sw, sizeof(sw) - 1) < 0 ||
            h2_start(c, &req, settings, (size_t)sl) < 0) {
            conn_destroy(c, 1);
            return P_GONE;
        }
        in_remove(c, 0, h->head_len);
        h1_free(c);
        return P_SWITCH;
    }

    http_handle(srv, &req, &h->resp);
    if (!req.body) { /* the handler took it */
        h->body = NULL;
        h->body_cap = 0;
    }
    h->body_len = 0;
    if (start_response(c, 1) < 0) {
        conn_destroy(c, 1);
        return P_GONE;
    }
    in_remove(c, 0, h->head_len);
    h->head_len = 0;
    return P_PROGRESS;
}

/* A complete head is at in[0 .. rc): check it and get ready for the body. */
static int head_done(struct http_conn *c, int rc)
{
    struct http_server *srv = c->srv;
    struct h1_state *h = &c->h1;
    const struct http1_field *f = h->req.fields;
    size_t n = h->req.n_fields;
    h->head_len = (size_t)rc;
    h->prev_len = 0;
    h->head_start = 0;
    h->n_requests++;

    /* RFC 9112 3.2: 400 for an HTTP/1.1 request without Host, and for any
     * with more than one or an invalid one. */
    size_t n_host = http1_field_count(f, n, "host");
    if ((h->req.minor_version >= 1 && n_host == 0) || n_host > 1 ||
        (n_host == 1 && !host_valid(http1_field_find(f, n, "host"))))
        return respond_error(c, 400, 1);
    int err = http1_request_body(&h->req, &h->framing);
    if (err < 0)
        return respond_error(c, http1_err_status(err), 1);
    if (h->framing.framing == HTTP1_BODY_LENGTH && h->framing.length > srv->o.max_body)
        return respond_error(c, 413, 1);

    /* RFC 9112 9.3: persistence. */
    if (h->req.minor_version >= 1)
        h->keep_alive = !http1_field_has_token(f, n, "connection", "close");
    else
        h->keep_alive = http1_field_has_token(f, n, "connection", "keep-alive") &&
                        !http1_field_has_token(f, n, "connection", "close");

    /* RFC 9110 10.1.1: 100-continue before reading a body the client holds
     * back; any other expectation: 417. */
    const struct http1_field *expect = http1_field_find(f, n, "expect");
    int has_body = h->framing.framing == HTTP1_BODY_CHUNKED ||
                   (h->framing.framing == HTTP1_BODY_LENGTH && h->framing.length > 0);
    if (expect) {
        if (!http1_token_eq(expect->value, expect->value_len, "100-continue"))
            return respond_error(c, 417, 1);
        size_t have = c->in_len - h->head_len;
        if (has_body && h->req.minor_version >= 1 &&
            !(h->framing.framing == HTTP1_BODY_LENGTH && have >= h->framing.length)) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            if (conn_out_append(c, cont, sizeof(cont) - 1) < 0)
                return respond_error(c, 500, 1);
        }
    }
    h->body_len = 0;
    h->body_left = h->framing.framing == HTTP1_BODY_LENGTH ? h->framing.length : 0;
    http1_chunked_init(&h->chunked, srv->o.max_body);
    h->phase = H1_BODY;
    return P_PROGRESS;
}

/* Reads as much of the body as is here. */
static int body_step(struct http_conn *c)
{
    struct h1_state *h = &c->h1;
    size_t at = h->head_len;
    switch (h->framing.framing) {
    case HTTP1_BODY_NONE:
    case HTTP1_BODY_CLOSE:
        return dispatch(c);
    case HTTP1_BODY_LENGTH: {
        size_t avail = c->in_len - at;
        size_t take = avail < h->body_left ? avail : (size_t)h->body_left;
        if (take && body_append(c, c->in + at, take) < 0)
            return respond_error(c, 500, 1);
        in_remove(c, at, take);
        h->body_left -= take;
        if (h->body_left == 0)
            return dispatch(c);
        return P_NEED_INPUT;
    }
    case HTTP1_BODY_CHUNKED:
        for (;;) {
            size_t used, off, len;
            int r = http1_chunked_decode(&h->chunked, c->in + at, c->in_len - at, &used, &off,
                                         &len);
            if (r == HTTP1_CHUNK_DATA && body_append(c, c->in + at + off, len) < 0)
                return respond_error(c, 500, 1);
            if (r < 0 && r != HTTP1_PARTIAL)
                return respond_error(c, http1_err_status(r), 1);
            in_remove(c, at, used);
            if (r == HTTP1_CHUNK_DONE)
                return dispatch(c);
            if (r == HTTP1_PARTIAL)
                return P_NEED_INPUT;
        }
    }
    return P_NEED_INPUT;
}

static int process_input(struct http_conn *c)
{
    struct http_server *srv = c->srv;
    struct h1_state *h = &c->h1;
    if (h->phase == H1_BODY)
        return body_step(c);
    if (c->in_len == 0)
        return P_NEED_INPUT;
    /* RFC 9113 3.3: prior knowledge starts with the connection preface,
     * whose first line no HTTP/1.x request can have. */
    if (h->n_requests == 0 && !srv->o.no_h2) {
        size_t k = c->in_len < H2_PREFACE_LINE_LEN ? c->in_len : H2_PREFACE_LINE_LEN;
        if (memcmp(c->in, h2_preface_line, k) == 0) {
            if (k < H2_PREFACE_LINE_LEN)
                return P_NEED_INPUT;
            if (h2_start(c, NULL, NULL, 0) < 0) {
                conn_destroy(c, 1);
                return P_GONE;
            }
            h1_free(c);
            return P_SWITCH;
        }
    }
    if (!h->head_start)
        h->head_start = srv->now;
    h->req.fields = h->fields;
    h->req.n_fields = srv->o.limits.max_fields;
    int rc = http1_parse_request(c->in, c->in_len, h->prev_len, &srv->o.limits, &h->req);
    if (rc == HTTP1_PARTIAL) {
        h->prev_len = c->in_len;
        return P_NEED_INPUT;
    }
    if (rc < 0)
        return respond_error(c, http1_err_status(rc), 0);
    return head_done(c, rc);
}

/* Arms the timer for what the connection waits for. */
static void wait_timer(struct http_conn *c)
{
    struct http_server *srv = c->srv;
    struct h1_state *h = &c->h1;
    if (h->phase == H1_BODY) {
        conn_timer(c, srv->o.body_timeout_ms);
    } else if (c->in_len > 0 && h->head_start) {
        /* Slow request (slowloris): the head has request_timeout_ms from its
         * first byte, however it trickles in. */
        tw_arm(&srv->tw, &c->timer, h->head_start + SN_MSEC(srv->o.request_timeout_ms));
    } else {
        conn_timer(c, h->n_requests ? srv->o.idle_timeout_ms : srv->o.request_timeout_ms);
    }
}

int h1_drive(struct http_conn *c)
{
    struct h1_state *h = &c->h1;
    for (;;) {
        if (h->phase == H1_RESPOND && fill_body(c) < 0)
            return conn_destroy(c, 1);
        int r = conn_flush(c);
        if (r < 0)
            return conn_destroy(c, 1);
        if (r > 0) {
            conn_timer(c, c->srv->o.send_timeout_ms);
            return CONN_ALIVE;
        }
        if (h->phase == H1_RESPOND) {
            if (!response_done(c))
                continue;
            http_resp_clear(&h->resp);
            h->phase = H1_HEAD;
            h->prev_len = 0;
            if (!h->keep_alive)
                return conn_linger(c);
            continue;
        }
        switch (process_input(c)) {
        case P_PROGRESS:
            continue;
        case P_SWITCH:
            return h2_drive(c);
        case P_GONE:
            return CONN_GONE;
        default:
            break;
        }
        if (c->peer_eof) {
            /* RFC 9112 9.6: the client is done; an unfinished request is
             * dropped with the connection. */
            return conn_destroy(c, 0);
        }
        long n = conn_read(c);
        if (n > 0)
            continue;
        if (n == 0) {
            c->peer_eof = 1;
            continue;
        }
        if (n == -EAGAIN) {
            wait_timer(c);
            return CONN_ALIVE;
        }
        if (n == -ENOBUFS) {
            if (respond_error(c, 431, 0) == P_GONE)
                return CONN_GONE;
            continue;
        }
        return conn_destroy(c, 1);
    }
}

int h1_timeout(struct http_conn *c)
{
    struct h1_state *h = &c->h1;
    if (h->phase == H1_RESPOND) {
        c->srv->st.timeouts++;
        return conn_destroy(c, 1); /* the client stopped reading */
    }
    if (h->phase == H1_HEAD && c->in_len == 0)
        return conn_destroy(c, 0); /* idle keep-alive connection */
    /* RFC 9110 15.5.9: 408 for a request that did not arrive in time. */
    c->srv->st.timeouts++;
    if (respond_error(c, 408, h->phase == H1_BODY) == P_GONE)
        return CONN_GONE;
    return h1_drive(c);
}

void h1_shutdown(struct http_conn *c)
{
    struct h1_state *h = &c->h1;
    if (h->phase == H1_HEAD && c->in_len == 0 && c->out.len == c->out.off)
        conn_destroy(c, 0);
    else
        h->keep_alive = 0;
}
