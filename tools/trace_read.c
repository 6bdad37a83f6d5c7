/* tools/trace_read.c: reads a capture with libpcap (pcap and pcapng alike)
 * and groups its TCP segments into connections. Link layers: Ethernet
 * (with 802.1Q/802.1ad tags), raw IPv4, Linux cooked v1 and v2, BSD
 * loopback. Frames are decoded with wire/'s parsers; a segment whose
 * capture was cut short by the snap length keeps its true payload length
 * from the IPv4 header. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "tools/trace.h"
#include "wire/eth.h"
#include "wire/ip4.h"
#include "wire/wire.h"

#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_LOOP
#define DLT_LOOP 108
#endif

#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define AF_INET_BSD 2

struct tr_row *trace_row_add(struct tr_conn *c) { return trace_row_insert(c, c->n_rows); }

struct tr_row *trace_row_insert(struct tr_conn *c, size_t at)
{
    if (c->n_rows == c->cap_rows) {
        size_t cap = c->cap_rows ? c->cap_rows * 2 : 16;
        struct tr_row *r = realloc(c->rows, cap * sizeof(*r));
        if (!r)
            return NULL;
        c->rows = r;
        c->cap_rows = cap;
    }
    memmove(&c->rows[at + 1], &c->rows[at], (c->n_rows - at) * sizeof(*c->rows));
    c->n_rows++;
    struct tr_row *r = &c->rows[at];
    memset(r, 0, sizeof(*r));
    r->state[0] = r->state[1] = TR_NO_STATE;
    return r;
}

void trace_capture_free(struct tr_capture *cap)
{
    for (size_t i = 0; i < cap->n_conns; i++) {
        free(cap->conns[i]->rows);
        free(cap->conns[i]);
    }
    free(cap->conns);
    memset(cap, 0, sizeof(*cap));
}

/* The IPv4 packet inside a frame of link type @dlt, or NULL. */
static const uint8_t *link_payload(int dlt, const uint8_t *b, size_t len, size_t *ip_len)
{
    size_t off;
    uint16_t type;
    switch (dlt) {
    case DLT_EN10MB:
        if (len < 14)
            return NULL;
        off = 14;
        type = rd16(b + 12);
        while ((type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ) && len >= off + 4) {
            type = rd16(b + off + 2);
            off += 4;
        }
        if (type != ETHERTYPE_IPV4)
            return NULL;
        break;
    case DLT_RAW:
    case DLT_IPV4:
        off = 0;
        break;
    case DLT_LINUX_SLL: /* 16 bytes, protocol last */
        if (len < 16 || rd16(b + 14) != ETHERTYPE_IPV4)
            return NULL;
        off = 16;
        break;
    case DLT_LINUX_SLL2: /* 20 bytes, protocol first */
        if (len < 20 || rd16(b) != ETHERTYPE_IPV4)
            return NULL;
        off = 20;
        break;
    case DLT_NULL: /* the family in the writer's byte order */
        if (len < 4 || (b[0] != AF_INET_BSD && b[3] != AF_INET_BSD))
            return NULL;
        off = 4;
        break;
    case DLT_LOOP:
        if (len < 4 || rd32(b) != AF_INET_BSD)
            return NULL;
        off = 4;
        break;
    default:
        return NULL;
    }
    if (len <= off || (b[off] >> 4) != 4)
        return NULL;
    *ip_len = len - off;
    return b + off;
}

static bool link_supported(int dlt)
{
    return dlt == DLT_EN10MB || dlt == DLT_RAW || dlt == DLT_IPV4 || dlt == DLT_LINUX_SLL ||
           dlt == DLT_LINUX_SLL2 || dlt == DLT_NULL || dlt == DLT_LOOP;
}

static uint32_t tuple_hash(uint32_t a1, uint16_t p1, uint32_t a2, uint16_t p2)
{
    /* Symmetric: both directions land in one bucket. */
    uint32_t x = (a1 ^ a2) * 2654435761u ^ (uint32_t)(p1 ^ p2) * 2246822519u ^ (a1 + a2);
    x ^= x >> 15;
    return x & (TR_HASH - 1);
}

