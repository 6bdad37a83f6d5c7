/* tcp/tcp_out.c: deciding what to send and building segments.
 *
 * tcp_output() is the only place that turns intents into segments: SYN and
 * SYN+ACK, data within min(cwnd, snd_wnd) with Nagle (RFC 896) and sender
 * SWS avoidance (RFC 9293 3.8.6.2.1), FIN after the data, pure ACKs, and
 * during SACK recovery the holes first (RFC 6675 5). */
#include <string.h>

#include "tcp/tcp.h"

uint32_t tcp_snd_mss(const struct tcb *c)
{
    uint32_t mtu_mss = net_path_mtu(c->tcp->net, c->raddr) - IP4_HDR_LEN - TCP_HDR_LEN;
    uint32_t mss = c->peer_mss < mtu_mss ? c->peer_mss : mtu_mss;
    /* RFC 6691: MSS counts no options; room for timestamps comes off it. */
    if (c->ts_ok)
        mss -= 12;
    return mss < 64 ? 64 : mss;
}

uint32_t tcp_flight_size(const struct tcb *c) { return c->snd_max - c->snd_una; }

/* RFC 6691 / RFC 2018: options come out of the MSS, SACK blocks too. The
 * bytes of SACK option the next segment carries (as fill_sack picks). */
static uint32_t sack_opt_len(const struct tcb *c)
{
    uint32_t max = c->ts_ok ? 3 : 4;
    if (!c->sack_ok || c->n_ofo == 0)
        return 0;
    return 4 + 8 * (c->n_ofo < max ? c->n_ofo : max);
}

/* Payload that fits one segment now: the MSS less the SACK option a
 * receiver holding out-of-order data puts on it (Linux tcp_current_mss),
 * or segments would outgrow the MTU and be fragmented. */
static uint32_t data_room(const struct tcb *c)
{
    uint32_t mss = tcp_snd_mss(c), sack = sack_opt_len(c);
    return mss > sack + 64 ? mss - sack : 64;
}

/* RFC 9293 3.8.6.2.2 receiver SWS avoidance: the right edge moves only by
 * at least min(buffer/2, MSS); RFC 7323 2.4: the window never shrinks. */
uint32_t tcp_rcv_window(struct tcb *c)
{
    /* The ring holds one window unit more than the buffer (negotiate() in
     * tcp_in.c): the reserve for a window rounded up, not announced. */
    uint32_t slack = (1u << c->rcv_wscale) - 1;
    uint32_t space = ring_space(&c->rcvbuf);
    space = space > slack ? space - slack : 0;
    uint32_t offered = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    uint32_t step = c->rcvbuf.max / 2 < c->adv_mss ? c->rcvbuf.max / 2 : c->adv_mss;
    uint32_t wnd = space;
    if (wnd < offered + step)
        wnd = offered;
    if (space < offered)
        wnd = offered;
    uint32_t max = 65535u << c->rcv_wscale;
    return wnd > max ? max : wnd;
}

/* RFC 7323 2.3: the shift we offer is ours to choose: the configured one,
 * but never so large that the receive buffer is a handful of window units
 * (windows are advertised rounded down to 1 << shift: a buffer below that
 * would always be announced as a zero window, and the connection could
 * never move). */
uint8_t tcp_rcv_wscale_offer(const struct tcb *c)
{
    uint8_t ws = (uint8_t)c->tcp->cfg->tcp_wscale;
    while (ws > 0 && (1u << ws) > c->rcvbuf.max / 16)
        ws--;
    return ws;
}

/* Up to @max SACK blocks: the most recently changed range first
 * (RFC 2018 4), then the rest in sequence order. */
static uint8_t fill_sack(const struct tcb *c, struct sack_block *out, uint8_t max)
{
    uint8_t n = 0;
    if (c->n_ofo == 0)
        return 0;
    out[n++] = c->ofo[c->ofo_last];
    for (uint8_t i = 0; i < c->n_ofo && n < max; i++)
        if (i != c->ofo_last)
            out[n++] = c->ofo[i];
    return n;
}

