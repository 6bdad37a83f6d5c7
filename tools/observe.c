/* tools/observe.c: serve's state trace and control socket (observe.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/ctl.h"
#include "tools/cli.h"
#include "tools/observe.h"
#include "tools/trace.h"

struct observe {
    struct sn_loop *lp;
    struct sn_ctl *ctl;
    struct trace_writer *tw;
    const char *trace;
};


int observe_take_opts(const char *cmd, int *argc, char **argv, struct observe_opts *o)
{
    memset(o, 0, sizeof(*o));
    int out = 1;
    for (int i = 1; i < *argc;) {
        const char *v = NULL;
        int r;
        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strcmp(argv[i], "--no-ctl") == 0) {
            o->no_ctl = 1;
            i++;
        } else if ((r = cli_opt_value("--trace", *argc, argv, &i, &v)) != 0) {
            if (r < 0 || !*v)
                return cli_usage_cmd(cmd, "--trace needs a FILE");
            o->trace = v;
        } else if ((r = cli_opt_value("--ctl", *argc, argv, &i, &v)) != 0) {
            if (r < 0 || !*v)
                return cli_usage_cmd(cmd, "--ctl needs a PATH");
            o->ctl = v;
        } else {
            argv[out++] = argv[i++];
        }
    }
    argv[out] = NULL;
    *argc = out;
    if (o->ctl && o->no_ctl)
        return cli_usage_cmd(cmd, "give --ctl PATH or --no-ctl, not both");
    return 0;
}

void observe_help_options(FILE *out)
{
    fprintf(out, "  --trace FILE          write every TCP state change to FILE as JSON lines:\n"
                 "                        time, connection, old and new state, cause (segment or\n"
                 "                        timer), snd_una, snd_nxt, rcv_nxt, cwnd, ssthresh, rto\n"
                 "                        (synack trace CAPTURE --states FILE draws them)\n"
                 "  --ctl PATH            the control socket `synack ss` and `synack netstat` ask\n"
                 "                        (default /run/synack/DEV.sock, else\n"
                 "                        /tmp/synack-PID.sock)\n"
                 "  --no-ctl              no control socket\n");
}

int observe_start(struct sn_loop *lp, const char *dev, const struct observe_opts *o,
                  struct observe **out)
{
    char eb[CLI_ERR_LEN];
    struct observe *ob = calloc(1, sizeof(*ob));
    if (!ob)
        return cli_fail("out of memory");
    ob->lp = lp;
    ob->trace = o->trace;
    if (o->trace) {
        int err = trace_writer_start(sn_loop_stack(lp), o->trace, &ob->tw);
        if (err) {
            free(ob);
            return cli_fail("--trace: cannot write '%s': %s", o->trace, cli_strerror(err, eb));
        }
    }
    if (o->ctl) {
        int err = sn_ctl_open(lp, o->ctl, &ob->ctl);
        if (err) {
            observe_stop(ob);
            if (err == -EADDRINUSE)
                return cli_fail("--ctl: '%s' is in use by another running stack", o->ctl);
            return cli_fail("--ctl: cannot listen at '%s': %s", o->ctl, cli_strerror(err, eb));
        }
    } else if (!o->no_ctl) {
        char path[128];
        int err = sn_ctl_default_path(dev, path, sizeof(path));
        if (!err)
            err = sn_ctl_open(lp, path, &ob->ctl);
        if (err == -EADDRINUSE) {
            /* Another stack on a device of that name (another namespace). */
            snprintf(path, sizeof(path), "/tmp/synack-%ld.sock", (long)getpid());
            err = sn_ctl_open(lp, path, &ob->ctl);
        }
        if (err)
            fprintf(stderr,
                    "synack: warning: no control socket (%s: %s); synack ss will not "
                    "see this stack\n",
                    path, cli_strerror(err, eb));
    }
    *out = ob;
    return 0;
}

const char *observe_describe(const struct observe *ob, char *buf, size_t cap)
{
    buf[0] = 0;
    if (!ob)
        return buf;
    if (ob->ctl && ob->tw)
        snprintf(buf, cap, "control socket %s, state trace %s", sn_ctl_path(ob->ctl), ob->trace);
    else if (ob->ctl)
        snprintf(buf, cap, "control socket %s", sn_ctl_path(ob->ctl));
    else if (ob->tw)
        snprintf(buf, cap, "state trace %s", ob->trace);
    return buf;
}

void observe_stop(struct observe *ob)
{
    if (!ob)
        return;
    sn_ctl_close(ob->ctl);
    if (ob->tw)
        trace_writer_stop(sn_loop_stack(ob->lp), ob->tw);
    free(ob);
}
