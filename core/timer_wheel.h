/* core/timer_wheel.h: a hashed timer wheel with intrusive entries.
 *
 * Entries live inside their owners (a TCB embeds its rtx, delack, persist,
 * keepalive and TIME-WAIT timers), so arming and cancelling are O(1) and
 * never allocate. Equal deadlines fire in the order they were armed, which
 * keeps simulator runs reproducible. */
#ifndef SYNACK_CORE_TIMER_WHEEL_H
#define SYNACK_CORE_TIMER_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/time.h"

#define TW_SLOTS 1024     /* power of two */
#define TW_TICK_US 1000   /* one slot per millisecond: a rotation is ~1 s */

struct tw_entry;
typedef void (*tw_fn)(struct tw_entry *e, sn_time now);

struct tw_entry {
    struct tw_entry *next, *prev; /* NULL when not armed */
    sn_time deadline;
    uint64_t order; /* arm sequence number: ties fire first-armed first */
    tw_fn fn;
};

/* One occupancy bit per slot, so that finding the next non-empty slot costs
 * TW_SLOTS / 64 word tests instead of TW_SLOTS list-head tests. */
#define TW_WORDS (TW_SLOTS / 64)
_Static_assert(TW_SLOTS % 64 == 0, "TW_SLOTS must be a multiple of 64");

struct timer_wheel {
    struct tw_entry slots[TW_SLOTS]; /* list heads */
    uint64_t occupied[TW_WORDS];     /* bit s set iff slots[s] is non-empty */
    struct tw_entry due;             /* entries being fired by tw_advance */
    int64_t cur_tick;                /* next tick to examine */
    uint64_t next_order;
    uint32_t n_armed;
    const struct tw_entry *firing;   /* whose callback runs now, or NULL */
};

void tw_init(struct timer_wheel *w, sn_time now);

/* Prepares an entry; it starts disarmed. */
static inline void tw_entry_init(struct tw_entry *e, tw_fn fn)
{
    e->next = e->prev = 0;
    e->deadline = 0;
    e->order = 0;
    e->fn = fn;
}

static inline bool tw_armed(const struct tw_entry *e) { return e->next != 0; }

/* Arms @e to fire at @deadline (re-arming it if it already is). A deadline
 * in the past fires on the next tw_advance. */
void tw_arm(struct timer_wheel *w, struct tw_entry *e, sn_time deadline);

/* Disarms @e; a no-op when it is not armed. Safe from inside a callback,
 * including on entries that are due in the same tw_advance. */
void tw_cancel(struct timer_wheel *w, struct tw_entry *e);

/* Fires every entry whose deadline is <= @now, in (deadline, arm order).
 * Entries armed by callbacks for a time <= @now fire on the next call.
 * Returns how many fired. */
uint32_t tw_advance(struct timer_wheel *w, sn_time now);

/* A time no later than the earliest armed deadline, exact when that deadline
 * lies within one rotation; SN_TIME_NEVER when nothing is armed. Waking at
 * the returned time and calling tw_advance always makes progress. */
sn_time tw_next_deadline(const struct timer_wheel *w);

#endif
