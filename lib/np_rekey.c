/* np_rekey: a repartition slot's memory of its input partitions. See np_rekey.h. */
#include "np_rekey.h"

#include <stdlib.h>

#include "np_pane.h"

np_rekey_t *np_rekey_new(int32_t nin) {
    np_rekey_t *rk = calloc(1, sizeof(*rk));
    if (!rk) return NULL;
    rk->nin = nin;
    rk->hwm = malloc((size_t)(nin > 0 ? nin : 1) * sizeof(int64_t));
    rk->wm = malloc((size_t)(nin > 0 ? nin : 1) * sizeof(int64_t));
    if (!rk->hwm || !rk->wm) {
        np_rekey_destroy(&rk);
        return NULL;
    }
    for (int32_t i = 0; i < nin; i++) {
        rk->hwm[i] = -1;
        rk->wm[i] = NP_TS_NONE;
    }
    return rk;
}

void np_rekey_destroy(np_rekey_t **rkp) {
    if (!rkp || !*rkp) return;
    free((*rkp)->hwm);
    free((*rkp)->wm);
    free(*rkp);
    *rkp = NULL;
}

int64_t np_rekey_watermark(const np_rekey_t *rk) {
    int64_t min = INT64_MAX;
    for (int32_t i = 0; i < rk->nin; i++) {
        if (rk->wm[i] == NP_TS_NONE) return NP_TS_NONE;
        if (rk->wm[i] < min) min = rk->wm[i];
    }
    return rk->nin > 0 ? min : NP_TS_NONE;
}

int64_t np_rekey_marker(np_rekey_t *rk, int32_t src, int64_t wm) {
    if (src >= 0 && src < rk->nin && (rk->wm[src] == NP_TS_NONE || wm > rk->wm[src])) rk->wm[src] = wm;
    return np_rekey_watermark(rk);
}

bool np_rekey_seen(np_rekey_t *rk, int32_t src, int64_t off) {
    if (src < 0 || src >= rk->nin) return false;
    if (off <= rk->hwm[src]) return true;
    rk->hwm[src] = off;
    return false;
}
