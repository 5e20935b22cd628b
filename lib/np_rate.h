/*
 * np_rate: a token bucket, for limiting how often something may happen per second (dead
 * letters under a flood of bad records) while letting a short burst through.
 *
 * Integer arithmetic in thousandths of a token, so a given sequence of (time, take) gives
 * the same answers on every machine; time is the caller's (a monotonic clock in ms), never
 * read here. I/O-free; not thread-safe (one bucket per thread).
 */
#ifndef NP_RATE_H
#define NP_RATE_H

#include <stdint.h>

typedef struct np_rate {
    int64_t per_second; /* tokens added per second; 0 = unlimited */
    int64_t burst_milli; /* capacity, in thousandths of a token */
    int64_t milli;       /* tokens held, in thousandths */
    int64_t last_ms;     /* time of the last refill; INT64_MIN before the first take */
} np_rate_t;

/* per_second tokens a second, at most burst held (burst < 1 is taken as 1); the bucket
 * starts full. per_second <= 0: every take succeeds. */
void np_rate_init(np_rate_t *r, int64_t per_second, int64_t burst);

/* 1 if one token was available at now_ms (and takes it), else 0. Time going backwards is
 * treated as no time passing. */
int np_rate_take(np_rate_t *r, int64_t now_ms);

#endif
