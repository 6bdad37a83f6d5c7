/* wire/arp.c: RFC 826 packet format. */
#include <string.h>

#include "core/bytes.h"
#include "wire/arp.h"
#include "wire/wire.h"

int arp_parse(struct arp_msg *m, const uint8_t *b, size_t len)
{
    if (len < ARP_LEN)
        return WIRE_ETRUNC;
    if (rd16(b) != 1 || rd16(b + 2) != 0x0800 || b[4] != 6 || b[5] != 4)
        return WIRE_EUNSUPP;
    m->op = rd16(b + 6);
    memcpy(m->sha, b + 8, 6);
    m->spa = rd32(b + 14);
    memcpy(m->tha, b + 18, 6);
    m->tpa = rd32(b + 24);
    return WIRE_OK;
}

void arp_build(uint8_t *b, const struct arp_msg *m)
{
    wr16(b, 1);
    wr16(b + 2, 0x0800);
    b[4] = 6;
    b[5] = 4;
    wr16(b + 6, m->op);
    memcpy(b + 8, m->sha, 6);
    wr32(b + 14, m->spa);
    memcpy(b + 18, m->tha, 6);
    wr32(b + 24, m->tpa);
}
