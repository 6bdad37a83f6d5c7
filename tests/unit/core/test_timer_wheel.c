/* tests/unit/core/test_timer_wheel.c: the hierarchical timer wheel
 * (core/timer_wheel.c), first with directed cases, then in lockstep with a
 * naive reference model under thousands of random arm/cancel/advance steps.
 *
 * The model is a flat array: an entry is armed with a deadline and an arm
 * sequence number; tw_advance(now) must fire exactly the entries that were
 * armed with deadline <= now when it was called, in (deadline, arm order),
 * skipping those that a callback cancelled or re-armed first. Callbacks
 * themselves arm, re-arm and cancel entries at random, and every such action
 * is applied to the wheel and the model alike. Deadlines span level 0, level
 * 1 and the overflow list (up to hours ahead), and land on their borders.
 *
 * These tests also look inside: every entry must wait in the level and slot
 * its deadline calls for, every slot's occupancy bit must match its list at
 * every step (even from inside callbacks), and tw_next_deadline() must
 * return exactly what a plain scan of all slots, without the bitmaps,
 * returns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/timer_wheel.h"

#define BASE SN_SEC(1000) /* start well above 0 so "past" deadlines stay positive */
#define ROTATION ((sn_time)TW_ROTATION * TW_TICK_US) /* in microseconds */
#define L1_SPAN ((sn_time)TW_L1_SLOTS * ROTATION)   /* what level 1 spans */

/* ---------------------------------------------------------------------
 * Directed cases */

struct rec_entry {
    struct tw_entry e;
    int id;
};

#define MAX_REC 64
static int fired_ids[MAX_REC];
static sn_time fired_at[MAX_REC];
static int n_fired;

static struct rec_entry *rec_of(struct tw_entry *e)
{
    return (struct rec_entry *)((char *)e - offsetof(struct rec_entry, e));
}

static void record_fn(struct tw_entry *e, sn_time now)
{
    assert_false(tw_armed(e)); /* disarmed before its callback runs */
    assert_true(n_fired < MAX_REC);
    fired_ids[n_fired] = rec_of(e)->id;
    fired_at[n_fired] = now;
    n_fired++;
}

static void rec_init(struct rec_entry *r, int n, tw_fn fn)
{
    for (int i = 0; i < n; i++) {
        tw_entry_init(&r[i].e, fn);
        r[i].id = i;
    }
    n_fired = 0;
}

/* ---------------------------------------------------------------------
 * White-box views of the levels and their occupancy bitmaps */

static int64_t rot_of_tick(int64_t tick) { return tick >> TW_ROTATION_SHIFT; }
static int64_t rot_of(sn_time t) { return rot_of_tick(t / TW_TICK_US); }
static sn_time rot_start(int64_t rot) { return rot * ROTATION; }

static int64_t first_l1(const struct timer_wheel *w) { return rot_of_tick(w->cur_tick) + 2; }

/* The end of level 0, in microseconds: deadlines before it are exact. */
static sn_time l0_end(const struct timer_wheel *w) { return rot_start(first_l1(w)); }

static bool bit_of(const uint64_t *bits, size_t s) { return (bits[s / 64] >> (s % 64)) & 1; }

static bool l0_bit(const struct timer_wheel *w, int64_t tick)
{
    return bit_of(w->l0_occupied, (size_t)(tick & (TW_L0_SLOTS - 1)));
}

static bool l1_bit(const struct timer_wheel *w, int64_t rot)
{
    return bit_of(w->l1_occupied, (size_t)(rot & (TW_L1_SLOTS - 1)));
}

static bool on_list(const struct tw_link *head, const struct tw_entry *e)
{
    for (const struct tw_link *l = head->next; l != head; l = l->next)
        if (l == &e->link)
            return true;
    return false;
}

enum where { NOWHERE, IN_L0, IN_L1, IN_OVERFLOW, IN_DUE };

static enum where where_is(const struct timer_wheel *w, const struct tw_entry *e)
{
    for (int s = 0; s < TW_L0_SLOTS; s++)
        if (on_list(&w->l0[s], e))
            return IN_L0;
    for (int s = 0; s < TW_L1_SLOTS; s++)
        if (on_list(&w->l1[s], e))
            return IN_L1;
    if (on_list(&w->overflow, e))
        return IN_OVERFLOW;
    if (on_list(&w->due, e))
        return IN_DUE;
    return NOWHERE;
}

static size_t list_len(const struct tw_link *head)
{
    size_t n = 0;
    for (const struct tw_link *l = head->next; l != head; l = l->next)
        n++;
    return n;
}

static size_t l0_population(const struct timer_wheel *w)
{
    size_t n = 0;
    for (int s = 0; s < TW_L0_SLOTS; s++)
        n += list_len(&w->l0[s]);
    return n;
}

static const struct tw_entry *entry_of(const struct tw_link *l)
{
    return (const struct tw_entry *)((const char *)l - offsetof(struct tw_entry, link));
}

/* Every rule of the layout (see core/timer_wheel.c), checked on every entry:
 * returns a description of the first broken one, or NULL. */
static const char *layout_error(const struct timer_wheel *w)
{
    int64_t f = first_l1(w);
    size_t n = 0;
    for (int s = 0; s < TW_L0_SLOTS; s++) {
        const struct tw_link *head = &w->l0[s];
        if (bit_of(w->l0_occupied, (size_t)s) != (head->next != head))
            return "a level-0 bit disagrees with its list";
        for (const struct tw_link *l = head->next; l != head; l = l->next, n++) {
            int64_t t = entry_of(l)->deadline / TW_TICK_US;
            if (t < w->cur_tick)
                t = w->cur_tick;
            if (rot_of_tick(t) >= f)
                return "a level-0 entry belongs to level 1";
            if ((t & (TW_L0_SLOTS - 1)) != s)
                return "a level-0 entry in the wrong slot";
            if (l->next->prev != l)
                return "a broken level-0 list";
        }
    }
    for (int s = 0; s < TW_L1_SLOTS; s++) {
        const struct tw_link *head = &w->l1[s];
        if (bit_of(w->l1_occupied, (size_t)s) != (head->next != head))
            return "a level-1 bit disagrees with its list";
        for (const struct tw_link *l = head->next; l != head; l = l->next, n++) {
            int64_t r = rot_of(entry_of(l)->deadline);
            if (r < f)
                return "a level-1 entry that level 0 should hold";
            if (r >= f + TW_L1_SLOTS)
                return "a level-1 entry beyond level 1";
            if ((r & (TW_L1_SLOTS - 1)) != s)
                return "a level-1 entry in the wrong slot";
        }
    }
    /* Overflow entries lie at or past the next multiple of TW_L1_SLOTS
     * above the first level-1 rotation (when they were put there, they lay
     * beyond level 1): nothing there is due for level 0 before the list is
     * next looked through. */
    int64_t look = (f / TW_L1_SLOTS + 1) * TW_L1_SLOTS;
    for (const struct tw_link *l = w->overflow.next; l != &w->overflow; l = l->next, n++) {
        const struct tw_entry *e = entry_of(l);
        if (rot_of(e->deadline) < look)
            return "an overflow entry before the next look-through";
        if (e->deadline < w->overflow_min)
            return "an overflow entry before overflow_min";
    }
    /* So waking at overflow_min is never late and is a look-through. */
    if (w->overflow_min != SN_TIME_NEVER && rot_of(w->overflow_min) < look)
        return "overflow_min before the next look-through";
    n += list_len(&w->due);
    if (n != w->n_armed)
        return "n_armed disagrees with the lists";
    return NULL;
}

