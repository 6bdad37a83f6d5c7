/* wire/ip4.h: IPv4 headers (RFC 791). */
#ifndef SYNACK_WIRE_IP4_H
#define SYNACK_WIRE_IP4_H

#include <stddef.h>
#include <stdint.h>

#define IP4_HDR_LEN 20
#define IP4_MAX_HDR_LEN 60
#define IP4_PROTO_ICMP 1
#define IP4_PROTO_TCP 6
#define IP4_PROTO_UDP 17
#define IP4_FLAG_DF 0x4000
#define IP4_FLAG_MF 0x2000
#define IP4_FRAG_MASK 0x1fff

/* Host-order summary of an IPv4 header. */
struct ip4_hdr {
    uint8_t hdr_len;    /* IHL * 4, 20..60 */
    uint8_t tos;
    uint16_t total_len; /* hdr_len..65535 */
    uint16_t id;
    uint16_t frag;      /* flags (DF, MF) | offset in 8-byte units */
    uint8_t ttl;
    uint8_t proto;
    uint16_t csum;      /* as on the wire */
    uint32_t src, dst;
};

static inline int ip4_mf(const struct ip4_hdr *h) { return (h->frag & IP4_FLAG_MF) != 0; }
static inline int ip4_df(const struct ip4_hdr *h) { return (h->frag & IP4_FLAG_DF) != 0; }
static inline uint32_t ip4_frag_off(const struct ip4_hdr *h) { return (uint32_t)(h->frag & IP4_FRAG_MASK) * 8; }
static inline int ip4_is_fragment(const struct ip4_hdr *h) { return ip4_mf(h) || ip4_frag_off(h) != 0; }

/* Parses and validates the header at @b: 0, or WIRE_ETRUNC (len < 20),
 * WIRE_EBADVER (version != 4), WIRE_EBADHDR (IHL < 5 or beyond @len),
 * WIRE_EBADLEN (total length < IHL or > @len). On error *h is untouched. The checksum
 * is not checked here: see ip4_csum_ok (devices may have verified it). */
int ip4_parse(struct ip4_hdr *h, const uint8_t *b, size_t len);

/* 1 when the header's checksum verifies. @b holds at least h->hdr_len. */
int ip4_csum_ok(const uint8_t *b, uint8_t hdr_len);

/* Writes a 20-byte header (no options) from @h, checksum filled in;
 * h->hdr_len and h->csum are ignored. */
void ip4_build(uint8_t *b, const struct ip4_hdr *h);

/* "192.0.2.1" -> host order: four decimal octets, no signs, spaces or
 * leading zeros. Returns 0 or -1 (*addr untouched). */
int ip4_parse_addr(const char *s, uint32_t *addr);
/* "192.0.2.1/24". Returns 0 or -1 (prefix must be 0..32; nothing is
 * written on error). */
int ip4_parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix);
/* Formats into @buf (at least 16 bytes) and returns it. */
char *ip4_fmt(uint32_t addr, char *buf);

static inline uint32_t ip4_prefix_mask(uint8_t prefix)
{
    return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

#endif
