/* http/h2_server.c: HTTP/2 on a connection, through libnghttp2: bytes in
 * with nghttp2_session_mem_recv, bytes out with nghttp2_session_mem_send,
 * requests collected per stream and answered by the same handler as
 * HTTP/1.x. nghttp2 does the framing, HPACK, flow control, SETTINGS, PING
 * and the protocol checks; a protocol error it finds becomes the
 * connection or stream error RFC 9113 names (GOAWAY or RST_STREAM), which
 * this file then sends before closing.
 *
 * Read first: RFC 9113 3.4 (preface), 5.4 (error handling), 6.8
 * (GOAWAY), 8.1 (request/response exchange); nghttp2.h on mem_recv,
 * mem_send, submit_response and session_upgrade2. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "http/server_impl.h"

#define H2_MAX_STREAMS 100
#define H2_WINDOW (1 << 20)           /* per-stream receive window we offer */
#define H2_CONN_WINDOW (16 << 20)     /* connection receive window */
#define H2_OUT_HIGH_WATER (256 << 10) /* stop producing frames beyond this */

struct h2_field_off {
    uint32_t no, nl, vo, vl;
};

struct h2_stream {
    struct h2_stream *next, *prev;
    struct http_conn *c;
    int32_t id;
    char *hbuf; /* copies of header names and values */
    size_t hlen, hcap;
    struct h2_field_off hdr[HTTP1_DEFAULT_MAX_FIELDS];
    size_t n_hdr;
    struct h2_field_off method, path;
    int have_method, have_path;
    int too_large;      /* header list over the limits: 431 */
    char *body;
    size_t body_len, body_cap;
    int body_too_large; /* 413 */
    size_t held;        /* request body bytes counted in h2_conn.body_bytes */
    int responded;
    struct http_resp resp;
    uint64_t sent;
};

#define H2_GAPS 64   /* never-used client stream id ranges remembered */
#define H2_RESETS 64 /* recently reset stream ids remembered */

struct h2_conn {
    nghttp2_session *ng;
    struct h2_stream *streams;
    uint32_t n_streams;
    int fatal;           /* a connection error: GOAWAY queued, nothing more is read */
    struct h2_stream *upgraded; /* stream 1 of an upgrade, answered once the preface came */
    size_t body_bytes;          /* request bodies held, all streams: at most max_body */
    uint32_t pending_err; /* set by a callback that failed the session on purpose */
    /* Stream ids the client skipped (RFC 9113 5.1.1: they are closed, never
     * opened) and ids closed by RST_STREAM, to classify a late HEADERS. */
    int32_t max_id;
    int32_t gap_lo[H2_GAPS], gap_hi[H2_GAPS];
    unsigned n_gaps, gap_next;
    int32_t reset[H2_RESETS];
    unsigned reset_next;
};

static struct h2_stream *stream_new(struct http_conn *c, int32_t id)
{
    struct h2_stream *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->c = c;
    st->id = id;
    http_resp_init(&st->resp);
    struct h2_conn *h = c->h2;
    st->next = h->streams;
    if (h->streams)
        h->streams->prev = st;
    h->streams = st;
    h->n_streams++;
    return st;
}

static void stream_free(struct http_conn *c, struct h2_stream *st)
{
    struct h2_conn *h = c->h2;
    if (st->prev)
        st->prev->next = st->next;
    else
        h->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    h->n_streams--;
    h->body_bytes -= st->held; /* an echo's body lives until its stream ends */
    http_resp_clear(&st->resp);
    free(st->hbuf);
    free(st->body);
    free(st);
}

/* Copies @n bytes into the stream's header buffer; returns the offset or
 * -1 (over the head limit). */
static long hbuf_put(struct h2_stream *st, const uint8_t *p, size_t n, size_t limit)
{
    if (st->hlen + n > limit || http_buf_append(&st->hbuf, &st->hlen, &st->hcap, p, n, 1024) < 0)
        return -1;
    return (long)(st->hlen - n);
}

