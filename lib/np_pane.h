/*
 * np_pane: pane math and the event-time state of one input partition.
 *
 * A pane is the unit of state: the half-open interval [k*pane_ms, (k+1)*pane_ms) of event
 * time, aligned to the epoch (UTC). A partition keeps its open panes in a small ring and
 * closes every pane whose end is at or before its watermark:
 *
 *     watermark = max(max event time seen - allowed lateness, followed watermark)
 *
 * where the followed watermark is the global one an idle partition adopts (see
 * ARCHITECTURE.md). A record whose pane is already closed is late: it is counted and
 * refused, never silently merged into a pane that was already sent.
 *
 * I/O-free and clock-free; not thread-safe (one owner, the worker's consumer thread).
 */
#ifndef NP_PANE_H
#define NP_PANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np_classmap.h"
#include "np_record.h"
#include "np_srcmap.h"
#include "np_view.h"

#define NP_TS_NONE INT64_MIN

/* Start of the pane containing ts (floor division, correct for negative ts). */
int64_t np_pane_start(int64_t ts_ms, int64_t pane_ms);

typedef struct np_pane_config {
    int64_t pane_ms;        /* > 0 */
    int64_t lateness_ms;    /* >= 0 */
    size_t max_open_panes;  /* ring size; >= lateness_ms / pane_ms + 2 */
    size_t max_sources;     /* per pane, see np_srcmap */
    size_t max_dests;       /* destinations per pane (0: no destination table) */
    np_hll_pool_t *pool;    /* borrowed: backs the per-source sketches (NULL: inline only) */
    const np_viewset_t *views; /* borrowed: operator views aggregated per pane (NULL: none) */
    size_t max_groups;      /* groups per view per pane */
    /* Repartition partitions: the watermark comes only from np_partstate_follow (the
     * inputs' watermarks), and the ring grows (up to NP_PANE_RING_MAX) while the slowest
     * input holds panes open. */
    bool external_wm;
    /* Bounded partials with a sliding window (np_srcwin): > pane_ms keeps the source tables
     * of the panes a window of this length covers, and closes panes without data that such
     * a window still holds data for too (emit sees records == 0: a window-only partial).
     * 0: neither. */
    int64_t window_ms;
    /* Input partitions with re-keying and bounded partials (np_pair): closed panes kept
     * beyond the window's, for the repartition partner to merge with (0: none). */
    size_t keep_panes;
    /* Connection-topic partitions (NSL-KDD): per-destination class counts per pane, at most
     * this many destinations (0: no class table). */
    size_t max_class_dests;
} np_pane_config_t;

#define NP_PANE_RING_MAX 4096

/* Returns NULL when cfg is consistent, else a static message naming the problem. */
const char *np_pane_config_check(const np_pane_config_t *cfg);

typedef struct np_pane {
    int64_t start_ms;       /* NP_TS_NONE: slot unused */
    uint64_t records;
    uint64_t bytes;
    uint64_t packets;
    int64_t min_offset;     /* smallest Kafka offset among its records */
    int64_t max_offset;     /* largest one (-1: none taken since the pane was opened or restored) */
    int64_t close_offset;   /* the partition's next_offset when the pane closed (set for emit; 0 before) */
    uint64_t adds;          /* records and connections taken: what changed it (np_ckpt_writer) */
    uint64_t pmix[NP_PMIX__COUNT]; /* records by protocol */
    uint32_t port_hist[NP_PORT_BUCKETS]; /* TCP/UDP records by destination port bucket */
    np_srcmap_t *sources;
    np_srcmap_t *dests;     /* by destination address (NULL when cfg.max_dests == 0) */
    np_viewagg_t *views;    /* one per cfg.views view (NULL: no views) */
    size_t nviews;
    np_classmap_t *classes; /* NSL-KDD class counts (NULL when cfg.max_class_dests == 0) */
} np_pane_t;

typedef struct np_partstate {
    int32_t partition;
    np_pane_config_t cfg;
    bool has_data;
    int64_t max_ts;          /* NP_TS_NONE until the first record */
    int64_t follow_wm;       /* global watermark adopted while idle, or NP_TS_NONE */
    int64_t closed_through;  /* every pane ending at or before this is closed; NP_TS_NONE */
    int64_t next_offset;     /* offset after the last record taken */
    uint64_t late_pending;   /* late records since the last emitted partial */
    uint64_t late_total;
    uint64_t records_total;
    uint64_t panes_emitted;  /* closed panes with data (bounded partials: learning, np_cand) */
    int64_t dlq_from;        /* carried for the worker: np_dlqseen_ckpt_from when checkpointed, -1 unknown */
    np_pane_t *ring;
    struct np_srcwin *win;   /* cfg.window_ms, cfg.keep_panes: closed panes' source tables (NULL: off) */
    bool emit_whole;         /* set by emit: the partial carried the whole table (kept with the pane) */
    np_pane_t empty;         /* what emit gets for a window-only pane */         /* cfg.max_open_panes slots */
} np_partstate_t;

