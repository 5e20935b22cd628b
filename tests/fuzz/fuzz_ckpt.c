/*
 * libFuzzer target for np_ckpt_decode: a worker restores whatever bytes Redis holds for a
 * partition. Must never crash or leak; a damaged value is NP_CKPT_CORRUPT (quarantined),
 * never anything that would loop; success yields a state that encodes again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "np_ckpt.h"

static np_hll_pool_t *POOL;
static np_viewset_t VS;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256];
    if (!POOL) {
        POOL = np_hll_pool_new(NP_HLL_P_DEFAULT, 64);
        if (np_viewset_parse(&VS, "web: proto=tcp by dst/24", err, sizeof err) < 0) abort();
    }
    np_pane_config_t cfg = {.pane_ms = 5000, .lateness_ms = 2000, .max_open_panes = 4, .max_sources = 64,
                            .max_dests = 64, .pool = POOL, .views = &VS, .max_groups = 16, .max_class_dests = 8};
    np_partstate_t *ps = NULL;
    np_outbox_t ob;
    int64_t epoch, offs[4], wms[4];
    memset(err, 'x', sizeof err);
    int rc = np_ckpt_decode(data, size, &cfg, "t", 1, &ps, &ob, &epoch, offs, wms, 4, err, sizeof err);
    if (rc != 0) {
        if ((rc != NP_CKPT_CORRUPT && rc != NP_CKPT_REFUSED) || !memchr(err, '\0', sizeof err)) abort();
        return 0;
    }
    uint8_t *out;
    size_t len;
    if (np_ckpt_encode(ps, "t", epoch, &ob, offs, wms, 4, 0, &out, &len) < 0) abort();
    free(out);
    np_partstate_destroy(&ps);
    np_outbox_free(&ob);
    return 0;
}
