/* core/pkt.c: fixed-size buffer pools with a free list. All memory is taken
 * at pool creation; pkt_alloc/pkt_free are O(1) and never call malloc. */
#include <stdlib.h>
#include <string.h>

#include "core/pkt.h"

struct pkt_pool {
    const char *name;
    uint32_t buf_size;
    struct pkt *free_list;
    struct pkt *descs;   /* count descriptors */
    uint8_t *storage;    /* count * buf_size bytes */
    struct pkt_pool_stats st;
};

struct pkt_pool *pkt_pool_new(const char *name, uint32_t count, uint32_t buf_size)
{
    struct pkt_pool *pool = calloc(1, sizeof(*pool));
    if (!pool)
        return NULL;
    pool->descs = calloc(count, sizeof(struct pkt));
    pool->storage = malloc((size_t)count * buf_size);
    if (!pool->descs || !pool->storage) {
        free(pool->descs);
        free(pool->storage);
        free(pool);
        return NULL;
    }
    pool->name = name;
    pool->buf_size = buf_size;
    pool->st.count = count;
    for (uint32_t i = count; i-- > 0;) {
        struct pkt *p = &pool->descs[i];
        p->buf = pool->storage + (size_t)i * buf_size;
        p->cap = buf_size;
        p->pool = pool;
        p->next = pool->free_list;
        pool->free_list = p;
    }
    return pool;
}

uint32_t pkt_pool_destroy(struct pkt_pool *pool)
{
    if (!pool)
        return 0;
    uint32_t leaked = pool->st.in_use;
    free(pool->descs);
    free(pool->storage);
    free(pool);
    return leaked;
}

const struct pkt_pool_stats *pkt_pool_stats(const struct pkt_pool *pool) { return &pool->st; }
uint32_t pkt_pool_buf_size(const struct pkt_pool *pool) { return pool->buf_size; }
const char *pkt_pool_name(const struct pkt_pool *pool) { return pool->name; }

struct pkt *pkt_alloc(struct pkt_pool *pool, uint32_t headroom)
{
    struct pkt *p = pool->free_list;
    if (!p || headroom > pool->buf_size) {
        pool->st.alloc_fail++;
        return NULL;
    }
    pool->free_list = p->next;
    p->next = NULL;
    p->data = p->buf + headroom;
    p->len = 0;
    p->stamp = 0;
    memset(&p->off, 0, sizeof(p->off));
    pool->st.allocs++;
    if (++pool->st.in_use > pool->st.high_water)
        pool->st.high_water = pool->st.in_use;
    return p;
}

void pkt_free(struct pkt *p)
{
    if (!p)
        return;
    struct pkt_pool *pool = p->pool;
#ifdef SN_DEBUG
    memset(p->buf, 0xdb, p->cap); /* use-after-free reads garbage, loudly */
#endif
    p->next = pool->free_list;
    pool->free_list = p;
    pool->st.in_use--;
}

uint8_t *pkt_push(struct pkt *p, uint32_t n)
{
    if (pkt_headroom(p) < n)
        return NULL;
    p->data -= n;
    p->len += n;
    if (p->off.csum_partial)
        p->off.csum_start = (uint16_t)(p->off.csum_start + n);
    return p->data;
}

uint8_t *pkt_pull(struct pkt *p, uint32_t n)
{
    if (p->len < n)
        return NULL;
    p->data += n;
    p->len -= n;
    if (p->off.csum_partial)
        p->off.csum_start = (uint16_t)(p->off.csum_start > n ? p->off.csum_start - n : 0);
    return p->data;
}

uint8_t *pkt_put(struct pkt *p, uint32_t n)
{
    if (pkt_tailroom(p) < n)
        return NULL;
    uint8_t *tail = p->data + p->len;
    p->len += n;
    return tail;
}

void pkt_trim(struct pkt *p, uint32_t len)
{
    if (len < p->len)
        p->len = len;
}

struct pkt *pkt_clone(struct pkt_pool *pool, const struct pkt *p, uint32_t headroom)
{
    if ((uint64_t)headroom + p->len > pkt_pool_buf_size(pool)) {
        pool->st.alloc_fail++;
        return NULL;
    }
    struct pkt *c = pkt_alloc(pool, headroom);
    if (!c)
        return NULL;
    memcpy(pkt_put(c, p->len), p->data, p->len);
    c->off = p->off;
    c->stamp = p->stamp;
    return c;
}

void pktq_purge(struct pkt_queue *q)
{
    struct pkt *p;
    while ((p = pktq_pop(q)))
        pkt_free(p);
}
