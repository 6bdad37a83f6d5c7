/* wire/ip4.c: RFC 791 header parsing and building. */
#include <stdio.h>
#include <string.h>

#include "core/bytes.h"
#include "wire/csum.h"
#include "wire/ip4.h"
#include "wire/wire.h"

int ip4_parse(struct ip4_hdr *h, const uint8_t *b, size_t len)
{
    if (len < IP4_HDR_LEN)
        return WIRE_ETRUNC;
    if (b[0] >> 4 != 4)
        return WIRE_EBADVER;
    uint8_t hdr_len = (uint8_t)((b[0] & 0x0f) * 4);
    uint16_t total = rd16(b + 2);
    if (hdr_len < IP4_HDR_LEN || hdr_len > len)
        return WIRE_EBADHDR;
    if (total < hdr_len || total > len)
        return WIRE_EBADLEN;
    h->hdr_len = hdr_len;
    h->tos = b[1];
    h->total_len = total;
    h->id = rd16(b + 4);
    h->frag = rd16(b + 6);
    h->ttl = b[8];
    h->proto = b[9];
    h->csum = rd16(b + 10);
    h->src = rd32(b + 12);
    h->dst = rd32(b + 16);
    return WIRE_OK;
}

int ip4_csum_ok(const uint8_t *b, uint8_t hdr_len) { return csum_buf(b, hdr_len) == 0; }

void ip4_build(uint8_t *b, const struct ip4_hdr *h)
{
    b[0] = 0x45;
    b[1] = h->tos;
    wr16(b + 2, h->total_len);
    wr16(b + 4, h->id);
    wr16(b + 6, h->frag);
    b[8] = h->ttl;
    b[9] = h->proto;
    wr16(b + 10, 0);
    wr32(b + 12, h->src);
    wr32(b + 16, h->dst);
    wr16(b + 10, csum_buf(b, IP4_HDR_LEN));
}

/* A decimal number up to @max: digits only (no sign, space or leading
 * zero, which inet_pton rejects too). Returns the character after it, or
 * NULL. */
static const char *parse_dec(const char *s, unsigned max, unsigned *out)
{
    unsigned v = 0;
    int n = 0;
    for (; *s >= '0' && *s <= '9'; s++, n++) {
        if (n > 0 && v == 0)
            return NULL;
        v = v * 10 + (unsigned)(*s - '0');
        if (v > max)
            return NULL;
    }
    if (n == 0)
        return NULL;
    *out = v;
    return s;
}

/* Dotted quad; returns the character after it, or NULL. */
static const char *parse_quad(const char *s, uint32_t *addr)
{
    uint32_t a = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v;
        if (i > 0 && *s++ != '.')
            return NULL;
        if (!(s = parse_dec(s, 255, &v)))
            return NULL;
        a = a << 8 | v;
    }
    *addr = a;
    return s;
}

int ip4_parse_addr(const char *s, uint32_t *addr)
{
    uint32_t a;
    const char *end = parse_quad(s, &a);
    if (!end || *end)
        return -1;
    *addr = a;
    return 0;
}

int ip4_parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix)
{
    uint32_t a;
    unsigned p;
    const char *end = parse_quad(s, &a);
    if (!end || *end != '/' || !(end = parse_dec(end + 1, 32, &p)) || *end)
        return -1;
    *addr = a;
    *prefix = (uint8_t)p;
    return 0;
}

char *ip4_fmt(uint32_t addr, char *buf)
{
    snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255,
             addr & 255);
    return buf;
}
