/* tcp/tcp_in.c: SEGMENT ARRIVES (RFC 9293 3.10.7).
 *
 * One function per state family: no connection (3.10.7.1), LISTEN
 * (3.10.7.2), SYN-SENT (3.10.7.3), and for the synchronized states one
 * pipeline of steps named after the RFC's ordinals (3.10.7.4). Each step
 * returns a verdict; tcp_input frees the packet, counts drops and calls
 * tcp_output once. Segment data is copied into the receive ring, so no
 * packet outlives the call. */
#include <errno.h>
#include <string.h>

#include "core/bytes.h"
#include "synack/synack.h"
#include "tcp/tcp.h"
#include "wire/icmp4.h"
#include "wire/wire.h"

enum verdict {
    V_CONTINUE, /* go on to the next step */
    V_DROP,     /* stop; count the drop reason; still run output (ACKs) */
    V_DONE,     /* stop; processed; run output */
    V_GONE,     /* the TCB was closed or freed: do not touch it again */
    V_RELISTEN, /* TIME-WAIT gave way to a new SYN: look for a listener */
};

struct seg_ctx {
    const struct tcp_seg *sg;
    uint32_t laddr, raddr;
    enum sn_drop why;
    sn_time now;
    /* RFC 5681 4.2: the segment was out of order, filled a hole or was a
     * duplicate: its ACK goes at once, not coalesced with the batch's (the
     * sender counts duplicate ACKs and SACKs to find losses). */
    bool ack_at_once;
};

static enum verdict drop(struct seg_ctx *x, enum sn_drop why)
{
    x->why = why;
    return V_DROP;
}

/* RFC 5961 7: challenge ACKs share a per-second budget. */
static void challenge_ack(struct tcb *c, sn_time now)
{
    struct tcp *t = c->tcp;
    if (now - t->challenge_refill >= SN_SEC(1)) {
        t->challenge_refill = now;
        t->challenge_tokens = t->cfg->tcp_challenge_ack_per_s;
    }
    if (t->challenge_tokens == 0)
        return;
    t->challenge_tokens--;
    STAT_INC(t->st, tcp, challenge_acks);
    c->ack_now = true;
}

/* ---- options negotiated on the handshake ---------------------------- */

static void negotiate(struct tcb *c, const struct tcp_opts *o, bool we_offered_all)
{
    const struct sn_config *cfg = c->tcp->cfg;
    /* RFC 9293 3.7.1: without the option, assume 536. */
    c->peer_mss = o->has_mss && o->mss >= 64 ? o->mss : 536;
    /* RFC 7323 2.2: scaling only when both sides sent the option. */
    c->ws_ok = o->has_ws && cfg->tcp_wscale > 0 && we_offered_all;
    c->snd_wscale = c->ws_ok ? (o->ws > 14 ? 14 : o->ws) : 0; /* RFC 7323 2.3: cap at 14 */
    c->rcv_wscale = c->ws_ok ? tcp_rcv_wscale_offer(c) : 0;
    /* RFC 7323 2.4: a scaled window goes out in units of 1 << rcv_wscale,
     * rounded up where rounding down would move the right edge left
     * (tcp_xmit), so the edge may lie up to a unit beyond the buffer: the
     * receiver must take data up to it. The ring gets that unit on top
     * (tcp_rcv_window keeps it out of what it announces); without it, data
     * sent into the rounded-up part is dropped, retransmitted into it and
     * dropped again, the peer backs off and the connection stalls (a
     * kernel echo client through 5 % loss: 60 s and more). */
    c->rcvbuf.max += (1u << c->rcv_wscale) - 1;
    c->ts_ok = o->has_ts && cfg->tcp_timestamps && we_offered_all;
    if (c->ts_ok)
        c->ts_recent = o->ts_val;
    c->sack_ok = o->sack_ok && cfg->tcp_sack && we_offered_all;
}

/* ---- LISTEN (RFC 9293 3.10.7.2) -------------------------------------- */

static struct tcb *passive_open(struct tcb *l, struct seg_ctx *x)
{
    const struct tcp_seg *sg = x->sg;
    struct tcp *t = l->tcp;
    struct tcb *c = tcb_new(t);
    if (!c)
        return NULL;
    tcb_setup(c, x->laddr, sg->dport, x->raddr, sg->sport, x->now);
    c->listener = l;
    c->irs = sg->seq;
    c->rcv_nxt = sg->seq + 1;
    c->rcv_adv = c->rcv_nxt;
    negotiate(c, &sg->opt, true);
    c->iss = tcp_isn(t, x->laddr, sg->dport, x->raddr, sg->sport, x->now);
    c->snd_una = c->snd_nxt = c->snd_max = c->recover = c->iss;
    c->snd_wnd = sg->wnd; /* RFC 7323 2.2: a SYN's window is never scaled */
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = sg->seq;
    c->snd_wl2 = c->iss;
    c->nodelay = l->nodelay;
    c->keepalive = l->keepalive;
    c->rtt_timing = true; /* time the SYN+ACK (Karn: unless retransmitted) */
    c->rtt_seq = c->iss;
    c->rtt_start = x->now;
    c->cc->init(c);
    tcb_hash_insert(c);
    tcp_set_state(c, TCPS_SYN_RECEIVED);
    STAT_INC(t->st, tcp, passive_opens);
    return c;
}

/* A final ACK that may carry a SYN cookie (RFC 4987 3.6). */
static struct tcb *cookie_open(struct tcb *l, struct seg_ctx *x)
{
    const struct tcp_seg *sg = x->sg;
    struct tcp *t = l->tcp;
    uint16_t mss = syncookie_check(t, x->laddr, sg->dport, x->raddr, sg->sport, sg->seq - 1,
                                   sg->ack - 1, x->now);
    if (!mss) {
        STAT_INC(t->st, tcp, syncookies_failed);
        return NULL;
    }
    if (l->n_accept_q >= l->backlog)
        return NULL;
    struct tcb *c = tcb_new(t);
    if (!c)
        return NULL;
    STAT_INC(t->st, tcp, syncookies_ok);
    tcb_setup(c, x->laddr, sg->dport, x->raddr, sg->sport, x->now);
    c->listener = l;
    c->irs = sg->seq - 1;
    c->rcv_nxt = sg->seq;
    c->rcv_adv = c->rcv_nxt;
    c->peer_mss = mss;
    c->iss = sg->ack - 1;
    /* The stateless SYN,ACK occupied ISS: SND.NXT is ISS + 1 (RFC 9293
     * 3.10.7.2), else the ACK of it would be beyond SND.NXT. */
    c->snd_una = c->recover = c->iss;
    c->snd_nxt = c->snd_max = c->iss + 1;
    c->snd_wl1 = sg->seq - 1;
    c->cc->init(c);
    tcb_hash_insert(c);
    tcp_set_state(c, TCPS_SYN_RECEIVED);
    STAT_INC(t->st, tcp, passive_opens);
    return c;
}

