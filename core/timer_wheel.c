/* core/timer_wheel.c: see timer_wheel.h.
 *
 * Where an entry waits depends on the rotation R of the wheel's current tick
 * (cur_tick) and on the tick t of its deadline (overdue deadlines count as
 * cur_tick):
 *
 *   level 0   rotation(t) < R + 2              slot t % TW_L0_SLOTS
 *   level 1   rotation(t) < R + 2 + TW_L1_SLOTS  slot rotation(t) % TW_L1_SLOTS
 *   overflow  the rest
 *
 * Level 0 spans exactly TW_L0_SLOTS ticks (rotations R and R + 1), so a
 * level-0 slot never mixes ticks; level 1 likewise never mixes rotations.
 * When tw_advance moves cur_tick into a later rotation, the level-1 slots of
 * the rotations that level 0 now spans move down ("cascade") into level 0,
 * or straight into the due list when already due. Entries placed in the
 * overflow list have a rotation at or past the next multiple of TW_L1_SLOTS
 * above R + 2, so the list need only be looked through when R + 2 crosses
 * such a multiple: once per TW_L1_SLOTS rotations.
 *
 * Firing order never depends on where an entry waited: tw_advance sorts what
 * is due by (deadline, arm order), and moving an entry keeps its order.
 *
 * The event loop asks for tw_next_deadline() on every iteration, and after
 * an idle spell tw_advance() crosses many mostly empty slots. Both therefore
 * walk the occupancy bitmaps rather than the slots: a slot's bit is set
 * exactly while its list is non-empty. */
#include "core/timer_wheel.h"

#include <stddef.h>
#include <string.h>

#define L0_MASK (TW_L0_SLOTS - 1)
#define L1_MASK (TW_L1_SLOTS - 1)

static int64_t tick_of(sn_time t) { return t / TW_TICK_US; }
static int64_t rotation_of(int64_t tick) { return tick >> TW_ROTATION_SHIFT; }
static sn_time rotation_start(int64_t rot) { return (rot << TW_ROTATION_SHIFT) * TW_TICK_US; }

/* The first rotation held by level 1 rather than level 0. */
static int64_t first_l1_rotation(const struct timer_wheel *w)
{
    return rotation_of(w->cur_tick) + 2;
}

static struct tw_entry *entry_of(struct tw_link *l)
{
    return (struct tw_entry *)((char *)l - offsetof(struct tw_entry, link));
}

static void list_init(struct tw_link *head) { head->next = head->prev = head; }

static bool list_empty(const struct tw_link *head) { return head->next == head; }

static void list_unlink(struct tw_link *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->next = l->prev = 0;
}

static void list_insert_after(struct tw_link *pos, struct tw_link *l)
{
    l->prev = pos;
    l->next = pos->next;
    pos->next->prev = l;
    pos->next = l;
}

/* Moves every node of @from, in order, to the empty list @to. */
static void list_move_all(struct tw_link *from, struct tw_link *to)
{
    if (list_empty(from)) {
        list_init(to);
        return;
    }
    to->next = from->next;
    to->prev = from->prev;
    to->next->prev = to;
    to->prev->next = to;
    list_init(from);
}

static void bit_set(uint64_t *bits, size_t i) { bits[i / 64] |= UINT64_C(1) << (i % 64); }

static void bit_clear(uint64_t *bits, size_t i) { bits[i / 64] &= ~(UINT64_C(1) << (i % 64)); }

/* The first index in [@from, @end) whose slot is non-empty in a bitmap of
 * @n_words words (slot of index i: i % (64 * n_words)), or @end when there
 * is none; @end - @from <= 64 * @n_words, so each slot is seen at most once.
 * Words are visited starting with @from's, whose bits below @from are masked
 * off; when the range wraps, that word comes round once more at
 * k == n_words, where only the bits below @from can be set (the others were
 * zero at k == 0) and so only they can be found. */
static int64_t next_occupied(const uint64_t *bits, size_t n_words, int64_t from, int64_t end)
{
    size_t start = (size_t)(from & (int64_t)(n_words * 64 - 1));
    int64_t bit = (int64_t)(start % 64);
    for (size_t k = 0; k <= n_words; k++) {
        int64_t word_index = from - bit + (int64_t)k * 64; /* index of bit 0 */
        if (word_index >= end)
            break;
        uint64_t word = bits[(start / 64 + k) % n_words];
        if (k == 0)
            word &= ~UINT64_C(0) << bit;
        if (word) {
            int64_t i = word_index + __builtin_ctzll(word);
            return i < end ? i : end;
        }
    }
    return end;
}

