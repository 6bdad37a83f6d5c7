/* tests/unit/api/test_loop.c: the event loop (api/loop.c) over a memory
 * pipe: one clock read per iteration, output reaches the link, hooks, app
 * fds, signals through the signalfd, stopping, the timeout rounding, and
 * each documented error code. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/loop.h"
#include "core/bytes.h"

/* A clock that counts its reads and moves 1 ms per read. */
struct fake_clock {
    sn_time t;
    int reads;
};

static sn_time fake_now(void *ctx)
{
    struct fake_clock *c = ctx;
    c->reads++;
    c->t += 1000;
    return c->t;
}

struct fixture {
    struct link *ours, *peer;
    struct sn_stack *stack;
    struct sn_loop *loop;
    struct fake_clock fc;
    struct sn_clock clock;
    struct pkt_pool *peer_pool;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || pipe_pair(1500, 64, &f->ours, &f->peer) != 0)
        return -1;
    struct sn_stack_opts o = {
        .link = SN_LINK_ETH,
        .mac = {0x02, 0, 0, 0, 0, 2},
        .addr = 0xc0000202, /* 192.0.2.2 */
        .prefix_len = 24,
        .mtu = 1500,
        .seed = 1,
    };
    sn_config_defaults(&o.cfg);
    o.cfg.pool_rx_bufs = 64;
    o.cfg.pool_tx_bufs = 64;
    if (sn_stack_new(&o, 0, &f->stack) != 0)
        return -1;
    f->clock = (struct sn_clock){fake_now, &f->fc};
    if (sn_loop_new(f->ours, f->stack, &f->clock, &f->loop) != 0)
        return -1;
    f->peer_pool = pkt_pool_new("peer", 16, 2048);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sn_loop_free(f->loop);
    link_close(f->ours);
    link_close(f->peer);
    sn_stack_free(f->stack);
    pkt_pool_destroy(f->peer_pool);
    free(f);
    return 0;
}

static void timeout_rounds_up(void **state)
{
    (void)state;
    assert_int_equal(sn_loop_timeout_ms(0, SN_TIME_NEVER), -1);
    assert_int_equal(sn_loop_timeout_ms(500, 500), 0);
    assert_int_equal(sn_loop_timeout_ms(500, 100), 0);
    assert_int_equal(sn_loop_timeout_ms(0, 1), 1);
    assert_int_equal(sn_loop_timeout_ms(0, 1000), 1);
    assert_int_equal(sn_loop_timeout_ms(0, 1001), 2);
    assert_int_equal(sn_loop_timeout_ms(0, SN_SEC(3600) * 24 * 365 * 100), INT_MAX);
}

/* The stack announces itself with a gratuitous ARP: the first iteration must
 * hand it to the link. One clock read per iteration. */
static void first_iteration_sends_output(void **state)
{
    struct fixture *f = *state;
    int reads = f->fc.reads;
    assert_int_equal(sn_loop_run_once(f->loop, 0), 0);
    assert_int_equal(f->fc.reads - reads, 1);
    assert_int_equal(sn_loop_now(f->loop), f->fc.t);

    struct pkt *got[4];
    int n = link_recv(f->peer, f->peer_pool, got, 4, 0);
    assert_int_equal(n, 1);
    assert_true(got[0]->len >= 14);
    assert_int_equal(rd16(got[0]->data + 12), 0x0806);
    pkt_free(got[0]);
    assert_int_equal(sn_loop_stats(f->loop)->tx_frames, 1);
    assert_int_equal(sn_loop_stats(f->loop)->iterations, 1);

    assert_int_equal(sn_loop_run_once(f->loop, 0), 0);
    assert_int_equal(f->fc.reads - reads, 2);
}

/* A frame sent on the peer end is input; the ARP request for our address
 * is answered in the same iteration. */
