/*
 * kdd_replay: replaying NSL-KDD rows to the connections topic. See kdd_replay.h.
 */
#include "kdd_replay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "np_clock.h"
#include "np_proc.h"

/* The destination of row i: a multiplicative hash spreads rows over the hosts. */
static void dst_key(uint64_t i, int64_t hosts, char *buf, size_t len)
{
    uint64_t h = (i * 0x9e3779b97f4a7c15ULL >> 32) % (uint64_t)hosts;
    snprintf(buf, len, "10.20.%u.%u", (unsigned)(h / 250), (unsigned)(h % 250 + 1));
}

/* Sleeps until row i is due at `rate` rows per second since t0 (monotonic ms). */
static void pace(int64_t t0, uint64_t i, int64_t rate)
{
    if (rate <= 0)
        return;
    int64_t due = t0 + (int64_t)(i * 1000 / (uint64_t)rate), now = np_clock_mono_ms();
    if (due > now) {
        struct timespec ts = {(due - now) / 1000, (due - now) % 1000 * 1000000};
        nanosleep(&ts, NULL);
    }
}

int kdd_replay_run(const kdd_replay_opts_t *o, kdd_produce_fn produce, kdd_tick_fn tick,
                   void *ctx, char *errstr, size_t errlen)
{
    FILE *f = fopen(o->path, "r");
    if (!f) {
        snprintf(errstr, errlen, "kdd.replay: cannot open %s: %s", o->path, strerror(errno));
        return 2;
    }
    char    *line = NULL, key[32];
    size_t   cap  = 0;
    ssize_t  n;
    uint64_t i    = 0;
    int64_t  t0 = np_clock_mono_ms(), next_tick = t0 + 1000;
    int      rc = 0;
    while (!np_proc_stopping() && (o->count == 0 || (int64_t)i < o->count) &&
           (n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n == 0)
            continue;
        pace(t0, i, o->rate);
        dst_key(i, o->hosts, key, sizeof key);
        int64_t ts = o->start_ms + (o->rate > 0 ? (int64_t)(i * 1000 / (uint64_t)o->rate) : 0);
        if (produce(ctx, key, strlen(key), line, (size_t)n, ts) < 0) {
            rc = 1;
            break;
        }
        i++;
        if (np_clock_mono_ms() >= next_tick) {
            tick(ctx);
            next_tick += 1000;
        }
    }
    free(line);
    fclose(f);
    return rc;
}
