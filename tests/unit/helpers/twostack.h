/* tests/unit/helpers/twostack.h: two real stacks joined by a memory pipe
 * (192.0.2.1 and 192.0.2.2 on one /24), driven on a virtual clock. */
#ifndef SYNACK_TESTS_TWOSTACK_H
#define SYNACK_TESTS_TWOSTACK_H

#include "synack/synack.h"
#include "core/time.h"

#define TS_ADDR_A 0xc0000201u
#define TS_ADDR_B 0xc0000202u

struct twostack {
    struct sn_stack *a, *b;
    struct link *la, *lb;
    sn_time now;
};

/* Creates both stacks with @cfg (NULL: defaults). Returns 0 or -1. */
int twostack_new(struct twostack *ts, const struct sn_config *cfg);

/* Moves frames both ways and fires timers until nothing happens, without
 * letting virtual time pass. */
void twostack_settle(struct twostack *ts);

/* Lets @us of virtual time pass, firing every deadline on the way. */
void twostack_run_for(struct twostack *ts, sn_time us);

/* Frees both stacks and links; returns the buffers still held by either
 * stack just before (0 means no leak). */
uint32_t twostack_free(struct twostack *ts);

#endif
