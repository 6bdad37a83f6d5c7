/* tools/serve.c: `synack serve`: one stack on a TAP or TUN device, driven
 * by the event loop until SIGINT/SIGTERM; SIGUSR1 prints the counters.
 * Owns the command line, the device, the capture and the services. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "api/loop.h"
#include "core/log.h"
#include "link/link.h"
#include "synack/synack.h"
#include "tools/cli.h"
#include "tools/services.h"

#define CMD "serve"

struct serve_opts {
    const char *tap, *tun;  /* exactly one */
    const char *addr_arg;
    uint32_t addr;
    uint8_t prefix_len;
    uint32_t gateway;       /* 0: none */
    uint8_t mac[6];
    int have_mac;
    uint32_t mtu;           /* 0: the device's */
    const char *pcap;
    struct sn_config cfg;
    int verbose, quiet;
};

void cmd_serve_help(FILE *out)
{
    fprintf(out,
            "usage: synack serve (--tap NAME | --tun NAME) --addr A.B.C.D/NN [OPTIONS]\n"
            "\n"
            "Runs a synack stack on a TAP (Ethernet) or TUN (IPv4) device until SIGINT or\n"
            "SIGTERM, then prints its counters on stdout and exits 0. SIGUSR1 prints the\n"
            "counters and carries on. The stack answers ARP and ICMP echo (ping), and\n"
            "reassembles and fragments IPv4 datagrams. A TAP or TUN device that does not\n"
            "exist is created (and removed again at exit); that needs root or\n"
            "CAP_NET_ADMIN. Give the kernel's side of the device an address in the same\n"
            "subnet to talk to the stack, e.g.:\n"
            "\n"
            "  synack serve --tap tap0 --addr 192.0.2.2/24 &\n"
            "  ip addr add 192.0.2.1/24 dev tap0\n"
            "  ping 192.0.2.2\n"
            "\n"
            "options:\n"
            "  --tap NAME            use (or create) TAP device NAME (Ethernet frames)\n"
            "  --tun NAME            use (or create) TUN device NAME (bare IPv4 packets)\n"
            "  --addr A.B.C.D/NN     the stack's IPv4 address and prefix (required)\n"
            "  --gateway A.B.C.D     default gateway, inside the --addr subnet\n"
            "  --mac XX:XX:XX:XX:XX:XX\n"
            "                        the stack's MAC on a TAP (default: a random locally\n"
            "                        administered one, printed at start)\n"
            "  --mtu N               set the device MTU (576..65535; default: keep it)\n"
            "  --pcap FILE           record every frame in and out to FILE (pcap)\n"
            "  --set NAME=VALUE      change a setting (below); may be repeated\n"
            "  --profile NAME        start from a preset: linux (Linux-like ACK timing\n"
            "                        and window scale) or rfc (the defaults); --set wins\n"
            "  -v, --verbose         debug messages on stderr\n"
            "  -q, --quiet           only errors on stderr (counters still go to stdout)\n"
            "  -h, --help            this text\n"
            "\n"
            "exit status: 0 stopped by a signal, 1 runtime error, 2 bad command line\n"
            "\n"
            "settings for --set (NAME default [min..max] meaning):\n");
    sn_config_help(out);
}

enum {
    OPT_TAP = 256,
    OPT_TUN,
    OPT_ADDR,
    OPT_GATEWAY,
    OPT_MAC,
    OPT_MTU,
    OPT_PCAP,
    OPT_SET,
    OPT_PROFILE,
};

