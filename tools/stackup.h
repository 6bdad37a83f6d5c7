/* tools/stackup.h: what every command that runs a stack on a device shares
 * (serve, connect): the device, address and setting options, and bringing
 * the device, the capture, the stack and the event loop up and down. */
#ifndef SYNACK_TOOLS_STACKUP_H
#define SYNACK_TOOLS_STACKUP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "api/loop.h"
#include "link/link.h"
#include "synack/synack.h"

struct stackup_opts {
    const char *tap, *tun; /* exactly one */
    const char *addr_arg;
    uint32_t addr; /* host order */
    uint8_t prefix_len;
    uint32_t gateway; /* 0: none */
    uint8_t mac[6];
    int have_mac;
    uint32_t mtu; /* 0: the device's */
    const char *pcap;
    const struct impair_cfg *impair; /* NULL: none; else wraps the device (link/impair) */
    int offload;     /* --offload: IFF_VNET_HDR checksum and TSO offloads (SN_OFFLOAD_*) */
    int multi_queue; /* open the device as one more queue (IFF_MULTI_QUEUE; serve --queues) */
    struct sn_config cfg;
    int verbose, quiet;
    char **args; /* the positional arguments, in order (inside argv) */
    int n_args;
};

/* Prints the option lines every such command takes (--tap ... --help). */
void stackup_help_options(FILE *out);

/* Prints the "settings for --set" table that ends a command's help. */
void stackup_help_settings(FILE *out);

/* Fills @o from the command line of command @cmd (its help is @help) and
 * sets the log level. Positional arguments are left in o->args, for the
 * command to check. Returns -1 when --help was printed, 0 when the options
 * are good, or an exit status after printing one line saying why not. */
int stackup_parse(const char *cmd, void (*help)(FILE *out), int argc, char **argv,
                  struct stackup_opts *o);

struct stackup {
    struct link *link;
    struct link *impair; /* the impairment inside link, or NULL (impair_stats) */
    struct link *dev;    /* the TAP/TUN device itself (inside the wrappers) */
    int offload;         /* --offload in effect (the kernel may refuse IFF_VNET_HDR) */
    struct sn_stack *stack;
    struct sn_loop *lp;
};

/* Opens (or creates) the device, wraps it in the capture, creates the
 * stack and the event loop over it. Returns 0, or CLI_EXIT_RUNTIME after
 * printing one line naming what failed (nothing is left open then). */
int stackup_start(const char *cmd, const struct stackup_opts *o, struct stackup *su);

/* "A.B.C.D/NN on DEV (mac M, mtu N[, gateway G])[, capture F]" into @buf;
 * returns @buf. */
const char *stackup_describe(const struct stackup *su, const struct stackup_opts *o, char *buf,
                             size_t cap);

/* Prints "synack counters:" and every non-zero counter to @out. */
void stackup_print_counters(struct sn_stack *s, FILE *out);

/* Logs the loop's own statistics at debug level. */
void stackup_log_loop_stats(const struct stackup *su);

/* Frees the loop and the stack and closes the device (removing it if it
 * was created). Safe on a partly started or zeroed @su. */
void stackup_stop(struct stackup *su);

#endif
