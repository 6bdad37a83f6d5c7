/* tools/stackup.c: the options and the bring-up shared by the commands that
 * run a stack on a TAP or TUN device (see stackup.h). Owns the parsing of
 * --tap/--tun/--addr/..., the device and capture opening, and the one-line
 * messages for each way that can fail. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "tools/cli.h"
#include "tools/stackup.h"

void stackup_help_options(FILE *out)
{
    fprintf(out,
            "  --tap NAME            use (or create) TAP device NAME (Ethernet frames)\n"
            "  --tun NAME            use (or create) TUN device NAME (bare IPv4 packets)\n"
            "  --addr A.B.C.D/NN     the stack's IPv4 address and prefix (required)\n"
            "  --gateway A.B.C.D     default gateway, inside the --addr subnet\n"
            "  --mac XX:XX:XX:XX:XX:XX\n"
            "                        the stack's MAC on a TAP (default: a random locally\n"
            "                        administered one, printed at start)\n"
            "  --mtu N               set the device MTU (576..65535; default: keep it)\n"
            "  --pcap FILE           record every frame in and out to FILE (pcap)\n"
            "  --offload             IFF_VNET_HDR offloads: TCP checksums left to the kernel\n"
            "                        and 64 KiB TSO/GSO super-frames both ways (receive\n"
            "                        buffers are 64 KiB: pool_rx_offload_bufs of them; a\n"
            "                        --pcap then shows super-frames and unfilled checksums)\n"
            "  --set NAME=VALUE      change a setting (below); may be repeated\n"
            "  --profile NAME        start from a preset: linux (Linux-like ACK timing\n"
            "                        and window scale) or rfc (the defaults); --set wins\n"
            "  -v, --verbose         debug messages on stderr\n"
            "  -q, --quiet           only errors on stderr\n"
            "  -h, --help            this text\n");
}

void stackup_help_settings(FILE *out)
{
    fprintf(out, "settings for --set (NAME default [min..max] meaning):\n");
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
    OPT_OFFLOAD,
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
    {"offload", no_argument, NULL, OPT_OFFLOAD},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int bad_set(const char *cmd, const char *assignment, int err)
{
    if (err == -ERANGE)
        return cli_usage("--set: '%s' is out of range (synack %s --help lists the bounds)",
                         assignment, cmd);
    return cli_usage("--set: '%s' is not NAME=NUMBER with a known NAME (synack %s --help "
                     "lists them)",
                     assignment, cmd);
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

/* One option from getopt_long; returns 0 or an exit status. */
static int parse_one(struct stackup_opts *o, int c, const char **gw_arg)
{
    switch (c) {
    case OPT_TAP:
        o->tap = optarg;
        return 0;
    case OPT_TUN:
        o->tun = optarg;
        return 0;
    case OPT_ADDR:
        o->addr_arg = optarg;
        if (cli_parse_cidr(optarg, &o->addr, &o->prefix_len) < 0)
            return cli_usage("--addr: '%s' is not an IPv4 address with prefix, "
                             "e.g. 192.0.2.2/24",
                             optarg);
        if (!host_addr_ok(o->addr, o->prefix_len))
            return cli_usage("--addr: '%s' cannot be a host's address (zero, loopback, "
                             "multicast, reserved, or the subnet's network or broadcast "
                             "address)",
                             optarg);
        return 0;
    case OPT_GATEWAY:
        *gw_arg = optarg;
        if (cli_parse_ip4(optarg, &o->gateway) < 0)
            return cli_usage("--gateway: '%s' is not an IPv4 address, e.g. 192.0.2.1", optarg);
        return 0;
    case OPT_MAC:
        o->have_mac = 1;
        if (cli_parse_mac(optarg, o->mac) < 0)
            return cli_usage("--mac: '%s' is not a MAC address, e.g. 02:00:00:00:00:02",
                             optarg);
        if (o->mac[0] & 1)
            return cli_usage("--mac: '%s' is a multicast address; the first byte must be "
                             "even, e.g. 02:00:00:00:00:02",
                             optarg);
        return 0;
    case OPT_MTU:
        if (cli_parse_u32(optarg, 576, 65535, &o->mtu) < 0)
            return cli_usage("--mtu: '%s' is not a number from 576 to 65535", optarg);
        return 0;
    case OPT_PCAP:
        o->pcap = optarg;
        return 0;
    case OPT_OFFLOAD:
        o->offload = 1;
        return 0;
    case 'v':
        o->verbose = 1;
        return 0;
    case 'q':
        o->quiet = 1;
        return 0;
    }
    return 0;
}

