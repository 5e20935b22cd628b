/* np_pane: panes and per-partition event-time state. See np_pane.h. */
#include "np_pane.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "np_srcwin.h"

int64_t np_pane_start(int64_t ts, int64_t pane_ms) {
    int64_t r = ts % pane_ms;
    if (r < 0) {
        /* Floor towards -inf without overflow: values within one pane of INT64_MIN
         * (which arrive from the network, never from a real clock) saturate. */
        if (ts < INT64_MIN + pane_ms) return INT64_MIN - (INT64_MIN % pane_ms);
        r += pane_ms;
    }
    return ts - r;
}

bool np_partstate_too_far_ahead(const np_partstate_t *ps, int64_t ts, int64_t global_wm, int64_t max_jump_ms) {
    if (max_jump_ms <= 0) return false;
    int64_t ref = np_partstate_watermark(ps);
    if (global_wm != NP_TS_NONE && (ref == NP_TS_NONE || global_wm > ref)) ref = global_wm;
    if (ref == NP_TS_NONE) return false; /* nothing to compare with yet */
    int64_t room = ps->cfg.lateness_ms + max_jump_ms;
    return ref <= INT64_MAX - room ? ts > ref + room : false;
}

const char *np_pane_config_check(const np_pane_config_t *cfg) {
    if (cfg->pane_ms <= 0) return "pane.ms must be > 0";
    if (cfg->lateness_ms < 0) return "lateness.ms must be >= 0";
    if (cfg->max_sources < 1) return "max.sources.per.pane must be >= 1";
    if (cfg->views && cfg->views->n && cfg->max_groups < 1) return "views.max.groups must be >= 1";
    if (cfg->max_open_panes < (size_t)(cfg->lateness_ms / cfg->pane_ms) + 2)
        return "max.open.panes must be >= lateness.ms / pane.ms + 2";
    if (cfg->window_ms && (cfg->window_ms < cfg->pane_ms || cfg->window_ms % cfg->pane_ms))
        return "window.ms must be a multiple of pane.ms";
    return NULL;
}

static void pane_reset(np_pane_t *p) {
    p->start_ms = NP_TS_NONE;
    p->records = p->bytes = p->packets = p->adds = 0;
    p->min_offset = p->max_offset = -1;
    p->close_offset = 0;
    memset(p->pmix, 0, sizeof(p->pmix));
    memset(p->port_hist, 0, sizeof(p->port_hist));
    np_srcmap_clear(p->sources);
    if (p->dests) np_srcmap_clear(p->dests);
    if (p->views) np_viewaggs_clear(p->views, p->nviews);
    if (p->classes) np_classmap_clear(p->classes);
}

/* A pane's tables (sources, destinations, views), allocated once and reused. */
static int pane_tables_new(np_pane_t *p, const np_pane_config_t *cfg) {
    p->sources = np_srcmap_new(cfg->max_sources, cfg->pool);
    p->dests = cfg->max_dests ? np_srcmap_new(cfg->max_dests, cfg->pool) : NULL;
    p->nviews = cfg->views ? cfg->views->n : 0;
    p->views = np_viewaggs_new(cfg->views, cfg->max_groups);
    p->classes = cfg->max_class_dests ? np_classmap_new(cfg->max_class_dests) : NULL;
    return p->sources && (p->dests || !cfg->max_dests) && (p->views || !p->nviews) &&
                   (p->classes || !cfg->max_class_dests)
               ? 0
               : -1;
}

static void pane_tables_free(np_pane_t *p) {
    np_srcmap_destroy(&p->sources);
    np_srcmap_destroy(&p->dests);
    np_viewaggs_destroy(&p->views, p->nviews);
    np_classmap_destroy(&p->classes);
}

