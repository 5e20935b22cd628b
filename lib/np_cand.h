/*
 * np_cand: which sources of a worker pane a bounded partial carries (`partial.top.sources`).
 *
 * Instead of the pane's whole source table, a bounded partial carries
 *   - the `top` sources by bytes (ties: more records, then the lower address), so the
 *     coordinator's top sources are exact: sources are partition-local, and the top-K of
 *     disjoint sets is the top-K of their top-Ks (top >= the published top_sources);
 *   - every source that may pass a per-source detector of np_detect (new source, heavy
 *     hitter, host and port scan) on the global pane. The tests below are necessary
 *     conditions of the detectors' own: a share of the global pane is at most the share of
 *     the partition's pane (the global totals include the partition's), and distinct-count
 *     estimates are the same sketch the coordinator reads. So the coordinator's detectors
 *     raise the same anomalies as on the full table, as long as no candidate is dropped
 *     (more than `max_candidates`, counted). A source both keyed (input partition p) and
 *     re-keyed (repartition partition N + p) is merged by their worker (np_pair), which
 *     calls these on the merged table against the pair's totals.
 * Learning (the first detect.learn.panes panes) needs every source: the caller sends the
 * whole table then (np_cand_learning).
 *
 * I/O-free, no allocation: the caller owns the output array. Not thread-safe.
 */
#ifndef NP_CAND_H
#define NP_CAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np_detect.h"
#include "np_partial.h"
#include "np_srcmap.h"
#include "np_srcwin.h"

typedef struct np_cand_config {
    size_t top;             /* sources by bytes (>= 1) */
    size_t max_candidates;  /* detector candidates beyond the top ones, at most */
    int learn_panes;        /* detect.learn.panes */
    /* np_detect's per-source thresholds (the same detect.* keys as the coordinator's) */
    double new_min_share, hh_share, scan_fanout;
    uint64_t new_min_bytes, hh_min_records, scan_hosts, scan_ports, scan_flow_bytes;
} np_cand_config_t;

/* Takes the per-source parameters from a detector configuration. */
void np_cand_config_from_detect(np_cand_config_t *c, const np_detect_config_t *d, size_t top, size_t max_candidates);

/* True while a partition that has emitted `panes_emitted` panes with data must still send
 * whole tables: every pane with data of a partition is a final global pane, so the
 * coordinator's first learn_panes panes hold at most learn_panes of the partition's. */
bool np_cand_learning(const np_cand_config_t *c, uint64_t panes_emitted);

/* True when s may pass a per-source detector on a global pane that includes this
 * partition's pane (totals pane_bytes, pane_packets). */
bool np_cand_detector(const np_cand_config_t *c, const np_srcagg_t *s, uint64_t pane_bytes, uint64_t pane_packets);

/* The `top` largest sources of m by bytes (the top_sources order) into out, sorted; returns
 * how many. */
size_t np_cand_top(const np_srcmap_t *m, size_t top, const np_srcagg_t **out);

/* Fills b's sliding-window results for the pane starting at start_ms: the union of the
 * partition's window (win) ending with it (pane_sources: the pane's table, NULL for a pane
 * without data, window_only), its distinct count and its top `top` sources into win_sel
 * (room for top). The one place workers and np-bench-sim build them. */
void np_cand_window(np_partial_bounded_t *b, np_srcwin_t *win, int64_t start_ms, const np_srcmap_t *pane_sources,
                    bool window_only, size_t top, const np_srcagg_t **win_sel);

/* Selects the candidates of m into out (cap slots; cap >= top + max_candidates), without
 * repeats, the top ones first. *dropped gets the detector candidates left out because
 * there were more than max_candidates (those with the fewest distinct targets go first).
 * Returns the count. */
size_t np_cand_select(const np_cand_config_t *c, const np_srcmap_t *m, uint64_t pane_bytes, uint64_t pane_packets,
                      const np_srcagg_t **out, size_t cap, uint64_t *dropped);

#endif
