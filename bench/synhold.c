/* bench/synhold.c: the memory benchmark's synack server (bench/run.sh
 * builds it into build/bench/synhold from build/obj/tools/{stackup,cli}.o
 * and build/libsynack.a). It is `synack serve` reduced to what
 * `benchtool hold` does on the kernel: listen on a port, accept every
 * connection and keep it, idle, with no per-connection application state,
 * so that the VmRSS growth per connection is the stack's own cost and not
 * a service's buffers (synack serve's discard service callocs 64 KiB per
 * connection).
 *
 *   synhold --tap NAME --addr A.B.C.D/NN [stackup options] --port N
 *
 * SIGUSR1 prints "held=N" (connections accepted) on stdout; SIGINT/SIGTERM
 * stop it. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "api/loop.h"
#include "synack/synack.h"
#include "tools/cli.h"
#include "tools/stackup.h"

static unsigned long held;

static void help(FILE *out)
{
    fprintf(out, "usage: synhold (--tap NAME | --tun NAME) --addr A.B.C.D/NN --port N\n");
    stackup_help_options(out);
}

static void on_listen(struct sn_sock *l, uint32_t events, void *user)
{
    (void)events;
    (void)user;
    struct sn_sock *so;
    while (sn_accept(l, &so) == 0)
        held++; /* kept until the stack goes: the stack owns it, as the
                 * kernel's fd table owns benchtool hold's sockets */
}

static void on_stop(struct sn_loop *lp, int signo, void *user)
{
    (void)signo;
    (void)user;
    sn_loop_stop(lp);
}

static void on_usr1(struct sn_loop *lp, int signo, void *user)
{
    (void)lp;
    (void)signo;
    (void)user;
    printf("held=%lu\n", held);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    unsigned port = 5001;
    int out = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = (unsigned)atoi(argv[++i]);
        else
            argv[out++] = argv[i];
    }
    argv[out] = NULL;
    argc = out;
    struct stackup_opts o;
    int rc = stackup_parse("synhold", help, argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    struct stackup su;
    if ((rc = stackup_start("synhold", &o, &su)) != 0)
        return rc;
    struct sn_sock *l;
    int err = sn_listen(su.stack, (uint16_t)port, 4096, &l);
    if (!err)
        err = sn_loop_on_signal(su.lp, SIGINT, on_stop, NULL);
    if (!err)
        err = sn_loop_on_signal(su.lp, SIGTERM, on_stop, NULL);
    if (!err)
        err = sn_loop_on_signal(su.lp, SIGUSR1, on_usr1, NULL);
    if (err) {
        fprintf(stderr, "synhold: cannot listen on %u or set up signals (%d)\n", port, err);
        stackup_stop(&su);
        return 1;
    }
    sn_sock_set_cb(l, on_listen, NULL);
    fprintf(stderr, "synhold: holding connections to port %u\n", port);
    err = sn_loop_run(su.lp);
    printf("held=%lu\n", held);
    stackup_print_counters(su.stack, stdout);
    stackup_stop(&su);
    return err ? 1 : 0;
}
