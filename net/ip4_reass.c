/* net/ip4_reass.c: IPv4 fragment reassembly (RFC 791 3.2, RFC 1122 3.3.2).
 *
 * Each datagram under reassembly owns one 64 KiB buffer from the big pool;
 * fragments are copied into it at their offset and freed at once, so the
 * receive pool is never held hostage. Received ranges are kept merged and
 * sorted. Any overlap that is not an exact duplicate discards the whole
 * datagram, as Linux does since the FragmentSmack fixes: overlapping
 * fragments have no legitimate use and are the stuff of evasion attacks.
 * Memory is bounded by the number of slots and cfg->reass_max_bytes; a new
 * datagram beyond the bound evicts the oldest. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/container.h"
#include "net/net.h"
#include "wire/icmp4.h"

#define REASS_MAX_RANGES 32 /* a datagram needing more holes is dropped */
#define REASS_MAX_PAYLOAD (0xffff - IP4_HDR_LEN)

struct reass_range {
    uint32_t start, end;
};

struct reass_dgram {
    struct net *net;
    struct pkt *buf;        /* NULL when the slot is free; payload at PKT_HEADROOM */
    struct ip4_hdr first;   /* header of the offset-0 fragment, once seen */
    uint8_t have_first;
    uint32_t src, dst;
    uint16_t id;
    uint8_t proto;
    uint32_t total;         /* payload length, known once the last fragment came */
    uint32_t n_ranges;
    struct reass_range ranges[REASS_MAX_RANGES];
    struct tw_entry timer;
};

static void reass_timeout(struct tw_entry *t, sn_time now);

int ip4_reass_init(struct net *n)
{
    uint32_t slots = n->cfg->reass_max_datagrams;
    n->reass.dgrams = calloc(slots, sizeof(struct reass_dgram));
    if (!n->reass.dgrams)
        return -ENOMEM;
    for (uint32_t i = 0; i < slots; i++) {
        n->reass.dgrams[i].net = n;
        tw_entry_init(&n->reass.dgrams[i].timer, reass_timeout);
    }
    return 0;
}

/* Frees the slot and hands its buffer to the caller. */
static struct pkt *dgram_detach(struct net *n, struct reass_dgram *d)
{
    struct pkt *buf = d->buf;
    tw_cancel(n->tw, &d->timer);
    d->buf = NULL;
    n->reass.n_active--;
    n->reass.bytes_held -= pkt_pool_buf_size(n->big);
    return buf;
}

static void dgram_release(struct net *n, struct reass_dgram *d) { pkt_free(dgram_detach(n, d)); }

void ip4_reass_free(struct net *n)
{
    if (!n->reass.dgrams)
        return;
    for (uint32_t i = 0; i < n->cfg->reass_max_datagrams; i++)
        if (n->reass.dgrams[i].buf)
            dgram_release(n, &n->reass.dgrams[i]);
    free(n->reass.dgrams);
    n->reass.dgrams = NULL;
}

static void dgram_drop(struct net *n, struct reass_dgram *d, enum sn_drop why)
{
    dgram_release(n, d);
    pkt_drop(n->st, NULL, why);
}

/* The datagram's IPv4 header rebuilt in front of its payload (options are
 * not carried over); returns the header now at buf->data. */
static struct ip4_hdr dgram_prepend_header(struct reass_dgram *d, uint32_t payload_len)
{
    struct ip4_hdr h = d->first;
    h.hdr_len = IP4_HDR_LEN;
    h.total_len = (uint16_t)(IP4_HDR_LEN + payload_len);
    h.frag = 0;
    d->buf->data = d->buf->buf + PKT_HEADROOM - IP4_HDR_LEN;
    d->buf->len = IP4_HDR_LEN + payload_len;
    ip4_build(d->buf->data, &h);
    return h;
}

/* RFC 1122 3.3.2: on timeout, if fragment zero arrived, send ICMP Time
 * Exceeded (code 1) quoting it. */
static void reass_timeout(struct tw_entry *t, sn_time now)
{
    struct reass_dgram *d = container_of(t, struct reass_dgram, timer);
    struct net *n = d->net;
    if (d->have_first && d->ranges[0].start == 0) {
        uint32_t quoted = d->ranges[0].end < 8 ? d->ranges[0].end : 8;
        dgram_prepend_header(d, quoted);
        icmp4_send_error(n, d->buf, ICMP4_TIME_EXCEEDED, 1, now);
    }
    dgram_drop(n, d, SN_DROP_IP4_FRAG_TIMEOUT);
}

static struct reass_dgram *find_or_create(struct net *n, const struct ip4_hdr *ip, sn_time now)
{
    struct reass_dgram *free_slot = NULL, *oldest = NULL;
    for (uint32_t i = 0; i < n->cfg->reass_max_datagrams; i++) {
        struct reass_dgram *d = &n->reass.dgrams[i];
        if (!d->buf) {
            if (!free_slot)
                free_slot = d;
            continue;
        }
        if (d->src == ip->src && d->dst == ip->dst && d->id == ip->id && d->proto == ip->proto)
            return d;
        if (!oldest || d->timer.deadline < oldest->timer.deadline)
            oldest = d;
    }
    /* The memory bound counts whole buffers, and one buffer (64 KiB plus
     * headroom) is a little more than the smallest reass_max_bytes: one
     * datagram at a time is always allowed, or nothing could reassemble. */
    uint32_t buf_size = pkt_pool_buf_size(n->big);
    if (!free_slot ||
        (n->reass.n_active && n->reass.bytes_held + buf_size > n->cfg->reass_max_bytes)) {
        if (!oldest)
            return NULL;
        dgram_drop(n, oldest, SN_DROP_IP4_FRAG_LIMIT);
        free_slot = oldest;
    }
    struct pkt *buf = pkt_alloc(n->big, PKT_HEADROOM);
    if (!buf || buf_size < PKT_HEADROOM + REASS_MAX_PAYLOAD) {
        pkt_free(buf);
        return NULL;
    }
    struct reass_dgram *d = free_slot;
    d->buf = buf;
    d->have_first = 0;
    d->src = ip->src;
    d->dst = ip->dst;
    d->id = ip->id;
    d->proto = ip->proto;
    d->total = 0;
    d->n_ranges = 0;
    n->reass.n_active++;
    n->reass.bytes_held += buf_size;
    tw_arm(n->tw, &d->timer, now + SN_MSEC(n->cfg->reass_timeout_ms));
    return d;
}

