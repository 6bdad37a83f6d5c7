/* http/h2_client.c: the client's HTTP/2 (h2c with prior knowledge) through
 * libnghttp2: one session per connection, one stream per request, as many
 * streams in flight as the concurrency allows (and the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS: nghttp2 holds back the rest).
 *
 * Read first: RFC 9113 3.3 (prior knowledge), 5.1 (stream states), 6.8
 * (GOAWAY: streams above its last id were not processed and may be
 * retried). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "http/client_impl.h"

#define H2C_WINDOW (1 << 20)       /* per-stream receive window */
#define H2C_CONN_WINDOW (16 << 20) /* connection receive window */
#define H2C_OUT_HIGH_WATER (64 << 10)

struct h2_cconn {
    nghttp2_session *ng;
    uint32_t streams; /* open on this connection */
    int goaway;       /* received, or we are closing: no new streams */
};

static long idx_of(nghttp2_session *ng, int32_t id)
{
    uintptr_t v = (uintptr_t)nghttp2_session_get_stream_user_data(ng, id);
    return v ? (long)v - 1 : -1;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name,
                     size_t nl, const uint8_t *value, size_t vl, uint8_t flags, void *user)
{
    (void)flags;
    struct cconn *c = user;
    if (frame->hd.type != NGHTTP2_HEADERS || nl != 7 || memcmp(name, ":status", 7) != 0)
        return 0;
    long idx = idx_of(ng, frame->hd.stream_id);
    if (idx < 0)
        return 0;
    int st = 0;
    for (size_t i = 0; i < vl && i < 3; i++)
        st = st * 10 + (value[i] - '0');
    if (st >= 200) /* interim (1xx) responses are skipped */
        c->cl->reqs[idx].status = st;
    return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *user)
{
    (void)flags;
    struct cconn *c = user;
    long idx = idx_of(ng, id);
    if (idx >= 0)
        cl_deliver(c->cl, (size_t)idx, (const char *)data, len);
    return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
    (void)ng;
    struct cconn *c = user;
    if (frame->hd.type == NGHTTP2_GOAWAY)
        c->h2->goaway = 1;
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t error_code, void *user)
{
    struct cconn *c = user;
    struct http_client *cl = c->cl;
    long idx = idx_of(ng, id);
    if (idx < 0)
        return 0;
    struct creq *r = &cl->reqs[idx];
    c->h2->streams--;
    cl->in_flight--;
    r->conn = NULL;
    if (error_code == NGHTTP2_NO_ERROR && r->status >= 200) {
        cl_req_done(cl, (size_t)idx, r->status, 0);
        if (++c->n_done > cl->st.max_per_conn)
            cl->st.max_per_conn = c->n_done;
    } else if (error_code == NGHTTP2_REFUSED_STREAM && !r->got_bytes && !r->retried) {
        /* RFC 9113 8.7: refused (or above a GOAWAY's last id): never
         * processed, safe to send again. */
        r->retried = 1;
        cl->st.retries++;
        cl_requeue(cl, (size_t)idx);
    } else {
        cl_req_done(cl, (size_t)idx, r->status, -EPROTO);
    }
    return 0;
}

int h2c_start(struct cconn *c)
{
    struct h2_cconn *h = calloc(1, sizeof(*h));
    if (!h)
        return -1;
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0) {
        free(h);
        return -1;
    }
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    int rv = nghttp2_session_client_new(&h->ng, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (rv != 0) {
        free(h);
        return -1;
    }
    c->h2 = h;
    /* RFC 9113 3.4: the client preface (nghttp2 writes the magic) and our
     * SETTINGS; no server push. */
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2C_WINDOW},
    };
    if (nghttp2_submit_settings(h->ng, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])) != 0 ||
        nghttp2_session_set_local_window_size(h->ng, NGHTTP2_FLAG_NONE, 0, H2C_CONN_WINDOW) != 0)
        return -1;
    h2c_submit_more(c);
    return 0;
}

int h2c_usable(const struct cconn *c) { return !c->h2->goaway; }