np_partstate_t *np_partstate_new(int32_t partition, const np_pane_config_t *cfg) {
    assert(np_pane_config_check(cfg) == NULL);
    np_partstate_t *ps = calloc(1, sizeof(*ps));
    if (!ps) return NULL;
    ps->partition = partition;
    ps->cfg = *cfg;
    ps->max_ts = ps->follow_wm = ps->closed_through = NP_TS_NONE;
    ps->next_offset = -1;
    ps->dlq_from = -1;
    ps->ring = calloc(cfg->max_open_panes, sizeof(*ps->ring));
    if (!ps->ring) goto err;
    for (size_t i = 0; i < cfg->max_open_panes; i++) {
        if (pane_tables_new(&ps->ring[i], cfg) < 0) goto err;
        pane_reset(&ps->ring[i]);
    }
    if (cfg->window_ms > cfg->pane_ms || cfg->keep_panes) {
        int64_t wms = cfg->window_ms > cfg->pane_ms ? cfg->window_ms : cfg->pane_ms;
        if (!(ps->win = np_srcwin_new(cfg->pane_ms, wms, cfg->keep_panes, cfg->max_sources, cfg->pool))) goto err;
    }
    if (cfg->window_ms > cfg->pane_ms) {
        if (pane_tables_new(&ps->empty, cfg) < 0) goto err;
        pane_reset(&ps->empty);
    }
    return ps;
err:
    np_partstate_destroy(&ps);
    return NULL;
}

void np_partstate_destroy(np_partstate_t **psp) {
    if (!psp || !*psp) return;
    np_partstate_t *ps = *psp;
    if (ps->ring)
        for (size_t i = 0; i < ps->cfg.max_open_panes; i++) {
            pane_tables_free(&ps->ring[i]);
        }
    free(ps->ring);
    np_srcwin_destroy(&ps->win);
    pane_tables_free(&ps->empty);
    free(ps);
    *psp = NULL;
}

/* Doubles the ring, keeping every open pane. Returns 0 or -1 (cap or memory). */
static int ring_grow(np_partstate_t *ps) {
    size_t n = ps->cfg.max_open_panes, nn = n * 2;
    if (nn > NP_PANE_RING_MAX) return -1;
    np_pane_t *nr = calloc(nn, sizeof(*nr));
    if (!nr) return -1;
    for (size_t i = 0; i < nn; i++) nr[i].start_ms = NP_TS_NONE;
    /* Open panes move to their new slot; the empty ones' tables are reused. */
    size_t spare = 0;
    np_pane_t *free_maps = calloc(n, sizeof(*free_maps));
    if (!free_maps) {
        free(nr);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        np_pane_t *p = &ps->ring[i];
        if (p->start_ms == NP_TS_NONE) {
            free_maps[spare++] = *p;
            continue;
        }
        int64_t k = p->start_ms / ps->cfg.pane_ms % (int64_t)nn;
        nr[k < 0 ? k + (int64_t)nn : k] = *p;
    }
    int rc = 0;
    for (size_t i = 0; i < nn; i++) {
        if (nr[i].start_ms != NP_TS_NONE) continue;
        if (spare) {
            nr[i] = free_maps[--spare];
        } else if (pane_tables_new(&nr[i], &ps->cfg) < 0) {
            rc = -1;
        }
        nr[i].start_ms = NP_TS_NONE;
        nr[i].min_offset = nr[i].max_offset = -1;
        nr[i].close_offset = 0;
    }
    free(free_maps);
    free(ps->ring);
    ps->ring = nr;
    ps->cfg.max_open_panes = nn;
    return rc;
}

static np_pane_t *ring_slot(np_partstate_t *ps, int64_t pane_start) {
    int64_t k = pane_start / ps->cfg.pane_ms; /* pane_start is aligned */
    int64_t n = (int64_t)ps->cfg.max_open_panes;
    int64_t i = k % n;
    if (i < 0) i += n;
    return &ps->ring[i];
}

int64_t np_partstate_watermark(const np_partstate_t *ps) {
    /* A repartition partition mixes records of every input partition: its own maximum
     * says nothing about what is still on its way, only the inputs' watermarks do. */
    if (ps->cfg.external_wm) return ps->follow_wm;
    int64_t own = ps->max_ts == NP_TS_NONE ? NP_TS_NONE : ps->max_ts - ps->cfg.lateness_ms;
    return own > ps->follow_wm ? own : ps->follow_wm;
}

void np_partstate_follow(np_partstate_t *ps, int64_t global_wm) {
    if (global_wm > ps->follow_wm) ps->follow_wm = global_wm;
}

/* Window-only panes: every pane in [from, to) without data whose sliding window still
 * holds data of this partition (the window_ms / pane_ms - 1 panes after one with data). */
