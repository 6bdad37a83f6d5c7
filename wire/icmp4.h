/* wire/icmp4.h: ICMP for IPv4 (RFC 792). */
#ifndef SYNACK_WIRE_ICMP4_H
#define SYNACK_WIRE_ICMP4_H

#include <stddef.h>
#include <stdint.h>

#define ICMP4_HDR_LEN 8
#define ICMP4_ECHO_REPLY 0
#define ICMP4_DEST_UNREACH 3
#define ICMP4_ECHO_REQUEST 8
#define ICMP4_TIME_EXCEEDED 11
#define ICMP4_UNREACH_PROTO 2
#define ICMP4_UNREACH_PORT 3
#define ICMP4_UNREACH_FRAG_NEEDED 4

struct icmp4_hdr {
    uint8_t type, code;
    uint16_t csum;
    uint32_t rest; /* id/seq for echo, unused/next-hop MTU for unreachable */
};

/* Parses the message of @len bytes at @b: 0, WIRE_ETRUNC, or WIRE_EBADCSUM
 * (the checksum covers the whole message, RFC 792). */
int icmp4_parse(struct icmp4_hdr *h, const uint8_t *b, size_t len);

/* Writes the 8-byte header at @b, then the checksum over it and the
 * @len - 8 bytes of body that already follow it. */
void icmp4_build(uint8_t *b, size_t len, const struct icmp4_hdr *h);

#endif
