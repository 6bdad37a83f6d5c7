/* tools/queues.c: `synack serve --queues N` (see queues.h). The main thread
 * opens the queues, starts one pinned thread per instance and then only
 * waits for signals: it never touches a running instance. SIGUSR1 asks
 * every instance, through an eventfd its own loop watches, for a copy of
 * its counters, made on its own thread; the copies are printed and summed. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "api/stack_impl.h"
#include "core/ring.h"
#include "core/log.h"
#include "tools/cli.h"
#include "tools/queues.h"
#include "tools/services.h"

struct queue {
    unsigned idx;
    int cpu; /* -1: not pinned */
    struct stackup su;
    struct httpd *httpd;
    pthread_t thread;
    int running;
    int err;  /* what sn_loop_run returned */
    int snap_fd; /* eventfd: the main thread wants a counters snapshot */
    /* Under snap_lock: */
    struct sn_stats snap;
    uint64_t snap_gen;
};

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t snap_cond = PTHREAD_COND_INITIALIZER;

int queues_take_opts(const char *cmd, int *argc, char **argv, unsigned *n)
{
    *n = 1;
    int out = 1;
    for (int i = 1; i < *argc;) {
        const char *v = NULL;
        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        int r = cli_opt_value("--queues", *argc, argv, &i, &v);
        if (r == 0) {
            argv[out++] = argv[i++];
            continue;
        }
        uint32_t q;
        if (r < 0)
            return cli_usage_cmd(cmd, "--queues needs a number");
        if (cli_parse_u32(v, 1, QUEUES_MAX, &q) < 0)
            return cli_usage("--queues: '%s' is not a number from 1 to %d", v, QUEUES_MAX);
        *n = q;
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

void queues_help_options(FILE *out)
{
    fprintf(out,
            "  --queues N            N stack instances (1..%d), one per queue of a\n"
            "                        multi-queue device (IFF_MULTI_QUEUE), each on its own\n"
            "                        thread pinned to a CPU (round robin over the allowed\n"
            "                        ones), same address and MAC, services and HTTP on\n"
            "                        every one; the kernel spreads connections by flow\n"
            "                        hash; each learns the kernel's MAC from its frames\n"
            "                        (arp_glean). Counters per instance and summed. Not with\n"
            "                        --pcap, --trace, --ctl or impairments (no control\n"
            "                        socket: synack ss/netstat do not reach them)\n",
            QUEUES_MAX);
}

/* The @i-th CPU this process may run on, round robin; -1 if unknown. */
static int pick_cpu(unsigned i)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) < 0)
        return -1;
    int n = CPU_COUNT(&set);
    if (n <= 0)
        return -1;
    int want = (int)(i % (unsigned)n);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &set) && want-- == 0)
            return cpu;
    return -1;
}

/* On the instance's own thread: copy the counters for the main thread. */
static void on_snap(struct sn_loop *lp, int fd, uint32_t events, void *user)
{
    (void)events;
    struct queue *q = user;
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r; /* only resets the counter */
    pthread_mutex_lock(&snap_lock);
    q->snap = sn_loop_stack(lp)->st;
    q->snap_gen++;
    pthread_cond_broadcast(&snap_cond);
    pthread_mutex_unlock(&snap_lock);
}

static void *queue_main(void *arg)
{
    struct queue *q = arg;
    q->err = sn_loop_run(q->su.lp);
    httpd_stop(q->httpd, q->err ? 0 : 2000); /* GOAWAY, last responses */
    q->httpd = NULL;
    ring_cache_drain(); /* this thread's cached socket buffers (core/ring.h) */
    if (q->err)
        kill(getpid(), SIGTERM); /* wakes the main thread, which stops the rest */
    return NULL;
}

static void sum_stats(struct sn_stats *sum, const struct sn_stats *s)
{
    for (int i = 0; i < SN_C_COUNT; i++)
        sum->c[i] += s->c[i];
    for (int i = 0; i < SN_DROP_COUNT; i++)
        sum->drop[i] += s->drop[i];
}

/* Every instance's counters, then their sum last (so that a reader taking
 * the last value of a line, as the tests do, gets the total). */
static void print_all(struct queue *qs, unsigned n, const struct sn_stats *per, FILE *out)
{
    struct sn_stats sum;
    memset(&sum, 0, sizeof(sum));
    for (unsigned i = 0; i < n; i++) {
        fprintf(out, "synack counters, queue %u (cpu %d):\n", i, qs[i].cpu);
        sn_stats_print(&per[i], out, 0);
        sum_stats(&sum, &per[i]);
    }
    fprintf(out, "synack counters (sum of %u queues):\n", n);
    sn_stats_print(&sum, out, 0);
    fflush(out);
}

