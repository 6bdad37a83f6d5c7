/* http/client.c: the HTTP client (see client.h): the request list, the
 * connections (active opens through sn_connect), their timers, and
 * HTTP/1.0 and HTTP/1.1 on them; HTTP/2 is in h2_client.c.
 *
 * Read first: RFC 9112 6.3 (response body length), 9.3 (persistence),
 * 9.3.1 (retrying requests). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/container.h"
#include "http/client_impl.h"

#define IN_CAP (HTTP1_DEFAULT_MAX_HEAD + 16384)
#define OUT_CAP 4096

static void schedule(struct http_client *cl);

static void touch(struct http_client *cl) { cl->now = sn_clock_read(&cl->o.clock); }

void cl_req_done(struct http_client *cl, size_t idx, int status, int err)
{
    struct creq *r = &cl->reqs[idx];
    if (r->state == CREQ_DONE)
        return;
    r->state = CREQ_DONE;
    r->status = status;
    cl->n_done++;
    if (err)
        cl->st.requests_failed++;
    else
        cl->st.requests_ok++;
    cl->st.last_done = cl->now;
    if (cl->o.on_done)
        cl->o.on_done(cl->o.user, idx, status, err);
}

void cl_deliver(struct http_client *cl, size_t idx, const char *p, size_t n)
{
    if (!n)
        return;
    cl->reqs[idx].got_bytes = 1;
    cl->st.body_bytes += n;
    if (cl->o.on_data)
        cl->o.on_data(cl->o.user, idx, p, n);
}

void cl_requeue(struct http_client *cl, size_t idx)
{
    cl->reqs[idx].state = CREQ_PENDING;
    cl->reqs[idx].conn = NULL;
    if (idx < cl->next_pending)
        cl->next_pending = idx;
}

long cl_next_for(struct http_client *cl, uint32_t addr, uint16_t port)
{
    while (cl->next_pending < cl->n_reqs && cl->reqs[cl->next_pending].state != CREQ_PENDING)
        cl->next_pending++;
    for (size_t i = cl->next_pending; i < cl->n_reqs; i++) {
        struct creq *r = &cl->reqs[i];
        if (r->state == CREQ_PENDING && r->t.addr == addr && r->t.port == port)
            return (long)i;
    }
    return -1;
}

static long next_any(struct http_client *cl)
{
    while (cl->next_pending < cl->n_reqs && cl->reqs[cl->next_pending].state != CREQ_PENDING)
        cl->next_pending++;
    return cl->next_pending < cl->n_reqs ? (long)cl->next_pending : -1;
}

/* ---- connection I/O ----------------------------------------------------------- */

int cconn_flush(struct cconn *c) { return http_out_flush(c->so, &c->out); }

int cconn_out_append(struct cconn *c, const void *p, size_t n)
{
    return http_out_append(&c->out, p, n);
}

long cconn_read(struct cconn *c)
{
    long n = http_in_recv(c->so, c->in, &c->in_len, c->in_cap);
    if (n == 0)
        c->peer_eof = 1;
    else if (n > 0 || n == -EAGAIN)
        cconn_timer(c); /* the peer is alive: its timeout starts again */
    return n;
}

void cconn_timer(struct cconn *c)
{
    tw_arm(&c->cl->tw, &c->timer, c->cl->now + SN_MSEC(c->cl->o.timeout_ms));
}

int cconn_destroy(struct cconn *c, int err)
{
    struct http_client *cl = c->cl;
    tw_cancel(&cl->tw, &c->timer);
    if (c->prev)
        c->prev->next = c->next;
    else
        cl->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    cl->n_conns--;
    if (c->cur >= 0 && cl->reqs[c->cur].state == CREQ_ACTIVE) {
        struct creq *r = &cl->reqs[c->cur];
        /* RFC 9112 9.3.1: a keep-alive connection may be closed by the
         * server just as we reuse it; a GET that got no answer may be
         * retried (once) on a new connection. */
        if (c->n_done > 0 && !r->got_bytes && !r->retried) {
            r->retried = 1;
            cl->st.retries++;
            cl_requeue(cl, (size_t)c->cur);
        } else {
            cl_req_done(cl, (size_t)c->cur, 0, err ? err : -EPROTO);
        }
    }
    h2c_free(c, err); /* fails its streams */
    if (err && c->phase == CC_CONNECTING && cl->o.version == 20) {
        /* The server cannot be reached: fail what waits for it. */
        long i;
        while ((i = cl_next_for(cl, c->addr, c->port)) >= 0)
            cl_req_done(cl, (size_t)i, 0, err);
    }
    if (err)
        sn_abort(c->so);
    else
        sn_close(c->so);
    free(c->in);
    free(c->out.buf);
    free(c);
    schedule(cl);
    return CC_GONE;
}

