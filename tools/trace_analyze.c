/* tools/trace_analyze.c: what a connection's segments mean, as seen at the
 * capture point: each side's TCP state (RFC 9293 3.3.2, inferred from the
 * segments it sends and receives), Wireshark-style marks (retransmission,
 * out-of-order, lost, duplicate ACK, zero window, window probe, ...), the
 * summary, and the text of labels that every renderer shares.
 *
 * The capture point sees a segment once; the inference treats it as sent
 * and received at that moment. A state that depends on what the peer never
 * said (a SYN nobody answers) is left unknown ("?"). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/seq.h"
#include "tcp/tcp.h"
#include "tools/trace.h"
#include "wire/ip4.h"

#define TR_UNKNOWN 100
#define SEEN_MAX 32         /* sequence ranges remembered per direction */
#define OOO_DEFAULT_US 3000 /* reordering window before an RTT is known */

const char *trace_state_name(int s)
{
    if (s == TR_UNKNOWN || s < 0)
        return "?";
    return sn_tcp_state_name(s);
}

/* ---- sequence ranges seen, per direction --------------------------------- */

struct range {
    uint32_t lo, hi; /* offsets from the direction's first sequence number */
};

struct track {
    bool have_next;
    uint32_t origin;   /* first sequence number seen */
    uint32_t next_seq; /* highest sequence number sent + 1 */
    int64_t next_t;    /* when next_seq last advanced */
    struct range seen[SEEN_MAX];
    int n_seen;
    bool have_ack;
    uint32_t last_ack, dupacks;
    uint16_t last_wnd;
    bool zero_wnd; /* its last window was zero */
    bool syn;
    uint32_t iss;
    uint8_t syn_flags; /* of its last SYN: SYN, or SYN,ACK */
    bool fin;
    uint32_t fin_seq; /* the sequence number the FIN occupies */
};

static bool seen_covers(const struct track *t, uint32_t lo, uint32_t hi)
{
    for (int i = 0; i < t->n_seen; i++)
        if (t->seen[i].lo <= lo && hi <= t->seen[i].hi)
            return true;
    return false;
}

static void seen_add(struct track *t, uint32_t lo, uint32_t hi)
{
    /* Kept sorted and disjoint; when full, the two lowest ranges merge
     * (old history matters least). */
    struct range r = {lo, hi};
    int i = 0, w = 0;
    struct range out[SEEN_MAX + 1];
    while (i < t->n_seen && t->seen[i].hi < r.lo)
        out[w++] = t->seen[i++];
    while (i < t->n_seen && t->seen[i].lo <= r.hi) {
        if (t->seen[i].lo < r.lo)
            r.lo = t->seen[i].lo;
        if (t->seen[i].hi > r.hi)
            r.hi = t->seen[i].hi;
        i++;
    }
    out[w++] = r;
    while (i < t->n_seen)
        out[w++] = t->seen[i++];
    if (w > SEEN_MAX) {
        out[1].lo = out[0].lo;
        memmove(out, out + 1, (size_t)(w - 1) * sizeof(*out));
        w--;
    }
    memcpy(t->seen, out, (size_t)w * sizeof(*out));
    t->n_seen = w;
}

/* ---- states ---------------------------------------------------------------- */

static void init_states(struct tr_conn *c, const bool sends_synack[2])
{
    const struct tr_row *first = NULL;
    for (size_t i = 0; i < c->n_rows && !first; i++)
        if (c->rows[i].has_seg)
            first = &c->rows[i];
    c->mid_stream = true;
    c->init_state[0] = c->init_state[1] = TCPS_ESTABLISHED;
    if (!first)
        return;
    uint8_t f = first->seg.flags;
    if ((f & (TCP_F_SYN | TCP_F_ACK)) == TCP_F_SYN) {
        c->mid_stream = false;
        c->init_state[0] = TCPS_CLOSED;
        /* The server: its first word tells how it stood. */
        c->init_state[1] = TR_UNKNOWN;
        for (size_t i = 0; i < c->n_rows; i++) {
            const struct tr_row *r = &c->rows[i];
            if (!r->has_seg || r->seg.dir != 1)
                continue;
            if (r->seg.flags & TCP_F_RST)
                c->init_state[1] = TCPS_CLOSED; /* nobody listening */
            else if ((r->seg.flags & (TCP_F_SYN | TCP_F_ACK)) == TCP_F_SYN)
                c->init_state[1] = TCPS_CLOSED; /* simultaneous open */
            else if (sends_synack[1])
                c->init_state[1] = TCPS_LISTEN;
            break;
        }
    } else if ((f & (TCP_F_SYN | TCP_F_ACK)) == (TCP_F_SYN | TCP_F_ACK)) {
        /* The capture missed the SYN. */
        c->init_state[0] = TCPS_SYN_SENT;
        c->init_state[1] = TCPS_LISTEN;
    }
}

