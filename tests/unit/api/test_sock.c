/* tests/unit/api/test_sock.c: every error code the socket API documents
 * (include/synack/synack.h), provoked once, between two real stacks on a
 * memory pipe and a virtual clock; and readiness callbacks. Each test ends
 * with both stacks holding no packet buffers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "helpers/twostack.h"
#include "synack/synack.h"

static int setup(void **state)
{
    static struct twostack ts;
    if (twostack_new(&ts, NULL) < 0)
        return -1;
    *state = &ts;
    return 0;
}

static int teardown(void **state)
{
    struct twostack *ts = *state;
    twostack_run_for(ts, SN_SEC(300)); /* let TIME-WAIT and retries end */
    assert_int_equal(twostack_free(ts), 0);
    return 0;
}

/* An established pair: a listener on B:80, a connection from A. */
static void connect_pair(struct twostack *ts, struct sn_sock **ca, struct sn_sock **cb,
                         struct sn_sock **l)
{
    assert_int_equal(sn_listen(ts->b, 80, 4, l), 0);
    assert_int_equal(sn_connect(ts->a, TS_ADDR_B, 80, 0, ts->now, ca), 0);
    twostack_run_for(ts, SN_MSEC(10));
    assert_int_equal(sn_accept(*l, cb), 0);
    assert_true(sn_sock_events(*ca) & SN_EV_WRITABLE);
}

static void test_listen_errors(void **state)
{
    struct twostack *ts = *state;
    struct sn_sock *l, *l2;
    assert_int_equal(sn_listen(ts->b, 80, 0, &l), -EINVAL);
    assert_int_equal(sn_listen(ts->b, 0, 4, &l), -EINVAL);
    assert_int_equal(sn_listen(ts->b, 80, 4, &l), 0);
    assert_int_equal(sn_listen(ts->b, 80, 4, &l2), -EADDRINUSE);
    struct sn_sock *c;
    assert_int_equal(sn_accept(l, &c), -EAGAIN);
    assert_int_equal(sn_send(l, "x", 1), -ENOTCONN);
    assert_int_equal(sn_shutdown(l, 0), -EINVAL);
    sn_close(l);
}

static void test_connect_errors(void **state)
{
    struct twostack *ts = *state;
    struct sn_sock *c, *c2;
    assert_int_equal(sn_connect(ts->a, TS_ADDR_B, 0, 0, ts->now, &c), -EINVAL);
    /* No gateway: an address off the /24 has no route. */
    assert_int_equal(sn_connect(ts->a, 0x0a000001u, 80, 0, ts->now, &c), -EHOSTUNREACH);
    assert_int_equal(sn_connect(ts->a, TS_ADDR_B, 81, 5555, ts->now, &c), 0);
    assert_int_equal(sn_connect(ts->a, TS_ADDR_B, 81, 5555, ts->now, &c2), -EADDRINUSE);
    assert_int_equal(sn_accept(c, &c2), -EINVAL); /* not a listener */
    /* Nobody listens on 81: B answers RST, RFC 9293 3.10.7.1. */
    twostack_run_for(ts, SN_MSEC(10));
    assert_int_equal(sn_sock_error(c), -ECONNREFUSED);
    assert_true(sn_sock_events(c) & SN_EV_ERROR);
    assert_int_equal(sn_send(c, "x", 1), -ECONNREFUSED);
    sn_close(c);
}

static void test_connect_timeout(void **state)
{
    struct twostack *ts = *state;
    struct sn_sock *c;
    /* An on-link address nobody owns: ARP never answers, the SYN never
     * leaves, and after the SYN retries the attempt times out. */
    assert_int_equal(sn_connect(ts->a, 0xc0000263u, 80, 0, ts->now, &c), 0);
    twostack_run_for(ts, SN_SEC(200));
    assert_int_equal(sn_sock_error(c), -ETIMEDOUT);
    assert_int_equal(sn_recv(c, (char[4]){0}, 4), -ETIMEDOUT);
    sn_close(c);
}

static void test_send_recv_errors(void **state)
{
    struct twostack *ts = *state;
    struct sn_sock *ca, *cb, *l;
    connect_pair(ts, &ca, &cb, &l);
    char buf[65536];
    assert_int_equal(sn_recv(cb, buf, sizeof(buf)), -EAGAIN);
    /* Fill A's send buffer while B reads nothing: -EAGAIN. */
    memset(buf, 'z', sizeof(buf));
    ssize_t n;
    do {
        n = sn_send(ca, buf, sizeof(buf));
        twostack_settle(ts);
    } while (n > 0);
    assert_int_equal(n, -EAGAIN);
    assert_false(sn_sock_events(ca) & SN_EV_WRITABLE);
    /* Read everything; A's buffer drains; then half-close A. */
    while (sn_recv(cb, buf, sizeof(buf)) > 0 || sn_sock_events(ca) != SN_EV_WRITABLE)
        twostack_run_for(ts, SN_MSEC(5));
    assert_int_equal(sn_shutdown(ca, SN_SHUT_WR), 0);
    assert_int_equal(sn_send(ca, "x", 1), -EPIPE);
    twostack_run_for(ts, SN_MSEC(10));
    assert_int_equal(sn_recv(cb, buf, sizeof(buf)), 0); /* EOF */
    /* B still writes to A after A's FIN (half-close). */
    assert_int_equal(sn_send(cb, "back", 4), 4);
    twostack_run_for(ts, SN_MSEC(10));
    assert_int_equal(sn_recv(ca, buf, sizeof(buf)), 4);
    /* B aborts: A's next call reports the reset. */
    sn_abort(cb);
    twostack_run_for(ts, SN_MSEC(10));
    assert_int_equal(sn_recv(ca, buf, sizeof(buf)), -ECONNRESET);
    assert_int_equal(sn_sock_error(ca), -ECONNRESET);
    sn_close(ca);
    sn_close(l);
}

