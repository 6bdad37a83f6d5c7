/* tests/unit/helpers/frames.c: see frames.h. Frames are built here with
 * code of their own (not wire/'s builders), so a unit test compares the
 * stack against an independent rendering of the same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/stack_impl.h"
#include "helpers/frames.h"

const uint8_t fr_our_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const uint8_t fr_peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const uint8_t fr_other_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x03};
const uint8_t fr_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* tcpdump -i vgc0 -w golden.pcap 'arp or icmp' while the kernel at
 * 192.0.2.1 ran `ping -c 1 -s 32 -p 73796e61636b 192.0.2.2` to the kernel
 * at 192.0.2.2 (Linux 6.x, veth, no padding). */
const uint8_t fr_golden_arp_request[42] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x01, 0xc0, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xc0, 0x00, 0x02, 0x02,
};
const uint8_t fr_golden_arp_reply[42] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x02, 0xc0, 0x00, 0x02, 0x02, 0x02, 0x00, 0x00, 0x00,
    0x00, 0x01, 0xc0, 0x00, 0x02, 0x01,
};
const uint8_t fr_golden_echo_request[74] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x3c, 0x8c, 0x3e, 0x40, 0x00, 0x40, 0x01,
    0x2a, 0x7f, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, 0x08, 0x00,
    0xe1, 0x91, 0x34, 0xbe, 0x00, 0x01, 0x08, 0xae, 0x04, 0x6b, 0x00, 0x00,
    0x00, 0x00, 0x6a, 0x24, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x6b,
    0x73, 0x79, 0x6e, 0x61, 0x63, 0x6b, 0x73, 0x79, 0x6e, 0x61, 0x63, 0x6b,
    0x73, 0x79,
};
const uint8_t fr_golden_echo_reply[74] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x3c, 0xdd, 0x2b, 0x00, 0x00, 0x40, 0x01,
    0x19, 0x92, 0xc0, 0x00, 0x02, 0x02, 0xc0, 0x00, 0x02, 0x01, 0x00, 0x00,
    0xe9, 0x91, 0x34, 0xbe, 0x00, 0x01, 0x08, 0xae, 0x04, 0x6b, 0x00, 0x00,
    0x00, 0x00, 0x6a, 0x24, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x6b,
    0x73, 0x79, 0x6e, 0x61, 0x63, 0x6b, 0x73, 0x79, 0x6e, 0x61, 0x63, 0x6b,
    0x73, 0x79,
};

/* ---- building ---------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* RFC 1071, written out again here so tests do not check wire/csum.c with
 * itself. */
static uint16_t ref_csum(const uint8_t *p, size_t len)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

size_t fr_ip4(uint8_t *b, const struct fr_ip *h, const void *payload, size_t len)
{
    size_t hl = 20 + h->opts_len;
    assert_true(h->opts_len % 4 == 0 && h->opts_len <= 40);
    assert_true(hl + len <= 0xffff);
    b[0] = (uint8_t)(0x40 | hl / 4);
    b[1] = h->tos;
    put16(b + 2, (uint16_t)(hl + len));
    put16(b + 4, h->id ? h->id : 0x1234);
    put16(b + 6, h->frag);
    b[8] = h->ttl ? h->ttl : 64;
    b[9] = h->proto;
    put16(b + 10, 0);
    put32(b + 12, h->src ? h->src : FR_PEER_IP);
    put32(b + 16, h->dst ? h->dst : FR_OUR_IP);
    if (h->opts_len)
        memcpy(b + 20, h->opts, h->opts_len);
    put16(b + 10, ref_csum(b, hl));
    if (len)
        memmove(b + hl, payload, len);
    return hl + len;
}

size_t fr_eth(uint8_t *b, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    memcpy(b, dst, 6);
    memcpy(b + 6, src, 6);
    put16(b + 12, type);
    return 14;
}

size_t fr_eth_ip4(uint8_t *frame, const struct fr_ip *h, const void *payload, size_t len)
{
    fr_eth(frame, fr_our_mac, fr_peer_mac, 0x0800);
    return 14 + fr_ip4(frame + 14, h, payload, len);
}

size_t fr_icmp_echo(uint8_t *b, uint8_t type, uint16_t id, uint16_t seq, const void *data,
                    size_t len)
{
    if (len)
        memmove(b + 8, data, len);
    b[0] = type;
    b[1] = 0;
    put16(b + 2, 0);
    put16(b + 4, id);
    put16(b + 6, seq);
    put16(b + 2, ref_csum(b, 8 + len));
    return 8 + len;
}