/* What the state inference knows beyond the current row. */
struct infer {
    bool sends_synack[2];
    /* Row of each side's first FIN (n_rows: none), and its segment. */
    size_t first_fin[2];
    /* A segment arrived that the receiver can only have taken in after
     * sending its own SYN or FIN: the crossing segments of a simultaneous
     * open or close (RFC 9293 3.5 figures 7 and 12). The capture saw ours
     * first, but the peer's own segment shows it had not received it. */
    enum { PEND_NONE, PEND_SYN, PEND_FIN } pending[2];
    bool simopen;
};

/* Whether @r's first FIN, still to come after row @i, does not
 * acknowledge the FIN ending at @fin_seq: it was sent before ours arrived. */
static bool fin_crossed(const struct tr_conn *c, const struct infer *in, int r, size_t i,
                        uint32_t fin_seq)
{
    size_t k = in->first_fin[r];
    if (k >= c->n_rows || k <= i)
        return false;
    const struct tr_seg *g = &c->rows[k].seg;
    return !(g->flags & TCP_F_ACK) || !seq_gt(g->ack, fin_seq);
}

/* RFC 9293 3.3.2 (figure 5) and 3.10.7 for row @i: side s sends @g, side
 * r = 1 - s receives it. A change that happens after the row's own (a
 * deferred receipt) goes into @after. */
static void step_states(const struct tr_conn *c, struct infer *in, size_t i, int8_t st[2],
                        struct track trk[2], const struct tr_seg *g, bool new_fin, int8_t after[2])
{
    int s = g->dir, r = 1 - s;
    uint8_t f = g->flags;
    bool syn = f & TCP_F_SYN, ack = f & TCP_F_ACK;

    /* The sender. */
    if (syn && !ack && (st[s] == TCPS_CLOSED || st[s] == TCPS_LISTEN || st[s] == TR_UNKNOWN))
        st[s] = TCPS_SYN_SENT; /* OPEN, active */
    if (syn && ack && (st[s] == TCPS_CLOSED || st[s] == TCPS_LISTEN || st[s] == TR_UNKNOWN))
        st[s] = TCPS_SYN_RECEIVED; /* its SYN went uncaptured */
    if ((f & TCP_F_RST) && st[s] != TCPS_LISTEN && st[s] != TCPS_CLOSED && st[s] != TCPS_SYN_SENT)
        st[s] = TCPS_CLOSED; /* ABORT */
    if (new_fin) {
        /* CLOSE: RFC 9293 3.10.4. */
        if (st[s] == TCPS_ESTABLISHED || st[s] == TCPS_SYN_RECEIVED)
            st[s] = TCPS_FIN_WAIT_1;
        else if (st[s] == TCPS_CLOSE_WAIT)
            st[s] = TCPS_LAST_ACK;
    }
    /* The peer's crossing SYN or FIN arrives now, after ours went. */
    if (in->pending[s] == PEND_SYN && syn && !ack && st[s] == TCPS_SYN_SENT)
        after[s] = TCPS_SYN_RECEIVED;
    if (in->pending[s] == PEND_FIN && new_fin && st[s] == TCPS_FIN_WAIT_1)
        after[s] = TCPS_CLOSING;
    if ((syn && !ack) || new_fin)
        in->pending[s] = PEND_NONE;

