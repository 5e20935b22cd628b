/*
 * np_srcwin: a worker partition's source tables of its last closed panes, so that bounded
 * partials can carry the partition's exact per-window results (distinct sources, top
 * sources by bytes) instead of the coordinator needing every pane's whole table, and so
 * that a repartition partition can merge its pane with its input partition's (np_pair;
 * ARCHITECTURE.md, Bounded partials).
 *
 * Holds copies of the closed panes with data among the last window_ms / pane_ms - 1 + keep
 * pane starts (a ring by pane start); the window ending with pane P is the union of those
 * in it and P's own table. Sources are partition-local (up to the input/repartition pair,
 * which np_pair merges), so the global window's distinct count is the sum of the
 * partitions' and its top sources the top of their tops. Each kept pane also records its
 * totals and whether its partial carried the whole table (np_pair needs both).
 *
 * Memory: (window_ms / pane_ms - 1 + keep) tables of max_sources each at most, plus the
 * union's. I/O-free; not thread-safe (the partition's owner).
 */
#ifndef NP_SRCWIN_H
#define NP_SRCWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np_srcmap.h"

typedef struct np_srcwin np_srcwin_t;

/* window_ms a multiple of pane_ms, at least pane_ms (pane_ms: no window, only the kept
 * panes); keep: panes kept beyond the window's. At least one pane must be kept. NULL on bad
 * arguments or memory. */
np_srcwin_t *np_srcwin_new(int64_t pane_ms, int64_t window_ms, size_t keep, size_t max_sources, np_hll_pool_t *pool);
void np_srcwin_destroy(np_srcwin_t **w);

/* The window length (pane_ms: no window). */
int64_t np_srcwin_ms(const np_srcwin_t *w);

/* Keeps a copy of the closed pane `start`'s table (panes in increasing order). Returns 0, or
 * -1 when the copy ran out of room (the pane's table is larger than max_sources). */
int np_srcwin_push(np_srcwin_t *w, int64_t start, const np_srcmap_t *m);

/* Records the kept pane `start`'s totals and whether its partial carried the whole table
 * (no-op when that pane is not kept). */
void np_srcwin_note(np_srcwin_t *w, int64_t start, uint64_t bytes, uint64_t packets, bool whole);

/* Start of the newest pane kept, NP_SRCWIN_NONE when none. */
#define NP_SRCWIN_NONE INT64_MIN
int64_t np_srcwin_last(const np_srcwin_t *w);

/* The union of the window ending with pane `start`: the kept panes inside it, plus current
 * (pane start's own table, may be NULL). Valid until the next call. */
const np_srcmap_t *np_srcwin_union(np_srcwin_t *w, int64_t start, const np_srcmap_t *current);

/* The panes before `from` may have had data that is not kept (a checkpoint without kept
 * panes was restored): np_srcwin_find answers -1 for them. Default: none such.
 * NP_SRCWIN_KNOWN_FROM_NEXT: from the next pane pushed on (a partition restarted with no
 * state, after a damaged checkpoint: what it closed before is unknown). */
#define NP_SRCWIN_KNOWN_FROM_NEXT INT64_MAX
void np_srcwin_set_known_from(np_srcwin_t *w, int64_t from);

/* The oldest pane np_srcwin_find answers for (0 or 1): the later of the known_from mark and
 * the oldest pane the ring still covers; NP_SRCWIN_NONE when every pane is known,
 * NP_SRCWIN_KNOWN_FROM_NEXT while waiting for the next push. For checkpoints: a restore
 * into a ring of another size (other window.ms or keep) must not answer "no data" for a
 * pane this ring never held, and a partition that lost its history must stay marked. */
int64_t np_srcwin_known_from(const np_srcwin_t *w);

/* What the partition's closed pane `start` held, for a caller that knows it is closed:
 * 1 with *t (and the totals and whole flag, any may be NULL) when kept, 0 when it had no
 * data, -1 when that is not known any more (overwritten in the ring, or before the
 * known panes). */
int np_srcwin_find(const np_srcwin_t *w, int64_t start, const np_srcmap_t **t, uint64_t *bytes, uint64_t *packets,
                   bool *whole);

/* True when every pane of the window ending with pane `start` is known (np_srcwin_find
 * answers 0 or 1 for each). */
bool np_srcwin_covers(const np_srcwin_t *w, int64_t start);

/* The kept panes, for checkpoints: slot i from 0 to np_srcwin_slots(w); start
 * NP_SRCWIN_NONE for an empty slot. */
size_t np_srcwin_slots(const np_srcwin_t *w);
int64_t np_srcwin_slot_start(const np_srcwin_t *w, size_t i);
const np_srcmap_t *np_srcwin_slot(const np_srcwin_t *w, size_t i);
void np_srcwin_slot_meta(const np_srcwin_t *w, size_t i, uint64_t *bytes, uint64_t *packets, bool *whole);
/* Slot i's generation: a new value whenever its pane, table or meta changes (claim, push,
 * note), never a value any ring of the process had before; 0 for a slot never used. The
 * checkpoint writer rewrites a kept pane's part only when it changed (np_ckpt_writer keeps
 * the generation it stored). */
uint64_t np_srcwin_slot_gen(const np_srcwin_t *w, size_t i);

/* Memory of the kept tables and the union (sketch pool blocks not included). */
size_t np_srcwin_memory_bytes(const np_srcwin_t *w);

/* For restoring a checkpoint: the emptied table that will hold pane `start`. */
np_srcmap_t *np_srcwin_claim(np_srcwin_t *w, int64_t start);

#endif
