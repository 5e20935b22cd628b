/*
 * libFuzzer target for np_ckpt_decode_parts: a worker restores whatever bytes Redis holds
 * for a partition. The input is a 2-byte head length, the head, then the bytes every part
 * the head lists reads as (version 2: pane changelogs, outbox items). Must never crash or
 * leak; a damaged value is NP_CKPT_CORRUPT (quarantined), never anything that would loop;
 * success yields a state that encodes again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "np_ckpt.h"
#include "np_ckpt_writer.h"

typedef struct rest {
    const uint8_t *p;
    size_t n;
} rest_t;

static int get_part(void *ctx, const char *suffix, uint8_t **data, size_t *len) {
    const rest_t *r = ctx;
    (void)suffix;
    *data = malloc(r->n ? r->n : 1);
    if (!*data) return -1;
    memcpy(*data, r->p, r->n);
    *len = r->n;
    return 0;
}

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
    size_t hl = size >= 2 ? ((size_t)data[0] | (size_t)data[1] << 8) : 0;
    if (size < 2 || hl > size - 2) hl = size >= 2 ? size - 2 : 0;
    const uint8_t *head = size >= 2 ? data + 2 : data;
    rest_t r = {head + hl, size >= 2 ? size - 2 - hl : 0};
    np_ckpt_writer_t w;
    np_ckpt_writer_init(&w);
    int rc = np_ckpt_decode_parts(head, hl, get_part, &r, &cfg, "t", 1, &ps, &ob, &epoch, offs, wms, 4, &w, err,
                                  sizeof err);
    np_ckpt_writer_free(&w);
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
