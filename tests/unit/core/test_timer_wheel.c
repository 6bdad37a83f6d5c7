/* tests/unit/core/test_timer_wheel.c: the hashed timer wheel
 * (core/timer_wheel.c), first with directed cases, then in lockstep with a
 * naive reference model under thousands of random arm/cancel/advance steps.
 *
 * The model is a flat array: an entry is armed with a deadline and an arm
 * sequence number; tw_advance(now) must fire exactly the entries that were
 * armed with deadline <= now when it was called, in (deadline, arm order),
 * skipping those that a callback cancelled or re-armed first. Callbacks
 * themselves arm, re-arm and cancel entries at random, and every such action
 * is applied to the wheel and the model alike.
 *
 * The wheel keeps a bitmap of its non-empty slots to find the next one
 * quickly. These tests look inside: every slot's bit must match its list at
 * every step (even from inside callbacks), and tw_next_deadline() must
 * return exactly what the plain scan of all slots it replaced returns. */
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
#define ROTATION ((sn_time)TW_SLOTS * TW_TICK_US)

/* ---------------------------------------------------------------------
 * Directed cases */

struct rec_entry {
    struct tw_entry e;
    int id;
};

static int fired_ids[64];
static sn_time fired_at[64];
static int n_fired;

static void record_fn(struct tw_entry *e, sn_time now)
{
    struct rec_entry *r = (struct rec_entry *)((char *)e - offsetof(struct rec_entry, e));
    assert_false(tw_armed(e)); /* disarmed before its callback runs */
    assert_true(n_fired < 64);
    fired_ids[n_fired] = r->id;
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
 * White-box views of the occupancy bitmap */

static bool slot_bit(const struct timer_wheel *w, int64_t tick)
{
    size_t s = (size_t)(tick & (TW_SLOTS - 1));
    return (w->occupied[s / 64] >> (s % 64)) & 1;
}

/* How many slots have a bit that disagrees with their list. */
static int bitmap_mismatches(const struct timer_wheel *w)
{
    int bad = 0;
    for (int s = 0; s < TW_SLOTS; s++) {
        bool nonempty = w->slots[s].next != &w->slots[s];
        bad += slot_bit(w, s) != nonempty;
    }
    return bad;
}

static bool bitmap_empty(const struct timer_wheel *w)
{
    for (int i = 0; i < TW_WORDS; i++)
        if (w->occupied[i])
            return false;
    return true;
}

/* The linear scan of every slot that the bitmap replaced: the reference
 * answer, including its bound for entries past one rotation and its answer
 * while entries sit in the due list being fired. */
static sn_time ref_next_deadline(const struct timer_wheel *w)
{
    if (w->n_armed == 0)
        return SN_TIME_NEVER;
    for (int64_t t = w->cur_tick; t < w->cur_tick + TW_SLOTS; t++) {
        const struct tw_entry *head = &w->slots[t & (TW_SLOTS - 1)];
        sn_time slot_end = (t + 1) * TW_TICK_US;
        sn_time best = SN_TIME_NEVER;
        for (const struct tw_entry *e = head->next; e != head; e = e->next)
            if (e->deadline < slot_end && e->deadline < best)
                best = e->deadline;
        if (best != SN_TIME_NEVER)
            return best;
    }
    return (w->cur_tick + TW_SLOTS) * TW_TICK_US;
}

static void empty_wheel(void **state)
{
    (void)state;
    static struct timer_wheel w;
    tw_init(&w, BASE);
    assert_int_equal(tw_next_deadline(&w), SN_TIME_NEVER);
    assert_int_equal(tw_advance(&w, BASE + SN_SEC(10)), 0);
    assert_int_equal(tw_next_deadline(&w), SN_TIME_NEVER);

    struct rec_entry r[1];
    rec_init(r, 1, record_fn);
    assert_false(tw_armed(&r[0].e));
    tw_cancel(&w, &r[0].e); /* cancelling a disarmed entry is a no-op */
    assert_int_equal(w.n_armed, 0);
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

    /* Same slot as BASE + 500 us, several rotations later. */
    tw_arm(&w, &r[0].e, BASE + 5 * ROTATION + 500);
    tw_arm(&w, &r[1].e, BASE + 500);
    tw_arm(&w, &r[2].e, BASE + SN_SEC(3600));
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
        assert_true(++steps < 100);
    }
    assert_int_equal(fired_ids[1], 0);
    assert_int_equal(fired_at[1], BASE + 5 * ROTATION + 500);

    /* A jump over many rotations fires the far entry once. */
    assert_int_equal(tw_advance(&w, BASE + SN_SEC(7200)), 1);
    assert_int_equal(fired_ids[2], 2);
    assert_int_equal(w.n_armed, 0);
}