size_t fr_ping(uint8_t *frame, uint16_t id, uint16_t seq, const void *data, size_t len)
{
    uint8_t *icmp = malloc(8 + len);
    assert_non_null(icmp);
    size_t n = fr_icmp_echo(icmp, 8, id, seq, data, len);
    size_t fl = fr_eth_ip4(frame, &(struct fr_ip){.proto = 1}, icmp, n);
    free(icmp);
    return fl;
}

size_t fr_arp(uint8_t *frame, uint16_t op, const uint8_t eth_dst[6], const uint8_t sha[6],
              uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
    fr_eth(frame, eth_dst, sha, 0x0806);
    uint8_t *a = frame + 14;
    put16(a, 1);
    put16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, op);
    memcpy(a + 8, sha, 6);
    put32(a + 14, spa);
    memcpy(a + 18, tha, 6);
    put32(a + 24, tpa);
    return 42;
}

void fr_pattern(uint8_t *b, size_t len, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (uint8_t)(x >> 16);
    }
}

struct fr_frame *fr_fragment(const uint8_t *dgram, size_t len, size_t mtu, size_t *n)
{
    size_t hl = (size_t)(dgram[0] & 15) * 4;
    size_t payload = len - hl;
    size_t chunk = (mtu - hl) & ~(size_t)7;
    size_t count = (payload + chunk - 1) / chunk;
    struct fr_frame *f = calloc(count ? count : 1, sizeof(*f));
    assert_non_null(f);
    uint16_t base = get16(dgram + 6);
    for (size_t i = 0; i < count; i++) {
        size_t off = i * chunk;
        size_t flen = payload - off < chunk ? payload - off : chunk;
        uint8_t *ip = f[i].b + 14;
        fr_eth(f[i].b, fr_our_mac, fr_peer_mac, 0x0800);
        memcpy(ip, dgram, hl);
        memcpy(ip + hl, dgram + hl + off, flen);
        put16(ip + 2, (uint16_t)(hl + flen));
        uint16_t frag = (uint16_t)((base & 0x4000) | ((base & 0x1fff) + off / 8));
        if (i + 1 < count || (base & 0x2000))
            frag |= 0x2000;
        put16(ip + 6, frag);
        put16(ip + 10, 0);
        put16(ip + 10, ref_csum(ip, hl));
        f[i].len = 14 + hl + flen;
    }
    *n = count;
    return f;
}

void fr_shuffle(struct fr_frame *f, size_t n, uint32_t seed)
{
    uint32_t x = seed | 1;
    for (size_t i = n; i > 1; i--) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        size_t j = x % i;
        struct fr_frame tmp = f[i - 1];
        f[i - 1] = f[j];
        f[j] = tmp;
    }
}

/* ---- a stack under test ----------------------------------------------- */

void fr_default_opts(struct sn_stack_opts *o, const struct sn_config *cfg)
{
    memset(o, 0, sizeof(*o));
    if (cfg)
        o->cfg = *cfg;
    else
        sn_config_defaults(&o->cfg);
    o->link = SN_LINK_ETH;
    memcpy(o->mac, fr_our_mac, 6);
    o->addr = FR_OUR_IP;
    o->prefix_len = 24;
    o->mtu = FR_MTU;
    o->seed = 1;
}

struct sn_stack *fr_stack_new_opts(const struct sn_stack_opts *o, int resolve_peer)
{
    struct sn_stack *s = NULL;
    assert_int_equal(sn_stack_new(o, FR_T0, &s), 0);
    assert_non_null(s);
    if (resolve_peer && o->link == SN_LINK_ETH) {
        assert_int_equal(fr_drain(s), 1); /* the gratuitous ARP */
        fr_input(s, fr_golden_arp_request, sizeof(fr_golden_arp_request), FR_T0);
        assert_int_equal(fr_drain(s), 1); /* our reply */
    }
    return s;
}

struct sn_stack *fr_stack_new(const struct sn_config *cfg, int resolve_peer)
{
    struct sn_stack_opts o;
    fr_default_opts(&o, cfg);
    return fr_stack_new_opts(&o, resolve_peer);
}

void fr_input(struct sn_stack *s, const void *frame, size_t len, sn_time now)
{
    assert_int_equal(sn_stack_input_bytes(s, frame, len, now), 0);
}

size_t fr_output(struct sn_stack *s, uint8_t *buf)
{
    int n = sn_stack_output_bytes(s, buf, FR_FRAME_MAX);
    assert_true(n >= 0); /* never larger than a full Ethernet frame */
    return (size_t)n;
}

