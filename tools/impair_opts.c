/* tools/impair_opts.c: parsing and printing the impairment options shared
 * by sim, serve and wire. Probabilities are given in percent; the parser
 * and the formatter round-trip exactly, so a replay command printed by
 * `synack sim` reproduces the very same doubles. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rng.h"

#include "tools/cli.h"
#include "tools/impair_opts.h"

void impair_opts_help(FILE *out)
{
    fprintf(out,
            "  --loss P[:BURST]      lose P %% of frames; with BURST, in bursts of BURST\n"
            "                        frames on average (Gilbert-Elliott)\n"
            "  --reorder P[:GAP|:Tms]\n"
            "                        hold P %% of frames back until GAP later frames passed\n"
            "                        them (default 3, at most 100 ms), or for T ms\n"
            "  --dup P               send P %% of frames twice\n"
            "  --corrupt P           flip one bit inside the IPv4 packet of P %% of frames\n"
            "                        (the IP/TCP/UDP/ICMP checksum must catch it)\n"
            "  --delay MS[:JITTER]   add MS ms one-way delay, +-JITTER ms (no reordering)\n"
            "  --rate MBIT           limit the rate to MBIT Mbit/s (token bucket)\n"
            "  --queue BYTES         queue in front of the rate limit (default 131072);\n"
            "                        beyond it frames are dropped (tail drop)\n"
            "  (P is a percentage from 0 to 100, e.g. 0.5 or 5%%; every impairment applies\n"
            "  in both directions, each drawing from its own seeded random stream)\n");
}

/* A number with nothing after it but @tail_ok characters. */
static int parse_num(const char *s, double min, double max, double *out, const char **end)
{
    char *e;
    double v = strtod(s, &e);
    if (e == s || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    *end = e;
    return 0;
}

static int parse_pct(const char *s, double *frac, const char **end)
{
    double v;
    if (parse_num(s, 0, 100, &v, end) < 0)
        return -1;
    if (**end == '%')
        (*end)++;
    *frac = v / 100;
    return 0;
}

static int bad(const char *opt, const char *arg, const char *want)
{
    return cli_usage("--%s: '%s' is not %s", opt, arg, want);
}

int impair_opt_apply(int c, const char *arg, struct impair_params *p)
{
    const char *end;
    double v, w;
    switch (c) {
    case IMPAIR_OPT_LOSS:
        if (parse_pct(arg, &v, &end) < 0)
            return bad("loss", arg, "a percentage from 0 to 100, with an optional :BURST");
        if (*end == ':') {
            if (parse_num(end + 1, 1, 1e6, &w, &end) < 0 || *end || v >= 1)
                return bad("loss", arg, "P:BURST with P below 100 and a mean burst >= 1 frame");
            impair_params_burst_loss(p, v, w);
        } else if (*end) {
            return bad("loss", arg, "a percentage from 0 to 100, with an optional :BURST");
        } else {
            p->loss = v;
            p->ge_p = p->ge_r = p->ge_loss_bad = p->ge_loss_good = 0;
        }
        return 0;
    case IMPAIR_OPT_REORDER:
        if (parse_pct(arg, &v, &end) < 0)
            return bad("reorder", arg, "a percentage from 0 to 100, e.g. 1 or 1:3 or 1:20ms");
        p->reorder = v;
        p->reorder_gap = 3;
        p->reorder_hold_us = 0;
        if (*end == ':') {
            if (parse_num(end + 1, 0, 1e6, &w, &end) < 0)
                return bad("reorder", arg, "P:GAP (frames) or P:Tms");
            if (strcmp(end, "ms") == 0 && w > 0) {
                p->reorder_gap = 0;
                p->reorder_hold_us = llround(w * 1000);
            } else if (*end == 0 && w >= 1 && w == floor(w)) {
                p->reorder_gap = (uint32_t)w;
            } else {
                return bad("reorder", arg, "P:GAP (a whole number of frames) or P:Tms");
            }
        } else if (*end) {
            return bad("reorder", arg, "a percentage from 0 to 100, e.g. 1 or 1:3 or 1:20ms");
        }
        return 0;
    case IMPAIR_OPT_DUP:
        if (parse_pct(arg, &v, &end) < 0 || *end)
            return bad("dup", arg, "a percentage from 0 to 100");
        p->dup = v;
        return 0;
    case IMPAIR_OPT_CORRUPT:
        if (parse_pct(arg, &v, &end) < 0 || *end)
            return bad("corrupt", arg, "a percentage from 0 to 100");
        p->corrupt = v;
        return 0;
    case IMPAIR_OPT_DELAY:
        if (parse_num(arg, 0, 3600000, &v, &end) < 0)
            return bad("delay", arg, "MS or MS:JITTER in milliseconds, e.g. 20 or 20:5");
        w = 0;
        if (*end == ':' && parse_num(end + 1, 0, 3600000, &w, &end) < 0)
            return bad("delay", arg, "MS or MS:JITTER in milliseconds, e.g. 20 or 20:5");
        if (*end)
            return bad("delay", arg, "MS or MS:JITTER in milliseconds, e.g. 20 or 20:5");
        p->delay_us = llround(v * 1000);
        p->jitter_us = llround(w * 1000);
        return 0;
    case IMPAIR_OPT_RATE:
        if (parse_num(arg, 0, 1e6, &v, &end) < 0 || *end)
            return bad("rate", arg, "a rate in Mbit/s from 0 (unlimited) to 1000000");
        p->rate_bps = (uint64_t)llround(v * 1e6);
        if (v > 0 && p->rate_bps < 1000)
            return bad("rate", arg, "a rate of at least 0.001 Mbit/s");
        return 0;
    case IMPAIR_OPT_QUEUE: {
        uint32_t q;
        if (cli_parse_u32(arg, 1514, 1u << 30, &q) < 0)
            return bad("queue", arg, "a number of bytes from 1514 to 1073741824");
        p->queue_bytes = q;
        return 0;
    }
    }
    return cli_usage("unknown impairment option");
}

/* %.10g of a percentage prints what the parser read (up to 10 digits). */
static void add(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

const char *impair_opts_format(const struct impair_params *p, char *buf, size_t cap)
{
    buf[0] = 0;
    if (p->ge_p > 0)
        add(buf, cap, " --loss %.15g:%.15g", p->ge_p / (p->ge_p + p->ge_r) * 100, 1 / p->ge_r);
    else if (p->loss > 0)
        add(buf, cap, " --loss %.15g", p->loss * 100);
    if (p->reorder > 0) {
        if (p->reorder_gap)
            add(buf, cap, " --reorder %.15g:%u", p->reorder * 100, p->reorder_gap);
        else
            add(buf, cap, " --reorder %.15g:%.15gms", p->reorder * 100,
                (double)p->reorder_hold_us / 1000);
    }
    if (p->dup > 0)
        add(buf, cap, " --dup %.15g", p->dup * 100);
    if (p->corrupt > 0)
        add(buf, cap, " --corrupt %.15g", p->corrupt * 100);
    if (p->delay_us > 0 || p->jitter_us > 0) {
        add(buf, cap, " --delay %.15g", (double)p->delay_us / 1000);
        if (p->jitter_us > 0)
            add(buf, cap, ":%.15g", (double)p->jitter_us / 1000);
    }
    if (p->rate_bps > 0)
        add(buf, cap, " --rate %.15g", (double)p->rate_bps / 1e6);
    if (p->queue_bytes > 0)
        add(buf, cap, " --queue %u", p->queue_bytes);
    return buf[0] == ' ' ? buf + 1 : buf;
}

void impair_stats_print(FILE *out, const char *label, const struct impair_stats *st)
{
    fprintf(out,
            "impairment %s: %" PRIu64 " frames in (%" PRIu64 " bytes), %" PRIu64
            " out (%" PRIu64 " bytes)\n"
            "  %" PRIu64 " lost (%" PRIu64 " in a burst), %" PRIu64 " duplicated, %" PRIu64
            " corrupted (%" PRIu64 " not corruptible), %" PRIu64 " reordered\n"
            "  %" PRIu64 " dropped at the rate limit's queue, %" PRIu64
            " over the frame limit, %" PRIu64 " refused by the device, %" PRIu64
            " copies without a buffer\n",
            label, st->frames_in, st->bytes_in, st->frames_out, st->bytes_out, st->lost,
            st->lost_bad, st->duplicated, st->corrupted, st->corrupt_skipped, st->reordered,
            st->rate_dropped, st->overflow, st->inner_refused, st->dup_failed);
}

/* ---- options taken out of another command's argv ----------------------- */

static const struct {
    const char *name;
    int opt;
} take_names[] = {
    {"--loss", IMPAIR_OPT_LOSS},   {"--reorder", IMPAIR_OPT_REORDER}, {"--dup", IMPAIR_OPT_DUP},
    {"--corrupt", IMPAIR_OPT_CORRUPT}, {"--delay", IMPAIR_OPT_DELAY}, {"--rate", IMPAIR_OPT_RATE},
    {"--queue", IMPAIR_OPT_QUEUE}, {"--impair-seed", 0},
};


int impair_take_opts(const char *cmd, int *argc, char **argv, struct impair_cfg *cfg, int *given)
{
    memset(cfg, 0, sizeof(*cfg));
    *given = 0;
    struct impair_params p;
    memset(&p, 0, sizeof(p));
    int seed_given = 0, out = 1;
    for (int i = 1; i < *argc;) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        int matched = 0;
        for (size_t k = 0; k < sizeof(take_names) / sizeof(take_names[0]) && !matched; k++) {
            const char *v = NULL;
            int r = cli_opt_value(take_names[k].name, *argc, argv, &i, &v);
            if (r == 0)
                continue;
            matched = 1;
            if (r < 0)
                return cli_usage_cmd(cmd, "%s needs a value", take_names[k].name);
            if (take_names[k].opt == 0) {
                char *e;
                errno = 0;
                unsigned long long s = strtoull(v, &e, 10);
                if (v[0] < '0' || v[0] > '9' || *e || errno)
                    return cli_usage("--impair-seed: '%s' is not a number", v);
                cfg->seed = s;
                seed_given = 1;
                continue;
            }
            int rc = impair_opt_apply(take_names[k].opt, v, &p);
            if (rc)
                return rc;
            *given = 1;
        }
        if (!matched)
            argv[out++] = argv[i++];
    }
    argv[out] = NULL;
    *argc = out;
    if (seed_given && !*given)
        return cli_usage_cmd(cmd, "--impair-seed without any impairment option");
    if (!seed_given) {
        uint64_t t = (uint64_t)clock_mono_now(NULL) ^ ((uint64_t)getpid() << 32);
        cfg->seed = rng_splitmix(&t);
    }
    cfg->dir[IMPAIR_TX] = p;
    cfg->dir[IMPAIR_RX] = p;
    return 0;
}

void impair_take_opts_help(FILE *out)
{
    impair_opts_help(out);
    fprintf(out, "  --impair-seed S       seed of the impairment decisions (default: from the\n"
                 "                        clock, printed at start, so a run can be repeated)\n");
}
