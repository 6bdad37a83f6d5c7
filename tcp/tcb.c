/* tcp/tcb.c: the connection and listener tables, TCB lifecycle, state
 * changes, and the queue of events for the application. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "synack/synack.h"
#include "tcp/tcp.h"

static const char *const state_names[] = {
    "CLOSED",      "LISTEN",     "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT",
    "FIN-WAIT-1",  "CLOSING",    "LAST-ACK", "FIN-WAIT-2",   "TIME-WAIT",
};

const char *tcp_state_name(enum tcp_state s)
{
    return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

const char *sn_tcp_state_name(int state) { return tcp_state_name((enum tcp_state)state); }

static void keys_init(struct tcp *t, uint64_t seed)
{
    uint64_t k[4];
    if (seed) {
        /* Deterministic for the simulator and scripts: splitmix64. */
        for (int i = 0; i < 4; i++) {
            uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            k[i] = z ^ (z >> 31);
        }
    } else if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k)) {
        /* RFC 6528 needs a secret; without entropy fall back to the clock
         * and address of k, which is still unpredictable off-host. */
        k[0] = (uint64_t)(uintptr_t)k ^ (uint64_t)t->now;
        k[1] = k[0] * 0x9e3779b97f4a7c15ULL;
        k[2] = ~k[0];
        k[3] = ~k[1];
    }
    t->isn_key = (struct sip_key){k[0], k[1]};
    t->cookie_key = (struct sip_key){k[2], k[3]};
    t->next_ephemeral = (uint16_t)(32768 + k[0] % 28232);
}

int tcp_init(struct tcp *t, const struct sn_config *cfg, struct sn_stats *st,
             struct timer_wheel *tw, struct net *n, uint64_t seed)
{
    memset(t, 0, sizeof(*t));
    t->cfg = cfg;
    t->st = st;
    t->tw = tw;
    t->net = n;
    uint32_t buckets = 1024;
    while (buckets < cfg->tcp_max_conns / 4 && buckets < (1u << 20))
        buckets <<= 1;
    t->conn_hash = calloc(buckets, sizeof(*t->conn_hash));
    t->conn_mask = buckets - 1;
    t->listen_hash = calloc(256, sizeof(*t->listen_hash));
    t->listen_mask = 255;
    if (!t->conn_hash || !t->listen_hash) {
        tcp_free(t);
        return -ENOMEM;
    }
    keys_init(t, seed);
    t->challenge_tokens = cfg->tcp_challenge_ack_per_s;
    n->proto[IP4_PROTO_TCP] = (struct proto_handler){tcp_input, tcp_icmp_error, t};
    return 0;
}

void tcp_free(struct tcp *t)
{
    while (t->all) {
        struct tcb *c = t->all;
        c->orphan = true;
        c->on_ev_list = false;
        tcp_timers_stop(c);
        if (c->state != TCPS_LISTEN && c->state != TCPS_CLOSED)
            tcb_hash_remove(c);
        c->state = TCPS_CLOSED;
        tcb_free(c);
    }
    free(t->conn_hash);
    free(t->listen_hash);
    t->conn_hash = t->listen_hash = NULL;
}

static uint32_t tuple_hash(const struct tcp *t, uint32_t laddr, uint16_t lport, uint32_t raddr,
                           uint16_t rport)
{
    uint32_t h = raddr * 2654435761u ^ ((uint32_t)rport << 16 | lport) * 2246822519u ^ laddr;
    h ^= h >> 15;
    return h & t->conn_mask;
}

struct tcb *tcb_new(struct tcp *t)
{
    if (t->n_conns >= t->cfg->tcp_max_conns)
        return NULL;
    struct tcb *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->tcp = t;
    c->cc = &cc_newreno;
    ring_init(&c->sndbuf, t->cfg->tcp_sndbuf);
    ring_init(&c->rcvbuf, t->cfg->tcp_rcvbuf);
    tcp_timers_init(c);
    c->all_next = t->all;
    if (t->all)
        t->all->all_prev = c;
    t->all = c;
    t->n_conns++;
    return c;
}

static void ev_list_remove(struct tcb *c)
{
    struct tcp *t = c->tcp;
    struct tcb **pp = &t->ev_head;
    struct tcb *prev = NULL;
    while (*pp && *pp != c) {
        prev = *pp;
        pp = &(*pp)->ev_next;
    }
    if (*pp) {
        *pp = c->ev_next;
        if (t->ev_tail == c)
            t->ev_tail = prev;
    }
    c->on_ev_list = false;
}

