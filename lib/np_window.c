/* np_window: sliding windows from final panes. See np_window.h. */
#include "np_window.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "np_pane.h"

#define SEEN_BYTES (NP_MERGE_MAX_PARTITIONS / 8)

struct np_window {
    int64_t pane_ms, window_ms;
    size_t k;            /* panes per window */
    np_gpane_t *ring;    /* the last k panes, slot = pane index mod k */
    np_gpane_t out;      /* the window handed out */
    int64_t first;       /* first pane added */
    /* np_window_push_lent: the slot whose sources are the lender's table until
     * np_window_keep, and the slot's own table (emptied) meanwhile. NULL: none lent. */
    np_gpane_t *lent;
    np_srcmap_t *spare;
};

static int gpane_init(np_gpane_t *g, size_t max_sources, np_hll_pool_t *pool) {
    memset(g, 0, sizeof(*g));
    g->start_ms = NP_TS_NONE;
    g->seen = calloc(1, SEEN_BYTES);
    g->sources = np_srcmap_new(max_sources, pool);
    return g->seen && g->sources ? 0 : -1;
}

static void gpane_free(np_gpane_t *g) {
    free(g->seen);
    np_srcmap_destroy(&g->sources);
}

static void gpane_clear(np_gpane_t *g) {
    g->records = g->bytes = g->packets = g->late_records = g->sources_evicted = 0;
    g->partitions = 0;
    g->nsources = 0;
    g->bounded = g->sources_lower_bound = false;
    memset(g->pmix, 0, sizeof(g->pmix));
    memset(g->seen, 0, SEEN_BYTES);
    np_srcmap_clear(g->sources);
    memset(&g->class_total, 0, sizeof(g->class_total));
}

/* dst's sources += src's (evictions while merging counted). */
static void gpane_add_sources(np_gpane_t *dst, const np_gpane_t *src) {
    if (!src->sources) return;
    for (size_t i = 0; i < np_srcmap_slots(src->sources); i++) {
        const np_srcagg_t *s = np_srcmap_slot(src->sources, i);
        if (s && np_srcmap_merge(dst->sources, s)) dst->sources_evicted++;
    }
    const np_srcagg_t *o = np_srcmap_other(src->sources);
    if (o->records) np_srcmap_add_other(dst->sources, o->records, o->bytes, o->packets, 0);
}

/* dst += src, all but the sources (gpane_add_sources). */
static void gpane_add_totals(np_gpane_t *dst, const np_gpane_t *src) {
    dst->records += src->records;
    dst->bytes += src->bytes;
    dst->packets += src->packets;
    dst->late_records += src->late_records;
    dst->sources_evicted += src->sources_evicted;
    for (int i = 0; i < NP_PMIX__COUNT; i++) dst->pmix[i] += src->pmix[i];
    for (int k = 0; k < NP_KDD_NCLASSES; k++) {
        dst->class_total.n[k] += src->class_total.n[k];
        dst->class_total.conf[k] += src->class_total.conf[k];
    }
    /* Bounded panes carry exact counts but only candidate sources: a window's distinct
     * count is at least its largest pane's (ARCHITECTURE.md, Bounded partials). */
    if (src->nsources > dst->nsources) dst->nsources = src->nsources;
    dst->bounded = dst->bounded || src->bounded;
    if (src->seen) /* partitions with data: window-only partials do not count */
        for (size_t i = 0; i < SEEN_BYTES; i++) dst->seen[i] |= src->seen[i] & (uint8_t)~(src->wonly ? src->wonly[i] : 0);
}

static uint32_t popcount_seen(const uint8_t *seen) {
    uint32_t n = 0;
    for (size_t i = 0; i < SEEN_BYTES; i++) n += (uint32_t)__builtin_popcount(seen[i]);
    return n;
}

/* True when every partition with data in the window (out->seen) sent results for it with
 * the window's last pane (pane->seen: each partial merged there, window-only ones too,
 * and all of them carried window results, or win_missing says otherwise). A partition
 * that lost its window history (a damaged checkpoint quarantined: it restarts empty)
 * sends no window-only partials for data it no longer knows: without this test the sum of
 * the others' results would be published as exact, short by its sources. */
static bool window_results_cover(const np_gpane_t *out, const np_gpane_t *pane) {
    for (size_t i = 0; i < SEEN_BYTES; i++)
        if (out->seen[i] & (uint8_t)~pane->seen[i]) return false;
    return true;
}

/* Panes the coordinator skipped (long empty gaps) leave stale slots: only panes inside
 * the window [start, end) count. */
static bool in_window(const np_gpane_t *r, int64_t start, int64_t end) {
    return r->start_ms != NP_TS_NONE && r->start_ms >= start && r->start_ms < end;
}

size_t np_window_bound_bytes(int64_t pane_ms, int64_t window_ms, size_t max_sources) {
    if (pane_ms <= 0 || window_ms < pane_ms || window_ms % pane_ms) return 0;
    size_t k = (size_t)(window_ms / pane_ms);
    return sizeof(np_window_t) + (k + 1) * (sizeof(np_gpane_t) + SEEN_BYTES) +
           k * np_srcmap_bound_bytes(max_sources, false) + np_srcmap_bound_bytes(max_sources * k, false);
}

