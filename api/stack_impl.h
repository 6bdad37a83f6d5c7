/* api/stack_impl.h: what a stack instance is made of. Private to api/ and
 * to the tools that drive a stack directly (loop, simulator). */
#ifndef SYNACK_API_STACK_IMPL_H
#define SYNACK_API_STACK_IMPL_H

#include "core/pkt.h"
#include "core/stats.h"
#include "core/timer_wheel.h"
#include "net/net.h"
#include "synack/synack.h"
#include "synack/trace.h"
#include "tcp/tcp.h"

struct sn_stack {
    struct sn_config cfg;
    struct sn_stats st;
    struct timer_wheel tw;
    struct pkt_pool *rx, *tx, *big;
    struct net net;
    struct tcp tcp;
    sn_state_trace_fn state_trace; /* api/trace.c; NULL: off */
    void *state_trace_user;
};

#endif
