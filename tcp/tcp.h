/* tcp/tcp.h: TCP for one stack instance (RFC 9293).
 *
 * Read first: RFC 9293 3.3 (state diagram), 3.10.7 (segment arrives),
 * RFC 6298 (RTO), RFC 5681 + 6582 (congestion control), RFC 7323 (window
 * scale, timestamps, PAWS), RFC 2018 (SACK), RFC 5961 (blind attacks).
 *
 * Split by phase as BSD and Linux do: tcb.c (tables, lifecycle), tcp_in.c
 * (segment arrives), tcp_out.c (what to send), tcp_timer.c (timers and
 * RTO), cc_newreno.c (congestion control), syncookie.c (ISN and cookies).
 * Input decides, output sends: tcp_in sets intents (ack_now, ...), only
 * tcp_output builds segments, except RSTs answered from the segment alone. */
#ifndef SYNACK_TCP_TCP_H
#define SYNACK_TCP_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pkt.h"
#include "core/ring.h"
#include "core/siphash.h"
#include "core/stats.h"
#include "core/timer_wheel.h"
#include "net/net.h"
#include "synack/config.h"
#include "synack/info.h"
#include "tcp/seq.h"
#include "wire/tcp.h"

/* Ordered so ranges mean something, as in BSD's tcp_fsm.h. */
enum tcp_state {
    TCPS_CLOSED,
    TCPS_LISTEN,
    TCPS_SYN_SENT,
    TCPS_SYN_RECEIVED,
    TCPS_ESTABLISHED,
    TCPS_CLOSE_WAIT,
    TCPS_FIN_WAIT_1,
    TCPS_CLOSING,
    TCPS_LAST_ACK,
    TCPS_FIN_WAIT_2,
    TCPS_TIME_WAIT,
};

const char *tcp_state_name(enum tcp_state s);

/* We have sent a FIN (or the user asked for one): states after CLOSE. */
static inline bool tcps_fin_requested(enum tcp_state s) { return s >= TCPS_FIN_WAIT_1 || s == TCPS_LAST_ACK; }
/* The peer's FIN has been received. */
static inline bool tcps_have_rcvd_fin(enum tcp_state s)
{
    return s == TCPS_CLOSE_WAIT || s == TCPS_CLOSING || s == TCPS_LAST_ACK || s == TCPS_TIME_WAIT;
}
static inline bool tcps_synchronized(enum tcp_state s) { return s >= TCPS_SYN_RECEIVED; }

#define TCP_MAX_RANGES 32 /* out-of-order ranges held, SACK scoreboard size */
#define TCP_DUPTHRESH 3   /* RFC 5681 3.2 */

struct tcb;
struct sn_sock;
struct tcp;

/* The state-change trace hook: tcp_set_state calls it after every change
 * when set (struct tcp's trace; the stack's owner sets it, see api/trace.c).
 * @cause is one line saying why: "segment S. seq=N ack=N len=N" (the
 * segment that arrived, absolute numbers, flags as tcpdump prints them),
 * "timer rtx|delack|persist|keepalive|time-wait", "icmp unreachable", or
 * "user listen|connect|close" for a call from the application. */
typedef void (*tcp_trace_fn)(void *ctx, const struct tcb *c, enum tcp_state from,
                             enum tcp_state to, const char *cause);

/* Congestion control behind a small seam (FreeBSD cc/, Linux
 * tcp_congestion_ops). Loss recovery itself (which segment to resend)
 * lives in tcp_in/tcp_out; the algorithm only moves cwnd and ssthresh. */
struct cc_ops {
    const char *name;
    void (*init)(struct tcb *c);
    /* @acked new bytes were cumulatively acknowledged outside recovery. */
    void (*on_ack)(struct tcb *c, uint32_t acked);
    /* Fast retransmit: entering loss recovery (RFC 5681 3.2 step 2). */
    void (*on_loss)(struct tcb *c);
    /* The retransmission timer expired (RFC 5681 3.1, eq. 4). */
    void (*on_rto)(struct tcb *c);
};

extern const struct cc_ops cc_newreno;

struct tcb {
    struct tcb *hnext;         /* hash chain (connections or listeners) */
    struct tcb *all_next, *all_prev; /* every TCB, for ss */
    struct tcb *q_next;        /* listener's accept queue */
    struct tcb *ev_next;       /* pending-event list */
    struct tcb *out_next;      /* deferred-output list (tcp_output_soon) */
    struct tcp *tcp;
    struct tcb *listener;      /* passive opens: until accepted */

