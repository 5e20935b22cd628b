/*
 * bench/hot_path: the worker's per-record work without Kafka, for repeatable before/after
 * figures of one change (time here, instruction counts under valgrind --tool=callgrind).
 *
 * Replays a file of records (netpulse-generator --output) into 12 partitions the way the
 * worker treats a keyed record: decode, format the source as the canonical key and compare
 * it with the message key (records keyed by source are not re-keyed), add to the
 * partition's panes (source and destination tables, sketches); closed panes are encoded as
 * partials, and every `--ckpt-every` records (1 s at the records' event rate) every
 * partition is encoded as a checkpoint, as the worker does each second.
 *
 * Usage: np-bench-hot FILE [CKPT_EVERY]   (default 100000; 0 = no checkpoints)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "np_ckpt.h"
#include "np_partial.h"

#define NPARTS 12

static np_partial_enc_t enc;
static size_t partial_bytes;

static void emit(void *ctx, np_partstate_t *ps, const np_pane_t *pane, uint64_t late) {
    const uint8_t *buf;
    size_t len;
    (void)ctx;
    if (np_partial_encode(&enc, "bench", ps->partition, pane, ps->cfg.pane_ms, late, &buf, &len) == 0)
        partial_bytes += len;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: np-bench-hot FILE [CKPT_EVERY]\n");
        return 2;
    }
    size_t ckpt_every = argc > 2 ? strtoull(argv[2], NULL, 10) : 100000;
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    size_t size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(size + 1);
    if (!buf || fread(buf, 1, size, f) != size) return 1;
    fclose(f);

    np_hll_pool_t *pool = np_hll_pool_new(NP_HLL_P_DEFAULT, 65536);
    np_pane_config_t cfg = {.pane_ms = 5000, .lateness_ms = 2000, .max_open_panes = 4, .max_sources = 65536,
                            .max_dests = 65536, .pool = pool};
    np_partstate_t *ps[NPARTS];
    for (int p = 0; p < NPARTS; p++) ps[p] = np_partstate_new(p, &cfg);
    np_partial_enc_init(&enc);
    np_record_limits_t lim;
    np_record_limits_default(&lim);
    int64_t now = 1LL << 62; /* no record is "in the future" */
    lim.max_future_ms = 0;
    size_t n = 0, bad = 0, ckpts = 0, ckpt_bytes = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t at = 0; at < size;) {
        char *nl = memchr(buf + at, '\n', size - at);
        size_t len = (nl ? (size_t)(nl - buf) : size) - at;
        np_record_t r;
        char key[64];
        if (len && np_record_decode(buf + at, len, -1, now, &lim, &r, NULL, 0) == NP_REC_OK) {
            size_t kl = np_ip_format(&r.src, key, sizeof(key));
            int p = (int)(np_hll_hash(key, kl) % NPARTS);
            np_partstate_add(ps[p], &r, (int64_t)n, emit, NULL, NULL);
            if (++n % (ckpt_every ? ckpt_every : SIZE_MAX) == 0 && ckpt_every)
                for (int q = 0; q < NPARTS; q++) {
                    uint8_t *out;
                    size_t olen;
                    if (np_ckpt_encode(ps[q], "bench", 1, NULL, NULL, NULL, 0, 0, &out, &olen) == 0) {
                        ckpt_bytes += olen;
                        ckpts++;
                        free(out);
                    }
                }
        } else {
            bad++;
        }
        at += len + 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"records\":%zu,\"undecodable\":%zu,\"seconds\":%.3f,\"ns_per_record\":%.1f,\"checkpoints\":%zu,"
           "\"checkpoint_bytes\":%zu,\"partial_bytes\":%zu}\n",
           n, bad, secs, secs * 1e9 / (double)(n ? n : 1), ckpts, ckpt_bytes, partial_bytes);
    for (int p = 0; p < NPARTS; p++) np_partstate_destroy(&ps[p]);
    np_partial_enc_free(&enc);
    np_hll_pool_destroy(&pool);
    free(buf);
    return 0;
}
