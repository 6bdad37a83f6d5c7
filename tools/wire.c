/* tools/wire.c: `synack wire`: a user-space bridge between two TAP devices
 * that forwards every frame both ways through the impairment layer, a
 * netem for machines without one. No stack: frames go from one device's
 * link to the other's, driven by epoll on the two fds and by the delay
 * line's next deadline. Each device may be created inside a network
 * namespace of its own (setns around the open: the fd keeps working from
 * here), so two kernels can talk through it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "api/loop.h"
#include "core/log.h"
#include "core/rng.h"
#include "link/link.h"
#include "tools/cli.h"
#include "tools/impair_opts.h"

#define CMD "wire"
#define BATCH 64
#define POOL_BUFS 8192

struct wire_opts {
    const char *a, *b;             /* TAP device names */
    const char *a_netns, *b_netns; /* namespace names or paths, or NULL */
    uint32_t mtu;
    struct impair_params imp;
    bool imp_given;
    uint64_t seed;
    bool seed_given;
    const char *pcap_a, *pcap_b;
    int verbose, quiet;
};

void cmd_wire_help(FILE *out)
{
    fprintf(out,
            "usage: synack wire --a TAP1 --b TAP2 [--a-netns NS] [--b-netns NS] [IMPAIRMENTS]\n"
            "\n"
            "Bridges two TAP devices in user space: every Ethernet frame the kernel sends\n"
            "on one comes out of the other, through synack's impairment layer (loss,\n"
            "reordering, duplication, corruption, delay, rate limit: a netem for machines\n"
            "without one). No stack runs here; the two kernels talk to each other. A device\n"
            "that does not exist is created (and removed at exit); with --a-netns or\n"
            "--b-netns it is created inside that network namespace (a name under\n"
            "/var/run/netns, as `ip netns add` makes, or a path such as /proc/PID/ns/net),\n"
            "so two namespaces can be joined by an impaired wire:\n"
            "\n"
            "  ip netns add left; ip netns add right\n"
            "  synack wire --a wl0 --a-netns left --b wr0 --b-netns right --loss 5 --delay 20 &\n"
            "  ip -n left addr add 192.0.2.1/24 dev wl0; ip -n left link set wl0 up\n"
            "  ip -n right addr add 192.0.2.2/24 dev wr0; ip -n right link set wr0 up\n"
            "  ip netns exec left ping 192.0.2.2\n"
            "\n"
            "Runs until SIGINT or SIGTERM, then prints its counters on stdout and exits 0;\n"
            "SIGUSR1 prints them and carries on. Needs root or CAP_NET_ADMIN (and\n"
            "CAP_SYS_ADMIN for the namespaces).\n"
            "\n"
            "options:\n"
            "  --a NAME, --b NAME    the two TAP devices (required)\n"
            "  --a-netns NS          create/open --a inside namespace NS\n"
            "  --b-netns NS          create/open --b inside namespace NS\n"
            "  --mtu N               set both devices' MTU (576..65535; default: keep it)\n"
            "  --impair-seed S       seed of the impairment decisions (default: random,\n"
            "                        printed at start, so a run can be repeated)\n"
            "  --pcap-a FILE         record the frames on the --a side (after impairment\n"
            "                        toward a, before it from a)\n"
            "  --pcap-b FILE         record the frames on the --b side\n"
            "  -v, --verbose         debug messages on stderr\n"
            "  -q, --quiet           only errors on stderr\n"
            "  -h, --help            this text\n"
            "\n"
            "impairments (both directions, each from its own random stream):\n");
    impair_opts_help(out);
    fprintf(out, "\nexit status: 0 stopped by a signal, 1 runtime error, 2 bad command line\n");
}

enum { OPT_A = 256, OPT_B, OPT_A_NETNS, OPT_B_NETNS, OPT_MTU, OPT_SEED, OPT_PCAP_A, OPT_PCAP_B };