static void syn_options(const struct tcb *c, struct tcp_opts_out *o, bool synack)
{
    const struct sn_config *cfg = c->tcp->cfg;
    o->mss_on = 1;
    o->mss = c->adv_mss;
    /* RFC 7323 2.2 / 3.2, RFC 2018 2: on a SYN+ACK only what the SYN offered. */
    o->ws_on = synack ? c->ws_ok : cfg->tcp_wscale > 0;
    o->ws = tcp_rcv_wscale_offer(c);
    o->ts_on = synack ? c->ts_ok : cfg->tcp_timestamps;
    o->sack_ok_on = synack ? c->sack_ok : cfg->tcp_sack;
}

/* The largest TSO super-segment payload (--offload): whole segments of
 * @mss in one IPv4 datagram of at most 65535 bytes, whatever the options. */
static uint32_t tso_max(uint32_t mss)
{
    uint32_t room = 65535 - IP4_HDR_LEN - TCP_MAX_HDR_LEN;
    return mss < room ? room / mss * mss : mss;
}

uint32_t tcp_xmit(struct tcb *c, uint32_t seq, uint32_t len, uint8_t flags, sn_time now)
{
    struct tcp *t = c->tcp;
    uint32_t offload = t->net->offload;
    /* Only output_data asks for more than an MSS, and only when the link
     * segments (SN_OFFLOAD_TSO): a super-segment, cut by the link into
     * segments of data_room bytes, each with the same header and options. */
    bool tso = (offload & SN_OFFLOAD_TSO) && len > tcp_snd_mss(c);
    uint32_t gso_size = tso ? data_room(c) : 0;
    struct pkt *p = tso ? net_alloc_tx_big(t->net) : NULL;
    if (tso && !p) {
        /* No 64 KiB buffer free: one segment now, the rest by the caller. */
        tso = false;
        len = gso_size;
        flags &= (uint8_t)~(TCP_F_FIN | TCP_F_PSH);
    }
    if (!p)
        p = net_alloc_tx(t->net);
    if (!p)
        return len; /* counted; as lost on the way: retransmission repairs it */
    struct tcp_opts_out o;
    memset(&o, 0, sizeof(o));
    bool syn = flags & TCP_F_SYN;
    if (syn)
        syn_options(c, &o, flags & TCP_F_ACK);
    else
        o.ts_on = c->ts_ok;
    if (o.ts_on) {
        o.ts_val = tcp_now_ms(now) + c->ts_offset;
        o.ts_ecr = (flags & TCP_F_ACK) ? c->ts_recent : 0;
    }
    if (!syn && c->sack_ok && (flags & TCP_F_ACK))
        o.n_sack = fill_sack(c, o.sack, o.ts_on ? 3 : 4);
    /* Options come out of the MSS (RFC 6691): a segment sized without
     * room for the SACK option carries fewer blocks (none if need be). */
    uint32_t budget = tcp_snd_mss(c) + (c->ts_ok ? 12 : 0);
    uint32_t seg = tso ? gso_size : len; /* the largest segment on the wire */
    while (seg && o.n_sack && tcp_opts_len(&o) + seg > budget)
        o.n_sack--;
    uint32_t hdr_len = TCP_HDR_LEN + tcp_opts_len(&o);
    uint8_t *b = pkt_put(p, hdr_len + len);
    if (!b) {
        pkt_drop(t->st, p, SN_DROP_NOMEM);
        return len;
    }
    ring_peek(&c->sndbuf, seq - c->snd_una, b + hdr_len, len);
    STAT_ADD(t->st, tcp, tx_copied_bytes, len);
    uint32_t wnd = tcp_rcv_window(c);
    uint16_t wnd_field = syn ? (uint16_t)(wnd > 65535 ? 65535 : wnd) : (uint16_t)(wnd >> c->rcv_wscale);
    /* RFC 9293 3.8.6 (SHLD-14), RFC 7323 2.4: scaling rounds the window
     * down; round up instead where that would move the right edge left of
     * what we already advertised, but never past what the ring can hold
     * (its spare unit, see negotiate()): else each segment that arrives
     * unaligned ratchets the edge up to a unit further, the edge runs
     * ahead of the buffer, and data sent into it is dropped again and
     * again while the peer backs off (a kernel echo client: 60 s stalls).
     * Short of a unit, the edge then moves left by less than one. */
    if (!syn && wnd_field < 65535 &&
        seq_lt(c->rcv_nxt + ((uint32_t)wnd_field << c->rcv_wscale), c->rcv_adv) &&
        ((uint32_t)wnd_field + 1) << c->rcv_wscale <= ring_space(&c->rcvbuf))
        wnd_field++;
    uint32_t ack = (flags & TCP_F_ACK) ? c->rcv_nxt : 0;
    bool partial = offload & SN_OFFLOAD_CSUM;
    tcp_build_csum(b, c->laddr, c->raddr, c->lport, c->rport, seq, ack, flags, wnd_field, &o,
                   len, partial);
    if (partial) {
        p->off.csum_partial = 1;
        p->off.csum_start = 0; /* lower layers' headers add to it (pkt_push) */
        p->off.csum_offset = 16;
    }
    /* Linux tcp_skb_pcount: counters count the segments on the wire. */
    uint32_t segs = 1;
    if (tso) {
        p->off.gso_type = PKT_GSO_TCPV4;
        p->off.gso_size = (uint16_t)gso_size;
        segs = (len + gso_size - 1) / gso_size;
    }
    if (flags & TCP_F_ACK) {
        uint32_t edge = c->rcv_nxt + ((uint32_t)wnd_field << (syn ? 0 : c->rcv_wscale));
        if (seq_gt(edge, c->rcv_adv))
            c->rcv_adv = edge;
        c->last_ack_sent = c->rcv_nxt;
        c->ack_now = false;
        c->delack_segs = 0;
        tw_cancel(t->tw, &c->delack_timer);
    }
    uint32_t span = len + !!(flags & TCP_F_SYN) + !!(flags & TCP_F_FIN);
    if (span && seq_lt(seq, c->snd_max)) {
        STAT_ADD(t->st, tcp, retrans_segs, segs);
        c->total_retrans += segs;
        /* Karn (RFC 6298 3): the timed segment went again; its ACK would
         * not tell which copy it answers. */
        if (c->rtt_timing && seq_le(seq, c->rtt_seq) && seq_lt(c->rtt_seq, seq + span))
            c->rtt_timing = false;
    }
    c->segs_out += segs;
    c->bytes_sent += len;
    STAT_ADD(t->st, tcp, out_segs, segs);
    ip4_output(t->net, p, c->raddr, IP4_PROTO_TCP, now);
    return len;
}

