/* core/timer_wheel.c: see timer_wheel.h. Each slot holds a doubly linked
 * list of entries whose deadline falls in that slot's tick modulo the
 * rotation; far-future entries simply wait for their rotation. */
#include "core/timer_wheel.h"

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

void tw_init(struct timer_wheel *w, sn_time now)
{
    for (int i = 0; i < TW_SLOTS; i++)
        list_init(&w->slots[i]);
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
    struct tw_entry *head = &w->slots[t & (TW_SLOTS - 1)];
    list_insert_after(head->prev, e);
    w->n_armed++;
}

void tw_cancel(struct timer_wheel *w, struct tw_entry *e)
{
    if (!tw_armed(e))
        return;
    list_unlink(e);
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

static void collect_slot(struct timer_wheel *w, struct tw_entry *head, sn_time now)
{
    struct tw_entry *e = head->next;
    while (e != head) {
        struct tw_entry *next = e->next;
        if (e->deadline <= now) {
            list_unlink(e);
            due_insert(w, e);
        }
        e = next;
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
    int64_t span = now_tick - w->cur_tick + 1;
    if (span > TW_SLOTS)
        span = TW_SLOTS; /* every slot once is every entry once */
    for (int64_t i = 0; i < span; i++)
        collect_slot(w, &w->slots[(w->cur_tick + i) & (TW_SLOTS - 1)], now);
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

sn_time tw_next_deadline(const struct timer_wheel *w)
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