/* ---- HTTP/1.x ------------------------------------------------------------------ */

static int h1_send_request(struct cconn *c)
{
    struct http_client *cl = c->cl;
    const struct http_client_target *t = &cl->reqs[c->cur].t;
    char head[8192 + 512];
    int n = snprintf(head, sizeof(head),
                     "GET %s HTTP/1.%d\r\nHost: %s\r\nUser-Agent: synack\r\nAccept: */*\r\n\r\n",
                     t->path, cl->o.version == 10 ? 0 : 1, t->authority);
    if (n < 0 || (size_t)n >= sizeof(head))
        return -EINVAL;
    c->phase = CC_HEAD;
    c->prev_len = 0;
    return cconn_out_append(c, head, (size_t)n);
}

enum { R_NEED, R_PROGRESS, R_DONE, R_ERROR };

/* Consumes response bytes from c->in. */
static int h1_parse(struct cconn *c)
{
    struct http_client *cl = c->cl;
    size_t idx = (size_t)c->cur;
    if (c->phase == CC_HEAD) {
        if (c->in_len == 0)
            return R_NEED;
        cl->reqs[idx].got_bytes = 1;
        c->resp.fields = c->fields;
        c->resp.n_fields = HTTP1_DEFAULT_MAX_FIELDS;
        int rc = http1_parse_response(c->in, c->in_len, c->prev_len, NULL, &c->resp);
        if (rc == HTTP1_PARTIAL) {
            c->prev_len = c->in_len;
            return R_NEED;
        }
        if (rc < 0)
            return R_ERROR;
        c->prev_len = 0;
        int interim = c->resp.status >= 100 && c->resp.status < 200;
        if (interim && c->resp.status == 101)
            return R_ERROR; /* we asked for no upgrade */
        /* The fields point into c->in: use them before the head goes. */
        if (!interim) {
            if (http1_response_body(&c->resp, 0, &c->framing) < 0)
                return R_ERROR;
            /* RFC 9112 9.3: persistent unless either side said close;
             * HTTP/1.0 requests never ask for keep-alive here. */
            c->keep_alive = cl->o.version == 11 && c->resp.minor_version >= 1 &&
                            !http1_field_has_token(c->resp.fields, c->resp.n_fields,
                                                   "connection", "close") &&
                            c->framing.framing != HTTP1_BODY_CLOSE;
        }
        memmove(c->in, c->in + rc, c->in_len - (size_t)rc);
        c->in_len -= (size_t)rc;
        if (interim)
            return R_PROGRESS; /* RFC 9110 15.2: interim responses are skipped */
        c->body_left = c->framing.length;
        http1_chunked_init(&c->chunked, 0);
        cl->reqs[idx].status = c->resp.status;
        c->phase = CC_BODY;
        return c->framing.framing == HTTP1_BODY_NONE ? R_DONE : R_PROGRESS;
    }
    switch (c->framing.framing) {
    case HTTP1_BODY_LENGTH: {
        size_t n = c->in_len < c->body_left ? c->in_len : (size_t)c->body_left;
        cl_deliver(cl, idx, c->in, n);
        memmove(c->in, c->in + n, c->in_len - n);
        c->in_len -= n;
        c->body_left -= n;
        return c->body_left == 0 ? R_DONE : R_NEED;
    }
    case HTTP1_BODY_CHUNKED: {
        size_t at = 0;
        int rc;
        for (;;) {
            size_t used, off, len;
            rc = http1_chunked_decode(&c->chunked, c->in + at, c->in_len - at, &used, &off, &len);
            if (rc == HTTP1_CHUNK_DATA)
                cl_deliver(cl, idx, c->in + at + off, len);
            at += used;
            if (rc != HTTP1_CHUNK_DATA)
                break;
        }
        memmove(c->in, c->in + at, c->in_len - at);
        c->in_len -= at;
        if (rc == HTTP1_CHUNK_DONE)
            return R_DONE;
        return rc == HTTP1_PARTIAL ? R_NEED : R_ERROR;
    }
    case HTTP1_BODY_CLOSE:
        cl_deliver(cl, idx, c->in, c->in_len);
        c->in_len = 0;
        return R_NEED; /* done at EOF */
    default:
        return R_DONE;
    }
}