    uint32_t laddr, raddr;     /* host order */
    uint16_t lport, rport;
    enum tcp_state state;

    /* RFC 9293 3.3.1 send sequence variables. */
    uint32_t iss, snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2;
    uint32_t snd_max;          /* highest sequence number sent + 1 */
    uint32_t max_snd_wnd;      /* largest window the peer offered (RFC 5961 5.2, SWS) */
    /* Receive sequence variables. */
    uint32_t irs, rcv_nxt, rcv_wnd;
    uint32_t rcv_adv;          /* right edge we advertised: never shrinks */
    uint32_t rcv_up;

    /* Options negotiated on the handshake (RFC 7323, RFC 2018). */
    uint8_t snd_wscale, rcv_wscale; /* shift for windows we receive / send */
    bool ws_ok, ts_ok, sack_ok;
    uint32_t ts_recent, ts_recent_age_ms, ts_offset;
    uint32_t last_ack_sent;
    uint16_t peer_mss;         /* from the peer's SYN, or 536 (RFC 9293 3.7.1) */
    uint16_t adv_mss;          /* what we advertised */

    /* Buffers. The send ring starts at snd_una (after the SYN); the receive
     * ring holds unread in-order bytes, then out-of-order bytes at their
     * offsets, tracked in ofo[]. */
    struct ring sndbuf, rcvbuf;
    struct sack_block ofo[TCP_MAX_RANGES];
    uint8_t n_ofo;
    uint8_t ofo_last;          /* index of the range most recently grown (RFC 2018 4) */
    bool ofo_fin;              /* a FIN arrived out of order, at ofo_fin_seq */
    uint32_t ofo_fin_seq;

    /* Sender's SACK scoreboard: ranges above snd_una the peer holds. */
    struct sack_block sacked[TCP_MAX_RANGES];
    uint8_t n_sacked;

    /* Congestion control (RFC 5681, RFC 6582). */
    const struct cc_ops *cc;
    uint32_t cwnd, ssthresh;
    uint32_t bytes_acked_ca;   /* congestion avoidance byte counter (RFC 3465) */
    uint32_t dupacks;
    uint32_t recover;          /* NewReno "recover" (RFC 6582 3.2), starts at ISS */
    bool in_recovery;
    uint32_t rexmit_hi;        /* RFC 6675 HighRxt: holes below this were resent */
    uint32_t rexmit_mark;      /* snd_max when a hole was last resent (lost retransmissions) */
    bool rto_recovery;         /* recovery after a timeout: all unSACKed below recover is lost */
    bool probe_armed;          /* rtx_timer runs for a loss probe (RFC 8985 7), not the RTO */
    bool probe_out;            /* a probe went out and nothing has been acknowledged since */
    bool tlp_retrans;          /* a probe resent data below tlp_high (RFC 8985 7.4) */
    uint32_t tlp_high;         /* snd_max when it did */

    /* RTT and RTO (RFC 6298), microseconds. */
    uint32_t srtt_us, rttvar_us, rto_us;
    bool rtt_timing;
    bool rtt_fresh;            /* an RTT sample came since the last RTO expiry */
    uint32_t rto_tsval;        /* our TSval at the last RTO expiry */
    uint8_t kept_backoff;      /* the last timeout episode's backoff, until a sample */
    uint32_t rtt_seq;
    sn_time rtt_start;
    uint32_t backoff;          /* consecutive RTOs / probes */
    uint32_t total_retrans;

    struct tw_entry rtx_timer;     /* SYN, data, FIN retransmission */
    struct tw_entry delack_timer;
    struct tw_entry persist_timer; /* zero-window probes */
    struct tw_entry keep_timer;    /* keepalive, and FIN-WAIT-2 of orphans */
    struct tw_entry wait_timer;    /* TIME-WAIT 2*MSL */

    /* Intents and modes. */
    bool ack_now;
    bool fin_queued;           /* user is done writing: FIN follows the data */
    bool rd_shut;
    bool fin_rcvd;             /* the peer's FIN arrived: EOF for the reader, even once CLOSED */
    bool nodelay, keepalive, quickack;
    bool orphan;               /* the user released the handle */
    bool on_ev_list;
    bool on_out_list;
    bool in_accept_q;
    uint8_t delack_segs;       /* full segments received since our last ACK */
    uint32_t quickacks_left;   /* Linux-style quick ACKs at connection start */
    uint32_t keep_probes;
    sn_time last_rcv;

