/*
 * np_metrics: Prometheus metrics for netpulse processes.
 *
 * Series are registered once (usually at start-up) and updated lock-free from any thread
 * with relaxed atomics; rendering the text exposition format takes the registry lock.
 * Names follow Prometheus conventions (netpulse_<proc>_<what>_<unit>[_total]).
 * A series is a name plus a fixed label set given as text ("reason=\"bad_ip\"").
 *
 * Kinds: counters and gauges (integers); milli gauges (integers in thousandths, rendered
 * as decimals: milliseconds set, seconds shown); histograms (fixed bucket bounds, lock-free
 * observe, rendered as _bucket{le}, _sum, _count); and info sets (a bounded family whose
 * label values change at run time, e.g. the 10 most recent anomalies).
 * A series can be unpublished (per-partition series after a revoke) and published again by
 * registering it again; its memory stays with the registry, so pointers stay valid.
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

typedef struct np_histogram np_histogram_t;
typedef struct np_infoset np_infoset_t;

np_metrics_t *np_metrics_new(void);
void np_metrics_destroy(np_metrics_t **m);

/* Registration returns a pointer owned by the registry, valid until it is destroyed.
 * labels may be NULL. Registering the same name+labels twice returns the same series. */
np_counter_t *np_metrics_counter(np_metrics_t *m, const char *name, const char *help, const char *labels);
np_gauge_t *np_metrics_gauge(np_metrics_t *m, const char *name, const char *help, const char *labels);
/* A gauge holding thousandths, rendered with three decimals: set milliseconds, Prometheus
 * sees seconds (timestamps, durations); or any fractional value to 1/1000. */
np_gauge_t *np_metrics_gauge_milli(np_metrics_t *m, const char *name, const char *help, const char *labels);
/* A histogram with nbounds ascending upper bounds (the +Inf bucket is added). labels must
 * not use "le". Registering the same name+labels again returns the same histogram. */
np_histogram_t *np_metrics_histogram(np_metrics_t *m, const char *name, const char *help, const char *labels,
                                     const double *bounds, size_t nbounds);
/* A gauge family of at most cap series whose labels are set at run time (slot by slot). */
np_infoset_t *np_metrics_infoset(np_metrics_t *m, const char *name, const char *help, size_t cap);

/* Stops rendering the series registered as `series` (a counter, gauge or histogram pointer
 * from this registry) and zeroes it; registering it again renders it again. Thread-safe. */
void np_metrics_unpublish(np_metrics_t *m, const void *series);

/* Lock-free, any thread. v in the histogram's unit (seconds for durations). */
void np_histogram_observe(np_histogram_t *h, double v);
uint64_t np_histogram_count(const np_histogram_t *h);
double np_histogram_sum(const np_histogram_t *h);

/* Bucket bounds in seconds: 1 ms .. 10 s (checkpoints, merges), 0.1 s .. 120 s (latency
 * from event time to publication). */
extern const double np_metrics_buckets_fast[];
extern const size_t np_metrics_buckets_fast_n;
extern const double np_metrics_buckets_slow[];
extern const size_t np_metrics_buckets_slow_n;

/* Sets slot i (< cap) of an info set: n label names (plain identifiers) and values (any
 * text; escaped here), and the sample's value in thousandths. Clearing removes the slot's
 * series. Thread-safe (takes the registry lock); not for hot paths. */
void np_infoset_set(np_infoset_t *s, size_t i, const char *const *names, const char *const *values, size_t n,
                    int64_t milli);
void np_infoset_clear(np_infoset_t *s, size_t i);

/* Appends v escaped as a label value of the text format (backslash, double quote and
 * newline escaped), without the quotes. */
void np_metrics_escape_label(np_strbuf_t *out, const char *v);

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