struct tr_conn *trace_conn_chain(const struct tr_capture *cap, uint32_t a1, uint16_t p1,
                                 uint32_t a2, uint16_t p2)
{
    return cap->hash[tuple_hash(a1, p1, a2, p2)];
}

static bool conn_has(const struct tr_conn *c, uint32_t src, uint16_t sport, uint32_t dst,
                     uint16_t dport)
{
    return (c->addr[0] == src && c->port[0] == sport && c->addr[1] == dst && c->port[1] == dport) ||
           (c->addr[1] == src && c->port[1] == sport && c->addr[0] == dst && c->port[0] == dport);
}

static struct tr_conn *conn_new(struct tr_capture *cap, const char *file, uint32_t client,
                                uint16_t cport, uint32_t server, uint16_t sport)
{
    if (cap->n_conns == cap->cap_conns) {
        size_t n = cap->cap_conns ? cap->cap_conns * 2 : 16;
        struct tr_conn **v = realloc(cap->conns, n * sizeof(*v));
        if (!v)
            return NULL;
        cap->conns = v;
        cap->cap_conns = n;
    }
    struct tr_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->id = (int)cap->n_conns + 1;
    c->file = file;
    c->addr[0] = client;
    c->port[0] = cport;
    c->addr[1] = server;
    c->port[1] = sport;
    uint32_t h = tuple_hash(client, cport, server, sport);
    c->hnext = cap->hash[h]; /* newest first: lookups find the latest */
    cap->hash[h] = c;
    cap->conns[cap->n_conns++] = c;
    return c;
}

/* The connection a segment belongs to, made when it starts one: a SYN
 * after the last one closed, or a SYN with a new ISN. */
static struct tr_conn *conn_for(struct tr_capture *cap, const char *file, uint32_t src,
                                uint32_t dst, const struct tcp_seg *sg)
{
    struct tr_conn *c = cap->hash[tuple_hash(src, sg->sport, dst, sg->dport)];
    while (c && !conn_has(c, src, sg->sport, dst, sg->dport))
        c = c->hnext;
    bool syn_only = (sg->flags & (TCP_F_SYN | TCP_F_ACK)) == TCP_F_SYN;
    if (c) {
        int dir = c->addr[0] == src && c->port[0] == sg->sport ? 0 : 1;
        bool new_isn = syn_only && c->have_base[dir] && c->base[dir] != sg->seq;
        if (!(syn_only && (c->finished || new_isn)))
            return c;
    }
    if (syn_only)
        return conn_new(cap, file, src, sg->sport, dst, sg->dport);
    if (sg->flags & TCP_F_SYN) /* SYN+ACK: its sender is the server */
        return conn_new(cap, file, dst, sg->dport, src, sg->sport);
    /* Mid-stream: the higher (ephemeral-looking) port is the client's. */
    if (sg->dport > sg->sport)
        return conn_new(cap, file, dst, sg->dport, src, sg->sport);
    return conn_new(cap, file, src, sg->sport, dst, sg->dport);
}

