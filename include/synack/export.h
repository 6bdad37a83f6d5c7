/* synack/export.h: marks the functions libsynack.so exports; everything
 * else is built with -fvisibility=hidden. */
#ifndef SYNACK_EXPORT_H
#define SYNACK_EXPORT_H

#define SN_API __attribute__((visibility("default")))

#endif
