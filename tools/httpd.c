/* tools/httpd.c: the HTTP server of `synack serve` on the event loop (see
 * httpd.h). The server is sans-I/O; this file gives it its clocks, opens
 * the access log, and turns its next deadline into a timerfd the loop
 * watches, so idle and slowloris timeouts fire even when the stack itself
 * has nothing to wake up for. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "http/http.h"
#include "tools/cli.h"
#include "tools/httpd.h"

struct httpd {
    struct sn_loop *lp;
    struct http_server *srv;
    int tfd;
    sn_time armed; /* the deadline the timerfd is set to */
    FILE *log;
    int log_owned;
    struct httpd_opts o;
};

void httpd_help_options(FILE *out)
{
    fprintf(out,
            "  --http PORT           serve HTTP/1.0, HTTP/1.1 and HTTP/2 (h2c) on PORT\n"
            "                        (default 80; the server is on unless --no-http)\n"
            "  --root DIR            serve the files under DIR (default: a built-in page)\n"
            "  --access-log FILE     Common Log Format lines to FILE ('-': stderr)\n"
            "  --http-idle-ms N      close a keep-alive connection idle for N ms (30000)\n"
            "  --http-request-ms N   a request head must arrive within N ms of its first\n"
            "                        byte, else 408 (10000; the slowloris guard)\n"
            "  --http-max-body N     largest request body in bytes, else 413 (16777216)\n"
            "  --metrics-path PATH   serve the counters in Prometheus text format at PATH\n"
            "                        (default /metrics; '' for none)\n"
            "  --no-http             no HTTP server\n");
}


