/*
 * np_partial: encoding of worker -> coordinator messages (proto/netpulse.proto) from
 * pane state, with buffers reused across calls so that closing a pane allocates only
 * when it is bigger than every pane before it. Decoding is protobuf-c's own unpack.
 * Not thread-safe: one encoder per sending thread.
 */
#ifndef NP_PARTIAL_H
#define NP_PARTIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netpulse.pb-c.h"
#include "np_merge.h"
#include "np_pane.h"
#include "np_vhll.h"

#define NP_WIRE_VERSION 1

/* Reused buffers for one encoded table of np_srcagg_t entries (sources or destinations). */
typedef struct np_aggbuf {
    Netpulse__SourceAgg *aggs;
    Netpulse__SourceAgg **ptrs;
    size_t cap;
    uint32_t *pmix;         /* NP_PMIX__COUNT per entry */
    size_t pmix_cap;
    uint8_t *sketches;      /* encoded distinct-count sketches of the entries */
    size_t sketches_cap;
    size_t sketches_len;    /* of them, what the last fill wrote */
    Netpulse__SourceAgg other;
} np_aggbuf_t;

/* Reused buffers for encoded view tables. */
typedef struct np_viewbuf {
    Netpulse__ViewAgg *views;
    Netpulse__ViewAgg **vptrs;
    size_t vcap;
    Netpulse__GroupAgg *groups; /* every view's groups, then each view's `other` */
    Netpulse__GroupAgg **gptrs;
    size_t gcap;
    uint8_t *keys;              /* NP_GKEY_WIRE per group */
    size_t keys_cap;
} np_viewbuf_t;

void np_partial_aggbuf_free(np_aggbuf_t *b);
/* Reused buffers for an encoded class table (np_classmap). */
typedef struct np_classbuf {
    Netpulse__ClassTable table;
    Netpulse__ClassAgg total, other;
    Netpulse__ClassAgg *aggs;
    Netpulse__ClassAgg **ptrs;
    size_t cap;
    uint64_t *nums;             /* 2 * NP_KDD_NCLASSES per entry, then total's and other's */
    size_t nums_cap;
} np_classbuf_t;

typedef struct np_partial_enc {
    np_aggbuf_t src, dst, win;
    np_viewbuf_t views;
    np_classbuf_t cls;
    Netpulse__PartitionProgress *prog;
    Netpulse__PartitionProgress **prog_ptrs;
    size_t prog_cap;
    uint8_t *buf;
    size_t buf_cap;
    uint8_t *fanin;             /* the encoded fan-in pool of a bounded partial */
    size_t fanin_cap;
} np_partial_enc_t;

void np_partial_enc_init(np_partial_enc_t *e);
void np_partial_enc_free(np_partial_enc_t *e);

/* Encodes a WorkerMsg{partial} for a closed pane. *out points into e's buffer, valid until
 * the next call. Returns 0, or -1 on allocation failure. */
int np_partial_encode(np_partial_enc_t *e, const char *worker_id, int32_t partition,
                      const np_pane_t *pane, int64_t pane_ms, uint64_t late_records,
                      const uint8_t **out, size_t *out_len);

/* What a bounded partial carries instead of the pane's whole source table (np_cand), and
 * its partition's sliding-window results (np_srcwin). Entries are borrowed. */
typedef struct np_partial_bounded {
    const np_srcagg_t *const *sel;  /* the candidates (NULL: the whole table, while learning) */
    size_t nsel;
    uint64_t dropped;               /* candidates left out */
    int64_t window_ms;              /* 0: no window results */
    uint64_t window_sources;
    const np_srcagg_t *const *win_top;
    size_t nwin_top;
    bool window_only;               /* a pane without data, sent for its window results */
    uint32_t pair;                  /* Partial.pair (np_pair.h NP_PAIR_*) */
    uint64_t pair_sources;          /* NP_PAIR_MERGED: sources_total (those the input's pane lacks) */
    np_vhll_t *fanin;               /* scratch pool: non-NULL sends the destinations' fan-in as one
                                       np_vhll pool (`fanin`) and `dests` as counters only */
} np_partial_bounded_t;

/* np_partial_encode with b (NULL: as np_partial_encode): `sources` holds b's candidates and
 * `sources_bounded` is set (b->sel NULL: the whole table), plus b's window results. `sources_total` is the table's count
 * (b->pair NP_PAIR_MERGED: b->pair_sources).
 * b->window_only marks a window-only partial (np_pane's empty pane). */
int np_partial_encode_sel(np_partial_enc_t *e, const char *worker_id, int32_t partition, const np_pane_t *pane,
                          int64_t pane_ms, uint64_t late_records, const np_partial_bounded_t *b,
                          const uint8_t **out, size_t *out_len);

