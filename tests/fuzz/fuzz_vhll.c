/*
 * libFuzzer target for np_vhll_merge_encoded (bounded partials' fan-in pool, Partial.fanin).
 * Input that merges into an empty pool must encode back to the same pool, and input that
 * is refused must leave the pool untouched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "np_vhll.h"

static np_vhll_t *A, *B;
static uint8_t BUF[4 + 4 + 4 * 1024], BUF2[sizeof BUF];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!A && (!(A = np_vhll_new(1024, 64, NULL, 0)) || !(B = np_vhll_new(1024, 64, NULL, 0)))) abort();
    np_vhll_clear(A);
    np_vhll_clear(B);
    char err[160];
    if (np_vhll_merge_encoded(A, data, size, err, sizeof err) < 0) {
        if (np_vhll_used(A)) abort(); /* refused input changed nothing */
        return 0;
    }
    size_t n = np_vhll_encode(A, BUF, sizeof BUF);
    if (n > sizeof BUF || np_vhll_merge_encoded(B, BUF, n, err, sizeof err) < 0) abort();
    if (np_vhll_encode(B, BUF2, sizeof BUF2) != n || memcmp(BUF, BUF2, n)) abort();
    return 0;
}
