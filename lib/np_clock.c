/* np_clock: real and manual clocks. See np_clock.h. */
#include "np_clock.h"

#include <time.h>

static int64_t ts_ms(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t np_clock_wall_ms(const np_clock_t *c) {
    if (c && c->now_ms) return c->now_ms(c->ctx);
    return ts_ms(CLOCK_REALTIME);
}

int64_t np_clock_mono_ms(void) { return ts_ms(CLOCK_MONOTONIC); }

double np_clock_mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t np_clock_manual_fn(void *ctx) { return *(const int64_t *)ctx; }
