/* core/time.h: the one time type. Protocol code never reads a clock; it is
 * handed "now" by its caller (the real loop or the simulator). */
#ifndef SYNACK_CORE_TIME_H
#define SYNACK_CORE_TIME_H

#include <stdint.h>

typedef int64_t sn_time; /* microseconds, monotonic */

#define SN_TIME_NEVER INT64_MAX
#define SN_USEC(x) ((sn_time)(x))
#define SN_MSEC(x) ((sn_time)(x) * 1000)
#define SN_SEC(x) ((sn_time)(x) * 1000000)

/* A clock the event loop reads once per iteration. The simulator supplies
 * its own virtual clock through the same shape. */
struct sn_clock {
    sn_time (*now)(void *ctx);
    void *ctx;
};

/* CLOCK_MONOTONIC in microseconds. */
sn_time clock_mono_now(void *ctx);

extern const struct sn_clock clock_mono;

static inline sn_time sn_clock_read(const struct sn_clock *c) { return c->now(c->ctx); }

#endif
