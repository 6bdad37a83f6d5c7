/* api/loop.h: the real event loop. One loop drives one stack over one link
 * on one thread: read a batch of frames, feed them in, fire timers, run the
 * application's hooks, write what the stack produced, then sleep in
 * epoll_wait until a fd is readable or the next deadline. Application fds
 * (stdin, a control socket) and signals (through a signalfd) are callbacks
 * run inside the same iteration, all seeing the same cached "now".
 *
 * Internal to synack (it takes a struct link), not exported from the
 * shared library; tools and the simulator's real-time mode use it. */
#ifndef SYNACK_API_LOOP_H
#define SYNACK_API_LOOP_H

#include <stdint.h>

#include "core/time.h"
#include "link/link.h"
#include "synack/synack.h"

struct sn_loop;

/* Frames moved per link_recv / link_send call. */
#define SN_LOOP_BATCH 64
/* Application fds, after-iteration hooks and signals one loop can hold. */
#define SN_LOOP_MAX_FDS 32
#define SN_LOOP_MAX_HOOKS 16
#define SN_LOOP_MAX_SIGNALS 8

/* Readiness of an application fd: @events is EPOLLIN/EPOLLOUT/EPOLLERR/
 * EPOLLHUP bits as epoll reported them. */
typedef void (*sn_loop_fd_cb)(struct sn_loop *lp, int fd, uint32_t events, void *user);
/* Runs once per iteration, after input and timers, before output is
 * written: the place to drive sockets (sn_send/sn_recv). */
typedef void (*sn_loop_hook)(struct sn_loop *lp, sn_time now, void *user);
/* A signal arrived (delivered through a signalfd, so this is an ordinary
 * call, not a signal handler: anything may be done here). */
typedef void (*sn_loop_signal_cb)(struct sn_loop *lp, int signo, void *user);

struct sn_loop_stats {
    uint64_t iterations;    /* times round the loop */
    uint64_t wakeups_fd;    /* epoll_wait returned with events */
    uint64_t wakeups_timer; /* epoll_wait timed out (a deadline) */
    uint64_t rx_batches;    /* link_recv calls that returned frames */
    uint64_t rx_frames;
    uint64_t tx_batches;    /* link_send calls */
    uint64_t tx_frames;     /* frames the link accepted */
    uint64_t tx_errors;     /* frames the link refused */
    uint64_t signals;       /* signals delivered to callbacks */
};

/* Creates a loop over @l and @s, reading time from @clk (NULL: clock_mono).
 * Borrows all three; they must outlive the loop. Returns 0 and *out, or
 * -ENOMEM, or the negative errno of epoll_create1/eventfd/epoll_ctl. */
int sn_loop_new(struct link *l, struct sn_stack *s, const struct sn_clock *clk,
                struct sn_loop **out);

/* Frees the loop (closes its epoll fd, eventfd and signalfd and restores
 * the signal mask it changed). Not the link, the stack or the app fds. */
void sn_loop_free(struct sn_loop *lp);

/* Calls @cb when @fd has any of @events (EPOLLIN, EPOLLOUT; level
 * triggered). Returns 0, -EEXIST (fd already registered), -ENOSPC (table
 * full) or epoll_ctl's negative errno (-EPERM for a regular file). */
int sn_loop_add_fd(struct sn_loop *lp, int fd, uint32_t events, sn_loop_fd_cb cb, void *user);

/* Changes the events watched on @fd. Returns 0, -ENOENT or epoll_ctl's
 * negative errno. */
int sn_loop_mod_fd(struct sn_loop *lp, int fd, uint32_t events);

/* Stops watching @fd (safe from its own callback). Returns 0 or -ENOENT. */
int sn_loop_del_fd(struct sn_loop *lp, int fd);

/* Adds a hook run every iteration. Returns 0 or -ENOSPC. */
int sn_loop_add_hook(struct sn_loop *lp, sn_loop_hook fn, void *user);

/* Removes the hook registered with exactly (@fn, @user) (safe from a hook).
 * Returns 0 or -ENOENT. */
int sn_loop_del_hook(struct sn_loop *lp, sn_loop_hook fn, void *user);

/* Routes @signo to @cb: the signal is blocked in the calling thread and
 * read from a signalfd. Call before sn_loop_run, from the loop's thread
 * (block it in other threads too, or they may take it). Returns 0,
 * -EINVAL (SIGKILL, SIGSTOP, out of range), -ENOSPC or a negative errno
 * from signalfd. */
int sn_loop_on_signal(struct sn_loop *lp, int signo, sn_loop_signal_cb cb, void *user);

/* Runs until sn_loop_stop. Returns 0 when stopped, or the negative errno of
 * a device read error or of epoll_wait (the loop is then stopped). */
int sn_loop_run(struct sn_loop *lp);

/* Runs exactly one iteration, waiting at most @max_wait_us (0: do not
 * block; SN_TIME_NEVER: until something happens). Returns as sn_loop_run:
 * 0, or a negative errno. For tests and tools that interleave work. */
int sn_loop_run_once(struct sn_loop *lp, sn_time max_wait_us);

/* Asks the loop to return after the current iteration. Async-signal-safe
 * and safe from any thread (a flag and an eventfd write); from a callback
 * it takes effect once the iteration has written its output. */
void sn_loop_stop(struct sn_loop *lp);

/* The time the current (or last) iteration read from the clock. */
sn_time sn_loop_now(const struct sn_loop *lp);

struct sn_stack *sn_loop_stack(const struct sn_loop *lp);
struct link *sn_loop_link(const struct sn_loop *lp);
const struct sn_loop_stats *sn_loop_stats(const struct sn_loop *lp);

/* The epoll_wait timeout in ms for a sleep from @now until @deadline:
 * rounded up, so the loop never wakes before a deadline and spins; 0 when
 * it has passed; -1 for SN_TIME_NEVER; capped at INT_MAX. */
int sn_loop_timeout_ms(sn_time now, sn_time deadline);

#endif
