/* api/loop.c: the real event loop (see loop.h). Owns an epoll fd, an
 * eventfd that sn_loop_stop writes to, and a signalfd for the signals the
 * application routes to callbacks. Everything it needs per iteration is
 * inside struct sn_loop or on the stack: no malloc after sn_loop_new.
 *
 * One iteration:
 *   now = clock, read once
 *   dispatch what the last epoll_wait reported: signals, application fds
 *   link_recv one batch (when the link is readable) -> sn_stack_input each
 *   sn_stack_advance(now)   (timers, socket callbacks)
 *   after-iteration hooks   (applications drive their sockets)
 *   drain sn_stack_output into batches -> link_send
 *   epoll_wait until a fd is readable or min(stack, link) deadline */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "api/loop.h"
#include "api/stack_impl.h"

/* epoll_event.data.u64 = tag << 32 | fd, so a callback that removes an fd
 * cannot make a later event of the same batch reach the wrong slot. */
enum ev_tag { TAG_LINK = 1, TAG_WAKE, TAG_SIGNAL, TAG_APP };

#define EV_DATA(tag, fd) ((uint64_t)(tag) << 32 | (uint32_t)(fd))
#define EV_TAG(u) ((enum ev_tag)((u) >> 32))
#define EV_FD(u) ((int)(uint32_t)(u))

struct fd_slot {
    int fd; /* -1: free */
    sn_loop_fd_cb cb;
    void *user;
};

struct hook_slot {
    sn_loop_hook fn; /* NULL: removed, compacted after the hooks ran */
    void *user;
};

struct sig_slot {
    int signo;
    sn_loop_signal_cb cb;
    void *user;
};

struct sn_loop {
    struct link *link;
    struct sn_stack *stack;
    struct sn_clock clock;
    sn_time now;

    int epfd, wakefd, sigfd;
    int link_fd;       /* -1: the link has no fd and is polled every iteration */
    int link_readable; /* epoll said so, or we have not looked yet */
    volatile sig_atomic_t stop;

    struct epoll_event events[SN_LOOP_MAX_FDS + 3];
    int n_events; /* reported by the last epoll_wait, not yet dispatched */

    struct fd_slot fds[SN_LOOP_MAX_FDS];
    struct hook_slot hooks[SN_LOOP_MAX_HOOKS];
    int n_hooks;
    int hooks_dirty;
    struct sig_slot sigs[SN_LOOP_MAX_SIGNALS];
    int n_sigs;
    sigset_t sigmask;     /* the signals routed to sigfd */
    sigset_t saved_mask;  /* the thread's mask before the first on_signal */
    int mask_saved;

    struct sn_loop_stats stats;
};

