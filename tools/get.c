/* tools/get.c: `synack get URL...`: fetches URLs over synack's own TCP (active
 * opens from a stack on a TAP or TUN device) with HTTP/1.0, HTTP/1.1 or
 * HTTP/2 (http/client.c), writes the bodies in request order, and prints
 * how many TCP connections and handshakes that took. The device and stack
 * come from tools/stackup.c, as for serve. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "api/loop.h"
#include "http/client.h"
#include "tools/cli.h"
#include "tools/stackup.h"

#define CMD "get"

void cmd_get_help(FILE *out)
{
    fprintf(out,
            "usage: synack get (--tap NAME | --tun NAME) --addr A.B.C.D/NN [OPTIONS] URL...\n"
            "\n"
            "Fetches each URL (http://A.B.C.D[:PORT][/PATH], an IPv4 address: the stack\n"
            "has no resolver) over synack's own TCP: the stack runs on the device and\n"
            "opens the connections itself. Bodies go to stdout (or -o FILE) in the order\n"
            "of the URLs; at the end a summary says how many TCP connections and\n"
            "three-way handshakes the requests took, the requests per connection and\n"
            "the time per request. Connections are reused as far as the protocol\n"
            "allows: HTTP/1.0 opens one per request, HTTP/1.1 keeps them alive, HTTP/2\n"
            "multiplexes every request on one connection per server. E.g., with nginx\n"
            "on the kernel's side of tap0 at 192.0.2.1:\n"
            "\n"
            "  ip tuntap add dev tap0 mode tap && ip addr add 192.0.2.1/24 dev tap0\n"
            "  ip link set tap0 up\n"
            "  synack get --tap tap0 --addr 192.0.2.2/24 --http1.1 -n 20 -o /dev/null \\\n"
            "      http://192.0.2.1/index.html\n"
            "\n"
            "options:\n"
            "  --http1.0             HTTP/1.0: one connection per request\n"
            "  --http1.1             HTTP/1.1 keep-alive (the default)\n"
            "  --http2               HTTP/2 over cleartext with prior knowledge (h2c)\n"
            "  -n N                  fetch every URL N times (default 1)\n"
            "  --concurrency C       HTTP/1.x: connections at once; HTTP/2: streams in\n"
            "                        flight on the connection (default 1)\n"
            "  -o FILE               write the bodies to FILE instead of stdout\n"
            "  --timeout-ms N        give up on a connection silent for N ms (30000)\n");
    stackup_help_options(out);
    fprintf(out, "\n"
                 "exit status: 0 every request was answered (whatever its status), 1 a\n"
                 "request failed (refused, reset, timed out, malformed answer) or a runtime\n"
                 "error, 2 bad command line\n"
                 "\n");
    stackup_help_settings(out);
}

struct get_opts {
    int version;
    uint32_t repeat, concurrency, timeout_ms;
    const char *out;
};

/* Takes get's own options out of argv, leaving the stack's for
 * stackup_parse. Returns 0 or an exit status. */
static int take_opts(int *argc, char **argv, struct get_opts *g)
{
    *g = (struct get_opts){.version = 11, .repeat = 1, .concurrency = 1, .timeout_ms = 30000};
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < *argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        } else if (strcmp(a, "--http1.0") == 0) {
            g->version = 10;
        } else if (strcmp(a, "--http1.1") == 0) {
            g->version = 11;
        } else if (strcmp(a, "--http2") == 0) {
            g->version = 20;
        } else if (strcmp(a, "-n") == 0) {
            if (!v || cli_parse_u32(v, 1, 10000000, &g->repeat) < 0)
                return cli_usage("-n: give a count from 1 to 10000000");
            i++;
        } else if (strcmp(a, "--concurrency") == 0 || strcmp(a, "-c") == 0) {
            if (!v || cli_parse_u32(v, 1, 10000, &g->concurrency) < 0)
                return cli_usage("%s: give a number from 1 to 10000", a);
            i++;
        } else if (strcmp(a, "-o") == 0) {
            if (!v)
                return cli_usage_cmd(CMD, "-o needs a FILE");
            g->out = v;
            i++;
        } else if (strcmp(a, "--timeout-ms") == 0) {
            if (!v || cli_parse_u32(v, 100, 3600000, &g->timeout_ms) < 0)
                return cli_usage("--timeout-ms: give a number of ms from 100 to 3600000");
            i++;
        } else {
            argv[out++] = argv[i];
        }
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

struct url {
    uint32_t addr;
    uint16_t port;
    char authority[32];
    const char *path;
};