static int h1_drive(struct cconn *c)
{
    struct http_client *cl = c->cl;
    for (;;) {
        if (c->phase == CC_CONNECTING)
            return CC_ALIVE;
        if (c->phase == CC_READY) {
            if (c->cur < 0) {
                c->cur = cl_next_for(cl, c->addr, c->port);
                if (c->cur < 0)
                    return cconn_destroy(c, 0); /* nothing more for this server */
                cl->reqs[c->cur].state = CREQ_ACTIVE;
            }
            if (h1_send_request(c) < 0)
                return cconn_destroy(c, -ENOMEM);
        }
        int r = cconn_flush(c);
        if (r < 0)
            return cconn_destroy(c, r);
        if (r > 0) {
            cconn_timer(c);
            return CC_ALIVE;
        }
        int p = h1_parse(c);
        if (p == R_PROGRESS)
            continue;
        if (p == R_ERROR)
            return cconn_destroy(c, -EPROTO);
        if (p == R_DONE || (c->peer_eof && c->phase == CC_BODY &&
                            c->framing.framing == HTTP1_BODY_CLOSE)) {
            cl_req_done(cl, (size_t)c->cur, cl->reqs[c->cur].status, 0);
            c->cur = -1;
            c->n_done++;
            if (c->n_done > cl->st.max_per_conn)
                cl->st.max_per_conn = c->n_done;
            if (!c->keep_alive || c->peer_eof || c->in_len)
                return cconn_destroy(c, 0);
            c->phase = CC_READY;
            continue;
        }
        if (c->peer_eof)
            return cconn_destroy(c, -ECONNRESET); /* closed inside a response */
        long n = cconn_read(c);
        if (n >= 0)
            continue;
        if (n == -EAGAIN)
            return CC_ALIVE;
        return cconn_destroy(c, n == -ENOBUFS ? -EPROTO : (int)n);
    }
}

static int drive(struct cconn *c) { return c->h2 ? h2c_drive(c) : h1_drive(c); }

/* ---- connections ----------------------------------------------------------------- */

static void on_sock(struct sn_sock *so, uint32_t events, void *user)
{
    struct cconn *c = user;
    struct http_client *cl = c->cl;
    touch(cl);
    if (events & SN_EV_ERROR) {
        int err = sn_sock_error(so);
        if (err) {
            cconn_destroy(c, err);
            return;
        }
    }
    if (c->phase == CC_CONNECTING) {
        if (!(events & SN_EV_WRITABLE))
            return;
        /* The three-way handshake is done. */
        cl->st.handshakes++;
        c->phase = CC_READY;
        if (cl->o.version == 20 && h2c_start(c) < 0) {
            cconn_destroy(c, -ENOMEM);
            return;
        }
    }
    drive(c);
}

static void on_timer(struct tw_entry *e, sn_time now)
{
    struct cconn *c = container_of(e, struct cconn, timer);
    c->cl->now = now;
    cconn_destroy(c, -ETIMEDOUT);
}

static struct cconn *conn_open(struct http_client *cl, uint32_t addr, uint16_t port, long idx)
{
    struct cconn *c = calloc(1, sizeof(*c));
    if (c) {
        c->in_cap = IN_CAP;
        c->out.cap = OUT_CAP;
        c->in = malloc(c->in_cap);
        c->out.buf = malloc(c->out.cap);
    }
    int err = -ENOMEM;
    if (c && c->in && c->out.buf)
        err = sn_connect(cl->stack, addr, port, 0, cl->now, &c->so);
    if (err) {
        if (c) {
            free(c->in);
            free(c->out.buf);
            free(c);
        }
        cl->last_err = err;
        if (idx >= 0)
            cl_req_done(cl, (size_t)idx, 0, err);
        return NULL;
    }
    c->cl = cl;
    c->addr = addr;
    c->port = port;
    c->cur = idx;
    c->phase = CC_CONNECTING;
    if (idx >= 0)
        cl->reqs[idx].state = CREQ_ACTIVE;
    tw_entry_init(&c->timer, on_timer);
    c->next = cl->conns;
    if (cl->conns)
        cl->conns->prev = c;
    cl->conns = c;
    cl->n_conns++;
    cl->st.conns++;
    if (!cl->st.first_start)
        cl->st.first_start = cl->now;
    cconn_timer(c);
    sn_setsockopt(c->so, SN_SO_NODELAY, 1);
    sn_sock_set_cb(c->so, on_sock, c);
    return c;
}

