/* http/server_impl.h: what the server's files share (server.c owns the
 * connections and timers, http1_server.c and h2_server.c speak the
 * protocols on them, handler.c and static.c answer requests). Private to
 * http/. */
#ifndef SYNACK_HTTP_SERVER_IMPL_H
#define SYNACK_HTTP_SERVER_IMPL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "core/timer_wheel.h"
#include "http/file_cache.h"
#include "http/http.h"
#include "http/http1_parse.h"
#include "http/util.h"

/* ---- requests and responses, the same for HTTP/1.x and HTTP/2 --------- */

struct http_req {
    int version;                      /* 10, 11 or 20 */
    const char *method;
    size_t method_len;
    const char *target;               /* request-target (h2: :path) */
    size_t target_len;
    const struct http1_field *fields; /* h2: regular fields, lower-case names */
    size_t n_fields;
    char *body;                       /* the whole body; a handler may take it */
    size_t body_len;
    int body_chunked;                 /* it came in chunked coding (HTTP/1.1) */
    const char *peer;                 /* dotted quad, for the log */
};

enum http_body_kind { HTTP_BODY_NONE, HTTP_BODY_MEM, HTTP_BODY_FILE };

#define HTTP_RESP_MAX_HDRS 16
#define HTTP_RESP_ARENA 2048

struct http_resp {
    int status;
    int n_hdrs;
    size_t arena_len;

    enum http_body_kind kind;
    const char *mem; /* HTTP_BODY_MEM */
    char *mem_owned; /* freed by http_resp_clear (mem points into it) */
    struct fc_entry *cached; /* HTTP_BODY_MEM from the file cache: mem points
                                into it; released by http_resp_clear */
    int fd;          /* HTTP_BODY_FILE: owned, closed by http_resp_clear */
    uint64_t off;    /* HTTP_BODY_FILE: where the body starts in the file */
    uint64_t len;    /* the body's length, as Content-Length says */
    int omit_body;   /* HEAD, 304: headers only */
    int no_length;   /* 1xx, 204, 304: no Content-Length at all */
    int chunked;     /* send it chunked to an HTTP/1.1 client */
    int close;       /* close the connection after it (HTTP/1) */

    /* Last: http_resp_init leaves these alone (n_hdrs and arena_len say
     * what is valid), as clearing them would cost 2 KB per request. */
    uint16_t name_off[HTTP_RESP_MAX_HDRS], name_len[HTTP_RESP_MAX_HDRS];
    uint16_t value_off[HTTP_RESP_MAX_HDRS], value_len[HTTP_RESP_MAX_HDRS];
    char arena[HTTP_RESP_ARENA];
};