static enum verdict in_sync(struct tcb *c, struct seg_ctx *x);

static enum verdict in_listen(struct tcb *l, struct seg_ctx *x)
{
    const struct tcp_seg *sg = x->sg;
    struct tcp *t = l->tcp;
    if (sg->flags & TCP_F_RST)
        return drop(x, SN_DROP_TCP_RST_IGNORED);
    if (sg->flags & TCP_F_ACK) {
        struct tcb *c = (sg->flags & TCP_F_SYN) || !t->cfg->tcp_syncookies ? NULL : cookie_open(l, x);
        if (!c) {
            tcp_reply_rst(t, x->laddr, x->raddr, sg, x->now);
            return drop(x, SN_DROP_TCP_NO_SOCKET);
        }
        enum verdict v = in_sync(c, x);
        if (v != V_GONE)
            tcp_output(c, x->now);
        return v == V_DROP ? V_DROP : V_GONE;
    }
    if (!(sg->flags & TCP_F_SYN))
        return drop(x, SN_DROP_TCP_BAD_FLAGS);
    if (l->n_accept_q >= l->backlog)
        return drop(x, SN_DROP_TCP_LISTEN_OVERFLOW);
    bool queue_full = l->n_syn_rcvd >= t->cfg->tcp_syn_backlog;
    if (t->cfg->tcp_syncookies == 2 || (queue_full && t->cfg->tcp_syncookies == 1)) {
        uint16_t mss = sg->opt.has_mss ? sg->opt.mss : 536;
        uint32_t cookie = syncookie_make(t, x->laddr, sg->dport, x->raddr, sg->sport, sg->seq,
                                         mss, x->now);
        /* The cookie encodes the peer's MSS; the SYN,ACK offers ours
         * (RFC 9293 3.7.1), as tcb_setup computes it. */
        uint32_t our_mss = net_path_mtu(t->net, x->raddr) - IP4_HDR_LEN - TCP_HDR_LEN;
        if (our_mss > t->cfg->tcp_mss)
            our_mss = t->cfg->tcp_mss;
        tcp_send_cookie_synack(t, x->laddr, x->raddr, sg, cookie, (uint16_t)our_mss, x->now);
        return V_GONE;
    }
    if (queue_full)
        return drop(x, SN_DROP_TCP_LISTEN_OVERFLOW);
    struct tcb *c = passive_open(l, x);
    if (!c)
        return drop(x, SN_DROP_NOMEM);
    tcp_output(c, x->now); /* SYN+ACK: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> */
    return V_GONE;
}

/* RFC 6298 5.7: when the SYN (or SYN+ACK) had to be retransmitted and the
 * RTO is below 3 s, data transmission starts with an RTO of 3 s. */
static void syn_rto_reinit(struct tcb *c)
{
    if (c->rto_us < 3000000)
        c->rto_us = 3000000;
    c->backoff = 0;
}

/* ---- SYN-SENT (RFC 9293 3.10.7.3) ------------------------------------ */

static enum verdict in_syn_sent(struct tcb *c, struct seg_ctx *x)
{
    const struct tcp_seg *sg = x->sg;
    bool ack = sg->flags & TCP_F_ACK;
    if (ack && (seq_le(sg->ack, c->iss) || seq_gt(sg->ack, c->snd_max))) {
        tcp_reply_rst(c->tcp, x->laddr, x->raddr, sg, x->now);
        return drop(x, SN_DROP_TCP_ACK_UNACCEPTABLE);
    }
    if (sg->flags & TCP_F_RST) {
        if (!ack)
            return drop(x, SN_DROP_TCP_RST_IGNORED);
        STAT_INC(c->tcp->st, tcp, attempt_fails);
        tcp_close_conn(c, -ECONNREFUSED);
        return V_GONE;
    }
    if (!(sg->flags & TCP_F_SYN))
        return drop(x, SN_DROP_TCP_BAD_FLAGS);
    c->irs = sg->seq;
    c->rcv_nxt = sg->seq + 1;
    c->rcv_adv = c->rcv_nxt;
    negotiate(c, &sg->opt, true);
    c->cc->init(c);
    c->snd_wnd = sg->wnd;
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = sg->seq;
    c->snd_wl2 = sg->ack;
    c->ack_now = true;
    if (!ack) {
        /* Simultaneous open: answer with SYN+ACK from the same ISS. */
        c->snd_nxt = c->iss;
        tcp_set_state(c, TCPS_SYN_RECEIVED);
        return V_DONE;
    }
    if (c->rtt_timing || c->backoff == 0)
        tcp_rtt_sample(c, x->now - c->rtt_start);
    else
        syn_rto_reinit(c);
    c->rtt_timing = false;
    c->backoff = 0;
    c->snd_una = sg->ack;
    tw_cancel(c->tcp->tw, &c->rtx_timer);
    tcp_set_state(c, TCPS_ESTABLISHED);
    tcb_raise(c, SN_EV_WRITABLE);
    return V_DONE;
}

/* ---- synchronized states (RFC 9293 3.10.7.4) -------------------------- */

static uint32_t seg_len(const struct tcp_seg *sg)
{
    return sg->len + !!(sg->flags & TCP_F_SYN) + !!(sg->flags & TCP_F_FIN);
}

static uint32_t offered_window(const struct tcb *c)
{
    return seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
}