static struct cconn *conn_for(struct http_client *cl, uint32_t addr, uint16_t port)
{
    for (struct cconn *c = cl->conns; c; c = c->next)
        if (c->addr == addr && c->port == port && (!c->h2 || h2c_usable(c)))
            return c;
    return NULL;
}

/* Opens connections and submits streams up to the concurrency. Re-entered
 * from callbacks (a request done frees a slot): the outer call loops. */
static void schedule(struct http_client *cl)
{
    if (cl->scheduling) {
        cl->scheduling = 2; /* look again when the outer call is done */
        return;
    }
    do {
        cl->scheduling = 1;
        if (cl->o.version == 20) {
            /* One connection per server; streams up to the concurrency. */
            for (long idx = next_any(cl); idx >= 0 && cl->in_flight < cl->o.concurrency;) {
                const struct http_client_target *t = &cl->reqs[idx].t;
                struct cconn *c = conn_for(cl, t->addr, t->port);
                if (!c) {
                    if (!conn_open(cl, t->addr, t->port, -1))
                        cl_req_done(cl, (size_t)idx, 0, cl->last_err);
                } else if (c->phase != CC_CONNECTING) {
                    h2c_submit_more(c);
                }
                /* The next pending request for another server, if any. */
                size_t i = (size_t)idx + 1;
                while (i < cl->n_reqs && (cl->reqs[i].state != CREQ_PENDING ||
                                          (cl->reqs[i].t.addr == t->addr &&
                                           cl->reqs[i].t.port == t->port)))
                    i++;
                idx = i < cl->n_reqs ? (long)i : -1;
            }
        } else {
            long idx;
            while (cl->n_conns < cl->o.concurrency && (idx = next_any(cl)) >= 0)
                conn_open(cl, cl->reqs[idx].t.addr, cl->reqs[idx].t.port, idx);
        }
    } while (cl->scheduling == 2);
    cl->scheduling = 0;
    if (cl->o.version == 20) {
        /* Streams submitted above go out once each session is driven. */
        for (struct cconn *c = cl->conns; c;) {
            if (c->h2 && c->kick) {
                c->kick = 0;
                if (h2c_drive(c) == CC_GONE) {
                    c = cl->conns; /* the list may have changed under us */
                    continue;
                }
            }
            c = c->next;
        }
    }
}

/* ---- the client ----------------------------------------------------------------- */

int http_client_new(struct sn_stack *s, const struct http_client_opts *o,
                    const struct http_client_target *t, size_t n, struct http_client **out)
{
    if (!o->clock.now || (o->version != 10 && o->version != 11 && o->version != 20) || n == 0)
        return -EINVAL;
    struct http_client *cl = calloc(1, sizeof(*cl));
    if (!cl)
        return -ENOMEM;
    cl->reqs = calloc(n, sizeof(*cl->reqs));
    if (!cl->reqs) {
        free(cl);
        return -ENOMEM;
    }
    cl->stack = s;
    cl->o = *o;
    if (!cl->o.concurrency)
        cl->o.concurrency = 1;
    if (!cl->o.timeout_ms)
        cl->o.timeout_ms = 30000;
    cl->n_reqs = n;
    for (size_t i = 0; i < n; i++)
        cl->reqs[i].t = t[i];
    touch(cl);
    tw_init(&cl->tw, cl->now);
    schedule(cl);
    *out = cl;
    return 0;
}

void http_client_advance(struct http_client *cl, sn_time now)
{
    cl->now = now;
    tw_advance(&cl->tw, now);
    schedule(cl);
}

int http_client_done(const struct http_client *cl) { return cl->n_done == cl->n_reqs; }

const struct http_client_stats *http_client_stats(const struct http_client *cl)
{
    return &cl->st;
}

void http_client_free(struct http_client *cl)
{
    if (!cl)
        return;
    cl->scheduling = 1; /* no new connections while tearing down */
    while (cl->conns)
        cconn_destroy(cl->conns, -ECANCELED);
    free(cl->reqs);
    free(cl);
}