static const struct option long_opts[] = {
    {"tap", required_argument, NULL, OPT_TAP},
    {"tun", required_argument, NULL, OPT_TUN},
    {"addr", required_argument, NULL, OPT_ADDR},
    {"gateway", required_argument, NULL, OPT_GATEWAY},
    {"mac", required_argument, NULL, OPT_MAC},
    {"mtu", required_argument, NULL, OPT_MTU},
    {"pcap", required_argument, NULL, OPT_PCAP},
    {"set", required_argument, NULL, OPT_SET},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int bad_set(const char *assignment, int err)
{
    if (err == -ERANGE)
        return cli_usage("--set: '%s' is out of range (synack serve --help lists the bounds)",
                         assignment);
    return cli_usage("--set: '%s' is not NAME=NUMBER with a known NAME (synack serve --help "
                     "lists them)",
                     assignment);
}

static int check_ifname(const char *opt, const char *name)
{
    if (!name[0] || strlen(name) >= IFNAMSIZ || strchr(name, '/') || strchr(name, ' '))
        return cli_usage("%s: '%s' is not a device name (1 to %d characters, no '/' or spaces)",
                         opt, name, IFNAMSIZ - 1);
    return 0;
}

/* Whether @addr/@prefix_len can be a unicast host address (RFC 1122
 * 3.2.1.3: not 0, 127/8, 224/4 multicast, 240/4 reserved, nor a subnet's
 * all-zeros or all-ones host part where the subnet has such a part). */
static int host_addr_ok(uint32_t addr, uint8_t prefix_len)
{
    uint8_t top = (uint8_t)(addr >> 24);
    if (addr == 0 || top == 127 || top >= 224)
        return 0;
    if (prefix_len <= 30) {
        uint32_t host = addr & ~(prefix_len ? ~0u << (32 - prefix_len) : 0);
        uint32_t all_ones = ~(prefix_len ? ~0u << (32 - prefix_len) : 0);
        if (host == 0 || host == all_ones)
            return 0;
    }
    return 1;
}

/* Fills @o from the command line. Returns -1 when --help was printed,
 * 0 when the options are good, or an exit status after printing why not. */
static int parse(int argc, char **argv, struct serve_opts *o)
{
    const char *profile = NULL;
    /* --set is applied after --profile whatever the order, so keep them. */
    const char **sets = calloc((size_t)argc, sizeof(*sets));
    int n_sets = 0;
    if (!sets)
        return cli_fail("out of memory");
    int rc = 0;
    const char *gw_arg = NULL;

    opterr = 0;
    optind = 1;
    int c;
    while (!rc && (c = getopt_long(argc, argv, ":vqh", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_TAP:
            o->tap = optarg;
            break;
        case OPT_TUN:
            o->tun = optarg;
            break;
        case OPT_ADDR:
            o->addr_arg = optarg;
            if (cli_parse_cidr(optarg, &o->addr, &o->prefix_len) < 0)
                rc = cli_usage("--addr: '%s' is not an IPv4 address with prefix, "
                               "e.g. 192.0.2.2/24",
                               optarg);
            else if (!host_addr_ok(o->addr, o->prefix_len))
                rc = cli_usage("--addr: '%s' cannot be a host's address (zero, loopback, "
                               "multicast, reserved, or the subnet's network or broadcast "
                               "address)",
                               optarg);
            break;
        case OPT_GATEWAY:
            gw_arg = optarg;
            if (cli_parse_ip4(optarg, &o->gateway) < 0)
                rc = cli_usage("--gateway: '%s' is not an IPv4 address, e.g. 192.0.2.1",
                               optarg);
            break;
        case OPT_MAC:
            if (cli_parse_mac(optarg, o->mac) < 0)
                rc = cli_usage("--mac: '%s' is not a MAC address, e.g. 02:00:00:00:00:02",
                               optarg);
            else if (o->mac[0] & 1)
                rc = cli_usage("--mac: '%s' is a multicast address; the first byte must be "
                               "even, e.g. 02:00:00:00:00:02",
                               optarg);
            o->have_mac = 1;
            break;
        case OPT_MTU:
            if (cli_parse_u32(optarg, 576, 65535, &o->mtu) < 0)
                rc = cli_usage("--mtu: '%s' is not a number from 576 to 65535", optarg);
            break;
        case OPT_PCAP:
            o->pcap = optarg;
            break;
        case OPT_SET:
            sets[n_sets++] = optarg;
            break;
        case OPT_PROFILE:
            profile = optarg;
            break;
        case 'v':
            o->verbose = 1;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            cmd_serve_help(stdout);
            rc = -1;
            break;
        default:
            rc = cli_getopt_error(CMD, c, argc, argv);
            break;
        }
    }
    if (!rc && optind < argc)
        rc = cli_usage_cmd(CMD, "unexpected argument '%s'", argv[optind]);
    if (!rc && !!o->tap == !!o->tun)
        rc = cli_usage_cmd(CMD, o->tap ? "give --tap or --tun, not both"
                                       : "give a device: --tap NAME or --tun NAME");
    if (!rc)
        rc = check_ifname(o->tap ? "--tap" : "--tun", o->tap ? o->tap : o->tun);
    if (!rc && !o->addr_arg)
        rc = cli_usage_cmd(CMD, "--addr A.B.C.D/NN is required");
    if (!rc && o->have_mac && o->tun)
        rc = cli_usage_cmd(CMD, "--mac is for a TAP device; a TUN device has no MAC");
    if (!rc && o->gateway) {
        uint32_t mask = o->prefix_len ? ~0u << (32 - o->prefix_len) : 0;
        if ((o->gateway & mask) != (o->addr & mask))
            rc = cli_usage("--gateway: %s is not inside %s", gw_arg, o->addr_arg);
    }
    if (!rc && profile && sn_config_profile(&o->cfg, profile) < 0)
        rc = cli_usage("--profile: unknown profile '%s' (known: linux, rfc)", profile);
    for (int i = 0; !rc && i < n_sets; i++) {
        int err = sn_config_set(&o->cfg, sets[i]);
        if (err)
            rc = bad_set(sets[i], err);
    }
    free(sets);
    return rc;
}

/* Why a TAP/TUN device would not open, as one line. */
static int open_error(const char *kind, const char *name, int err)
{
    char eb[CLI_ERR_LEN];
    switch (err) {
    case -EPERM:
        return cli_fail("cannot open %s device %s: operation not permitted (run as root or "
                        "with CAP_NET_ADMIN)",
                        kind, name);
    case -EBUSY:
        return cli_fail("cannot open %s device %s: it is busy (another process has it open)",
                        kind, name);
    case -ENODEV:
        return cli_fail("cannot open %s device %s: /dev/net/tun is missing (modprobe tun)",
                        kind, name);
    case -EINVAL:
        return cli_fail("cannot open %s device %s: invalid argument (is there a device of "
                        "another kind with that name?)",
                        kind, name);
    default:
        return cli_fail("cannot open %s device %s: %s", kind, name, cli_strerror(err, eb));
    }
}

/* ---- services ----------------------------------------------------------
 *
 * The TCP services serve offers beside ARP and ping: echo (7), discard (9),
 * daytime (13), chargen (19) (tools/services.c). Sockets are driven by
 * their readiness callbacks, run from sn_stack_advance in the loop; a
 * service that needs per-iteration work can add a loop hook here.
 * Returns 0 or a negative errno. */
static int serve_services(struct sn_stack *s, struct sn_loop *lp, const struct serve_opts *o)
{
    (void)lp;
    (void)o;
    return services_start(s);
}

/* ---- signals ------------------------------------------------------------ */

static void print_counters(struct sn_stack *s)
{
    printf("synack counters:\n");
    sn_stack_print_stats(s, stdout, 0);
    fflush(stdout);
}

static void on_stop(struct sn_loop *lp, int signo, void *user)
{
    (void)user;
    log_debug("signal %d: stopping", signo);
    sn_loop_stop(lp);
}

static void on_usr1(struct sn_loop *lp, int signo, void *user)
{
    (void)signo;
    (void)user;
    print_counters(sn_loop_stack(lp));
}

static int run(const struct serve_opts *o)
{
    const char *kind = o->tap ? "TAP" : "TUN";
    const char *name = o->tap ? o->tap : o->tun;
    char eb[CLI_ERR_LEN];
    struct tuntap_opts to = {.name = name, .mtu = o->mtu};
    struct link *link = NULL;
    int err = o->tap ? tap_open(&to, &link) : tun_open(&to, &link);
    if (err)
        return open_error(kind, name, err);
    if (o->have_mac)
        memcpy(link->mac, o->mac, 6);
    if (o->pcap) {
        err = capture_wrap(link, o->pcap, &link); /* closes the device on failure */
        if (err)
            return cli_fail("--pcap: cannot write '%s': %s", o->pcap, cli_strerror(err, eb));
    }

    struct sn_stack_opts so = {
        .cfg = o->cfg,
        .link = link->kind == LINK_ETH ? SN_LINK_ETH : SN_LINK_IP,
        .addr = o->addr,
        .prefix_len = o->prefix_len,
        .gateway = o->gateway,
        .mtu = link->mtu,
    };
    memcpy(so.mac, link->mac, 6);
    struct sn_stack *stack = NULL;
    struct sn_loop *lp = NULL;
    int rc = CLI_EXIT_RUNTIME;
    err = sn_stack_new(&so, sn_clock_read(&clock_mono), &stack);
    if (err == -EINVAL && link->mtu < 576) {
        cli_fail("cannot start the stack on %s: its MTU %u is below 576 (use --mtu)",
                 link->name, link->mtu);
        goto out;
    }
    if (err) {
        cli_fail("cannot start the stack: %s (see the pool_* settings in synack serve --help)",
                 cli_strerror(err, eb));
        goto out;
    }
    err = sn_loop_new(link, stack, &clock_mono, &lp);
    if (!err)
        err = sn_loop_on_signal(lp, SIGINT, on_stop, NULL);
    if (!err)
        err = sn_loop_on_signal(lp, SIGTERM, on_stop, NULL);
    if (!err)
        err = sn_loop_on_signal(lp, SIGUSR1, on_usr1, NULL);
    if (err) {
        cli_fail("cannot set up the event loop: %s", cli_strerror(err, eb));
        goto out;
    }
    err = serve_services(stack, lp, o);
    if (err) {
        cli_fail("cannot start the services: %s", cli_strerror(err, eb));
        goto out;
    }

    char ip[CLI_IP4_LEN], mac[CLI_MAC_LEN], gw[CLI_IP4_LEN + 16] = "";
    if (o->gateway)
        snprintf(gw, sizeof(gw), ", gateway %s", cli_fmt_ip4(o->gateway, ip));
    if (!o->quiet) {
        if (link->kind == LINK_ETH)
            fprintf(stderr, "synack: serving %s/%u on %s (mac %s, mtu %u%s)%s%s\n",
                    cli_fmt_ip4(o->addr, ip), o->prefix_len, link->name,
                    cli_fmt_mac(link->mac, mac), link->mtu, gw, o->pcap ? ", capture " : "",
                    o->pcap ? o->pcap : "");
        else
            fprintf(stderr, "synack: serving %s/%u on %s (mtu %u%s)%s%s\n",
                    cli_fmt_ip4(o->addr, ip), o->prefix_len, link->name, link->mtu, gw,
                    o->pcap ? ", capture " : "", o->pcap ? o->pcap : "");
    }

    err = sn_loop_run(lp);
    if (err) {
        cli_fail("device %s failed: %s", link->name, cli_strerror(err, eb));
        print_counters(stack);
        goto out;
    }
    print_counters(stack);
    const struct sn_loop_stats *ls = sn_loop_stats(lp);
    log_debug("loop: %llu iterations, %llu fd wakeups, %llu timer wakeups, %llu signals",
              (unsigned long long)ls->iterations, (unsigned long long)ls->wakeups_fd,
              (unsigned long long)ls->wakeups_timer, (unsigned long long)ls->signals);
    rc = CLI_EXIT_OK;
out:
    sn_loop_free(lp);
    sn_stack_free(stack);
    link_close(link);
    return rc;
}

int cmd_serve_main(int argc, char **argv)
{
    struct serve_opts o;
    memset(&o, 0, sizeof(o));
    sn_config_defaults(&o.cfg);
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (o.verbose)
        log_threshold = LOG_DEBUG;
    else if (o.quiet)
        log_threshold = LOG_ERROR;
    return run(&o);
}