void tw_init(struct timer_wheel *w, sn_time now)
{
    for (int i = 0; i < TW_L0_SLOTS; i++)
        list_init(&w->l0[i]);
    for (int i = 0; i < TW_L1_SLOTS; i++)
        list_init(&w->l1[i]);
    memset(w->l0_occupied, 0, sizeof(w->l0_occupied));
    memset(w->l1_occupied, 0, sizeof(w->l1_occupied));
    list_init(&w->overflow);
    w->overflow_min = SN_TIME_NEVER;
    list_init(&w->due);
    w->cur_tick = tick_of(now);
    w->next_order = 0;
    w->n_armed = 0;
    w->firing = 0;
}

/* Links @e, not in any list, where its deadline belongs (see the top). */
static void place(struct timer_wheel *w, struct tw_entry *e)
{
    int64_t t = tick_of(e->deadline);
    if (t < w->cur_tick)
        t = w->cur_tick; /* overdue: the next slot tw_advance examines */
    int64_t rot = rotation_of(t);
    int64_t first_l1 = first_l1_rotation(w);
    if (rot < first_l1) {
        size_t slot = (size_t)(t & L0_MASK);
        list_insert_after(w->l0[slot].prev, &e->link);
        bit_set(w->l0_occupied, slot);
    } else if (rot < first_l1 + TW_L1_SLOTS) {
        size_t slot = (size_t)(rot & L1_MASK);
        list_insert_after(w->l1[slot].prev, &e->link);
        bit_set(w->l1_occupied, slot);
    } else {
        list_insert_after(w->overflow.prev, &e->link);
        if (e->deadline < w->overflow_min)
            w->overflow_min = e->deadline;
    }
}

void tw_arm(struct timer_wheel *w, struct tw_entry *e, sn_time deadline)
{
    tw_cancel(w, e);
    e->deadline = deadline;
    e->order = w->next_order++;
    place(w, e);
    w->n_armed++;
}

/* Whether @head is one of the heads in @arr[0 .. @n). Compared as integers:
 * @head may be another object altogether. */
static bool in_array(const struct tw_link *head, const struct tw_link *arr, size_t n)
{
    return (uintptr_t)head - (uintptr_t)arr < n * sizeof(*arr);
}

void tw_cancel(struct timer_wheel *w, struct tw_entry *e)
{
    if (!tw_armed(e))
        return;
    /* Entries do not record where they wait (they are embedded in every TCB,
     * so they stay small). If @e is the last entry of its list, its only
     * neighbour is that list's head, which names the level and slot, or is
     * the overflow or due list, which have no bit. */
    struct tw_link *head = e->link.prev;
    bool emptied = e->link.next == head;
    list_unlink(&e->link);
    if (emptied) {
        if (in_array(head, w->l0, TW_L0_SLOTS))
            bit_clear(w->l0_occupied, (size_t)(head - w->l0));
        else if (in_array(head, w->l1, TW_L1_SLOTS))
            bit_clear(w->l1_occupied, (size_t)(head - w->l1));
    }
    w->n_armed--;
}

static bool fires_before(const struct tw_entry *a, const struct tw_entry *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->order < b->order);
}

/* Moves @e into the due list, kept sorted by (deadline, order). */
static void due_insert(struct timer_wheel *w, struct tw_entry *e)
{
    struct tw_link *pos = w->due.prev;
    while (pos != &w->due && fires_before(e, entry_of(pos)))
        pos = pos->prev;
    list_insert_after(pos, &e->link);
}

static void collect_l0_slot(struct timer_wheel *w, size_t slot, sn_time now)
{
    struct tw_link *head = &w->l0[slot];
    struct tw_link *l = head->next;
    while (l != head) {
        struct tw_link *next = l->next;
        struct tw_entry *e = entry_of(l);
        if (e->deadline <= now) {
            list_unlink(l);
            due_insert(w, e);
        }
        l = next;
    }
    if (list_empty(head))
        bit_clear(w->l0_occupied, slot);
}

/* Takes every entry off @head and puts it in the due list if due, else
 * wherever it now belongs (cur_tick is already @now's tick). */
static void redistribute(struct timer_wheel *w, struct tw_link *head, sn_time now)
{
    struct tw_link moving;
    list_move_all(head, &moving);
    while (!list_empty(&moving)) {
        struct tw_link *l = moving.next;
        list_unlink(l);
        struct tw_entry *e = entry_of(l);
        if (e->deadline <= now)
            due_insert(w, e);
        else
            place(w, e);
    }
}

