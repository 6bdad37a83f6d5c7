/* tools/httpd.h: synack serve's HTTP server (http/http.h) on the event
 * loop: its command-line options, its clocks, and a timerfd that wakes the
 * loop at the server's own deadlines (idle and slow-request timeouts; the
 * socket API has no timers, and the loop sleeps until the stack's next
 * deadline otherwise). */
#ifndef SYNACK_TOOLS_HTTPD_H
#define SYNACK_TOOLS_HTTPD_H

#include <stdint.h>
#include <stdio.h>

#include "api/loop.h"

struct httpd_opts {
    int off;                /* --no-http */
    uint32_t port;          /* --http PORT (80) */
    const char *root;       /* --root DIR */
    const char *access_log; /* --access-log FILE ("-": stderr) */
    uint32_t idle_ms, request_ms;
    uint32_t max_body;
    const char *metrics_path; /* --metrics-path PATH ("/metrics"; "": none) */
};

/* Takes the HTTP options out of argv (so that the remaining ones can go to
 * stackup_parse) and fills @o. Returns 0 or an exit status after one line
 * saying what is wrong. */
int httpd_take_opts(const char *cmd, int *argc, char **argv, struct httpd_opts *o);

/* The option lines for --help. */
void httpd_help_options(FILE *out);

struct httpd;

/* Starts the server on the loop's stack. Returns 0 (and *out, NULL when
 * --no-http) or an exit status after printing why not. */
int httpd_start(struct sn_loop *lp, const struct httpd_opts *o, struct httpd **out);

/* Graceful stop (GOAWAY, last responses) running the loop for up to
 * @max_ms, then frees everything. NULL is fine. */
void httpd_stop(struct httpd *h, uint32_t max_ms);

/* "http on port 80, root DIR" for the start line, into @buf. */
const char *httpd_describe(const struct httpd *h, char *buf, size_t cap);

#endif
