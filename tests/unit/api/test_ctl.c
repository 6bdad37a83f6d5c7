/* tests/unit/api/test_ctl.c: the control socket (api/ctl.c): the answers to
 * each request and the refusal of unknown ones; a real Unix socket served
 * by the event loop while a client thread asks; a stale socket file
 * replaced, a live one refused; the file removed at close. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/ctl.h"
#include "helpers/frames.h"

/* Runs @req through sn_ctl_answer into a string (caller frees). */
static char *answer(struct sn_stack *s, const char *req, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    *rc = sn_ctl_answer(s, req, f);
    fclose(f);
    return buf;
}

static void ctl_answers(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    struct sn_sock *l;
    assert_int_equal(sn_listen(s, 7, 8, &l), 0);
    int rc;
    char *a = answer(s, "ss", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(a, "State"));
    assert_null(strstr(a, "LISTEN")); /* listeners only with -l or -a */
    free(a);
    a = answer(s, "ss -l", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(a, "LISTEN        0       0       192.0.2.2:7"));
    free(a);
    a = answer(s, "  ss   -a \r\n", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(a, "LISTEN"));
    free(a);
    a = answer(s, "netstat", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(a, "arp:\n"));
    assert_null(strstr(a, " 0 ")); /* zero counters left out */
    free(a);
    a = answer(s, "netstat -a", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(a, "    0 SYN cookies sent\n"));
    free(a);
    a = answer(s, "prometheus", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(a, "# TYPE synack_arp_tx_replies counter\nsynack_arp_tx_replies 1\n"));
    free(a);
    a = answer(s, "help", &rc);
    assert_int_equal(rc, 0);
    free(a);
    static const char *const bad[] = {"", "ss -x", "netstat -l", "prometheus x", "rm -rf /",
                                      "ss -a -l"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        a = answer(s, bad[i], &rc);
        assert_int_equal(rc, -EINVAL);
        assert_true(strncmp(a, "error: unknown request", 22) == 0);
        free(a);
    }
    sn_close(l);
    fr_stack_done(s, FR_T0 + SN_SEC(1));
}

struct fixture {
    struct link *ours, *peer;
    struct sn_stack *stack;
    struct sn_loop *loop;
    char dir[64], path[128];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || pipe_pair(1500, 64, &f->ours, &f->peer) != 0)
        return -1;
    struct sn_stack_opts o;
    fr_default_opts(&o, NULL);
    if (sn_stack_new(&o, 0, &f->stack) != 0 || sn_loop_new(f->ours, f->stack, NULL, &f->loop))
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/synack-ctl-test.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/ctl.sock", f->dir);
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
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

struct client {
    const char *path, *req;
    int rc;
    char out[8192], err[256];
    _Atomic int done;
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    FILE *f = fmemopen(c->out, sizeof(c->out) - 1, "w");
    c->rc = sn_ctl_request(c->path, c->req, f, c->err, sizeof(c->err));
    fclose(f);
    c->done = 1;
    return NULL;
}

/* Asks @req from a thread while the loop serves it. */
static void ask(struct fixture *f, const char *req, struct client *c)
{
    memset(c, 0, sizeof(*c));
    c->path = f->path;
    c->req = req;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, client_main, c), 0);
    /* A pipe link has no fd, so the loop polls rather than sleeps: give the
     * client up to 10 s of wall-clock time. */
    for (int i = 0; i < 20000 && !c->done; i++) {
        assert_int_equal(sn_loop_run_once(f->loop, 0), 0);
        usleep(500);
    }
    assert_true(c->done); /* else the join below would wait for ever */
    pthread_join(t, NULL);
}

static void ctl_socket_serves(void **state)
{
    struct fixture *f = *state;
    struct sn_ctl *ctl;
    struct sn_sock *l;
    assert_int_equal(sn_listen(f->stack, 80, 8, &l), 0);
    assert_int_equal(sn_ctl_open(f->loop, f->path, &ctl), 0);
    assert_string_equal(sn_ctl_path(ctl), f->path);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));

    struct client c;
    ask(f, "ss -l", &c);
    assert_int_equal(c.rc, 0);
    assert_non_null(strstr(c.out, "LISTEN        0       0       192.0.2.2:80"));
    ask(f, "netstat -a", &c);
    assert_int_equal(c.rc, 0);
    assert_non_null(strstr(c.out, "tcp:\n"));
    ask(f, "frobnicate", &c);
    assert_int_equal(c.rc, -EPROTO);
    assert_non_null(strstr(c.err, "unknown request 'frobnicate'"));

    /* A second stack cannot take a live socket. */
    struct sn_ctl *other;
    assert_int_equal(sn_ctl_open(f->loop, f->path, &other), -EADDRINUSE);

    sn_ctl_close(ctl);
    assert_int_equal(stat(f->path, &st), -1); /* removed */
    assert_int_equal(sn_ctl_request(f->path, "ss", stdout, c.err, sizeof(c.err)), -ENOENT);
    sn_close(l);
}

static void ctl_replaces_stale_socket(void **state)
{
    struct fixture *f = *state;
    /* A socket file nobody listens on, as a killed stack leaves it. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, f->path, strlen(f->path));
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    char err[64];
    assert_int_equal(sn_ctl_request(f->path, "ss", stdout, err, sizeof(err)), -ECONNREFUSED);
    struct sn_ctl *ctl;
    assert_int_equal(sn_ctl_open(f->loop, f->path, &ctl), 0);
    struct client c;
    ask(f, "help", &c);
    assert_int_equal(c.rc, 0);
    sn_ctl_close(ctl);

    /* A regular file in the way is not removed. */
    FILE *reg = fopen(f->path, "w");
    fclose(reg);
    assert_int_equal(sn_ctl_open(f->loop, f->path, &ctl), -EADDRINUSE);
    unlink(f->path);

    char longp[200];
    memset(longp, 'x', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = 0;
    assert_int_equal(sn_ctl_open(f->loop, longp, &ctl), -ENAMETOOLONG);
    char buf[16];
    assert_int_equal(sn_ctl_default_path("tap0", buf, sizeof(buf)), -ENAMETOOLONG);
    char ok[128];
    assert_int_equal(sn_ctl_default_path("tap0", ok, sizeof(ok)), 0);
    assert_true(strstr(ok, "/run/synack/tap0.sock") || strstr(ok, "/tmp/synack-"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ctl_answers),
        cmocka_unit_test_setup_teardown(ctl_socket_serves, setup, teardown),
        cmocka_unit_test_setup_teardown(ctl_replaces_stale_socket, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