/* RFC 9293 3.10.7.4 first: the four acceptability cases. */
static bool seq_acceptable(const struct tcb *c, const struct tcp_seg *sg)
{
    uint32_t wnd = offered_window(c), len = seg_len(sg);
    if (len == 0)
        return wnd == 0 ? sg->seq == c->rcv_nxt
                        : seq_in(sg->seq, c->rcv_nxt, c->rcv_nxt + wnd);
    if (wnd == 0)
        return false;
    return seq_in(sg->seq, c->rcv_nxt, c->rcv_nxt + wnd) ||
           seq_in(sg->seq + len - 1, c->rcv_nxt, c->rcv_nxt + wnd);
}

/* RFC 6191 / RFC 9293 3.10.7.4 note: a SYN may reopen a TIME-WAIT
 * connection when it is certainly new: its sequence number lies beyond
 * RCV.NXT, or its timestamp is newer than TS.Recent, and it would not be
 * rejected by PAWS (Linux's tcp_timewait_state_process takes either). */
static enum verdict timewait_syn(struct tcb *c, struct seg_ctx *x)
{
    const struct tcp_seg *sg = x->sg;
    bool ts = c->ts_ok && sg->opt.has_ts;
    int32_t ts_delta = ts ? (int32_t)(sg->opt.ts_val - c->ts_recent) : 0;
    bool newer = seq_gt(sg->seq, c->rcv_nxt) || ts_delta > 0;
    if (!newer || ts_delta < 0)
        return V_CONTINUE;
    STAT_INC(c->tcp->st, tcp, timewait_recycled);
    tcp_close_conn(c, 0);
    return V_RELISTEN;
}

static enum verdict check_seq(struct tcb *c, struct seg_ctx *x)
{
    const struct tcp_seg *sg = x->sg;
    bool rst = sg->flags & TCP_F_RST;
    /* Our SYN+ACK was lost and the SYN comes again: answer it at once
     * rather than with a bare ACK (the SYN lies below RCV.NXT). */
    if (c->state == TCPS_SYN_RECEIVED && (sg->flags & (TCP_F_SYN | TCP_F_ACK | TCP_F_RST)) == TCP_F_SYN &&
        sg->seq == c->irs) {
        c->snd_nxt = c->iss;
        return V_DONE;
    }
    /* RFC 9293 3.5 figure 7 (simultaneous open): the peer's SYN,ACK repeats
     * its SYN, one below RCV.NXT, but its ACK is new; only the new part is
     * processed (3.10.7.4 first): the ACK completes the open, and the old
     * SYN is acknowledged. */
    if (c->state == TCPS_SYN_RECEIVED && sg->seq == c->irs && sg->len == 0 &&
        (sg->flags & (TCP_F_SYN | TCP_F_ACK | TCP_F_RST)) == (TCP_F_SYN | TCP_F_ACK)) {
        c->ack_now = true;
        return V_CONTINUE;
    }
    /* RFC 7323 5.3 PAWS: a timestamp older than TS.Recent is a duplicate. */
    if (c->ts_ok && sg->opt.has_ts && !rst && (int32_t)(sg->opt.ts_val - c->ts_recent) < 0) {
        c->ack_now = true;
        return drop(x, SN_DROP_TCP_PAWS);
    }
    if (seq_acceptable(c, sg))
        return V_CONTINUE;
    /* Zero window: still take ACK, URG and RST at RCV.NXT (3.10.7.4). */
    if (offered_window(c) == 0 && sg->seq == c->rcv_nxt)
        return V_CONTINUE;
    if (!rst) {
        c->ack_now = x->ack_at_once = true; /* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
        if (c->state == TCPS_TIME_WAIT && (sg->flags & TCP_F_FIN))
            tcp_timewait_start(c, x->now); /* a retransmitted FIN */
    }
    return drop(x, SN_DROP_TCP_OUT_OF_WINDOW);
}

/* RFC 7323 4.3: remember the timestamp to echo. */
static void update_ts_recent(struct tcb *c, const struct tcp_seg *sg)
{
    if (c->ts_ok && sg->opt.has_ts && seq_le(sg->seq, c->last_ack_sent) &&
        (int32_t)(sg->opt.ts_val - c->ts_recent) >= 0)
        c->ts_recent = sg->opt.ts_val;
}

/* Second: RST. RFC 5961 3.2: only an RST exactly at RCV.NXT resets; one
 * elsewhere in the window earns a challenge ACK. */
static enum verdict check_rst(struct tcb *c, struct seg_ctx *x)
{
    if (!(x->sg->flags & TCP_F_RST))
        return V_CONTINUE;
    if (x->sg->seq != c->rcv_nxt) {
        challenge_ack(c, x->now);
        return drop(x, SN_DROP_TCP_RST_IGNORED);
    }
    switch (c->state) {
    case TCPS_SYN_RECEIVED:
        /* Passive: back to LISTEN, i.e. this TCB goes; active: refused. */
        tcp_close_conn(c, c->listener ? 0 : -ECONNREFUSED);
        break;
    case TCPS_ESTABLISHED:
    case TCPS_FIN_WAIT_1:
    case TCPS_FIN_WAIT_2:
    case TCPS_CLOSE_WAIT:
        STAT_INC(c->tcp->st, tcp, estab_resets);
        tcp_close_conn(c, -ECONNRESET);
        break;
    default:
        tcp_close_conn(c, 0);
    }
    return V_GONE;
}

/* Fourth: SYN. RFC 9293 / RFC 5961 4.2: a SYN in a synchronized state
 * gets a challenge ACK. */
static enum verdict check_syn(struct tcb *c, struct seg_ctx *x)
{
    if (!(x->sg->flags & TCP_F_SYN))
        return V_CONTINUE;
    if (c->state == TCPS_SYN_RECEIVED && x->sg->seq == c->irs)
        return V_CONTINUE; /* the simultaneous open's SYN,ACK (check_seq) */
    challenge_ack(c, x->now);
    return drop(x, SN_DROP_TCP_SYN_BAD);
}