/* Encodes a final global pane (coordinator side, for persistence) as WorkerMsg{partial}
 * with partition -1, every merged source, `partitions` and the `seen` bitmap. */
/* The most np_partial_encode_gpane's buffers in e grow to for a pane of at most
 * max_sources sources, dense_max of whose sketches are dense (at precision p): the
 * unpacked entries, their sketches and the packed message. For np_budget. */
size_t np_partial_gpane_enc_bound_bytes(size_t max_sources, size_t dense_max, unsigned p);
/* The most bytes such an encoded pane takes (the packed message alone). */
size_t np_partial_gpane_wire_bound_bytes(size_t max_sources, size_t dense_max, unsigned p);
int np_partial_encode_gpane(np_partial_enc_t *e, const np_gpane_t *gp, int64_t pane_ms, const uint8_t **out,
                            size_t *out_len);

/* Decodes such a record into g (whose seen and sources must be allocated and empty). */
int np_partial_decode_gpane(const uint8_t *buf, size_t len, np_gpane_t *g, np_hll_pool_t *pool);

/* Fills b's SourceAgg array from every entry of m (sketches encoded into b's buffers, valid
 * until the next call on b). *out gets the pointer array, *other m's `other` aggregate (NULL
 * when empty). Returns the count, or -1. */
long np_partial_fill_table(np_aggbuf_t *b, const np_srcmap_t *m, Netpulse__SourceAgg ***out,
                           Netpulse__SourceAgg **other);

/* The same for only the entries of m changed since its last np_srcmap_changes_clear
 * (an incremental checkpoint's pane delta), in insertion order. */
long np_partial_fill_changed(np_aggbuf_t *b, const np_srcmap_t *m, Netpulse__SourceAgg ***out,
                             Netpulse__SourceAgg **other);

/* Fills b's SourceAgg array from the n entries of list (borrowed until the message is
 * packed). Returns the count, or -1. */
long np_partial_fill_list(np_aggbuf_t *b, const np_srcagg_t *const *list, size_t n, Netpulse__SourceAgg ***out);

/* Merges a received table into m: entries (sketches through pool), `other` and the sender's
 * eviction count. Returns how many entries m had no room for, or -1 if an entry was malformed
 * (skipped; the rest still merge). */
long np_partial_merge_table(np_srcmap_t *m, Netpulse__SourceAgg *const *entries, size_t n,
                            const Netpulse__SourceAgg *other, uint64_t evicted, np_hll_pool_t *pool);

/* Fills b from n view tables (views without records are left out). *out gets the pointer
 * array, valid until the next call on b. Returns the count, or -1. */
long np_partial_fill_views(np_viewbuf_t *b, const np_viewagg_t *a, size_t n, Netpulse__ViewAgg ***out);

/* Merges received view tables into a (the views of vs), matched by name. Returns how many
 * were not views of vs (ignored), or -1 when a group was malformed (skipped). */
long np_partial_merge_views(np_viewagg_t *a, const np_viewset_t *vs, Netpulse__ViewAgg *const *v, size_t n);

/* Merges one received SourceAgg into m (its sketches decoded through pool). Returns 0,
 * 1 when m was full (counted in `other`), -1 when the entry is malformed (skipped). */
int np_partial_merge_source(np_srcmap_t *m, const Netpulse__SourceAgg *sa, np_hll_pool_t *pool);

/* Fills b from a class table; the result (valid until the next call on b) is NULL when the
 * table is NULL or counted nothing, so that partials of flow slots stay as they were. */
Netpulse__ClassTable *np_partial_fill_classes(np_classbuf_t *b, const np_classmap_t *m, int *err);

/* A received ClassAgg as counts: 0, or -1 when it is absent or malformed. */
int np_partial_class_count(const Netpulse__ClassAgg *a, np_classcount_t *c);

/* Merges a received class table into m. Returns how many destinations m had no room for
 * (counted in `other`), or -1 if an entry was malformed (skipped; the rest still merge). */
long np_partial_merge_classes(np_classmap_t *m, const Netpulse__ClassTable *t);

/* Encodes a WorkerMsg{progress} for n partitions. */
/* closed_through[i] is what partition i reports as complete: its own closed_through,
 * held back to its oldest partial the coordinator has not acknowledged yet. */
/* claims[i] (may be NULL: no claims) is partition i's ownership claim: the fencing epoch
 * and the topic partition behind the slot; session names this worker process. */
typedef struct np_progress_claim {
    int64_t epoch;
    const char *topic;
    int32_t topic_partition;
} np_progress_claim_t;
int np_progress_encode(np_partial_enc_t *e, const char *worker_id, const char *session, np_partstate_t *const *parts,
                       const int64_t *closed_through, const uint8_t *idle, const np_progress_claim_t *claims,
                       size_t n, int32_t partitions_total, const uint8_t **out, size_t *out_len);

#endif
