/* http/server.c: the server object: the listener, the connection table,
 * each connection's buffers and its one timer (idle, slow request, stalled
 * send, linger), the graceful shutdown and the access log. The protocols
 * (http1_server.c, h2_server.c) drive the connections through the
 * conn_* helpers here. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/container.h"
#include "http/server_impl.h"

#define IN_CAP_EXTRA 16384 /* read room beyond the largest head */
#define OUT_CAP 65536

void http_server_opts_defaults(struct http_server_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->port = 80;
    o->idle_timeout_ms = 30000;
    o->request_timeout_ms = 10000;
    o->body_timeout_ms = 10000;
    o->send_timeout_ms = 30000;
    o->linger_ms = 2000;
    o->max_body = 16u << 20;
    o->max_conns = 4096;
    o->file_cache_entries = 1024;
    o->file_cache_bytes = 16u << 20;
    o->file_cache_max_file = 65536;
    o->file_cache_valid_ms = 1000;
}

void srv_touch(struct http_server *srv)
{
    srv->now = sn_clock_read(&srv->o.clock);
}

int64_t srv_wall(const struct http_server *srv)
{
    if (!srv->o.wall.now)
        return -1;
    return sn_clock_read(&srv->o.wall) / 1000000;
}

const char *srv_date(struct http_server *srv)
{
    int64_t now = srv_wall(srv);
    if (now < 0)
        return NULL;
    if (now != srv->date_sec) {
        http_date_format(now, srv->date);
        srv->date_sec = now;
    }
    return srv->date;
}

/* ---- connection I/O ----------------------------------------------------------- */

int conn_flush(struct http_conn *c) { return http_out_flush(c->so, &c->out); }

char *conn_out_reserve(struct http_conn *c, size_t n) { return http_out_reserve(&c->out, n); }

int conn_out_append(struct http_conn *c, const void *p, size_t n)
{
    return http_out_append(&c->out, p, n);
}

long conn_read(struct http_conn *c) { return http_in_recv(c->so, c->in, &c->in_len, c->in_cap); }

void conn_timer(struct http_conn *c, uint32_t ms)
{
    if (ms)
        tw_arm(&c->srv->tw, &c->timer, c->srv->now + SN_MSEC(ms));
    else
        tw_cancel(&c->srv->tw, &c->timer);
}

int conn_destroy(struct http_conn *c, int abort)
{
    struct http_server *srv = c->srv;
    tw_cancel(&srv->tw, &c->timer);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->n_conns--;
    h1_free(c);
    h2_free(c);
    if (abort)
        sn_abort(c->so);
    else
        sn_close(c->so);
    free(c->in);
    free(c->out.buf);
    free(c);
    return CONN_GONE;
}

/* Lingering close (as nginx's lingering_close): after our FIN, read and
 * drop what the peer still sends, so that closing with unread data does
 * not turn into an RST that could destroy the response in flight. */
static int linger_drive(struct http_conn *c)
{
    int r = conn_flush(c);
    if (r < 0)
        return conn_destroy(c, 1);
    if (r > 0) {
        conn_timer(c, c->srv->o.send_timeout_ms);
        return CONN_ALIVE;
    }
    if (c->lingering == 1) {
        sn_shutdown(c->so, SN_SHUT_WR);
        c->lingering = 2;
        conn_timer(c, c->srv->o.linger_ms);
    }
    for (;;) {
        if (c->peer_eof)
            return conn_destroy(c, 0);
        c->in_len = 0;
        long n = conn_read(c);
        if (n == -EAGAIN)
            return CONN_ALIVE;
        if (n < 0)
            return conn_destroy(c, 1);
        if (n == 0)
            c->peer_eof = 1;
    }
}

int conn_linger(struct http_conn *c)
{
    if (!c->lingering)
        c->lingering = 1;
    return linger_drive(c);
}