static void sack_scoreboard_update(struct tcb *c, const struct tcp_opts *o, uint32_t ack)
{
    /* Forget what the cumulative ACK covers: this segment's (checked
     * acceptable), or a DSACK of bytes it just acknowledged (RFC 2883)
     * would stay on the board as a block below SND.UNA. A block holding
     * SND.UNA itself contradicts the ACK (the receiver reneged, RFC 2018
     * 8): gone too, or a timeout would find no hole to resend. */
    uint32_t una = seq_gt(ack, c->snd_una) ? ack : c->snd_una;
    uint8_t n = 0;
    for (uint8_t i = 0; i < c->n_sacked; i++)
        if (seq_gt(c->sacked[i].left, una))
            c->sacked[n++] = c->sacked[i];
    c->n_sacked = n;
    for (uint8_t i = 0; i < o->n_sack; i++) {
        struct sack_block b = o->sack[i];
        /* RFC 2018 / RFC 6675: only blocks within what we sent count. */
        if (!seq_lt(b.left, b.right) || seq_le(b.left, una) || seq_gt(b.right, c->snd_max))
            continue;
        /* Merge with every block it touches. */
        uint8_t k = 0;
        for (uint8_t j = 0; j < c->n_sacked; j++) {
            struct sack_block s = c->sacked[j];
            if (seq_le(s.left, b.right) && seq_ge(s.right, b.left)) {
                b.left = seq_min(b.left, s.left);
                b.right = seq_max(b.right, s.right);
            } else {
                c->sacked[k++] = s;
            }
        }
        c->n_sacked = k;
        if (c->n_sacked < TCP_MAX_RANGES)
            c->sacked[c->n_sacked++] = b;
    }
}

static uint32_t sacked_bytes(const struct tcb *c)
{
    uint32_t n = 0;
    for (uint8_t i = 0; i < c->n_sacked; i++)
        n += c->sacked[i].right - c->sacked[i].left;
    return n;
}

/* The bytes a retransmission at SND.UNA carries: one segment of what was
 * sent before, never beyond SND.MAX. (A whole MSS from the send buffer
 * would also send new data, past the peer's window and unrecorded in
 * snd_max: the peer then acknowledges bytes we think we never sent, and
 * every ACK of either side is unacceptable to the other, RFC 9293
 * 3.10.7.4 fifth: an ACK war until the connection times out.) */
static uint32_t rexmit_len(const struct tcb *c)
{
    uint32_t sent = c->snd_max - c->snd_una; /* may count our FIN */
    uint32_t len = c->sndbuf.len < sent ? c->sndbuf.len : sent;
    uint32_t mss = tcp_snd_mss(c);
    return len < mss ? len : mss;
}

/* The first unacknowledged segment again, whatever the pipe says. */
static void resend_first(struct tcb *c, sn_time now)
{
    uint32_t len = rexmit_len(c);
    if (len) {
        c->rexmit_hi = c->snd_una + tcp_resend(c, c->snd_una, len, now);
        c->rexmit_mark = c->snd_max;
    }
}

/* RFC 5681 3.2 / RFC 6675 5: fast retransmit of the first unacked segment. */
static void enter_recovery(struct tcb *c, sn_time now)
{
    c->in_recovery = true;
    c->recover = c->snd_max;
    c->cc->on_loss(c);
    if (c->sack_ok)
        c->cwnd = c->ssthresh; /* RFC 6675 5 (4.2): pipe governs, no inflation */
    STAT_INC(c->tcp->st, tcp, fast_retrans);
    if (c->sack_ok)
        STAT_INC(c->tcp->st, tcp, sack_recoveries);
    /* Without SACK the timed segment's ACK waits for the repair of the
     * hole before it, and would time that too. */
    if (!c->sack_ok)
        c->rtt_timing = false;
    resend_first(c, now);
    tcp_rtx_arm(c, now);
}

/* A lost retransmission. RFC 6675 resends a hole once and leaves a lost
 * resend to the timeout. But when data sent after the last resend is
 * SACKed while resent holes are still missing, those resends were lost
 * (on a path that keeps order: RFC 8985 6.2's rule, by transmission
 * order, as Linux's tcp_mark_lost_retrans did before RACK): let the holes
 * be resent again at once rather than stall for an RTO. */
static void lost_retrans_check(struct tcb *c)
{
    if (!c->in_recovery || !c->sack_ok || !seq_gt(c->rexmit_hi, c->snd_una))
        return;
    uint32_t highest = c->snd_una;
    for (uint8_t i = 0; i < c->n_sacked; i++)
        highest = seq_max(highest, c->sacked[i].right);
    if (!seq_gt(highest, c->rexmit_mark))
        return;
    c->rexmit_hi = c->snd_una;
    c->rexmit_mark = c->snd_max;
}

void tcp_mark_lost(struct tcb *c, sn_time now)
{
    /* Like a TLP (RFC 8985 7.3), the first hole goes whatever the pipe:
     * data sent after it counts as in flight, but nothing came back. */
    if (c->in_recovery)
        resend_first(c, now);
    else
        enter_recovery(c, now);
    tcp_output(c, now);
}

/* The timed segment (never resent: Karn) is SACKed: that is its RTT, where
 * the cumulative ACK may come much later, once a hole before it is
 * repaired (Linux takes SACK RTT samples too). */
static void sack_rtt_sample(struct tcb *c, sn_time now)
{
    if (!c->rtt_timing)
        return;
    for (uint8_t i = 0; i < c->n_sacked; i++)
        if (seq_le(c->sacked[i].left, c->rtt_seq) && seq_lt(c->rtt_seq, c->sacked[i].right)) {
            tcp_rtt_sample(c, now - c->rtt_start);
            c->rtt_timing = false;
            return;
        }
}

/* RFC 2883 4.1: a D-SACK is a first block below the cumulative ACK, or
 * inside the second block. */
static bool has_dsack(const struct tcp_seg *sg)
{
    const struct tcp_opts *o = &sg->opt;
    if (o->n_sack == 0)
        return false;
    const struct sack_block *b = o->sack;
    return seq_le(b[0].right, sg->ack) ||
           (o->n_sack > 1 && seq_ge(b[0].left, b[1].left) && seq_le(b[0].right, b[1].right));
}

/* RFC 8985 7.4: a probe that resent data. A D-SACK says the peer had it:
 * nothing was lost. Data beyond it acknowledged with no D-SACK says the
 * probe repaired a loss, which gets the response any loss gets (Linux's
 * tcp_process_tlp_ack: a reduction to ssthresh). */