static int put_field(struct h2_stream *st, const uint8_t *name, size_t nl, const uint8_t *value,
                     size_t vl, size_t limit, struct h2_field_off *out)
{
    long no = hbuf_put(st, name, nl, limit);
    long vo = no < 0 ? -1 : hbuf_put(st, value, vl, limit);
    if (vo < 0)
        return -1;
    *out = (struct h2_field_off){(uint32_t)no, (uint32_t)nl, (uint32_t)vo, (uint32_t)vl};
    return 0;
}

/* ---- answering -------------------------------------------------------------- */

static ssize_t data_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length,
                         uint32_t *flags, nghttp2_data_source *src, void *user)
{
    (void)ng;
    (void)id;
    (void)user;
    struct h2_stream *st = src->ptr;
    struct http_resp *r = &st->resp;
    uint64_t left = r->len - st->sent;
    size_t n = left < length ? (size_t)left : length;
    if (r->kind == HTTP_BODY_MEM) {
        memcpy(buf, r->mem + st->sent, n);
    } else if (n > 0) {
        ssize_t k = pread(r->fd, buf, n, (off_t)(r->off + st->sent));
        if (k <= 0)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* RST_STREAM */
        n = (size_t)k;
    }
    st->sent += n;
    if (st->sent == r->len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

#define NV_MAX (HTTP_RESP_MAX_HDRS + 4)

static void lower_copy(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] + 32 : src[i]);
}

/* Submits st->resp on the stream. Returns 0 or an nghttp2 error. */
static int submit(struct http_conn *c, struct h2_stream *st)
{
    struct http_server *srv = c->srv;
    struct http_resp *r = &st->resp;
    nghttp2_nv nv[NV_MAX];
    size_t n = 0;
    char status[4], clen[24];
    char names[HTTP_RESP_ARENA];
    snprintf(status, sizeof(status), "%03d", r->status);
#define NV(nm, nml, vl, vll)                                                                      \
    nv[n++] = (nghttp2_nv){(uint8_t *)(nm), (uint8_t *)(vl), (nml), (vll), NGHTTP2_NV_FLAG_NONE}
    NV(":status", 7, status, 3);
    NV("server", 6, "synack", 6);
    const char *date = srv_date(srv);
    if (date)
        NV("date", 4, date, HTTP_DATE_LEN - 1);
    size_t used = 0;
    for (int i = 0; i < r->n_hdrs && n < NV_MAX - 1; i++) {
        /* RFC 9113 8.2.1: field names are lower case in HTTP/2. */
        lower_copy(names + used, r->arena + r->name_off[i], r->name_len[i]);
        NV(names + used, r->name_len[i], r->arena + r->value_off[i], r->value_len[i]);
        used += r->name_len[i];
    }
    if (!r->no_length) {
        int k = snprintf(clen, sizeof(clen), "%llu", (unsigned long long)r->len);
        NV("content-length", 14, clen, (size_t)k);
    }
#undef NV
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = data_read};
    int has_body = !r->omit_body && r->kind != HTTP_BODY_NONE && r->len > 0;
    st->responded = 1;
    return nghttp2_submit_response(c->h2->ng, st->id, nv, n, has_body ? &prd : NULL);
}

/* The request on @st is complete: answer it. */
static int process(struct http_conn *c, struct h2_stream *st)
{
    struct http_server *srv = c->srv;
    if (st->responded)
        return 0;
    srv->st.requests_h2++;
    struct http1_field fields[HTTP1_DEFAULT_MAX_FIELDS];
    for (size_t i = 0; i < st->n_hdr; i++)
        fields[i] = (struct http1_field){st->hbuf + st->hdr[i].no, st->hdr[i].nl,
                                         st->hbuf + st->hdr[i].vo, st->hdr[i].vl};
    struct http_req req = {
        .version = 20,
        .method = st->have_method ? st->hbuf + st->method.vo : "GET",
        .method_len = st->have_method ? st->method.vl : 3,
        .target = st->have_path ? st->hbuf + st->path.vo : "/",
        .target_len = st->have_path ? st->path.vl : 1,
        .fields = fields,
        .n_fields = st->n_hdr,
        .body = st->body,
        .body_len = st->body_len,
        .peer = c->peer,
    };
    if (st->too_large)
        http_resp_error(&st->resp, 431);
    else if (st->body_too_large)
        http_resp_error(&st->resp, 413);
    else
        http_handle(srv, &req, &st->resp);
    if (!req.body) { /* the handler took it: it is the response's now */
        st->body = NULL;
        st->body_len = st->body_cap = 0;
    }
    if (req.method_len == 4 && memcmp(req.method, "HEAD", 4) == 0)
        st->resp.omit_body = 1;
    uint64_t bytes = st->resp.omit_body || st->resp.kind == HTTP_BODY_NONE ? 0 : st->resp.len;
    srv_access_log(srv, c->peer, req.method, req.method_len, req.target, req.target_len, 20,
                   st->resp.status, bytes);
    return submit(c, st);
}