static void accept_q_remove(struct tcb *c)
{
    struct tcb *l = c->listener;
    struct tcb **pp = &l->accept_head, *prev = NULL;
    while (*pp && *pp != c) {
        prev = *pp;
        pp = &(*pp)->q_next;
    }
    if (*pp) {
        *pp = c->q_next;
        if (l->accept_tail == c)
            l->accept_tail = prev;
        l->n_accept_q--;
    }
    c->in_accept_q = false;
}

/* Unlinks @c from the listener that spawned it. */
static void detach_from_listener(struct tcb *c)
{
    if (!c->listener)
        return;
    if (c->in_accept_q)
        accept_q_remove(c);
    if (c->state == TCPS_SYN_RECEIVED)
        c->listener->n_syn_rcvd--;
    c->listener = NULL;
}

static void out_list_remove(struct tcb *c)
{
    struct tcb **pp = &c->tcp->out_head;
    while (*pp && *pp != c)
        pp = &(*pp)->out_next;
    if (*pp)
        *pp = c->out_next;
    c->on_out_list = false;
}

void tcp_output_soon(struct tcb *c)
{
    struct tcp *t = c->tcp;
    if (c->on_out_list)
        return;
    c->on_out_list = true;
    c->out_next = t->out_head;
    t->out_head = c;
}

void tcp_flush_output(struct tcp *t)
{
    struct tcb *c;
    while ((c = t->out_head)) {
        t->out_head = c->out_next;
        c->on_out_list = false;
        tcp_output(c, t->now);
    }
}

void tcb_free(struct tcb *c)
{
    struct tcp *t = c->tcp;
    tcp_timers_stop(c);
    if (c->on_ev_list)
        ev_list_remove(c);
    if (c->on_out_list)
        out_list_remove(c);
    detach_from_listener(c);
    if (c->all_prev)
        c->all_prev->all_next = c->all_next;
    else
        t->all = c->all_next;
    if (c->all_next)
        c->all_next->all_prev = c->all_prev;
    ring_free(&c->sndbuf);
    ring_free(&c->rcvbuf);
    t->n_conns--;
    free(c);
}

void tcb_hash_insert(struct tcb *c)
{
    struct tcp *t = c->tcp;
    uint32_t b = tuple_hash(t, c->laddr, c->lport, c->raddr, c->rport);
    c->hnext = t->conn_hash[b];
    t->conn_hash[b] = c;
}

void tcb_hash_remove(struct tcb *c)
{
    struct tcp *t = c->tcp;
    struct tcb **pp;
    if (c->state == TCPS_LISTEN)
        pp = &t->listen_hash[c->lport & t->listen_mask];
    else
        pp = &t->conn_hash[tuple_hash(t, c->laddr, c->lport, c->raddr, c->rport)];
    while (*pp && *pp != c)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = c->hnext;
    c->hnext = NULL;
}

struct tcb *tcb_lookup(struct tcp *t, uint32_t laddr, uint16_t lport, uint32_t raddr,
                       uint16_t rport)
{
    for (struct tcb *c = t->conn_hash[tuple_hash(t, laddr, lport, raddr, rport)]; c; c = c->hnext)
        if (c->lport == lport && c->rport == rport && c->raddr == raddr && c->laddr == laddr)
            return c;
    return NULL;
}

struct tcb *tcb_listener(struct tcp *t, uint16_t lport)
{
    for (struct tcb *c = t->listen_hash[lport & t->listen_mask]; c; c = c->hnext)
        if (c->lport == lport)
            return c;
    return NULL;
}

int tcb_listen_insert(struct tcb *l)
{
    struct tcp *t = l->tcp;
    if (tcb_listener(t, l->lport))
        return -EADDRINUSE;
    struct tcb **b = &t->listen_hash[l->lport & t->listen_mask];
    l->hnext = *b;
    *b = l;
    return 0;
}

/* The trace's one-line cause of a change to @to (see tcp_trace_fn). */
static const char *trace_cause(const struct tcb *c, enum tcp_state to, char *buf, size_t len)
{
    const struct tcp *t = c->tcp;
    const struct tw_entry *f = t->tw ? t->tw->firing : NULL;
    if (t->cause_seg) {
        char fl[9];
        snprintf(buf, len, "segment %s seq=%u ack=%u len=%u",
                 tcp_flags_str(t->cause_seg->flags, fl), t->cause_seg->seq, t->cause_seg->ack,
                 t->cause_seg->len);
        return buf;
    }
    if (t->cause_what)
        return t->cause_what;
    if (f)
        return f == &c->rtx_timer       ? "timer rtx"
               : f == &c->delack_timer   ? "timer delack"
               : f == &c->persist_timer  ? "timer persist"
               : f == &c->keep_timer     ? "timer keepalive"
               : f == &c->wait_timer     ? "timer time-wait"
                                         : "timer";
    return to == TCPS_LISTEN ? "user listen" : to == TCPS_SYN_SENT ? "user connect" : "user close";
}

