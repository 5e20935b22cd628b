/*
 * np_clock: the one source of processing time. Event time always comes from records;
 * anything that needs "now" takes an np_clock_t so tests can drive time by hand.
 */
#ifndef NP_CLOCK_H
#define NP_CLOCK_H

#include <stdint.h>

typedef struct np_clock {
    /* Returns milliseconds. NULL fn = the real clocks below. */
    int64_t (*now_ms)(void *ctx);
    void *ctx;
} np_clock_t;

/* Wall-clock ms since the epoch (CLOCK_REALTIME) through the clock, or the real one. */
int64_t np_clock_wall_ms(const np_clock_t *c);
/* Monotonic ms (CLOCK_MONOTONIC) for timers and durations; not injectable. */
int64_t np_clock_mono_ms(void);

/* Monotonic seconds with sub-microsecond resolution, for duration histograms. */
double np_clock_mono_s(void);

/* A manual clock for tests: now_ms returns *(int64_t *)ctx. */
int64_t np_clock_manual_fn(void *ctx);

#endif
