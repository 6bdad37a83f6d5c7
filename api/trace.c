/* api/trace.c: the state-transition trace (synack/trace.h): turns tcp's
 * trace hook (struct tcp's trace, called by tcp_set_state) into public
 * events. */
#include <string.h>

#include "api/stack_impl.h"

static void on_state(void *ctx, const struct tcb *c, enum tcp_state from, enum tcp_state to,
                     const char *cause)
{
    struct sn_stack *s = ctx;
    struct sn_state_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.now = s->tcp.now;
    ev.local_addr = c->laddr;
    ev.remote_addr = c->raddr;
    ev.local_port = c->lport;
    ev.remote_port = c->rport;
    /* RFC 9293 3.10.7.2: the listening connection is the one that moves to
     * SYN-RECEIVED; ours is a new record, created CLOSED. */
    if (from == TCPS_CLOSED && to == TCPS_SYN_RECEIVED && c->listener)
        from = TCPS_LISTEN;
    ev.from = (int)from;
    ev.to = (int)to;
    ev.cause = cause;
    ev.iss = c->iss;
    ev.irs = c->irs;
    ev.snd_una = c->snd_una;
    ev.snd_nxt = c->snd_nxt;
    ev.snd_wnd = c->snd_wnd;
    ev.rcv_nxt = c->rcv_nxt;
    ev.rcv_wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    ev.cwnd = c->cwnd;
    ev.ssthresh = c->ssthresh;
    ev.srtt_us = c->srtt_us;
    ev.rto_us = c->rto_us;
    s->state_trace(&ev, s->state_trace_user);
}

void sn_stack_set_state_trace(struct sn_stack *s, sn_state_trace_fn fn, void *user)
{
    s->state_trace = fn;
    s->state_trace_user = user;
    s->tcp.trace = fn ? on_state : NULL;
    s->tcp.trace_ctx = fn ? s : NULL;
}
