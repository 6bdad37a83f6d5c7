/* core/ring.c: see ring.h. */
#include <stdlib.h>
#include <string.h>

#include "core/ring.h"

void ring_free(struct ring *r)
{
    free(r->buf);
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
    uint8_t *nb = malloc(cap);
    if (!nb)
        return -1;
    /* Everything up to the old capacity may hold (uncommitted) data. */
    if (r->cap) {
        uint32_t first = r->cap - r->head;
        memcpy(nb, r->buf + r->head, first);
        memcpy(nb + first, r->buf, r->head);
    }
    free(r->buf);
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