static int conn_drive(struct http_conn *c)
{
    if (c->in_drive)
        return CONN_ALIVE;
    c->in_drive = 1;
    int r;
    if (c->lingering)
        r = linger_drive(c);
    else if (c->mode == MODE_H2)
        r = h2_drive(c);
    else
        r = h1_drive(c);
    if (r == CONN_ALIVE)
        c->in_drive = 0;
    return r;
}

static void on_timer(struct tw_entry *e, sn_time now)
{
    struct http_conn *c = container_of(e, struct http_conn, timer);
    c->srv->now = now;
    if (c->lingering) {
        conn_destroy(c, 0); /* sn_close: an RST if data is still unread */
        return;
    }
    c->in_drive = 1;
    int r = c->mode == MODE_H2 ? h2_timeout(c) : h1_timeout(c);
    if (r == CONN_ALIVE)
        c->in_drive = 0;
}

static void on_sock(struct sn_sock *so, uint32_t events, void *user)
{
    (void)so;
    struct http_conn *c = user;
    srv_touch(c->srv);
    if ((events & SN_EV_ERROR) && sn_sock_error(so)) {
        conn_destroy(c, 1); /* reset or timed out: nothing more to say */
        return;
    }
    conn_drive(c);
}

static void on_listen(struct sn_sock *l, uint32_t events, void *user)
{
    (void)events;
    struct http_server *srv = user;
    srv_touch(srv);
    struct sn_sock *so;
    while (sn_accept(l, &so) == 0) {
        struct http_conn *c = NULL;
        if (srv->n_conns < srv->o.max_conns && !srv->shutting_down)
            c = calloc(1, sizeof(*c));
        if (c) {
            c->in_cap = srv->o.limits.max_head + IN_CAP_EXTRA;
            c->out.cap = OUT_CAP;
            c->in = malloc(c->in_cap);
            c->out.buf = malloc(c->out.cap);
        }
        if (!c || !c->in || !c->out.buf) {
            if (c) {
                free(c->in);
                free(c->out.buf);
                free(c);
            }
            srv->st.conns_refused++;
            sn_abort(so);
            continue;
        }
        c->srv = srv;
        c->so = so;
        tw_entry_init(&c->timer, on_timer);
        struct sn_tcp_info info;
        sn_sock_info(so, &info);
        uint32_t a = info.remote_addr;
        snprintf(c->peer, sizeof(c->peer), "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255,
                 a & 255);
        c->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = c;
        srv->conns = c;
        srv->n_conns++;
        srv->st.conns_accepted++;
        h1_init(c);
        conn_timer(c, srv->o.request_timeout_ms);
        /* Responses are written whole; Nagle would only delay the last
         * segment of each (RFC 896 vs. request/response traffic). */
        sn_setsockopt(so, SN_SO_NODELAY, 1);
        sn_sock_set_cb(so, on_sock, c);
    }
}

/* ---- access log ------------------------------------------------------------ */