/* The checks that need every option. Returns 0 or an exit status. */
static int check_all(const char *cmd, const struct stackup_opts *o, const char *gw_arg)
{
    if (!!o->tap == !!o->tun)
        return cli_usage_cmd(cmd, o->tap ? "give --tap or --tun, not both"
                                         : "give a device: --tap NAME or --tun NAME");
    int rc = check_ifname(o->tap ? "--tap" : "--tun", o->tap ? o->tap : o->tun);
    if (rc)
        return rc;
    if (!o->addr_arg)
        return cli_usage_cmd(cmd, "--addr A.B.C.D/NN is required");
    if (o->have_mac && o->tun)
        return cli_usage_cmd(cmd, "--mac is for a TAP device; a TUN device has no MAC");
    if (o->gateway) {
        uint32_t mask = o->prefix_len ? ~0u << (32 - o->prefix_len) : 0;
        if ((o->gateway & mask) != (o->addr & mask))
            return cli_usage("--gateway: %s is not inside %s", gw_arg, o->addr_arg);
    }
    return 0;
}

int stackup_parse(const char *cmd, void (*help)(FILE *out), int argc, char **argv,
                  struct stackup_opts *o)
{
    memset(o, 0, sizeof(*o));
    sn_config_defaults(&o->cfg);
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
        case OPT_SET:
            sets[n_sets++] = optarg;
            break;
        case OPT_PROFILE:
            profile = optarg;
            break;
        case 'h':
            help(stdout);
            rc = -1;
            break;
        case '?':
        case ':':
            rc = cli_getopt_error(cmd, c, argc, argv);
            break;
        default:
            rc = parse_one(o, c, &gw_arg);
            break;
        }
    }
    o->args = argv + optind; /* getopt_long moved the operands to the end */
    o->n_args = argc - optind;
    if (!rc)
        rc = check_all(cmd, o, gw_arg);
    if (!rc && profile && sn_config_profile(&o->cfg, profile) < 0)
        rc = cli_usage("--profile: unknown profile '%s' (known: linux, rfc)", profile);
    for (int i = 0; !rc && i < n_sets; i++) {
        int err = sn_config_set(&o->cfg, sets[i]);
        if (err)
            rc = bad_set(cmd, sets[i], err);
    }
    free(sets);
    if (o->verbose)
        log_threshold = LOG_DEBUG;
    else if (o->quiet)
        log_threshold = LOG_ERROR;
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

