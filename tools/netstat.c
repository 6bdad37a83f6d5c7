/* tools/netstat.c: `synack netstat`: a running stack's counters, every
 * layer's, like `netstat -s`, asked over its control socket. */
#include <getopt.h>

#include "tools/cli.h"
#include "tools/ss.h"

#define CMD "netstat"

void cmd_netstat_help(FILE *out)
{
    fprintf(out, "usage: synack netstat [--ctl PATH] [-a] [--prometheus]\n"
                 "\n"
                 "Prints the counters of a running `synack serve`, one paragraph per layer (link,\n"
                 "eth, arp, ip4, icmp, tcp, udp) and the reasons packets were dropped, like\n"
                 "`netstat -s`. Counters that are zero are left out unless -a. The stack answers\n"
                 "on its control socket, whose path `synack serve` prints at start.\n"
                 "\n"
                 "options:\n"
                 "  --ctl PATH      the stack's control socket (default: $SYNACK_CTL, else the\n"
                 "                  only one running under /run/synack/ or /tmp/synack-*.sock)\n"
                 "  -a, --all       the zero counters too\n"
                 "  --prometheus    the Prometheus text format instead\n"
                 "  -h, --help      this text\n"
                 "\n"
                 "exit status: 0 printed, 1 no stack to ask (or it refused), 2 bad command line\n");
}

static const struct option long_opts[] = {
    {"ctl", required_argument, NULL, 'c'},
    {"all", no_argument, NULL, 'a'},
    {"prometheus", no_argument, NULL, 'p'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cmd_netstat_main(int argc, char **argv)
{
    const char *path = NULL, *req = "netstat";
    int all = 0, prom = 0;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":ah", long_opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'a':
            all = 1;
            break;
        case 'p':
            prom = 1;
            break;
        case 'h':
            cmd_netstat_help(stdout);
            return CLI_EXIT_OK;
        default:
            return cli_getopt_error(CMD, c, argc, argv);
        }
    }
    if (optind < argc)
        return cli_usage_cmd(CMD, "unexpected argument '%s'", argv[optind]);
    if (prom && all)
        return cli_usage_cmd(CMD, "--prometheus always has every counter; drop -a");
    if (prom)
        req = "prometheus";
    else if (all)
        req = "netstat -a";
    return ctl_client_run(CMD, path, req);
}