static void emit_window_only(np_partstate_t *ps, int64_t from, int64_t to, np_pane_emit_fn emit, void *ctx) {
    int64_t last = ps->win ? np_srcwin_last(ps->win) : NP_SRCWIN_NONE;
    if (last == NP_SRCWIN_NONE || !emit) return;
    int64_t pane = ps->cfg.pane_ms, lo = last + pane, hi = last + ps->cfg.window_ms; /* [lo, hi) */
    if (from != NP_TS_NONE && from > lo) lo = from;
    if (to < hi) hi = to;
    ps->empty.close_offset = ps->next_offset;
    for (int64_t q = lo; q < hi; q += pane) {
        ps->empty.start_ms = q;
        emit(ctx, ps, &ps->empty, 0);
    }
    ps->empty.start_ms = NP_TS_NONE;
}

/* Emits and clears every open pane ending at or before `through` (aligned). */
static size_t close_through(np_partstate_t *ps, int64_t through, np_pane_emit_fn emit, void *ctx) {
    size_t closed = 0;
    int64_t from = ps->closed_through; /* the first pane not closed yet */
    /* Open panes are few (the ring); visit them oldest first. */
    for (;;) {
        np_pane_t *oldest = NULL;
        for (size_t i = 0; i < ps->cfg.max_open_panes; i++) {
            np_pane_t *p = &ps->ring[i];
            if (p->start_ms == NP_TS_NONE || p->start_ms + ps->cfg.pane_ms > through) continue;
            if (!oldest || p->start_ms < oldest->start_ms) oldest = p;
        }
        if (!oldest) break;
        emit_window_only(ps, from, oldest->start_ms, emit, ctx);
        ps->emit_whole = false;
        /* What the partial holds, by offset: a copy rebuilt by an owner that started
         * without this state is then checked against it (np_merge, "conflicting"). */
        oldest->close_offset = ps->next_offset;
        if (emit) emit(ctx, ps, oldest, ps->late_pending);
        ps->late_pending = 0;
        ps->panes_emitted++;
        /* A table larger than the copy's room cannot happen: both hold max_sources. */
        if (ps->win) {
            np_srcwin_push(ps->win, oldest->start_ms, oldest->sources);
            np_srcwin_note(ps->win, oldest->start_ms, oldest->bytes, oldest->packets, ps->emit_whole);
        }
        from = oldest->start_ms + ps->cfg.pane_ms;
        pane_reset(oldest);
        closed++;
    }
    emit_window_only(ps, from, through, emit, ctx);
    ps->closed_through = through;
    return closed;
}

size_t np_partstate_advance(np_partstate_t *ps, np_pane_emit_fn emit, void *ctx) {
    int64_t wm = np_partstate_watermark(ps);
    if (wm == NP_TS_NONE) return 0;
    int64_t through = np_pane_start(wm, ps->cfg.pane_ms);
    if (ps->closed_through != NP_TS_NONE && through <= ps->closed_through) return 0;
    return close_through(ps, through, emit, ctx);
}

bool np_partstate_is_late(const np_partstate_t *ps, int64_t ts_ms) {
    int64_t start = np_pane_start(ts_ms, ps->cfg.pane_ms);
    return ps->closed_through != NP_TS_NONE && start + ps->cfg.pane_ms <= ps->closed_through;
}

/* The open pane for a record at event time ts (advancing the watermark first), or NULL
 * when that pane is closed already (the record is late, and counted so). */
static np_pane_t *pane_for(np_partstate_t *ps, int64_t ts, int64_t offset, np_pane_emit_fn emit, void *ctx,
                           int64_t *pane_start_out) {
    int64_t start = np_pane_start(ts, ps->cfg.pane_ms);
    if (pane_start_out) *pane_start_out = start;
    ps->next_offset = offset + 1;
    if (np_partstate_is_late(ps, ts)) {
        ps->late_pending++;
        ps->late_total++;
        return NULL;
    }
    ps->has_data = true;
    if (ps->max_ts == NP_TS_NONE || ts > ps->max_ts) {
        ps->max_ts = ts;
        np_partstate_advance(ps, emit, ctx);
    }
    /* After advancing, the record's pane is still open: its end is past ts, and the
     * watermark is at most ts (max_ts - lateness) or the closed point checked above. */
    np_pane_t *p = ring_slot(ps, start);
    if (p->start_ms != start) {
        /* The ring holds every pane in (closed_through, max pane]; a different occupant
         * would mean the ring is too small, which np_pane_config_check rules out. Checked
         * in release builds too: merging two panes' records would be silent corruption. */
        while (ps->cfg.external_wm && p->start_ms != NP_TS_NONE) {
            if (ring_grow(ps) < 0) abort(); /* 4096 panes open: memory would be the next thing to go */
            p = ring_slot(ps, start);
        }
        if (p->start_ms != NP_TS_NONE) abort();
        p->start_ms = start;
        p->min_offset = offset;
    }
    if (offset < p->min_offset) p->min_offset = offset;
    if (offset > p->max_offset) p->max_offset = offset;
    p->adds++;
    ps->records_total++;
    return p;
}