static void input_is_answered_in_one_iteration(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(sn_loop_run_once(f->loop, 0), 0); /* the announcement */
    struct pkt *got[4];
    int n = link_recv(f->peer, f->peer_pool, got, 4, 0);
    for (int i = 0; i < n; i++)
        pkt_free(got[i]);

    static const uint8_t req[42] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06, /* eth */
        0, 1, 0x08, 0, 6, 4, 0, 1,                                           /* request */
        0x02, 0, 0, 0, 0, 1, 192, 0, 2, 1,                                   /* sender */
        0, 0, 0, 0, 0, 0, 192, 0, 2, 2,                                      /* target */
    };
    struct pkt *p = pkt_alloc(f->peer_pool, PKT_HEADROOM);
    memcpy(pkt_put(p, sizeof(req)), req, sizeof(req));
    assert_int_equal(link_send(f->peer, &p, 1, 0), 1);

    assert_int_equal(sn_loop_run_once(f->loop, 0), 0);
    n = link_recv(f->peer, f->peer_pool, got, 4, 0);
    assert_int_equal(n, 1);
    assert_int_equal(rd16(got[0]->data + 12), 0x0806);
    assert_int_equal(rd16(got[0]->data + 20), 2); /* reply */
    pkt_free(got[0]);
    assert_int_equal(sn_loop_stats(f->loop)->rx_frames, 1);
}

struct hook_state {
    int calls;
    int stop_at;
    int remove_at;
    sn_time last_now;
};

static void hook(struct sn_loop *lp, sn_time now, void *user)
{
    struct hook_state *h = user;
    h->calls++;
    h->last_now = now;
    assert_int_equal(now, sn_loop_now(lp));
    if (h->calls == h->remove_at)
        assert_int_equal(sn_loop_del_hook(lp, hook, h), 0);
    if (h->calls == h->stop_at)
        sn_loop_stop(lp);
}

static void hook_stops_the_loop(void **state)
{
    struct fixture *f = *state;
    struct hook_state h = {.stop_at = 3};
    assert_int_equal(sn_loop_add_hook(f->loop, hook, &h), 0);
    assert_int_equal(sn_loop_run(f->loop), 0);
    assert_int_equal(h.calls, 3);
    assert_int_equal(h.last_now, f->fc.t);
    /* Stopping is not sticky: the loop runs again. */
    h.stop_at = 5;
    assert_int_equal(sn_loop_run(f->loop), 0);
    assert_int_equal(h.calls, 5);
}