np_window_t *np_window_new(int64_t pane_ms, int64_t window_ms, size_t max_sources, np_hll_pool_t *pool) {
    if (pane_ms <= 0 || window_ms < pane_ms || window_ms % pane_ms) return NULL;
    np_window_t *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    w->pane_ms = pane_ms;
    w->window_ms = window_ms;
    w->k = (size_t)(window_ms / pane_ms);
    w->first = NP_TS_NONE;
    w->ring = calloc(w->k, sizeof(*w->ring));
    if (!w->ring || gpane_init(&w->out, max_sources * w->k, pool) < 0) goto err;
    for (size_t i = 0; i < w->k; i++)
        if (gpane_init(&w->ring[i], max_sources, pool) < 0) goto err;
    return w;
err:
    np_window_destroy(&w);
    return NULL;
}

void np_window_destroy(np_window_t **wp) {
    if (!wp || !*wp) return;
    np_window_t *w = *wp;
    if (w->lent) w->lent->sources = w->spare; /* the lender's table is not ours to free */
    for (size_t i = 0; w->ring && i < w->k; i++) gpane_free(&w->ring[i]);
    gpane_free(&w->out);
    free(w->ring);
    free(w);
    *wp = NULL;
}

int64_t np_window_ms(const np_window_t *w) { return w->window_ms; }
int64_t np_window_first(const np_window_t *w) { return w->first; }
void np_window_set_first(np_window_t *w, int64_t first) { w->first = first; }

/* The pane's sources into slot g: lent (the slot uses pane's table until np_window_keep)
 * when lend and the tables are interchangeable, else copied. */
static void slot_sources(np_window_t *w, np_gpane_t *g, const np_gpane_t *pane, bool lend) {
    if (lend && pane->sources && np_srcmap_interchangeable(pane->sources, g->sources)) {
        w->lent = g;
        w->spare = g->sources; /* emptied by gpane_clear */
        g->sources = pane->sources;
    } else {
        gpane_add_sources(g, pane);
    }
}

static const np_gpane_t *push(np_window_t *w, const np_gpane_t *pane, bool lend) {
    assert(!w->lent); /* np_window_keep after every np_window_push_lent */
    int64_t idx = pane->start_ms / w->pane_ms;
    size_t slot = (size_t)(((idx % (int64_t)w->k) + (int64_t)w->k) % (int64_t)w->k);
    np_gpane_t *g = &w->ring[slot];
    gpane_clear(g);
    g->start_ms = pane->start_ms;
    gpane_add_totals(g, pane);
    slot_sources(w, g, pane, lend);
    g->partitions = pane->partitions;
    if (w->first == NP_TS_NONE || pane->start_ms < w->first) w->first = pane->start_ms;

    int64_t end = pane->start_ms + w->pane_ms, start = end - w->window_ms;
    if (start < w->first) return NULL;
    gpane_clear(&w->out);
    w->out.start_ms = start;
    for (size_t i = 0; i < w->k; i++)
        if (in_window(&w->ring[i], start, end)) gpane_add_totals(&w->out, &w->ring[i]);
    w->out.partitions = popcount_seen(w->out.seen);
    if (pane->win_top && pane->win_seen && !pane->win_missing && window_results_cover(&w->out, pane)) {
        /* Every partition sent its own window's results with this pane (bounded partials):
         * exact, whatever the panes' tables hold, so their union is not built (it was the
         * most of a window's cost; it cannot evict: out holds k x max_sources, the union
         * of k tables of at most max_sources). */
        for (size_t i = 0; i < np_srcmap_slots(pane->win_top); i++) {
            const np_srcagg_t *s = np_srcmap_slot(pane->win_top, i);
            if (s) np_srcmap_merge(w->out.sources, s);
        }
        w->out.nsources = pane->win_sources;
        w->out.bounded = true;
        w->out.sources_lower_bound = false;
    } else {
        for (size_t i = 0; i < w->k; i++) /* the union of the panes' tables */
            if (in_window(&w->ring[i], start, end)) gpane_add_sources(&w->out, &w->ring[i]);
        /* Without every partition's window results the panes' candidates are a lower
         * bound, unless no partition had data in the window (only window-only partials
         * of bounded panes, or none): then its exact distinct count is 0. */
        w->out.sources_lower_bound = w->out.bounded && w->k > 1 && w->out.partitions > 0;
    }
    return &w->out;
}

const np_gpane_t *np_window_push(np_window_t *w, const np_gpane_t *pane) { return push(w, pane, false); }

const np_gpane_t *np_window_push_lent(np_window_t *w, const np_gpane_t *pane) { return push(w, pane, true); }

np_srcmap_t *np_window_keep(np_window_t *w) {
    np_srcmap_t *spare = w->spare;
    w->lent = NULL;
    w->spare = NULL;
    return spare;
}
