/*
 * np_metrics: Prometheus metrics for netpulse processes.
 *
 * Series are registered once (usually at start-up) and updated lock-free from any thread
 * with relaxed atomics; rendering the text exposition format takes the registry lock.
 * Names follow Prometheus conventions (netpulse_<proc>_<what>_<unit>[_total]).
 * A series is a name plus a fixed label set given as text ("reason=\"bad_ip\"").
 */
#ifndef NP_METRICS_H
#define NP_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "np_strbuf.h"

typedef struct np_metrics np_metrics_t;

typedef struct np_counter {
    _Atomic uint64_t v;
} np_counter_t;

typedef struct np_gauge {
    _Atomic int64_t v; /* gauges are integers (counts, ms, bytes): enough for netpulse */
} np_gauge_t;

np_metrics_t *np_metrics_new(void);
void np_metrics_destroy(np_metrics_t **m);

/* Registration returns a pointer owned by the registry, valid until it is destroyed.
 * labels may be NULL. Registering the same name+labels twice returns the same series. */
np_counter_t *np_metrics_counter(np_metrics_t *m, const char *name, const char *help, const char *labels);
np_gauge_t *np_metrics_gauge(np_metrics_t *m, const char *name, const char *help, const char *labels);

static inline void np_counter_add(np_counter_t *c, uint64_t n) {
    atomic_fetch_add_explicit(&c->v, n, memory_order_relaxed);
}
static inline void np_counter_inc(np_counter_t *c) { np_counter_add(c, 1); }
static inline uint64_t np_counter_get(const np_counter_t *c) {
    return atomic_load_explicit(&c->v, memory_order_relaxed);
}
/* For counters kept elsewhere (a library's own tally): publish its current total. */
static inline void np_counter_set_max(np_counter_t *c, uint64_t v) {
    uint64_t cur = atomic_load_explicit(&c->v, memory_order_relaxed);
    while (v > cur && !atomic_compare_exchange_weak_explicit(&c->v, &cur, v, memory_order_relaxed,
                                                             memory_order_relaxed)) {}
}
static inline void np_gauge_set(np_gauge_t *g, int64_t v) {
    atomic_store_explicit(&g->v, v, memory_order_relaxed);
}
static inline void np_gauge_add(np_gauge_t *g, int64_t v) {
    atomic_fetch_add_explicit(&g->v, v, memory_order_relaxed);
}
static inline int64_t np_gauge_get(const np_gauge_t *g) {
    return atomic_load_explicit(&g->v, memory_order_relaxed);
}

/* Appends the text exposition (version 0.0.4). Thread-safe. */
void np_metrics_render(np_metrics_t *m, np_strbuf_t *out);

/* Registers the process-wide series every netpulse process exports
 * (netpulse_build_info, process start time, resident memory) and refreshes the
 * ones that are read at scrape time. */
void np_metrics_register_process(np_metrics_t *m, const char *proc);

#endif
