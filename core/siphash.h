/* core/siphash.h: SipHash-2-4 (Aumasson & Bernstein), the keyed hash behind
 * initial sequence numbers (RFC 6528) and SYN cookies (RFC 4987). */
#ifndef SYNACK_CORE_SIPHASH_H
#define SYNACK_CORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct sip_key {
    uint64_t k0, k1;
};

uint64_t siphash24(const struct sip_key *key, const void *data, size_t len);

#endif