int httpd_take_opts(const char *cmd, int *argc, char **argv, struct httpd_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->port = 80;
    o->idle_ms = 30000;
    o->request_ms = 10000;
    o->max_body = 16u << 20;
    o->metrics_path = "/metrics";
    int out = 1;
    for (int i = 1; i < *argc;) {
        const char *v = NULL;
        const char *a = argv[i];
        int r;
        if (strcmp(a, "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strcmp(a, "--no-http") == 0) {
            o->off = 1;
            i++;
            continue;
        }
        if ((r = cli_opt_value("--http", *argc, argv, &i, &v)) != 0) {
            if (r < 0)
                return cli_usage_cmd(cmd, "--http needs a PORT");
            if (cli_parse_u32(v, 1, 65535, &o->port) < 0)
                return cli_usage("--http: '%s' is not a port from 1 to 65535", v);
        } else if ((r = cli_opt_value("--root", *argc, argv, &i, &v)) != 0) {
            if (r < 0)
                return cli_usage_cmd(cmd, "--root needs a DIR");
            o->root = v;
        } else if ((r = cli_opt_value("--access-log", *argc, argv, &i, &v)) != 0) {
            if (r < 0)
                return cli_usage_cmd(cmd, "--access-log needs a FILE");
            o->access_log = v;
        } else if ((r = cli_opt_value("--http-idle-ms", *argc, argv, &i, &v)) != 0) {
            if (r < 0 || cli_parse_u32(v, 1, 3600000, &o->idle_ms) < 0)
                return cli_usage("--http-idle-ms: give a number of ms from 1 to 3600000");
        } else if ((r = cli_opt_value("--http-request-ms", *argc, argv, &i, &v)) != 0) {
            if (r < 0 || cli_parse_u32(v, 1, 3600000, &o->request_ms) < 0)
                return cli_usage("--http-request-ms: give a number of ms from 1 to 3600000");
        } else if ((r = cli_opt_value("--metrics-path", *argc, argv, &i, &v)) != 0) {
            if (r < 0 || (v[0] && v[0] != '/'))
                return cli_usage("--metrics-path: give a path starting with '/', or ''");
            o->metrics_path = v;
        } else if ((r = cli_opt_value("--http-max-body", *argc, argv, &i, &v)) != 0) {
            if (r < 0 || cli_parse_u32(v, 0, 1u << 30, &o->max_body) < 0)
                return cli_usage("--http-max-body: give a number of bytes up to 1073741824");
        } else {
            argv[out++] = argv[i++];
        }
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

static sn_time loop_clock(void *ctx) { return sn_loop_now(ctx); }

static sn_time wall_clock(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (sn_time)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sets the timerfd to the server's next deadline (CLOCK_MONOTONIC, the
 * clock the loop reads). */
static void rearm(struct httpd *h)
{
    sn_time d = http_server_next_deadline(h->srv);
    if (d == h->armed)
        return;
    h->armed = d;
    struct itimerspec its = {0};
    if (d != SN_TIME_NEVER) {
        if (d <= 0)
            d = 1;
        its.it_value.tv_sec = d / 1000000;
        its.it_value.tv_nsec = (long)(d % 1000000) * 1000;
    }
    timerfd_settime(h->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void on_hook(struct sn_loop *lp, sn_time now, void *user)
{
    (void)lp;
    struct httpd *h = user;
    http_server_advance(h->srv, now);
    rearm(h);
}

static void on_timerfd(struct sn_loop *lp, int fd, uint32_t events, void *user)
{
    (void)lp;
    (void)events;
    (void)user;
    uint64_t n;
    ssize_t r = read(fd, &n, sizeof(n)); /* the hook does the work */
    (void)r;
}

static void httpd_free(struct httpd *h)
{
    if (!h)
        return;
    if (h->srv) {
        sn_loop_del_hook(h->lp, on_hook, h);
        http_server_free(h->srv);
    }
    if (h->tfd >= 0) {
        sn_loop_del_fd(h->lp, h->tfd);
        close(h->tfd);
    }
    if (h->log_owned)
        fclose(h->log);
    free(h);
}

int httpd_start(struct sn_loop *lp, const struct httpd_opts *o, struct httpd **out)
{
    *out = NULL;
    if (o->off)
        return 0;
    char eb[CLI_ERR_LEN];
    struct httpd *h = calloc(1, sizeof(*h));
    if (!h)
        return cli_fail("out of memory");
    h->lp = lp;
    h->o = *o;
    h->tfd = -1;
    h->armed = SN_TIME_NEVER;
    if (o->access_log) {
        if (strcmp(o->access_log, "-") == 0) {
            h->log = stderr;
        } else {
            h->log = fopen(o->access_log, "a");
            if (!h->log) {
                int err = -errno;
                free(h);
                return cli_fail("--access-log: cannot open '%s': %s", o->access_log,
                                cli_strerror(err, eb));
            }
            h->log_owned = 1;
        }
    }
    struct http_server_opts so;
    http_server_opts_defaults(&so);
    so.port = (uint16_t)o->port;
    so.root = o->root;
    so.access_log = h->log;
    so.idle_timeout_ms = o->idle_ms;
    so.request_timeout_ms = o->request_ms;
    so.body_timeout_ms = o->request_ms;
    so.max_body = o->max_body;
    so.metrics_path = o->metrics_path[0] ? o->metrics_path : NULL;
    so.clock = (struct sn_clock){loop_clock, lp};
    so.wall = (struct sn_clock){wall_clock, NULL};
    int err = http_server_new(sn_loop_stack(lp), &so, &h->srv);
    if (err) {
        httpd_free(h);
        if (o->root && (err == -ENOENT || err == -ENOTDIR || err == -EACCES))
            return cli_fail("--root: '%s' is not a directory we can read: %s", o->root,
                            cli_strerror(err, eb));
        if (err == -EADDRINUSE)
            return cli_fail("--http: port %u is already taken on the stack", o->port);
        return cli_fail("cannot start the HTTP server: %s", cli_strerror(err, eb));
    }
    h->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (h->tfd < 0) {
        err = -errno;
        httpd_free(h);
        return cli_fail("cannot create a timerfd: %s", cli_strerror(err, eb));
    }
    err = sn_loop_add_fd(lp, h->tfd, EPOLLIN, on_timerfd, h);
    if (!err)
        err = sn_loop_add_hook(lp, on_hook, h);
    if (err) {
        httpd_free(h);
        return cli_fail("cannot hook the HTTP server into the loop: %s", cli_strerror(err, eb));
    }
    *out = h;
    return 0;
}

void httpd_stop(struct httpd *h, uint32_t max_ms)
{
    if (!h)
        return;
    http_server_shutdown(h->srv);
    sn_time end = sn_loop_now(h->lp) + SN_MSEC(max_ms);
    while (http_server_conns(h->srv) > 0) {
        sn_time now = sn_loop_now(h->lp);
        if (now >= end)
            break;
        if (sn_loop_run_once(h->lp, end - now < SN_MSEC(50) ? end - now : SN_MSEC(50)) < 0)
            break;
    }
    httpd_free(h);
}

const char *httpd_describe(const struct httpd *h, char *buf, size_t cap)
{
    if (!h)
        snprintf(buf, cap, "no http");
    else
        snprintf(buf, cap, "http on port %u, %s%s", h->o.port, h->o.root ? "root " : "built-in page",
                 h->o.root ? h->o.root : "");
    return buf;
}
