/* sim/sim.h: the deterministic network simulator. Two synack stacks in one
 * process, joined by a memory pipe through the impairment layer, driven by
 * a virtual clock that jumps straight to the next deadline (a timer of
 * either stack, or a frame's release from the delay line): no sleeping, so
 * a minute of TCP under loss costs milliseconds of CPU, and every run is a
 * function of its seed.
 *
 * One scenario (sim_run): both stacks listen; each opens connections to
 * the other (active opens both ways, staggered); every connection carries
 * seeded random data of random sizes both ways, read eagerly or by slow
 * readers, with half-closes (shutdown of the write side, then reading on to
 * EOF) or plain closes. The seed also picks stack settings (buffer sizes,
 * MSS, timestamps, SACK, window scaling, Nagle). Checks:
 *   - every byte arrives exactly once and in order (each receiver compares
 *     against the sender's generator byte by byte, and a hash of each
 *     stream is compared at the end);
 *   - every end sees EOF, no connection is reset or times out;
 *   - every connection reaches TIME-WAIT or CLOSED, and once 2*MSL has
 *     passed none is left;
 *   - no buffer leaks: sn_stack_bufs_in_use() is 0 for both stacks once
 *     the links are drained and the listeners closed;
 *   - nothing is stuck: all of it within a virtual-time bound.
 * Used by `synack sim` (tools/sim.c) and tests/sim/. */
#ifndef SYNACK_SIM_SIM_H
#define SYNACK_SIM_SIM_H

#include <stdint.h>
#include <stdio.h>

#include "core/time.h"
#include "link/link.h"

struct sim_opts {
    uint64_t seed;
    struct impair_params imp; /* applied to both directions between A and B */
    uint64_t max_bytes;       /* bytes per connection and direction, at most (0: 256 KiB) */
    sn_time time_limit;       /* virtual; 0: 10 min plus what the rate limit needs */
    const char *pcap;         /* write stack A's view of the whole run here, or NULL */
    FILE *log;                /* a line per connection event (verbose), or NULL */
    FILE *diag;               /* on failure, the state of every connection, or NULL */
};

struct sim_result {
    int ok;                   /* 1: every check passed */
    char why[1024];           /* the first failure, one or more lines */
    sn_time t_data;           /* virtual time the last byte and EOF arrived */
    sn_time t_end;            /* virtual time the run ended */
    uint32_t conns;           /* connections opened */
    uint64_t bytes;           /* payload delivered, every connection, both ways */
    uint64_t retrans;         /* segments retransmitted, both stacks */
    uint64_t rto_timeouts;    /* both stacks */
    uint64_t fast_retrans;    /* both stacks */
    uint64_t csum_drops;      /* segments and packets dropped for a bad checksum */
    struct impair_stats imp[2]; /* A->B, B->A */
};

/* The impairment mix drawn for @seed when the user fixes none: each kind
 * present in some seeds and absent in others, at moderate levels (loss up
 * to 10 %, some of it bursty; reordering, duplication, corruption up to
 * a few %; delay up to 100 ms with jitter; sometimes a rate limit).
 * Probabilities are multiples of 0.1 %, times whole milliseconds and rates
 * whole Mbit/s, so a printed replay command is exact. */
void sim_draw_impair(uint64_t seed, struct impair_params *p);

/* Runs the scenario of @o->seed. Returns 0 when it ran (see r->ok), or a
 * negative errno when it could not be set up (memory, the pcap file). */
int sim_run(const struct sim_opts *o, struct sim_result *r);

#endif
