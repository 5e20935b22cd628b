/*
 * np_merge: the coordinator's core. Merges per-(partition, pane) partials into global
 * panes, tracks every partition's progress, and decides when a global pane is final:
 * when every partition of the input topic has closed it. Also computes the global
 * watermark that idle partitions follow.
 *
 * I/O-free; time comes in as arguments. Not thread-safe (the coordinator's loop owns it).
 */
#ifndef NP_MERGE_H
#define NP_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netpulse.pb-c.h"
#include "np_classmap.h"
#include "np_srcmap.h"
#include "np_vhll.h"
#include "np_view.h"

#define NP_MERGE_MAX_PARTITIONS 4096

typedef struct np_merge_config {
    int64_t pane_ms;
    size_t max_panes;        /* global panes held at once (open, not yet final) */
    size_t max_sources;      /* per global pane */
    size_t max_dests;        /* destinations per global pane (0: none kept) */
    size_t max_empty_run;    /* longest run of empty panes emitted between panes with data */
    np_hll_pool_t *pool;     /* borrowed: backs merged per-source sketches (NULL: inline only) */
    const np_viewset_t *views; /* borrowed: the views partials are merged into (NULL: none) */
    size_t max_groups;       /* groups per view per global pane */
    int32_t max_partitions;  /* slots accepted (0: NP_MERGE_MAX_PARTITIONS) */
    int64_t max_future_ms;   /* panes and watermarks further ahead of the wall clock than
                                this are refused (0: no bound; see np_merge_set_wall_clock) */
    int64_t window_ms;       /* sliding window whose per-partition results partials may carry
                                (bounded partials, np_srcwin); 0 or pane_ms: none */
    size_t max_class_dests;  /* NSL-KDD class counts: destinations per global pane (0: totals only) */
    size_t fanin_registers;  /* np_vhll pool per global pane for bounded partials' fan-in (0: none) */
    unsigned fanin_s;        /* its registers per destination */
} np_merge_config_t;

typedef struct np_gpane {
    int64_t start_ms;        /* NP_TS_NONE: unused */
    uint64_t records, bytes, packets, late_records;
    uint64_t sources_evicted;
    uint32_t partitions;     /* partials merged */
    uint64_t pmix[NP_PMIX__COUNT]; /* records by protocol */
    uint64_t port_hist[NP_PORT_BUCKETS];      /* TCP/UDP records by destination port bucket (np_port_bucket) */
    uint8_t *seen;           /* bitmap over partitions: duplicate detection */
    int64_t *close_offset;   /* per partition (cfg.max_partitions): its partial's close_offset, 0: unknown */
    np_srcmap_t *sources;    /* union across partitions (bounded partials: of their candidates) */
    uint64_t nsources;       /* distinct sources: the sum of the partials' exact counts */
    bool bounded;            /* some partial carried candidates only (np_cand): count from nsources */
    bool sources_lower_bound; /* sliding window of bounded panes: sources / top_sources are lower bounds */
    /* The sliding window ending with this pane, from the partitions' own results (partials
     * with window_ms = cfg.window_ms): distinct sources summed, top sources merged. Usable
     * when every partial merged carried them (win_seen > 0, win_missing == 0). */
    uint64_t win_sources;
    np_srcmap_t *win_top;    /* NULL: no window results kept */
    uint32_t win_seen, win_missing;
    uint8_t *wonly;          /* partitions whose partial was window-only (no data); NULL: none */
    np_srcmap_t *dests;      /* by destination, sketches of sources united (NULL: none) */
    np_vhll_t *fanin;        /* bounded partials' fan-in pools united (NULL: none kept); a
                                destination's distinct sources are its sketch's plus the pool's */
    uint64_t dests_evicted;
    np_viewagg_t *views;     /* one per configured view (NULL: none) */
    size_t nviews;
    np_classcount_t class_total; /* NSL-KDD class counts of the connection slots */
    np_classmap_t *classes;  /* the same per destination (NULL: not kept) */
} np_gpane_t;

typedef enum {
    NP_MERGE_OK = 0,
    NP_MERGE_DUPLICATE,      /* this (partition, pane) was merged before: ignored */
    NP_MERGE_TOO_LATE,       /* the pane was already final: ignored, counted */
    NP_MERGE_FULL,           /* no room for another open pane */
    NP_MERGE_BAD             /* partition out of range, pane misaligned or too far ahead */
} np_merge_result_t;

typedef struct np_merge np_merge_t;

np_merge_t *np_merge_new(const np_merge_config_t *cfg);

/* The most cfg's open panes hold, by table, once every table is full (for np_budget):
 * source tables, destination tables, the partitions' window tops, view tables, class
 * tables, and the fixed part (progress per partition, pane headers and bitmaps).
 * Sketch blocks are the pool's, not counted. */
typedef struct np_merge_bound {
    size_t sources, dests, window_top, views, classes, fanin, fixed;
} np_merge_bound_t;
void np_merge_bound(const np_merge_config_t *cfg, np_merge_bound_t *out);
void np_merge_destroy(np_merge_t **m);