static void send_syn(struct tcb *c, uint8_t flags, sn_time now)
{
    tcp_xmit(c, c->iss, 0, flags, now);
    c->snd_nxt = c->iss + 1;
    c->snd_max = seq_max(c->snd_max, c->snd_nxt);
    if (!tw_armed(&c->rtx_timer))
        tcp_rtx_arm(c, now);
}

static uint32_t sacked_above(const struct tcb *c, uint32_t seq)
{
    uint32_t hi = seq;
    for (uint8_t i = 0; i < c->n_sacked; i++)
        hi = seq_max(hi, c->sacked[i].right);
    return hi;
}

/* The edge below which unSACKed bytes count as lost: the highest SACK;
 * after a timeout, everything sent before it (RFC 5681 3.1, RFC 6675 5.1). */
static uint32_t lost_edge(const struct tcb *c)
{
    uint32_t hs = sacked_above(c, c->snd_una);
    return c->rto_recovery ? seq_max(hs, c->recover) : hs;
}

/* RFC 6675 "IsLost"-based pipe, simplified: unSACKed bytes below the
 * lost edge are lost unless we retransmitted them. */
static uint32_t sack_pipe(const struct tcb *c)
{
    uint32_t hs = lost_edge(c);
    uint32_t pipe = c->snd_max - hs;
    if (seq_gt(c->rexmit_hi, c->snd_una)) {
        uint32_t lo = c->snd_una, hi = seq_min(c->rexmit_hi, hs);
        uint32_t holes = seq_gt(hi, lo) ? hi - lo : 0;
        for (uint8_t i = 0; i < c->n_sacked; i++) {
            uint32_t l = seq_max(c->sacked[i].left, lo), r = seq_min(c->sacked[i].right, hi);
            if (seq_gt(r, l))
                holes -= r - l;
        }
        pipe += holes;
    }
    return pipe;
}

