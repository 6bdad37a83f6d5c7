/* wire/csum.c: RFC 1071 ones'-complement sum, 16 bits at a time in network
 * order, which is independent of host byte order. */
#include "wire/csum.h"

uint32_t csum_add(uint32_t sum, const void *p, size_t len)
{
    const uint8_t *b = p;
    uint64_t s = sum;
    while (len >= 2) {
        s += (uint32_t)(b[0] << 8 | b[1]);
        b += 2;
        len -= 2;
    }
    if (len)
        s += (uint32_t)b[0] << 8;
    while (s >> 32)
        s = (s & 0xffffffff) + (s >> 32);
    return (uint32_t)s;
}

uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint16_t csum_buf(const void *p, size_t len) { return csum_fold(csum_add(0, p, len)); }

uint32_t csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len)
{
    uint64_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + l4_len;
    while (s >> 32)
        s = (s & 0xffffffff) + (s >> 32);
    return (uint32_t)s;
}