size_t fr_drain(struct sn_stack *s)
{
    size_t n = 0;
    struct pkt *p;
    while ((p = sn_stack_output(s))) {
        pkt_free(p);
        n++;
    }
    return n;
}

void fr_stack_done(struct sn_stack *s, sn_time now)
{
    fr_drain(s);
    /* Step through the timers (ARP retries and expiry, reassembly) rather
     * than jumping, so each fires at its own deadline and may send. */
    sn_time end = now + SN_SEC(86400);
    for (int i = 0; i < 100000; i++) {
        sn_time next = sn_stack_next_deadline(s);
        if (next == SN_TIME_NEVER || next > end)
            break;
        sn_stack_advance(s, next > now ? next : now);
        now = next > now ? next : now;
        fr_drain(s);
    }
    sn_stack_advance(s, end);
    fr_drain(s);
    assert_int_equal(sn_stack_bufs_in_use(s), 0);
    assert_int_equal(pkt_pool_stats(s->rx)->in_use, 0);
    assert_int_equal(pkt_pool_stats(s->tx)->in_use, 0);
    assert_int_equal(pkt_pool_stats(s->big)->in_use, 0);
    sn_stack_free(s);
}

uint64_t fr_drops(const struct sn_stack *s, enum sn_drop why) { return s->st.drop[why]; }

uint64_t fr_count(const struct sn_stack *s, enum sn_counter c) { return s->st.c[c]; }

uint64_t fr_drops_total(const struct sn_stack *s)
{
    uint64_t t = 0;
    for (int i = 0; i < SN_DROP_COUNT; i++)
        t += s->st.drop[i];
    return t;
}

/* ---- checking ---------------------------------------------------------- */

const uint8_t *fr_check_ip4(const uint8_t *frame, size_t len, const uint8_t eth_dst[6],
                            struct ip4_hdr *ip)
{
    assert_true(len >= 14 + 20);
    assert_memory_equal(frame, eth_dst, 6);
    assert_memory_equal(frame + 6, fr_our_mac, 6);
    assert_int_equal(get16(frame + 12), 0x0800);
    const uint8_t *b = frame + 14;
    assert_int_equal(ip4_parse(ip, b, len - 14), 0);
    assert_int_equal(ip->total_len, len - 14);
    assert_int_equal(ref_csum(b, ip->hdr_len), 0);
    assert_int_equal(ip->src, FR_OUR_IP);
    assert_true(ip->ttl > 0);
    return b;
}

void fr_reasm_init(struct fr_reasm *r) { memset(r, 0, sizeof(*r)); }

void fr_reasm_add(struct fr_reasm *r, const uint8_t *ip4, size_t len)
{
    size_t hl = (size_t)(ip4[0] & 15) * 4;
    assert_true(hl >= 20 && hl <= len);
    assert_int_equal(get16(ip4 + 2), len);
    uint16_t frag = get16(ip4 + 6);
    uint32_t off = (uint32_t)(frag & 0x1fff) * 8;
    uint32_t plen = (uint32_t)(len - hl);
    if (r->n_frags == 0)
        r->id = get16(ip4 + 4);
    assert_int_equal(get16(ip4 + 4), r->id);
    assert_false(frag & 0x4000); /* a fragment never has DF */
    assert_true(off + plen <= 65535 - 20);
    if (frag & 0x2000)
        assert_int_equal(plen % 8, 0);
    else
        r->total = off + plen;
    for (uint32_t i = 0; i < plen; i++) {
        assert_false(r->have[off + i]); /* the sender never overlaps */
        r->have[off + i] = 1;
    }
    memcpy(r->data + off, ip4 + hl, plen);
    if (off == 0) {
        memcpy(r->first_hdr, ip4, hl);
        r->have_first = 1;
    }
    r->n_frags++;
}

size_t fr_reasm_done(const struct fr_reasm *r, uint8_t *out)
{
    if (!r->have_first || !r->total)
        return 0;
    for (uint32_t i = 0; i < r->total; i++)
        if (!r->have[i])
            return 0;
    memcpy(out, r->first_hdr, 20);
    out[0] = 0x45;
    put16(out + 2, (uint16_t)(20 + r->total));
    put16(out + 6, 0);
    put16(out + 10, 0);
    put16(out + 10, ref_csum(out, 20));
    memcpy(out + 20, r->data, r->total);
    return 20 + r->total;
}