    /* The receiver. */
    if (st[r] == TR_UNKNOWN)
        return;
    if (f & TCP_F_RST) {
        /* RFC 9293 3.10.7.4 second: SYN-RECEIVED from a passive OPEN goes
         * back to LISTEN; elsewhere the connection is gone. LISTEN ignores
         * an RST (3.10.7.2). */
        if (st[r] == TCPS_SYN_RECEIVED && c->init_state[r] == TCPS_LISTEN)
            st[r] = TCPS_LISTEN;
        else if (st[r] != TCPS_LISTEN && st[r] != TCPS_CLOSED)
            st[r] = TCPS_CLOSED;
        return;
    }
    if (syn && !ack) {
        /* 3.10.7.2 (LISTEN) and 3.10.7.3 (SYN-SENT, simultaneous open). */
        if ((st[r] == TCPS_LISTEN && in->sends_synack[r]) || st[r] == TCPS_SYN_SENT)
            st[r] = TCPS_SYN_RECEIVED;
        else if (st[r] == TCPS_CLOSED && c->init_state[r] == TCPS_CLOSED && !trk[r].syn &&
                 in->sends_synack[r])
            in->pending[r] = PEND_SYN; /* its own SYN is on the way */
        if (in->pending[r] == PEND_SYN)
            in->simopen = true;
        return;
    }
    if (syn && ack) {
        /* 3.10.7.3: an ACK of our SYN with a SYN: ESTABLISHED. */
        if ((st[r] == TCPS_SYN_SENT || st[r] == TCPS_SYN_RECEIVED) && trk[r].syn &&
            g->ack == trk[r].iss + 1)
            st[r] = TCPS_ESTABLISHED;
        return;
    }
    if (ack) {
        /* 3.10.7.4 fifth: the ACK. */
        if (st[r] == TCPS_SYN_RECEIVED && trk[r].syn && seq_gt(g->ack, trk[r].iss))
            st[r] = TCPS_ESTABLISHED;
        if (trk[r].fin && seq_gt(g->ack, trk[r].fin_seq)) {
            if (st[r] == TCPS_FIN_WAIT_1)
                st[r] = TCPS_FIN_WAIT_2;
            else if (st[r] == TCPS_CLOSING)
                st[r] = TCPS_TIME_WAIT;
            else if (st[r] == TCPS_LAST_ACK)
                st[r] = TCPS_CLOSED;
        }
    }
    if (new_fin) {
        /* 3.10.7.4 eighth: the FIN. */
        if ((st[r] == TCPS_ESTABLISHED || st[r] == TCPS_SYN_RECEIVED) &&
            fin_crossed(c, in, r, i, trk[s].fin_seq))
            in->pending[r] = PEND_FIN; /* its own FIN is on the way */
        else if (st[r] == TCPS_ESTABLISHED || st[r] == TCPS_SYN_RECEIVED)
            st[r] = TCPS_CLOSE_WAIT;
        else if (st[r] == TCPS_FIN_WAIT_1)
            st[r] = TCPS_CLOSING;
        else if (st[r] == TCPS_FIN_WAIT_2)
            st[r] = TCPS_TIME_WAIT;
    }
}

/* ---- marks ------------------------------------------------------------------ */

static void mark_row(struct tr_row *row, struct track trk[2], int64_t ooo_us)
{
    const struct tr_seg *g = &row->seg;
    struct track *t = &trk[g->dir], *o = &trk[1 - g->dir];
    uint8_t f = g->flags;
    bool ctl = f & (TCP_F_SYN | TCP_F_FIN | TCP_F_RST);
    uint32_t seg_seq_len = g->len + !!(f & TCP_F_SYN) + !!(f & TCP_F_FIN);

    if (f & TCP_F_RST)
        row->marks |= TRM_RST;
    if (g->wnd == 0 && !(f & TCP_F_RST))
        row->marks |= TRM_ZEROWIN;

    if (t->have_next && !ctl && g->len <= 1) {
        if (g->seq == t->next_seq - 1)
            row->marks |= o->zero_wnd ? TRM_WINPROBE : TRM_KEEPALIVE;
        else if (g->len == 1 && g->seq == t->next_seq && o->zero_wnd)
            row->marks |= TRM_WINPROBE;
    }
    bool probe = row->marks & (TRM_WINPROBE | TRM_KEEPALIVE);
    if (t->have_next && seg_seq_len > 0 && !probe && !(f & TCP_F_RST)) {
        uint32_t lo = g->seq - t->origin, hi = lo + seg_seq_len;
        if ((f & TCP_F_SYN) && t->syn_flags != (f & (TCP_F_SYN | TCP_F_ACK))) {
            /* A SYN,ACK after our SYN (simultaneous open) resends the SYN
             * by design. */
        } else if (seq_lt(g->seq, t->next_seq)) {
            /* RFC 5681 3.2: the peer's duplicate ACKs name this segment. */
            if (o->have_ack && o->dupacks >= 2 && o->last_ack == g->seq)
                row->marks |= TRM_RETRANS | TRM_FAST;
            else if (seen_covers(t, lo, hi) || row->t_us - t->next_t >= ooo_us)
                row->marks |= TRM_RETRANS;
            else
                row->marks |= TRM_OOO;
        } else if (seq_gt(g->seq, t->next_seq)) {
            row->marks |= TRM_LOST;
        }
    }
    if ((f & TCP_F_ACK) && !ctl && g->len == 0 && t->have_ack && g->ack == t->last_ack) {
        if (g->wnd == t->last_wnd && !probe && o->have_next && seq_gt(o->next_seq, g->ack)) {
            row->marks |= TRM_DUPACK;
            row->dupack = ++t->dupacks;
        } else if (g->wnd > t->last_wnd) {
            row->marks |= TRM_WINUPDATE;
        }
    }
    if ((f & TCP_F_ACK) && o->have_next && seq_gt(g->ack, o->next_seq))
        row->marks |= TRM_ACK_UNSEEN;
}

