/*
 * np_classmap: NSL-KDD class counts of one pane, overall and per destination address, in a
 * bounded table (open addressing, fixed capacity; a destination that finds the table full
 * is folded into `other` and counted as evicted, like np_srcmap's sources). Totals stay
 * exact whatever is evicted.
 *
 * Confidence is carried as an integer sum of micro-units (round(confidence * 1e6)) so that
 * merging partials in any order gives the same sums, and so the same published mean.
 *
 * I/O-free, allocation only in np_classmap_new; not thread-safe (one owner).
 */
#ifndef NP_CLASSMAP_H
#define NP_CLASSMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np_kdd_conn.h"
#include "np_record.h"

typedef struct np_classcount {
    uint64_t n[NP_KDD_NCLASSES];    /* connections per class */
    uint64_t conf[NP_KDD_NCLASSES]; /* sum of round(confidence * 1e6) per class */
} np_classcount_t;

typedef struct np_classmap np_classmap_t;

/* A table for at most cap destinations (cap >= 1). NULL on allocation failure. */
np_classmap_t *np_classmap_new(size_t cap);
void np_classmap_destroy(np_classmap_t **m);
void np_classmap_clear(np_classmap_t *m);

/* Counts one classified connection to dst (NULL: unknown destination, counted in `other`).
 * confidence in [0, 1]. Returns 0, or 1 when dst found the table full (evicted to `other`). */
int np_classmap_add(np_classmap_t *m, const np_ip_t *dst, int cls, double confidence);

/* Adds counts merged from elsewhere: for dst (NULL: straight into `other`). Returns 0, or
 * 1 when dst found the table full and went to `other`. Totals include c either way. */
int np_classmap_merge(np_classmap_t *m, const np_ip_t *dst, const np_classcount_t *c);
/* Adds a sender's count of evicted destinations. */
void np_classmap_add_evicted(np_classmap_t *m, uint64_t evicted);

const np_classcount_t *np_classmap_total(const np_classmap_t *m);
const np_classcount_t *np_classmap_other(const np_classmap_t *m);
uint64_t np_classmap_evicted(const np_classmap_t *m);
size_t np_classmap_count(const np_classmap_t *m);
size_t np_classmap_capacity(const np_classmap_t *m);
/* Bytes a table of cap destinations allocates (all at np_classmap_new). For np_budget. */
size_t np_classmap_bound_bytes(size_t cap);
/* True when no connection was counted. */
bool np_classmap_empty(const np_classmap_t *m);
/* Entry i (0 <= i < count), in insertion order. */
void np_classmap_entry(const np_classmap_t *m, size_t i, const np_ip_t **ip, const np_classcount_t **c);
size_t np_classmap_memory_bytes(const np_classmap_t *m);

/* Sum of a count's classes. */
uint64_t np_classcount_sum(const np_classcount_t *c);

#endif
