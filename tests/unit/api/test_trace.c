/* tests/unit/api/test_trace.c: the state-transition trace (synack/trace.h,
 * api/trace.c over tcp_set_state's hook): a passive open, an active close
 * and TIME-WAIT's end, each change reported once with its cause (the
 * segment, the application's call, the timer) and the variables at that
 * moment; nothing once the trace is cleared. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "helpers/frames.h"
#include "synack/trace.h"
#include "tcp/tcp.h"
#include "wire/eth.h"
#include "wire/tcp.h"

#define MAX_EV 16
#define PEER_PORT 40000
#define OUR_PORT 7

struct log {
    int n;
    struct sn_state_event ev[MAX_EV];
    char cause[MAX_EV][96];
};

static void record(const struct sn_state_event *e, void *user)
{
    struct log *l = user;
    assert_true(l->n < MAX_EV);
    l->ev[l->n] = *e;
    snprintf(l->cause[l->n], sizeof(l->cause[0]), "%s", e->cause);
    l->ev[l->n].cause = l->cause[l->n];
    l->n++;
}

/* A segment from the peer to us. */
static void send_seg(struct sn_stack *s, uint32_t seq, uint32_t ack, uint8_t flags, sn_time now)
{
    uint8_t tcp[TCP_MAX_HDR_LEN], frame[FR_FRAME_MAX];
    struct tcp_opts_out o = {0};
    if (flags & TCP_F_SYN) {
        o.mss_on = 1;
        o.mss = 1460;
    }
    uint32_t len = tcp_build(tcp, FR_PEER_IP, FR_OUR_IP, PEER_PORT, OUR_PORT, seq, ack, flags,
                             65535, &o, 0);
    struct fr_ip ip = {.proto = IP4_PROTO_TCP};
    size_t n = fr_eth_ip4(frame, &ip, tcp, len);
    fr_input(s, frame, n, now);
}

/* The next segment we sent. */
static void take_seg(struct sn_stack *s, struct tcp_seg *sg)
{
    uint8_t frame[FR_FRAME_MAX];
    size_t n = fr_output(s, frame);
    assert_true(n > ETH_HDR_LEN + IP4_HDR_LEN);
    const uint8_t *ip = frame + ETH_HDR_LEN;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    assert_int_equal(ip[9], IP4_PROTO_TCP);
    assert_int_equal(tcp_seg_parse(sg, ip + ihl, n - ETH_HDR_LEN - ihl), 0);
}

static void check(const struct log *l, int i, int from, int to, const char *cause)
{
    assert_true(i < l->n);
    const struct sn_state_event *e = &l->ev[i];
    assert_string_equal(sn_tcp_state_name(e->from), sn_tcp_state_name(from));
    assert_string_equal(sn_tcp_state_name(e->to), sn_tcp_state_name(to));
    assert_string_equal(e->cause, cause);
    assert_int_equal(e->local_addr, FR_OUR_IP);
    assert_int_equal(e->local_port, OUR_PORT);
}

