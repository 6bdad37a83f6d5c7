/* core/rng.h: a small deterministic PRNG for the impairment layer and the
 * simulator: xoshiro256** (Blackman and Vigna), seeded through splitmix64.
 * Not for secrets (ISNs and cookies use SipHash keys). The same seed gives
 * the same sequence on every machine: only integer arithmetic, and doubles
 * built from 53 bits exactly. */
#ifndef SYNACK_CORE_RNG_H
#define SYNACK_CORE_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s[4];
};

/* splitmix64: one step; also a good 64-bit mixer for deriving seeds. */
static inline uint64_t rng_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Seeds @r from @seed and a @stream number, so independent streams can be
 * drawn from one seed (per direction, per connection, ...). */
static inline void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = rng_splitmix(&x);
}

static inline uint64_t rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return out;
}

/* Uniform in [0, 1). */
static inline double rng_unit(struct rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

/* 1 with probability @p (0 never draws, so a zero parameter costs nothing). */
static inline int rng_chance(struct rng *r, double p) { return p > 0 && rng_unit(r) < p; }

/* Uniform in [0, n) (n > 0), without modulo bias worth caring about for
 * n far below 2^64 (Lemire's multiply-shift). */
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* Uniform in [lo, hi] (lo <= hi). */
static inline uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
    return lo + rng_below(r, hi - lo + 1);
}

#endif
