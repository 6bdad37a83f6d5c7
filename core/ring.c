/* core/ring.c: see ring.h. */
#include <stdlib.h>
#include <string.h>

#include "core/ring.h"

/* The storage of rings that drained or were freed, kept for the next ring
 * that needs storage on this thread (see ring.h). Per thread, so stack
 * instances on their own threads share nothing. */
struct cached {
    uint8_t *buf;
    uint32_t cap;
};
static _Thread_local struct cached cache[RING_CACHE_MAX];
static _Thread_local unsigned n_cached;

static void cache_put(uint8_t *buf, uint32_t cap)
{
    if (!buf)
        return;
    if (n_cached == RING_CACHE_MAX) {
        /* Full: keep the larger buffers, they save the most regrowing. */
        unsigned small = 0;
        for (unsigned i = 1; i < n_cached; i++)
            if (cache[i].cap < cache[small].cap)
                small = i;
        if (cache[small].cap >= cap) {
            free(buf);
            return;
        }
        free(cache[small].buf);
        cache[small] = cache[--n_cached];
    }
    cache[n_cached++] = (struct cached){buf, cap};
}

/* The smallest cached buffer of @want..@max bytes, or NULL; *cap gets its
 * size. */
static uint8_t *cache_take(uint32_t want, uint32_t max, uint32_t *cap)
{
    unsigned best = n_cached;
    for (unsigned i = 0; i < n_cached; i++)
        if (cache[i].cap >= want && cache[i].cap <= max &&
            (best == n_cached || cache[i].cap < cache[best].cap))
            best = i;
    if (best == n_cached)
        return NULL;
    uint8_t *buf = cache[best].buf;
    *cap = cache[best].cap;
    cache[best] = cache[--n_cached];
    return buf;
}

void ring_cache_drain(void)
{
    while (n_cached)
        free(cache[--n_cached].buf);
}

void ring_free(struct ring *r)
{
    cache_put(r->buf, r->cap);
    r->buf = NULL;
    r->cap = r->head = r->len = 0;
}

/* Grows the storage to hold @need bytes from the head. */
static int reserve(struct ring *r, uint32_t need)
{
    if (need <= r->cap)
        return 0;
    if (need > r->max)
        return -1;
    uint32_t cap = r->cap ? r->cap : 4096;
    while (cap < need)
        cap <<= 1;
    uint32_t got;
    uint8_t *nb = cache_take(cap, cap > r->max ? cap : r->max, &got);
    if (nb)
        cap = got;
    else if (!(nb = malloc(cap)))
        return -1;
    /* Everything up to the old capacity may hold (uncommitted) data. */
    if (r->cap) {
        uint32_t first = r->cap - r->head;
        memcpy(nb, r->buf + r->head, first);
        memcpy(nb + first, r->buf, r->head);
    }
    cache_put(r->buf, r->cap);
    r->buf = nb;
    r->cap = cap;
    r->head = 0;
    return 0;
}

static void copy_in(struct ring *r, uint32_t off, const uint8_t *src, uint32_t len)
{
    uint32_t pos = (r->head + off) & (r->cap - 1);
    uint32_t first = r->cap - pos < len ? r->cap - pos : len;
    memcpy(r->buf + pos, src, first);
    memcpy(r->buf, src + first, len - first);
}

uint32_t ring_write(struct ring *r, const void *data, uint32_t len)
{
    if (len > ring_space(r))
        len = ring_space(r);
    if (len == 0 || reserve(r, r->len + len) < 0)
        return 0;
    copy_in(r, r->len, data, len);
    r->len += len;
    return len;
}

int ring_write_at(struct ring *r, uint32_t off, const void *data, uint32_t len)
{
    if ((uint64_t)off + len > r->max || reserve(r, off + len) < 0)
        return -1;
    copy_in(r, off, data, len);
    return 0;
}

void ring_commit(struct ring *r, uint32_t n) { r->len += n; }

void ring_peek(const struct ring *r, uint32_t off, void *out, uint32_t len)
{
    if (len == 0)
        return;
    uint32_t pos = (r->head + off) & (r->cap - 1);
    uint32_t first = r->cap - pos < len ? r->cap - pos : len;
    memcpy(out, r->buf + pos, first);
    memcpy((uint8_t *)out + first, r->buf, len - first);
}

uint32_t ring_read(struct ring *r, void *out, uint32_t len)
{
    if (len > r->len)
        len = r->len;
    if (out)
        ring_peek(r, 0, out, len);
    if (len)
        r->head = (r->head + len) & (r->cap - 1);
    r->len -= len;
    return len;
}

void ring_compact(struct ring *r)
{
    if (r->len == 0)
        ring_free(r);
}