/* The first unSACKed byte at or after @from below the highest SACK, and
 * how many bytes the hole holds; 0 when none. */
static uint32_t next_hole(const struct tcb *c, uint32_t from, uint32_t *start)
{
    uint32_t hs = lost_edge(c);
    uint32_t s = from;
    for (bool moved = true; moved;) {
        moved = false;
        for (uint8_t i = 0; i < c->n_sacked; i++)
            if (seq_ge(s, c->sacked[i].left) && seq_lt(s, c->sacked[i].right)) {
                s = c->sacked[i].right;
                moved = true;
            }
    }
    if (!seq_lt(s, hs))
        return 0;
    uint32_t end = hs;
    for (uint8_t i = 0; i < c->n_sacked; i++)
        if (seq_gt(c->sacked[i].left, s))
            end = seq_min(end, c->sacked[i].left);
    *start = s;
    return end - s;
}

static void output_data(struct tcb *c, uint32_t win, sn_time now);

uint32_t tcp_resend(struct tcb *c, uint32_t seq, uint32_t len, sn_time now)
{
    uint32_t data_end = c->snd_una + c->sndbuf.len;
    bool last = seq + len == data_end;
    bool fin = last && c->fin_queued && seq_gt(c->snd_max, data_end);
    uint8_t flags = TCP_F_ACK | (last && len ? TCP_F_PSH : 0) | (fin ? TCP_F_FIN : 0);
    return tcp_xmit(c, seq, len, flags, now) + fin;
}

/* RFC 6675 5 (C): while pipe allows, resend holes, then new data. */
static void output_sack_recovery(struct tcb *c, uint32_t mss, sn_time now)
{
    uint32_t pipe = sack_pipe(c);
    while (pipe < c->cwnd) {
        uint32_t start;
        uint32_t hole = next_hole(c, seq_max(c->rexmit_hi, c->snd_una), &start);
        if (!hole)
            break;
        uint32_t len = hole < mss ? hole : mss, off = start - c->snd_una;
        if (off + len > c->sndbuf.len)
            len = c->sndbuf.len - off; /* the hole ends with our FIN */
        c->rexmit_hi = start + tcp_resend(c, start, len, now);
        c->rexmit_mark = c->snd_max;
        pipe += len;
    }
    /* New data goes out at snd_max under the same pipe budget; the data
     * path measures its window from snd_una. */
    c->snd_nxt = c->snd_max;
    if (pipe < c->cwnd) {
        uint32_t win = c->snd_nxt - c->snd_una + (c->cwnd - pipe);
        output_data(c, win < c->snd_wnd ? win : c->snd_wnd, now);
    }
}

/* Sender SWS avoidance and Nagle: may a segment of @len (< MSS) go now? */
static bool small_segment_ok(const struct tcb *c, uint32_t len, uint32_t data_left,
                             uint32_t in_flight)
{
    if (len < data_left && len < c->max_snd_wnd / 2)
        return false; /* RFC 9293 3.8.6.2.1: wait for a useful window */
    if (len == data_left && (c->nodelay || in_flight == 0))
        return true;  /* RFC 896: nothing outstanding, or Nagle off */
    return false;
}

