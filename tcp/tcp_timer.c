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
        c->rttvar_us = (uint32_t)((3 * (uint64_t)c->rttvar_us + delta) / 4);
        c->srtt_us = (uint32_t)((7 * (uint64_t)c->srtt_us + r) / 8);
    }
    c->rtt_fresh = true;
    c->kept_backoff = 0;
    uint32_t var = 4 * c->rttvar_us > TW_TICK_US ? 4 * c->rttvar_us : TW_TICK_US;
    c->rto_us = clamp_rto(c, (uint64_t)c->srtt_us + var);
}

static sn_time backed_off_rto(const struct tcb *c)
{
    uint32_t shift = c->kept_backoff + c->backoff; /* RFC 6298 5.5: doubles on */
    uint64_t rto = (uint64_t)c->rto_us << (shift < 16 ? shift : 16);
    return clamp_rto(c, rto);
}

#define WC_DELACK SN_MSEC(200) /* RFC 8985 7.2 WCDelAckT */

/* RFC 8985 7.2: the probe timeout, 2*SRTT plus the worst-case delayed ACK
 * when one segment is in flight, else plus tcp_pto_min_ms (as Linux adds
 * TCP_TIMEOUT_MIN: a margin for a peer whose ACKs come late); 0 when
 * no probe may be armed: it needs SACK (7), an RTT sample, a connection
 * not backing off from a timeout, no probe unanswered, an open window. */
static sn_time probe_timeout(const struct tcb *c)
{
    sn_time floor = SN_MSEC(c->tcp->cfg->tcp_pto_min_ms);
    if (!floor || !c->sack_ok || !c->srtt_us || c->backoff || c->probe_out ||
        c->snd_wnd == 0 || !tcps_synchronized(c->state) || c->state == TCPS_SYN_RECEIVED)
        return 0;
    /* RACK (RFC 8985 6.2): data SACKed above a hole, too little for
     * DupThresh: the hole is lost unless it turns up within the
     * reordering window, a quarter of the RTT (6.2.1 step 4). */
    if (c->n_sacked && !c->in_recovery)
        return c->srtt_us / 4 > TW_TICK_US ? c->srtt_us / 4 : TW_TICK_US;
    /* No tail probe behind our FIN: when spurious (a late ACK, not a
     * loss) its duplicate ACK comes after the connection closed and is
     * answered with RST (RFC 9293 3.10.7.1). A lost FIN waits for the RTO. */
    if (!c->n_sacked && c->fin_queued && seq_gt(c->snd_max, c->snd_una + c->sndbuf.len))
        return 0;
    bool one_segment = tcp_flight_size(c) <= tcp_snd_mss(c);
    return 2 * (sn_time)c->srtt_us + (one_segment ? WC_DELACK : floor);
}

void tcp_rtx_arm(struct tcb *c, sn_time now)
{
    sn_time rto = backed_off_rto(c), pto = probe_timeout(c);
    c->probe_armed = pto && pto < rto;
    tw_arm(c->tcp->tw, &c->rtx_timer, now + (c->probe_armed ? pto : rto));
}

void tcp_probe_rearm(struct tcb *c, sn_time now)
{
    /* Only a probe moves: a SACK must not restart the RTO (RFC 6298 5.3). */
    sn_time pto = probe_timeout(c);
    if (tw_armed(&c->rtx_timer) && pto && pto < backed_off_rto(c))
        tcp_rtx_arm(c, now);
}

/* RFC 8985: the probe timer expired with nothing acknowledged for a PTO.
 * Data the peer SACKed above a hole means the hole is lost (RACK, 6.2, in
 * its simplest form: everything sent a PTO ago is older than what was
 * delivered); otherwise the tail may be lost, and a probe (7.3) draws the
 * ACK whose SACK will tell. The RTO stays armed behind it. */
static void loss_probe(struct tcb *c, sn_time now)
{
    STAT_INC(c->tcp->st, tcp, loss_probes);
    c->probe_out = true;
    if (c->n_sacked || c->in_recovery)
        tcp_mark_lost(c, now);
    else
        tcp_send_loss_probe(c, now);
    tcp_rtx_arm(c, now);
}

static void give_up(struct tcb *c)
{
    if (c->state == TCPS_SYN_SENT)
        STAT_INC(c->tcp->st, tcp, attempt_fails);
    tcp_close_conn(c, -ETIMEDOUT);
}

/* RFC 5681 3.1 after a timeout: slow start from one segment. With SACK,
 * resend only what the peer lacks (RFC 6675 5.1 lets the sender keep the
 * scoreboard; Linux's tcp_enter_loss does) rather than go back N and
 * resend data the peer holds. The receiver may have reneged (RFC 2018 8):
 * a second timeout in a row forgets the SACKed ranges. Returns whether
 * the repair goes through the scoreboard. */
static bool rto_recovery_start(struct tcb *c)
{
    c->cc->on_rto(c);
    c->dupacks = 0;
    c->recover = c->snd_max; /* RFC 6582 4.1 */
    if (c->backoff > 1)
        c->n_sacked = 0;
    c->in_recovery = c->rto_recovery = c->sack_ok && c->sndbuf.len > 0;
    c->rexmit_hi = c->snd_una;
    c->rexmit_mark = c->snd_max;
    return c->rto_recovery;
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
     * window instead of counting retransmissions toward giving up. A lone
     * FIN is retransmitted by this timer (the peer takes it at RCV.NXT
     * whatever its window), with backoff and a give-up: the persist timer
     * has no data to probe with, and would leave it without a timer. */
    if (c->snd_wnd == 0 && c->state >= TCPS_ESTABLISHED && c->sndbuf.len > 0) {
        c->snd_nxt = c->snd_una;
        tcp_persist_arm(c, now);
        return;
    }
    if (c->probe_armed) {
        c->probe_armed = false;
        if (probe_timeout(c)) /* still allowed: our FIN may have gone since it was armed */
            loss_probe(c, now);
        else
            tcp_rtx_arm(c, now);
        return;
    }
    if (c->backoff >= limit) {
        give_up(c);
        return;
    }
    c->backoff++;
    STAT_INC(t->st, tcp, rto_timeouts);
    bool repair = tcps_synchronized(c->state) && c->state != TCPS_SYN_RECEIVED &&
                  rto_recovery_start(c);
    /* Karn, and more: an ACK of the timed segment now would also time the
     * wait for this timeout. Until a new sample the backed-off RTO stays. */
    c->rtt_timing = c->rtt_fresh = c->tlp_retrans = false;
    c->rto_tsval = tcp_now_ms(now) + c->ts_offset; /* what the resends carry */
    if (!repair)
        c->snd_nxt = c->snd_una; /* go back N */
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