/* The wall clock (ms since the epoch) that bounds pane starts and watermarks from the
 * network (cfg.max_future_ms). Until it is set, nothing is bounded by it. */
void np_merge_set_wall_clock(np_merge_t *m, int64_t wall_ms);

/* The input topic's partition count (from workers' reports). Only grows; capped at
 * cfg.max_partitions. */
void np_merge_set_partitions(np_merge_t *m, int32_t n);
int32_t np_merge_partitions(const np_merge_t *m);

np_merge_result_t np_merge_add_partial(np_merge_t *m, const Netpulse__Partial *p);

/* For a partial np_merge_add_partial answers NP_MERGE_DUPLICATE or NP_MERGE_TOO_LATE: the
 * close offset it is checked against when it holds records the merged copy (or the
 * published pane) lacks, which are then lost: a copy rebuilt by an owner that started
 * without the partition's state (no checkpoint offset: ARCHITECTURE.md "Where it is not
 * exact"). -1 when it holds none, or when that cannot be told (a worker or a partial from
 * before Partial.close_offset; a published pane older than the partition's last one this
 * coordinator saw published, against which only records past that one's close count).
 * A published pane in which the partition had no partial and this one has records: 0. */
int64_t np_merge_conflict_offset(const np_merge_t *m, const Netpulse__Partial *p);

/* What np_merge_add_partial would answer, without changing anything: the coordinator
 * persists a partial it will merge before merging and acknowledging it. */
np_merge_result_t np_merge_check_partial(const np_merge_t *m, const Netpulse__Partial *p);

/* Restoring persisted state: the first pane not yet emitted. */
void np_merge_set_next_emit(np_merge_t *m, int64_t next_emit);
int64_t np_merge_next_emit(const np_merge_t *m);

/* Records a partition's progress; now_ms is the coordinator's monotonic clock. */
void np_merge_progress(np_merge_t *m, const Netpulse__PartitionProgress *pp, int64_t now_ms);

/* The global watermark: min over partitions that are active (have data, not idle);
 * when every partition is idle it advances with processing time from the highest
 * watermark seen, so the last panes of a finished stream still close. Monotonic.
 * NP_TS_NONE until some partition has a watermark. */
int64_t np_merge_global_watermark(np_merge_t *m, int64_t now_ms);

/* Everything before this is final (min closed_through over all partitions). */
int64_t np_merge_complete_through(const np_merge_t *m);

/* How many partitions have not yet closed the oldest open global pane (one with partials),
 * i.e. what it waits for; 0 when no pane is open. */
int32_t np_merge_waiting_partitions(const np_merge_t *m);

/* True when np_merge_finalize would emit at least one pane now. */
bool np_merge_has_final(const np_merge_t *m);

typedef void (*np_merge_emit_fn)(void *ctx, const np_gpane_t *gp);

/* Emits final panes in order (with empty panes filling gaps up to max_empty_run), at
 * most max_emit of them, and frees them. Returns the number emitted. */
size_t np_merge_finalize(np_merge_t *m, size_t max_emit, np_merge_emit_fn emit, void *ctx);

/* Only inside np_merge_finalize's emit callback, for the pane gp being emitted: puts
 * `empty` (an empty table interchangeable with gp's: np_srcmap_interchangeable) in place of
 * gp's source table and returns that table, which the caller then owns (np_window_keep
 * hands a final pane's table to the window ring this way instead of copying it). */
np_srcmap_t *np_merge_swap_sources(np_merge_t *m, const np_gpane_t *gp, np_srcmap_t *empty);

/* Counters for metrics. */
typedef struct np_merge_stats {
    uint64_t partials, duplicates, too_late, full, bad;
    uint64_t conflicting;    /* duplicates or too late holding records the merged copy lacks (np_merge_conflict_offset) */
    uint64_t views_unknown;  /* view tables of views this coordinator does not define */
    uint64_t window_mismatch; /* partials with window results for another window.ms (ignored) */
    uint64_t fanin_bad;      /* fan-in pools of another size or malformed (left out: fan-in then short) */
    uint64_t sources_split;  /* bounded partials' sources already sent by another partition of
                                the pane: keyed and re-keyed at once, so `sources` counts them twice */
    uint64_t partials_unpaired; /* repartition partials not merged with their input partition's pane
                                  (np_pair): the sources both had are counted twice */
    uint64_t class_dests_evicted; /* destinations' class counts folded into `other` here */
    /* Entries this coordinator folded into `other` (Space-Saving) because a global pane's
     * table was at its cap while merging (the workers' own evictions not included): what
     * max.sources.per.pane / max.dests.per.pane cost, counted, never silent. */
    uint64_t sources_evicted, dests_evicted, window_top_evicted;
    uint64_t panes_emitted, empty_panes_skipped;
    size_t open_panes;
} np_merge_stats_t;
void np_merge_get_stats(const np_merge_t *m, np_merge_stats_t *out);

#endif