    /* Socket side. */
    uint32_t events;           /* SN_EV_* to deliver */
    int err;                   /* negative errno that ended the connection */
    void (*cb)(struct sn_sock *, uint32_t, void *);
    void *user;
    /* Listener only. */
    uint32_t backlog, n_accept_q, n_syn_rcvd;
    struct tcb *accept_head, *accept_tail;

    uint64_t bytes_acked, bytes_received, bytes_sent;
    uint64_t segs_in, segs_out;
};

struct tcp {
    const struct sn_config *cfg;
    struct sn_stats *st;
    struct timer_wheel *tw;
    struct net *net;

    struct tcb **conn_hash;     /* by 4-tuple */
    uint32_t conn_mask;
    struct tcb **listen_hash;   /* by local port */
    uint32_t listen_mask;
    struct tcb *all;            /* every TCB */
    uint32_t n_conns;
    struct tcb *ev_head, *ev_tail; /* TCBs with events for the application */
    struct tcb *out_head;       /* TCBs whose output waits for tcp_flush_output */

    struct sip_key isn_key, cookie_key;
    uint16_t next_ephemeral;
    uint32_t challenge_tokens;  /* RFC 5961 7: challenge ACK budget */
    sn_time challenge_refill;
    sn_time now;                /* time of the current input/timer */

    /* State-change trace (NULL: off), and what is being processed, which
     * only the trace reads: the segment in tcp_input, or an ICMP error.
     * A firing timer is known from tw->firing. */
    tcp_trace_fn trace;
    void *trace_ctx;
    const struct tcp_seg *cause_seg;
    const char *cause_what;
};

/* ---- tcb.c ---- */
int tcp_init(struct tcp *t, const struct sn_config *cfg, struct sn_stats *st,
             struct timer_wheel *tw, struct net *n, uint64_t seed);
void tcp_free(struct tcp *t);
struct tcb *tcb_new(struct tcp *t);
/* Releases a TCB that is CLOSED and no longer referenced by the user. */
void tcb_free(struct tcb *c);
/* Addresses, ISN-independent defaults (MSS, RTO) for a new connection. */
void tcb_setup(struct tcb *c, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
               sn_time now);
void tcb_hash_insert(struct tcb *c);
void tcb_hash_remove(struct tcb *c);
struct tcb *tcb_lookup(struct tcp *t, uint32_t laddr, uint16_t lport, uint32_t raddr,
                       uint16_t rport);
struct tcb *tcb_listener(struct tcp *t, uint16_t lport);
int tcb_listen_insert(struct tcb *l);
/* Every state change goes through here (trace hook, gauges). */
void tcp_set_state(struct tcb *c, enum tcp_state s);
/* Ends the connection with @err (0 for a normal close): CLOSED, timers off,
 * the user told, the TCB freed if nobody holds it. */
void tcp_close_conn(struct tcb *c, int err);
/* Queues @ev for the application (delivered by tcp_deliver_events). */
void tcb_raise(struct tcb *c, uint32_t ev);
void tcp_deliver_events(struct tcp *t);
uint16_t tcp_ephemeral_port(struct tcp *t, uint32_t raddr, uint16_t rport);

/* ---- syncookie.c ---- */
uint32_t tcp_isn(struct tcp *t, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
                 sn_time now);
uint32_t tcp_ts_offset(struct tcp *t, uint32_t laddr, uint16_t lport, uint32_t raddr,
                       uint16_t rport);
uint32_t syncookie_make(struct tcp *t, uint32_t laddr, uint16_t lport, uint32_t raddr,
                        uint16_t rport, uint32_t peer_isn, uint16_t mss, sn_time now);
/* The MSS encoded in a valid cookie, or 0 when it does not validate. */
uint16_t syncookie_check(struct tcp *t, uint32_t laddr, uint16_t lport, uint32_t raddr,
                         uint16_t rport, uint32_t peer_isn, uint32_t cookie, sn_time now);

/* ---- tcp_in.c ---- */
void tcp_input(void *ctx, struct pkt *p, const struct ip4_hdr *ip, sn_time now);
void tcp_icmp_error(void *ctx, uint8_t type, uint8_t code, const uint8_t *inner, size_t len,
                    sn_time now);
/* A probe timeout passed with SACKed data above a hole: the hole, and any
 * resend of it, is lost; enter recovery or resend it again. */
void tcp_mark_lost(struct tcb *c, sn_time now);

