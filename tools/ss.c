/* tools/ss.c: `synack ss`: a running stack's connections, like `ss -ti`,
 * asked over its control socket; and the client both it and `synack
 * netstat` use. */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "api/ctl.h"
#include "tools/cli.h"
#include "tools/ss.h"

#define CMD "ss"

void cmd_ss_help(FILE *out)
{
    fprintf(out, "usage: synack ss [--ctl PATH] [-l | -a]\n"
                 "\n"
                 "Lists the TCP connections of a running `synack serve`, like `ss -ti`: for each,\n"
                 "its state (RFC 9293 names), receive and send queues (bytes), local and peer\n"
                 "address, then a line of variables: ts/sack/wscale negotiated, rto, rtt\n"
                 "(srtt/rttvar, ms), mss, cwnd and ssthresh (bytes), bytes sent, acked and\n"
                 "received, segments out and in, bytes unacknowledged, retransmissions\n"
                 "(current backoff/total), send and receive windows. The stack answers on its\n"
                 "control socket, whose path `synack serve` prints at start.\n"
                 "\n"
                 "options:\n"
                 "  --ctl PATH    the stack's control socket (default: $SYNACK_CTL, else the only\n"
                 "                one running under /run/synack/ or /tmp/synack-*.sock)\n"
                 "  -l, --listening\n"
                 "                listening sockets only\n"
                 "  -a, --all     listening sockets and connections\n"
                 "  -h, --help    this text\n"
                 "\n"
                 "exit status: 0 listed, 1 no stack to ask (or it refused), 2 bad command line\n");
}

static const struct option long_opts[] = {
    {"ctl", required_argument, NULL, 'c'},
    {"listening", no_argument, NULL, 'l'},
    {"all", no_argument, NULL, 'a'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The control socket to use when none was given. Returns 0 with @buf set,
 * or an exit status after saying why not. */
static int discover(const char *cmd, char *buf, size_t len)
{
    const char *env = getenv("SYNACK_CTL");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return 0;
    }
    glob_t g;
    memset(&g, 0, sizeof(g));
    int rc = glob("/run/synack/*.sock", 0, NULL, &g);
    if (rc == 0 || rc == GLOB_NOMATCH)
        rc = glob("/tmp/synack-*.sock", GLOB_APPEND, NULL, &g);
    char live[4][256];
    size_t n_live = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char err[64];
        /* Asking for help is harmless and tells a live stack from a stale
         * socket file. */
        FILE *null = fopen("/dev/null", "we");
        if (!null)
            break;
        int r = sn_ctl_request(g.gl_pathv[i], "help", null, err, sizeof(err));
        fclose(null);
        if (r == 0 && n_live < 4)
            snprintf(live[n_live++], sizeof(live[0]), "%s", g.gl_pathv[i]);
        else if (r == 0)
            n_live++;
    }
    globfree(&g);
    if (n_live == 1) {
        snprintf(buf, len, "%s", live[0]);
        return 0;
    }
    if (n_live == 0)
        return cli_fail("%s: no running synack serve found (it prints its control socket at "
                        "start; give it with --ctl PATH)",
                        cmd);
    return cli_fail("%s: %zu stacks are running (%s, %s%s): choose one with --ctl PATH", cmd,
                    n_live, live[0], live[1], n_live > 2 ? ", ..." : "");
}

int ctl_client_run(const char *cmd, const char *path, const char *req)
{
    char found[256], err[256], eb[CLI_ERR_LEN];
    if (!path) {
        int rc = discover(cmd, found, sizeof(found));
        if (rc)
            return rc;
        path = found;
    }
    int rc = sn_ctl_request(path, req, stdout, err, sizeof(err));
    if (rc == -EPROTO)
        return cli_fail("%s: the stack at %s refused: %s", cmd, path, err);
    if (rc == -ENOENT || rc == -ECONNREFUSED)
        return cli_fail("%s: no synack stack is listening at %s (%s)", cmd, path,
                        cli_strerror(rc, eb));
    if (rc == -ENAMETOOLONG)
        return cli_usage("--ctl: '%s' is too long for a Unix socket path", path);
    if (rc)
        return cli_fail("%s: cannot ask the stack at %s: %s", cmd, path, cli_strerror(rc, eb));
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_RUNTIME;
}

int cmd_ss_main(int argc, char **argv)
{
    const char *path = NULL, *req = "ss";
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":lah", long_opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'l':
            req = "ss -l";
            break;
        case 'a':
            req = "ss -a";
            break;
        case 'h':
            cmd_ss_help(stdout);
            return CLI_EXIT_OK;
        default:
            return cli_getopt_error(CMD, c, argc, argv);
        }
    }
    if (optind < argc)
        return cli_usage_cmd(CMD, "unexpected argument '%s'", argv[optind]);
    return ctl_client_run(CMD, path, req);
}