/* SIGUSR1: a snapshot from every running instance (at most 2 s wait). */
static void print_snapshots(struct queue *qs, unsigned n)
{
    uint64_t gen[QUEUES_MAX];
    pthread_mutex_lock(&snap_lock);
    for (unsigned i = 0; i < n; i++)
        gen[i] = qs[i].snap_gen;
    pthread_mutex_unlock(&snap_lock);
    for (unsigned i = 0; i < n; i++) {
        uint64_t one = 1;
        ssize_t r = write(qs[i].snap_fd, &one, sizeof(one));
        (void)r; /* a full counter still wakes it */
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    static struct sn_stats per[QUEUES_MAX];
    pthread_mutex_lock(&snap_lock);
    for (unsigned i = 0; i < n; i++) {
        while (qs[i].snap_gen == gen[i])
            if (pthread_cond_timedwait(&snap_cond, &snap_lock, &until) == ETIMEDOUT)
                break;
        per[i] = qs[i].snap; /* stale (or zero) if it did not answer in time */
    }
    pthread_mutex_unlock(&snap_lock);
    print_all(qs, n, per, stdout);
}

/* Opens queue @i and everything on it. Returns 0 or an exit status. */
static int queue_start(const char *cmd, struct queue *q, unsigned i, const struct stackup_opts *o,
                       const struct httpd_opts *ho, const uint8_t *mac)
{
    struct stackup_opts oq = *o;
    oq.multi_queue = 1;
    oq.cfg.arp_glean = 1; /* see net/arp.c arp_glean */
    if (mac) { /* every instance answers ARP with the same MAC */
        oq.have_mac = 1;
        memcpy(oq.mac, mac, 6);
    }
    q->idx = i;
    q->snap_fd = -1;
    int rc = stackup_start(cmd, &oq, &q->su);
    if (rc)
        return rc;
    char eb[CLI_ERR_LEN];
    int err = services_start(q->su.stack);
    if (err)
        return cli_fail("cannot start the services: %s", cli_strerror(err, eb));
    if ((rc = httpd_start(q->su.lp, ho, &q->httpd)) != 0)
        return rc;
    q->snap_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->snap_fd < 0 || (err = sn_loop_add_fd(q->su.lp, q->snap_fd, EPOLLIN, on_snap, q)) != 0)
        return cli_fail("cannot set up queue %u: %s", i,
                        cli_strerror(q->snap_fd < 0 ? -errno : err, eb));
    q->cpu = pick_cpu(i);
    return 0;
}

static int thread_start(struct queue *q)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (q->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(q->cpu, &set);
        pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
    }
    int err = pthread_create(&q->thread, &attr, queue_main, q);
    pthread_attr_destroy(&attr);
    if (err)
        return -err;
    q->running = 1;
    return 0;
}

int queues_run(const char *cmd, const struct stackup_opts *o, const struct httpd_opts *ho,
               unsigned n)
{
    static struct queue qs[QUEUES_MAX];
    memset(qs, 0, sizeof(qs));
    char eb[CLI_ERR_LEN];
    /* Blocked here, so every instance thread inherits the mask and the
     * signals come to sigwaitinfo below. */
    sigset_t sigs, old;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &sigs, &old);

    int rc = 0;
    unsigned started = 0;
    for (unsigned i = 0; i < n && !rc; i++) {
        rc = queue_start(cmd, &qs[i], i, o, ho, i ? qs[0].su.link->mac : NULL);
        started = i + 1;
    }
    if (!rc && !o->quiet) {
        char where[160], cpus[4 * QUEUES_MAX] = "";
        size_t k = 0;
        for (unsigned i = 0; i < n && k + 8 < sizeof(cpus); i++)
            k += (size_t)snprintf(cpus + k, sizeof(cpus) - k, "%s%d", i ? "," : "", qs[i].cpu);
        fprintf(stderr, "synack: serving %s, %u queues (one instance each, cpus %s)\n",
                stackup_describe(&qs[0].su, o, where, sizeof(where)), n, cpus);
        if (qs[0].httpd)
            fprintf(stderr, "synack: %s (on every queue)\n",
                    httpd_describe(qs[0].httpd, where, sizeof(where)));
    }
    for (unsigned i = 0; i < n && !rc; i++) {
        int err = thread_start(&qs[i]);
        if (err)
            rc = cli_fail("cannot start the thread of queue %u: %s", i, cli_strerror(err, eb));
    }

    while (!rc) {
        siginfo_t si;
        int sig = sigwaitinfo(&sigs, &si);
        if (sig == SIGUSR1) {
            print_snapshots(qs, n);
            continue;
        }
        if (sig == SIGINT || sig == SIGTERM) {
            log_debug("signal %d: stopping", sig);
            break;
        }
    }
    for (unsigned i = 0; i < started; i++)
        if (qs[i].running)
            sn_loop_stop(qs[i].su.lp);
    static struct sn_stats per[QUEUES_MAX];
    for (unsigned i = 0; i < started; i++) {
        if (qs[i].running)
            pthread_join(qs[i].thread, NULL);
        if (qs[i].err && !rc)
            rc = cli_fail("device %s, queue %u failed: %s", qs[i].su.link->name, i,
                          cli_strerror(qs[i].err, eb));
        if (qs[i].su.stack)
            per[i] = qs[i].su.stack->st;
    }
    int all_running = started == n;
    for (unsigned i = 0; i < n; i++)
        all_running = all_running && qs[i].running;
    if (all_running)
        print_all(qs, n, per, stdout);
    for (unsigned i = started; i-- > 0;) {
        httpd_stop(qs[i].httpd, 0); /* one that never ran its thread */
        if (qs[i].snap_fd >= 0) {
            if (qs[i].su.lp)
                sn_loop_del_fd(qs[i].su.lp, qs[i].snap_fd);
            close(qs[i].snap_fd);
        }
        stackup_stop(&qs[i].su);
    }
    /* A signal still pending (a failing instance's SIGTERM) would act the
     * moment the mask is restored: take it first. */
    struct timespec zero = {0, 0};
    while (sigtimedwait(&sigs, NULL, &zero) > 0)
        ;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc ? rc : CLI_EXIT_OK;
}