uint32_t tw_advance(struct timer_wheel *w, sn_time now)
{
    /* @now may lie before cur_tick (advancing to a tw_next_deadline that was
     * overdue when armed): such entries all sit in slot cur_tick, so examine
     * that slot and keep cur_tick where it is. */
    int64_t now_tick = tick_of(now);
    if (now_tick < w->cur_tick)
        now_tick = w->cur_tick;
    int64_t old_first_l1 = first_l1_rotation(w);

    /* 1. Level 0, up to @now or to its end. Empty slots hold nothing to
     * collect, so skip them. The collection order does not matter:
     * due_insert sorts by (deadline, order), a total order. */
    int64_t end = now_tick + 1;
    int64_t l0_end = old_first_l1 << TW_ROTATION_SHIFT;
    if (end > l0_end)
        end = l0_end;
    for (int64_t t = next_occupied(w->l0_occupied, TW_L0_WORDS, w->cur_tick, end); t < end;
         t = next_occupied(w->l0_occupied, TW_L0_WORDS, t + 1, end))
        collect_l0_slot(w, (size_t)(t & L0_MASK), now);
    /* The current tick may still hold later deadlines: examine it again. */
    w->cur_tick = now_tick;

    int64_t new_first_l1 = first_l1_rotation(w);
    if (new_first_l1 > old_first_l1) {
        /* 2. Level 0 now spans more rotations: bring their level-1 slots
         * down. Level 1 holds no rotation past old_first_l1 + TW_L1_SLOTS. */
        int64_t l1_end = new_first_l1;
        if (l1_end > old_first_l1 + TW_L1_SLOTS)
            l1_end = old_first_l1 + TW_L1_SLOTS;
        for (int64_t r = next_occupied(w->l1_occupied, TW_L1_WORDS, old_first_l1, l1_end);
             r < l1_end; r = next_occupied(w->l1_occupied, TW_L1_WORDS, r + 1, l1_end)) {
            size_t slot = (size_t)(r & L1_MASK);
            redistribute(w, &w->l1[slot], now);
            bit_clear(w->l1_occupied, slot);
        }
        /* 3. The overflow list, when the first level-1 rotation crossed a
         * multiple of TW_L1_SLOTS (see the top). */
        if (new_first_l1 >> TW_L1_SHIFT != old_first_l1 >> TW_L1_SHIFT) {
            w->overflow_min = SN_TIME_NEVER; /* place() recomputes it */
            redistribute(w, &w->overflow, now);
        }
    }

    uint32_t fired = 0;
    while (!list_empty(&w->due)) {
        struct tw_entry *e = entry_of(w->due.next);
        list_unlink(&e->link);
        w->n_armed--;
        fired++;
        w->firing = e;
        e->fn(e, now);
        w->firing = 0;
    }
    return fired;
}

/* The earliest deadline in a list. */
static sn_time list_earliest(const struct tw_link *head)
{
    sn_time best = SN_TIME_NEVER;
    for (const struct tw_link *l = head->next; l != head; l = l->next) {
        sn_time d = ((const struct tw_entry *)((const char *)l -
                                               offsetof(struct tw_entry, link)))->deadline;
        if (d < best)
            best = d;
    }
    return best;
}

sn_time tw_next_deadline(const struct timer_wheel *w)
{
    if (w->n_armed == 0)
        return SN_TIME_NEVER;
    /* Level 0 holds every deadline before the level-1 ones, and its first
     * non-empty slot holds a single tick (or the overdue entries): the
     * earliest deadline, exactly. */
    int64_t first_l1 = first_l1_rotation(w);
    int64_t l0_end = first_l1 << TW_ROTATION_SHIFT;
    int64_t t = next_occupied(w->l0_occupied, TW_L0_WORDS, w->cur_tick, l0_end);
    if (t < l0_end)
        return list_earliest(&w->l0[t & L0_MASK]);

    /* Beyond level 0, a bound: waking then makes tw_advance bring the first
     * non-empty level-1 rotation down into level 0 (or fire it). */
    sn_time best = SN_TIME_NEVER;
    int64_t l1_end = first_l1 + TW_L1_SLOTS;
    int64_t r = next_occupied(w->l1_occupied, TW_L1_WORDS, first_l1, l1_end);
    if (r < l1_end)
        best = rotation_start(r);
    /* tw_advance looks through the overflow list when the first level-1
     * rotation reaches the next multiple of TW_L1_SLOTS, @look, i.e. on
     * entering rotation @look - 2. Every entry put in the list since it was
     * last looked through lies at or past rotation @look (see the top), and
     * so does overflow_min, their earliest deadline (or an earlier one,
     * cancelled since): waking then is never late, and is a look-through. */
    if (!list_empty(&w->overflow) && w->overflow_min < best)
        best = w->overflow_min;
    return best;
}
