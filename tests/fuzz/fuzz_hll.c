/*
 * libFuzzer target for np_hll_decode (distinct-count sketches inside partials and
 * checkpoints). A sketch that decodes must encode again to bytes that decode to the same
 * estimate, and the pool's blocks must all come back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "np_hll.h"

static np_hll_pool_t *POOL;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!POOL && !(POOL = np_hll_pool_new(NP_HLL_P_DEFAULT, 4))) abort();
    np_hll_t h, h2;
    np_hll_init(&h);
    np_hll_init(&h2);
    char err[128];
    int rc = np_hll_decode(&h, POOL, data, size, err, sizeof err);
    if (rc == 0) {
        static uint8_t buf[1 << 16];
        size_t n = np_hll_encode(&h, buf, sizeof buf);
        if (n == 0 || n > sizeof buf) abort();
        if (np_hll_decode(&h2, POOL, buf, n, err, sizeof err) != 0) abort();
        if (np_hll_estimate(&h) != np_hll_estimate(&h2)) abort();
    }
    np_hll_reset(&h, POOL);
    np_hll_reset(&h2, POOL);
    if (np_hll_pool_blocks_used(POOL) != 0) abort();
    return 0;
}