enum range_result { RANGE_ADDED, RANGE_DUP, RANGE_OVERLAP, RANGE_FULL };

/* Records [start, end) in the sorted, merged range list. */
static enum range_result range_add(struct reass_dgram *d, uint32_t start, uint32_t end)
{
    uint32_t i = 0;
    while (i < d->n_ranges && d->ranges[i].end <= start)
        i++;
    if (i < d->n_ranges && d->ranges[i].start < end) {
        /* Inside what we hold: a retransmitted duplicate. Straddling an
         * edge: an overlap with possibly different bytes. */
        const struct reass_range *r = &d->ranges[i];
        return r->start <= start && end <= r->end ? RANGE_DUP : RANGE_OVERLAP;
    }
    int join_prev = i > 0 && d->ranges[i - 1].end == start;
    int join_next = i < d->n_ranges && d->ranges[i].start == end;
    if (join_prev && join_next) {
        d->ranges[i - 1].end = d->ranges[i].end;
        memmove(&d->ranges[i], &d->ranges[i + 1], (d->n_ranges - i - 1) * sizeof(d->ranges[0]));
        d->n_ranges--;
    } else if (join_prev) {
        d->ranges[i - 1].end = end;
    } else if (join_next) {
        d->ranges[i].start = start;
    } else {
        if (d->n_ranges == REASS_MAX_RANGES)
            return RANGE_FULL;
        memmove(&d->ranges[i + 1], &d->ranges[i], (d->n_ranges - i) * sizeof(d->ranges[0]));
        d->ranges[i] = (struct reass_range){start, end};
        d->n_ranges++;
    }
    return RANGE_ADDED;
}

/* RFC 791: a fragment carries data, and every one but the last a multiple
 * of 8 bytes. */
static int fragment_valid(const struct ip4_hdr *ip, uint32_t len)
{
    return len > 0 && !(ip4_mf(ip) && (len & 7));
}

/* Adds one fragment's payload; returns 0 to keep going, or a drop reason
 * that discards the whole datagram, or -1 for "drop just this fragment". */
static int dgram_add(struct reass_dgram *d, const struct ip4_hdr *ip, const uint8_t *payload,
                     uint32_t off, uint32_t len)
{
    uint32_t end = off + len;
    if (end > REASS_MAX_PAYLOAD)
        return SN_DROP_IP4_FRAG_TOO_BIG;
    if (!ip4_mf(ip)) {
        if ((d->total && d->total != end) || (d->n_ranges && d->ranges[d->n_ranges - 1].end > end))
            return SN_DROP_IP4_FRAG_BAD;
        d->total = end;
    } else if (d->total && end > d->total) {
        return SN_DROP_IP4_FRAG_BAD;
    }
    switch (range_add(d, off, end)) {
    case RANGE_DUP: return -1;
    case RANGE_OVERLAP: return SN_DROP_IP4_FRAG_OVERLAP;
    case RANGE_FULL: return SN_DROP_IP4_FRAG_LIMIT;
    case RANGE_ADDED: break;
    }
    memcpy(d->buf->buf + PKT_HEADROOM + off, payload, len);
    if (off == 0) {
        d->first = *ip;
        d->have_first = 1;
    }
    return 0;
}

void ip4_reass_input(struct net *n, struct pkt *p, const struct ip4_hdr *ip, sn_time now)
{
    uint32_t off = ip4_frag_off(ip);
    uint32_t len = ip->total_len - ip->hdr_len;
    if (!fragment_valid(ip, len)) {
        pkt_drop(n->st, p, SN_DROP_IP4_FRAG_BAD);
        return;
    }
    struct reass_dgram *d = find_or_create(n, ip, now);
    if (!d) {
        pkt_drop(n->st, p, SN_DROP_IP4_FRAG_LIMIT);
        return;
    }
    int verdict = dgram_add(d, ip, p->data + ip->hdr_len, off, len);
    if (verdict != 0) {
        pkt_drop(n->st, p, verdict < 0 ? SN_DROP_IP4_FRAG_DUP : (enum sn_drop)verdict);
        if (verdict > 0)
            dgram_release(n, d);
        return;
    }
    pkt_free(p);
    if (!d->total || d->n_ranges != 1 || d->ranges[0].start != 0 || d->ranges[0].end != d->total)
        return;
    struct ip4_hdr whole = dgram_prepend_header(d, d->total);
    struct pkt *dgram = dgram_detach(n, d);
    STAT_INC(n->st, ip4, reass_ok);
    ip4_deliver(n, dgram, &whole, now);
}