/* Records @row's segment in its direction's track; returns the payload
 * bytes it adds beyond what that direction sent before. */
static uint32_t track_seg(struct track *t, const struct tr_row *row)
{
    const struct tr_seg *g = &row->seg;
    uint8_t f = g->flags;
    uint32_t seg_seq_len = g->len + !!(f & TCP_F_SYN) + !!(f & TCP_F_FIN);
    uint32_t added = 0;
    if ((f & TCP_F_SYN) && !t->syn) {
        t->syn = true;
        t->iss = g->seq;
    }
    if (f & TCP_F_SYN)
        t->syn_flags = f & (TCP_F_SYN | TCP_F_ACK);
    if ((f & TCP_F_FIN) && !t->fin) {
        t->fin = true;
        t->fin_seq = g->seq + g->len + !!(f & TCP_F_SYN);
    }
    if (!(f & TCP_F_ACK) || g->ack != t->last_ack || !t->have_ack)
        t->dupacks = 0;
    if (f & TCP_F_ACK) {
        t->have_ack = true;
        t->last_ack = g->ack;
        t->last_wnd = g->wnd;
    }
    if (!(f & TCP_F_RST))
        t->zero_wnd = g->wnd == 0;
    if (f & TCP_F_RST)
        return 0;
    if (!t->have_next) {
        t->have_next = true;
        t->origin = g->seq;
        t->next_seq = g->seq;
        t->next_t = row->t_us;
    }
    uint32_t end = g->seq + seg_seq_len;
    if (seg_seq_len > 0) {
        seen_add(t, g->seq - t->origin, end - t->origin);
        if (seq_gt(end, t->next_seq)) {
            uint32_t fresh = end - t->next_seq;
            if ((f & TCP_F_FIN) && fresh)
                fresh--;
            if ((f & TCP_F_SYN) && seq_ge(g->seq, t->next_seq) && fresh)
                fresh--;
            added = fresh;
            t->next_seq = end;
            t->next_t = row->t_us;
        }
    }
    return added;
}

/* ---- the whole connection ------------------------------------------------ */

static void set_bases(struct tr_conn *c)
{
    for (size_t i = 0; i < c->n_rows; i++) {
        const struct tr_row *r = &c->rows[i];
        if (!r->has_seg)
            continue;
        int d = r->seg.dir;
        if (!c->have_base[d]) {
            /* Mid-stream: the first byte seen is 1, as after a handshake. */
            c->have_base[d] = true;
            c->base[d] = r->seg.seq - 1;
        }
        if ((r->seg.flags & TCP_F_ACK) && !c->have_base[1 - d]) {
            c->have_base[1 - d] = true;
            c->base[1 - d] = r->seg.ack - 1;
        }
        if ((r->seg.flags & TCP_F_SYN) && r->seg.opt.has_ws && !c->ws[d]) {
            c->ws[d] = true;
            c->wscale[d] = r->seg.opt.ws > 14 ? 14 : r->seg.opt.ws;
        }
    }
}

static void summarize_close(struct tr_conn *c, const struct track trk[2], bool established)
{
    struct tr_summary *s = &c->sum;
    s->closer = -1;
    for (size_t i = 0; i < c->n_rows; i++) {
        const struct tr_row *r = &c->rows[i];
        if (r->has_seg && (r->seg.flags & TCP_F_RST)) {
            s->close = established ? TRC_RST : TRC_REFUSED;
            s->closer = r->seg.dir;
            return;
        }
    }
    for (size_t i = 0; i < c->n_rows && s->closer < 0; i++) {
        const struct tr_row *r = &c->rows[i];
        if (r->has_seg && (r->seg.flags & TCP_F_FIN))
            s->closer = r->seg.dir;
    }
    if (trk[0].fin && trk[1].fin)
        s->close = TRC_FIN_BOTH;
    else if (trk[0].fin || trk[1].fin)
        s->close = TRC_FIN_HALF;
    else if (!established && !c->mid_stream && !trk[1].have_next)
        s->close = TRC_NO_ANSWER;
    else
        s->close = TRC_OPEN;
}

