/* tcp/tcp_usr.c: the user calls of RFC 9293 3.10.1-3.10.6 — OPEN (passive
 * and active), SEND, RECEIVE, CLOSE, ABORT — plus shutdown and readiness.
 * The socket API in api/sock.c is a thin shell over these. User calls run
 * at the stack's current time (t->now, set by input and advance). */
#include <errno.h>

#include "synack/synack.h"
#include "tcp/tcp.h"

int tcp_usr_listen(struct tcp *t, uint16_t port, uint32_t backlog, struct tcb **out)
{
    if (port == 0 || backlog == 0)
        return -EINVAL;
    if (tcb_listener(t, port))
        return -EADDRINUSE;
    struct tcb *l = tcb_new(t);
    if (!l)
        return -ENOMEM;
    l->laddr = t->net->addr;
    l->lport = port;
    l->backlog = backlog;
    tcp_set_state(l, TCPS_LISTEN);
    tcb_listen_insert(l);
    *out = l;
    return 0;
}

int tcp_usr_accept(struct tcb *l, struct tcb **out)
{
    if (l->state != TCPS_LISTEN)
        return -EINVAL;
    struct tcb *c = l->accept_head;
    if (!c)
        return -EAGAIN;
    l->accept_head = c->q_next;
    if (!l->accept_head)
        l->accept_tail = NULL;
    l->n_accept_q--;
    c->in_accept_q = false;
    c->listener = NULL;
    c->q_next = NULL;
    /* Anything that happened while it waited is news to its new owner. */
    uint32_t ev = tcp_usr_events(c);
    if (ev)
        tcb_raise(c, ev);
    *out = c;
    return 0;
}

int tcp_usr_connect(struct tcp *t, uint32_t raddr, uint16_t rport, uint16_t lport, sn_time now,
                    struct tcb **out)
{
    uint32_t laddr = t->net->addr;
    if (raddr == 0 || rport == 0)
        return -EINVAL;
    if (!ip4_route(t->net, raddr))
        return -EHOSTUNREACH;
    if (!lport)
        lport = tcp_ephemeral_port(t, raddr, rport);
    if (!lport || tcb_lookup(t, laddr, lport, raddr, rport))
        return -EADDRINUSE;
    struct tcb *c = tcb_new(t);
    if (!c)
        return -ENOMEM;
    tcb_setup(c, laddr, lport, raddr, rport, now);
    c->iss = tcp_isn(t, laddr, lport, raddr, rport, now);
    c->snd_una = c->snd_nxt = c->snd_max = c->recover = c->iss; /* RFC 6582 3.2 step 1 */
    c->cc->init(c);
    c->rtt_timing = true; /* time the SYN (Karn: only if not retransmitted) */
    c->rtt_seq = c->iss;
    c->rtt_start = now;
    tcb_hash_insert(c);
    tcp_set_state(c, TCPS_SYN_SENT);
    STAT_INC(t->st, tcp, active_opens);
    tcp_output(c, now); /* <SEQ=ISS><CTL=SYN> */
    *out = c;
    return 0;
}

long tcp_usr_send(struct tcb *c, const void *buf, uint32_t len)
{
    if (c->err)
        return c->err;
    if (c->fin_queued)
        return -EPIPE;
    /* RFC 9293 3.10.2: SYN-SENT and SYN-RECEIVED queue the data. */
    if (c->state < TCPS_SYN_SENT || c->state > TCPS_CLOSE_WAIT)
        return -ENOTCONN;
    uint32_t cap = c->sndbuf.cap;
    uint32_t n = ring_write(&c->sndbuf, buf, len);
    if (c->sndbuf.cap != cap)
        STAT_INC(c->tcp->st, tcp, buf_grows);
    if (n == 0)
        return len ? -EAGAIN : 0;
    tcp_output_soon(c);
    return n;
}

