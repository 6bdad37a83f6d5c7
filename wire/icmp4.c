/* wire/icmp4.c: RFC 792 message header. */
#include "core/bytes.h"
#include "wire/csum.h"
#include "wire/icmp4.h"
#include "wire/wire.h"

int icmp4_parse(struct icmp4_hdr *h, const uint8_t *b, size_t len)
{
    if (len < ICMP4_HDR_LEN)
        return WIRE_ETRUNC;
    if (csum_buf(b, len) != 0)
        return WIRE_EBADCSUM;
    h->type = b[0];
    h->code = b[1];
    h->csum = rd16(b + 2);
    h->rest = rd32(b + 4);
    return WIRE_OK;
}

void icmp4_build(uint8_t *b, size_t len, const struct icmp4_hdr *h)
{
    b[0] = h->type;
    b[1] = h->code;
    wr16(b + 2, 0);
    wr32(b + 4, h->rest);
    wr16(b + 2, csum_buf(b, len));
}
