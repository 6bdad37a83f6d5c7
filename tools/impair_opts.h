/* tools/impair_opts.h: the impairment options that `synack sim`, `synack
 * serve` and `synack wire` share (--loss, --reorder, --dup, --corrupt,
 * --delay, --rate, --queue), their --help text, their parser, and the
 * reverse: the options that reproduce a set of parameters exactly. */
#ifndef SYNACK_TOOLS_IMPAIR_OPTS_H
#define SYNACK_TOOLS_IMPAIR_OPTS_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "link/link.h"

/* getopt_long values: a command's own enum must stay below IMPAIR_OPT_BASE. */
enum {
    IMPAIR_OPT_BASE = 0x1000,
    IMPAIR_OPT_LOSS = IMPAIR_OPT_BASE,
    IMPAIR_OPT_REORDER,
    IMPAIR_OPT_DUP,
    IMPAIR_OPT_CORRUPT,
    IMPAIR_OPT_DELAY,
    IMPAIR_OPT_RATE,
    IMPAIR_OPT_QUEUE,
    IMPAIR_OPT_END,
};

/* The struct option rows, for a command's long_opts table. */
#define IMPAIR_LONG_OPTS                                        \
    {"loss", required_argument, NULL, IMPAIR_OPT_LOSS},         \
    {"reorder", required_argument, NULL, IMPAIR_OPT_REORDER},   \
    {"dup", required_argument, NULL, IMPAIR_OPT_DUP},           \
    {"corrupt", required_argument, NULL, IMPAIR_OPT_CORRUPT},   \
    {"delay", required_argument, NULL, IMPAIR_OPT_DELAY},       \
    {"rate", required_argument, NULL, IMPAIR_OPT_RATE},         \
    {"queue", required_argument, NULL, IMPAIR_OPT_QUEUE}

static inline int impair_opt_is(int c) { return c >= IMPAIR_OPT_BASE && c < IMPAIR_OPT_END; }

/* Applies option @c with value @arg to @p. Returns 0, or CLI_EXIT_USAGE
 * after printing one line saying what is expected. */
int impair_opt_apply(int c, const char *arg, struct impair_params *p);

/* For commands whose options another parser reads (serve): takes the
 * impairment options and --impair-seed S out of argv (as
 * observe_take_opts does), applies them to both directions of @cfg and
 * sets *@given when there was any. Without --impair-seed the seed is drawn
 * from the clock. Returns 0 or CLI_EXIT_USAGE after printing why. */
int impair_take_opts(const char *cmd, int *argc, char **argv, struct impair_cfg *cfg, int *given);

/* Prints what impair_take_opts takes, for a command's --help. */
void impair_take_opts_help(FILE *out);

/* The options' --help lines. */
void impair_opts_help(FILE *out);

/* The options that give @p back through impair_opt_apply, e.g.
 * "--loss 3.1 --delay 20:5"; "" when @p is all zero. Returns @buf. */
const char *impair_opts_format(const struct impair_params *p, char *buf, size_t cap);

/* One paragraph of counters for direction @label. */
void impair_stats_print(FILE *out, const char *label, const struct impair_stats *st);

#endif
