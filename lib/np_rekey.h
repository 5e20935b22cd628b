/*
 * np_rekey: what a repartition slot remembers about the input partitions that forward
 * records to it (ARCHITECTURE.md "Re-keying"): per input partition, the highest input
 * offset it took (so copies re-forwarded after a crash are dropped) and the last
 * watermark the input announced by marker (the slot's own watermark is their minimum).
 * Both are part of the slot's checkpoint. I/O-free; one owner (the worker's loop).
 */
#ifndef NP_REKEY_H
#define NP_REKEY_H

#include <stdbool.h>
#include <stdint.h>

typedef struct np_rekey {
    int32_t nin;   /* input partitions */
    int64_t *hwm;  /* per input: highest input offset taken, -1: none */
    int64_t *wm;   /* per input: last watermark announced, NP_TS_NONE: none yet */
} np_rekey_t;

/* Memory for nin input partitions, nothing taken or announced yet. NULL on allocation
 * failure. */
np_rekey_t *np_rekey_new(int32_t nin);
void np_rekey_destroy(np_rekey_t **rk);

/* A watermark marker from input partition src (0 <= src < nin). Markers never move an
 * input's watermark back. Returns the slot's watermark after it: the minimum over the
 * inputs, NP_TS_NONE until every input has announced one. */
int64_t np_rekey_marker(np_rekey_t *rk, int32_t src, int64_t wm);

/* The slot's watermark (as np_rekey_marker returns it). */
int64_t np_rekey_watermark(const np_rekey_t *rk);

/* A re-keyed record that came from input partition src at input offset off. Returns true
 * when that offset was taken already (a copy re-forwarded after a crash: drop it);
 * otherwise remembers it and returns false. Out-of-range src: false, nothing kept. */
bool np_rekey_seen(np_rekey_t *rk, int32_t src, int64_t off);

#endif