static void tlp_ack(struct tcb *c, const struct tcp_seg *sg)
{
    if (seq_lt(sg->ack, c->tlp_high))
        return;
    if (has_dsack(sg)) {
        c->tlp_retrans = false;
    } else if (seq_gt(sg->ack, c->tlp_high)) {
        c->tlp_retrans = false;
        if (!c->in_recovery) {
            c->cc->on_loss(c);
            c->cwnd = c->ssthresh;
        }
    }
}

static void on_dupack(struct tcb *c, sn_time now)
{
    c->dupacks++;
    bool sack_loss = c->sack_ok && sacked_bytes(c) >= TCP_DUPTHRESH * tcp_snd_mss(c);
    if (!c->in_recovery) {
        /* RFC 6582 4.1: no new recovery until the ACK passes "recover". */
        if ((c->dupacks >= TCP_DUPTHRESH || sack_loss) && seq_gt(c->snd_una, c->recover - 1))
            enter_recovery(c, now);
        return;
    }
    if (!c->sack_ok)
        c->cwnd += tcp_snd_mss(c); /* RFC 5681 3.2 step 4: inflate */
}

/* RFC 7323 4.1 (RTTM): the echoed timestamp dates a segment the peer
 * took, a retransmission or not, so it gives the sample Karn's rule
 * cannot, without which a backed-off RTO never comes down while only
 * retransmissions are in flight (a closing connection sends no new data
 * to time). Only an echo of a segment sent since the last timeout: an
 * older one (a duplicate's ACK echoes TS.Recent, RFC 7323 4.3) would time
 * the wait for the timeout too. Millisecond resolution: used only then. */
static void ts_rtt_sample(struct tcb *c, const struct tcp_seg *sg, sn_time now)
{
    uint32_t ts_now = tcp_now_ms(now) + c->ts_offset, ecr = sg->opt.ts_ecr;
    if (!c->ts_ok || !sg->opt.has_ts || ecr == 0 || (int32_t)(ecr - c->rto_tsval) < 0 ||
        (int32_t)(ts_now - ecr) < 0)
        return; /* none, older than the timeout, or from the future */
    tcp_rtt_sample(c, SN_MSEC(ts_now - ecr));
}

/* New data acknowledged: RTT, congestion window, buffers, recovery. */
static void on_new_ack(struct tcb *c, const struct tcp_seg *sg, sn_time now)
{
    uint32_t ack = sg->ack;
    uint32_t acked = ack - c->snd_una;
    if (c->snd_una == c->iss)
        acked--; /* our SYN */
    uint32_t data = acked < c->sndbuf.len ? acked : c->sndbuf.len;
    if (c->rtt_timing && seq_gt(ack, c->rtt_seq)) {
        tcp_rtt_sample(c, now - c->rtt_start);
        c->rtt_timing = false;
    } else if (c->backoff && !c->rtt_fresh) {
        ts_rtt_sample(c, sg, now);
    }
    /* RFC 6298 5.5 and the note after 5.7 (Karn): the backed-off RTO stays
     * until a new RTT measurement collapses it. As BSD (t_rxtcur), it is
     * this episode's backoff over the measured RTO, not compounded with
     * earlier episodes': under heavy loss without timestamps samples are
     * rare, and a compounding RTO climbed to its 120 s ceiling. */
    if (c->backoff && !c->rtt_fresh && c->backoff > c->kept_backoff)
        c->kept_backoff = (uint8_t)(c->backoff < 16 ? c->backoff : 16);
    c->backoff = 0;
    ring_read(&c->sndbuf, NULL, data);
    ring_compact(&c->sndbuf);
    c->snd_una = ack;
    if (seq_lt(c->snd_nxt, c->snd_una))
        c->snd_nxt = c->snd_una;
    c->bytes_acked += data;
    if (c->rto_recovery) {
        c->cc->on_ack(c, data); /* RFC 5681 3.1: slow start after a timeout */
        if (seq_ge(ack, c->recover))
            c->in_recovery = c->rto_recovery = false;
    } else if (c->in_recovery) {
        if (seq_ge(ack, c->recover)) {
            /* RFC 6582 3.2 step 3, full ACK: deflate to
             * min(ssthresh, max(FlightSize, SMSS) + SMSS). */
            uint32_t mss = tcp_snd_mss(c), fl = tcp_flight_size(c);
            uint32_t flight = (fl > mss ? fl : mss) + mss;
            c->cwnd = c->ssthresh < flight ? c->ssthresh : flight;
            c->in_recovery = false;
        } else if (!c->sack_ok) {
            /* Partial ACK: resend the next hole, deflate by what was acked. */
            tcp_resend(c, c->snd_una, rexmit_len(c), now);
            c->cwnd -= data < c->cwnd ? data : c->cwnd;
            if (data >= tcp_snd_mss(c))
                c->cwnd += tcp_snd_mss(c);
        }
    } else {
        c->cc->on_ack(c, data);
    }
    c->dupacks = 0;
    if (c->snd_una == c->snd_max)
        tw_cancel(c->tcp->tw, &c->rtx_timer);
    else
        tcp_rtx_arm(c, now); /* RFC 6298 5.3 */
    if (data)
        tcb_raise(c, SN_EV_WRITABLE);
}

/* RFC 9293 3.10.7.4 fifth, window update: only from a newer segment. */
/* RFC 7323 2.2: the window of a segment with SYN set is never scaled. */
static uint32_t seg_wnd(const struct tcb *c, const struct tcp_seg *sg)
{
    return (sg->flags & TCP_F_SYN) ? sg->wnd : (uint32_t)sg->wnd << c->snd_wscale;
}

static void update_window(struct tcb *c, const struct tcp_seg *sg)
{
    if (!(seq_lt(c->snd_wl1, sg->seq) || (c->snd_wl1 == sg->seq && seq_le(c->snd_wl2, sg->ack))))
        return;
    uint32_t wnd = seg_wnd(c, sg);
    if (c->snd_wnd == 0 && wnd > 0) {
        tw_cancel(c->tcp->tw, &c->persist_timer);
        c->backoff = 0;
    }
    c->snd_wnd = wnd;
    c->snd_wl1 = sg->seq;
    c->snd_wl2 = sg->ack;
    if (wnd > c->max_snd_wnd)
        c->max_snd_wnd = wnd;
}

