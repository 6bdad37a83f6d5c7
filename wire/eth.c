/* wire/eth.c: Ethernet II parsing and MAC text. */
#include <string.h>

#include "wire/eth.h"
#include "wire/wire.h"

const uint8_t eth_broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

int eth_view_parse(struct eth_view *v, const uint8_t *b, size_t len)
{
    if (len < ETH_HDR_LEN)
        return WIRE_ETRUNC;
    v->h = b;
    return WIRE_OK;
}


/* Strict: six groups of one or two hex digits separated by ':', nothing
 * else (sscanf's %x would take signs, spaces and "0x"). */
int eth_parse_mac(const char *s, uint8_t mac[6])
{
    uint8_t m[6];
    for (int i = 0; i < 6; i++) {
        int hi = hex_value(*s++);
        if (hi < 0)
            return -1;
        int lo = hex_value(*s);
        if (lo >= 0)
            s++;
        m[i] = (uint8_t)(lo >= 0 ? hi << 4 | lo : hi);
        if (*s != (i < 5 ? ':' : '\0'))
            return -1;
        if (i < 5)
            s++;
    }
    memcpy(mac, m, 6);
    return 0;
}

const char *wire_strerror(int err)
{
    switch (err) {
    case WIRE_OK: return "ok";
    case WIRE_ETRUNC: return "truncated";
    case WIRE_EBADLEN: return "bad length";
    case WIRE_EBADVER: return "bad version";
    case WIRE_EBADHDR: return "bad header length";
    case WIRE_EBADCSUM: return "bad checksum";
    case WIRE_EBADOPT: return "bad option";
    case WIRE_EUNSUPP: return "unsupported";
    }
    return "unknown error";
}
