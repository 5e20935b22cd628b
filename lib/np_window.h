/*
 * np_window: sliding windows built from final global panes (coordinator side).
 *
 * A window of window_ms (a multiple of pane_ms) slides by one pane: each time a pane is
 * final, the window ending at that pane's end is the union of the last window_ms/pane_ms
 * panes: totals summed, sources merged (so `sources` and `top_sources` stay exact),
 * partitions that had data united. Tumbling windows are the case window_ms == pane_ms.
 *
 * A window is produced only once every pane it covers has been seen since the first
 * pane this aggregator was given, so no window silently misses the time before the
 * stream (or before netpulse) started.
 *
 * I/O-free; not thread-safe (the coordinator's loop owns it). Memory is bounded by
 * (window_ms / pane_ms + 1) source tables of max_sources each.
 */
#ifndef NP_WINDOW_H
#define NP_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "np_merge.h"

typedef struct np_window np_window_t;

/* Returns NULL if window_ms is not a positive multiple of pane_ms or memory is short. */
np_window_t *np_window_new(int64_t pane_ms, int64_t window_ms, size_t max_sources, np_hll_pool_t *pool);
/* The most such a window holds once every table is full: window_ms / pane_ms panes of
 * max_sources and the window handed out, of that many times max_sources. For np_budget. */
size_t np_window_bound_bytes(int64_t pane_ms, int64_t window_ms, size_t max_sources);
void np_window_destroy(np_window_t **w);

int64_t np_window_ms(const np_window_t *w);

/* Adds the next final pane (panes must come in order, gaps count as empty panes).
 * Returns the window ending at the pane's end (start_ms = its start; valid until the next
 * call), or NULL while the window would reach back before the first pane added. */
const np_gpane_t *np_window_push(np_window_t *w, const np_gpane_t *pane);

/* np_window_push without copying the pane's sources (a final pane's table is most of its
 * cost): the window uses pane->sources as they are until np_window_keep, which must come
 * before the next push and before pane->sources changes. */
const np_gpane_t *np_window_push_lent(np_window_t *w, const np_gpane_t *pane);
/* After np_window_push_lent: the window keeps the lent table and returns the one it held
 * in its place, empty, made with the same max_sources and pool; the lender puts it where
 * its table was (np_merge_swap_sources), so no table is added or lost. NULL when nothing
 * was lent (the pane had no table, or one not interchangeable: np_srcmap_interchangeable;
 * then the push copied). */
np_srcmap_t *np_window_keep(np_window_t *w);

/* Start of the first pane ever added (NP_TS_NONE before), for persistence. */
int64_t np_window_first(const np_window_t *w);
void np_window_set_first(np_window_t *w, int64_t first);

#endif