/* Our FIN is acknowledged when the ACK passes it. The FIN follows the
 * data, and our SYN while that is unacknowledged (a FIN queued in
 * SYN-RECEIVED: the ACK of the SYN is not the ACK of the FIN). */
static bool fin_acked(const struct tcb *c, uint32_t ack)
{
    uint32_t fin_seq = c->snd_una + (c->snd_una == c->iss) + c->sndbuf.len;
    return c->fin_queued && ack == fin_seq + 1 && c->snd_max == ack;
}

/* SYN-RECEIVED -> ESTABLISHED on the ACK of our SYN. */
static enum verdict ack_synrcvd(struct tcb *c, struct seg_ctx *x)
{
    const struct tcp_seg *sg = x->sg;
    if (!(seq_lt(c->snd_una, sg->ack) && seq_le(sg->ack, c->snd_max))) {
        tcp_reply_rst(c->tcp, x->laddr, x->raddr, sg, x->now);
        return drop(x, SN_DROP_TCP_ACK_UNACCEPTABLE);
    }
    c->snd_wnd = seg_wnd(c, sg);
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = sg->seq;
    c->snd_wl2 = sg->ack;
    if (c->backoff)
        syn_rto_reinit(c); /* our SYN+ACK was retransmitted: no RTT sample (Karn) */
    struct tcb *l = c->listener;
    /* A CLOSE in SYN-RECEIVED queued its FIN (tcp_usr_shutdown). */
    tcp_set_state(c, c->fin_queued ? TCPS_FIN_WAIT_1 : TCPS_ESTABLISHED);
    if (l) {
        c->in_accept_q = true;
        c->q_next = NULL;
        if (l->accept_tail)
            l->accept_tail->q_next = c;
        else
            l->accept_head = c;
        l->accept_tail = c;
        l->n_accept_q++;
        tcb_raise(l, SN_EV_READABLE);
    } else {
        tcb_raise(c, SN_EV_WRITABLE);
    }
    return V_CONTINUE;
}

/* Fifth: ACK. */
static enum verdict check_ack(struct tcb *c, struct seg_ctx *x)
{
    const struct tcp_seg *sg = x->sg;
    if (!(sg->flags & TCP_F_ACK))
        return drop(x, SN_DROP_TCP_BAD_FLAGS);
    if (c->state == TCPS_SYN_RECEIVED) {
        enum verdict v = ack_synrcvd(c, x);
        if (v != V_CONTINUE)
            return v;
    }
    /* RFC 5961 5.2: SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT. */
    if (seq_lt(sg->ack, c->snd_una - c->max_snd_wnd) || seq_gt(sg->ack, c->snd_max)) {
        challenge_ack(c, x->now);
        return drop(x, SN_DROP_TCP_ACK_UNACCEPTABLE);
    }
    uint32_t sacked_before = c->sack_ok ? sacked_bytes(c) : 0;
    if (c->sack_ok)
        sack_scoreboard_update(c, &sg->opt, sg->ack);
    /* RFC 6675 2: with SACK, a DupAck is an ACK that SACKs data not SACKed
     * before, whatever its window or length (a receiver that opens its
     * window as it reads, as Linux does, changes the window on nearly
     * every ACK: RFC 5681's definition alone would never see 3 of them). */
    bool sacked_new = c->sack_ok && sacked_bytes(c) > sacked_before;
    if (sacked_new)
        sack_rtt_sample(c, x->now);
    bool acked_new = seq_gt(sg->ack, c->snd_una);
    if (c->tlp_retrans)
        tlp_ack(c, sg);
    if (sacked_new || acked_new)
        c->probe_out = false; /* the peer answered: a new probe may go */
    bool our_fin_acked = fin_acked(c, sg->ack);
    uint32_t old_wnd = c->snd_wnd;
    update_window(c, sg);
    if (acked_new) {
        on_new_ack(c, sg, x->now);
    } else if (sg->ack == c->snd_una && c->snd_max != c->snd_una &&
               ((seg_len(sg) == 0 && c->snd_wnd == old_wnd) || sacked_new)) {
        on_dupack(c, x->now); /* RFC 5681 2 / RFC 6675 2: a duplicate ACK */
    }
    if (sacked_new && !acked_new)
        tcp_probe_rearm(c, x->now);
    lost_retrans_check(c);
    if (!our_fin_acked)
        return V_CONTINUE;
    switch (c->state) {
    case TCPS_FIN_WAIT_1:
        tcp_set_state(c, TCPS_FIN_WAIT_2);
        tcp_keepalive_reset(c, x->now); /* bounds an orphan's FIN-WAIT-2 */
        break;
    case TCPS_CLOSING:
        tcp_set_state(c, TCPS_TIME_WAIT);
        tcp_timewait_start(c, x->now);
        break;
    case TCPS_LAST_ACK:
        tcp_close_conn(c, 0);
        return V_GONE;
    default:
        break;
    }
    return V_CONTINUE;
}

/* RFC 2018 4: keep the ranges sorted and merged; ofo_last names the one
 * the latest segment grew, which is reported first. */
static bool ofo_add(struct tcb *c, uint32_t left, uint32_t right)
{
    uint8_t i = 0;
    while (i < c->n_ofo && seq_lt(c->ofo[i].right, left))
        i++;
    if (i < c->n_ofo && seq_le(c->ofo[i].left, right)) {
        c->ofo[i].left = seq_min(c->ofo[i].left, left);
        c->ofo[i].right = seq_max(c->ofo[i].right, right);
        while (i + 1 < c->n_ofo && seq_le(c->ofo[i + 1].left, c->ofo[i].right)) {
            c->ofo[i].right = seq_max(c->ofo[i].right, c->ofo[i + 1].right);
            memmove(&c->ofo[i + 1], &c->ofo[i + 2], (size_t)(c->n_ofo - i - 2) * sizeof(c->ofo[0]));
            c->n_ofo--;
        }
    } else {
        if (c->n_ofo >= c->tcp->cfg->tcp_ofo_max_segs || c->n_ofo >= TCP_MAX_RANGES)
            return false;
        memmove(&c->ofo[i + 1], &c->ofo[i], (size_t)(c->n_ofo - i) * sizeof(c->ofo[0]));
        c->ofo[i] = (struct sack_block){left, right};
        c->n_ofo++;
    }
    c->ofo_last = i;
    return true;
}