long tcp_usr_recv(struct tcb *c, void *buf, uint32_t len)
{
    if (c->rcvbuf.len == 0) {
        /* RFC 9293 3.10.3: after the FIN, RECEIVE reports "connection
         * closing", i.e. EOF, also once the close completed (CLOSED with
         * the handle still held): as Linux's SOCK_DONE. */
        if (tcps_have_rcvd_fin(c->state) || c->fin_rcvd || c->rd_shut)
            return 0;
        if (c->err)
            return c->err;
        return c->state >= TCPS_SYN_SENT ? -EAGAIN : -ENOTCONN;
    }
    uint32_t before = tcp_rcv_window(c);
    uint32_t n = ring_read(&c->rcvbuf, buf, len);
    /* Out-of-order data sits past the committed bytes, in the same
     * storage: free it only when no such range is held. */
    if (c->n_ofo == 0)
        ring_compact(&c->rcvbuf);
    /* RFC 9293 3.8.6.2.2: announce the opened window once it grew by at
     * least min(buffer/2, MSS) (tcp_rcv_window applies that rule). Not
     * after the peer's FIN: nothing more can come, and a peer that has
     * closed answers the update with RST (Linux's tcp_cleanup_rbuf skips
     * it too, on RCV_SHUTDOWN). */
    if (tcp_rcv_window(c) > before && tcps_synchronized(c->state) &&
        !tcps_have_rcvd_fin(c->state) && !c->fin_rcvd) {
        c->ack_now = true;
        tcp_output_soon(c);
    }
    return n;
}

int tcp_usr_shutdown(struct tcb *c, int how)
{
    if (how & SN_SHUT_RD)
        c->rd_shut = true;
    if (!(how & SN_SHUT_WR) || c->fin_queued)
        return 0;
    switch (c->state) {
    case TCPS_SYN_SENT:
        tcp_close_conn(c, 0);
        return 0;
    case TCPS_SYN_RECEIVED:
        /* DEVIATION(RFC 9293 3.10.4, CLOSE in SYN-RECEIVED): the FIN is
         * queued until our SYN is acknowledged (the RFC's "queue for
         * processing after entering ESTABLISHED"), even with nothing to
         * send, so the SYN,ACK alone is retransmitted meanwhile;
         * ack_synrcvd then enters FIN-WAIT-1 and the FIN goes. */
        c->fin_queued = true;
        return 0;
    case TCPS_ESTABLISHED:
        tcp_set_state(c, TCPS_FIN_WAIT_1);
        break;
    case TCPS_CLOSE_WAIT:
        tcp_set_state(c, TCPS_LAST_ACK);
        break;
    default:
        return -ENOTCONN;
    }
    c->fin_queued = true;
    tcp_output_soon(c);
    return 0;
}

static void abort_conn(struct tcb *c)
{
    if (tcps_synchronized(c->state) && c->state != TCPS_TIME_WAIT)
        tcp_send_rst(c, c->tcp->now);
    tcp_close_conn(c, -ECONNABORTED);
}

void tcp_usr_close(struct tcb *c)
{
    c->orphan = true;
    c->cb = NULL;
    if (c->state == TCPS_LISTEN) {
        while (c->accept_head)
            abort_conn(c->accept_head); /* never accepted: RST them */
        for (struct tcb *x = c->tcp->all; x; x = x->all_next)
            if (x->listener == c) {
                x->listener = NULL; /* half-open children finish or die alone */
                x->orphan = true;
            }
        tcp_close_conn(c, 0);
        return;
    }
    if (c->state == TCPS_CLOSED) {
        tcb_free(c);
        return;
    }
    /* RFC 1122 4.2.2.13 / RFC 9293 3.10.4: closing with unread data is an
     * abort. */
    if (c->rcvbuf.len > 0 || c->state == TCPS_SYN_SENT) {
        abort_conn(c);
        return;
    }
    tcp_usr_shutdown(c, SN_SHUT_WR);
    if (c->state == TCPS_FIN_WAIT_2)
        tcp_keepalive_reset(c, c->tcp->now);
}

void tcp_usr_abort(struct tcb *c)
{
    c->orphan = true;
    c->cb = NULL;
    if (c->state == TCPS_CLOSED || c->state == TCPS_LISTEN) {
        tcp_usr_close(c);
        return;
    }
    abort_conn(c);
}

uint32_t tcp_usr_events(const struct tcb *c)
{
    uint32_t ev = 0;
    if (c->state == TCPS_LISTEN)
        return c->accept_head ? SN_EV_READABLE : 0;
    if (c->rcvbuf.len || tcps_have_rcvd_fin(c->state) || c->fin_rcvd || c->err)
        ev |= SN_EV_READABLE;
    if ((c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT) && !c->fin_queued &&
        ring_space(&c->sndbuf) > 0)
        ev |= SN_EV_WRITABLE;
    if (c->err)
        ev |= SN_EV_ERROR | SN_EV_WRITABLE;
    if (c->state == TCPS_CLOSED || c->state == TCPS_TIME_WAIT)
        ev |= SN_EV_CLOSED;
    return ev;
}
