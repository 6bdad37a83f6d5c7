/* core/log.h: a small levelled logger writing one line per message to
 * stderr. The level is process-wide; tools set it from --verbose/--quiet. */
#ifndef SYNACK_CORE_LOG_H
#define SYNACK_CORE_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_threshold;

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) (log_threshold >= LOG_DEBUG ? log_msg(LOG_DEBUG, __VA_ARGS__) : (void)0)

#endif
