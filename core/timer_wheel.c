/* core/timer_wheel.c: see timer_wheel.h. Each slot holds a doubly linked
 * list of entries whose deadline falls in that slot's tick modulo the
 * rotation; far-future entries simply wait for their rotation.
 *
 * The event loop asks for tw_next_deadline() on every iteration, and after
 * an idle spell tw_advance() crosses up to a whole rotation of mostly empty
 * slots. Both therefore walk the occupancy bitmap (w->occupied) rather than
 * the slots: the bit of a slot is set exactly while its list is non-empty. */
#include "core/timer_wheel.h"

#include <string.h>

static int64_t tick_of(sn_time t) { return t / TW_TICK_US; }

static void list_init(struct tw_entry *head) { head->next = head->prev = head; }

static void list_unlink(struct tw_entry *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
    e->next = e->prev = 0;
}

static void list_insert_after(struct tw_entry *pos, struct tw_entry *e)
{
    e->prev = pos;
    e->next = pos->next;
    pos->next->prev = e;
    pos->next = e;
}

static void occ_set(struct timer_wheel *w, size_t slot)
{
    w->occupied[slot / 64] |= UINT64_C(1) << (slot % 64);
}

static void occ_clear(struct timer_wheel *w, size_t slot)
{
    w->occupied[slot / 64] &= ~(UINT64_C(1) << (slot % 64));
}

/* The first tick in [@from, @end) whose slot is non-empty, or @end when
 * there is none; @end - @from <= TW_SLOTS, so each slot is seen at most
 * once. Words are visited starting with @from's, whose bits below @from are
 * masked off; when the range wraps, that word comes round once more at
 * k == TW_WORDS, where only the bits below @from can be set (the others were
 * zero at k == 0) and so only they can be found. */
static int64_t next_occupied(const struct timer_wheel *w, int64_t from, int64_t end)
{
    size_t start = (size_t)(from & (TW_SLOTS - 1));
    int64_t bit = (int64_t)(start % 64);
    for (size_t k = 0; k <= TW_WORDS; k++) {
        int64_t word_tick = from - bit + (int64_t)k * 64; /* tick of bit 0 */
        if (word_tick >= end)
            break;
        uint64_t word = w->occupied[(start / 64 + k) % TW_WORDS];
        if (k == 0)
            word &= ~UINT64_C(0) << bit;
        if (word) {
            int64_t t = word_tick + __builtin_ctzll(word);
            return t < end ? t : end;
        }
    }
    return end;
}

void tw_init(struct timer_wheel *w, sn_time now)
{
    for (int i = 0; i < TW_SLOTS; i++)
        list_init(&w->slots[i]);
    memset(w->occupied, 0, sizeof(w->occupied));
    list_init(&w->due);
    w->cur_tick = tick_of(now);
    w->next_order = 0;
    w->n_armed = 0;
    w->firing = 0;
}

void tw_arm(struct timer_wheel *w, struct tw_entry *e, sn_time deadline)
{
    tw_cancel(w, e);
    int64_t t = tick_of(deadline);
    if (t < w->cur_tick)
        t = w->cur_tick; /* overdue: the next slot tw_advance examines */
    e->deadline = deadline;
    e->order = w->next_order++;
    size_t slot = (size_t)(t & (TW_SLOTS - 1));
    list_insert_after(w->slots[slot].prev, e);
    occ_set(w, slot);
    w->n_armed++;
}

void tw_cancel(struct timer_wheel *w, struct tw_entry *e)
{
    if (!tw_armed(e))
        return;
    /* Entries do not record their slot (they are embedded in every TCB, so
     * they stay small). If @e is the last entry of its list, its only
     * neighbour is that list's head, which names the slot, or is the due
     * list, which has no bit. */
    struct tw_entry *head = e->prev;
    bool emptied = e->next == head;
    list_unlink(e);
    if (emptied && head != &w->due)
        occ_clear(w, (size_t)(head - w->slots));
    w->n_armed--;
}

static bool fires_before(const struct tw_entry *a, const struct tw_entry *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->order < b->order);
}

/* Moves @e into the due list, kept sorted by (deadline, order). */
static void due_insert(struct timer_wheel *w, struct tw_entry *e)
{
    struct tw_entry *pos = w->due.prev;
    while (pos != &w->due && fires_before(e, pos))
        pos = pos->prev;
    list_insert_after(pos, e);
}

static void collect_slot(struct timer_wheel *w, size_t slot, sn_time now)
{
    struct tw_entry *head = &w->slots[slot];
    struct tw_entry *e = head->next;
    while (e != head) {
        struct tw_entry *next = e->next;
        if (e->deadline <= now) {
            list_unlink(e);
            due_insert(w, e);
        }
        e = next;
    }
    if (head->next == head)
        occ_clear(w, slot);
}

uint32_t tw_advance(struct timer_wheel *w, sn_time now)
{
    /* @now may lie before cur_tick (advancing to a tw_next_deadline that was
     * overdue when armed): such entries all sit in slot cur_tick, so examine
     * that slot and keep cur_tick where it is. */
    int64_t now_tick = tick_of(now);
    if (now_tick < w->cur_tick)
        now_tick = w->cur_tick;
    int64_t end = now_tick + 1;
    if (end - w->cur_tick > TW_SLOTS)
        end = w->cur_tick + TW_SLOTS; /* every slot once is every entry once */
    /* Empty slots hold nothing to collect, so skip them. The collection order
     * does not matter: due_insert sorts by (deadline, order), a total order. */
    for (int64_t t = next_occupied(w, w->cur_tick, end); t < end;
         t = next_occupied(w, t + 1, end))
        collect_slot(w, (size_t)(t & (TW_SLOTS - 1)), now);
    /* The current tick may still hold later deadlines: examine it again. */
    w->cur_tick = now_tick;

    uint32_t fired = 0;
    while (w->due.next != &w->due) {
        struct tw_entry *e = w->due.next;
        list_unlink(e);
        w->n_armed--;
        fired++;
        w->firing = e;
        e->fn(e, now);
        w->firing = 0;
    }
    return fired;
}

/* The earliest deadline in @head's list that is below @slot_end, i.e. that
 * falls in this rotation of the slot (or is overdue); SN_TIME_NEVER if none. */
static sn_time slot_earliest(const struct tw_entry *head, sn_time slot_end)
{
    sn_time best = SN_TIME_NEVER;
    for (const struct tw_entry *e = head->next; e != head; e = e->next)
        if (e->deadline < slot_end && e->deadline < best)
            best = e->deadline;
    return best;
}

sn_time tw_next_deadline(const struct timer_wheel *w)
{
    if (w->n_armed == 0)
        return SN_TIME_NEVER;
    /* Visit the non-empty slots of one rotation in tick order; the first one
     * holding a deadline of this rotation holds the earliest deadline. */
    int64_t end = w->cur_tick + TW_SLOTS;
    for (int64_t t = next_occupied(w, w->cur_tick, end); t < end;
         t = next_occupied(w, t + 1, end)) {
        sn_time best = slot_earliest(&w->slots[t & (TW_SLOTS - 1)], (t + 1) * TW_TICK_US);
        if (best != SN_TIME_NEVER)
            return best;
    }
    /* Every deadline left in the slots is a rotation or more away (entries
     * being fired sit in w->due, not in a slot): waking a rotation on is no
     * later than any of them and moves cur_tick forward. */
    return end * TW_TICK_US;
}
