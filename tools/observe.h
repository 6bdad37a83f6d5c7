/* tools/observe.h: what `synack serve` offers for watching it: the state
 * trace (--trace FILE, JSON lines; tools/trace_states.c) and the control
 * socket (--ctl PATH, --no-ctl; api/ctl.c) that `synack ss` and `synack
 * netstat` ask. */
#ifndef SYNACK_TOOLS_OBSERVE_H
#define SYNACK_TOOLS_OBSERVE_H

#include <stddef.h>
#include <stdio.h>

#include "api/loop.h"

struct observe_opts {
    const char *trace; /* --trace FILE */
    const char *ctl;   /* --ctl PATH (NULL: the default place) */
    int no_ctl;        /* --no-ctl */
};

/* Takes these options out of argv (as httpd_take_opts does) and fills @o.
 * Returns 0 or an exit status after one line saying what is wrong. */
int observe_take_opts(const char *cmd, int *argc, char **argv, struct observe_opts *o);

/* The option lines for --help. */
void observe_help_options(FILE *out);

struct observe;

/* Starts the trace and the control socket for the loop's stack on device
 * @dev. A control socket at the default place that cannot be made is only
 * warned about; one asked for with --ctl is an error. Returns 0 (and
 * *out) or an exit status after printing why not. */
int observe_start(struct sn_loop *lp, const char *dev, const struct observe_opts *o,
                  struct observe **out);

/* "control socket PATH[, state trace FILE]" for the start line, into @buf;
 * "" when there is neither. */
const char *observe_describe(const struct observe *ob, char *buf, size_t cap);

/* Stops both (the socket file is removed). NULL is fine. */
void observe_stop(struct observe *ob);

#endif