void tcp_set_state(struct tcb *c, enum tcp_state s)
{
    struct tcp *t = c->tcp;
    enum tcp_state from = c->state;
    if (s == TCPS_ESTABLISHED && c->state != TCPS_ESTABLISHED)
        STAT_INC(t->st, tcp, curr_estab);
    if ((c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT) &&
        s != TCPS_ESTABLISHED && s != TCPS_CLOSE_WAIT)
        STAT_DEC(t->st, tcp, curr_estab);
    if (c->state == TCPS_SYN_RECEIVED && c->listener)
        c->listener->n_syn_rcvd--;
    if (s == TCPS_SYN_RECEIVED && c->listener)
        c->listener->n_syn_rcvd++;
    c->state = s;
    if (t->trace && from != s) {
        char buf[96];
        t->trace(t->trace_ctx, c, from, s, trace_cause(c, s, buf, sizeof(buf)));
    }
}

void tcp_close_conn(struct tcb *c, int err)
{
    if (c->state == TCPS_CLOSED)
        return;
    tcp_timers_stop(c);
    tcb_hash_remove(c); /* a listener from the listen table: it may be freed next */
    /* A passive open not yet accepted has no user to free it (RFC 9293
     * 3.10.7.4: a reset SYN-RECEIVED connection just goes, "return to
     * LISTEN"): once out of the listener's queues it must go now, or it
     * stays CLOSED and allocated for good. */
    bool nobody_holds = c->orphan || c->listener != NULL;
    detach_from_listener(c);
    tcp_set_state(c, TCPS_CLOSED);
    if (err && !c->err)
        c->err = err;
    if (nobody_holds) {
        tcb_free(c);
        return;
    }
    tcb_raise(c, SN_EV_CLOSED | (err ? SN_EV_ERROR | SN_EV_READABLE | SN_EV_WRITABLE : SN_EV_READABLE));
}

void tcb_raise(struct tcb *c, uint32_t ev)
{
    struct tcp *t = c->tcp;
    c->events |= ev;
    if (c->orphan || c->on_ev_list)
        return;
    if (c->listener && c->in_accept_q)
        return; /* not yet the user's: the listener is told instead */
    c->on_ev_list = true;
    c->ev_next = NULL;
    if (t->ev_tail)
        t->ev_tail->ev_next = c;
    else
        t->ev_head = c;
    t->ev_tail = c;
}

void tcp_deliver_events(struct tcp *t)
{
    /* Callbacks may close or open sockets: pop one at a time. */
    struct tcb *c;
    while ((c = t->ev_head)) {
        t->ev_head = c->ev_next;
        if (!t->ev_head)
            t->ev_tail = NULL;
        c->on_ev_list = false;
        uint32_t ev = c->events;
        c->events = 0;
        if (c->cb && !c->orphan)
            c->cb((struct sn_sock *)c, ev, c->user);
    }
}

uint16_t tcp_ephemeral_port(struct tcp *t, uint32_t raddr, uint16_t rport)
{
    uint32_t laddr = t->net->addr;
    for (int tries = 0; tries < 28232; tries++) {
        uint16_t p = t->next_ephemeral++;
        if (t->next_ephemeral < 32768)
            t->next_ephemeral = 32768;
        if (p >= 32768 && !tcb_lookup(t, laddr, p, raddr, rport) && !tcb_listener(t, p))
            return p;
    }
    return 0;
}

void tcb_setup(struct tcb *c, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
               sn_time now)
{
    struct tcp *t = c->tcp;
    c->laddr = laddr;
    c->lport = lport;
    c->raddr = raddr;
    c->rport = rport;
    c->ts_offset = tcp_ts_offset(t, laddr, lport, raddr, rport);
    uint32_t mtu_mss = net_path_mtu(t->net, raddr) - IP4_HDR_LEN - TCP_HDR_LEN;
    c->adv_mss = (uint16_t)(t->cfg->tcp_mss < mtu_mss ? t->cfg->tcp_mss : mtu_mss);
    c->peer_mss = 536; /* RFC 9293 3.7.1 default until the peer says */
    c->rto_us = t->cfg->tcp_rto_init_ms * 1000;
    c->quickacks_left = t->cfg->tcp_quickack_segs;
    c->last_rcv = now;
}
