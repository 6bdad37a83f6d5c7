/* tcp/tcp_timer.c: the five per-connection timers and the RTO estimator
 * (RFC 6298). Timer callbacks only change state and call tcp_output. */
#include <errno.h>

#include "core/container.h"
#include "tcp/tcp.h"

#define FIN_WAIT_2_ORPHAN_TIMEOUT SN_SEC(60) /* Linux tcp_fin_timeout */

static uint32_t clamp_rto(const struct tcb *c, uint64_t rto)
{
    const struct sn_config *cfg = c->tcp->cfg;
    uint64_t lo = (uint64_t)cfg->tcp_rto_min_ms * 1000, hi = (uint64_t)cfg->tcp_rto_max_ms * 1000;
    return (uint32_t)(rto < lo ? lo : rto > hi ? hi : rto);
}

/* RFC 6298 2.2 and 2.3, with G = the 1 ms timer granularity. */
void tcp_rtt_sample(struct tcb *c, sn_time rtt)
{
    uint32_t r = rtt < 1 ? 1 : rtt > (sn_time)UINT32_MAX ? UINT32_MAX : (uint32_t)rtt;
    if (c->srtt_us == 0) {
        c->srtt_us = r;
        c->rttvar_us = r / 2;
    } else {
        uint32_t delta = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;
        c->rttvar_us = (3 * c->rttvar_us + delta) / 4;
        c->srtt_us = (7 * c->srtt_us + r) / 8;
    }
    uint32_t var = 4 * c->rttvar_us > TW_TICK_US ? 4 * c->rttvar_us : TW_TICK_US;
    c->rto_us = clamp_rto(c, (uint64_t)c->srtt_us + var);
}

static sn_time backed_off_rto(const struct tcb *c)
{
    uint64_t rto = (uint64_t)c->rto_us << (c->backoff < 16 ? c->backoff : 16);
    return clamp_rto(c, rto);
}

void tcp_rtx_arm(struct tcb *c, sn_time now)
{
    tw_arm(c->tcp->tw, &c->rtx_timer, now + backed_off_rto(c));
}

static void give_up(struct tcb *c)
{
    if (c->state == TCPS_SYN_SENT)
        STAT_INC(c->tcp->st, tcp, attempt_fails);
    tcp_close_conn(c, -ETIMEDOUT);
}

/* RFC 6298 5.4-5.6 and RFC 5681 3.1: on expiry resend the earliest
 * unacknowledged segment, back off the timer, collapse the window. */
static void rtx_fire(struct tw_entry *e, sn_time now)
{
    struct tcb *c = container_of(e, struct tcb, rtx_timer);
    struct tcp *t = c->tcp;
    uint32_t limit = c->state == TCPS_SYN_SENT       ? t->cfg->tcp_syn_retries
                     : c->state == TCPS_SYN_RECEIVED ? t->cfg->tcp_synack_retries
                                                     : t->cfg->tcp_retries2;
    if (c->snd_una == c->snd_max && c->state != TCPS_SYN_SENT && c->state != TCPS_SYN_RECEIVED)
        return;
    /* RFC 1122 4.2.2.17: data beyond a zero window is not lost; probe the
     * window instead of counting retransmissions toward giving up. */
    if (c->snd_wnd == 0 && c->state >= TCPS_ESTABLISHED) {
        c->snd_nxt = c->snd_una;
        tcp_persist_arm(c, now);
        return;
    }
    if (c->backoff >= limit) {
        give_up(c);
        return;
    }
    c->backoff++;
    STAT_INC(t->st, tcp, rto_timeouts);
    if (tcps_synchronized(c->state) && c->state != TCPS_SYN_RECEIVED) {
        c->cc->on_rto(c);
        c->in_recovery = false;
        c->dupacks = 0;
        /* RFC 2018 8: after a timeout the SACKed state is forgotten. */
        c->n_sacked = 0;
    }
    c->rtt_timing = false; /* Karn: no sample from a retransmitted segment */
    c->snd_nxt = c->snd_una;
    if (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RECEIVED)
        c->snd_nxt = c->iss;
    tcp_output(c, now);
    tcp_rtx_arm(c, now);
}

static void delack_fire(struct tw_entry *e, sn_time now)
{
    struct tcb *c = container_of(e, struct tcb, delack_timer);
    STAT_INC(c->tcp->st, tcp, delayed_acks);
    c->ack_now = true;
    tcp_output(c, now);
}

void tcp_delack_arm(struct tcb *c, sn_time now)
{
    if (!tw_armed(&c->delack_timer))
        tw_arm(c->tcp->tw, &c->delack_timer, now + SN_MSEC(c->tcp->cfg->tcp_delack_ms));
}

/* RFC 9293 3.8.6.1 / RFC 1122 4.2.2.17: probe a zero window with backoff,
 * for as long as the receiver answers. The probe is Linux's: an ACK at
 * SND.UNA-1, which the receiver must acknowledge with its window. */
