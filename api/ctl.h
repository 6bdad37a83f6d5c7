/* api/ctl.h: the control socket of a running stack.
 *
 * A Unix stream socket, served by the event loop, on which the stack
 * answers one request per connection with text and then closes it. A
 * request is one line:
 *
 *   ss [-l | -a]     the connection table like `ss -ti` (-l listeners
 *                    only, -a everything); sn_stack_print_socks
 *   netstat [-a]     every layer's counters like `netstat -s` (-a: the
 *                    zero ones too); sn_stack_print_stats
 *   prometheus       the counters in Prometheus text format
 *   help             this list
 *
 * An answer that starts with "error: " is a refusal (unknown request).
 * Internal to synack (it takes an sn_loop): `synack serve` opens it, and
 * `synack ss` / `synack netstat` are its clients. */
#ifndef SYNACK_API_CTL_H
#define SYNACK_API_CTL_H

#include <stddef.h>
#include <stdio.h>

#include "api/loop.h"

struct sn_ctl;

/* Clients served at once; more are answered "error: busy" and closed. */
#define SN_CTL_MAX_CLIENTS 8
/* Longest request line. */
#define SN_CTL_MAX_REQUEST 256

/* Listens at @path and serves it from @lp (two of the loop's app fds at
 * least: the listener and a client). A socket file nobody listens on any
 * more (a stack that was killed) is replaced; a live one gives
 * -EADDRINUSE. Returns 0 and *out, -ENAMETOOLONG, -ENOMEM, or the negative
 * errno of socket/bind/listen/sn_loop_add_fd. */
int sn_ctl_open(struct sn_loop *lp, const char *path, struct sn_ctl **out);

/* Stops serving, closes the clients' connections and removes the socket
 * file. NULL is a no-op. */
void sn_ctl_close(struct sn_ctl *ctl);

const char *sn_ctl_path(const struct sn_ctl *ctl);

/* Where serve puts its control socket when not told: /run/synack/DEV.sock
 * when /run/synack exists or can be made and is writable, else
 * /tmp/synack-PID.sock. Returns 0 or -ENAMETOOLONG. */
int sn_ctl_default_path(const char *dev, char *buf, size_t len);

/* Writes the answer to request line @req (no newline needed) to @out.
 * Returns 0, or -EINVAL after writing an "error: ..." line. */
int sn_ctl_answer(struct sn_stack *s, const char *req, FILE *out);

/* The client side: sends @req to the stack listening at @path and copies
 * the answer to @out. Returns 0; -EPROTO when the stack refused (its
 * "error: ..." line, without the prefix, is in @err, which holds @err_len
 * bytes); or the negative errno of socket/connect/read (-ENOENT: no such
 * socket, -ECONNREFUSED: nobody listens there any more). */
int sn_ctl_request(const char *path, const char *req, FILE *out, char *err, size_t err_len);

#endif
