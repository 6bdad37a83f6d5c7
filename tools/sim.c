/* tools/sim.c: `synack sim`: runs seeded simulator scenarios (sim/sim.h),
 * one after another or spread over worker processes, or a grid of
 * impairments with goodput and retransmissions per cell. A failing seed
 * is printed with the command that replays it. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "sim/sim.h"
#include "tools/cli.h"
#include "tools/impair_opts.h"

#define CMD "sim"
#define MAX_JOBS 256

struct sim_cli {
    uint64_t first;
    uint64_t n_seeds;
    bool seeds_given, seed_given;
    bool grid;
    bool imp_given; /* any impairment option: fixed for every seed */
    struct impair_params imp;
    uint64_t max_bytes;
    const char *pcap;
    int verbose;
    int quiet;
    uint32_t jobs;
    char exe[PATH_MAX];
};

void cmd_sim_help(FILE *out)
{
    fprintf(out,
            "usage: synack sim [--seeds N] [--seed S] [--grid] [IMPAIRMENTS] [OPTIONS]\n"
            "\n"
            "Runs deterministic simulations: two synack stacks in one process, joined by a\n"
            "memory link through the impairment layer, on a virtual clock that jumps to the\n"
            "next deadline (nothing sleeps). Each seed is one scenario: connections opened\n"
            "both ways, random data of random sizes both ways, half-closes, slow readers,\n"
            "varied stack settings. A seed passes when every byte arrived once and in order,\n"
            "every connection closed through TIME-WAIT or CLOSED, nothing got stuck within\n"
            "the virtual-time bound, and no packet buffer leaked. A failing seed is printed\n"
            "with the exact command that replays it; add -v (events and the state of every\n"
            "connection) and --pcap FILE to look at it.\n"
            "\n"
            "Without impairment options each seed draws its own mix (loss up to 10 %%, some\n"
            "bursty, reordering, duplication, corruption, delay up to 100 ms with jitter,\n"
            "sometimes a rate limit); with any of them, every seed gets exactly those (the\n"
            "others are off).\n"
            "\n"
            "  synack sim --seeds 2000 -j 4          # seeds 1..2000 on 4 processes\n"
            "  synack sim --seed 1234 -v --pcap 1234.pcap\n"
            "  synack sim --seeds 1000000 -j $(nproc) -q   # the long soak\n"
            "  synack sim --grid --seeds 20          # the impairment grid\n"
            "\n"
            "options:\n"
            "  --seeds N             run N seeds (default 100; with --seed, 1)\n"
            "  --seed S              the first seed (default 1)\n"
            "  --grid                run every cell of a grid of impairments on the same N\n"
            "                        seeds (default 10) and print goodput and\n"
            "                        retransmissions per cell\n"
            "  --bytes N             at most N bytes per connection and direction\n"
            "                        (default 262144)\n"
            "  --pcap FILE           write stack A's view of the run to FILE (one seed only)\n"
            "  -j, --jobs N          run seeds on N processes (default: one per CPU from\n"
            "                        50 seeds on, else 1)\n"
            "  -v, --verbose         print every connection event, and on failure the state\n"
            "                        of every connection\n"
            "  -q, --quiet           print only failures and the summary\n"
            "  -h, --help            this text\n"
            "\n"
            "impairments (both directions):\n");
    impair_opts_help(out);
    fprintf(out, "\n"
                 "exit status: 0 every seed passed, 1 a seed failed, 2 bad command line\n");
}

enum { OPT_SEEDS = 256, OPT_SEED, OPT_GRID, OPT_BYTES, OPT_PCAP };