static void persist_fire(struct tw_entry *e, sn_time now)
{
    struct tcb *c = container_of(e, struct tcb, persist_timer);
    uint32_t unsent = c->sndbuf.len - (c->snd_nxt - c->snd_una);
    if (c->sndbuf.len == 0)
        return; /* nothing waits for the window */
    if (c->snd_wnd != 0) {
        if (c->snd_max != c->snd_una)
            return; /* an ACK of what is in flight will come */
        /* RFC 9293 3.8.6.2.1 (SWS avoidance, MUST-38): the override
         * timeout. Sender SWS avoidance holds back a segment smaller than
         * the MSS that the window would take; with nothing in flight no
         * ACK will come to change that, and if the peer's window update
         * was lost the connection would stall for good: send it now. */
        uint32_t mss = tcp_snd_mss(c);
        uint32_t len = unsent < c->snd_wnd ? unsent : c->snd_wnd;
        if (len > mss)
            len = mss;
        if (len == 0)
            return;
        tcp_xmit(c, c->snd_nxt, len, TCP_F_ACK | TCP_F_PSH, now);
        c->snd_nxt += len;
        c->snd_max = seq_max(c->snd_max, c->snd_nxt);
        tcp_rtx_arm(c, now);
        return;
    }
    STAT_INC(c->tcp->st, tcp, persist_probes);
    tcp_xmit(c, c->snd_una - 1, 0, TCP_F_ACK, now);
    if (c->backoff < 16)
        c->backoff++;
    tcp_persist_arm(c, now);
}

void tcp_persist_arm(struct tcb *c, sn_time now)
{
    tw_arm(c->tcp->tw, &c->persist_timer, now + backed_off_rto(c));
}

/* RFC 1122 4.2.3.6 keepalive; the same timer bounds how long an orphaned
 * connection may sit in FIN-WAIT-2. */
static void keep_fire(struct tw_entry *e, sn_time now)
{
    struct tcb *c = container_of(e, struct tcb, keep_timer);
    const struct sn_config *cfg = c->tcp->cfg;
    if (c->state == TCPS_FIN_WAIT_2 && c->orphan) {
        tcp_close_conn(c, 0);
        return;
    }
    if (!c->keepalive || (c->state != TCPS_ESTABLISHED && c->state != TCPS_CLOSE_WAIT))
        return;
    sn_time idle_deadline = c->last_rcv + SN_SEC(cfg->tcp_keepalive_idle_s);
    if (c->keep_probes == 0 && now < idle_deadline) {
        tw_arm(c->tcp->tw, &c->keep_timer, idle_deadline);
        return;
    }
    if (c->keep_probes >= cfg->tcp_keepalive_probes) {
        tcp_close_conn(c, -ETIMEDOUT);
        return;
    }
    c->keep_probes++;
    STAT_INC(c->tcp->st, tcp, keepalive_probes);
    tcp_xmit(c, c->snd_una - 1, 0, TCP_F_ACK, now);
    tw_arm(c->tcp->tw, &c->keep_timer, now + SN_SEC(cfg->tcp_keepalive_intvl_s));
}

void tcp_keepalive_reset(struct tcb *c, sn_time now)
{
    c->last_rcv = now;
    c->keep_probes = 0;
    if (c->state == TCPS_FIN_WAIT_2 && c->orphan)
        tw_arm(c->tcp->tw, &c->keep_timer, now + FIN_WAIT_2_ORPHAN_TIMEOUT);
    else if (c->keepalive && !tw_armed(&c->keep_timer))
        tw_arm(c->tcp->tw, &c->keep_timer, now + SN_SEC(c->tcp->cfg->tcp_keepalive_idle_s));
}

static void wait_fire(struct tw_entry *e, sn_time now)
{
    (void)now;
    tcp_close_conn(container_of(e, struct tcb, wait_timer), 0);
}

/* RFC 9293 3.10.7.4: TIME-WAIT lasts 2*MSL, restarted by a retransmitted
 * FIN. */
void tcp_timewait_start(struct tcb *c, sn_time now)
{
    tw_cancel(c->tcp->tw, &c->rtx_timer);
    tw_cancel(c->tcp->tw, &c->persist_timer);
    tw_cancel(c->tcp->tw, &c->keep_timer);
    tw_cancel(c->tcp->tw, &c->delack_timer);
    tw_arm(c->tcp->tw, &c->wait_timer, now + 2 * SN_MSEC(c->tcp->cfg->tcp_msl_ms));
}

void tcp_timers_init(struct tcb *c)
{
    tw_entry_init(&c->rtx_timer, rtx_fire);
    tw_entry_init(&c->delack_timer, delack_fire);
    tw_entry_init(&c->persist_timer, persist_fire);
    tw_entry_init(&c->keep_timer, keep_fire);
    tw_entry_init(&c->wait_timer, wait_fire);
}

void tcp_timers_stop(struct tcb *c)
{
    struct timer_wheel *tw = c->tcp->tw;
    tw_cancel(tw, &c->rtx_timer);
    tw_cancel(tw, &c->delack_timer);
    tw_cancel(tw, &c->persist_timer);
    tw_cancel(tw, &c->keep_timer);
    tw_cancel(tw, &c->wait_timer);
}
