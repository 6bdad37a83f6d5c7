/* core/ring.h: a byte ring for socket buffers. Storage is allocated on
 * first use and grows by doubling up to a fixed bound, so an idle
 * connection costs no buffer memory; ring_compact() gives it back when the
 * ring drains. Offsets count from the oldest byte (the head).
 *
 * Storage given back is kept in a small per-thread cache (at most
 * RING_CACHE_MAX buffers, the largest ones) and handed to the next ring
 * that grows on the same thread: a bulk sender whose send buffer drains on
 * every ACK and refills at once would otherwise free, malloc, page-fault
 * and regrow 256 KiB each time (a sixth of its CPU time, measured).
 * ring_cache_drain() frees the cache (a thread that ends, a stack freed). */
#ifndef SYNACK_CORE_RING_H
#define SYNACK_CORE_RING_H

#include <stddef.h>
#include <stdint.h>

struct ring {
    uint8_t *buf;
    uint32_t cap;  /* power of two, or 0 before first use */
    uint32_t max;  /* bound on cap */
    uint32_t head; /* index of the oldest byte */
    uint32_t len;  /* committed bytes */
};

static inline void ring_init(struct ring *r, uint32_t max)
{
    r->buf = NULL;
    r->cap = r->head = r->len = 0;
    r->max = max;
}

#define RING_CACHE_MAX 4

/* Gives the storage back (to the cache). */
void ring_free(struct ring *r);

/* Frees this thread's cached storage. */
void ring_cache_drain(void);

/* Bytes that can still be appended without exceeding the bound. */
static inline uint32_t ring_space(const struct ring *r) { return r->max - r->len; }

/* Appends up to @len bytes; returns how many fit (0 also when memory for
 * growth is unavailable). */
uint32_t ring_write(struct ring *r, const void *data, uint32_t len);

/* Writes @len bytes at @off past the head without committing them (for
 * out-of-order data). Returns 0, or -1 when beyond the bound or out of
 * memory. */
int ring_write_at(struct ring *r, uint32_t off, const void *data, uint32_t len);

/* Commits @n bytes that ring_write_at placed right after the committed ones. */
void ring_commit(struct ring *r, uint32_t n);

/* Copies @len bytes starting @off past the head; the caller ensures
 * off + len <= r->len. */
void ring_peek(const struct ring *r, uint32_t off, void *out, uint32_t len);

/* Consumes up to @len bytes into @out (or discards them when @out is NULL);
 * returns how many. */
uint32_t ring_read(struct ring *r, void *out, uint32_t len);

/* Releases the storage when the ring is empty. */
void ring_compact(struct ring *r);

#endif