static void hook_removes_itself(void **state)
{
    struct fixture *f = *state;
    struct hook_state h = {.remove_at = 2};
    assert_int_equal(sn_loop_add_hook(f->loop, hook, &h), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(sn_loop_run_once(f->loop, 0), 0);
    assert_int_equal(h.calls, 2);
    assert_int_equal(sn_loop_del_hook(f->loop, hook, &h), -ENOENT);
}

static void hook_table_is_bounded(void **state)
{
    struct fixture *f = *state;
    struct hook_state h[SN_LOOP_MAX_HOOKS + 1];
    for (int i = 0; i < SN_LOOP_MAX_HOOKS; i++)
        assert_int_equal(sn_loop_add_hook(f->loop, hook, &h[i]), 0);
    assert_int_equal(sn_loop_add_hook(f->loop, hook, &h[SN_LOOP_MAX_HOOKS]), -ENOSPC);
    assert_int_equal(sn_loop_add_hook(f->loop, NULL, NULL), -EINVAL);
}

struct fd_state {
    int calls;
    uint32_t events;
    int remove;
};

static void fd_cb(struct sn_loop *lp, int fd, uint32_t events, void *user)
{
    struct fd_state *s = user;
    s->calls++;
    s->events = events;
    char c;
    if (read(fd, &c, 1) != 1)
        fail();
    if (s->remove)
        assert_int_equal(sn_loop_del_fd(lp, fd), 0);
}

static void app_fd_callback(void **state)
{
    struct fixture *f = *state;
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK), 0);
    struct fd_state s = {0};
    assert_int_equal(sn_loop_add_fd(f->loop, p[0], EPOLLIN, fd_cb, &s), 0);
    assert_int_equal(sn_loop_add_fd(f->loop, p[0], EPOLLIN, fd_cb, &s), -EEXIST);
    assert_int_equal(sn_loop_mod_fd(f->loop, p[1], EPOLLIN), -ENOENT);

    assert_int_equal(write(p[1], "ab", 2), 2);
    /* The pipe link has no fd, so the loop never blocks; the callback runs
     * in the iteration after the epoll_wait that saw the data. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(sn_loop_run_once(f->loop, 0), 0);
    assert_int_equal(s.calls, 2);
    assert_true(s.events & EPOLLIN);

    s.remove = 1;
    assert_int_equal(write(p[1], "c", 1), 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sn_loop_run_once(f->loop, 0), 0);
    assert_int_equal(s.calls, 3);
    assert_int_equal(sn_loop_del_fd(f->loop, p[0]), -ENOENT);
    assert_int_equal(sn_loop_add_fd(f->loop, -1, EPOLLIN, fd_cb, &s), -EINVAL);
    close(p[0]);
    close(p[1]);
}

static void regular_file_is_refused(void **state)
{
    struct fixture *f = *state;
    int fd = open("/proc/self/stat", O_RDONLY);
    assert_true(fd >= 0);
    struct fd_state s = {0};
    assert_int_equal(sn_loop_add_fd(f->loop, fd, EPOLLIN, fd_cb, &s), -EPERM);
    close(fd);
}

static int sig_seen;

static void on_sig(struct sn_loop *lp, int signo, void *user)
{
    (void)user;
    sig_seen = signo;
    sn_loop_stop(lp);
}

static void signal_reaches_callback(void **state)
{
    struct fixture *f = *state;
    sig_seen = 0;
    assert_int_equal(sn_loop_on_signal(f->loop, SIGUSR2, on_sig, NULL), 0);
    assert_int_equal(sn_loop_on_signal(f->loop, SIGKILL, on_sig, NULL), -EINVAL);
    assert_int_equal(sn_loop_on_signal(f->loop, 0, on_sig, NULL), -EINVAL);
    raise(SIGUSR2); /* blocked now: it waits in the signalfd */
    assert_int_equal(sn_loop_run(f->loop), 0);
    assert_int_equal(sig_seen, SIGUSR2);
    assert_int_equal(sn_loop_stats(f->loop)->signals, 1);
}

/* The mask is restored by sn_loop_free, with nothing left pending. */
static void free_restores_signal_mask(void **state)
{
    (void)state;
    struct link *a, *b;
    assert_int_equal(pipe_pair(1500, 4, &a, &b), 0);
    struct sn_stack_opts o = {
        .link = SN_LINK_ETH, .mac = {2, 0, 0, 0, 0, 3}, .addr = 0xc0000203,
        .prefix_len = 24, .mtu = 1500, .seed = 1,
    };
    sn_config_defaults(&o.cfg);
    o.cfg.pool_rx_bufs = 64;
    o.cfg.pool_tx_bufs = 64;
    struct sn_stack *s;
    assert_int_equal(sn_stack_new(&o, 0, &s), 0);
    struct sn_loop *lp;
    assert_int_equal(sn_loop_new(a, s, NULL, &lp), 0);
    assert_int_equal(sn_loop_on_signal(lp, SIGUSR2, on_sig, NULL), 0);
    sigset_t cur;
    pthread_sigmask(SIG_SETMASK, NULL, &cur);
    assert_true(sigismember(&cur, SIGUSR2));
    raise(SIGUSR2); /* pending at free: must be drained, not delivered */
    sn_loop_free(lp);
    pthread_sigmask(SIG_SETMASK, NULL, &cur);
    assert_false(sigismember(&cur, SIGUSR2));
    sn_stack_free(s);
    link_close(a);
    link_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timeout_rounds_up),
        cmocka_unit_test_setup_teardown(first_iteration_sends_output, setup, teardown),
        cmocka_unit_test_setup_teardown(input_is_answered_in_one_iteration, setup, teardown),
        cmocka_unit_test_setup_teardown(hook_stops_the_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(hook_removes_itself, setup, teardown),
        cmocka_unit_test_setup_teardown(hook_table_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(app_fd_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(regular_file_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(signal_reaches_callback, setup, teardown),
        cmocka_unit_test(free_restores_signal_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