/* ---- tcp_out.c ---- */
/* Sends whatever the connection's state, windows and intents allow. */
void tcp_output(struct tcb *c, sn_time now);
/* tcp_output at the next tcp_flush_output (sn_stack_output calls it), so
 * that a batch of input, the application's reads and writes in its
 * callbacks, and its hooks' sends leave together: the ACK of a request
 * rides on its response, a FIN on the last data, one ACK carries the
 * reopened window, TSO super-segments are full; not an ACK per frame, a
 * window update per read and a segment per write (Linux gets the same from
 * delayed ACKs, GRO, tcp_cleanup_rbuf and autocorking). */
void tcp_output_soon(struct tcb *c);
void tcp_flush_output(struct tcp *t);
/* Sends one segment at @seq with @len bytes from the send buffer. @len above
 * tcp_snd_mss() makes a TSO super-segment (only with SN_OFFLOAD_TSO); when
 * no 64 KiB buffer is free it is cut to one segment and FIN and PSH are
 * dropped. Returns the bytes the segment covers (@len or that cut), also
 * when no buffer was free at all (counted; retransmission repairs it). */
uint32_t tcp_xmit(struct tcb *c, uint32_t seq, uint32_t len, uint8_t flags, sn_time now);
/* RST (or RST+ACK) answering @sg, which reached no connection (RFC 9293
 * 3.10.7.1). */
void tcp_reply_rst(struct tcp *t, uint32_t laddr, uint32_t raddr, const struct tcp_seg *sg,
                   sn_time now);
/* A SYN+ACK for a SYN cookie: no TCB exists. */
void tcp_send_cookie_synack(struct tcp *t, uint32_t laddr, uint32_t raddr,
                            const struct tcp_seg *syn, uint32_t cookie, uint16_t mss, sn_time now);
/* Sends RST for an established connection being aborted. */
void tcp_send_rst(struct tcb *c, sn_time now);
/* The window to advertise now, in bytes (before scaling). */
uint32_t tcp_rcv_window(struct tcb *c);
/* The window scale shift we offer (RFC 7323 2.3). */
uint8_t tcp_rcv_wscale_offer(const struct tcb *c);
/* Largest payload per segment toward the peer. */
uint32_t tcp_snd_mss(const struct tcb *c);
uint32_t tcp_flight_size(const struct tcb *c);
/* Sends again @len data bytes from @seq, as first sent: PSH when they end
 * the data, with the FIN if that followed. Returns the sequence space. */
uint32_t tcp_resend(struct tcb *c, uint32_t seq, uint32_t len, sn_time now);
/* RFC 8985 7.3: one segment to draw an ACK after a probe timeout: new data
 * if the peer's window takes it, else the last segment sent. */
void tcp_send_loss_probe(struct tcb *c, sn_time now);

/* ---- tcp_usr.c: user calls (RFC 9293 3.10.1-3.10.6) ---- */
int tcp_usr_listen(struct tcp *t, uint16_t port, uint32_t backlog, struct tcb **out);
int tcp_usr_accept(struct tcb *l, struct tcb **out);
int tcp_usr_connect(struct tcp *t, uint32_t raddr, uint16_t rport, uint16_t lport, sn_time now,
                    struct tcb **out);
long tcp_usr_send(struct tcb *c, const void *buf, uint32_t len);
long tcp_usr_recv(struct tcb *c, void *buf, uint32_t len);
int tcp_usr_shutdown(struct tcb *c, int how);
void tcp_usr_close(struct tcb *c);
void tcp_usr_abort(struct tcb *c);
/* Readiness now (SN_EV_* bits). */
uint32_t tcp_usr_events(const struct tcb *c);

/* ---- tcp_timer.c ---- */
void tcp_timers_init(struct tcb *c);
void tcp_timers_stop(struct tcb *c);
void tcp_rtt_sample(struct tcb *c, sn_time rtt);
/* Arms rtx_timer: for a loss probe when one may go, else for the RTO. */
void tcp_rtx_arm(struct tcb *c, sn_time now);
/* The peer SACKed new data: push a pending probe back (RACK's clock). */
void tcp_probe_rearm(struct tcb *c, sn_time now);
void tcp_delack_arm(struct tcb *c, sn_time now);
void tcp_persist_arm(struct tcb *c, sn_time now);
void tcp_keepalive_reset(struct tcb *c, sn_time now);
void tcp_timewait_start(struct tcb *c, sn_time now);

/* ---- tcp_info ---- */
void tcp_fill_info(const struct tcb *c, struct sn_tcp_info *info);

static inline uint32_t tcp_now_ms(sn_time now) { return (uint32_t)(now / 1000); }

#endif
