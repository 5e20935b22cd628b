/*
 * np_log: structured logs, one logfmt line per event on stderr:
 *
 *   ts=2026-11-23T18:00:00.123Z level=info proc=worker event=pane_closed partition=3 ...
 *
 * The event name is a fixed token that tools can grep for; the rest are key=value pairs
 * written by the caller's format string. Rate-limited logging (np_log_rl) protects the
 * process and the disk from a flood of identical warnings (bad input, retries): it lets
 * `burst` lines through per `interval_ms` and then reports how many it suppressed.
 * Thread-safe (one write(2) per line).
 */
#ifndef NP_LOG_H
#define NP_LOG_H

#include <stdint.h>

typedef enum { NP_LOG_DEBUG = 0, NP_LOG_INFO, NP_LOG_WARN, NP_LOG_ERROR } np_log_level_t;

/* proc: process name for every line; level: minimum level printed. */
void np_log_init(const char *proc, np_log_level_t level);
/* Parses "debug|info|warn|error"; returns -1 if unknown. */
int np_log_level_parse(const char *s);

void np_log(np_log_level_t level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef struct np_log_rl {
    int64_t window_start_ms;
    uint32_t in_window;
    uint32_t suppressed;
    uint32_t burst;        /* lines per interval; 0 = 10 */
    int64_t interval_ms;   /* 0 = 10 s */
} np_log_rl_t;

#define NP_LOG_RL_INIT {0, 0, 0, 0, 0}

/* Like np_log, but at most rl->burst lines per interval. Not thread-safe per limiter:
 * give each thread its own np_log_rl_t. */
void np_log_rl(np_log_rl_t *rl, np_log_level_t level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes the "log_suppressed" line for event now if rl's interval is over and lines were
 * suppressed, without waiting for the next line (a flood that stopped still gets its
 * count). Call it from time to time, on the limiter's thread. */
void np_log_rl_flush(np_log_rl_t *rl, np_log_level_t level, const char *event);

#define np_info(ev, ...) np_log(NP_LOG_INFO, ev, __VA_ARGS__)
#define np_warn(ev, ...) np_log(NP_LOG_WARN, ev, __VA_ARGS__)
#define np_error(ev, ...) np_log(NP_LOG_ERROR, ev, __VA_ARGS__)
#define np_debug(ev, ...) np_log(NP_LOG_DEBUG, ev, __VA_ARGS__)

#endif