/* Sends data (and FIN) from snd_nxt while it fits in @win bytes past
 * snd_una. */
static void output_data(struct tcb *c, uint32_t win, sn_time now)
{
    uint32_t mss = data_room(c);
    /* With TSO (--offload) one super-segment takes what the window allows,
     * up to 64 KiB, for the link to cut into segments of @mss. */
    uint32_t seg_max = c->tcp->net->offload & SN_OFFLOAD_TSO ? tso_max(mss) : mss;
    uint32_t fin_seq = c->snd_una + c->sndbuf.len;
    for (;;) {
        uint32_t off = c->snd_nxt - c->snd_una;
        uint32_t data_left = c->sndbuf.len > off ? c->sndbuf.len - off : 0;
        uint32_t usable = win > off ? win - off : 0;
        uint32_t len = data_left < usable ? data_left : usable;
        if (len > seg_max)
            len = seg_max;
        if (len > mss && len < data_left)
            len -= len % mss; /* whole segments, but for the last of the data */
        /* TSO deferral (Linux tcp_tso_should_defer): when the congestion
         * window, not the data, limits a super-segment to under a third of
         * it, ACKs of the rest in flight are on their way: wait for them
         * and send one large super-segment rather than a small one per
         * ACK. Not when the peer's window limits: its edge moves only as
         * its application reads, and the last ACK may be a delayed one. */
        if (seg_max > mss && len > 0 && len < seg_max && len < data_left && usable < win / 3 &&
            c->cwnd < c->snd_wnd && c->snd_nxt == c->snd_max && c->snd_max != c->snd_una &&
            !c->in_recovery)
            len = 0;
        bool fin = c->fin_queued && len == data_left && c->snd_nxt + len == fin_seq;
        /* SWS avoidance and Nagle hold back new data only: what was sent
         * once is resent whatever its size (BSD: snd_nxt < snd_max goes
         * straight to send), or a timeout could never repair a small
         * segment and the connection would time out. */
        if (len > 0 && len < mss && !fin && !seq_lt(c->snd_nxt, c->snd_max) &&
            !small_segment_ok(c, len, data_left, c->snd_max - c->snd_una))
            len = 0;
        if (len == 0 && !fin)
            break;
        uint8_t flags = TCP_F_ACK | (fin ? TCP_F_FIN : 0) | (len && len == data_left ? TCP_F_PSH : 0);
        if (len && c->snd_nxt == c->snd_max && !c->rtt_timing) {
            c->rtt_timing = true; /* Karn: time only new data */
            c->rtt_seq = c->snd_nxt;
            c->rtt_start = now;
        }
        uint32_t sent = tcp_xmit(c, c->snd_nxt, len, flags, now);
        if (sent < len)
            fin = false; /* cut short (no 64 KiB buffer): the FIN goes later */
        c->snd_nxt += sent + (fin ? 1 : 0);
        c->snd_max = seq_max(c->snd_max, c->snd_nxt);
        if (fin)
            break;
    }
}

