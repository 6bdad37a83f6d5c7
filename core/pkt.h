/* core/pkt.h: packet buffers and the pools they come from.
 *
 * A packet has one owner at a time. A function that takes a struct pkt *
 * either passes it on or frees it on every path; each prototype says which
 * ("Consumes @p" / "Borrows @p"). Buffers carry headroom so each layer
 * prepends its header with pkt_push() without copying the payload. */
#ifndef SYNACK_CORE_PKT_H
#define SYNACK_CORE_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "core/time.h"

/* Room for a virtio-net header, Ethernet, IPv4 with options and TCP with
 * options in front of any payload. */
#define PKT_HEADROOM 192

/* Offload metadata, the shape of struct virtio_net_hdr, so a TAP driver with
 * IFF_VNET_HDR can translate without any caller changing. Zero means "the
 * packet is complete: checksums filled, no segmentation needed".
 *
 * csum_partial (Linux CHECKSUM_PARTIAL, virtio NEEDS_CSUM): the checksum at
 * csum_start + csum_offset holds only the folded pseudo-header sum; the
 * device adds the sum of everything from csum_start to the end. Received
 * so, the packet came from the local kernel, which left its checksum to a
 * device that never existed: it is trusted, as Linux trusts such packets.
 * csum_start counts from p->data: pkt_push and pkt_pull move it with the
 * data, so at the link it counts from the frame's first byte, and at the
 * transport layer it is 0 for the transport header. */
struct pkt_offload {
    uint8_t csum_partial; /* checksum must still be folded in at csum_start+csum_offset */
    uint8_t csum_valid;   /* receiver: the device already verified checksums */
    uint8_t gso_type;     /* 0 = none; else VIRTIO_NET_HDR_GSO_* (TCPV4 = 1) */
    uint16_t gso_size;    /* MSS for segmentation offload */
    uint16_t csum_start;  /* from p->data (see above) */
    uint16_t csum_offset; /* from csum_start: 16 for TCP, 6 for UDP */
};

#define PKT_GSO_TCPV4 1 /* gso_type: VIRTIO_NET_HDR_GSO_TCPV4 */

struct pkt_pool;

struct pkt {
    struct pkt *next;       /* link for the queue of whoever owns the packet */
    uint8_t *data;          /* first valid byte */
    uint32_t len;           /* valid bytes from data */
    uint32_t cap;           /* size of buf */
    uint8_t *buf;           /* start of the storage */
    struct pkt_pool *pool;  /* where pkt_free() returns it */
    sn_time stamp;          /* arrival time, or release time in a delay line */
    struct pkt_offload off; /* device offload metadata, zero if none */
};

struct pkt_pool_stats {
    uint32_t count;      /* buffers the pool owns */
    uint32_t in_use;     /* handed out and not yet freed */
    uint32_t high_water; /* largest in_use seen */
    uint64_t allocs;
    uint64_t alloc_fail; /* exhaustion: the caller must count a drop */
};

/* Creates a pool of @count buffers of @buf_size bytes each, allocated once
 * here so the hot path never calls malloc. Returns NULL if out of memory. */
struct pkt_pool *pkt_pool_new(const char *name, uint32_t count, uint32_t buf_size);

/* Frees the pool. Every buffer must have been returned; returns how many
 * were still outstanding (0 means clean), so tests can assert no leak. */
uint32_t pkt_pool_destroy(struct pkt_pool *pool);

const struct pkt_pool_stats *pkt_pool_stats(const struct pkt_pool *pool);
uint32_t pkt_pool_buf_size(const struct pkt_pool *pool);
const char *pkt_pool_name(const struct pkt_pool *pool);

/* An empty packet whose data starts @headroom bytes into the buffer, or
 * NULL when the pool is exhausted (counted in alloc_fail) or @headroom does
 * not fit. The caller owns the result. */
struct pkt *pkt_alloc(struct pkt_pool *pool, uint32_t headroom);

/* Consumes @p (NULL is allowed). Debug builds poison the bytes. */
void pkt_free(struct pkt *p);

static inline uint32_t pkt_headroom(const struct pkt *p) { return (uint32_t)(p->data - p->buf); }

static inline uint32_t pkt_tailroom(const struct pkt *p)
{
    return p->cap - pkt_headroom(p) - p->len;
}

/* Whether the transport checksum of @p (data = transport header, whose
 * checksum field is @csum_off bytes in) need not be verified: the device
 * verified it, or it is a partial checksum for exactly this header, which
 * only the local kernel sends (see struct pkt_offload). */
static inline int pkt_l4_csum_trusted(const struct pkt *p, uint16_t csum_off)
{
    return p->off.csum_valid ||
           (p->off.csum_partial && p->off.csum_start == 0 && p->off.csum_offset == csum_off);
}

/* Prepends @n bytes and returns a pointer to them, or NULL (nothing changed)
 * when the headroom is too small. A partial checksum's csum_start moves too. */
uint8_t *pkt_push(struct pkt *p, uint32_t n);

/* Removes @n bytes from the front and returns the new data pointer, or NULL
 * (nothing changed) when the packet is shorter than @n. A partial
 * checksum's csum_start moves too (to 0 at the least). */
uint8_t *pkt_pull(struct pkt *p, uint32_t n);

/* Appends @n bytes at the tail and returns a pointer to them, or NULL
 * (nothing changed) when the tailroom is too small. */
uint8_t *pkt_put(struct pkt *p, uint32_t n);

/* Shortens the packet to @len bytes (no-op when already shorter). */
void pkt_trim(struct pkt *p, uint32_t len);

/* A copy of @p's bytes and offload metadata in a buffer from @pool with
 * @headroom in front, or NULL on exhaustion. Borrows @p. */
struct pkt *pkt_clone(struct pkt_pool *pool, const struct pkt *p, uint32_t headroom);

/* A FIFO of packets. The queue owns what is in it. */
struct pkt_queue {
    struct pkt *head, *tail;
    uint32_t n;
};

static inline void pktq_init(struct pkt_queue *q)
{
    q->head = q->tail = NULL;
    q->n = 0;
}

/* Consumes @p into the queue. */
static inline void pktq_push(struct pkt_queue *q, struct pkt *p)
{
    p->next = NULL;
    if (q->tail)
        q->tail->next = p;
    else
        q->head = p;
    q->tail = p;
    q->n++;
}

/* The oldest packet, now owned by the caller, or NULL. */
static inline struct pkt *pktq_pop(struct pkt_queue *q)
{
    struct pkt *p = q->head;
    if (!p)
        return NULL;
    q->head = p->next;
    if (!q->head)
        q->tail = NULL;
    p->next = NULL;
    q->n--;
    return p;
}

/* Frees every packet in the queue. */
void pktq_purge(struct pkt_queue *q);

#endif
