/* synack/trace.h: the state-transition trace of a stack's connections.
 *
 * With a trace function set, the stack calls it for every TCP state change
 * of every connection (RFC 9293 3.3.2 names), with what caused it and the
 * connection's variables right after the change. `synack serve --trace
 * FILE` writes these as JSON lines; `synack trace --states FILE` draws them
 * on a capture's ladder diagram instead of the states it would infer. */
#ifndef SYNACK_TRACE_H
#define SYNACK_TRACE_H

#include <stdint.h>

#include "synack/export.h"

struct sn_stack;

struct sn_state_event {
    int64_t now;                      /* the stack's time (µs, as given to it) */
    uint32_t local_addr, remote_addr; /* host order; remote 0 for a listener */
    uint16_t local_port, remote_port;
    int from, to; /* states: sn_tcp_state_name() prints them */
    /* Why, in one line:
     *   "segment FLAGS seq=N ack=N len=N"  a segment arrived (absolute
     *                                      numbers; FLAGS as tcpdump: "S.")
     *   "timer rtx|delack|persist|keepalive|time-wait"
     *   "icmp unreachable"
     *   "user listen|connect|close"        a call from the application */
    const char *cause;
    /* RFC 9293 3.3.1 variables (absolute sequence numbers) and congestion
     * control (RFC 5681) / RTO (RFC 6298) after the change. */
    uint32_t iss, irs;
    uint32_t snd_una, snd_nxt, snd_wnd, rcv_nxt, rcv_wnd;
    uint32_t cwnd, ssthresh; /* bytes */
    uint32_t srtt_us, rto_us;
};

/* Called from inside sn_stack_input / sn_stack_advance / socket calls: it
 * must not call back into the stack. @ev and its cause live only for the
 * call. */
typedef void (*sn_state_trace_fn)(const struct sn_state_event *ev, void *user);

/* Sets (or with @fn NULL clears) the stack's state trace. A passive open
 * is reported as LISTEN -> SYN-RECEIVED, as RFC 9293 draws it, although
 * the new connection's own record starts CLOSED. */
SN_API void sn_stack_set_state_trace(struct sn_stack *s, sn_state_trace_fn fn, void *user);

#endif