static int ep_add(int epfd, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int sn_loop_new(struct link *l, struct sn_stack *s, const struct sn_clock *clk,
                struct sn_loop **out)
{
    struct sn_loop *lp = calloc(1, sizeof(*lp));
    if (!lp)
        return -ENOMEM;
    lp->link = l;
    lp->stack = s;
    lp->clock = clk ? *clk : clock_mono;
    lp->wakefd = lp->sigfd = -1;
    lp->link_fd = link_fd(l);
    lp->link_readable = 1;
    for (int i = 0; i < SN_LOOP_MAX_FDS; i++)
        lp->fds[i].fd = -1;
    sigemptyset(&lp->sigmask);
    lp->now = sn_clock_read(&lp->clock);

    int err = 0;
    lp->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (lp->epfd < 0)
        err = -errno;
    if (!err && (lp->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
        err = -errno;
    if (!err)
        err = ep_add(lp->epfd, lp->wakefd, EPOLLIN, EV_DATA(TAG_WAKE, lp->wakefd));
    if (!err && lp->link_fd >= 0)
        err = ep_add(lp->epfd, lp->link_fd, EPOLLIN, EV_DATA(TAG_LINK, lp->link_fd));
    if (err) {
        if (lp->epfd >= 0)
            close(lp->epfd);
        if (lp->wakefd >= 0)
            close(lp->wakefd);
        free(lp);
        return err;
    }
    *out = lp;
    return 0;
}

/* Reads every queued signal and returns how many there were. */
static int drain_signals(struct sn_loop *lp, int dispatch)
{
    int n = 0;
    struct signalfd_siginfo si;
    while (lp->sigfd >= 0 && read(lp->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        n++;
        if (!dispatch)
            continue;
        for (int i = 0; i < lp->n_sigs; i++) {
            if (lp->sigs[i].signo == (int)si.ssi_signo) {
                lp->stats.signals++;
                lp->sigs[i].cb(lp, (int)si.ssi_signo, lp->sigs[i].user);
                break;
            }
        }
    }
    return n;
}

void sn_loop_free(struct sn_loop *lp)
{
    if (!lp)
        return;
    if (lp->sigfd >= 0) {
        /* Signals still pending would be delivered with their default
         * action the moment the mask is restored: take them first. */
        drain_signals(lp, 0);
        close(lp->sigfd);
    }
    if (lp->mask_saved)
        pthread_sigmask(SIG_SETMASK, &lp->saved_mask, NULL);
    close(lp->wakefd);
    close(lp->epfd);
    free(lp);
}

static struct fd_slot *find_fd(struct sn_loop *lp, int fd)
{
    for (int i = 0; i < SN_LOOP_MAX_FDS; i++)
        if (lp->fds[i].fd == fd)
            return &lp->fds[i];
    return NULL;
}

int sn_loop_add_fd(struct sn_loop *lp, int fd, uint32_t events, sn_loop_fd_cb cb, void *user)
{
    if (fd < 0 || !cb)
        return -EINVAL;
    if (find_fd(lp, fd))
        return -EEXIST;
    struct fd_slot *slot = find_fd(lp, -1);
    if (!slot)
        return -ENOSPC;
    int err = ep_add(lp->epfd, fd, events, EV_DATA(TAG_APP, fd));
    if (err)
        return err;
    *slot = (struct fd_slot){.fd = fd, .cb = cb, .user = user};
    return 0;
}

int sn_loop_mod_fd(struct sn_loop *lp, int fd, uint32_t events)
{
    if (fd < 0 || !find_fd(lp, fd))
        return -ENOENT;
    struct epoll_event ev = {.events = events, .data.u64 = EV_DATA(TAG_APP, fd)};
    return epoll_ctl(lp->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int sn_loop_del_fd(struct sn_loop *lp, int fd)
{
    struct fd_slot *slot = fd >= 0 ? find_fd(lp, fd) : NULL;
    if (!slot)
        return -ENOENT;
    /* The fd may already be closed (then the kernel dropped it itself). */
    epoll_ctl(lp->epfd, EPOLL_CTL_DEL, fd, NULL);
    slot->fd = -1;
    return 0;
}

int sn_loop_add_hook(struct sn_loop *lp, sn_loop_hook fn, void *user)
{
    if (!fn)
        return -EINVAL;
    if (lp->n_hooks == SN_LOOP_MAX_HOOKS)
        return -ENOSPC;
    lp->hooks[lp->n_hooks++] = (struct hook_slot){fn, user};
    return 0;
}

int sn_loop_del_hook(struct sn_loop *lp, sn_loop_hook fn, void *user)
{
    for (int i = 0; i < lp->n_hooks; i++) {
        if (lp->hooks[i].fn == fn && lp->hooks[i].user == user) {
            lp->hooks[i].fn = NULL;
            lp->hooks_dirty = 1;
            return 0;
        }
    }
    return -ENOENT;
}

int sn_loop_on_signal(struct sn_loop *lp, int signo, sn_loop_signal_cb cb, void *user)
{
    if (signo <= 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP || !cb)
        return -EINVAL;
    for (int i = 0; i < lp->n_sigs; i++) {
        if (lp->sigs[i].signo == signo) {
            lp->sigs[i].cb = cb;
            lp->sigs[i].user = user;
            return 0;
        }
    }
    if (lp->n_sigs == SN_LOOP_MAX_SIGNALS)
        return -ENOSPC;

    sigset_t mask = lp->sigmask;
    sigaddset(&mask, signo);
    int fd = signalfd(lp->sigfd, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (lp->sigfd < 0) {
        int err = ep_add(lp->epfd, fd, EPOLLIN, EV_DATA(TAG_SIGNAL, fd));
        if (err) {
            close(fd);
            return err;
        }
        lp->sigfd = fd;
    }
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, signo);
    /* Blocked signals are queued, not acted on, even when their disposition
     * is SIG_IGN (as for SIGINT in a shell's background job), so the
     * signalfd sees them either way. */
    int err = pthread_sigmask(SIG_BLOCK, &one, lp->mask_saved ? NULL : &lp->saved_mask);
    if (err)
        return -err;
    lp->mask_saved = 1;
    lp->sigmask = mask;
    lp->sigs[lp->n_sigs++] = (struct sig_slot){signo, cb, user};
    return 0;
}

void sn_loop_stop(struct sn_loop *lp)
{
    int saved = errno; /* may run in a signal handler */
    lp->stop = 1;
    uint64_t one = 1;
    ssize_t r = write(lp->wakefd, &one, sizeof(one));
    (void)r; /* a full counter already means "wake up" */
    errno = saved;
}

sn_time sn_loop_now(const struct sn_loop *lp) { return lp->now; }
struct sn_stack *sn_loop_stack(const struct sn_loop *lp) { return lp->stack; }
struct link *sn_loop_link(const struct sn_loop *lp) { return lp->link; }
const struct sn_loop_stats *sn_loop_stats(const struct sn_loop *lp) { return &lp->stats; }

int sn_loop_timeout_ms(sn_time now, sn_time deadline)
{
    if (deadline == SN_TIME_NEVER)
        return -1;
    if (deadline <= now)
        return 0;
    sn_time ms = (deadline - now + 999) / 1000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* The events the last epoll_wait reported: wakeups, signals, app fds. */
static void dispatch_events(struct sn_loop *lp)
{
    int n = lp->n_events;
    lp->n_events = 0;
    for (int i = 0; i < n; i++) {
        uint64_t d = lp->events[i].data.u64;
        uint32_t ev = lp->events[i].events;
        switch (EV_TAG(d)) {
        case TAG_LINK:
            lp->link_readable = 1;
            break;
        case TAG_WAKE: {
            uint64_t v;
            ssize_t r = read(lp->wakefd, &v, sizeof(v));
            (void)r; /* only resets the counter */
            break;
        }
        case TAG_SIGNAL:
            drain_signals(lp, 1);
            break;
        case TAG_APP: {
            struct fd_slot *slot = find_fd(lp, EV_FD(d));
            if (slot) /* not removed by an earlier callback */
                slot->cb(lp, slot->fd, ev, slot->user);
            break;
        }
        }
    }
}

/* One batch from the link into the stack. Returns 0 or the device's
 * negative errno. */
static int link_input(struct sn_loop *lp)
{
    if (lp->link_fd >= 0 && !lp->link_readable && lp->now < link_next_deadline(lp->link))
        return 0;
    struct pkt *batch[SN_LOOP_BATCH];
    int n = link_recv(lp->link, sn_stack_rx_pool(lp->stack), batch, SN_LOOP_BATCH, lp->now);
    if (n < 0)
        return n;
    /* Level-triggered: if more is waiting, epoll_wait says so at once. */
    lp->link_readable = 0;
    if (n > 0) {
        lp->stats.rx_batches++;
        lp->stats.rx_frames += (uint64_t)n;
    }
    for (int i = 0; i < n; i++)
        sn_stack_input(lp->stack, batch[i], lp->now);
    return 0;
}

static void send_batch(struct sn_loop *lp, struct pkt **batch, int n)
{
    int r = link_send(lp->link, batch, n, lp->now); /* consumes all n */
    int ok = r < 0 ? 0 : r;
    lp->stats.tx_batches++;
    lp->stats.tx_frames += (uint64_t)ok;
    if (ok < n) {
        lp->stats.tx_errors += (uint64_t)(n - ok);
        STAT_ADD(&lp->stack->st, link, tx_errors, (uint64_t)(n - ok));
    }
}

static void link_output(struct sn_loop *lp)
{
    struct pkt *batch[SN_LOOP_BATCH];
    int n = 0;
    struct pkt *p;
    while ((p = sn_stack_output(lp->stack))) {
        batch[n++] = p;
        if (n == SN_LOOP_BATCH) {
            send_batch(lp, batch, n);
            n = 0;
        }
    }
    if (n)
        send_batch(lp, batch, n);
}

static void run_hooks(struct sn_loop *lp)
{
    /* By index: a hook may add (runs this time) or remove (skipped) hooks. */
    for (int i = 0; i < lp->n_hooks; i++)
        if (lp->hooks[i].fn)
            lp->hooks[i].fn(lp, lp->now, lp->hooks[i].user);
    if (!lp->hooks_dirty)
        return;
    int j = 0;
    for (int i = 0; i < lp->n_hooks; i++)
        if (lp->hooks[i].fn)
            lp->hooks[j++] = lp->hooks[i];
    lp->n_hooks = j;
    lp->hooks_dirty = 0;
}

static sn_time min_time(sn_time a, sn_time b) { return a < b ? a : b; }

int sn_loop_run_once(struct sn_loop *lp, sn_time max_wait_us)
{
    lp->now = sn_clock_read(&lp->clock);
    lp->stats.iterations++;

    dispatch_events(lp);
    int err = link_input(lp);
    sn_stack_advance(lp->stack, lp->now);
    run_hooks(lp);
    link_output(lp);
    if (err) {
        lp->stop = 1;
        return err;
    }
    if (lp->stop)
        return 0;

    sn_time deadline =
        min_time(sn_stack_next_deadline(lp->stack), link_next_deadline(lp->link));
    if (lp->link_fd < 0) /* nothing would wake us for it: keep polling */
        deadline = lp->now;
    if (max_wait_us != SN_TIME_NEVER && (deadline == SN_TIME_NEVER || deadline - lp->now > max_wait_us))
        deadline = lp->now + max_wait_us;
    int timeout = sn_loop_timeout_ms(lp->now, deadline);

    int n = epoll_wait(lp->epfd, lp->events, SN_LOOP_MAX_FDS + 3, timeout);
    if (n < 0) {
        if (errno == EINTR) /* a handled signal: look at the stop flag */
            return 0;
        err = -errno;
        lp->stop = 1;
        return err;
    }
    lp->n_events = n;
    if (n > 0)
        lp->stats.wakeups_fd++;
    else
        lp->stats.wakeups_timer++;
    return 0;
}

int sn_loop_run(struct sn_loop *lp)
{
    int err = 0;
    while (!lp->stop && !err)
        err = sn_loop_run_once(lp, SN_TIME_NEVER);
    lp->stop = 0; /* the loop may be run again */
    return err;
}