/* In-order data reached the first out-of-order range: commit what joins. */
static void ofo_drain(struct tcb *c)
{
    while (c->n_ofo && seq_le(c->ofo[0].left, c->rcv_nxt)) {
        if (seq_gt(c->ofo[0].right, c->rcv_nxt)) {
            uint32_t extra = c->ofo[0].right - c->rcv_nxt;
            ring_commit(&c->rcvbuf, extra);
            c->rcv_nxt += extra;
            c->bytes_received += extra;
        }
        memmove(&c->ofo[0], &c->ofo[1], (size_t)(c->n_ofo - 1) * sizeof(c->ofo[0]));
        c->n_ofo--;
    }
    c->ofo_last = 0;
}

/* RFC 9293 3.8.6.3 / RFC 5681 4.2: ACK at least every second full-sized
 * segment, within the delayed-ACK timeout; at once when filling a hole. */
static void schedule_ack(struct tcb *c, uint32_t len, bool filled_hole, sn_time now)
{
    /* Full-sized: the peer's MSS toward us, less its timestamp option. A
     * GSO super-frame (--offload) of two or more of them is ACKed at once. */
    uint32_t full = c->adv_mss - (c->ts_ok ? 12u : 0u);
    if (len >= full)
        c->delack_segs = (uint8_t)(c->delack_segs + (len >= 2 * full ? 2 : 1));
    if (c->quickacks_left) {
        c->quickacks_left--;
        c->ack_now = true;
    }
    if (filled_hole || c->quickack || c->delack_segs >= 2)
        c->ack_now = true;
    if (!c->ack_now)
        tcp_delack_arm(c, now);
}

/* The one copy of received payload, @off past the unread bytes; counted
 * (bytes, and growths of the ring: issue 7 wants copies and allocations
 * visible in the stats). */
static int rcvbuf_put(struct tcb *c, uint32_t off, const uint8_t *data, uint32_t len)
{
    uint32_t cap = c->rcvbuf.cap;
    if (ring_write_at(&c->rcvbuf, c->rcvbuf.len + off, data, len) < 0)
        return -1;
    STAT_ADD(c->tcp->st, tcp, rx_copied_bytes, len);
    if (c->rcvbuf.cap != cap)
        STAT_INC(c->tcp->st, tcp, buf_grows);
    return 0;
}

/* Seventh: segment text. Data at RCV.NXT goes to the reader; data beyond
 * it is held at its offset in the receive ring (bounded by the ring). */
static void in_text(struct tcb *c, struct seg_ctx *x, uint32_t *fin_seq)
{
    const struct tcp_seg *sg = x->sg;
    uint32_t seq = sg->seq, len = sg->len;
    const uint8_t *data = sg->data;
    *fin_seq = seq + len;
    if (len == 0)
        return;
    if (seq_lt(seq, c->rcv_nxt)) {
        uint32_t skip = c->rcv_nxt - seq;
        if (skip >= len) {
            c->ack_now = x->ack_at_once = true; /* a duplicate: our ACK was lost */
            return;
        }
        seq += skip, data += skip, len -= skip;
    }
    uint32_t off = seq - c->rcv_nxt;
    uint32_t room = ring_space(&c->rcvbuf);
    if (off >= room) {
        c->ack_now = true;
        pkt_drop(c->tcp->st, NULL, SN_DROP_TCP_RCVBUF_FULL);
        *fin_seq = c->rcv_nxt - 1; /* the FIN is beyond the window too */
        return;
    }
    if (len > room - off) {
        len = room - off;
        *fin_seq = c->rcv_nxt - 1;
    }
    c->segs_in++;
    if (off > 0) {
        if (rcvbuf_put(c, off, data, len) < 0 ||
            !ofo_add(c, seq, seq + len)) {
            pkt_drop(c->tcp->st, NULL, SN_DROP_TCP_OFO_LIMIT);
        } else {
            STAT_INC(c->tcp->st, tcp, ofo_queued);
        }
        c->ack_now = x->ack_at_once = true; /* RFC 5681 4.2: out-of-order data */
        return;
    }
    bool had_ofo = c->n_ofo > 0;
    if (rcvbuf_put(c, 0, data, len) < 0) {
        pkt_drop(c->tcp->st, NULL, SN_DROP_NOMEM);
        c->ack_now = true;
        return;
    }
    ring_commit(&c->rcvbuf, len);
    c->rcv_nxt += len;
    c->bytes_received += len;
    ofo_drain(c);
    schedule_ack(c, len, had_ofo, x->now);
    x->ack_at_once = had_ofo;
    tcb_raise(c, SN_EV_READABLE);
}

/* Eighth: FIN (RFC 9293 3.10.7.4), once every byte before it arrived. */
static enum verdict in_fin(struct tcb *c, sn_time now)
{
    c->rcv_nxt++;
    c->fin_rcvd = true;
    c->ofo_fin = false;
    c->ack_now = true;
    tcb_raise(c, SN_EV_READABLE);
    switch (c->state) {
    case TCPS_SYN_RECEIVED:
    case TCPS_ESTABLISHED:
        tcp_set_state(c, TCPS_CLOSE_WAIT);
        break;
    case TCPS_FIN_WAIT_1:
        tcp_set_state(c, TCPS_CLOSING); /* our FIN is not yet acked */
        break;
    case TCPS_FIN_WAIT_2:
        tcp_set_state(c, TCPS_TIME_WAIT);
        tcp_timewait_start(c, now);
        tcb_raise(c, SN_EV_CLOSED);
        break;
    default:
        break;
    }
    return V_DONE;
}

static bool accepts_text(enum tcp_state s)
{
    return s == TCPS_ESTABLISHED || s == TCPS_FIN_WAIT_1 || s == TCPS_FIN_WAIT_2;
}

