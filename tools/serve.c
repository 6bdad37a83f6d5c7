/* tools/serve.c: `synack serve`: one stack on a TAP or TUN device, driven
 * by the event loop until SIGINT/SIGTERM; SIGUSR1 prints the counters.
 * Owns the services and the signals; the device, stack and loop come from
 * tools/stackup.c. */
#include <signal.h>
#include <string.h>

#include "api/loop.h"
#include "core/log.h"
#include "synack/synack.h"
#include "tools/cli.h"
#include "tools/httpd.h"
#include "tools/impair_opts.h"
#include "tools/observe.h"
#include "tools/queues.h"
#include "tools/services.h"
#include "tools/stackup.h"

#define CMD "serve"

void cmd_serve_help(FILE *out)
{
    fprintf(out,
            "usage: synack serve (--tap NAME | --tun NAME) --addr A.B.C.D/NN [OPTIONS]\n"
            "\n"
            "Runs a synack stack on a TAP (Ethernet) or TUN (IPv4) device until SIGINT or\n"
            "SIGTERM, then prints its counters on stdout and exits 0. SIGUSR1 prints the\n"
            "counters and carries on. The stack answers ARP and ICMP echo (ping), and\n"
            "reassembles and fragments IPv4 datagrams. A TAP or TUN device that does not\n"
            "exist is created (and removed again at exit); that needs root or\n"
            "CAP_NET_ADMIN. Give the kernel's side of the device an address in the same\n"
            "subnet to talk to the stack, e.g.:\n"
            "\n"
            "  synack serve --tap tap0 --addr 192.0.2.2/24 &\n"
            "  ip addr add 192.0.2.1/24 dev tap0\n"
            "  ping 192.0.2.2\n"
            "\n"
            "options:\n");
    stackup_help_options(out);
    queues_help_options(out);
    httpd_help_options(out);
    observe_help_options(out);
    fprintf(out, "impairments of the device link, both directions (as `synack sim`):\n");
    impair_take_opts_help(out);
    fprintf(out, "\n"
                 "exit status: 0 stopped by a signal, 1 runtime error, 2 bad command line\n"
                 "\n");
    stackup_help_settings(out);
}

/* ---- services ----------------------------------------------------------
 *
 * The TCP services serve offers beside ARP and ping: echo (7), discard (9),
 * daytime (13), chargen (19) (tools/services.c). Sockets are driven by
 * their readiness callbacks, run from sn_stack_advance in the loop; a
 * service that needs per-iteration work can add a loop hook here.
 * Returns 0 or a negative errno. */
static int serve_services(struct sn_stack *s, struct sn_loop *lp, const struct stackup_opts *o)
{
    (void)lp;
    (void)o;
    return services_start(s);
}

/* ---- signals ------------------------------------------------------------ */

static void on_stop(struct sn_loop *lp, int signo, void *user)
{
    (void)user;
    log_debug("signal %d: stopping", signo);
    sn_loop_stop(lp);
}

/* The impairment's counters, when the link has one (@imp from su.impair). */
static void print_impair(const struct link *imp)
{
    if (!imp)
        return;
    impair_stats_print(stdout, "of frames sent", impair_stats(imp, IMPAIR_TX));
    impair_stats_print(stdout, "of frames received", impair_stats(imp, IMPAIR_RX));
    fflush(stdout);
}

static void on_usr1(struct sn_loop *lp, int signo, void *user)
{
    (void)signo;
    stackup_print_counters(sn_loop_stack(lp), stdout);
    print_impair(user);
}

static int run(const struct stackup_opts *o, const struct httpd_opts *ho,
               const struct observe_opts *obo)
{
    struct httpd *httpd = NULL;
    struct observe *ob = NULL;
    struct stackup su;
    int rc = stackup_start(CMD, o, &su);
    if (rc)
        return rc;
    rc = CLI_EXIT_RUNTIME;
    char eb[CLI_ERR_LEN];
    int err = sn_loop_on_signal(su.lp, SIGINT, on_stop, NULL);
    if (!err)
        err = sn_loop_on_signal(su.lp, SIGTERM, on_stop, NULL);
    if (!err)
        err = sn_loop_on_signal(su.lp, SIGUSR1, on_usr1, su.impair);
    if (err) {
        cli_fail("cannot set up the event loop: %s", cli_strerror(err, eb));
        goto out;
    }
    err = serve_services(su.stack, su.lp, o);
    if (err) {
        cli_fail("cannot start the services: %s", cli_strerror(err, eb));
        goto out;
    }
    if ((err = httpd_start(su.lp, ho, &httpd)) != 0) {
        rc = err;
        goto out;
    }
    if ((err = observe_start(su.lp, su.link->name, obo, &ob)) != 0) {
        rc = err;
        goto out;
    }

    char where[160];
    if (!o->quiet)
        fprintf(stderr, "synack: serving %s\n", stackup_describe(&su, o, where, sizeof(where)));
    if (!o->quiet && o->impair) {
        char opts[512];
        fprintf(stderr, "synack: impairing the link: %s (impair seed %llu)\n",
                impair_opts_format(&o->impair->dir[IMPAIR_TX], opts, sizeof(opts)),
                (unsigned long long)o->impair->seed);
    }
    if (!o->quiet && httpd)
        fprintf(stderr, "synack: %s\n", httpd_describe(httpd, where, sizeof(where)));
    if (!o->quiet && *observe_describe(ob, where, sizeof(where)))
        fprintf(stderr, "synack: %s\n", where);

    err = sn_loop_run(su.lp);
    httpd_stop(httpd, err ? 0 : 2000); /* GOAWAY, last responses */
    httpd = NULL;
    if (err) {
        cli_fail("device %s failed: %s", su.link->name, cli_strerror(err, eb));
        stackup_print_counters(su.stack, stdout);
        goto out;
    }
    stackup_print_counters(su.stack, stdout);
    print_impair(su.impair);
    stackup_log_loop_stats(&su);
    rc = CLI_EXIT_OK;
out:
    httpd_stop(httpd, 0);
    observe_stop(ob);
    stackup_stop(&su);
    return rc;
}

int cmd_serve_main(int argc, char **argv)
{
    struct stackup_opts o;
    struct httpd_opts ho;
    struct observe_opts obo;
    struct impair_cfg ic;
    int imp_given = 0;
    unsigned queues = 1;
    int rc = httpd_take_opts(CMD, &argc, argv, &ho);
    if (!rc)
        rc = queues_take_opts(CMD, &argc, argv, &queues);
    if (!rc)
        rc = observe_take_opts(CMD, &argc, argv, &obo);
    if (!rc)
        rc = impair_take_opts(CMD, &argc, argv, &ic, &imp_given);
    if (rc)
        return rc;
    rc = stackup_parse(CMD, cmd_serve_help, argc, argv, &o);
    if (!rc && o.n_args > 0)
        rc = cli_usage_cmd(CMD, "unexpected argument '%s'", o.args[0]);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (imp_given)
        o.impair = &ic;
    if (queues > 1) {
        if (o.pcap || o.impair || obo.trace || obo.ctl)
            return cli_usage_cmd(CMD, "--queues runs one instance per queue: --pcap, --trace, "
                                      "--ctl and impairments are for one instance only");
        return queues_run(CMD, &o, &ho, queues);
    }
    return run(&o, &ho, &obo);
}