static void assert_layout(const struct timer_wheel *w)
{
    const char *err = layout_error(w);
    if (err)
        fail_msg("%s", err);
}

static bool bitmaps_empty(const struct timer_wheel *w)
{
    for (int i = 0; i < TW_L0_WORDS; i++)
        if (w->l0_occupied[i])
            return false;
    for (int i = 0; i < TW_L1_WORDS; i++)
        if (w->l1_occupied[i])
            return false;
    return true;
}

static sn_time list_min(const struct tw_link *head)
{
    sn_time best = SN_TIME_NEVER;
    for (const struct tw_link *l = head->next; l != head; l = l->next)
        if (entry_of(l)->deadline < best)
            best = entry_of(l)->deadline;
    return best;
}

/* The plain scan of every slot that the bitmaps replace: the reference
 * answer, including the bounds for entries beyond level 0 and the answer
 * while entries sit in the due list being fired. */
static sn_time ref_next_deadline(const struct timer_wheel *w)
{
    if (w->n_armed == 0)
        return SN_TIME_NEVER;
    int64_t f = first_l1(w);
    for (int64_t t = w->cur_tick; t < (f << TW_ROTATION_SHIFT); t++) {
        const struct tw_link *head = &w->l0[t & (TW_L0_SLOTS - 1)];
        if (head->next != head)
            return list_min(head);
    }
    sn_time best = SN_TIME_NEVER;
    for (int64_t r = f; r < f + TW_L1_SLOTS; r++) {
        const struct tw_link *head = &w->l1[r & (TW_L1_SLOTS - 1)];
        if (head->next != head) {
            best = rot_start(r);
            break;
        }
    }
    if (w->overflow.next != &w->overflow && w->overflow_min < best)
        best = w->overflow_min;
    return best;
}

static void empty_wheel(void **state)
{
    (void)state;
    static struct timer_wheel w;
    tw_init(&w, BASE);
    assert_int_equal(tw_next_deadline(&w), SN_TIME_NEVER);
    assert_int_equal(tw_advance(&w, BASE + SN_SEC(10)), 0);
    assert_int_equal(tw_next_deadline(&w), SN_TIME_NEVER);
    assert_int_equal(tw_advance(&w, BASE + SN_SEC(100000)), 0);
    assert_int_equal(tw_next_deadline(&w), SN_TIME_NEVER);

    struct rec_entry r[1];
    rec_init(r, 1, record_fn);
    assert_false(tw_armed(&r[0].e));
    tw_cancel(&w, &r[0].e); /* cancelling a disarmed entry is a no-op */
    assert_int_equal(w.n_armed, 0);
    assert_layout(&w);
}

