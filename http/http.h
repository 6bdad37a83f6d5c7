/* http/http.h: synack's HTTP server, on the public socket API.
 *
 * One server listens on one port of one stack and serves HTTP/1.0,
 * HTTP/1.1 and HTTP/2 (h2c by prior knowledge or by Upgrade: h2c) from a
 * directory or a built-in page. It is sans-I/O toward the network: it
 * only calls the socket API from the stack's callbacks and from
 * http_server_advance, and it is given the time through two clocks. It
 * reads files (static.c, keeping small ones in memory: file_cache.c) and
 * writes the access log, nothing else.
 *
 * Driving it: create it on a stack, then call http_server_advance(now)
 * once per loop iteration or at least at http_server_next_deadline() (the
 * idle, slow-request and linger timeouts live in its own timer wheel).
 *
 * Read first: RFC 9110 (semantics), RFC 9112 (HTTP/1.1), RFC 9113
 * (HTTP/2), and http1_parse.h. */
#ifndef SYNACK_HTTP_HTTP_H
#define SYNACK_HTTP_HTTP_H

#include <stdint.h>
#include <stdio.h>

#include "core/time.h"
#include "http/http1_parse.h"
#include "synack/synack.h"

struct http_server_opts {
    uint16_t port;               /* default 80 */
    const char *root;            /* directory to serve; NULL: the built-in page */
    FILE *access_log;            /* Common Log Format lines; NULL: none */
    uint32_t idle_timeout_ms;    /* keep-alive connection with no request (30000) */
    uint32_t request_timeout_ms; /* a request head, from its first byte (10000) */
    uint32_t body_timeout_ms;    /* between two pieces of a request body (10000) */
    uint32_t send_timeout_ms;    /* a response making no progress (30000) */
    uint32_t linger_ms;          /* reading and dropping after our FIN (2000) */
    uint64_t max_body;           /* request body bytes (16 MiB) */
    uint32_t max_conns;          /* connections at once; more are refused (4096) */
    int no_h2;                   /* refuse h2c (prior knowledge and Upgrade) */
    const char *metrics_path;    /* GET here: the stack's counters in Prometheus
                                    text format; NULL: no such path */
    struct http1_limits limits;  /* head limits (http1_parse.h defaults) */
    /* The open-file cache (file_cache.h): small files under the root kept in
     * memory with their response fields, each rechecked with one stat at
     * most every file_cache_valid_ms, so a changed file shows within that. */
    uint32_t file_cache_entries;  /* files held at once (1024); 0: no cache */
    uint64_t file_cache_bytes;    /* their bytes at once (16 MiB) */
    uint32_t file_cache_max_file; /* larger files are read each time (65536) */
    uint32_t file_cache_valid_ms; /* trusted this long between stats (1000) */
    struct sn_clock clock;       /* monotonic now; required */
    struct sn_clock wall;        /* real time, µs since 1970; .now NULL: no Date */
};

/* Fills @o with the defaults (clock and wall left empty). */
void http_server_opts_defaults(struct http_server_opts *o);

struct http_server_stats {
    uint64_t conns_accepted;
    uint64_t conns_refused;    /* over max_conns */
    uint64_t conns_h2;         /* connections that spoke HTTP/2 */
    uint64_t upgrades;         /* of which by Upgrade: h2c */
    uint64_t requests_h1;
    uint64_t requests_h2;
    uint64_t bad_requests;     /* answered 4xx/5xx from the parser */
    uint64_t timeouts;         /* 408 or closed for idleness/no progress */
    uint64_t h2_errors;        /* GOAWAY sent with an error code */
    uint64_t file_cache_hits;        /* static files answered from memory */
    uint64_t file_cache_misses;      /* looked up, not there (or stale) */
    uint64_t file_cache_stale;       /* dropped: the file changed on disk */
    uint64_t file_cache_evictions;   /* dropped for room */
    uint64_t file_cache_entries;     /* held now */
    uint64_t file_cache_bytes;       /* held now */
};

struct http_server;

/* Listens on o->port. Returns 0 and *out, or -EINVAL (no clock), -ENOENT /
 * -ENOTDIR (root), -ENOMEM, or sn_listen's error. */
int http_server_new(struct sn_stack *s, const struct http_server_opts *o,
                    struct http_server **out);

/* Fires due timeouts. */
void http_server_advance(struct http_server *srv, sn_time now);

/* When http_server_advance is next needed, or SN_TIME_NEVER. */
sn_time http_server_next_deadline(const struct http_server *srv);

/* Graceful stop: closes the listener, sends GOAWAY on HTTP/2 connections,
 * closes idle HTTP/1 connections and lets busy ones finish their
 * response. Keep driving the stack until http_server_conns() is 0. */
void http_server_shutdown(struct http_server *srv);

/* Connections open now. */
uint32_t http_server_conns(const struct http_server *srv);

const struct http_server_stats *http_server_stats(struct http_server *srv);

/* Aborts what is left and frees the server (before the stack). */
void http_server_free(struct http_server *srv);

#endif
