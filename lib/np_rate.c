/* np_rate: token bucket (see np_rate.h). */
#include "np_rate.h"

void np_rate_init(np_rate_t *r, int64_t per_second, int64_t burst) {
    r->per_second = per_second > 0 ? per_second : 0;
    if (burst < 1) burst = 1;
    if (burst > INT64_MAX / 1000) burst = INT64_MAX / 1000;
    r->burst_milli = burst * 1000;
    r->milli = r->burst_milli;
    r->last_ms = INT64_MIN;
}

int np_rate_take(np_rate_t *r, int64_t now_ms) {
    if (r->per_second == 0) return 1;
    if (r->last_ms != INT64_MIN && now_ms > r->last_ms) {
        /* per_second tokens a second = per_second thousandths a millisecond; the division
         * keeps a long pause from overflowing before the cap applies. */
        int64_t dt = now_ms - r->last_ms;
        int64_t room = r->burst_milli - r->milli;
        r->milli = dt >= room / r->per_second + 1 ? r->burst_milli : r->milli + dt * r->per_second;
        if (r->milli > r->burst_milli) r->milli = r->burst_milli;
    }
    if (r->last_ms == INT64_MIN || now_ms > r->last_ms) r->last_ms = now_ms;
    if (r->milli < 1000) return 0;
    r->milli -= 1000;
    return 1;
}