/* Inserts the deferred changes as rows of their own after their row. */
static void insert_after_rows(struct tr_conn *c, int8_t (*after)[2])
{
    size_t extra = 0;
    for (size_t i = 0; i < c->n_rows; i++)
        extra += (after[i][0] != TR_NO_STATE || after[i][1] != TR_NO_STATE);
    if (!extra)
        return;
    struct tr_row *rows = malloc((c->n_rows + extra) * sizeof(*rows));
    if (!rows)
        return; /* out of memory: only the deferred changes are lost */
    size_t n = 0;
    for (size_t i = 0; i < c->n_rows; i++) {
        rows[n++] = c->rows[i];
        if (after[i][0] == TR_NO_STATE && after[i][1] == TR_NO_STATE)
            continue;
        struct tr_row *r = &rows[n++];
        memset(r, 0, sizeof(*r));
        r->t_us = c->rows[i].t_us;
        r->state[0] = after[i][0];
        r->state[1] = after[i][1];
    }
    free(c->rows);
    c->rows = rows;
    c->n_rows = c->cap_rows = n;
}

void trace_analyze(struct tr_conn *c)
{
    struct infer in;
    memset(&in, 0, sizeof(in));
    in.first_fin[0] = in.first_fin[1] = c->n_rows;
    for (size_t i = 0; i < c->n_rows; i++) {
        const struct tr_row *r = &c->rows[i];
        if (!r->has_seg)
            continue;
        if ((r->seg.flags & (TCP_F_SYN | TCP_F_ACK)) == (TCP_F_SYN | TCP_F_ACK))
            in.sends_synack[r->seg.dir] = true;
        if ((r->seg.flags & TCP_F_FIN) && in.first_fin[r->seg.dir] == c->n_rows)
            in.first_fin[r->seg.dir] = i;
    }
    set_bases(c);
    init_states(c, in.sends_synack);

    struct tr_summary *s = &c->sum;
    memset(s, 0, sizeof(*s));
    s->syn_us = s->synack_us = s->ack_us = -1;
    s->first_us = c->n_rows ? c->rows[0].t_us : 0;
    s->last_us = c->n_rows ? c->rows[c->n_rows - 1].t_us : 0;

    int8_t(*after)[2] = malloc((c->n_rows ? c->n_rows : 1) * sizeof(*after));
    struct track trk[2];
    memset(trk, 0, sizeof(trk));
    int8_t st[2] = {c->init_state[0], c->init_state[1]};
    bool established = c->mid_stream;
    for (size_t i = 0; i < c->n_rows; i++) {
        struct tr_row *row = &c->rows[i];
        if (after)
            after[i][0] = after[i][1] = TR_NO_STATE;
        if (!row->has_seg)
            continue;
        const struct tr_seg *g = &row->seg;
        int d = g->dir;
        uint8_t f = g->flags;
        int64_t ooo_us = s->ack_us >= 0 && s->syn_us >= 0 && s->ack_us > s->syn_us
                             ? s->ack_us - s->syn_us
                             : OOO_DEFAULT_US;
        mark_row(row, trk, ooo_us);
        bool new_fin = (f & TCP_F_FIN) && !trk[d].fin;
        s->bytes[d] += track_seg(&trk[d], row);
        s->segs[d]++;
        if (row->marks & TRM_RETRANS)
            s->retrans[d]++;

        /* The handshake's times: SYN, SYN,ACK, and the ACK of the SYN,ACK. */
        if (d == 0 && (f & (TCP_F_SYN | TCP_F_ACK)) == TCP_F_SYN && s->syn_us < 0)
            s->syn_us = row->t_us;
        else if (d == 1 && (f & (TCP_F_SYN | TCP_F_ACK)) == (TCP_F_SYN | TCP_F_ACK) &&
                 s->syn_us >= 0 && s->synack_us < 0)
            s->synack_us = row->t_us;
        else if (d == 0 && (f & (TCP_F_SYN | TCP_F_ACK | TCP_F_RST)) == TCP_F_ACK &&
                 s->synack_us >= 0 && s->ack_us < 0 && trk[1].syn && g->ack == trk[1].iss + 1)
            s->ack_us = row->t_us;

        int8_t before[2] = {st[0], st[1]}, later[2] = {TR_NO_STATE, TR_NO_STATE};
        step_states(c, &in, i, st, trk, g, new_fin, later);
        for (int k = 0; k < 2; k++) {
            if (st[k] != before[k])
                row->state[k] = st[k];
            if (later[k] != TR_NO_STATE) {
                st[k] = later[k];
                if (after)
                    after[i][k] = later[k];
            }
        }
        if (st[0] == TCPS_ESTABLISHED || st[1] == TCPS_ESTABLISHED)
            established = true;
        if (in.simopen && (f & (TCP_F_SYN | TCP_F_ACK)) == (TCP_F_SYN | TCP_F_ACK) &&
            s->syn_us >= 0)
            s->simopen_us = row->t_us - s->syn_us;
    }
    s->simopen = in.simopen;
    summarize_close(c, trk, established);
    if (after)
        insert_after_rows(c, after);
    free(after);
}

