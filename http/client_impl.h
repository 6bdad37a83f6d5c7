/* http/client_impl.h: what the client's files share (client.c: requests,
 * connections, HTTP/1.x; h2_client.c: HTTP/2). Private to http/. */
#ifndef SYNACK_HTTP_CLIENT_IMPL_H
#define SYNACK_HTTP_CLIENT_IMPL_H

#include "core/timer_wheel.h"
#include "http/client.h"
#include "http/http1_parse.h"
#include "http/util.h"

enum creq_state { CREQ_PENDING, CREQ_ACTIVE, CREQ_DONE };

struct creq {
    struct http_client_target t;
    enum creq_state state;
    int status;
    int retried;
    int got_bytes; /* some of its answer arrived */
    struct cconn *conn; /* HTTP/2: the connection carrying it */
};

enum cconn_phase { CC_CONNECTING, CC_READY, CC_HEAD, CC_BODY };

struct h2_cconn; /* h2_client.c */

struct cconn {
    struct http_client *cl;
    struct sn_sock *so;
    struct cconn *next, *prev;
    struct tw_entry timer;
    uint32_t addr;
    uint16_t port;
    enum cconn_phase phase;
    long cur;           /* HTTP/1.x: the request on it, or -1 */
    uint32_t n_done;    /* responses it carried */
    int peer_eof;
    int in_drive;
    int kick;           /* HTTP/2: streams were submitted outside a drive */
    char *in;
    size_t in_len, in_cap;
    struct http_out out;
    /* HTTP/1.x response being read. */
    struct http1_field fields[HTTP1_DEFAULT_MAX_FIELDS];
    struct http1_response resp;
    size_t prev_len;
    struct http1_body framing;
    struct http1_chunked chunked;
    uint64_t body_left;
    int keep_alive;
    struct h2_cconn *h2;
};

struct http_client {
    struct sn_stack *stack;
    struct http_client_opts o;
    struct creq *reqs;
    size_t n_reqs, next_pending, n_done;
    struct cconn *conns;
    uint32_t n_conns;
    uint32_t in_flight; /* HTTP/2 streams open */
    struct timer_wheel tw;
    sn_time now;
    int scheduling;
    int last_err; /* of the last sn_connect that failed */
    struct http_client_stats st;
};

enum { CC_ALIVE = 0, CC_GONE = 1 };

/* client.c, for h2_client.c */
void cl_req_done(struct http_client *cl, size_t idx, int status, int err);
void cl_deliver(struct http_client *cl, size_t idx, const char *p, size_t n);
/* Puts request @idx back in the queue (it was never answered). */
void cl_requeue(struct http_client *cl, size_t idx);
int cconn_flush(struct cconn *c);
int cconn_out_append(struct cconn *c, const void *p, size_t n);
/* Receives into c->in: > 0 bytes added, 0 at EOF (peer_eof set), or a
 * negative errno; data or -EAGAIN restarts the connection's timeout. */
long cconn_read(struct cconn *c);
void cconn_timer(struct cconn *c);
/* Fails what is open on @c (requeueing what never started) and frees it. */
int cconn_destroy(struct cconn *c, int err);
/* The next pending request for @addr:@port from the start, or -1. */
long cl_next_for(struct http_client *cl, uint32_t addr, uint16_t port);

/* h2_client.c */
int h2c_start(struct cconn *c);
/* Submits pending requests for this connection's server while streams are
 * free. */
void h2c_submit_more(struct cconn *c);
int h2c_drive(struct cconn *c);
/* Fails the streams still open on @c (with @err, or -ECONNRESET). */
void h2c_free(struct cconn *c, int err);
/* Whether the connection may take new streams (no GOAWAY, no error). */
int h2c_usable(const struct cconn *c);

#endif