void srv_access_log(struct http_server *srv, const char *peer, const char *method,
                    size_t method_len, const char *target, size_t target_len, int version,
                    int status, uint64_t bytes)
{
    FILE *f = srv->o.access_log;
    if (!f)
        return;
    static const char *const mon[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char when[32] = "-";
    int64_t t = srv_wall(srv);
    if (t >= 0) {
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        snprintf(when, sizeof(when), "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday,
                 mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
    /* The request line, with '"', '\' and non-printable bytes escaped. */
    char line[512];
    size_t n = 0;
    const char *parts[2] = {method, target};
    size_t lens[2] = {method_len, target_len};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < lens[k] && n + 5 < 400; i++) {
            unsigned char ch = (unsigned char)parts[k][i];
            if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
                n += (size_t)snprintf(line + n, sizeof(line) - n, "\\x%02x", ch);
            else
                line[n++] = (char)ch;
        }
        if (k == 0)
            line[n++] = ' ';
    }
    line[n] = 0;
    char size[24] = "-";
    if (bytes)
        snprintf(size, sizeof(size), "%llu", (unsigned long long)bytes);
    fprintf(f, "%s - - [%s] \"%s HTTP/%d.%d\" %d %s\n", peer, when, line, version / 10,
            version % 10, status, size);
    fflush(f);
}

/* ---- the server ---------------------------------------------------------------- */

int http_server_new(struct sn_stack *s, const struct http_server_opts *o,
                    struct http_server **out)
{
    if (!o->clock.now || !o->port)
        return -EINVAL;
    struct http_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return -ENOMEM;
    srv->stack = s;
    srv->o = *o;
    if (!srv->o.limits.max_head)
        srv->o.limits.max_head = HTTP1_DEFAULT_MAX_HEAD;
    if (!srv->o.limits.max_fields || srv->o.limits.max_fields > HTTP1_DEFAULT_MAX_FIELDS)
        srv->o.limits.max_fields = HTTP1_DEFAULT_MAX_FIELDS;
    if (!srv->o.max_conns)
        srv->o.max_conns = 4096;
    srv_touch(srv);
    tw_init(&srv->tw, srv->now);
    srv->date_sec = -1;
    struct fc_limits fl = {o->file_cache_entries, o->file_cache_bytes, o->file_cache_max_file,
                           o->file_cache_valid_ms};
    if (!o->root)
        fl.max_entries = 0; /* nothing to cache */
    if (fc_init(&srv->fcache, &fl) < 0) {
        free(srv);
        return -ENOMEM;
    }
    if (o->root) {
        char real[PATH_MAX];
        struct stat st;
        if (!realpath(o->root, real)) {
            int err = -errno;
            fc_free(&srv->fcache);
            free(srv);
            return err;
        }
        if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
            fc_free(&srv->fcache);
            free(srv);
            return -ENOTDIR;
        }
        srv->root = strdup(real);
        if (!srv->root) {
            fc_free(&srv->fcache);
            free(srv);
            return -ENOMEM;
        }
        srv->root_len = strlen(srv->root);
        if (srv->root_len == 1)
            srv->root_len = 0; /* "/": every path is under it; avoid "//x" */
    }
    int err = sn_listen(s, o->port, 1024, &srv->listener);
    if (err) {
        fc_free(&srv->fcache);
        free(srv->root);
        free(srv);
        return err;
    }
    sn_sock_set_cb(srv->listener, on_listen, srv);
    *out = srv;
    return 0;
}

void http_server_advance(struct http_server *srv, sn_time now)
{
    srv->now = now;
    tw_advance(&srv->tw, now);
}

sn_time http_server_next_deadline(const struct http_server *srv)
{
    return tw_next_deadline(&srv->tw);
}

void http_server_shutdown(struct http_server *srv)
{
    srv_touch(srv);
    srv->shutting_down = 1;
    if (srv->listener) {
        sn_close(srv->listener);
        srv->listener = NULL;
    }
    struct http_conn *next;
    for (struct http_conn *c = srv->conns; c; c = next) {
        next = c->next;
        if (c->lingering)
            continue;
        if (c->mode == MODE_H2)
            h2_shutdown(c);
        else
            h1_shutdown(c);
    }
}

uint32_t http_server_conns(const struct http_server *srv) { return srv->n_conns; }

const struct http_server_stats *http_server_stats(struct http_server *srv)
{
    const struct fc_stats *f = &srv->fcache.st;
    srv->st.file_cache_hits = f->hits;
    srv->st.file_cache_misses = f->misses;
    srv->st.file_cache_stale = f->stale;
    srv->st.file_cache_evictions = f->evictions;
    srv->st.file_cache_entries = f->entries;
    srv->st.file_cache_bytes = f->bytes;
    return &srv->st;
}

void http_server_free(struct http_server *srv)
{
    if (!srv)
        return;
    while (srv->conns)
        conn_destroy(srv->conns, 1);
    if (srv->listener)
        sn_close(srv->listener);
    fc_free(&srv->fcache); /* after the connections: their responses hold entries */
    free(srv->root);
    free(srv);
}