void h2c_submit_more(struct cconn *c)
{
    struct http_client *cl = c->cl;
    struct h2_cconn *h = c->h2;
    if (!h)
        return;
    while (!h->goaway && cl->in_flight < cl->o.concurrency) {
        long idx = cl_next_for(cl, c->addr, c->port);
        if (idx < 0)
            return;
        const struct http_client_target *t = &cl->reqs[idx].t;
#define NV(n, v)                                                                                  \
    {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}
        nghttp2_nv nv[] = {NV(":method", "GET"), NV(":scheme", "http"),
                           NV(":authority", t->authority), NV(":path", t->path),
                           NV("user-agent", "synack")};
#undef NV
        int32_t id = nghttp2_submit_request(h->ng, NULL, nv, sizeof(nv) / sizeof(nv[0]), NULL,
                                            (void *)(uintptr_t)(idx + 1));
        if (id < 0) {
            h->goaway = 1; /* out of stream ids: the next connection takes over */
            return;
        }
        cl->reqs[idx].state = CREQ_ACTIVE;
        cl->reqs[idx].conn = c;
        c->kick = 1;
        h->streams++;
        cl->in_flight++;
    }
}

int h2c_drive(struct cconn *c)
{
    struct http_client *cl = c->cl;
    struct h2_cconn *h = c->h2;
    if (c->in_drive || !h)
        return CC_ALIVE;
    c->in_drive = 1;
    for (;;) {
        if (c->in_len > 0) {
            ssize_t rv = nghttp2_session_mem_recv(h->ng, (const uint8_t *)c->in, c->in_len);
            c->in_len = 0;
            if (rv < 0)
                return cconn_destroy(c, -EPROTO);
        }
        /* Nothing left for this server: say goodbye (RFC 9113 6.8). */
        if (h->streams == 0 && !h->goaway && cl_next_for(cl, c->addr, c->port) < 0) {
            nghttp2_session_terminate_session(h->ng, NGHTTP2_NO_ERROR);
            h->goaway = 1;
        }
        int produced = 0;
        while (c->out.len - c->out.off < H2C_OUT_HIGH_WATER && nghttp2_session_want_write(h->ng)) {
            const uint8_t *data;
            ssize_t n = nghttp2_session_mem_send(h->ng, &data);
            if (n < 0)
                return cconn_destroy(c, -EPROTO);
            if (n == 0)
                break;
            if (cconn_out_append(c, data, (size_t)n) < 0)
                return cconn_destroy(c, -ENOMEM);
            produced = 1;
        }
        int r = cconn_flush(c);
        if (r < 0)
            return cconn_destroy(c, r);
        if (r > 0) {
            cconn_timer(c);
            c->in_drive = 0;
            return CC_ALIVE;
        }
        if (produced)
            continue;
        if (!nghttp2_session_want_read(h->ng) && !nghttp2_session_want_write(h->ng))
            return cconn_destroy(c, 0);
        if (c->peer_eof)
            return cconn_destroy(c, h->streams ? -ECONNRESET : 0);
        long n = cconn_read(c);
        if (n >= 0)
            continue;
        if (n == -EAGAIN) {
            c->in_drive = 0;
            return CC_ALIVE;
        }
        return cconn_destroy(c, (int)n);
    }
}

void h2c_free(struct cconn *c, int err)
{
    struct h2_cconn *h = c->h2;
    if (!h)
        return;
    struct http_client *cl = c->cl;
    /* nghttp2_session_del does not close streams through the callback. */
    for (size_t i = 0; h->streams && i < cl->n_reqs; i++) {
        struct creq *r = &cl->reqs[i];
        if (r->state != CREQ_ACTIVE || r->conn != c)
            continue;
        r->conn = NULL;
        h->streams--;
        cl->in_flight--;
        cl_req_done(cl, i, r->status, err ? err : -ECONNRESET);
    }
    nghttp2_session_del(h->ng);
    free(h);
    c->h2 = NULL;
}