static struct timer_wheel *cb_wheel;
static struct rec_entry *cb_entries;

/* Entry 0's callback cancels entry 1 (due in the same advance) and re-arms
 * itself in the past; entry 2's callback re-arms entry 3 (also due) later. */
static void meddling_fn(struct tw_entry *e, sn_time now)
{
    record_fn(e, now);
    struct rec_entry *r = (struct rec_entry *)((char *)e - offsetof(struct rec_entry, e));
    if (r->id == 0 && n_fired == 1) {
        tw_cancel(cb_wheel, &cb_entries[1].e);
        tw_arm(cb_wheel, e, now - 1);
    } else if (r->id == 2 && n_fired == 2) {
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

static void cancel_last_in_slot_clears_bit(void **state)
{
    (void)state;
    static struct timer_wheel w;
    struct rec_entry r[3];
    tw_init(&w, BASE);
    rec_init(r, 3, record_fn);
    int64_t t0 = w.cur_tick;

    tw_arm(&w, &r[0].e, BASE + 5001); /* two in slot t0 + 5 */
    tw_arm(&w, &r[1].e, BASE + 5002);
    tw_arm(&w, &r[2].e, BASE + 9000); /* one in slot t0 + 9 */
    assert_true(slot_bit(&w, t0 + 5));
    assert_true(slot_bit(&w, t0 + 9));

    tw_cancel(&w, &r[0].e); /* not the last: the bit stays */
    assert_true(slot_bit(&w, t0 + 5));
    assert_int_equal(tw_next_deadline(&w), BASE + 5002);
    tw_cancel(&w, &r[1].e); /* the last: the bit goes */
    assert_false(slot_bit(&w, t0 + 5));
    assert_int_equal(tw_next_deadline(&w), BASE + 9000);
    assert_int_equal(bitmap_mismatches(&w), 0);

    tw_arm(&w, &r[2].e, BASE + 7000); /* re-arming empties its old slot */
    assert_false(slot_bit(&w, t0 + 9));
    assert_true(slot_bit(&w, t0 + 7));
    assert_int_equal(tw_advance(&w, BASE + 7000), 1); /* so does firing */
    assert_true(bitmap_empty(&w));
    assert_int_equal(tw_next_deadline(&w), SN_TIME_NEVER);
}

/* The search starts at slot 1020 and must wrap through 1023 -> 0. */
static void wraps_from_slot_1023_to_0(void **state)
{
    (void)state;
    static struct timer_wheel w;
    struct rec_entry r[4];
    sn_time start = (BASE / ROTATION + 1) * ROTATION - 4 * TW_TICK_US;
    tw_init(&w, start);
    rec_init(r, 4, record_fn);
    assert_int_equal(w.cur_tick & (TW_SLOTS - 1), TW_SLOTS - 4);

    tw_arm(&w, &r[0].e, start + 4 * TW_TICK_US + 10); /* slot 0 */
    tw_arm(&w, &r[1].e, start + 5 * TW_TICK_US);      /* slot 1 */
    assert_int_equal(tw_next_deadline(&w), start + 4 * TW_TICK_US + 10);
    tw_arm(&w, &r[2].e, start + 4 * TW_TICK_US - 1); /* slot 1023 */
    assert_int_equal(tw_next_deadline(&w), start + 4 * TW_TICK_US - 1);
    /* Slot 1019, the last of this rotation: its bit lies below the start
     * bit of the word the search starts in. */
    sn_time last = start + (TW_SLOTS - 1) * TW_TICK_US;
    tw_arm(&w, &r[3].e, last);
    assert_true(slot_bit(&w, TW_SLOTS - 5));

    assert_int_equal(tw_advance(&w, start + 4 * TW_TICK_US - 1), 1);
    assert_false(slot_bit(&w, TW_SLOTS - 1));
    assert_int_equal(tw_next_deadline(&w), start + 4 * TW_TICK_US + 10);
    assert_int_equal(tw_advance(&w, start + 4 * TW_TICK_US + 10), 1);
    assert_false(slot_bit(&w, 0));
    assert_int_equal(tw_advance(&w, start + 5 * TW_TICK_US), 1);
    assert_false(slot_bit(&w, 1));
    assert_int_equal(tw_next_deadline(&w), last);
    assert_int_equal(tw_advance(&w, last), 1);
    assert_true(bitmap_empty(&w));
    int want[] = {2, 0, 1, 3};
    for (int i = 0; i < 4; i++)
        assert_int_equal(fired_ids[i], want[i]);
}

/* From every start slot, entries at word edges and at the rotation's end
 * are found exactly; an entry one rotation later in the first non-empty
 * slot neither hides a later slot nor is taken for this rotation. */
static void next_deadline_from_every_slot(void **state)
{
    (void)state;
    static const int64_t dist[] = {0, 1, 62, 63, 64, 65, 127, 128, 500, 960, 1022, 1023};
    static struct timer_wheel w;
    struct rec_entry r[3];
    for (int64_t s = 0; s < TW_SLOTS; s++) {
        for (size_t i = 0; i < sizeof(dist) / sizeof(dist[0]); i++) {
            tw_init(&w, BASE + s * TW_TICK_US + 123);
            rec_init(r, 3, record_fn);
            int64_t end = w.cur_tick + TW_SLOTS;
            sn_time near = (w.cur_tick + dist[i]) * TW_TICK_US + 999;

            tw_arm(&w, &r[1].e, near + ROTATION); /* same slot, next rotation */
            assert_int_equal(tw_next_deadline(&w), end * TW_TICK_US);
            if (dist[i] < TW_SLOTS - 1) {
                sn_time later = (end - 1) * TW_TICK_US; /* the rotation's last slot */
                tw_arm(&w, &r[2].e, later);
                assert_int_equal(tw_next_deadline(&w), later);
            }
            tw_arm(&w, &r[0].e, near);
            assert_int_equal(tw_next_deadline(&w), near);
            assert_int_equal(bitmap_mismatches(&w), 0);

            tw_cancel(&w, &r[0].e);
            tw_cancel(&w, &r[2].e);
            assert_int_equal(tw_next_deadline(&w), end * TW_TICK_US);
            tw_cancel(&w, &r[1].e);
            assert_true(bitmap_empty(&w));
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
    enum { N = 40 };
    static struct timer_wheel w;
    struct rec_entry r[N];
    sn_time deadline[N];
    tw_init(&w, BASE);
    rec_init(r, N, record_fn);
    for (int i = 0; i < N; i++) {
        /* Scattered over ~3 rotations, with ties (i and i + 20 collide). */
        deadline[i] = BASE + ((i % 20) * 7919 % 3000) * 997;
        tw_arm(&w, &r[i].e, deadline[i]);
    }

    sn_time jumps[] = {BASE + SN_SEC(2), BASE + SN_SEC(3600)};
    int done = 0;
    for (int j = 0; j < 2; j++) {
        /* Expected: by deadline, ties by arm order (= id), never refired. */
        int want[N], n_want = 0;
        for (sn_time d = 0; n_want < N; d++) {
            sn_time next = SN_TIME_NEVER;
            for (int i = 0; i < N; i++)
                if (deadline[i] >= d && deadline[i] < next)
                    next = deadline[i];
            if (next == SN_TIME_NEVER || next > jumps[j])
                break;
            for (int i = 0; i < N; i++)
                if (deadline[i] == next && (j == 0 || deadline[i] > jumps[0]))
                    want[n_want++] = i;
            d = next;
        }
        assert_int_equal(tw_advance(&w, jumps[j]), n_want);
        for (int k = 0; k < n_want; k++)
            assert_int_equal(fired_ids[done + k], want[k]);
        done += n_want;
        assert_int_equal(bitmap_mismatches(&w), 0);
        assert_int_equal(tw_next_deadline(&w), ref_next_deadline(&w));
    }
    assert_int_equal(done, N);
    assert_true(bitmap_empty(&w));
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
    uint64_t past_arms, far_arms, progress_checks;
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

/* A deadline relative to @now, covering every case the wheel must handle. */
static sn_time gen_deadline(sn_time now)
{
    unsigned k = rnd() % 100;
    if (k < 20)
        return now + rnd_range(0, 3000); /* a few ticks */
    if (k < 35)
        return now + rnd_range(0, ROTATION + 100000); /* about one rotation */
    if (k < 43) {
        L.far_arms++;
        return now + rnd_range(ROTATION, 30 * ROTATION); /* many rotations */
    }
    if (k < 46) {
        L.far_arms++;
        return now + rnd_range(SN_SEC(100), SN_SEC(2000));
    }
    if (k < 58) {
        L.past_arms++;
        return now - rnd_range(1, 5000); /* just missed */
    }
    if (k < 62) {
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

static void model_fn(struct tw_entry *e, sn_time now)
{
    int id = ((struct rec_entry *)((char *)e - offsetof(struct rec_entry, e)))->id;
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
    CHECK(bitmap_mismatches(&L.w) == 0);
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
        if (L.m[i].armed && L.m[i].deadline <= now)
            L.due[L.n_due++] = (struct due_item){i, L.m[i].deadline, L.m[i].seq};
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
    CHECK(bitmap_mismatches(&L.w) == 0);

    sn_time earliest = model_earliest();
    sn_time next = tw_next_deadline(&L.w);
    CHECK(next == ref_next_deadline(&L.w));
    if (earliest == SN_TIME_NEVER) {
        CHECK(next == SN_TIME_NEVER);
        return;
    }
    CHECK(next <= earliest); /* never later than the true earliest deadline */
    if (earliest < (L.w.cur_tick + TW_SLOTS) * TW_TICK_US)
        CHECK(next == earliest); /* exact within one rotation */
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
    L.clock = BASE;
    tw_init(&L.w, BASE);
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
        else if (k < 72)
            do_advance(L.clock + rnd_range(0, 2500));
        else if (k < 77)
            do_advance(L.clock); /* again at the same time */
        else if (k < 90)
            advance_to_next_deadline();
        else if (k < 96)
            do_advance(L.clock + rnd_range(0, ROTATION + ROTATION / 2));
        else
            do_advance(L.clock + rnd_range(ROTATION, SN_SEC(90)));
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
    uint64_t fired = 0, cb = 0, past = 0, far = 0, progress = 0;
    for (unsigned seed = 1; seed <= 40; seed++) {
        run_seed(seed, 5000);
        fired += L.fired;
        cb += L.fired_cb;
        past += L.past_arms;
        far += L.far_arms;
        progress += L.progress_checks;
    }
    /* The random mix really exercised what it claims to. */
    print_message("fired %llu (%llu meddling), %llu past arms, %llu far arms, "
                  "%llu advance-to-next checks\n",
                  (unsigned long long)fired, (unsigned long long)cb, (unsigned long long)past,
                  (unsigned long long)far, (unsigned long long)progress);
    assert_true(fired > 10000);
    assert_true(cb > 1000);
    assert_true(past > 1000);
    assert_true(far > 1000);
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
        cmocka_unit_test(wraps_from_slot_1023_to_0),
        cmocka_unit_test(next_deadline_from_every_slot),
        cmocka_unit_test(long_idle_jump),
        cmocka_unit_test(random_vs_model),
    };
    return cmocka_run_group_tests_name("core/timer_wheel", tests, NULL, NULL);
}