static const struct option long_opts[] = {
    {"seeds", required_argument, NULL, OPT_SEEDS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"grid", no_argument, NULL, OPT_GRID},
    {"bytes", required_argument, NULL, OPT_BYTES},
    {"pcap", required_argument, NULL, OPT_PCAP},
    {"jobs", required_argument, NULL, 'j'},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    IMPAIR_LONG_OPTS,
    {NULL, 0, NULL, 0},
};

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *e;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno || *e || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Returns -1 when --help was printed, 0 when good, or an exit status. */
static int parse(int argc, char **argv, struct sim_cli *o)
{
    opterr = 0;
    optind = 1;
    int c, rc = 0;
    while (!rc && (c = getopt_long(argc, argv, ":j:vqh", long_opts, NULL)) != -1) {
        if (impair_opt_is(c)) {
            rc = impair_opt_apply(c, optarg, &o->imp);
            o->imp_given = true;
            continue;
        }
        switch (c) {
        case OPT_SEEDS:
            if (parse_u64(optarg, 1, UINT64_MAX / 2, &o->n_seeds) < 0)
                rc = cli_usage("--seeds: '%s' is not a number of seeds (1 or more)", optarg);
            o->seeds_given = true;
            break;
        case OPT_SEED:
            if (parse_u64(optarg, 0, UINT64_MAX / 2, &o->first) < 0)
                rc = cli_usage("--seed: '%s' is not a seed (a number from 0)", optarg);
            o->seed_given = true;
            break;
        case OPT_GRID:
            o->grid = true;
            break;
        case OPT_BYTES:
            if (parse_u64(optarg, 1, 1ULL << 32, &o->max_bytes) < 0)
                rc = cli_usage("--bytes: '%s' is not a number of bytes from 1 to 4294967296",
                               optarg);
            break;
        case OPT_PCAP:
            o->pcap = optarg;
            break;
        case 'j': {
            uint32_t j;
            if (cli_parse_u32(optarg, 1, MAX_JOBS, &j) < 0)
                rc = cli_usage("--jobs: '%s' is not a number from 1 to %d", optarg, MAX_JOBS);
            o->jobs = j;
            break;
        }
        case 'v':
            o->verbose = 1;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            cmd_sim_help(stdout);
            rc = -1;
            break;
        default:
            rc = cli_getopt_error(CMD, c, argc, argv);
            break;
        }
    }
    if (!rc && optind < argc)
        rc = cli_usage_cmd(CMD, "unexpected argument '%s'", argv[optind]);
    if (!rc && !o->seeds_given)
        o->n_seeds = o->grid ? 10 : o->seed_given ? 1 : 100;
    if (!rc && !o->seed_given)
        o->first = 1;
    if (!rc && o->pcap && (o->n_seeds != 1 || o->grid))
        rc = cli_usage_cmd(CMD, "--pcap records one seed: give --seed S without --seeds or --grid");
    if (!rc && o->grid && o->imp_given)
        rc = cli_usage_cmd(CMD, "--grid chooses the impairments itself; drop the impairment "
                                "options");
    if (!rc && !o->jobs && !o->verbose && o->n_seeds >= 50) {
        long n = sysconf(_SC_NPROCESSORS_ONLN); /* many seeds: every core by default */
        o->jobs = n < 1 ? 1 : n > MAX_JOBS ? MAX_JOBS : (uint32_t)n;
    }
    if (!rc && o->verbose && o->jobs > 1)
        rc = cli_usage_cmd(CMD, "-v prints one run's events: use it without -j");
    return rc;
}

/* The path to print in replay commands: this very binary, relative to the
 * current directory when it lies below it. */
