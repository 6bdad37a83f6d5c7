/* core/log.c: see log.h. */
#include <stdarg.h>
#include <stdio.h>

#include "core/log.h"

enum log_level log_threshold = LOG_INFO;

static const char *const level_name[] = {"error", "warn", "info", "debug"};

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    if (lvl > log_threshold)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "synack: %s: ", level_name[lvl]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
