/* wire/eth.h: Ethernet II headers (no 802.1Q: tagged frames are "unknown
 * type" to us). */
#ifndef SYNACK_WIRE_ETH_H
#define SYNACK_WIRE_ETH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/bytes.h"

#define ETH_HDR_LEN 14
#define ETH_ALEN 6
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806

struct eth_view {
    const uint8_t *h;
};

/* 0, or WIRE_ETRUNC when @len < ETH_HDR_LEN. */
int eth_view_parse(struct eth_view *v, const uint8_t *b, size_t len);

static inline const uint8_t *eth_v_dst(struct eth_view v) { return v.h; }
static inline const uint8_t *eth_v_src(struct eth_view v) { return v.h + 6; }
static inline uint16_t eth_v_type(struct eth_view v) { return rd16(v.h + 12); }

/* Writes a header at @h (ETH_HDR_LEN bytes). */
static inline void eth_build(uint8_t *h, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    memcpy(h, dst, 6);
    memcpy(h + 6, src, 6);
    wr16(h + 12, type);
}

static inline int eth_is_broadcast(const uint8_t *mac)
{
    static const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    return memcmp(mac, bc, 6) == 0;
}

extern const uint8_t eth_broadcast[6];

/* Parses "02:00:00:aa:bb:cc" (one or two hex digits per octet) into @mac.
 * Returns 0 or -1 (@mac untouched). */
int eth_parse_mac(const char *s, uint8_t mac[6]);

#endif