static void test_setsockopt(void **state)
{
    struct twostack *ts = *state;
    struct sn_sock *ca, *cb, *l;
    connect_pair(ts, &ca, &cb, &l);
    assert_int_equal(sn_setsockopt(ca, SN_SO_NODELAY, 1), 0);
    assert_int_equal(sn_setsockopt(ca, SN_SO_KEEPALIVE, 1), 0);
    assert_int_equal(sn_setsockopt(ca, SN_SO_SNDBUF, 1 << 20), 0);
    assert_int_equal(sn_setsockopt(ca, SN_SO_SNDBUF, 10), -EINVAL);
    /* The window scale was fixed by the handshake. */
    assert_int_equal(sn_setsockopt(ca, SN_SO_RCVBUF, 1 << 20), -EINVAL);
    assert_int_equal(sn_setsockopt(ca, (enum sn_sockopt)99, 1), -EINVAL);
    struct sn_tcp_info info;
    assert_int_equal(sn_sock_info(ca, &info), 0);
    assert_string_equal(sn_tcp_state_name(info.state), "ESTABLISHED");
    assert_int_equal(info.remote_addr, TS_ADDR_B);
    assert_int_equal(info.remote_port, 80);
    sn_close(ca);
    sn_close(cb);
    sn_close(l);
}

struct seen {
    uint32_t events;
    int calls;
};

static void record(struct sn_sock *so, uint32_t ev, void *user)
{
    (void)so;
    struct seen *s = user;
    s->events |= ev;
    s->calls++;
}

static void test_callbacks(void **state)
{
    struct twostack *ts = *state;
    struct sn_sock *l, *ca, *cb;
    struct seen ls = {0}, as = {0}, bs = {0};
    assert_int_equal(sn_listen(ts->b, 80, 4, &l), 0);
    sn_sock_set_cb(l, record, &ls);
    assert_int_equal(sn_connect(ts->a, TS_ADDR_B, 80, 0, ts->now, &ca), 0);
    sn_sock_set_cb(ca, record, &as);
    twostack_run_for(ts, SN_MSEC(10));
    assert_true(ls.events & SN_EV_READABLE); /* a connection to accept */
    assert_true(as.events & SN_EV_WRITABLE); /* connect() completed */
    assert_int_equal(sn_accept(l, &cb), 0);
    sn_sock_set_cb(cb, record, &bs);
    bs.events = 0;
    assert_int_equal(sn_send(ca, "hi", 2), 2);
    twostack_run_for(ts, SN_MSEC(10));
    assert_true(bs.events & SN_EV_READABLE);
    sn_close(ca); /* graceful: B sees EOF */
    twostack_run_for(ts, SN_MSEC(10));
    char buf[8];
    assert_int_equal(sn_recv(cb, buf, sizeof(buf)), 2);
    assert_int_equal(sn_recv(cb, buf, sizeof(buf)), 0);
    sn_close(cb);
    twostack_run_for(ts, SN_MSEC(10));
    sn_close(l);
}

/* B answers a request in its readable callback and shuts down: as the
 * output leaves once per batch, the answer carries the ACK of the request
 * and the FIN (one segment, not a pure ACK, the data, then a FIN). */
static void answer_cb(struct sn_sock *so, uint32_t events, void *user)
{
    (void)user;
    char req[16];
    if (!(events & SN_EV_READABLE) || sn_recv(so, req, sizeof(req)) <= 0)
        return;
    assert_int_equal(sn_send(so, "answer", 6), 6);
    assert_int_equal(sn_shutdown(so, SN_SHUT_WR), 0);
}

static void test_answer_rides_on_ack(void **state)
{
    struct twostack *ts = *state;
    struct sn_sock *l, *ca, *cb;
    connect_pair(ts, &ca, &cb, &l);
    sn_sock_set_cb(cb, answer_cb, NULL);
    struct sn_tcp_info before, after;
    assert_int_equal(sn_sock_info(cb, &before), 0);
    assert_int_equal(sn_send(ca, "request", 7), 7);
    twostack_settle(ts);
    assert_int_equal(sn_sock_info(cb, &after), 0);
    assert_int_equal(after.segs_out - before.segs_out, 1);
    assert_int_equal(after.unacked, 0); /* A acknowledged data and FIN */
    char buf[16];
    assert_int_equal(sn_recv(ca, buf, sizeof(buf)), 6);
    assert_int_equal(sn_recv(ca, buf, sizeof(buf)), 0); /* and the FIN came */
    sn_close(ca);
    sn_close(cb);
    twostack_run_for(ts, SN_MSEC(10));
    sn_close(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_listen_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_recv_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setsockopt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callbacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answer_rides_on_ack, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