static const struct option long_opts[] = {
    {"a", required_argument, NULL, OPT_A},
    {"b", required_argument, NULL, OPT_B},
    {"a-netns", required_argument, NULL, OPT_A_NETNS},
    {"b-netns", required_argument, NULL, OPT_B_NETNS},
    {"mtu", required_argument, NULL, OPT_MTU},
    {"impair-seed", required_argument, NULL, OPT_SEED},
    {"pcap-a", required_argument, NULL, OPT_PCAP_A},
    {"pcap-b", required_argument, NULL, OPT_PCAP_B},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    IMPAIR_LONG_OPTS,
    {NULL, 0, NULL, 0},
};

static int check_ifname(const char *opt, const char *name)
{
    if (!name[0] || strlen(name) >= IFNAMSIZ || strchr(name, '/') || strchr(name, ' '))
        return cli_usage("%s: '%s' is not a device name (1 to %d characters, no '/' or spaces)",
                         opt, name, IFNAMSIZ - 1);
    return 0;
}

static int parse(int argc, char **argv, struct wire_opts *o)
{
    opterr = 0;
    optind = 1;
    int c, rc = 0;
    while (!rc && (c = getopt_long(argc, argv, ":vqh", long_opts, NULL)) != -1) {
        if (impair_opt_is(c)) {
            rc = impair_opt_apply(c, optarg, &o->imp);
            o->imp_given = true;
            continue;
        }
        switch (c) {
        case OPT_A:
            o->a = optarg;
            rc = check_ifname("--a", optarg);
            break;
        case OPT_B:
            o->b = optarg;
            rc = check_ifname("--b", optarg);
            break;
        case OPT_A_NETNS:
            o->a_netns = optarg;
            break;
        case OPT_B_NETNS:
            o->b_netns = optarg;
            break;
        case OPT_MTU:
            if (cli_parse_u32(optarg, 576, 65535, &o->mtu) < 0)
                rc = cli_usage("--mtu: '%s' is not a number from 576 to 65535", optarg);
            break;
        case OPT_SEED: {
            char *e;
            errno = 0;
            unsigned long long v = strtoull(optarg, &e, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || *e || errno)
                rc = cli_usage("--impair-seed: '%s' is not a number", optarg);
            o->seed = v;
            o->seed_given = true;
            break;
        }
        case OPT_PCAP_A:
            o->pcap_a = optarg;
            break;
        case OPT_PCAP_B:
            o->pcap_b = optarg;
            break;
        case 'v':
            o->verbose = 1;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            cmd_wire_help(stdout);
            rc = -1;
            break;
        default:
            rc = cli_getopt_error(CMD, c, argc, argv);
            break;
        }
    }
    if (!rc && optind < argc)
        rc = cli_usage_cmd(CMD, "unexpected argument '%s'", argv[optind]);
    if (!rc && (!o->a || !o->b))
        rc = cli_usage_cmd(CMD, "give both devices: --a TAP1 --b TAP2");
    if (!rc && strcmp(o->a, o->b) == 0 &&
        (o->a_netns ? o->b_netns && strcmp(o->a_netns, o->b_netns) == 0 : !o->b_netns))
        rc = cli_usage_cmd(CMD, "--a and --b name the same device");
    return rc;
}

/* ---- opening a TAP inside a namespace ------------------------------------ */