static void trace_passive_open_active_close(void **state)
{
    (void)state;
    struct sn_config cfg;
    sn_config_defaults(&cfg);
    cfg.tcp_msl_ms = 1000;
    struct sn_stack *s = fr_stack_new(&cfg, 1);
    struct log l = {0};
    sn_stack_set_state_trace(s, record, &l);
    sn_time now = FR_T0 + SN_MSEC(1);

    struct sn_sock *lis, *so;
    assert_int_equal(sn_listen(s, OUR_PORT, 8, &lis), 0);
    assert_int_equal(l.n, 1);
    check(&l, 0, TCPS_CLOSED, TCPS_LISTEN, "user listen");
    assert_int_equal(l.ev[0].remote_addr, 0);

    /* RFC 9293 3.10.7.2: the SYN moves LISTEN to SYN-RECEIVED. */
    send_seg(s, 1000, 0, TCP_F_SYN, now);
    assert_int_equal(l.n, 2);
    check(&l, 1, TCPS_LISTEN, TCPS_SYN_RECEIVED, "segment S seq=1000 ack=0 len=0");
    assert_int_equal(l.ev[1].remote_addr, FR_PEER_IP);
    assert_int_equal(l.ev[1].remote_port, PEER_PORT);
    assert_int_equal(l.ev[1].irs, 1000);
    assert_int_equal(l.ev[1].rcv_nxt, 1001);
    struct tcp_seg synack;
    take_seg(s, &synack);
    assert_int_equal(synack.flags, TCP_F_SYN | TCP_F_ACK);
    uint32_t iss = synack.seq;
    assert_int_equal(l.ev[1].iss, iss);

    /* The ACK of our SYN: ESTABLISHED, SND.NXT past the SYN. */
    char want[96];
    send_seg(s, 1001, iss + 1, TCP_F_ACK, now + SN_MSEC(1));
    assert_int_equal(l.n, 3);
    snprintf(want, sizeof(want), "segment . seq=1001 ack=%u len=0", iss + 1);
    check(&l, 2, TCPS_SYN_RECEIVED, TCPS_ESTABLISHED, want);
    assert_int_equal(l.ev[2].snd_nxt, iss + 1);
    assert_true(l.ev[2].cwnd > 0);
    assert_true(l.ev[2].rto_us > 0);
    assert_int_equal(l.ev[2].now, now + SN_MSEC(1));

    /* The application closes: FIN-WAIT-1, caused by the call. */
    sn_stack_advance(s, now + SN_MSEC(2));
    assert_int_equal(sn_accept(lis, &so), 0);
    assert_int_equal(sn_close(so), 0);
    assert_int_equal(l.n, 4);
    check(&l, 3, TCPS_ESTABLISHED, TCPS_FIN_WAIT_1, "user close");
    struct tcp_seg fin;
    take_seg(s, &fin);
    assert_true(fin.flags & TCP_F_FIN);

    /* The peer's FIN acknowledging ours: FIN-WAIT-2, then TIME-WAIT, both
     * from that segment. */
    send_seg(s, 1001, iss + 2, TCP_F_FIN | TCP_F_ACK, now + SN_MSEC(3));
    assert_int_equal(l.n, 6);
    snprintf(want, sizeof(want), "segment F. seq=1001 ack=%u len=0", iss + 2);
    check(&l, 4, TCPS_FIN_WAIT_1, TCPS_FIN_WAIT_2, want);
    check(&l, 5, TCPS_FIN_WAIT_2, TCPS_TIME_WAIT, want);
    assert_int_equal(l.ev[5].rcv_nxt, 1002);

    /* 2*MSL later the TIME-WAIT timer closes it. */
    fr_drain(s);
    sn_stack_advance(s, now + SN_SEC(3));
    assert_int_equal(l.n, 7);
    check(&l, 6, TCPS_TIME_WAIT, TCPS_CLOSED, "timer time-wait");

    /* Cleared: nothing more is reported. */
    sn_stack_set_state_trace(s, NULL, NULL);
    sn_close(lis);
    assert_int_equal(l.n, 7);
    fr_stack_done(s, now + SN_SEC(4));
}

static void trace_rst_and_retransmission_timer(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    struct log l = {0};
    sn_stack_set_state_trace(s, record, &l);
    sn_time now = FR_T0 + SN_MSEC(1);
    struct sn_sock *lis;
    assert_int_equal(sn_listen(s, OUR_PORT, 8, &lis), 0);
    send_seg(s, 5000, 0, TCP_F_SYN, now);
    struct tcp_seg synack;
    take_seg(s, &synack);
    /* An RST in the window ends the half-open connection. */
    send_seg(s, 5001, 0, TCP_F_RST, now + SN_MSEC(1));
    assert_int_equal(l.n, 3);
    check(&l, 2, TCPS_SYN_RECEIVED, TCPS_CLOSED, "segment R seq=5001 ack=0 len=0");

    /* An active open that nobody answers: the retransmission timer gives
     * up and closes it. */
    struct sn_sock *c;
    assert_int_equal(sn_connect(s, FR_PEER_IP, 9, 0, now, &c), 0);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.ev[3].cause, "user connect");
    assert_string_equal(sn_tcp_state_name(l.ev[3].to), "SYN-SENT");
    for (int sec = 1; sec < 600 && l.n == 4; sec++) {
        fr_drain(s);
        sn_stack_advance(s, now + SN_SEC(sec));
    }
    assert_int_equal(l.n, 5);
    assert_string_equal(l.ev[4].cause, "timer rtx");
    assert_string_equal(sn_tcp_state_name(l.ev[4].to), "CLOSED");
    sn_stack_set_state_trace(s, NULL, NULL);
    sn_close(c);
    sn_close(lis);
    fr_stack_done(s, now + SN_SEC(600));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trace_passive_open_active_close),
        cmocka_unit_test(trace_rst_and_retransmission_timer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
