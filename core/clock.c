/* core/clock.c: the real monotonic clock. */
#include <time.h>

#include "core/time.h"

sn_time clock_mono_now(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (sn_time)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const struct sn_clock clock_mono = {clock_mono_now, NULL};