static enum verdict in_sync(struct tcb *c, struct seg_ctx *x)
{
    const struct tcp_seg *sg = x->sg;
    enum verdict v;
    if (c->state == TCPS_TIME_WAIT && (sg->flags & (TCP_F_SYN | TCP_F_ACK | TCP_F_RST)) == TCP_F_SYN &&
        (v = timewait_syn(c, x)) != V_CONTINUE)
        return v;
    if ((v = check_seq(c, x)) != V_CONTINUE) /* first */
        return v;
    update_ts_recent(c, sg);
    if ((v = check_rst(c, x)) != V_CONTINUE) /* second; third (security) does not apply */
        return v;
    if ((v = check_syn(c, x)) != V_CONTINUE) /* fourth */
        return v;
    if ((v = check_ack(c, x)) != V_CONTINUE) /* fifth */
        return v;
    c->segs_in++;
    tcp_keepalive_reset(c, x->now);
    /* Sixth, URG: urgent data is delivered inline (RFC 6093); the pointer
     * is parsed and otherwise ignored. */
    uint32_t fin_seq = sg->seq + sg->len;
    if (accepts_text(c->state))
        in_text(c, x, &fin_seq); /* seventh */
    else if (sg->len)
        c->ack_now = true;
    if (!(sg->flags & TCP_F_FIN) || tcps_have_rcvd_fin(c->state)) {
        if (sg->flags & TCP_F_FIN)
            c->ack_now = true; /* a duplicate FIN */
        if (c->state == TCPS_TIME_WAIT && (sg->flags & TCP_F_FIN))
            tcp_timewait_start(c, x->now);
        return V_DONE;
    }
    if (fin_seq == c->rcv_nxt)
        return in_fin(c, x->now); /* eighth */
    if (seq_gt(fin_seq, c->rcv_nxt)) {
        c->ofo_fin = true; /* held until the hole before it fills */
        c->ofo_fin_seq = fin_seq;
    }
    return V_DONE;
}

static enum verdict in_conn(struct tcb *c, struct seg_ctx *x)
{
    if (c->state == TCPS_SYN_SENT)
        return in_syn_sent(c, x);
    enum verdict v = in_sync(c, x);
    if ((v == V_DONE || v == V_CONTINUE) && c->ofo_fin && c->ofo_fin_seq == c->rcv_nxt)
        v = in_fin(c, x->now);
    return v;
}


static enum sn_drop parse_drop_reason(int err)
{
    return err == WIRE_ETRUNC ? SN_DROP_TCP_SHORT
           : err == WIRE_EBADHDR ? SN_DROP_TCP_BAD_OFF
                                 : SN_DROP_TCP_BAD_OPTION;
}

void tcp_input(void *ctx, struct pkt *p, const struct ip4_hdr *ip, sn_time now)
{
    struct tcp *t = ctx;
    struct tcp_seg sg;
    t->now = now;
    int err = tcp_seg_parse(&sg, p->data, p->len);
    if (err) {
        pkt_drop(t->st, p, parse_drop_reason(err));
        return;
    }
    if (!pkt_l4_csum_trusted(p, 16) && !tcp_csum_ok(ip->src, ip->dst, p->data, p->len)) {
        pkt_drop(t->st, p, SN_DROP_TCP_BAD_CSUM);
        return;
    }
    /* A GSO super-frame counts as the segments it stands for (Linux). */
    if (p->off.gso_type && p->off.gso_size && sg.len > p->off.gso_size)
        STAT_ADD(t->st, tcp, in_segs, (sg.len + p->off.gso_size - 1) / p->off.gso_size);
    else
        STAT_INC(t->st, tcp, in_segs);
    struct seg_ctx x = {.sg = &sg, .laddr = ip->dst, .raddr = ip->src, .now = now};
    if (ip->dst != t->net->addr) {
        pkt_drop(t->st, p, SN_DROP_TCP_NO_SOCKET); /* TCP is unicast only */
        return;
    }
    enum verdict v = V_RELISTEN;
    t->cause_seg = &sg; /* for the state trace only */
    struct tcb *c = tcb_lookup(t, ip->dst, sg.dport, ip->src, sg.sport);
    if (c) {
        v = in_conn(c, &x);
        if (v != V_GONE && v != V_RELISTEN && x.ack_at_once)
            tcp_output(c, now);
        else if (v != V_GONE && v != V_RELISTEN)
            tcp_output_soon(c); /* after the application answered */
    }
    if (v == V_RELISTEN) {
        struct tcb *l = tcb_listener(t, sg.dport);
        if (l) {
            v = in_listen(l, &x);
        } else {
            tcp_reply_rst(t, ip->dst, ip->src, &sg, now);
            v = drop(&x, SN_DROP_TCP_NO_SOCKET);
        }
    }
    t->cause_seg = NULL;
    if (v == V_DROP)
        pkt_drop(t->st, p, x.why);
    else
        pkt_free(p);
}

/* RFC 5927 / RFC 1122 4.2.3.9: an ICMP error names a segment we sent; only
 * one within SND.UNA..SND.MAX counts. A hard error aborts a connection
 * still in SYN-SENT; the rest are soft. */
void tcp_icmp_error(void *ctx, uint8_t type, uint8_t code, const uint8_t *inner, size_t len,
                    sn_time now)
{
    struct tcp *t = ctx;
    (void)now;
    size_t ihl = (size_t)(inner[0] & 15) * 4;
    if (type != ICMP4_DEST_UNREACH || len < ihl + 8)
        return;
    uint32_t src = rd32(inner + 12), dst = rd32(inner + 16);
    const uint8_t *th = inner + ihl;
    struct tcb *c = tcb_lookup(t, src, rd16(th), dst, rd16(th + 2));
    uint32_t seq = rd32(th + 4);
    if (!c || c->state != TCPS_SYN_SENT || !seq_in(seq, c->snd_una, c->snd_max + 1))
        return;
    bool refused = code == ICMP4_UNREACH_PORT || code == ICMP4_UNREACH_PROTO;
    STAT_INC(t->st, tcp, attempt_fails);
    t->cause_what = "icmp unreachable"; /* for the state trace only */
    tcp_close_conn(c, refused ? -ECONNREFUSED : -EHOSTUNREACH);
    t->cause_what = NULL;
}
