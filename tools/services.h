/* tools/services.h: the classic TCP test services synack serve offers. */
#ifndef SYNACK_TOOLS_SERVICES_H
#define SYNACK_TOOLS_SERVICES_H

#include "synack/synack.h"

/* Listens on echo (RFC 862, port 7), discard (RFC 863, 9), daytime
 * (RFC 867, 13) and chargen (RFC 864, 19). Returns 0 or a negative errno. */
int services_start(struct sn_stack *s);

#endif