np_pane_add_result_t np_partstate_add(np_partstate_t *ps, const np_record_t *r, int64_t offset,
                                      np_pane_emit_fn emit, void *ctx, int64_t *pane_start_out) {
    np_pane_t *p = pane_for(ps, r->ts_ms, offset, emit, ctx, pane_start_out);
    if (!p) return NP_PANE_LATE;
    p->records++;
    p->bytes += r->bytes;
    p->packets += r->packets;
    p->pmix[np_pmix_bucket(r->proto)]++;
    if (r->proto == NP_PROTO_TCP || r->proto == NP_PROTO_UDP) p->port_hist[np_port_bucket(r->dst_port)]++;
    np_srcmap_add_record(p->sources, r);
    if (p->dests) np_srcmap_add_record_dst(p->dests, r);
    if (p->views) np_viewaggs_add(p->views, ps->cfg.views, r);
    return NP_PANE_ADDED;
}

np_pane_add_result_t np_partstate_add_class(np_partstate_t *ps, int64_t ts_ms, const np_ip_t *dst, int cls,
                                            double confidence, int64_t offset, np_pane_emit_fn emit, void *ctx,
                                            int64_t *pane_start_out) {
    assert(ps->cfg.max_class_dests > 0);
    np_pane_t *p = pane_for(ps, ts_ms, offset, emit, ctx, pane_start_out);
    if (!p) return NP_PANE_LATE;
    return np_classmap_add(p->classes, dst, cls, confidence) ? NP_PANE_EVICTED : NP_PANE_ADDED;
}

np_pane_t *np_partstate_claim_pane(np_partstate_t *ps, int64_t start) {
    if (np_pane_start(start, ps->cfg.pane_ms) != start) return NULL;
    if (ps->closed_through != NP_TS_NONE && start + ps->cfg.pane_ms <= ps->closed_through) return NULL;
    np_pane_t *p = ring_slot(ps, start);
    while (ps->cfg.external_wm && p->start_ms != NP_TS_NONE && p->start_ms != start) {
        if (ring_grow(ps) < 0) return NULL;
        p = ring_slot(ps, start);
    }
    if (p->start_ms != NP_TS_NONE) return NULL;
    p->start_ms = start;
    return p;
}

void np_partstate_observe(np_partstate_t *ps, int64_t ts_ms, int64_t offset, np_pane_emit_fn emit, void *ctx) {
    ps->next_offset = offset + 1;
    ps->has_data = true;
    if (ps->max_ts == NP_TS_NONE || ts_ms > ps->max_ts) {
        ps->max_ts = ts_ms;
        np_partstate_advance(ps, emit, ctx);
    }
}

int64_t np_partstate_safe_offset(const np_partstate_t *ps) {
    int64_t safe = ps->next_offset;
    for (size_t i = 0; i < ps->cfg.max_open_panes; i++) {
        const np_pane_t *p = &ps->ring[i];
        if (p->start_ms != NP_TS_NONE && p->min_offset < safe) safe = p->min_offset;
    }
    return safe;
}

size_t np_partstate_open_panes(const np_partstate_t *ps) {
    size_t n = 0;
    for (size_t i = 0; i < ps->cfg.max_open_panes; i++) n += ps->ring[i].start_ms != NP_TS_NONE;
    return n;
}

size_t np_partstate_memory_bytes(const np_partstate_t *ps) {
    size_t n = sizeof(*ps) + ps->cfg.max_open_panes * sizeof(np_pane_t);
    for (size_t i = 0; i < ps->cfg.max_open_panes; i++) {
        n += np_srcmap_memory_bytes(ps->ring[i].sources);
        if (ps->ring[i].dests) n += np_srcmap_memory_bytes(ps->ring[i].dests);
        for (size_t v = 0; v < ps->ring[i].nviews; v++) n += np_gtab_memory_bytes(ps->ring[i].views[v].groups);
        if (ps->ring[i].classes) n += np_classmap_memory_bytes(ps->ring[i].classes);
    }
    if (ps->win) n += np_srcwin_memory_bytes(ps->win);
    return n;
}