/* ---- folding ----------------------------------------------------------------- */

void trace_fold(const struct tr_conn *c, const struct tr_view *v, struct tr_fold *f)
{
    memset(f, 0, sizeof(*f));
    if (!v->max)
        return;
    /* The handshake ends where both sides are ESTABLISHED; the close starts
     * at the first FIN or RST, or a side leaving ESTABLISHED. */
    int st[2] = {c->init_state[0], c->init_state[1]};
    size_t hs_end = 0, close_start = c->n_rows;
    bool hs_done = st[0] == TCPS_ESTABLISHED && st[1] == TCPS_ESTABLISHED;
    for (size_t i = 0; i < c->n_rows; i++) {
        const struct tr_row *r = &c->rows[i];
        bool leaves = false;
        for (int k = 0; k < 2; k++) {
            if (r->state[k] == TR_NO_STATE)
                continue;
            if (hs_done && r->state[k] != TCPS_ESTABLISHED)
                leaves = true;
            st[k] = r->state[k];
        }
        if (!hs_done) {
            if (st[0] == TCPS_ESTABLISHED && st[1] == TCPS_ESTABLISHED) {
                hs_done = true;
                hs_end = i + 1;
            }
            if (r->has_seg && (r->seg.flags & (TCP_F_FIN | TCP_F_RST)))
                return; /* closed before it was ever open: nothing to fold */
            continue;
        }
        if (leaves || (r->has_seg && (r->seg.flags & (TCP_F_FIN | TCP_F_RST)))) {
            close_start = i;
            break;
        }
    }
    if (!hs_done || close_start < hs_end || close_start - hs_end <= v->max)
        return;
    f->a = hs_end + (v->max + 1) / 2;
    f->b = close_start - v->max / 2;
    for (size_t i = f->a; i < f->b; i++) {
        const struct tr_row *r = &c->rows[i];
        if (!r->has_seg)
            continue;
        f->segs[r->seg.dir]++;
        f->bytes[r->seg.dir] += r->seg.len;
        if (r->marks & TRM_RETRANS)
            f->retrans++;
    }
}

/* ---- labels ------------------------------------------------------------------ */

/* snprintf at *@off into @buf, never past @len. */
__attribute__((format(printf, 4, 5))) static void put(char *buf, size_t len, size_t *off,
                                                      const char *fmt, ...)
{
    if (*off >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *off, len - *off, fmt, ap);
    va_end(ap);
    if (n > 0)
        *off = *off + (size_t)n < len ? *off + (size_t)n : len - 1;
}

char *trace_flags(uint8_t flags, char *buf, size_t len)
{
    static const struct {
        uint8_t bit;
        const char *name;
    } names[] = {{TCP_F_SYN, "SYN"}, {TCP_F_FIN, "FIN"}, {TCP_F_RST, "RST"}, {TCP_F_PSH, "PSH"},
                 {TCP_F_URG, "URG"}, {TCP_F_ECE, "ECE"}, {TCP_F_CWR, "CWR"}, {TCP_F_ACK, "ACK"}};
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (flags & names[i].bit)
            put(buf, len, &off, "%s%s", off ? "," : "", names[i].name);
    if (!off)
        put(buf, len, &off, "none");
    return buf;
}

static uint32_t rel(const struct tr_conn *c, const struct tr_view *v, int dir, uint32_t seq)
{
    return v->absolute || !c->have_base[dir] ? seq : seq - c->base[dir];
}

char *trace_label(const struct tr_conn *c, const struct tr_row *r, const struct tr_view *v,
                  char *buf, size_t len)
{
    const struct tr_seg *g = &r->seg;
    char fl[40];
    size_t off = 0;
    buf[0] = 0;
    put(buf, len, &off, "%s seq=%u", trace_flags(g->flags, fl, sizeof(fl)),
        rel(c, v, g->dir, g->seq));
    if (g->flags & TCP_F_ACK)
        put(buf, len, &off, " ack=%u", rel(c, v, 1 - g->dir, g->ack));
    /* RFC 7323 2.2: windows are scaled once both SYNs agreed, never in a SYN. */
    uint32_t wnd = g->wnd;
    if (c->ws[0] && c->ws[1] && !(g->flags & TCP_F_SYN))
        wnd <<= c->wscale[g->dir];
    put(buf, len, &off, " len=%u win=%u", g->len, wnd);
    return buf;
}