static void find_exe(char exe[PATH_MAX])
{
    char path[PATH_MAX], cwd[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
    if (n <= 0) {
        strcpy(exe, "synack");
        return;
    }
    path[n] = 0;
    size_t cl;
    if (getcwd(cwd, sizeof(cwd)) && (cl = strlen(cwd)) > 1 && strncmp(path, cwd, cl) == 0 &&
        path[cl] == '/')
        snprintf(exe, PATH_MAX, "%s", path + cl + 1);
    else
        snprintf(exe, PATH_MAX, "%s", path);
}

/* ---- running seeds --------------------------------------------------------- */

struct totals {
    uint64_t seeds, failed, errors;
    uint64_t bytes, retrans, rto, fast, csum_drops, conns;
    sn_time t_data; /* summed over seeds */
    sn_time t_end;
    uint64_t lost, dup, corrupted, reordered, rate_dropped, frames;
};

static void totals_add(struct totals *t, const struct totals *u)
{
    t->seeds += u->seeds;
    t->failed += u->failed;
    t->errors += u->errors;
    t->bytes += u->bytes;
    t->retrans += u->retrans;
    t->rto += u->rto;
    t->fast += u->fast;
    t->csum_drops += u->csum_drops;
    t->conns += u->conns;
    t->t_data += u->t_data;
    t->t_end += u->t_end;
    t->lost += u->lost;
    t->dup += u->dup;
    t->corrupted += u->corrupted;
    t->reordered += u->reordered;
    t->rate_dropped += u->rate_dropped;
    t->frames += u->frames;
}

/* Prints a failure as one write, so that workers' reports do not mix. */
static void report_failure(const struct sim_cli *o, uint64_t seed, const struct impair_params *imp,
                           const char *why)
{
    char opts[512], bytes[48] = "", line[2048];
    const char *io = impair_opts_format(imp, opts, sizeof(opts));
    if (!io[0])
        io = "--loss 0"; /* fixed: no impairment at all */
    if (o->max_bytes)
        snprintf(bytes, sizeof(bytes), " --bytes %" PRIu64, o->max_bytes);
    int n = snprintf(line, sizeof(line),
                     "FAIL seed %" PRIu64 ": %s\n  replay: %s sim --seed %" PRIu64 " %s%s\n"
                     "  (add -v for the events and every connection's state, --pcap FILE for "
                     "a capture)\n",
                     seed, why, o->exe, seed, io, bytes);
    fflush(stdout);
    size_t len = n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1;
    ssize_t w = write(STDOUT_FILENO, line, len);
    (void)w;
}

static void run_seed(const struct sim_cli *o, uint64_t seed, const struct impair_params *fixed,
                     struct totals *t)
{
    struct sim_opts so = {
        .seed = seed,
        .max_bytes = o->max_bytes,
        .pcap = o->pcap,
        .log = o->verbose ? stdout : NULL,
        .diag = o->verbose ? stdout : NULL,
    };
    if (fixed)
        so.imp = *fixed;
    else
        sim_draw_impair(seed, &so.imp);
    struct sim_result r;
    int err = sim_run(&so, &r);
    t->seeds++;
    if (err) {
        char eb[CLI_ERR_LEN], why[256];
        snprintf(why, sizeof(why), "could not set up the run: %s", cli_strerror(err, eb));
        report_failure(o, seed, &so.imp, why);
        t->failed++;
        t->errors++;
        return;
    }
    if (!r.ok) {
        report_failure(o, seed, &so.imp, r.why);
        t->failed++;
    }
    t->bytes += r.bytes;
    t->retrans += r.retrans;
    t->rto += r.rto_timeouts;
    t->fast += r.fast_retrans;
    t->csum_drops += r.csum_drops;
    t->conns += r.conns;
    t->t_data += r.t_data;
    t->t_end += r.t_end;
    for (int d = 0; d < 2; d++) {
        t->lost += r.imp[d].lost;
        t->dup += r.imp[d].duplicated;
        t->corrupted += r.imp[d].corrupted;
        t->reordered += r.imp[d].reordered;
        t->rate_dropped += r.imp[d].rate_dropped;
        t->frames += r.imp[d].frames_in;
    }
    if (o->verbose) {
        char opts[512];
        printf("seed %" PRIu64 ": %s; %u connections, %" PRIu64 " bytes by %.3f s virtual, "
               "ended at %.3f s; %" PRIu64 " retransmissions (%" PRIu64 " timeouts, %" PRIu64
               " fast), %" PRIu64 " checksum drops\n  impairments: %s\n",
               seed, r.ok ? "ok" : "FAILED", r.conns, r.bytes, (double)r.t_data / 1e6,
               (double)r.t_end / 1e6, r.retrans, r.rto_timeouts, r.fast_retrans, r.csum_drops,
               impair_opts_format(&so.imp, opts, sizeof(opts)));
        impair_stats_print(stdout, "A->B", &r.imp[0]);
        impair_stats_print(stdout, "B->A", &r.imp[1]);
    }
}

/* Seeds first .. first+n-1 (interleaved over the workers, so slow seeds
 * spread out); @fixed NULL: each seed draws its mix. */
static int run_seeds(const struct sim_cli *o, uint64_t first, uint64_t n,
                     const struct impair_params *fixed, struct totals *t)
{
    memset(t, 0, sizeof(*t));
    uint32_t jobs = o->jobs ? o->jobs : 1;
    if (jobs > n)
        jobs = (uint32_t)n;
    if (jobs <= 1) {
        for (uint64_t i = 0; i < n; i++)
            run_seed(o, first + i, fixed, t);
        return 0;
    }
    int fds[MAX_JOBS];
    pid_t pids[MAX_JOBS];
    fflush(stdout);
    fflush(stderr);
    for (uint32_t w = 0; w < jobs; w++) {
        int p[2];
        if (pipe(p) < 0)
            return -errno;
        pid_t pid = fork();
        if (pid < 0)
            return -errno;
        if (pid == 0) {
            close(p[0]);
            struct totals mine;
            memset(&mine, 0, sizeof(mine));
            for (uint64_t i = w; i < n; i += jobs)
                run_seed(o, first + i, fixed, &mine);
            fflush(stdout);
            ssize_t wr = write(p[1], &mine, sizeof(mine));
            _exit(wr == (ssize_t)sizeof(mine) ? 0 : 1);
        }
        close(p[1]);
        fds[w] = p[0];
        pids[w] = pid;
    }
    int rc = 0;
    for (uint32_t w = 0; w < jobs; w++) {
        struct totals u;
        ssize_t got = 0, k;
        while (got < (ssize_t)sizeof(u) &&
               (k = read(fds[w], (char *)&u + got, sizeof(u) - (size_t)got)) > 0)
            got += k;
        close(fds[w]);
        int status;
        waitpid(pids[w], &status, 0);
        if (got != (ssize_t)sizeof(u) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            if (WIFSIGNALED(status))
                fprintf(stdout, "FAIL worker %u (seeds %" PRIu64 " + %u*k) died of signal %d; "
                                "run its seeds with -j 1 to find which\n",
                        w, first + w, jobs, WTERMSIG(status));
            else
                fprintf(stdout, "FAIL worker %u died without reporting\n", w);
            u.seeds = u.failed = 1;
            rc = 1;
        }
        totals_add(t, &u);
    }
    return rc;
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_summary(const struct totals *t, double wall)
{
    printf("sim: %" PRIu64 " seeds, %" PRIu64 " failed; %" PRIu64 " connections, %.1f MB "
           "delivered; %" PRIu64 " retransmissions (%" PRIu64 " timeouts, %" PRIu64
           " fast); %" PRIu64 " corrupted frames caught by checksums; %.0f s virtual in "
           "%.1f s\n",
           t->seeds, t->failed, t->conns, (double)t->bytes / 1e6, t->retrans, t->rto, t->fast,
           t->csum_drops, (double)t->t_end / 1e6, wall);
}

/* ---- the grid ------------------------------------------------------------------ */

struct cell {
    const char *name;
    struct impair_params p;
};

#define PCT(x) ((double)(x) / 100)

static uint32_t grid_cells(struct cell *cells)
{
    static const double losses[] = {0, 1, 5, 10, 20};
    static const uint32_t delays_ms[] = {1, 10, 50, 200};
    static char names[64][48];
    uint32_t n = 0;
    for (size_t i = 0; i < sizeof(losses) / sizeof(losses[0]); i++)
        for (size_t j = 0; j < sizeof(delays_ms) / sizeof(delays_ms[0]); j++) {
            struct cell *c = &cells[n];
            memset(c, 0, sizeof(*c));
            c->p.loss = PCT(losses[i]);
            c->p.delay_us = SN_MSEC(delays_ms[j]);
            snprintf(names[n], sizeof(names[n]), "loss %g%% delay %u ms", losses[i], delays_ms[j]);
            c->name = names[n++];
        }
    static const double pcts[] = {1, 5, 20};
    static const char *const kinds[] = {"reorder", "dup", "corrupt"};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 3; i++) {
            struct cell *c = &cells[n];
            memset(c, 0, sizeof(*c));
            double *field = k == 0 ? &c->p.reorder : k == 1 ? &c->p.dup : &c->p.corrupt;
            *field = PCT(pcts[i]);
            c->p.reorder_gap = 3;
            c->p.delay_us = SN_MSEC(10);
            snprintf(names[n], sizeof(names[n]), "%s %g%% delay 10 ms", kinds[k], pcts[i]);
            c->name = names[n++];
        }
    static const uint32_t rates[] = {1, 10, 100};
    for (int i = 0; i < 3; i++) {
        struct cell *c = &cells[n];
        memset(c, 0, sizeof(*c));
        c->p.rate_bps = (uint64_t)rates[i] * 1000000;
        c->p.delay_us = SN_MSEC(10);
        snprintf(names[n], sizeof(names[n]), "rate %u Mbit delay 10 ms", rates[i]);
        c->name = names[n++];
    }
    struct cell *c = &cells[n];
    memset(c, 0, sizeof(*c));
    impair_params_burst_loss(&c->p, PCT(5), 3);
    c->p.reorder = PCT(1);
    c->p.reorder_gap = 3;
    c->p.dup = PCT(1);
    c->p.corrupt = PCT(1);
    c->p.delay_us = SN_MSEC(50);
    c->p.jitter_us = SN_MSEC(10);
    c->p.rate_bps = 10000000;
    snprintf(names[n], sizeof(names[n]), "all: bursty loss 5%%, 1%% each...");
    c->name = names[n++];
    return n;
}

static int run_grid(const struct sim_cli *o)
{
    struct cell cells[64];
    uint32_t n = grid_cells(cells);
    printf("grid: seeds %" PRIu64 "..%" PRIu64 " in every cell (the same scenarios); goodput is "
           "payload bytes over virtual time\nuntil the last byte arrived, per seed summed; "
           "retransmissions are segments, per seed\n\n",
           o->first, o->first + o->n_seeds - 1);
    printf("%-34s %6s %5s %14s %12s %10s %10s\n", "cell", "seeds", "fail", "goodput kB/s",
           "retrans/seed", "rto/seed", "virt s/seed");
    struct totals all;
    memset(&all, 0, sizeof(all));
    double start = wall_seconds();
    int rc = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct totals t;
        if (run_seeds(o, o->first, o->n_seeds, &cells[i].p, &t))
            rc = 1;
        double goodput = t.t_data ? (double)t.bytes / ((double)t.t_data / 1e6) / 1e3 : 0;
        printf("%-34s %6" PRIu64 " %5" PRIu64 " %14.1f %12.1f %10.2f %10.2f\n", cells[i].name,
               t.seeds, t.failed, goodput, (double)t.retrans / (double)t.seeds,
               (double)t.rto / (double)t.seeds, (double)t.t_data / 1e6 / (double)t.seeds);
        fflush(stdout);
        totals_add(&all, &t);
    }
    printf("\n");
    if (!o->quiet || all.failed)
        print_summary(&all, wall_seconds() - start);
    if (all.failed)
        rc = 1;
    return rc ? CLI_EXIT_RUNTIME : CLI_EXIT_OK;
}

int cmd_sim_main(int argc, char **argv)
{
    struct sim_cli o;
    memset(&o, 0, sizeof(o));
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    find_exe(o.exe);
    log_threshold = LOG_WARN;
    if (o.grid)
        return run_grid(&o);
    struct totals t;
    double start = wall_seconds();
    if (!o.quiet && o.n_seeds > 1)
        printf("sim: seeds %" PRIu64 "..%" PRIu64 "%s on %u process%s\n", o.first,
               o.first + o.n_seeds - 1, o.imp_given ? ", impairments fixed" : "",
               o.jobs > 1 ? o.jobs : 1, o.jobs > 1 ? "es" : "");
    fflush(stdout);
    rc = run_seeds(&o, o.first, o.n_seeds, o.imp_given ? &o.imp : NULL, &t);
    print_summary(&t, wall_seconds() - start);
    return rc || t.failed ? CLI_EXIT_RUNTIME : CLI_EXIT_OK;
}
