/* tools/queues.h: `synack serve --queues N`: one stack instance per queue
 * of a multi-queue TAP (or TUN) device (IFF_MULTI_QUEUE), each on its own
 * thread pinned to a CPU, with its own event loop, stack, pools, services
 * and HTTP server, sharing nothing on the hot path. Every instance has the
 * same address and MAC, so ARP replies from any of them are identical; the
 * kernel spreads flows over the queues by hash and keeps each flow on the
 * queue its replies come from (tun's flow table), so a connection lives in
 * one instance from its SYN to its end. */
#ifndef SYNACK_TOOLS_QUEUES_H
#define SYNACK_TOOLS_QUEUES_H

#include <stdio.h>

#include "tools/httpd.h"
#include "tools/stackup.h"

#define QUEUES_MAX 64

/* Takes --queues N (1..QUEUES_MAX) out of argv, as httpd_take_opts does;
 * *n is 1 without it. Returns 0 or an exit status after one line saying
 * what is wrong. */
int queues_take_opts(const char *cmd, int *argc, char **argv, unsigned *n);

/* The option line for --help. */
void queues_help_options(FILE *out);

/* Runs @n (>= 2) instances until SIGINT or SIGTERM; SIGUSR1 prints every
 * instance's counters and their sum. At exit prints the same and returns
 * the exit status. The state trace, the control socket, --pcap and the
 * impairments are per device and not offered here (@o must have neither;
 * the caller refuses them). */
int queues_run(const char *cmd, const struct stackup_opts *o, const struct httpd_opts *ho,
               unsigned n);

#endif