/* Decodes one frame and files its segment. Returns 0, or -1 out of memory. */
static int add_frame(struct tr_capture *cap, const char *file, const struct pcap_pkthdr *h,
                     const uint8_t *b, uint32_t frame)
{
    /* A time beyond what µs since the epoch hold (a pcapng's 64-bit
     * timestamp can say anything) makes the frame malformed. */
    if (h->ts.tv_sec < 0 || h->ts.tv_usec < 0 ||
        h->ts.tv_sec > (INT64_MAX - h->ts.tv_usec) / 1000000) {
        cap->malformed++;
        return 0;
    }
    size_t len;
    const uint8_t *ip = link_payload(cap->linktype, b, h->caplen, &len);
    if (!ip) {
        cap->not_tcp++;
        return 0;
    }
    /* The IPv4 header by hand when the capture cut the packet short; the
     * payload length then comes from the header, not from what is here. */
    struct ip4_hdr ih;
    size_t avail = len;
    if (ip4_parse(&ih, ip, len) != 0) {
        uint32_t ihl = len >= 20 ? (uint32_t)(ip[0] & 15) * 4 : 0;
        if (h->caplen >= h->len || ihl < 20 || ihl > len || rd16(ip + 2) < ihl) {
            cap->malformed++;
            return 0;
        }
        ih.hdr_len = (uint8_t)ihl;
        ih.total_len = rd16(ip + 2);
        ih.frag = rd16(ip + 6);
        ih.proto = ip[9];
        ih.src = rd32(ip + 12);
        ih.dst = rd32(ip + 16);
    } else {
        avail = ih.total_len; /* drops Ethernet padding */
    }
    if (ih.proto != IP4_PROTO_TCP) {
        cap->not_tcp++;
        return 0;
    }
    if (ip4_is_fragment(&ih)) {
        cap->fragments++;
        return 0;
    }
    struct tcp_seg sg;
    if (tcp_seg_parse(&sg, ip + ih.hdr_len, avail - ih.hdr_len) != 0) {
        cap->malformed++;
        return 0;
    }
    uint32_t doff = (uint32_t)(ip[ih.hdr_len + 12] >> 4) * 4;
    if (ih.total_len < ih.hdr_len + doff) {
        cap->malformed++;
        return 0;
    }
    sg.len = ih.total_len - ih.hdr_len - doff;
    cap->tcp_segs++;

    struct tr_conn *c = conn_for(cap, file, ih.src, ih.dst, &sg);
    struct tr_row *r = c ? trace_row_add(c) : NULL;
    if (!r)
        return -1;
    int dir = c->addr[0] == ih.src && c->port[0] == sg.sport ? 0 : 1;
    r->t_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
    r->has_seg = true;
    r->seg = (struct tr_seg){.dir = (uint8_t)dir,
                             .flags = sg.flags,
                             .wnd = sg.wnd,
                             .seq = sg.seq,
                             .ack = sg.ack,
                             .len = sg.len,
                             .opt = sg.opt,
                             .frame = frame};
    if ((sg.flags & TCP_F_SYN) && !c->have_base[dir]) {
        c->have_base[dir] = true;
        c->base[dir] = sg.seq;
    }
    if (sg.flags & TCP_F_RST)
        c->finished = true;
    if (sg.flags & TCP_F_FIN) {
        c->fin_seen[dir] = true;
        if (c->fin_seen[1 - dir])
            c->finished = true;
    }
    return 0;
}

int trace_read(struct tr_capture *cap, const char *path, char *err, size_t err_len)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pd = pcap_open_offline(path, ebuf);
    if (!pd) {
        /* Some of libpcap's messages name the file already. */
        if (strstr(ebuf, path))
            snprintf(err, err_len, "cannot read capture: %s", ebuf);
        else
            snprintf(err, err_len, "cannot read capture %s: %s", path, ebuf);
        return -1;
    }
    cap->linktype = pcap_datalink(pd);
    cap->frames = cap->tcp_segs = cap->not_tcp = cap->malformed = cap->fragments = 0;
    cap->stopped[0] = 0;
    if (!link_supported(cap->linktype)) {
        const char *name = pcap_datalink_val_to_name(cap->linktype);
        snprintf(err, err_len,
                 "%s: link type %s (%d) is not one synack trace reads (Ethernet, raw IPv4, "
                 "Linux cooked, BSD loopback)",
                 path, name ? name : "unknown", cap->linktype);
        pcap_close(pd);
        return -1;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc;
    uint32_t frame = 0;
    while ((rc = pcap_next_ex(pd, &h, &data)) == 1) {
        cap->frames++;
        if (add_frame(cap, path, h, data, ++frame) < 0) {
            snprintf(err, err_len, "%s: out of memory after %u frames", path, frame);
            pcap_close(pd);
            return -1;
        }
    }
    if (rc == PCAP_ERROR) {
        /* A capture cut off mid-frame (a writer killed while writing) is
         * read up to there; say so only if nothing was read. */
        if (cap->frames == 0) {
            snprintf(err, err_len, "%s: %s", path, pcap_geterr(pd));
            pcap_close(pd);
            return -1;
        }
        snprintf(cap->stopped, sizeof(cap->stopped), "%s: stopped after %llu frames: %s", path,
                 (unsigned long long)cap->frames, pcap_geterr(pd));
    }
    pcap_close(pd);
    return 0;
}
