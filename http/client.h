/* http/client.h: synack's HTTP client, on the public socket API: fetches a
 * list of requests over HTTP/1.0, HTTP/1.1 or HTTP/2 (h2c, prior
 * knowledge) with active opens from the stack, reusing connections as
 * far as the protocol allows:
 *
 *   HTTP/1.0  one connection per request (the server closes it);
 *   HTTP/1.1  keep-alive: a connection takes the next request for the same
 *             server until the server says "close"; up to `concurrency`
 *             connections at once; a request lost to a keep-alive race
 *             (closed before any byte of its answer) is retried once;
 *   HTTP/2    one connection per server, up to `concurrency` streams in
 *             flight on it (nghttp2, mem_recv/mem_send).
 *
 * Like the server it is sans-I/O toward the network: it runs from socket
 * callbacks and http_client_advance(now), and reads time from a clock. */
#ifndef SYNACK_HTTP_CLIENT_H
#define SYNACK_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/time.h"
#include "synack/synack.h"

struct http_client_target {
    uint32_t addr;       /* host order */
    uint16_t port;
    const char *authority; /* Host / :authority, e.g. "192.0.2.1:8080" */
    const char *path;      /* origin-form, e.g. "/index.html?x=1" */
};

struct http_client_opts {
    int version;          /* 10, 11 or 20 */
    uint32_t concurrency; /* HTTP/1.x: connections at once; HTTP/2: streams at once */
    uint32_t timeout_ms;  /* connecting, and silence while a request is open */
    struct sn_clock clock;
    /* Body bytes of request @idx, in order. */
    void (*on_data)(void *user, size_t idx, const char *p, size_t n);
    /* Request @idx is over: the status, and 0 or a negative errno
     * (-ECONNREFUSED, -ECONNRESET, -ETIMEDOUT, -EPROTO: a malformed
     * answer or a stream error). */
    void (*on_done)(void *user, size_t idx, int status, int err);
    void *user;
};

struct http_client_stats {
    uint64_t conns;           /* connections opened (SYNs sent) */
    uint64_t handshakes;      /* connections established */
    uint64_t requests_ok;     /* answered with a complete response */
    uint64_t requests_failed;
    uint64_t retries;         /* HTTP/1.1 requests re-sent after a keep-alive race */
    uint64_t body_bytes;
    uint32_t max_per_conn;    /* most responses one connection carried */
    sn_time first_start, last_done;
};

struct http_client;

/* Starts fetching @n targets (copied). Returns 0 and *out, or -EINVAL,
 * -ENOMEM. Connections open at once (their SYNs go out with the loop). */
int http_client_new(struct sn_stack *s, const struct http_client_opts *o,
                    const struct http_client_target *t, size_t n, struct http_client **out);

/* Fires timeouts. Call every loop iteration. */
void http_client_advance(struct http_client *cl, sn_time now);

/* Whether every request is over. */
int http_client_done(const struct http_client *cl);

const struct http_client_stats *http_client_stats(const struct http_client *cl);

/* Aborts what is still open and frees the client. */
void http_client_free(struct http_client *cl);

#endif
