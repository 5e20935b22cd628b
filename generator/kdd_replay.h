/*
 * kdd_replay: the generator's NSL-KDD mode: replays a file of connection records (one
 * NSL-KDD row per line, e.g. KDDTest+.txt) to the connections topic at a chosen rate.
 * Each row is produced as it is (the worker reads CSV in NSL-KDD order; label and
 * difficulty are ignored as inputs), keyed by a synthetic destination address
 * 10.20.0.0/16 taken from the row number (NSL-KDD has no addresses), with event time
 * start + i / rate.
 */
#ifndef GEN_KDD_REPLAY_H
#define GEN_KDD_REPLAY_H

#include <stddef.h>
#include <stdint.h>

/* Produces one record; returns 0 or -1 (the generator's own producer). */
typedef int (*kdd_produce_fn)(void *ctx, const char *key, size_t keylen, const char *val,
                              size_t len, int64_t ts_ms);
/* Called about every progress_ms of wall time. */
typedef void (*kdd_tick_fn)(void *ctx);

typedef struct kdd_replay_opts {
    const char *path;
    int64_t     rate;     /* records per second (wall and event time); 0 = unthrottled */
    int64_t     start_ms; /* event time of the first row */
    int64_t     hosts;    /* distinct destination addresses */
    int64_t     count;    /* stop after this many rows (0 = the whole file) */
} kdd_replay_opts_t;

/* Returns 0, or 2 when the file cannot be read (errstr), or 1 when producing failed. */
int kdd_replay_run(const kdd_replay_opts_t *o, kdd_produce_fn produce, kdd_tick_fn tick,
                   void *ctx, char *errstr, size_t errlen);

#endif