void http_resp_init(struct http_resp *r);
/* Frees the owned body, closes the file, releases the cache entry. */
void http_resp_clear(struct http_resp *r);
/* Adds a header (value printf-formatted). Returns 0 or -1 (no room). */
int http_resp_header(struct http_resp *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds a header from a value of known length (no formatting). Returns 0
 * or -1 (no room). */
int http_resp_header_n(struct http_resp *r, const char *name, const char *value, size_t len);
/* An error response with a short HTML body. */
void http_resp_error(struct http_resp *r, int status);
/* A body from memory that the response owns (taken from the caller). */
void http_resp_body_take(struct http_resp *r, char *buf, size_t len);
/* A body from static memory. */
void http_resp_body_static(struct http_resp *r, const char *s, size_t len);

const char *http_reason(int status);

/* Answers @req into @resp (http_resp_init'ed). The handler may take
 * req->body (it then sets it to NULL). */
void http_handle(struct http_server *srv, struct http_req *req, struct http_resp *resp);

/* ---- static files (static.c) --------------------------------------------- */

/* Serves decoded path @path (starts with '/', no "." or ".." segments) of
 * a GET or HEAD from the server's root: files, directory index or
 * listing, conditionals (304), ranges (206/416), redirects for
 * directories without a trailing slash. */
void http_static_serve(struct http_server *srv, const struct http_req *req, const char *path,
                       const char *query, struct http_resp *resp);

/* ---- the server and its connections --------------------------------------- */

enum conn_mode { MODE_H1, MODE_H2 };

struct h2_conn; /* h2_server.c */

struct h1_state {
    enum { H1_HEAD, H1_BODY, H1_RESPOND } phase;
    size_t prev_len; /* the parser's resume point (HTTP1_PARTIAL) */
    size_t head_len; /* BODY, RESPOND: the head is in[0 .. head_len) */
    struct http1_field fields[HTTP1_DEFAULT_MAX_FIELDS];
    struct http1_request req;
    struct http1_body framing;
    struct http1_chunked chunked;
    uint64_t body_left;            /* HTTP1_BODY_LENGTH: still to read */
    char *body;
    size_t body_len, body_cap;
    int keep_alive;
    int continue_sent;
    struct http_resp resp;
    uint64_t body_done;            /* response body bytes put into out */
    int last_chunk_done;           /* chunked: the 0-size chunk is in out */
    sn_time head_start;            /* first byte of the current head */
    uint32_t n_requests;
};

struct http_conn {
    struct http_server *srv;
    struct sn_sock *so;
    struct http_conn *next, *prev;
    struct tw_entry timer;
    char peer[16];
    enum conn_mode mode;
    int peer_eof;   /* the peer sent FIN */
    int lingering;  /* our FIN is queued; reading and dropping until EOF */
    int in_drive;   /* re-entrancy guard */

    char *in;
    size_t in_len, in_cap;
    struct http_out out;

    struct h1_state h1;
    struct h2_conn *h2;
};

struct http_server {
    struct sn_stack *stack;
    struct sn_sock *listener;
    struct http_server_opts o;
    char *root; /* realpath of o.root, or NULL */
    size_t root_len;
    struct timer_wheel tw;
    sn_time now;
    struct http_conn *conns;
    uint32_t n_conns;
    int shutting_down;
    struct http_server_stats st;
    struct file_cache fcache;
    int64_t date_sec;               /* the second date[] shows, or -1 */
    char date[HTTP_DATE_LEN];       /* the Date field value, formatted once a second */
};

/* What a drive function tells its caller. */
enum { CONN_ALIVE = 0, CONN_GONE = 1 };

/* Reads the clocks into srv->now. */
void srv_touch(struct http_server *srv);
/* Seconds since 1970 from the wall clock, or -1 when there is none. */
int64_t srv_wall(const struct http_server *srv);
/* The Date field value for now (HTTP_DATE_LEN - 1 bytes), or NULL when
 * there is no wall clock. Formatted once per second. */
const char *srv_date(struct http_server *srv);

/* Sends what is in c->out. Returns 0 when it is all gone, 1 when the
 * socket is full, or a negative errno. */
int conn_flush(struct http_conn *c);
/* Makes room for @n more bytes in c->out (compacting, growing up to
 * @n + the current length). Returns a pointer to write at, or NULL. */
char *conn_out_reserve(struct http_conn *c, size_t n);
/* Appends bytes to c->out. Returns 0 or -ENOMEM. */
int conn_out_append(struct http_conn *c, const void *p, size_t n);
/* Receives into the free part of c->in. Returns bytes (> 0), 0 at EOF,
 * -EAGAIN, -ENOBUFS (c->in is full) or a negative errno. */
long conn_read(struct http_conn *c);
/* Arms the connection's one timer for @ms from now (0: disarm). */
void conn_timer(struct http_conn *c, uint32_t ms);
/* Our FIN after the queued data, then read and drop until the peer's FIN
 * or linger_ms. Returns what conn_drive would. */
int conn_linger(struct http_conn *c);
/* Frees the connection; @abort: RST instead of a graceful close.
 * Returns CONN_GONE. */
int conn_destroy(struct http_conn *c, int abort);
/* Writes one Common Log Format line. */
void srv_access_log(struct http_server *srv, const char *peer, const char *method,
                    size_t method_len, const char *target, size_t target_len, int version,
                    int status, uint64_t bytes);

/* HTTP/1.x (http1_server.c). */
void h1_init(struct http_conn *c);
void h1_free(struct http_conn *c);
int h1_drive(struct http_conn *c);
int h1_timeout(struct http_conn *c);
void h1_shutdown(struct http_conn *c);

/* HTTP/2 (h2_server.c). h2_start switches c to HTTP/2: with @up (an
 * HTTP/1.1 request carrying Upgrade: h2c and its decoded HTTP2-Settings
 * @settings), that request becomes stream 1. Returns 0 or -1. */
int h2_start(struct http_conn *c, const struct http_req *up, const uint8_t *settings,
             size_t settings_len);
void h2_free(struct http_conn *c);
int h2_drive(struct http_conn *c);
int h2_timeout(struct http_conn *c);
void h2_shutdown(struct http_conn *c);

#endif