char *trace_options(const struct tr_conn *c, const struct tr_row *r, const struct tr_view *v,
                    char *buf, size_t len)
{
    const struct tcp_opts *o = &r->seg.opt;
    size_t off = 0;
    buf[0] = 0;
    if (!o->has_mss && !o->has_ws && !o->sack_ok && !o->has_ts && !o->n_sack)
        return buf;
    put(buf, len, &off, "<");
    const char *sep = "";
    if (o->has_mss) {
        put(buf, len, &off, "mss %u", o->mss);
        sep = ",";
    }
    if (o->sack_ok) {
        put(buf, len, &off, "%ssackOK", sep);
        sep = ",";
    }
    if (o->has_ts) {
        if (v->verbose)
            put(buf, len, &off, "%sTS val %u ecr %u", sep, o->ts_val, o->ts_ecr);
        else
            put(buf, len, &off, "%sTS", sep);
        sep = ",";
    }
    if (o->has_ws) {
        put(buf, len, &off, "%swscale %u", sep, o->ws);
        sep = ",";
    }
    if (o->n_sack) {
        put(buf, len, &off, "%ssack", sep);
        for (int i = 0; i < o->n_sack && i < TCP_MAX_SACK_BLOCKS; i++)
            put(buf, len, &off, " %u-%u", rel(c, v, 1 - r->seg.dir, o->sack[i].left),
                rel(c, v, 1 - r->seg.dir, o->sack[i].right));
    }
    put(buf, len, &off, ">");
    return buf;
}

char *trace_marks(const struct tr_row *r, char *buf, size_t len)
{
    static const struct {
        uint32_t bit;
        const char *text;
    } names[] = {
        {TRM_LOST, "previous segment not captured"},
        {TRM_FAST, "fast retransmission"},
        {TRM_RETRANS, "retransmission"},
        {TRM_OOO, "out-of-order"},
        {TRM_DUPACK, "dup ACK"},
        {TRM_ZEROWIN, "zero window"},
        {TRM_WINPROBE, "window probe"},
        {TRM_WINUPDATE, "window update"},
        {TRM_KEEPALIVE, "keep-alive"},
        {TRM_RST, "reset"},
        {TRM_ACK_UNSEEN, "ACKed unseen segment"},
    };
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(r->marks & names[i].bit))
            continue;
        if (names[i].bit == TRM_RETRANS && (r->marks & TRM_FAST))
            continue; /* said as "fast retransmission" */
        put(buf, len, &off, "%s%s", off ? ", " : "", names[i].text);
        if (names[i].bit == TRM_DUPACK)
            put(buf, len, &off, " #%u", r->dupack);
    }
    return buf;
}

char *trace_endpoint(const struct tr_conn *c, int side, char *buf, size_t len)
{
    char ip[16];
    snprintf(buf, len, "%s:%u", ip4_fmt(c->addr[side], ip), c->port[side]);
    return buf;
}

char *trace_reltime(const struct tr_conn *c, int64_t t_us, char *buf, size_t len)
{
    int64_t d = t_us - c->sum.first_us;
    const char *sign = d < 0 ? "-" : "";
    if (d < 0)
        d = -d;
    snprintf(buf, len, "%s%lld.%06lld", sign, (long long)(d / 1000000), (long long)(d % 1000000));
    return buf;
}

char *trace_duration(int64_t us, char *buf, size_t len)
{
    if (us < 1000000)
        snprintf(buf, len, "%lld.%03lld ms", (long long)(us / 1000), (long long)(us % 1000));
    else
        snprintf(buf, len, "%lld.%03lld s", (long long)(us / 1000000),
                 (long long)(us / 1000 % 1000));
    return buf;
}