void tcp_output(struct tcb *c, sn_time now)
{
    switch (c->state) {
    case TCPS_CLOSED:
    case TCPS_LISTEN:
        return;
    case TCPS_SYN_SENT:
        if (c->snd_nxt == c->iss)
            send_syn(c, TCP_F_SYN, now);
        return;
    case TCPS_SYN_RECEIVED:
        if (c->snd_nxt == c->iss)
            send_syn(c, TCP_F_SYN | TCP_F_ACK, now);
        else if (c->ack_now)
            tcp_xmit(c, c->snd_nxt, 0, TCP_F_ACK, now);
        return;
    default:
        break;
    }
    uint64_t before = c->segs_out;
    /* RFC 9293 3.10.7.4 (FIN-WAIT-2, TIME-WAIT): our FIN is acknowledged,
     * every byte with it: nothing is left to send but ACKs. (output_data
     * would take snd_una, one past the FIN, for the FIN's place and send
     * it again.) */
    if (c->state != TCPS_TIME_WAIT && c->state != TCPS_FIN_WAIT_2) {
        /* RFC 3042 (RFC 5681 3.2 SHOULD): Limited Transmit. On each of the
         * first two duplicate ACKs one new segment may go beyond cwnd, so
         * that a small window still brings the third duplicate ACK instead
         * of waiting for the timeout. */
        uint32_t cwnd = c->cwnd;
        if (!c->in_recovery && c->dupacks > 0 && c->dupacks < TCP_DUPTHRESH &&
            seq_ge(c->snd_nxt, c->snd_max))
            cwnd += c->dupacks * tcp_snd_mss(c);
        if (c->in_recovery && c->sack_ok)
            output_sack_recovery(c, data_room(c), now);
        else
            output_data(c, c->snd_wnd < cwnd ? c->snd_wnd : cwnd, now);
    }
    /* RFC 9293 3.10.7.4: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, where the
     * RFC's SND.NXT is our snd_max: a timeout rewinds snd_nxt to resend
     * (go-back-N, as BSD), and a pure ACK below what the peer already
     * received would be unacceptable to it, its ACK never processed (both
     * ends rewound: neither accepts the other's ACKs, the connection
     * stalls until it times out). BSD sends pure ACKs at snd_max too. */
    if (c->ack_now && c->segs_out == before)
        tcp_xmit(c, c->snd_max, 0, TCP_F_ACK, now);
    if (c->state == TCPS_TIME_WAIT)
        return;
    if (c->snd_max != c->snd_una && !tw_armed(&c->rtx_timer))
        tcp_rtx_arm(c, now);
    /* Data waits with nothing in flight: a zero window (RFC 9293 3.8.6.1
     * probes) or one that sender SWS avoidance finds too small (3.8.6.2.1
     * override timeout): only a timer can move it (BSD's tcp_setpersist
     * in the same place). */
    if (c->sndbuf.len > c->snd_nxt - c->snd_una && c->snd_max == c->snd_una &&
        !tw_armed(&c->rtx_timer) && !tw_armed(&c->persist_timer))
        tcp_persist_arm(c, now);
}

void tcp_send_loss_probe(struct tcb *c, sn_time now)
{
    uint32_t mss = tcp_snd_mss(c), sent = c->snd_max - c->snd_una;
    uint32_t before = c->snd_max;
    if (c->sndbuf.len > sent && c->snd_wnd > sent) {
        c->snd_nxt = c->snd_max;
        output_data(c, c->snd_wnd < sent + mss ? c->snd_wnd : sent + mss, now);
        if (c->snd_max != before)
            return;
    }
    /* The last segment again, with the FIN if that went too. Whether it
     * repaired a loss, the ACKs will tell (tcp_in.c tlp_ack). */
    uint32_t data = c->sndbuf.len < sent ? c->sndbuf.len : sent;
    uint32_t len = data < mss ? data : mss;
    tcp_resend(c, c->snd_una + data - len, len, now);
    c->tlp_retrans = true;
    c->tlp_high = c->snd_max;
}

void tcp_send_rst(struct tcb *c, sn_time now)
{
    tcp_xmit(c, c->snd_nxt, 0, TCP_F_RST | TCP_F_ACK, now);
    STAT_INC(c->tcp->st, tcp, out_rsts);
}

/* Builds a bare segment not tied to any TCB. */
static void send_bare(struct tcp *t, uint32_t laddr, uint32_t raddr, uint16_t sport,
                      uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
                      const struct tcp_opts_out *o, sn_time now)
{
    struct pkt *p = net_alloc_tx(t->net);
    if (!p)
        return;
    uint32_t hdr_len = TCP_HDR_LEN + tcp_opts_len(o);
    tcp_build(pkt_put(p, hdr_len), laddr, raddr, sport, dport, seq, ack, flags, wnd, o, 0);
    STAT_INC(t->st, tcp, out_segs);
    ip4_output(t->net, p, raddr, IP4_PROTO_TCP, now);
}

