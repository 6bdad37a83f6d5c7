/* core/timer_wheel.h: a hierarchical timer wheel with intrusive entries.
 *
 * Entries live inside their owners (a TCB embeds its rtx, delack, persist,
 * keepalive and TIME-WAIT timers), so arming and cancelling are O(1) and
 * never allocate. Equal deadlines fire in the order they were armed, which
 * keeps simulator runs reproducible.
 *
 * Time is cut into ticks of TW_TICK_US, and ticks into rotations of
 * TW_ROTATION ticks (about a second). Level 0 holds the entries due in the
 * current rotation or the next one, one slot per tick, so each of its slot
 * lists holds the entries of a single tick. Level 1 holds the entries due in
 * the TW_L1_SLOTS rotations after that (about 17 minutes), one slot per
 * rotation; an overflow list holds the rest (keepalive's two hours). An
 * entry costs nothing while it waits in level 1 or the overflow list: when
 * the wheel enters a rotation, the level-1 slot of the rotation after it
 * moves down into level 0, and the overflow list is looked through once
 * every TW_L1_SLOTS rotations. */
#ifndef SYNACK_CORE_TIMER_WHEEL_H
#define SYNACK_CORE_TIMER_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/time.h"

#define TW_TICK_US 1000   /* one level-0 slot per millisecond */
#define TW_ROTATION_SHIFT 10
#define TW_ROTATION (1 << TW_ROTATION_SHIFT) /* ticks per rotation: ~1 s */
#define TW_L0_SLOTS (2 * TW_ROTATION)        /* this rotation and the next */
#define TW_L1_SHIFT 10
#define TW_L1_SLOTS (1 << TW_L1_SHIFT)       /* rotations: ~17.5 min */

struct tw_entry;
typedef void (*tw_fn)(struct tw_entry *e, sn_time now);

/* A doubly linked list node; a list head is a bare node. */
struct tw_link {
    struct tw_link *next, *prev;
};

struct tw_entry {
    struct tw_link link; /* link.next is NULL when not armed */
    sn_time deadline;
    uint64_t order; /* arm sequence number: ties fire first-armed first */
    tw_fn fn;
};

/* One occupancy bit per slot, so that finding the next non-empty slot costs
 * a word test per 64 slots instead of a list-head test per slot. */
#define TW_L0_WORDS (TW_L0_SLOTS / 64)
#define TW_L1_WORDS (TW_L1_SLOTS / 64)
_Static_assert(TW_ROTATION % 64 == 0 && TW_L1_SLOTS % 64 == 0,
               "slot counts must be multiples of 64");

struct timer_wheel {
    struct tw_link l0[TW_L0_SLOTS];    /* slot (tick % TW_L0_SLOTS) */
    struct tw_link l1[TW_L1_SLOTS];    /* slot (rotation % TW_L1_SLOTS) */
    uint64_t l0_occupied[TW_L0_WORDS]; /* bit s set iff l0[s] is non-empty */
    uint64_t l1_occupied[TW_L1_WORDS]; /* bit s set iff l1[s] is non-empty */
    struct tw_link overflow;           /* beyond level 1, in no order */
    sn_time overflow_min;              /* no later than any overflow deadline */
    struct tw_link due;                /* entries being fired by tw_advance */
    int64_t cur_tick;                  /* next tick to examine */
    uint64_t next_order;
    uint32_t n_armed;
    const struct tw_entry *firing;     /* whose callback runs now, or NULL */
};

void tw_init(struct timer_wheel *w, sn_time now);

/* Prepares an entry; it starts disarmed. */
static inline void tw_entry_init(struct tw_entry *e, tw_fn fn)
{
    e->link.next = e->link.prev = 0;
    e->deadline = 0;
    e->order = 0;
    e->fn = fn;
}

static inline bool tw_armed(const struct tw_entry *e) { return e->link.next != 0; }

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

/* A time no later than the earliest armed deadline; SN_TIME_NEVER when
 * nothing is armed (entries that a tw_advance in progress is firing do not
 * count). Exact when that deadline lies within one rotation (TW_ROTATION
 * ticks) of the wheel's current tick, and more generally whenever it lies in
 * level 0; otherwise the start of the first non-empty level-1 rotation, or
 * for the overflow list the earliest deadline put there (an earlier one when
 * that entry was cancelled since). Waking at the returned time and calling
 * tw_advance always makes progress: it fires something, or the next answer
 * is later. */
sn_time tw_next_deadline(const struct timer_wheel *w);

#endif