static int open_ns(const char *ns)
{
    char path[512];
    if (strchr(ns, '/'))
        snprintf(path, sizeof(path), "%s", ns);
    else
        snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* Opens TAP @name, inside namespace @ns when given: this thread enters it,
 * opens (creating and bringing up the device there), and comes back. */
static int tap_in_ns(const char *name, const char *ns, uint32_t mtu, struct link **out)
{
    char eb[CLI_ERR_LEN];
    int home = -1, there = -1, err;
    if (ns) {
        home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (home < 0)
            return cli_fail("cannot open /proc/self/ns/net: %s", cli_strerror(-errno, eb));
        there = open_ns(ns);
        if (there < 0) {
            close(home);
            return cli_fail("cannot open network namespace '%s': %s (ip netns list shows them)",
                            ns, cli_strerror(there, eb));
        }
        if (setns(there, CLONE_NEWNET) < 0) {
            err = -errno;
            close(home);
            close(there);
            return cli_fail("cannot enter network namespace '%s': %s (needs CAP_SYS_ADMIN)", ns,
                            cli_strerror(err, eb));
        }
    }
    struct tuntap_opts to = {.name = name, .mtu = mtu};
    err = tap_open(&to, out);
    if (ns) {
        if (setns(home, CLONE_NEWNET) < 0) {
            int e2 = -errno;
            close(home);
            close(there);
            if (!err)
                link_close(*out);
            return cli_fail("cannot return to our own network namespace: %s",
                            cli_strerror(e2, eb));
        }
        close(home);
        close(there);
    }
    if (err == -EPERM)
        return cli_fail("cannot open TAP device %s: operation not permitted (run as root or "
                        "with CAP_NET_ADMIN)",
                        name);
    if (err)
        return cli_fail("cannot open TAP device %s%s%s: %s", name, ns ? " in " : "",
                        ns ? ns : "", cli_strerror(err, eb));
    return 0;
}

/* ---- the bridge ------------------------------------------------------------ */

struct side {
    const char *label;
    struct link *l;
    uint64_t frames, bytes, refused; /* frames taken from this side and sent on */
};

/* Moves what @from has now to @to. Returns frames moved, or a negative
 * errno from the device. */
static int forward(struct side *from, struct side *to, struct pkt_pool *pool, sn_time now)
{
    struct pkt *batch[BATCH];
    int total = 0;
    for (int rounds = 0; rounds < 16; rounds++) {
        int n = link_recv(from->l, pool, batch, BATCH, now);
        if (n < 0)
            return total ? total : n;
        if (n == 0)
            break;
        for (int i = 0; i < n; i++)
            from->bytes += batch[i]->len;
        int r = link_send(to->l, batch, n, now); /* consumes all n */
        from->frames += (uint64_t)n;
        if (r < n)
            from->refused += (uint64_t)(n - (r < 0 ? 0 : r));
        total += n;
    }
    return total;
}

static void print_counters(const struct wire_opts *o, const struct side *a, const struct side *b,
                           const struct link *imp)
{
    char ta[64], tb[64];
    snprintf(ta, sizeof(ta), "%s->%s", o->a, o->b);
    snprintf(tb, sizeof(tb), "%s->%s", o->b, o->a);
    printf("synack wire counters:\n"
           "  %s: %" PRIu64 " frames (%" PRIu64 " bytes) forwarded, %" PRIu64
           " refused by the device\n"
           "  %s: %" PRIu64 " frames (%" PRIu64 " bytes) forwarded, %" PRIu64
           " refused by the device\n",
           ta, a->frames, a->bytes, a->refused, tb, b->frames, b->bytes, b->refused);
    /* The impairment wraps the --a device: RX is a->b, TX is b->a. */
    impair_stats_print(stdout, ta, impair_stats(imp, IMPAIR_RX));
    impair_stats_print(stdout, tb, impair_stats(imp, IMPAIR_TX));
    fflush(stdout);
}

static int signal_fd(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    if (sigprocmask(SIG_BLOCK, &set, old) < 0)
        return -errno;
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static int run(const struct wire_opts *o)
{
    char eb[CLI_ERR_LEN];
    struct link *la = NULL, *lb = NULL, *imp = NULL;
    struct pkt_pool *pool = NULL;
    int rc = CLI_EXIT_RUNTIME, sfd = -1, epfd = -1;
    sigset_t old_mask;

    if (tap_in_ns(o->a, o->a_netns, o->mtu, &la))
        return CLI_EXIT_RUNTIME;
    if (tap_in_ns(o->b, o->b_netns, o->mtu, &lb)) {
        link_close(la);
        return CLI_EXIT_RUNTIME;
    }
    uint32_t mtu = la->mtu > lb->mtu ? la->mtu : lb->mtu;
    /* A frame is the MTU, an Ethernet header and room for a VLAN tag. */
    pool = pkt_pool_new("wire", POOL_BUFS, mtu + 18 + PKT_HEADROOM);
    if (!pool) {
        cli_fail("out of memory for %u frame buffers", POOL_BUFS);
        goto out;
    }
    struct impair_cfg ic = {.seed = o->seed};
    ic.dir[IMPAIR_TX] = o->imp;
    ic.dir[IMPAIR_RX] = o->imp;
    int err = impair_wrap(la, &ic, &imp); /* closes la on failure */
    la = NULL;
    if (err) {
        cli_fail("cannot set up the impairments: %s", cli_strerror(err, eb));
        goto out;
    }
    /* From here the two sides own everything: a.l the impairment (and the
     * --a device inside it), b.l the --b device; captures wrap them. */
    struct side a = {.label = o->a, .l = imp}, b = {.label = o->b, .l = lb};
    const struct link *counters = imp; /* the impairment, inside a.l */
    imp = lb = NULL;
    if (o->pcap_a && (err = capture_wrap(a.l, o->pcap_a, &a.l)) != 0) {
        a.l = NULL; /* closed by capture_wrap */
        cli_fail("--pcap-a: cannot write '%s': %s", o->pcap_a, cli_strerror(err, eb));
        goto close_links;
    }
    if (o->pcap_b && (err = capture_wrap(b.l, o->pcap_b, &b.l)) != 0) {
        b.l = NULL;
        cli_fail("--pcap-b: cannot write '%s': %s", o->pcap_b, cli_strerror(err, eb));
        goto close_links;
    }

    sfd = signal_fd(&old_mask);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (sfd < 0 || epfd < 0) {
        cli_fail("cannot set up signals and epoll: %s", cli_strerror(sfd < 0 ? sfd : -errno, eb));
        goto close_links;
    }
    int fds[3] = {link_fd(a.l), link_fd(b.l), sfd};
    for (int i = 0; i < 3; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fds[i], &ev) < 0) {
            cli_fail("epoll_ctl: %s", cli_strerror(-errno, eb));
            goto close_links;
        }
    }
    if (!o->quiet) {
        char opts[512];
        const char *io = impair_opts_format(&o->imp, opts, sizeof(opts));
        fprintf(stderr,
                "synack: wire %s%s%s <-> %s%s%s (mtu %u), impairments: %s, impair seed %" PRIu64
                "\n",
                o->a, o->a_netns ? " in " : "", o->a_netns ? o->a_netns : "", o->b,
                o->b_netns ? " in " : "", o->b_netns ? o->b_netns : "", mtu,
                io[0] ? io : "none", o->seed);
    }

    for (;;) {
        sn_time now = clock_mono_now(NULL);
        int ra = forward(&a, &b, pool, now);
        int rb = forward(&b, &a, pool, now);
        if (ra < 0 || rb < 0) {
            cli_fail("device %s failed: %s", ra < 0 ? o->a : o->b,
                     cli_strerror(ra < 0 ? ra : rb, eb));
            print_counters(o, &a, &b, counters);
            goto close_links;
        }
        sn_time deadline = link_next_deadline(a.l);
        sn_time d2 = link_next_deadline(b.l);
        if (d2 < deadline)
            deadline = d2;
        int timeout = sn_loop_timeout_ms(clock_mono_now(NULL), deadline);
        struct epoll_event evs[3];
        int n = epoll_wait(epfd, evs, 3, timeout);
        if (n < 0 && errno != EINTR) {
            cli_fail("epoll_wait: %s", cli_strerror(-errno, eb));
            goto close_links;
        }
        bool stop = false;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u32 != 2)
                continue;
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGUSR1)
                    print_counters(o, &a, &b, counters);
                else
                    stop = true;
            }
        }
        if (stop)
            break;
    }
    print_counters(o, &a, &b, counters);
    rc = CLI_EXIT_OK;
close_links:
    link_close(a.l);
    link_close(b.l);
    if (sfd >= 0) {
        close(sfd);
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
    }
    if (epfd >= 0)
        close(epfd);
    pkt_pool_destroy(pool);
    return rc;
out:
    link_close(la);
    link_close(imp);
    link_close(lb);
    pkt_pool_destroy(pool);
    return rc;
}

int cmd_wire_main(int argc, char **argv)
{
    struct wire_opts o;
    memset(&o, 0, sizeof(o));
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (!o.seed_given) {
        uint64_t t = (uint64_t)clock_mono_now(NULL) ^ ((uint64_t)getpid() << 32);
        o.seed = rng_splitmix(&t);
    }
    if (o.verbose)
        log_threshold = LOG_DEBUG;
    else if (o.quiet)
        log_threshold = LOG_ERROR;
    return run(&o);
}
