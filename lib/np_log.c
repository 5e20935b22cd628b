/* np_log: logfmt lines on stderr. See np_log.h. */
#include "np_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "np_clock.h"

static const char *g_proc = "netpulse";
static np_log_level_t g_level = NP_LOG_INFO;
static const char *level_names[] = {"debug", "info", "warn", "error"};

void np_log_init(const char *proc, np_log_level_t level) {
    g_proc = proc;
    g_level = level;
}

int np_log_level_parse(const char *s) {
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0) return i;
    return -1;
}

static void vlog(np_log_level_t level, const char *event, const char *fmt, va_list ap) {
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line),
                     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s proc=%s event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_names[level], g_proc, event);
    if (n < 0) return;
    size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    if (fmt && *fmt && len < sizeof(line) - 2) {
        line[len++] = ' ';
        int m = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
        if (m > 0) len += (size_t)m < sizeof(line) - len ? (size_t)m : sizeof(line) - len - 1;
    }
    if (len >= sizeof(line) - 1) len = sizeof(line) - 2; /* truncated line still ends */
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void np_log(np_log_level_t level, const char *event, const char *fmt, ...) {
    if (level < g_level) return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, event, fmt, ap);
    va_end(ap);
}

void np_log_rl_flush(np_log_rl_t *rl, np_log_level_t level, const char *event) {
    int64_t now = np_clock_mono_ms();
    int64_t interval = rl->interval_ms ? rl->interval_ms : 10000;
    if (!rl->suppressed || now - rl->window_start_ms < interval) return;
    if (level >= g_level)
        np_log(level, "log_suppressed", "suppressed_event=%s suppressed=%u interval_ms=%lld", event, rl->suppressed,
               (long long)interval);
    rl->window_start_ms = now;
    rl->in_window = 0;
    rl->suppressed = 0;
}

void np_log_rl(np_log_rl_t *rl, np_log_level_t level, const char *event, const char *fmt, ...) {
    if (level < g_level) return;
    int64_t now = np_clock_mono_ms();
    int64_t interval = rl->interval_ms ? rl->interval_ms : 10000;
    uint32_t burst = rl->burst ? rl->burst : 10;
    if (now - rl->window_start_ms >= interval) {
        if (rl->suppressed)
            np_log(level, "log_suppressed", "suppressed_event=%s suppressed=%u interval_ms=%lld", event,
                   rl->suppressed, (long long)interval);
        rl->window_start_ms = now;
        rl->in_window = 0;
        rl->suppressed = 0;
    }
    if (rl->in_window >= burst) {
        rl->suppressed++;
        return;
    }
    rl->in_window++;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, event, fmt, ap);
    va_end(ap);
}