int stackup_start(const char *cmd, const struct stackup_opts *o, struct stackup *su)
{
    memset(su, 0, sizeof(*su));
    const char *kind = o->tap ? "TAP" : "TUN";
    const char *name = o->tap ? o->tap : o->tun;
    char eb[CLI_ERR_LEN];
    struct tuntap_opts to = {
        .name = name, .mtu = o->mtu, .vnet_hdr = o->offload, .multi_queue = o->multi_queue};
    int err = o->tap ? tap_open(&to, &su->link) : tun_open(&to, &su->link);
    if (err)
        return open_error(kind, name, err);
    struct link *link = su->dev = su->link;
    su->offload = tuntap_vnet_hdr(link);
    if (o->offload && !su->offload)
        log_warn("%s: the kernel refused IFF_VNET_HDR offloads; running without them", name);
    if (o->have_mac)
        memcpy(link->mac, o->mac, 6);
    if (o->impair) {
        err = impair_wrap(link, o->impair, &su->link); /* closes the device on failure */
        if (err) {
            su->link = NULL;
            return cli_fail("cannot set up the impairments: %s", cli_strerror(err, eb));
        }
        link = su->impair = su->link;
    }
    if (o->pcap) {
        err = capture_wrap(link, o->pcap, &su->link); /* closes the device on failure */
        if (err) {
            su->link = NULL;
            return cli_fail("--pcap: cannot write '%s': %s", o->pcap, cli_strerror(err, eb));
        }
        link = su->link;
    }

    struct sn_stack_opts so = {
        .cfg = o->cfg,
        .link = link->kind == LINK_ETH ? SN_LINK_ETH : SN_LINK_IP,
        .addr = o->addr,
        .prefix_len = o->prefix_len,
        .gateway = o->gateway,
        .mtu = link->mtu,
        .offload = su->offload ? SN_OFFLOAD_CSUM | SN_OFFLOAD_TSO : 0,
    };
    memcpy(so.mac, link->mac, 6);
    err = sn_stack_new(&so, sn_clock_read(&clock_mono), &su->stack);
    if (err == -EINVAL && link->mtu < 576) {
        cli_fail("cannot start the stack on %s: its MTU %u is below 576 (use --mtu)",
                 link->name, link->mtu);
        goto fail;
    }
    if (err) {
        cli_fail("cannot start the stack: %s (see the pool_* settings in synack %s --help)",
                 cli_strerror(err, eb), cmd);
        goto fail;
    }
    err = sn_loop_new(link, su->stack, &clock_mono, &su->lp);
    if (err) {
        cli_fail("cannot set up the event loop: %s", cli_strerror(err, eb));
        goto fail;
    }
    return 0;
fail:
    stackup_stop(su);
    return CLI_EXIT_RUNTIME;
}

const char *stackup_describe(const struct stackup *su, const struct stackup_opts *o, char *buf,
                             size_t cap)
{
    const struct link *link = su->link;
    char ip[CLI_IP4_LEN], mac[CLI_MAC_LEN + 8] = "", gw[CLI_IP4_LEN + 16] = "";
    if (o->gateway) {
        char g[CLI_IP4_LEN];
        snprintf(gw, sizeof(gw), ", gateway %s", cli_fmt_ip4(o->gateway, g));
    }
    if (link->kind == LINK_ETH) {
        char m[CLI_MAC_LEN];
        snprintf(mac, sizeof(mac), "mac %s, ", cli_fmt_mac(link->mac, m));
    }
    snprintf(buf, cap, "%s/%u on %s (%smtu %u%s%s)%s%s", cli_fmt_ip4(o->addr, ip), o->prefix_len,
             link->name, mac, link->mtu, gw, su->offload ? ", offload" : "",
             o->pcap ? ", capture " : "", o->pcap ? o->pcap : "");
    return buf;
}

void stackup_print_counters(struct sn_stack *s, FILE *out)
{
    fprintf(out, "synack counters:\n");
    sn_stack_print_stats(s, out, 0);
    fflush(out);
}

void stackup_log_loop_stats(const struct stackup *su)
{
    const struct sn_loop_stats *ls = sn_loop_stats(su->lp);
    log_debug("loop: %llu iterations, %llu fd wakeups, %llu timer wakeups, %llu signals",
              (unsigned long long)ls->iterations, (unsigned long long)ls->wakeups_fd,
              (unsigned long long)ls->wakeups_timer, (unsigned long long)ls->signals);
}

void stackup_stop(struct stackup *su)
{
    sn_loop_free(su->lp);
    /* The link first: frames held in an impairment's delay line belong to
     * the stack's pools. */
    if (su->link)
        link_close(su->link);
    sn_stack_free(su->stack);
    memset(su, 0, sizeof(*su));
}
