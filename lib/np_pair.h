/*
 * np_pair: a repartition partition's bounded partial merged with its input partition's
 * pane, so that a source reaching both (keyed records in input partition p, re-keyed ones
 * in repartition partition N + p) is counted once and judged on its merged counters
 * (ARCHITECTURE.md, Bounded partials, "Why it is exact").
 *
 * The input slot p closes a pane first (the repartition slot's watermark is held at or
 * below p's closed panes on the same worker) and sends its bounded partial as if alone;
 * its worker keeps the pane's table (np_srcwin). When N + p closes the pane, it sends
 *   - as its distinct count, the sources of its pane that p's pane does not have: the
 *     coordinator's sum is the pair's distinct count;
 *   - the candidates of the *merged* table (top sources by bytes, detector candidates
 *     against the pair's totals, or every entry of its own table while learning), and a
 *     correction for every source p sent that N + p's pane also has. A source p sent gets
 *     N + p's counters only (the coordinator adds them to p's); any other gets the merged
 *     counters. Sketches are always the merged ones: uniting a sketch twice changes nothing.
 * So every entry the coordinator holds for a source of the pair carries the merged
 * counters, and every candidate of the merged table is among them. The same for the
 * sliding window (its top only, no detectors).
 *
 * Which sources p sent is recomputed from p's kept table (np_cand_select and np_cand_top
 * are functions of the table and its totals; with more detector candidates than
 * max_candidates, which are counted, the heap's ties may pick others).
 *
 * I/O-free. Scratch tables are reused (no allocation once warm); output pointers are valid
 * until the next call of the same kind. Not thread-safe.
 */
#ifndef NP_PAIR_H
#define NP_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np_cand.h"
#include "np_pane.h"
#include "np_partial.h"
#include "np_srcmap.h"

/* Partial.pair (proto/netpulse.proto). */
enum { NP_PAIR_NONE = 0, NP_PAIR_KEPT = 1, NP_PAIR_MERGED = 2, NP_PAIR_UNPAIRED = 3 };

/* One side of the pair's pane: its table (NULL: no data), totals, and whether its partial
 * carried every entry (learning). */
typedef struct np_pair_side {
    const np_srcmap_t *t;
    uint64_t bytes, packets;
    bool whole;
} np_pair_side_t;

typedef struct np_pair np_pair_t;

/* max_sources: a pane table's cap; window_panes: panes in a window (1: none). top and
 * max_candidates as np_cand_config_t. NULL on memory. */
np_pair_t *np_pair_new(size_t max_sources, size_t window_panes, size_t top, size_t max_candidates,
                       np_hll_pool_t *pool);
void np_pair_destroy(np_pair_t **pr);

/* The repartition side's pane entries (into *out) and *total, its distinct sources not in
 * the input side's pane; *dropped: detector candidates over max_candidates. Returns how
 * many entries. */
size_t np_pair_pane(np_pair_t *pr, const np_cand_config_t *c, const np_pair_side_t *in, const np_pair_side_t *rep,
                    const np_srcagg_t *const **out, uint64_t *total, uint64_t *dropped);

/* The same for the sliding window: in_u and rep_u the two sides' window unions (in_u may
 * be NULL), top entries by bytes. */
size_t np_pair_window(np_pair_t *pr, size_t top, const np_srcmap_t *in_u, const np_srcmap_t *rep_u,
                      const np_srcagg_t *const **out, uint64_t *total);

/* A repartition partition's closing pane (rep, pane) merged with its input partner `in`
 * (NULL when not on this worker): fills b's entries, distinct count and window results
 * and sets b->pair. b arrives as for an unpaired partial (b->sel NULL while rep learns;
 * window fields when the window is on). The partner must know the pane and every pane of
 * its window (np_srcwin_find, np_srcwin_covers; it has closed the pane: the caller holds
 * rep's watermark at in's closed panes); otherwise b stays as it came, NP_PAIR_UNPAIRED.
 * Returns b->pair. Entries are valid until the next call. */
int np_pair_bounded(np_pair_t *pr, const np_cand_config_t *c, np_partstate_t *in, np_partstate_t *rep,
                    const np_pane_t *pane, np_partial_bounded_t *b);

#endif
