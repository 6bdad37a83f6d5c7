/* core/container.h: recover the owner of an embedded member (timer entries,
 * list links). */
#ifndef SYNACK_CORE_CONTAINER_H
#define SYNACK_CORE_CONTAINER_H

#include <stddef.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#endif