/* RFC 9293 3.10.7.1: if the ACK bit is off, <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
 * <CTL=RST,ACK>; else <SEQ=SEG.ACK><CTL=RST>. An RST is never answered. */
void tcp_reply_rst(struct tcp *t, uint32_t laddr, uint32_t raddr, const struct tcp_seg *sg,
                   sn_time now)
{
    if (sg->flags & TCP_F_RST)
        return;
    struct tcp_opts_out none;
    memset(&none, 0, sizeof(none));
    if (sg->flags & TCP_F_ACK) {
        send_bare(t, laddr, raddr, sg->dport, sg->sport, sg->ack, 0, TCP_F_RST, 0, &none, now);
    } else {
        uint32_t seg_len = sg->len + !!(sg->flags & TCP_F_SYN) + !!(sg->flags & TCP_F_FIN);
        send_bare(t, laddr, raddr, sg->dport, sg->sport, 0, sg->seq + seg_len,
                  TCP_F_RST | TCP_F_ACK, 0, &none, now);
    }
    STAT_INC(t->st, tcp, out_rsts);
}

void tcp_send_cookie_synack(struct tcp *t, uint32_t laddr, uint32_t raddr,
                            const struct tcp_seg *syn, uint32_t cookie, uint16_t mss, sn_time now)
{
    /* A cookie carries no options state: only MSS is offered back. */
    struct tcp_opts_out o;
    memset(&o, 0, sizeof(o));
    o.mss_on = 1;
    o.mss = mss;
    uint32_t wnd = t->cfg->tcp_rcvbuf > 65535 ? 65535 : t->cfg->tcp_rcvbuf;
    send_bare(t, laddr, raddr, syn->dport, syn->sport, cookie, syn->seq + 1,
              TCP_F_SYN | TCP_F_ACK, (uint16_t)wnd, &o, now);
    STAT_INC(t->st, tcp, syncookies_sent);
}

void tcp_fill_info(const struct tcb *c, struct sn_tcp_info *i)
{
    memset(i, 0, sizeof(*i));
    i->state = (uint8_t)c->state;
    i->local_addr = c->laddr;
    i->remote_addr = c->raddr;
    i->local_port = c->lport;
    i->remote_port = c->rport;
    i->iss = c->iss;
    i->irs = c->irs;
    i->snd_una = c->snd_una;
    i->snd_nxt = c->snd_nxt;
    i->snd_wnd = c->snd_wnd;
    i->rcv_nxt = c->rcv_nxt;
    i->rcv_wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    i->snd_wscale = c->snd_wscale;
    i->rcv_wscale = c->rcv_wscale;
    i->ts_ok = c->ts_ok;
    i->sack_ok = c->sack_ok;
    i->snd_mss = c->state >= TCPS_SYN_SENT ? tcp_snd_mss(c) : 0;
    i->rcv_mss = c->adv_mss;
    i->cwnd = c->cwnd;
    i->ssthresh = c->ssthresh;
    i->srtt_us = c->srtt_us;
    i->rttvar_us = c->rttvar_us;
    i->rto_us = c->backoff ? c->rto_us : c->rto_us << c->kept_backoff; /* then << backoff */
    i->retransmits = c->backoff;
    i->backoff = c->backoff;
    i->total_retrans = c->total_retrans;
    i->bytes_sent = c->bytes_sent;
    i->bytes_acked = c->bytes_acked;
    i->bytes_received = c->bytes_received;
    i->segs_in = c->segs_in;
    i->segs_out = c->segs_out;
    i->unacked = c->snd_max - c->snd_una;
    i->sndbuf_used = c->sndbuf.len;
    i->rcvbuf_used = c->rcvbuf.len;
}