/* http://A.B.C.D[:PORT][/PATH]. Returns 0 or -1. */
static int parse_url(const char *s, struct url *u)
{
    if (strncmp(s, "http://", 7) != 0)
        return -1;
    const char *h = s + 7;
    const char *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    if (hl == 0 || hl >= sizeof(u->authority))
        return -1;
    memcpy(u->authority, h, hl);
    u->authority[hl] = 0;
    char host[32];
    memcpy(host, h, hl);
    host[hl] = 0;
    uint32_t port = 80;
    char *colon = strchr(host, ':');
    if (colon) {
        *colon = 0;
        if (cli_parse_u32(colon + 1, 1, 65535, &port) < 0)
            return -1;
    }
    if (cli_parse_ip4(host, &u->addr) < 0)
        return -1;
    u->port = (uint16_t)port;
    u->path = slash ? slash : "/";
    for (const char *p = u->path; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return -1; /* would break the request line */
    return 0;
}

/* ---- bodies, in request order ---------------------------------------------------- */

struct body {
    char *buf;
    size_t len, cap;
    int done;
};

struct sink {
    FILE *f;
    struct body *b;
    size_t n, next; /* bodies before next are written */
    size_t status_2xx, status_other, failed;
    int stop;
};

static void on_data(void *user, size_t idx, const char *p, size_t n)
{
    struct sink *s = user;
    if (idx == s->next) {
        fwrite(p, 1, n, s->f); /* the head of the line streams straight out */
        return;
    }
    struct body *b = &s->b[idx];
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + n)
            cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb) {
            s->stop = 1;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

static void on_done(void *user, size_t idx, int status, int err)
{
    struct sink *s = user;
    s->b[idx].done = 1;
    if (err) {
        char eb[CLI_ERR_LEN];
        s->failed++;
        fprintf(stderr, "synack get: request %zu failed: %s\n", idx + 1,
                err == -EPROTO ? "malformed answer or stream error" : cli_strerror(err, eb));
    } else if (status >= 200 && status < 300) {
        s->status_2xx++;
    } else {
        s->status_other++;
    }
    while (s->next < s->n && s->b[s->next].done) {
        struct body *b = &s->b[s->next];
        if (b->len)
            fwrite(b->buf, 1, b->len, s->f);
        free(b->buf);
        b->buf = NULL;
        s->next++;
    }
}

/* ---- running ------------------------------------------------------------------------ */

static volatile int stop_requested;

static void on_stop(struct sn_loop *lp, int signo, void *user)
{
    (void)lp;
    (void)signo;
    (void)user;
    stop_requested = 1;
}

static void on_hook(struct sn_loop *lp, sn_time now, void *user)
{
    (void)lp;
    http_client_advance(user, now);
}

static sn_time loop_clock(void *ctx) { return sn_loop_now(ctx); }

/* The stack's "active connection openings" counter, from its printout. */
static unsigned long long active_opens(struct sn_stack *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return 0;
    sn_stack_print_stats(s, m, 1);
    fclose(m);
    unsigned long long v = 0;
    char *p = text ? strstr(text, " active connection openings") : NULL;
    if (p) {
        while (p > text && p[-1] >= '0' && p[-1] <= '9')
            p--;
        v = strtoull(p, NULL, 10);
    }
    free(text);
    return v;
}

static const char *version_name(int v)
{
    return v == 10 ? "HTTP/1.0" : v == 11 ? "HTTP/1.1" : "HTTP/2";
}

static int run(const struct stackup_opts *so, const struct get_opts *g, struct url *urls,
               size_t n_urls)
{
    size_t n = n_urls * g->repeat;
    struct http_client_target *t = calloc(n, sizeof(*t));
    struct sink sink = {.n = n};
    sink.b = calloc(n, sizeof(*sink.b));
    if (!t || !sink.b) {
        free(t);
        free(sink.b);
        return cli_fail("out of memory for %zu requests", n);
    }
    for (size_t i = 0; i < n; i++) {
        struct url *u = &urls[i % n_urls];
        t[i] = (struct http_client_target){u->addr, u->port, u->authority, u->path};
    }
    char eb[CLI_ERR_LEN];
    sink.f = stdout;
    if (g->out && !(sink.f = fopen(g->out, "w"))) {
        int err = -errno;
        free(t);
        free(sink.b);
        return cli_fail("-o: cannot write '%s': %s", g->out, cli_strerror(err, eb));
    }
    FILE *report = g->out ? stdout : stderr;

    struct stackup su;
    int rc = stackup_start(CMD, so, &su);
    struct http_client *cl = NULL;
    if (rc)
        goto out;
    rc = CLI_EXIT_RUNTIME;
    int err = sn_loop_on_signal(su.lp, SIGINT, on_stop, NULL);
    if (!err)
        err = sn_loop_on_signal(su.lp, SIGTERM, on_stop, NULL);
    struct http_client_opts co = {
        .version = g->version,
        .concurrency = g->concurrency,
        .timeout_ms = g->timeout_ms,
        .clock = {loop_clock, su.lp},
        .on_data = on_data,
        .on_done = on_done,
        .user = &sink,
    };
    if (!err)
        err = http_client_new(su.stack, &co, t, n, &cl);
    if (!err)
        err = sn_loop_add_hook(su.lp, on_hook, cl);
    if (err) {
        cli_fail("cannot start: %s", cli_strerror(err, eb));
        goto out;
    }
    sn_time t0 = sn_loop_now(su.lp);
    while (!http_client_done(cl) && !stop_requested && !sink.stop) {
        err = sn_loop_run_once(su.lp, SN_MSEC(50));
        if (err) {
            cli_fail("device %s failed: %s", su.link->name, cli_strerror(err, eb));
            goto out;
        }
    }
    sn_time t1 = sn_loop_now(su.lp);
    if (!http_client_done(cl)) {
        cli_fail(sink.stop ? "out of memory for the bodies" : "interrupted");
        goto out;
    }
    /* Let the last FINs and ACKs go out before the device goes away. */
    for (int i = 0; i < 5; i++)
        sn_loop_run_once(su.lp, SN_MSEC(10));

    const struct http_client_stats *st = http_client_stats(cl);
    double secs = (double)(t1 - t0) / 1e6;
    double per_conn = st->handshakes ? (double)st->requests_ok / (double)st->handshakes : 0;
    fprintf(report, "synack get: %zu requests over %s in %.1f ms: %zu answered 2xx, %zu other "
                    "status, %zu failed\n",
            n, version_name(g->version), secs * 1000, sink.status_2xx, sink.status_other,
            sink.failed);
    fprintf(report, "  TCP connections: %llu opened, %llu handshakes (the stack counted %llu "
                    "active opens)\n",
            (unsigned long long)st->conns, (unsigned long long)st->handshakes,
            active_opens(su.stack));
    fprintf(report, "  requests per connection: %.1f (at most %u on one)%s\n", per_conn,
            st->max_per_conn,
            st->retries ? ", some re-sent after a keep-alive connection closed" : "");
    fprintf(report, "  time per request: %.3f ms; %llu body bytes, %.1f MB/s\n",
            n ? secs * 1000 / (double)n : 0.0, (unsigned long long)st->body_bytes,
            secs > 0 ? (double)st->body_bytes / secs / 1e6 : 0.0);
    fflush(report);
    rc = sink.failed ? CLI_EXIT_RUNTIME : CLI_EXIT_OK;
out:
    if (cl) {
        sn_loop_del_hook(su.lp, on_hook, cl);
        http_client_free(cl);
    }
    if (su.lp || su.stack || su.link)
        stackup_stop(&su);
    for (size_t i = 0; i < n; i++)
        free(sink.b[i].buf);
    free(sink.b);
    free(t);
    if (sink.f && (fflush(sink.f) != 0 || ferror(sink.f))) {
        cli_fail("writing the bodies failed");
        rc = CLI_EXIT_RUNTIME;
    }
    if (sink.f && sink.f != stdout)
        fclose(sink.f);
    return rc;
}

int cmd_get_main(int argc, char **argv)
{
    struct get_opts g;
    int rc = take_opts(&argc, argv, &g);
    if (rc)
        return rc;
    struct stackup_opts so;
    rc = stackup_parse(CMD, cmd_get_help, argc, argv, &so);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (so.n_args == 0)
        return cli_usage_cmd(CMD, "give at least one URL");
    struct url *urls = calloc((size_t)so.n_args, sizeof(*urls));
    if (!urls)
        return cli_fail("out of memory");
    for (int i = 0; i < so.n_args; i++) {
        if (parse_url(so.args[i], &urls[i]) < 0) {
            free(urls);
            return cli_usage("'%s' is not a URL synack get can fetch: http://A.B.C.D[:PORT][/PATH]",
                             so.args[i]);
        }
    }
    rc = run(&so, &g, urls, (size_t)so.n_args);
    free(urls);
    return rc;
}