void trace_summary_lines(const struct tr_conn *c, const struct tr_view *v,
                         void (*line)(const char *text, void *arg), void *arg)
{
    const struct tr_summary *s = &c->sum;
    char buf[256], a[32], b[32], d[32];
    static const char *const who[2] = {"client", "server"};
    if (s->simopen) {
        if (v->no_time)
            snprintf(buf, sizeof(buf),
                     "handshake: simultaneous open (SYN both ways, then "
                     "SYN,ACK both ways)");
        else
            snprintf(buf, sizeof(buf),
                     "handshake: simultaneous open, %s from the first SYN to "
                     "the last SYN,ACK",
                     trace_duration(s->simopen_us, a, sizeof(a)));
    } else if (s->syn_us >= 0 && s->synack_us >= 0 && s->ack_us >= 0) {
        if (v->no_time)
            snprintf(buf, sizeof(buf), "handshake: complete (SYN, SYN,ACK, ACK)");
        else
            snprintf(buf, sizeof(buf), "handshake: RTT %s (SYN -> SYN,ACK %s, SYN,ACK -> ACK %s)",
                     trace_duration(s->ack_us - s->syn_us, a, sizeof(a)),
                     trace_duration(s->synack_us - s->syn_us, b, sizeof(b)),
                     trace_duration(s->ack_us - s->synack_us, d, sizeof(d)));
    } else if (c->mid_stream) {
        snprintf(buf, sizeof(buf), "handshake: not in the capture (it began mid-connection)");
    } else {
        snprintf(buf, sizeof(buf), "handshake: incomplete");
    }
    line(buf, arg);
    for (int k = 0; k < 2; k++) {
        snprintf(buf, sizeof(buf), "%s -> %s: %llu bytes in %u segments, %u retransmitted", who[k],
                 who[1 - k], (unsigned long long)s->bytes[k], s->segs[k], s->retrans[k]);
        line(buf, arg);
    }
    if (!v->no_time) {
        snprintf(buf, sizeof(buf), "duration: %s",
                 trace_duration(s->last_us - s->first_us, a, sizeof(a)));
        line(buf, arg);
    }
    switch (s->close) {
    case TRC_FIN_BOTH:
        snprintf(buf, sizeof(buf), "closed: FIN both ways, %s first", who[s->closer]);
        break;
    case TRC_FIN_HALF:
        snprintf(buf, sizeof(buf), "closed: half (FIN from the %s only)", who[s->closer]);
        break;
    case TRC_RST:
        snprintf(buf, sizeof(buf), "closed: reset by the %s", who[s->closer]);
        break;
    case TRC_REFUSED:
        if (s->closer == 1)
            snprintf(buf, sizeof(buf), "closed: refused (the server answered with RST)");
        else
            snprintf(buf, sizeof(buf), "closed: reset by the client before it was open");
        break;
    case TRC_NO_ANSWER:
        snprintf(buf, sizeof(buf), "closed: never opened (no answer to the SYN)");
        break;
    case TRC_OPEN:
        snprintf(buf, sizeof(buf), "closed: no, still open at the end of the capture");
        break;
    }
    line(buf, arg);
}

/* Microseconds as milliseconds, without trailing zeros: "200ms", "0.575ms". */
static char *fmt_ms(uint32_t us, char *buf, size_t len)
{
    if (us % 1000 == 0)
        snprintf(buf, len, "%ums", us / 1000);
    else if (us % 10 == 0)
        snprintf(buf, len, "%u.%02ums", us / 1000, us % 1000 / 10);
    else
        snprintf(buf, len, "%u.%03ums", us / 1000, us % 1000);
    return buf;
}

/* The event's cause, its segment's numbers relative like the arrows'. */
static const char *event_cause(const struct tr_event *e, const struct tr_view *v, char *buf,
                               size_t len)
{
    char fl[9];
    uint32_t seq, ack, n;
    if (v->absolute ||
        sscanf(e->cause, "segment %8s seq=%u ack=%u len=%u", fl, &seq, &ack, &n) != 4)
        return e->cause;
    if (strchr(fl, '.'))
        snprintf(buf, len, "segment %s seq=%u ack=%u len=%u", fl, seq - e->irs, ack - e->iss, n);
    else
        snprintf(buf, len, "segment %s seq=%u len=%u", fl, seq - e->irs, n);
    return buf;
}

char *trace_event_vars(const struct tr_event *e, const struct tr_view *v, char *buf, size_t len)
{
    uint32_t iss = v->absolute ? 0 : e->iss, irs = v->absolute ? 0 : e->irs;
    size_t off = 0;
    char rto[32], srtt[32], cause[128];
    buf[0] = 0;
    if (e->to == TCPS_LISTEN || e->to == TCPS_CLOSED) {
        put(buf, len, &off, "(%s)", event_cause(e, v, cause, sizeof(cause)));
        return buf;
    }
    put(buf, len, &off, "snd_una=%u snd_nxt=%u", e->snd_una - iss, e->snd_nxt - iss);
    if (e->to != TCPS_SYN_SENT)
        put(buf, len, &off, " rcv_nxt=%u", e->rcv_nxt - irs);
    put(buf, len, &off, " cwnd=%u", e->cwnd);
    if (e->ssthresh >= 0x7fffffff)
        put(buf, len, &off, " ssthresh=inf");
    else
        put(buf, len, &off, " ssthresh=%u", e->ssthresh);
    put(buf, len, &off, " rto=%s", fmt_ms(e->rto_us, rto, sizeof(rto)));
    if (e->srtt_us)
        put(buf, len, &off, " srtt=%s", fmt_ms(e->srtt_us, srtt, sizeof(srtt)));
    put(buf, len, &off, " (%s)", event_cause(e, v, cause, sizeof(cause)));
    return buf;
}