static void fires_in_deadline_then_arm_order(void **state)
{
    (void)state;
    static struct timer_wheel w;
    struct rec_entry r[6];
    tw_init(&w, BASE);
    rec_init(r, 6, record_fn);

    tw_arm(&w, &r[0].e, BASE + 5000);
    tw_arm(&w, &r[1].e, BASE + 3000);
    tw_arm(&w, &r[2].e, BASE + 5000);
    tw_arm(&w, &r[3].e, BASE + 3000);
    tw_arm(&w, &r[4].e, BASE + 3500); /* same tick as 3000, later deadline */
    tw_arm(&w, &r[5].e, BASE + 5000);
    tw_arm(&w, &r[0].e, BASE + 5000); /* re-arm: now last among equals */
    assert_int_equal(w.n_armed, 6);
    assert_int_equal(tw_next_deadline(&w), BASE + 3000);

    assert_int_equal(tw_advance(&w, BASE + 2999), 0);
    assert_int_equal(tw_advance(&w, BASE + 3000), 2);
    assert_int_equal(tw_next_deadline(&w), BASE + 3500);
    assert_int_equal(tw_advance(&w, BASE + 10000), 4);
    int want[] = {1, 3, 4, 2, 5, 0};
    assert_int_equal(n_fired, 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(fired_ids[i], want[i]);
    assert_int_equal(fired_at[0], BASE + 3000);
    assert_int_equal(fired_at[2], BASE + 10000);
    assert_int_equal(w.n_armed, 0);
    assert_int_equal(tw_next_deadline(&w), SN_TIME_NEVER);
}

static void past_deadline_fires_next_advance(void **state)
{
    (void)state;
    static struct timer_wheel w;
    struct rec_entry r[2];
    tw_init(&w, BASE);
    rec_init(r, 2, record_fn);
    assert_int_equal(tw_advance(&w, BASE + SN_SEC(2)), 0);

    tw_arm(&w, &r[0].e, BASE); /* two seconds ago */
    tw_arm(&w, &r[1].e, BASE + SN_SEC(2) - 1);
    assert_int_equal(tw_next_deadline(&w), BASE);
    assert_int_equal(tw_advance(&w, BASE + SN_SEC(2)), 2);
    assert_int_equal(fired_ids[0], 0);
    assert_int_equal(fired_ids[1], 1);
}

/* The loop sleeps until tw_next_deadline() and advances to it: that must
 * fire something even when the deadline is already behind the wheel. */
static void advance_to_past_next_deadline_progresses(void **state)
{
    (void)state;
    static struct timer_wheel w;
    struct rec_entry r[1];
    tw_init(&w, BASE);
    rec_init(r, 1, record_fn);
    assert_int_equal(tw_advance(&w, BASE + SN_MSEC(50)), 0);

    tw_arm(&w, &r[0].e, BASE + SN_MSEC(10));
    sn_time next = tw_next_deadline(&w);
    assert_int_equal(next, BASE + SN_MSEC(10));
    assert_int_equal(tw_advance(&w, next), 1);
    assert_int_equal(w.n_armed, 0);
}

static void far_beyond_one_rotation(void **state)
{
    (void)state;
    static struct timer_wheel w;
    struct rec_entry r[3];
    tw_init(&w, BASE);
    rec_init(r, 3, record_fn);

    /* Same level-0 slot as BASE + 500 us, several rotations later. */
    tw_arm(&w, &r[0].e, BASE + 5 * ROTATION + 500);
    tw_arm(&w, &r[1].e, BASE + 500);
    tw_arm(&w, &r[2].e, BASE + SN_SEC(3600)); /* the overflow list */
    assert_int_equal(where_is(&w, &r[0].e), IN_L1);
    assert_int_equal(where_is(&w, &r[1].e), IN_L0);
    assert_int_equal(where_is(&w, &r[2].e), IN_OVERFLOW);
    assert_int_equal(tw_next_deadline(&w), BASE + 500);
    assert_int_equal(tw_advance(&w, BASE + 500), 1);
    assert_int_equal(fired_ids[0], 1);

    sn_time now = BASE + 500;
    int steps = 0;
    while (n_fired < 2) {
        sn_time next = tw_next_deadline(&w);
        assert_true(next <= BASE + 5 * ROTATION + 500);
        assert_true(next > now || next == BASE + 5 * ROTATION + 500);
        now = next;
        tw_advance(&w, now);
        assert_layout(&w);
        assert_true(++steps < 10);
    }
    assert_int_equal(fired_ids[1], 0);
    assert_int_equal(fired_at[1], BASE + 5 * ROTATION + 500);

    /* A jump over many rotations fires the far entry once. */
    assert_int_equal(tw_advance(&w, BASE + SN_SEC(7200)), 1);
    assert_int_equal(fired_ids[2], 2);
    assert_int_equal(w.n_armed, 0);
    assert_true(bitmaps_empty(&w));
}

static struct timer_wheel *cb_wheel;
static struct rec_entry *cb_entries;

/* Entry 0's callback cancels entry 1 (due in the same advance) and re-arms
 * itself in the past; entry 2's callback re-arms entry 3 (also due) later. */
static void meddling_fn(struct tw_entry *e, sn_time now)
{
    record_fn(e, now);
    int id = rec_of(e)->id;
    if (id == 0 && n_fired == 1) {
        tw_cancel(cb_wheel, &cb_entries[1].e);
        tw_arm(cb_wheel, e, now - 1);
    } else if (id == 2 && n_fired == 2) {
        tw_arm(cb_wheel, &cb_entries[3].e, now + 2000);
        tw_arm(cb_wheel, e, now); /* armed for "now": fires next call */
    }
}

static void cancel_and_rearm_from_callback(void **state)
{
    (void)state;
    static struct timer_wheel w;
    struct rec_entry r[4];
    tw_init(&w, BASE);
    rec_init(r, 4, meddling_fn);
    cb_wheel = &w;
    cb_entries = r;

    for (int i = 0; i < 4; i++)
        tw_arm(&w, &r[i].e, BASE + 1000 + i);
    assert_int_equal(tw_advance(&w, BASE + 2000), 2); /* 0 and 2 */
    assert_int_equal(n_fired, 2);
    assert_int_equal(fired_ids[0], 0);
    assert_int_equal(fired_ids[1], 2);
    assert_false(tw_armed(&r[1].e));
    assert_true(tw_armed(&r[0].e));
    assert_true(tw_armed(&r[2].e));
    assert_true(tw_armed(&r[3].e));
    assert_int_equal(w.n_armed, 3);
    assert_int_equal(tw_next_deadline(&w), BASE + 2000 - 1);

    assert_int_equal(tw_advance(&w, BASE + 2000), 2); /* 0 (past), then 2 (now) */
    assert_int_equal(fired_ids[2], 0);
    assert_int_equal(fired_ids[3], 2);
    assert_int_equal(tw_next_deadline(&w), BASE + 4000);
    assert_int_equal(tw_advance(&w, BASE + 4000), 1);
    assert_int_equal(fired_ids[4], 3);
    assert_int_equal(w.n_armed, 0);
    assert_int_equal(tw_next_deadline(&w), SN_TIME_NEVER);
}

/* Cancelling the last entry of a slot clears its bit, in either level; the
 * overflow list has no bit, and leaves overflow_min a (stale) lower bound. */
static void cancel_last_in_slot_clears_bit(void **state)
{
    (void)state;
    static struct timer_wheel w;
    struct rec_entry r[6];
    tw_init(&w, BASE);
    rec_init(r, 6, record_fn);
    int64_t t0 = w.cur_tick;
    int64_t far_rot = first_l1(&w) + 40;

    tw_arm(&w, &r[0].e, BASE + 5001); /* two in slot t0 + 5 */
    tw_arm(&w, &r[1].e, BASE + 5002);
    tw_arm(&w, &r[2].e, BASE + 9000); /* one in slot t0 + 9 */
    tw_arm(&w, &r[3].e, rot_start(far_rot) + 7); /* two in level-1 slot far_rot */
    tw_arm(&w, &r[4].e, rot_start(far_rot) + 5);
    tw_arm(&w, &r[5].e, BASE + SN_SEC(5000)); /* the overflow list */
    assert_true(l0_bit(&w, t0 + 5));
    assert_true(l0_bit(&w, t0 + 9));
    assert_true(l1_bit(&w, far_rot));
    assert_int_equal(w.overflow_min, BASE + SN_SEC(5000));
    assert_layout(&w);

    tw_cancel(&w, &r[0].e); /* not the last: the bit stays */
    assert_true(l0_bit(&w, t0 + 5));
    assert_int_equal(tw_next_deadline(&w), BASE + 5002);
    tw_cancel(&w, &r[1].e); /* the last: the bit goes */
    assert_false(l0_bit(&w, t0 + 5));
    assert_int_equal(tw_next_deadline(&w), BASE + 9000);
    assert_layout(&w);

    tw_cancel(&w, &r[4].e);
    assert_true(l1_bit(&w, far_rot));
    tw_cancel(&w, &r[3].e);
    assert_false(l1_bit(&w, far_rot));
    tw_cancel(&w, &r[5].e);
    assert_int_equal(w.overflow_min, BASE + SN_SEC(5000));
    assert_layout(&w);

    tw_arm(&w, &r[2].e, BASE + 7000); /* re-arming empties its old slot */
    assert_false(l0_bit(&w, t0 + 9));
    assert_true(l0_bit(&w, t0 + 7));
    assert_int_equal(tw_advance(&w, BASE + 7000), 1); /* so does firing */
    assert_true(bitmaps_empty(&w));
    assert_int_equal(tw_next_deadline(&w), SN_TIME_NEVER);
    assert_layout(&w);
}

/* The level-0 search starts 4 slots before the end of the slot array and
 * must wrap through slot TW_L0_SLOTS - 1 to slot 0. */
static void wraps_from_last_slot_to_0(void **state)
{
    (void)state;
    static struct timer_wheel w;
    struct rec_entry r[4];
    sn_time wrap = (BASE / (2 * ROTATION) + 1) * (2 * ROTATION); /* tick % TW_L0_SLOTS == 0 */
    sn_time start = wrap - 4 * TW_TICK_US;
    tw_init(&w, start);
    rec_init(r, 4, record_fn);
    assert_int_equal(w.cur_tick & (TW_L0_SLOTS - 1), TW_L0_SLOTS - 4);

    tw_arm(&w, &r[0].e, wrap + 10);         /* slot 0 */
    tw_arm(&w, &r[1].e, wrap + TW_TICK_US); /* slot 1 */
    assert_int_equal(tw_next_deadline(&w), wrap + 10);
    tw_arm(&w, &r[2].e, wrap - 1); /* the last slot */
    assert_int_equal(tw_next_deadline(&w), wrap - 1);
    /* The last tick of level 0, in the middle of the slot array. */
    sn_time last = l0_end(&w) - 1;
    tw_arm(&w, &r[3].e, last);
    assert_int_equal(where_is(&w, &r[3].e), IN_L0);
    assert_true(l0_bit(&w, last / TW_TICK_US));
    assert_layout(&w);

    assert_int_equal(tw_advance(&w, wrap - 1), 1);
    assert_false(l0_bit(&w, TW_L0_SLOTS - 1));
    assert_int_equal(tw_next_deadline(&w), wrap + 10);
    assert_int_equal(tw_advance(&w, wrap + 10), 1);
    assert_false(l0_bit(&w, 0));
    assert_int_equal(tw_advance(&w, wrap + TW_TICK_US), 1);
    assert_false(l0_bit(&w, 1));
    assert_int_equal(tw_next_deadline(&w), last);
    assert_int_equal(tw_advance(&w, last), 1);
    assert_true(bitmaps_empty(&w));
    int want[] = {2, 0, 1, 3};
    for (int i = 0; i < 4; i++)
        assert_int_equal(fired_ids[i], want[i]);
}

/* From every tick of two rotations (every level-0 start slot), entries at
 * word edges, at the end of level 0 and one tick past it are answered
 * exactly, or by the start of their level-1 rotation; an entry in the same
 * level-0 slot one level-0 span later waits in level 1 and neither hides an
 * earlier entry nor is taken for one. */
static void next_deadline_from_every_slot(void **state)
{
    (void)state;
    static const int64_t dist[] = {0,    1,    62,   63,   64,   65,   127,  128, 500,
                                   960,  1022, 1023, 1024, 1025, 1500, 2046, 2047, 2048};
    static struct timer_wheel w;
    struct rec_entry r[3];
    for (int64_t s = 0; s < TW_L0_SLOTS; s++) {
        for (size_t i = 0; i < sizeof(dist) / sizeof(dist[0]); i++) {
            tw_init(&w, BASE + s * TW_TICK_US + 123);
            rec_init(r, 3, record_fn);
            sn_time end = l0_end(&w);
            sn_time near = (w.cur_tick + dist[i]) * TW_TICK_US + 999;
            sn_time alias = near + (sn_time)TW_L0_SLOTS * TW_TICK_US;
            sn_time want_near = near < end ? near : rot_start(rot_of(near));

            tw_arm(&w, &r[1].e, alias); /* same level-0 slot, one span later */
            assert_int_equal(where_is(&w, &r[1].e), IN_L1);
            assert_int_equal(tw_next_deadline(&w), rot_start(rot_of(alias)));
            tw_arm(&w, &r[2].e, end - 1); /* the last tick of level 0 */
            assert_int_equal(tw_next_deadline(&w), end - 1);
            tw_arm(&w, &r[0].e, near);
            assert_int_equal(tw_next_deadline(&w), want_near < end - 1 ? want_near : end - 1);
            if (near < (w.cur_tick + TW_ROTATION) * TW_TICK_US)
                assert_int_equal(tw_next_deadline(&w), near); /* exact within a rotation */
            assert_int_equal(tw_next_deadline(&w), ref_next_deadline(&w));
            assert_layout(&w);

            tw_cancel(&w, &r[2].e);
            assert_int_equal(tw_next_deadline(&w), want_near);
            tw_cancel(&w, &r[0].e);
            assert_int_equal(tw_next_deadline(&w), rot_start(rot_of(alias)));
            tw_cancel(&w, &r[1].e);
            assert_true(bitmaps_empty(&w));
            assert_int_equal(tw_next_deadline(&w), SN_TIME_NEVER);
        }
    }
}

/* After a long idle one tw_advance crosses several rotations: every entry
 * due fires once, in (deadline, arm order), the slots it empties lose their
 * bits, and slots still holding later entries keep theirs. */
static void long_idle_jump(void **state)
{
    (void)state;
    enum { N = 60 };
    static struct timer_wheel w;
    struct rec_entry r[N];
    sn_time deadline[N];
    tw_init(&w, BASE);
    rec_init(r, N, record_fn);
    for (int i = 0; i < N; i++) {
        /* Scattered over ~3 rotations, ties (i, i + 20 and i + 40 collide),
         * and the last third pushed out by up to 3 hours. */
        deadline[i] = BASE + ((i % 20) * 7919 % 3000) * 997;
        if (i >= 40)
            deadline[i] += (i % 5) * SN_SEC(2700);
        tw_arm(&w, &r[i].e, deadline[i]);
    }
    assert_layout(&w);

    sn_time jumps[] = {BASE + SN_SEC(2), BASE + SN_SEC(3600), BASE + SN_SEC(20000)};
    int done = 0;
    for (int j = 0; j < 3; j++) {
        /* Expected: by deadline, ties by arm order (= id), never refired. */
        sn_time from = j ? jumps[j - 1] : 0;
        int want[N], n_want = 0;
        for (sn_time d = 0;;) {
            sn_time next = SN_TIME_NEVER;
            for (int i = 0; i < N; i++)
                if (deadline[i] >= d && deadline[i] < next)
                    next = deadline[i];
            if (next == SN_TIME_NEVER || next > jumps[j])
                break;
            for (int i = 0; i < N; i++)
                if (deadline[i] == next && deadline[i] > from)
                    want[n_want++] = i;
            d = next + 1;
        }
        assert_int_equal(tw_advance(&w, jumps[j]), n_want);
        for (int k = 0; k < n_want; k++)
            assert_int_equal(fired_ids[done + k], want[k]);
        done += n_want;
        assert_layout(&w);
        assert_int_equal(tw_next_deadline(&w), ref_next_deadline(&w));
    }
    assert_int_equal(done, N);
    assert_true(bitmaps_empty(&w));
}

/* A wheel that starts at time zero (the simulator's virtual clock). */
static void starts_at_zero(void **state)
{
    (void)state;
    static struct timer_wheel w;
    struct rec_entry r[2];
    tw_init(&w, 0);
    rec_init(r, 2, record_fn);
    tw_arm(&w, &r[0].e, 0);
    tw_arm(&w, &r[1].e, ROTATION);
    assert_int_equal(tw_next_deadline(&w), 0);
    assert_int_equal(tw_advance(&w, 0), 1);
    assert_int_equal(tw_next_deadline(&w), ROTATION);
    assert_int_equal(tw_advance(&w, ROTATION - 1), 0);
    assert_int_equal(tw_advance(&w, ROTATION), 1);
    assert_int_equal(fired_ids[1], 1);
}

/* ---------------------------------------------------------------------
 * Cascade boundaries */

/* Wakes at tw_next_deadline() until @w is empty, checking that each wake
 * fires something or moves the answer later; returns the number of wakes. */
static int drain(struct timer_wheel *w, int max_wakes)
{
    int wakes = 0;
    sn_time prev = 0;
    while (w->n_armed) {
        sn_time next = tw_next_deadline(w);
        assert_true(next != SN_TIME_NEVER);
        assert_int_equal(next, ref_next_deadline(w));
        uint32_t n = tw_advance(w, next);
        assert_true(n > 0 || tw_next_deadline(w) > next);
        assert_true(next >= prev);
        prev = next;
        assert_layout(w);
        assert_true(++wakes <= max_wakes);
    }
    return wakes;
}

/* A deadline exactly at the start of the first level-1 rotation waits in
 * level 1, one microsecond earlier in level 0; both are answered exactly,
 * and the level-1 one moves down when the wheel enters the rotation before
 * its own. */
static void cascade_at_rotation_start(void **state)
{
    (void)state;
    static struct timer_wheel w;
    struct rec_entry r[4];
    /* From the first, a middle and the last tick of a rotation. */
    int64_t offsets[] = {0, 517, TW_ROTATION - 1};
    for (size_t k = 0; k < 3; k++) {
        sn_time start = rot_start(rot_of(BASE) + 1) + offsets[k] * TW_TICK_US + 999;
        tw_init(&w, start);
        rec_init(r, 4, record_fn);
        sn_time edge = l0_end(&w);
        tw_arm(&w, &r[0].e, edge);
        tw_arm(&w, &r[1].e, edge - 1);
        tw_arm(&w, &r[2].e, edge + ROTATION); /* the next level-1 rotation */
        tw_arm(&w, &r[3].e, edge);            /* a tie with r[0], armed later */
        assert_int_equal(where_is(&w, &r[0].e), IN_L1);
        assert_int_equal(where_is(&w, &r[1].e), IN_L0);
        assert_int_equal(where_is(&w, &r[2].e), IN_L1);
        assert_int_equal(tw_next_deadline(&w), edge - 1);

        /* The last microsecond of the current rotation: nothing moves yet. */
        sn_time before = edge - ROTATION - 1;
        assert_int_equal(tw_advance(&w, before), 0);
        assert_int_equal(where_is(&w, &r[0].e), IN_L1);
        /* The first microsecond of the next: edge's rotation moves down. */
        assert_int_equal(tw_advance(&w, before + 1), 0);
        assert_int_equal(where_is(&w, &r[0].e), IN_L0);
        assert_int_equal(where_is(&w, &r[2].e), IN_L1);
        assert_layout(&w);
        assert_int_equal(tw_next_deadline(&w), edge - 1);
        assert_int_equal(tw_advance(&w, edge - 1), 1);
        assert_int_equal(tw_next_deadline(&w), edge);
        assert_int_equal(tw_advance(&w, edge), 2);
        assert_int_equal(fired_ids[1], 0);
        assert_int_equal(fired_ids[2], 3);
        /* r[2] moved down on the way; it fires at its deadline exactly. */
        assert_int_equal(where_is(&w, &r[2].e), IN_L0);
        assert_int_equal(tw_next_deadline(&w), edge + ROTATION);
        assert_int_equal(tw_advance(&w, edge + ROTATION), 1);
        assert_int_equal(fired_at[3], edge + ROTATION);
        assert_true(bitmaps_empty(&w));
    }
}

/* An entry first waiting in the overflow list, one in level 1 and one in
 * level 0, all due at the same microsecond, fire in arm order; wherever each
 * waited, the wake loop lands on the deadline exactly. */
static void ties_across_levels_keep_arm_order(void **state)
{
    (void)state;
    static struct timer_wheel w;
    struct rec_entry r[6];
    tw_init(&w, BASE);
    rec_init(r, 6, record_fn);
    sn_time d = BASE + SN_SEC(7200) + 321;
    sn_time now = BASE;

    tw_arm(&w, &r[0].e, d); /* two hours ahead: the overflow list */
    assert_int_equal(where_is(&w, &r[0].e), IN_OVERFLOW);
    tw_arm(&w, &r[5].e, d + 1); /* a microsecond later, armed first */
    now = d - SN_SEC(600);
    assert_int_equal(tw_advance(&w, now), 0);
    assert_int_equal(where_is(&w, &r[0].e), IN_L1); /* looked through */
    tw_arm(&w, &r[1].e, d);                         /* level 1 */
    assert_int_equal(where_is(&w, &r[1].e), IN_L1);
    now = d - SN_MSEC(300);
    assert_int_equal(tw_advance(&w, now), 0);
    tw_arm(&w, &r[2].e, d); /* level 0 */
    assert_int_equal(where_is(&w, &r[0].e), IN_L0);
    assert_int_equal(where_is(&w, &r[2].e), IN_L0);
    tw_arm(&w, &r[3].e, d - 1);
    tw_arm(&w, &r[4].e, d - 2);
    tw_arm(&w, &r[4].e, d); /* re-armed: its arm order is the later one */
    assert_layout(&w);
    drain(&w, 10);
    int want[] = {3, 0, 1, 2, 4, 5};
    assert_int_equal(n_fired, 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(fired_ids[i], want[i]);
    assert_int_equal(fired_at[0], d - 1);
    assert_int_equal(fired_at[1], d);
    assert_int_equal(fired_at[5], d + 1);
}

/* The last rotation level 1 holds and the first one beyond it; the overflow
 * list is looked through exactly when the first level-1 rotation reaches a
 * multiple of TW_L1_SLOTS; level-1 slots wrap from TW_L1_SLOTS - 1 to 0. */
static void level1_end_and_overflow_look_through(void **state)
{
    (void)state;
    static struct timer_wheel w;
    struct rec_entry r[6];
    /* The first level-1 rotation is one short of a multiple of TW_L1_SLOTS. */
    int64_t m = (rot_of(BASE) / TW_L1_SLOTS + 2) * TW_L1_SLOTS;
    sn_time start = rot_start(m - 3) + 77;
    tw_init(&w, start);
    rec_init(r, 6, record_fn);
    assert_int_equal(first_l1(&w), m - 1);

    sn_time last_l1 = rot_start(m - 1 + TW_L1_SLOTS) - 1; /* rotation m - 2 + TW_L1_SLOTS */
    sn_time first_ov = rot_start(m - 1 + TW_L1_SLOTS);
    tw_arm(&w, &r[0].e, last_l1);
    tw_arm(&w, &r[1].e, first_ov);
    tw_arm(&w, &r[2].e, first_ov + L1_SPAN); /* stays in the overflow list */
    tw_arm(&w, &r[3].e, rot_start(m + 1) + 5); /* level-1 slot 1, past the wrap */
    tw_arm(&w, &r[4].e, rot_start(m - 1) + 5); /* level-1 slot TW_L1_SLOTS - 1 */
    assert_int_equal(where_is(&w, &r[0].e), IN_L1);
    assert_int_equal(where_is(&w, &r[1].e), IN_OVERFLOW);
    assert_int_equal(where_is(&w, &r[2].e), IN_OVERFLOW);
    assert_true(l1_bit(&w, TW_L1_SLOTS - 1));
    assert_true(l1_bit(&w, 1));
    assert_int_equal(w.overflow_min, first_ov);
    assert_layout(&w);
    assert_int_equal(tw_next_deadline(&w), rot_start(m - 1));
    assert_int_equal(tw_next_deadline(&w), ref_next_deadline(&w));

    /* Entering rotation m - 2: the first level-1 rotation becomes m, and
     * the overflow list is looked through. */
    assert_int_equal(tw_advance(&w, rot_start(m - 2)), 0);
    assert_int_equal(first_l1(&w), m);
    assert_int_equal(where_is(&w, &r[4].e), IN_L0);
    assert_int_equal(where_is(&w, &r[1].e), IN_L1);
    assert_int_equal(where_is(&w, &r[2].e), IN_OVERFLOW);
    assert_int_equal(w.overflow_min, first_ov + L1_SPAN);
    assert_layout(&w);
    assert_int_equal(tw_next_deadline(&w), rot_start(m - 1) + 5);

    /* With only the overflow list left, the answer is its look-through or
     * overflow_min, whichever is later, and waking then fires it. */
    tw_cancel(&w, &r[0].e);
    tw_cancel(&w, &r[1].e);
    tw_cancel(&w, &r[3].e);
    tw_cancel(&w, &r[4].e);
    assert_int_equal(tw_next_deadline(&w), first_ov + L1_SPAN);
    assert_int_equal(drain(&w, 1), 1);
    assert_int_equal(fired_at[0], first_ov + L1_SPAN);

    /* A cancelled overflow_min only makes the answer early: the wake looks
     * through the list and the answer moves on. */
    tw_init(&w, start);
    rec_init(r, 6, record_fn);
    tw_arm(&w, &r[0].e, first_ov + 3 * L1_SPAN);
    tw_arm(&w, &r[1].e, first_ov);
    tw_cancel(&w, &r[1].e);
    assert_int_equal(tw_next_deadline(&w), first_ov);
    assert_int_equal(tw_advance(&w, first_ov), 0);
    assert_int_equal(tw_next_deadline(&w), first_ov + 3 * L1_SPAN);
    assert_int_equal(drain(&w, 1), 1);

    /* The look-through happens on entering rotation look - 2, not before;
     * what it moves to level 1 is answered by its rotation's start, then
     * exactly. */
    tw_init(&w, start);
    rec_init(r, 6, record_fn);
    assert_int_equal(tw_advance(&w, rot_start(m - 2)), 0);
    sn_time d = rot_start(m + TW_L1_SLOTS + 4) + 9;
    tw_arm(&w, &r[0].e, d);
    assert_int_equal(where_is(&w, &r[0].e), IN_OVERFLOW);
    sn_time look = rot_start(m + TW_L1_SLOTS - 2);
    assert_int_equal(tw_advance(&w, look - 1), 0);
    assert_int_equal(where_is(&w, &r[0].e), IN_OVERFLOW);
    assert_int_equal(tw_advance(&w, look), 0);
    assert_int_equal(where_is(&w, &r[0].e), IN_L1);
    assert_int_equal(tw_next_deadline(&w), rot_start(m + TW_L1_SLOTS + 4));
    assert_int_equal(drain(&w, 2), 2);
    assert_int_equal(fired_at[0], d);
}

/* From every level-1 start slot, the first non-empty level-1 rotation is
 * found, including the one just before the start slot, which the search
 * only reaches when it comes round to the start word again. */
static void level1_search_from_every_slot(void **state)
{
    (void)state;
    static const int64_t dist[] = {0, 1, 62, 63, 64, 65, 500, 1022, 1023};
    static struct timer_wheel w;
    struct rec_entry r[2];
    int64_t base_rot = (rot_of(BASE) / TW_L1_SLOTS + 1) * TW_L1_SLOTS;
    for (int64_t s = 0; s < TW_L1_SLOTS; s++) {
        for (size_t i = 0; i < sizeof(dist) / sizeof(dist[0]); i++) {
            tw_init(&w, rot_start(base_rot + s - 2) + 4321);
            rec_init(r, 2, record_fn);
            assert_int_equal(first_l1(&w) & (TW_L1_SLOTS - 1), s);
            int64_t rot = first_l1(&w) + dist[i];
            tw_arm(&w, &r[0].e, rot_start(rot) + 55);
            assert_true(l1_bit(&w, rot));
            assert_int_equal(tw_next_deadline(&w), rot_start(rot));
            if (dist[i] > 0) {
                tw_arm(&w, &r[1].e, rot_start(rot - 1) + 66);
                assert_int_equal(tw_next_deadline(&w), rot_start(rot - 1));
            }
            assert_int_equal(tw_next_deadline(&w), ref_next_deadline(&w));
        }
    }
}

/* 100k entries 60 s ahead (a server's TIME-WAIT timers) wait in level 1;
 * level 0 holds only the near timers, tw_next_deadline stays exact for
 * them, and the far ones move down a rotation at a time and fire in order. */
enum { N_FAR = 100000, N_NEAR = 5 };
static struct rec_entry far_ent[N_FAR];
static struct rec_entry near_ent[N_NEAR];
static sn_time near_deadline[N_NEAR];
static int64_t far_fired, far_last_id;
static sn_time far_last_at;
static struct timer_wheel *far_wheel;

static void far_fn(struct tw_entry *e, sn_time now)
{
    int id = rec_of(e)->id;
    assert_true(id > far_last_id); /* armed in id order, deadlines rising */
    assert_int_equal(e->deadline, now);
    assert_true(now >= far_last_at);
    far_last_id = id;
    far_last_at = now;
    far_fired++;
}

static void near_fn(struct tw_entry *e, sn_time now)
{
    int id = rec_of(e)->id;
    assert_int_equal(near_deadline[id], now);
    near_deadline[id] = now + 1 + (sn_time)((id * 7919 + now) % SN_MSEC(250));
    tw_arm(far_wheel, e, near_deadline[id]);
}

static sn_time near_min(void)
{
    sn_time best = SN_TIME_NEVER;
    for (int i = 0; i < N_NEAR; i++)
        if (near_deadline[i] < best)
            best = near_deadline[i];
    return best;
}

static void far_entries_cost_nothing(void **state)
{
    (void)state;
    static struct timer_wheel w;
    far_wheel = &w;
    far_fired = 0;
    far_last_id = -1;
    far_last_at = 0;
    tw_init(&w, BASE);
    for (int i = 0; i < N_NEAR; i++) {
        tw_entry_init(&near_ent[i].e, near_fn);
        near_ent[i].id = i;
        near_deadline[i] = BASE + SN_MSEC(3) + i * 777;
        tw_arm(&w, &near_ent[i].e, near_deadline[i]);
    }
    /* Ten seconds of arrivals, ten per millisecond, each armed 60 s ahead,
     * the clock stepping a millisecond at a time and waking in between at
     * every near deadline. */
    sn_time now = BASE;
    int armed = 0;
    while (armed < N_FAR) {
        for (int k = 0; k < 10 && armed < N_FAR; k++, armed++) {
            tw_entry_init(&far_ent[armed].e, far_fn);
            far_ent[armed].id = armed;
            tw_arm(&w, &far_ent[armed].e, now + SN_SEC(60) + k);
        }
        assert_int_equal(tw_next_deadline(&w), near_min());
        sn_time step = now + SN_MSEC(1);
        while (near_min() <= step) {
            now = near_min();
            assert_true(tw_advance(&w, now) >= 1);
            assert_int_equal(tw_next_deadline(&w), near_min());
        }
        now = step;
        tw_advance(&w, now);
        if (armed % 10000 == 0)
            assert_int_equal(l0_population(&w), N_NEAR);
    }
    assert_int_equal(far_fired, 0);
    assert_int_equal(w.n_armed, N_FAR + N_NEAR);
    assert_layout(&w);

    /* Sleep until 60 s: only the near timers fire, exactly on time. */
    int wakes = 0;
    while (near_min() < BASE + SN_SEC(60)) {
        sn_time next = tw_next_deadline(&w);
        assert_int_equal(next, near_min());
        now = next;
        assert_true(tw_advance(&w, now) >= 1);
        wakes++;
    }
    assert_int_equal(far_fired, 0);
    /* Now the far ones: every wake fires at least one (a near one or far
     * ones), in deadline order. */
    for (int i = 0; i < N_NEAR; i++)
        tw_cancel(&w, &near_ent[i].e);
    while (w.n_armed) {
        sn_time next = tw_next_deadline(&w);
        assert_true(next >= now);
        now = next;
        if (tw_advance(&w, now) == 0)
            assert_true(tw_next_deadline(&w) > now);
        wakes++;
    }
    /* A wake per distinct deadline, plus a few per rotation at most. */
    assert_int_equal(far_fired, N_FAR);
    assert_true(wakes <= N_FAR + 5000);
    assert_true(bitmaps_empty(&w));
}

/* ---------------------------------------------------------------------
 * Random lockstep against the reference model */

#define N_ENT 48
#define MAX_DUE N_ENT

struct model_entry {
    bool armed;
    sn_time deadline;
    uint64_t seq; /* arm order */
};

struct due_item {
    int id;
    sn_time deadline;
    uint64_t seq;
};

static struct {
    struct timer_wheel w;
    struct rec_entry ent[N_ENT];
    struct model_entry m[N_ENT];
    uint64_t seq;
    uint64_t rng;
    unsigned seed;
    int step;
    sn_time clock;      /* latest time the wheel was advanced to */
    /* the advance in progress */
    struct due_item due[MAX_DUE];
    int n_due, cursor;
    sn_time adv_now;
    uint64_t fired;     /* total fired, according to the model */
    uint64_t fired_cb;  /* fired with a callback action */
    uint64_t past_arms, l1_arms, overflow_arms, edge_arms, progress_checks;
    uint64_t fired_from_l1, fired_from_overflow;
} L;

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (!(cond))                                                                          \
            fail_msg("seed %u step %d: %s (%s:%d)", L.seed, L.step, #cond, __FILE__,         \
                     __LINE__);                                                               \
    } while (0)

static uint32_t rnd(void)
{
    /* splitmix64: good enough, and identical on every platform. */
    uint64_t z = (L.rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static sn_time rnd_range(sn_time lo, sn_time hi) /* inclusive */
{
    uint64_t span = (uint64_t)(hi - lo) + 1;
    uint64_t r = ((uint64_t)rnd() << 32) | rnd();
    return lo + (sn_time)(r % span);
}

/* A deadline relative to @now, covering every case the wheel must handle:
 * each level, the borders between them, and the past. */
static sn_time gen_deadline(sn_time now)
{
    unsigned k = rnd() % 100;
    if (k < 16)
        return now + rnd_range(0, 3000); /* a few ticks */
    if (k < 28)
        return now + rnd_range(0, 2 * ROTATION + 100000); /* about level 0 */
    if (k < 34) {
        L.l1_arms++;
        return now + rnd_range(ROTATION, 30 * ROTATION); /* a few rotations */
    }
    if (k < 38) {
        L.l1_arms++;
        return now + SN_SEC(60) + rnd_range(-3000, 3000); /* TIME-WAIT */
    }
    if (k < 41) {
        L.l1_arms++;
        return now + rnd_range(SN_SEC(100), L1_SPAN + 2 * ROTATION);
    }
    if (k < 44) {
        L.overflow_arms++;
        return now + rnd_range(L1_SPAN, SN_SEC(4 * 3600)); /* keepalive */
    }
    if (k < 50) {
        /* On a border: the start of a rotation just ahead, or of the first
         * overflow rotation, or a microsecond either side. */
        L.edge_arms++;
        int64_t f = first_l1(&L.w);
        int64_t rot = rnd() % 4 ? f - 1 + (int64_t)(rnd() % 4) : f + TW_L1_SLOTS;
        return rot_start(rot) + rnd_range(-1, 1);
    }
    if (k < 60) {
        L.past_arms++;
        return now - rnd_range(1, 5000); /* just missed */
    }
    if (k < 63) {
        L.past_arms++;
        return now - rnd_range(0, SN_SEC(20)); /* long overdue */
    }
    if (k < 70)
        return now;
    if (k < 75)
        return (now / TW_TICK_US + 1) * TW_TICK_US; /* a tick boundary */
    /* A tie with an armed entry, to exercise arm order. */
    int id = (int)(rnd() % N_ENT);
    if (L.m[id].armed)
        return L.m[id].deadline;
    return now + rnd_range(0, 2000);
}

static void do_arm(int id, sn_time deadline)
{
    tw_arm(&L.w, &L.ent[id].e, deadline);
    L.m[id].armed = true;
    L.m[id].deadline = deadline;
    L.m[id].seq = L.seq++;
}

static void do_cancel(int id)
{
    tw_cancel(&L.w, &L.ent[id].e);
    L.m[id].armed = false;
}

static bool due_still_valid(const struct due_item *d)
{
    return L.m[d->id].armed && L.m[d->id].seq == d->seq;
}

static void check_layout(void)
{
    const char *err = layout_error(&L.w);
    if (err)
        fail_msg("seed %u step %d: %s", L.seed, L.step, err);
}

static void model_fn(struct tw_entry *e, sn_time now)
{
    int id = rec_of(e)->id;
    CHECK(now == L.adv_now);
    CHECK(!tw_armed(e));
    while (L.cursor < L.n_due && !due_still_valid(&L.due[L.cursor]))
        L.cursor++;
    CHECK(L.cursor < L.n_due);           /* the model expected nothing more */
    CHECK(L.due[L.cursor].id == id);     /* wrong entry, or wrong order */
    L.m[id].armed = false;
    L.cursor++;
    L.fired++;

    /* Meddle: re-arm self, cancel or arm another (maybe one due right now). */
    int actions = (int)(rnd() % 3);
    if (actions)
        L.fired_cb++;
    for (int a = 0; a < actions; a++) {
        unsigned k = rnd() % 3;
        int other = (int)(rnd() % N_ENT);
        if (k == 0)
            do_arm(id, gen_deadline(now));
        else if (k == 1)
            do_cancel(other);
        else
            do_arm(other, gen_deadline(now));
    }
    /* Mid-advance, with entries still waiting in the due list. */
    check_layout();
    CHECK(tw_next_deadline(&L.w) == ref_next_deadline(&L.w));
}

static int due_cmp(const void *a, const void *b)
{
    const struct due_item *x = a, *y = b;
    if (x->deadline != y->deadline)
        return x->deadline < y->deadline ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static uint32_t do_advance(sn_time now)
{
    L.n_due = 0;
    for (int i = 0; i < N_ENT; i++)
        if (L.m[i].armed && L.m[i].deadline <= now) {
            L.due[L.n_due++] = (struct due_item){i, L.m[i].deadline, L.m[i].seq};
            /* Where did it wait? (A cheap look: level 0 is most common.) */
            const struct tw_entry *e = &L.ent[i].e;
            if (rnd() % 8 == 0) {
                enum where wh = where_is(&L.w, e);
                L.fired_from_l1 += wh == IN_L1;
                L.fired_from_overflow += wh == IN_OVERFLOW;
            }
        }
    qsort(L.due, (size_t)L.n_due, sizeof(L.due[0]), due_cmp);
    L.cursor = 0;
    L.adv_now = now;
    uint64_t before = L.fired;

    uint32_t n = tw_advance(&L.w, now);

    while (L.cursor < L.n_due && !due_still_valid(&L.due[L.cursor]))
        L.cursor++;
    CHECK(L.cursor == L.n_due); /* every expected entry fired */
    CHECK(n == L.fired - before);
    if (now > L.clock)
        L.clock = now;
    return n;
}

static sn_time model_earliest(void)
{
    sn_time best = SN_TIME_NEVER;
    for (int i = 0; i < N_ENT; i++)
        if (L.m[i].armed && L.m[i].deadline < best)
            best = L.m[i].deadline;
    return best;
}

static void check_consistent(void)
{
    uint32_t n = 0;
    for (int i = 0; i < N_ENT; i++) {
        CHECK(tw_armed(&L.ent[i].e) == L.m[i].armed);
        n += L.m[i].armed;
    }
    CHECK(L.w.n_armed == n);
    check_layout();

    sn_time earliest = model_earliest();
    sn_time next = tw_next_deadline(&L.w);
    CHECK(next == ref_next_deadline(&L.w));
    if (earliest == SN_TIME_NEVER) {
        CHECK(next == SN_TIME_NEVER);
        return;
    }
    CHECK(next <= earliest); /* never later than the true earliest deadline */
    if (earliest < (L.w.cur_tick + TW_ROTATION) * TW_TICK_US)
        CHECK(next == earliest); /* exact within one rotation */
    if (earliest < l0_end(&L.w))
        CHECK(next == earliest); /* and within level 0 */
}

/* Advancing to tw_next_deadline() fires something, or moves the next
 * deadline strictly later: a loop that sleeps until it cannot spin. */
static void advance_to_next_deadline(void)
{
    sn_time next = tw_next_deadline(&L.w);
    if (next == SN_TIME_NEVER)
        return;
    L.progress_checks++;
    uint32_t n = do_advance(next);
    if (n == 0) {
        sn_time again = tw_next_deadline(&L.w);
        CHECK(again > next);
    }
}

static void run_seed(unsigned seed, int steps)
{
    memset(&L, 0, sizeof(L));
    L.seed = seed;
    L.rng = seed;
    /* Some seeds start just before a level-1 multiple, so the overflow
     * list is looked through early. */
    L.clock = BASE;
    if (seed % 4 == 0)
        L.clock = rot_start((rot_of(BASE) / TW_L1_SLOTS + 1) * TW_L1_SLOTS - 2 -
                            (int64_t)(seed % 7)) + 333;
    tw_init(&L.w, L.clock);
    for (int i = 0; i < N_ENT; i++) {
        tw_entry_init(&L.ent[i].e, model_fn);
        L.ent[i].id = i;
    }

    for (L.step = 0; L.step < steps; L.step++) {
        unsigned k = rnd() % 100;
        int id = (int)(rnd() % N_ENT);
        if (k < 40)
            do_arm(id, gen_deadline(L.clock));
        else if (k < 52)
            do_cancel(id);
        else if (k < 70)
            do_advance(L.clock + rnd_range(0, 2500));
        else if (k < 74)
            do_advance(L.clock); /* again at the same time */
        else if (k < 88)
            advance_to_next_deadline();
        else if (k < 92)
            do_advance(L.clock + rnd_range(0, 2 * ROTATION + ROTATION / 2));
        else if (k < 95)
            do_advance(rot_start(first_l1(&L.w) - 1 + (int64_t)(rnd() % 3)) +
                       rnd_range(-1, 0)); /* onto a rotation border */
        else if (k < 99)
            do_advance(L.clock + rnd_range(ROTATION, SN_SEC(90)));
        else
            do_advance(L.clock + rnd_range(SN_SEC(90), SN_SEC(5 * 3600))); /* a long idle */
        check_consistent();
    }

    /* Drain: everything still armed fires, at its deadline, in order. */
    L.step = -1;
    for (int guard = 0; L.w.n_armed > 0; guard++) {
        CHECK(guard < 100000);
        /* Callbacks keep arming; stop them from doing so forever. */
        if (guard > 20000)
            for (int i = 0; i < N_ENT; i++)
                do_cancel(i);
        advance_to_next_deadline();
        check_consistent();
    }
}

static void random_vs_model(void **state)
{
    (void)state;
    uint64_t fired = 0, cb = 0, past = 0, l1 = 0, ovf = 0, edge = 0, progress = 0;
    uint64_t from_l1 = 0, from_ovf = 0;
    for (unsigned seed = 1; seed <= 40; seed++) {
        run_seed(seed, 5000);
        fired += L.fired;
        cb += L.fired_cb;
        past += L.past_arms;
        l1 += L.l1_arms;
        ovf += L.overflow_arms;
        edge += L.edge_arms;
        progress += L.progress_checks;
        from_l1 += L.fired_from_l1;
        from_ovf += L.fired_from_overflow;
    }
    /* The random mix really exercised what it claims to. */
    print_message("fired %llu (%llu meddling), arms: %llu past, %llu level 1, %llu overflow, "
                  "%llu on borders; fired straight from level 1 %llu, overflow %llu (of 1/8 "
                  "sampled); %llu advance-to-next checks\n",
                  (unsigned long long)fired, (unsigned long long)cb, (unsigned long long)past,
                  (unsigned long long)l1, (unsigned long long)ovf, (unsigned long long)edge,
                  (unsigned long long)from_l1, (unsigned long long)from_ovf,
                  (unsigned long long)progress);
    assert_true(fired > 10000);
    assert_true(cb > 1000);
    assert_true(past > 1000);
    assert_true(l1 > 1000);
    assert_true(ovf > 1000);
    assert_true(edge > 1000);
    assert_true(from_l1 > 10);
    assert_true(from_ovf > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_wheel),
        cmocka_unit_test(fires_in_deadline_then_arm_order),
        cmocka_unit_test(past_deadline_fires_next_advance),
        cmocka_unit_test(advance_to_past_next_deadline_progresses),
        cmocka_unit_test(far_beyond_one_rotation),
        cmocka_unit_test(cancel_and_rearm_from_callback),
        cmocka_unit_test(starts_at_zero),
        cmocka_unit_test(cancel_last_in_slot_clears_bit),
        cmocka_unit_test(wraps_from_last_slot_to_0),
        cmocka_unit_test(next_deadline_from_every_slot),
        cmocka_unit_test(long_idle_jump),
        cmocka_unit_test(cascade_at_rotation_start),
        cmocka_unit_test(ties_across_levels_keep_arm_order),
        cmocka_unit_test(level1_end_and_overflow_look_through),
        cmocka_unit_test(level1_search_from_every_slot),
        cmocka_unit_test(far_entries_cost_nothing),
        cmocka_unit_test(random_vs_model),
    };
    return cmocka_run_group_tests_name("core/timer_wheel", tests, NULL, NULL);
}