/* Called for every closed pane that holds data, oldest first (and, with cfg.window_ms, for
 * panes without data whose window holds data: records == 0). The pane is cleared and
 * reused after the call returns: copy what must outlive it. */
typedef void (*np_pane_emit_fn)(void *ctx, np_partstate_t *ps, const np_pane_t *pane,
                                uint64_t late_records);

np_partstate_t *np_partstate_new(int32_t partition, const np_pane_config_t *cfg);
void np_partstate_destroy(np_partstate_t **ps);

typedef enum {
    NP_PANE_ADDED = 0,
    NP_PANE_LATE = 1,
    NP_PANE_EVICTED = 2 /* np_partstate_add_class: added, the destination folded into `other` */
} np_pane_add_result_t;

/*
 * Takes one decoded record at Kafka offset `offset`. May close panes first (when the
 * record moves the watermark), calling emit for each. Returns NP_PANE_LATE when the
 * record's pane was already closed; *pane_start_out (if not NULL) gets its pane either way.
 */
np_pane_add_result_t np_partstate_add(np_partstate_t *ps, const np_record_t *r, int64_t offset,
                                      np_pane_emit_fn emit, void *ctx, int64_t *pane_start_out);

/* Takes one classified connection record (connection-topic partitions, cfg.max_class_dests
 * > 0) at event time ts_ms: counts class cls for destination dst (NULL: unknown) in its pane. Panes,
 * watermark and lateness work as for np_partstate_add; the pane's record counters stay
 * zero (a connection is not a flow record). */
np_pane_add_result_t np_partstate_add_class(np_partstate_t *ps, int64_t ts_ms, const np_ip_t *dst, int cls,
                                            double confidence, int64_t offset, np_pane_emit_fn emit, void *ctx,
                                            int64_t *pane_start_out);

/* True when the pane of a record at event time ts_ms is already closed, so that
 * np_partstate_add would refuse it as late. The input slot asks before forwarding a
 * record to the repartition topic: a record late in its input partition is late there
 * and then, as a reader of that partition alone judges it, not
 * wherever the repartition partition's markers happen to be. */
bool np_partstate_is_late(const np_partstate_t *ps, int64_t ts_ms);

/* Takes a record that is consumed here but counted elsewhere (forwarded to the
 * repartition topic): moves the offset and the watermark like a record would, and may
 * close panes (emit), but adds nothing to them. */
void np_partstate_observe(np_partstate_t *ps, int64_t ts_ms, int64_t offset, np_pane_emit_fn emit, void *ctx);

/* True when a record at event time ts would move the partition's watermark more than
 * max_jump_ms past the larger of its current watermark and the global one (global_wm,
 * NP_TS_NONE when unknown): one far-future record must not make the next ones late.
 * False while there is nothing to compare with, or when max_jump_ms <= 0 (off). */
bool np_partstate_too_far_ahead(const np_partstate_t *ps, int64_t ts, int64_t global_wm, int64_t max_jump_ms);

/* The partition's current watermark, NP_TS_NONE when it has none yet. */
int64_t np_partstate_watermark(const np_partstate_t *ps);

/* Adopts an external (global) watermark, as an idle partition does; never moves back. */
void np_partstate_follow(np_partstate_t *ps, int64_t global_wm);

/* Closes every pane that ends at or before the current watermark. Returns panes closed. */
size_t np_partstate_advance(np_partstate_t *ps, np_pane_emit_fn emit, void *ctx);

/* Kafka offset from which a restart would lose nothing: the smallest offset still held
 * in an open pane, else next_offset. -1 when nothing was consumed. */
int64_t np_partstate_safe_offset(const np_partstate_t *ps);

/* For restoring a checkpoint: the empty slot for the pane starting at `start`, marked as
 * holding it; NULL when start is misaligned, already closed, or its slot is taken. */
np_pane_t *np_partstate_claim_pane(np_partstate_t *ps, int64_t start);

/* Number of open panes holding data, and the memory of their source and destination
 * tables (sketch pool blocks not included: the pool is shared). */
size_t np_partstate_open_panes(const np_partstate_t *ps);
size_t np_partstate_memory_bytes(const np_partstate_t *ps);

#endif
