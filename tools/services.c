/* tools/services.c: echo, discard, daytime and chargen over synack's TCP,
 * written against the public socket API only, as an application would.
 * Each connection is driven by its readiness callback (run from
 * sn_stack_advance), so nothing blocks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "tools/cli.h"
#include "tools/services.h"

#define SVC_BUF 65536

enum svc_kind { SVC_ECHO, SVC_DISCARD, SVC_DAYTIME, SVC_CHARGEN };

struct svc_conn {
    enum svc_kind kind;
    uint32_t pending, sent; /* echo: bytes read, not yet sent back */
    uint32_t chargen_pos;   /* chargen: offset in the 95-line cycle */
    int peer_done;          /* the peer sent FIN */
    uint8_t buf[SVC_BUF];
};

static const char *const svc_names[] = {"echo", "discard", "daytime", "chargen"};

static void conn_finish(struct sn_sock *so, struct svc_conn *sc)
{
    if (log_threshold >= LOG_DEBUG) { /* `serve -v`: what each connection moved */
        struct sn_tcp_info ti;
        char ip[CLI_IP4_LEN], eb[CLI_ERR_LEN];
        sn_sock_info(so, &ti);
        int err = sn_sock_error(so);
        log_debug("%s: connection from %s:%u done, %llu bytes received, %llu sent%s%s",
                  svc_names[sc->kind], cli_fmt_ip4(ti.remote_addr, ip), ti.remote_port,
                  (unsigned long long)ti.bytes_received, (unsigned long long)ti.bytes_sent,
                  err ? ", error: " : "", err ? cli_strerror(err, eb) : "");
    }
    sn_close(so);
    free(sc);
}

/* Sends the unsent part of sc->buf; returns 1 when all of it went. */
static int flush_pending(struct sn_sock *so, struct svc_conn *sc)
{
    while (sc->sent < sc->pending) {
        ssize_t n = sn_send(so, sc->buf + sc->sent, sc->pending - sc->sent);
        if (n <= 0)
            return 0;
        sc->sent += (uint32_t)n;
    }
    sc->pending = sc->sent = 0;
    return 1;
}

/* RFC 864: rotating 72-character lines of the 95 printable characters.
 * Line k is the printable ring from character k % 95, so the stream
 * repeats every 95 lines (CHARGEN_CYCLE bytes). The table holds that cycle
 * CHARGEN_COPIES + 1 times over, so that from any offset in the cycle
 * CHARGEN_COPIES cycles follow contiguously: chargen sends straight from
 * it, without writing its lines byte by byte for each connection (that
 * was most of the CPU time of a bulk transfer from chargen). Written once
 * by services_start, before any connection (and thread) exists; only read
 * after. */
#define CHARGEN_CYCLE (95 * 74)
#define CHARGEN_COPIES 9
static uint8_t chargen_table[CHARGEN_CYCLE * (CHARGEN_COPIES + 1)];

static void chargen_table_init(void)
{
    uint32_t n = 0;
    for (uint32_t line = 0; n < sizeof(chargen_table); line++) {
        for (uint32_t i = 0; i < 72; i++)
            chargen_table[n++] = (uint8_t)(' ' + (line + i) % 95);
        chargen_table[n++] = '\r';
        chargen_table[n++] = '\n';
    }
}

/* Sends as much of the stream as the socket takes. */
static void chargen_send(struct sn_sock *so, struct svc_conn *sc)
{
    for (;;) {
        ssize_t n = sn_send(so, chargen_table + sc->chargen_pos, CHARGEN_CYCLE * CHARGEN_COPIES);
        if (n <= 0)
            return;
        sc->chargen_pos = (uint32_t)((sc->chargen_pos + (size_t)n) % CHARGEN_CYCLE);
    }
}

/* Reads everything available; returns 0 at EOF or error, 1 otherwise. */
static int drain_input(struct sn_sock *so, struct svc_conn *sc, int keep)
{
    for (;;) {
        if (keep && sc->pending)
            return 1; /* echo: send back before reading more (backpressure) */
        ssize_t n = sn_recv(so, sc->buf, SVC_BUF);
        if (n == -EAGAIN)
            return 1;
        if (n <= 0)
            return 0;
        if (keep) {
            sc->pending = (uint32_t)n;
            sc->sent = 0;
            if (!flush_pending(so, sc))
                return 1;
        }
    }
}

static void on_conn(struct sn_sock *so, uint32_t events, void *user)
{
    struct svc_conn *sc = user;
    if (events & SN_EV_ERROR) {
        conn_finish(so, sc);
        return;
    }
    switch (sc->kind) {
    case SVC_ECHO:
        if (!flush_pending(so, sc))
            return;
        if (!sc->peer_done && !drain_input(so, sc, 1))
            sc->peer_done = 1;
        if (sc->peer_done && sc->pending == 0)
            conn_finish(so, sc); /* everything echoed: close our half too */
        break;
    case SVC_DISCARD:
        if (!drain_input(so, sc, 0))
            conn_finish(so, sc);
        break;
    case SVC_CHARGEN:
        if (!drain_input(so, sc, 0)) {
            conn_finish(so, sc);
            return;
        }
        chargen_send(so, sc);
        break;
    case SVC_DAYTIME:
        break; /* answered and closed at accept */
    }
}

/* RFC 867: one line of human-readable time, then the server closes. */
static void daytime_answer(struct sn_sock *so)
{
    char line[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t n = strftime(line, sizeof(line), "%A, %B %d, %Y %H:%M:%S-UTC\r\n", &tm);
    sn_send(so, line, n);
    sn_close(so);
}

static void on_listen(struct sn_sock *l, uint32_t events, void *user)
{
    (void)events;
    enum svc_kind kind = (enum svc_kind)(uintptr_t)user;
    struct sn_sock *so;
    while (sn_accept(l, &so) == 0) {
        if (kind == SVC_DAYTIME) {
            daytime_answer(so);
            continue;
        }
        struct svc_conn *sc = calloc(1, sizeof(*sc));
        if (!sc) {
            sn_abort(so);
            continue;
        }
        sc->kind = kind;
        sn_setsockopt(so, SN_SO_NODELAY, 1);
        sn_sock_set_cb(so, on_conn, sc);
    }
}

int services_start(struct sn_stack *s)
{
    if (chargen_table[0] == 0)
        chargen_table_init();
    static const struct {
        uint16_t port;
        enum svc_kind kind;
    } table[] = {{7, SVC_ECHO}, {9, SVC_DISCARD}, {13, SVC_DAYTIME}, {19, SVC_CHARGEN}};
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        struct sn_sock *l;
        int err = sn_listen(s, table[i].port, 128, &l);
        if (err)
            return err;
        sn_sock_set_cb(l, on_listen, (void *)(uintptr_t)table[i].kind);
    }
    return 0;
}
