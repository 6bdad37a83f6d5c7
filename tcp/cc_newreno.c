/* tcp/cc_newreno.c: Reno/NewReno window arithmetic (RFC 5681 3.1-3.2,
 * RFC 6582, RFC 3465 byte counting with L = 2 SMSS). */
#include "tcp/tcp.h"

static void nr_init(struct tcb *c)
{
    uint32_t mss = tcp_snd_mss(c);
    /* RFC 6928 2: IW = min(10*MSS, max(2*MSS, 14600)), scaled by config. */
    uint32_t iw = c->tcp->cfg->tcp_init_cwnd_segs * mss;
    uint32_t cap = 10 * mss > (2 * mss > 14600 ? 2 * mss : 14600) ? 10 * mss
                                                                  : (2 * mss > 14600 ? 2 * mss : 14600);
    if (c->tcp->cfg->tcp_init_cwnd_segs >= 10 && iw > cap)
        iw = cap;
    c->cwnd = iw;
    c->ssthresh = UINT32_MAX; /* RFC 5681 3.1: arbitrarily high */
}

static void nr_on_ack(struct tcb *c, uint32_t acked)
{
    uint32_t mss = tcp_snd_mss(c);
    if (c->cwnd < c->ssthresh) {
        /* Slow start: RFC 3465 2.2 with L = 2*SMSS. */
        c->cwnd += acked < 2 * mss ? acked : 2 * mss;
        return;
    }
    /* Congestion avoidance: one SMSS per cwnd of bytes acknowledged. */
    c->bytes_acked_ca += acked;
    if (c->bytes_acked_ca >= c->cwnd) {
        c->bytes_acked_ca -= c->cwnd;
        c->cwnd += mss;
    }
}

/* RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS). */
static uint32_t half_flight(const struct tcb *c)
{
    uint32_t mss = tcp_snd_mss(c);
    uint32_t half = tcp_flight_size(c) / 2;
    return half > 2 * mss ? half : 2 * mss;
}

static void nr_on_loss(struct tcb *c)
{
    c->ssthresh = half_flight(c);
    c->cwnd = c->ssthresh + TCP_DUPTHRESH * tcp_snd_mss(c); /* RFC 5681 3.2 step 3 */
    c->bytes_acked_ca = 0;
}

static void nr_on_rto(struct tcb *c)
{
    c->ssthresh = half_flight(c);
    c->cwnd = tcp_snd_mss(c); /* loss window: one segment */
    c->bytes_acked_ca = 0;
}

const struct cc_ops cc_newreno = {"newreno", nr_init, nr_on_ack, nr_on_loss, nr_on_rto};