/* ---- nghttp2 callbacks -------------------------------------------------------- */

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
    struct http_conn *c = user;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct h2_stream *st = stream_new(c, frame->hd.stream_id);
    if (!st)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    nghttp2_session_set_stream_user_data(ng, frame->hd.stream_id, st);
    return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name,
                     size_t nl, const uint8_t *value, size_t vl, uint8_t flags, void *user)
{
    (void)flags;
    struct http_conn *c = user;
    if (frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (!st || st->too_large || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0; /* trailers are read and dropped */
    size_t limit = c->srv->o.limits.max_head;
    struct h2_field_off off;
    if (put_field(st, name, nl, value, vl, limit, &off) < 0) {
        st->too_large = 1;
        return 0;
    }
    if (nl == 7 && memcmp(name, ":method", 7) == 0) {
        st->method = off;
        st->have_method = 1;
    } else if (nl == 5 && memcmp(name, ":path", 5) == 0) {
        st->path = off;
        st->have_path = 1;
    } else if (nl > 0 && name[0] == ':') {
        /* :scheme, :authority: checked by nghttp2, not needed here */
    } else if (st->n_hdr == c->srv->o.limits.max_fields) {
        st->too_large = 1;
    } else {
        st->hdr[st->n_hdr++] = off;
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *user)
{
    (void)flags;
    struct http_conn *c = user;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (!st || st->body_too_large)
        return 0;
    /* The limit holds for the connection as a whole, so that 100 streams
     * cannot hold 100 bodies of max_body each. */
    if (c->h2->body_bytes + len > c->srv->o.max_body) {
        st->body_too_large = 1; /* the rest is read and dropped; 413 at the end */
        c->h2->body_bytes -= st->held;
        st->held = 0;
        free(st->body);
        st->body = NULL;
        st->body_len = st->body_cap = 0;
        return 0;
    }
    if (http_buf_append(&st->body, &st->body_len, &st->body_cap, data, len, 4096) < 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    st->held += len;
    c->h2->body_bytes += len;
    return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
    struct http_conn *c = user;
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (!st)
        return 0;
    int rv = process(c, st);
    return rv == 0 || !nghttp2_is_fatal(rv) ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
}

/* RFC 9113 5.1.1: a HEADERS frame opening a stream numerically smaller
 * than one already opened is a connection error of type PROTOCOL_ERROR;
 * on a stream that was opened and closed, STREAM_CLOSED (5.1). nghttp2
 * only reports the cases it is sure of and ignores the others (it keeps
 * few closed streams), so the frame header is checked here first. A
 * stream closed by RST_STREAM is left to nghttp2: frames may still be in
 * flight on it (5.1, "closed"). */
static int on_begin_frame(nghttp2_session *ng, const nghttp2_frame_hd *hd, void *user)
{
    (void)ng;
    struct http_conn *c = user;
    struct h2_conn *h = c->h2;
    int32_t id = hd->stream_id;
    if (hd->type != NGHTTP2_HEADERS || id <= 0 || !(id & 1))
        return 0; /* even ids and stream 0: nghttp2 refuses them itself */
    if (id > h->max_id) {
        int32_t lo = h->max_id ? h->max_id + 2 : 1;
        if (id > lo) { /* ids lo .. id-2 were skipped */
            unsigned k = h->gap_next++ % H2_GAPS;
            h->gap_lo[k] = lo;
            h->gap_hi[k] = id - 2;
            if (h->n_gaps < H2_GAPS)
                h->n_gaps++;
        }
        h->max_id = id;
        return 0;
    }
    for (struct h2_stream *st = h->streams; st; st = st->next)
        if (st->id == id)
            return 0; /* open: trailers */
    for (unsigned k = 0; k < H2_RESETS; k++)
        if (h->reset[k] == id)
            return 0;
    h->pending_err = NGHTTP2_STREAM_CLOSED;
    for (unsigned k = 0; k < h->n_gaps; k++)
        if (id >= h->gap_lo[k] && id <= h->gap_hi[k])
            h->pending_err = NGHTTP2_PROTOCOL_ERROR;
    return NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t error_code, void *user)
{
    struct http_conn *c = user;
    if (error_code != NGHTTP2_NO_ERROR)
        c->h2->reset[c->h2->reset_next++ % H2_RESETS] = id;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (st && st == c->h2->upgraded)
        c->h2->upgraded = NULL;
    if (st)
        stream_free(c, st);
    return 0;
}

static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
    (void)ng;
    struct http_conn *c = user;
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR)
        c->srv->st.h2_errors++;
    return 0;
}

/* ---- the connection -------------------------------------------------------------- */

int h2_start(struct http_conn *c, const struct http_req *up, const uint8_t *settings,
             size_t settings_len)
{
    struct http_server *srv = c->srv;
    struct h2_conn *h = calloc(1, sizeof(*h));
    if (!h)
        return -1;
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0) {
        free(h);
        return -1;
    }
    nghttp2_session_callbacks_set_on_begin_frame_callback(cb, on_begin_frame);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    int rv = nghttp2_session_server_new(&h->ng, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (rv != 0) {
        free(h);
        return -1;
    }
    c->h2 = h;
    c->mode = MODE_H2;
    srv->st.conns_h2++;

    /* RFC 9113 3.4: the server's preface is a SETTINGS frame, first. */
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, srv->o.limits.max_head},
    };
    rv = nghttp2_submit_settings(h->ng, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
    if (rv == 0)
        rv = nghttp2_session_set_local_window_size(h->ng, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW);
    if (rv != 0)
        return -1; /* h2_free in conn_destroy cleans up */
    if (!up)
        return 0;

    /* RFC 7540 3.2: the upgraded request is stream 1, half-closed (remote). */
    srv->st.upgrades++;
    int head = up->method_len == 4 && memcmp(up->method, "HEAD", 4) == 0;
    struct h2_stream *st = stream_new(c, 1);
    if (!st)
        return -1;
    rv = nghttp2_session_upgrade2(h->ng, settings, settings_len, head, st);
    if (rv != 0) {
        stream_free(c, st);
        return -1;
    }
    h->max_id = 1;
    size_t limit = (size_t)srv->o.limits.max_head + up->body_len + 64;
    if (put_field(st, (const uint8_t *)":method", 7, (const uint8_t *)up->method,
                  up->method_len, limit, &st->method) < 0 ||
        put_field(st, (const uint8_t *)":path", 5, (const uint8_t *)up->target, up->target_len,
                  limit, &st->path) < 0)
        return -1;
    st->have_method = st->have_path = 1;
    for (size_t i = 0; i < up->n_fields && st->n_hdr < HTTP1_DEFAULT_MAX_FIELDS; i++) {
        /* Lower-case names, like every HTTP/2 field. */
        char name[256];
        size_t nl = up->fields[i].name_len < sizeof(name) ? up->fields[i].name_len : 0;
        lower_copy(name, up->fields[i].name, nl);
        if (put_field(st, (const uint8_t *)name, nl, (const uint8_t *)up->fields[i].value,
                      up->fields[i].value_len, limit, &st->hdr[st->n_hdr]) < 0)
            return -1;
        st->n_hdr++;
    }
    if (up->body_len) {
        st->body = malloc(up->body_len);
        if (!st->body)
            return -1;
        memcpy(st->body, up->body, up->body_len);
        st->body_len = st->body_cap = st->held = up->body_len;
        h->body_bytes += up->body_len;
    }
    /* The answer waits for the client's preface: a client reads the 101
     * with a buffer of its own, and curl 7.88 fails ("connection buffer
     * size is too small to store data following HTTP Upgrade response
     * header") when much more than our SETTINGS follows it at once. */
    h->upgraded = st;
    return 0;
}

void h2_free(struct http_conn *c)
{
    struct h2_conn *h = c->h2;
    if (!h)
        return;
    /* Streams first: nghttp2_session_del does not call on_stream_close. */
    while (h->streams)
        stream_free(c, h->streams);
    nghttp2_session_del(h->ng);
    free(h);
    c->h2 = NULL;
}

/* A connection error (RFC 9113 5.4.1): GOAWAY with @code, then close. */
static void fatal(struct http_conn *c, uint32_t code)
{
    struct h2_conn *h = c->h2;
    if (!h->fatal)
        nghttp2_session_terminate_session(h->ng, code);
    h->fatal = 1;
    c->in_len = 0;
}

int h2_drive(struct http_conn *c)
{
    struct http_server *srv = c->srv;
    struct h2_conn *h = c->h2;
    for (;;) {
        if (c->in_len > 0 && !h->fatal) {
            ssize_t rv = nghttp2_session_mem_recv(h->ng, (const uint8_t *)c->in, c->in_len);
            if (rv < 0)
                /* NGHTTP2_ERR_BAD_CLIENT_MAGIC (RFC 9113 3.4: an invalid
                 * preface is a connection error of type PROTOCOL_ERROR),
                 * NGHTTP2_ERR_FLOODED, callback failures. Errors inside
                 * frames nghttp2 has already answered with GOAWAY. */
                fatal(c, h->pending_err                 ? h->pending_err
                         : rv == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM
                                                     : NGHTTP2_PROTOCOL_ERROR);
            c->in_len = 0;
            if (rv > 0 && h->upgraded && !h->fatal) {
                struct h2_stream *up = h->upgraded;
                h->upgraded = NULL;
                if (nghttp2_is_fatal(process(c, up)))
                    return conn_destroy(c, 1);
            }
        }
        int produced = 0;
        while (c->out.len - c->out.off < H2_OUT_HIGH_WATER && nghttp2_session_want_write(h->ng)) {
            const uint8_t *data;
            ssize_t n = nghttp2_session_mem_send(h->ng, &data);
            if (n < 0)
                return conn_destroy(c, 1);
            if (n == 0)
                break;
            if (conn_out_append(c, data, (size_t)n) < 0)
                return conn_destroy(c, 1);
            produced = 1;
        }
        int r = conn_flush(c);
        if (r < 0)
            return conn_destroy(c, 1);
        if (r > 0) {
            conn_timer(c, srv->o.send_timeout_ms);
            return CONN_ALIVE;
        }
        if (produced)
            continue;
        /* RFC 9113 6.8: after GOAWAY and the last stream, or after a
         * connection error was sent: close. */
        if (!nghttp2_session_want_read(h->ng) && !nghttp2_session_want_write(h->ng))
            return conn_linger(c);
        if (c->peer_eof)
            return conn_destroy(c, 0); /* nothing more will come in */
        if (h->fatal)
            return conn_linger(c);
        long n = conn_read(c);
        if (n > 0)
            continue;
        if (n == 0) {
            c->peer_eof = 1;
            continue;
        }
        if (n == -EAGAIN) {
            conn_timer(c, h->n_streams ? srv->o.send_timeout_ms : srv->o.idle_timeout_ms);
            return CONN_ALIVE;
        }
        return conn_destroy(c, 1);
    }
}

int h2_timeout(struct http_conn *c)
{
    struct h2_conn *h = c->h2;
    if (h->n_streams || h->fatal) {
        c->srv->st.timeouts++;
        return conn_destroy(c, 1);
    }
    /* Idle: say goodbye properly (RFC 9113 6.8: GOAWAY, NO_ERROR). */
    nghttp2_submit_goaway(h->ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(h->ng),
                          NGHTTP2_NO_ERROR, NULL, 0);
    return h2_drive(c);
}

void h2_shutdown(struct http_conn *c)
{
    struct h2_conn *h = c->h2;
    /* RFC 9113 6.8: GOAWAY with the last stream we processed; streams up to
     * it finish, nothing new starts. */
    nghttp2_submit_goaway(h->ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(h->ng),
                          NGHTTP2_NO_ERROR, NULL, 0);
    c->in_drive = 1;
    if (h2_drive(c) == CONN_ALIVE)
        c->in_drive = 0;
}
