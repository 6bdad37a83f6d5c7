/* wire/csum.h: the Internet checksum (RFC 1071), incrementally. */
#ifndef SYNACK_WIRE_CSUM_H
#define SYNACK_WIRE_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds @len bytes at @p to the running 32-bit sum @sum. An odd @len is
 * padded with a zero byte, so only the last chunk of a sum may be odd. */
uint32_t csum_add(uint32_t sum, const void *p, size_t len);

/* Folds a running sum to 16 bits and complements it: the value to store. */
uint16_t csum_fold(uint32_t sum);

/* Checksum of a buffer: csum_fold(csum_add(0, p, len)). A buffer that holds
 * its own correct checksum yields 0. */
uint16_t csum_buf(const void *p, size_t len);

/* The IPv4 pseudo-header sum for TCP/UDP (RFC 9293 3.1, RFC 768); addresses
 * in host order. */
uint32_t csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len);

#endif
