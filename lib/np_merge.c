/* np_merge: global panes, completeness and the global watermark. See np_merge.h. */
#include "np_merge.h"
#include "np_pair.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "np_pane.h"
#include "np_partial.h"

typedef struct part_progress {
    bool reported;
    bool idle;
    bool has_data;
    int64_t closed_through;
    int64_t watermark;
} part_progress_t;

struct np_merge {
    np_merge_config_t cfg;
    int32_t npart;
    part_progress_t *parts;  /* NP_MERGE_MAX_PARTITIONS */
    np_gpane_t *panes;       /* cfg.max_panes */
    int64_t next_emit;       /* first pane not yet emitted; NP_TS_NONE before any */
    int64_t gwm;             /* last global watermark handed out */
    int64_t all_idle_since;  /* monotonic ms, NP_TS_NONE while something is active */
    int64_t all_idle_base;   /* highest watermark when all went idle */
    np_merge_stats_t st;
    int64_t wall_ms;         /* NP_TS_NONE until set */
    /* Per partition (cfg.max_partitions), from the panes published since start: the last
     * one it had a partial in (NP_TS_NONE: none) and that partial's close offset. */
    int64_t *fin_pane, *fin_close;
};

static void gpane_reset(const np_merge_t *m, np_gpane_t *g) {
    g->start_ms = NP_TS_NONE;
    g->records = g->bytes = g->packets = g->late_records = g->sources_evicted = 0;
    g->partitions = 0;
    g->nsources = 0;
    g->bounded = g->sources_lower_bound = false;
    g->win_sources = 0;
    g->win_seen = g->win_missing = 0;
    if (g->win_top) np_srcmap_clear(g->win_top);
    if (g->wonly) memset(g->wonly, 0, NP_MERGE_MAX_PARTITIONS / 8);
    memset(g->pmix, 0, sizeof(g->pmix));
    memset(g->port_hist, 0, sizeof(g->port_hist));
    memset(g->seen, 0, NP_MERGE_MAX_PARTITIONS / 8);
    memset(g->close_offset, 0, (size_t)m->cfg.max_partitions * sizeof(*g->close_offset));
    np_srcmap_clear(g->sources);
    if (g->dests) np_srcmap_clear(g->dests);
    if (g->fanin) np_vhll_clear(g->fanin);
    g->dests_evicted = 0;
    np_viewaggs_clear(g->views, g->nviews);
    memset(&g->class_total, 0, sizeof(g->class_total));
    if (g->classes) np_classmap_clear(g->classes);
}

/* cfg->max_partitions as used: 0 or over NP_MERGE_MAX_PARTITIONS means the maximum. */
static int32_t partitions_of(const np_merge_config_t *cfg) {
    return cfg->max_partitions > 0 && cfg->max_partitions < NP_MERGE_MAX_PARTITIONS ? cfg->max_partitions
                                                                                    : NP_MERGE_MAX_PARTITIONS;
}

void np_merge_bound(const np_merge_config_t *cfg, np_merge_bound_t *out) {
    size_t n = cfg->max_panes;
    bool win = cfg->window_ms > cfg->pane_ms;
    size_t nviews = cfg->views ? cfg->views->n : 0;
    memset(out, 0, sizeof(*out));
    out->sources = n * np_srcmap_bound_bytes(cfg->max_sources, false);
    if (cfg->max_dests) out->dests = n * np_srcmap_bound_bytes(cfg->max_dests, false);
    if (cfg->fanin_registers) out->fanin = n * np_vhll_bound_bytes(cfg->fanin_registers);
    if (win) out->window_top = n * np_srcmap_bound_bytes(cfg->max_sources, false);
    out->views = n * np_viewaggs_bound_bytes(nviews, cfg->max_groups, false);
    if (cfg->max_class_dests) out->classes = n * np_classmap_bound_bytes(cfg->max_class_dests);
    size_t nparts = (size_t)partitions_of(cfg);
    out->fixed = sizeof(np_merge_t) + NP_MERGE_MAX_PARTITIONS * sizeof(part_progress_t) + 2 * nparts * sizeof(int64_t) +
                 n * (sizeof(np_gpane_t) + (win ? 2 : 1) * NP_MERGE_MAX_PARTITIONS / 8 + nparts * sizeof(int64_t));
}

np_merge_t *np_merge_new(const np_merge_config_t *cfg) {
    assert(cfg->pane_ms > 0 && cfg->max_panes > 0 && cfg->max_sources > 0);
    np_merge_t *m = calloc(1, sizeof(*m));
    if (!m) return NULL;
    m->cfg = *cfg;
    m->next_emit = m->gwm = m->all_idle_since = m->all_idle_base = m->wall_ms = NP_TS_NONE;
    m->cfg.max_partitions = partitions_of(cfg);
    size_t nparts = (size_t)m->cfg.max_partitions;
    m->parts = calloc(NP_MERGE_MAX_PARTITIONS, sizeof(*m->parts));
    m->panes = calloc(cfg->max_panes, sizeof(*m->panes));
    m->fin_pane = malloc(nparts * sizeof(*m->fin_pane));
    m->fin_close = calloc(nparts, sizeof(*m->fin_close));
    if (!m->parts || !m->panes || !m->fin_pane || !m->fin_close) goto err;
    for (size_t i = 0; i < nparts; i++) m->fin_pane[i] = NP_TS_NONE;
    for (size_t i = 0; i < cfg->max_panes; i++) {
        m->panes[i].close_offset = malloc(nparts * sizeof(*m->panes[i].close_offset));
        if (!m->panes[i].close_offset) goto err;
        m->panes[i].seen = malloc(NP_MERGE_MAX_PARTITIONS / 8);
        m->panes[i].sources = np_srcmap_new(cfg->max_sources, cfg->pool);
        if (!m->panes[i].seen || !m->panes[i].sources) goto err;
        if (cfg->max_dests && !(m->panes[i].dests = np_srcmap_new(cfg->max_dests, cfg->pool))) goto err;
        if (cfg->max_dests && cfg->fanin_registers &&
            !(m->panes[i].fanin = np_vhll_new(cfg->fanin_registers, cfg->fanin_s, NULL, 0)))
            goto err;
        m->panes[i].nviews = cfg->views ? cfg->views->n : 0;
        if (m->panes[i].nviews && !(m->panes[i].views = np_viewaggs_new(cfg->views, cfg->max_groups))) goto err;
        if (cfg->window_ms > cfg->pane_ms &&
            (!(m->panes[i].win_top = np_srcmap_new(cfg->max_sources, cfg->pool)) ||
             !(m->panes[i].wonly = malloc(NP_MERGE_MAX_PARTITIONS / 8))))
            goto err;
        if (cfg->max_class_dests && !(m->panes[i].classes = np_classmap_new(cfg->max_class_dests))) goto err;
        gpane_reset(m, &m->panes[i]);
    }
    return m;
err:
    np_merge_destroy(&m);
    return NULL;
}

void np_merge_destroy(np_merge_t **mp) {
    if (!mp || !*mp) return;
    np_merge_t *m = *mp;
    if (m->panes)
        for (size_t i = 0; i < m->cfg.max_panes; i++) {
            free(m->panes[i].seen);
            free(m->panes[i].close_offset);
            np_srcmap_destroy(&m->panes[i].sources);
            np_srcmap_destroy(&m->panes[i].dests);
            np_vhll_destroy(&m->panes[i].fanin);
            np_viewaggs_destroy(&m->panes[i].views, m->panes[i].nviews);
            np_srcmap_destroy(&m->panes[i].win_top);
            free(m->panes[i].wonly);
            np_classmap_destroy(&m->panes[i].classes);
        }
    free(m->panes);
    free(m->parts);
    free(m->fin_pane);
    free(m->fin_close);
    free(m);
    *mp = NULL;
}

void np_merge_set_wall_clock(np_merge_t *m, int64_t wall_ms) { m->wall_ms = wall_ms; }

/* The latest event time the network may name: wall clock + max_future_ms. */
static int64_t future_limit(const np_merge_t *m) {
    if (m->cfg.max_future_ms <= 0 || m->wall_ms == NP_TS_NONE || m->wall_ms > INT64_MAX - m->cfg.max_future_ms)
        return INT64_MAX;
    return m->wall_ms + m->cfg.max_future_ms;
}

void np_merge_set_partitions(np_merge_t *m, int32_t n) {
    if (n > m->cfg.max_partitions) n = m->cfg.max_partitions;
    if (n > m->npart) m->npart = n;
}

int32_t np_merge_partitions(const np_merge_t *m) { return m->npart; }

static np_gpane_t *find_pane(np_merge_t *m, int64_t start, bool create) {
    np_gpane_t *free_slot = NULL;
    for (size_t i = 0; i < m->cfg.max_panes; i++) {
        np_gpane_t *g = &m->panes[i];
        if (g->start_ms == start) return g;
        if (!free_slot && g->start_ms == NP_TS_NONE) free_slot = g;
    }
    if (!create || !free_slot) return NULL;
    free_slot->start_ms = start;
    return free_slot;
}

np_merge_result_t np_merge_check_partial(const np_merge_t *m, const Netpulse__Partial *p) {
    if (p->partition < 0 || p->partition >= m->cfg.max_partitions || p->pane_ms != m->cfg.pane_ms ||
        np_pane_start(p->pane_start_ms, m->cfg.pane_ms) != p->pane_start_ms || p->pane_start_ms > future_limit(m) ||
        p->pane_start_ms <= INT64_MIN + m->cfg.pane_ms)
        return NP_MERGE_BAD;
    if (m->next_emit != NP_TS_NONE && p->pane_start_ms < m->next_emit) return NP_MERGE_TOO_LATE;
    bool has_free = false;
    for (size_t i = 0; i < m->cfg.max_panes; i++) {
        const np_gpane_t *g = &m->panes[i];
        if (g->start_ms == p->pane_start_ms)
            return (g->seen[p->partition >> 3] & (1u << (p->partition & 7))) ? NP_MERGE_DUPLICATE : NP_MERGE_OK;
        has_free = has_free || g->start_ms == NP_TS_NONE;
    }
    return has_free ? NP_MERGE_OK : NP_MERGE_FULL;
}

/* A published pane: per partition with a partial in it, the newest such pane and its
 * partial's close offset (panes are published in order, so both only grow). */
static void note_final(np_merge_t *m, const np_gpane_t *g) {
    for (int32_t i = 0; i < m->npart && i < m->cfg.max_partitions; i++) {
        if (!(g->seen[i >> 3] & (1u << (i & 7)))) continue;
        m->fin_pane[i] = g->start_ms;
        if (g->close_offset[i] > 0) m->fin_close[i] = g->close_offset[i];
    }
}

int64_t np_merge_conflict_offset(const np_merge_t *m, const Netpulse__Partial *p) {
    if (p->records_end_offset <= 0 || p->partition < 0 || p->partition >= m->cfg.max_partitions)
        return -1;
    int64_t close = 0;
    if (m->next_emit != NP_TS_NONE && p->pane_start_ms < m->next_emit) {
        /* Published: compared with the partition's newest published partial, whose close
         * offset is at or past this pane's (panes close in order). A newer pane than that
         * one had no partial of this partition: every record of this copy is lost. */
        int64_t fp = m->fin_pane[p->partition];
        if (fp == NP_TS_NONE) return -1; /* nothing known (e.g. published before a restart) */
        if (p->pane_start_ms > fp) return 0;
        close = m->fin_close[p->partition];
    } else {
        for (size_t i = 0; i < m->cfg.max_panes; i++)
            if (m->panes[i].start_ms == p->pane_start_ms) close = m->panes[i].close_offset[p->partition];
    }
    return close > 0 && p->records_end_offset > close ? close : -1;
}

void np_merge_set_next_emit(np_merge_t *m, int64_t next_emit) { m->next_emit = next_emit; }
int64_t np_merge_next_emit(const np_merge_t *m) { return m->next_emit; }

/* A source that two partitions of a pane both send breaks the sum of their counts (see
 * ARCHITECTURE.md, Bounded partials): counted where it shows, among the candidates. */
static void count_split(np_merge_t *m, const np_gpane_t *g, const Netpulse__Partial *p) {
    np_ip_t ip;
    for (size_t i = 0; i < p->n_sources; i++) {
        if (p->sources[i]->ip.len != 16) continue;
        memcpy(ip.b, p->sources[i]->ip.data, 16);
        if (np_srcmap_get(g->sources, &ip)) m->st.sources_split++;
    }
}

/* The partition's sliding-window results, when they are for this coordinator's window. */
static void merge_window(np_merge_t *m, np_gpane_t *g, const Netpulse__Partial *p) {
    if (!g->win_top) return;
    if (p->window_ms != m->cfg.window_ms) {
        g->win_missing++;
        if (p->window_ms) m->st.window_mismatch++;
        return;
    }
    g->win_seen++;
    g->win_sources += p->window_sources;
    /* The top of disjoint sets' tops: at most partitions x top entries, far below the
     * table's max.sources.per.pane. */
    long full = np_partial_merge_table(g->win_top, p->window_top, p->n_window_top, NULL, 0, m->cfg.pool);
    if (full > 0) m->st.window_top_evicted += (uint64_t)full;
}

/* A connection slot's class counts: the pane's totals, and per destination when kept. */
static void merge_classes(np_merge_t *m, np_gpane_t *g, const Netpulse__ClassTable *t) {
    np_classcount_t tot;
    if (!t || np_partial_class_count(t->total, &tot) < 0) return;
    for (int k = 0; k < NP_KDD_NCLASSES; k++) {
        g->class_total.n[k] += tot.n[k];
        g->class_total.conf[k] += tot.conf[k];
    }
    if (!g->classes) return;
    long full = np_partial_merge_classes(g->classes, t);
    if (full > 0) m->st.class_dests_evicted += (uint64_t)full;
}

np_merge_result_t np_merge_add_partial(np_merge_t *m, const Netpulse__Partial *p) {
    np_merge_result_t r = np_merge_check_partial(m, p);
    switch (r) {
    case NP_MERGE_BAD: m->st.bad++; return r;
    case NP_MERGE_TOO_LATE:
        m->st.too_late++;
        if (np_merge_conflict_offset(m, p) >= 0) m->st.conflicting++;
        return r;
    case NP_MERGE_FULL: m->st.full++; return r;
    case NP_MERGE_DUPLICATE:
        m->st.duplicates++;
        if (np_merge_conflict_offset(m, p) >= 0) m->st.conflicting++;
        return r;
    case NP_MERGE_OK: break;
    }
    np_gpane_t *g = find_pane(m, p->pane_start_ms, true);
    uint8_t bit = (uint8_t)(1u << (p->partition & 7));
    g->seen[p->partition >> 3] |= bit;
    g->close_offset[p->partition] = p->close_offset > 0 ? p->close_offset : 0;
    if (!p->window_only) {
        g->partitions++;
    } else if (g->wonly) {
        g->wonly[p->partition >> 3] |= bit; /* taken once, but not a partition with data */
    }
    merge_window(m, g, p);
    g->records += p->records;
    g->bytes += p->bytes;
    g->packets += p->packets;
    g->late_records += p->late_records;
    for (size_t i = 0; i < p->n_protocol_records && i < NP_PMIX__COUNT; i++) g->pmix[i] += p->protocol_records[i];
    for (size_t i = 0; i < p->n_dst_port_hist && i < NP_PORT_BUCKETS; i++) g->port_hist[i] += p->dst_port_hist[i];
    /* Sources are partition-local, so the distinct count is the sum of the partitions'
     * (a partial from before the count existed carries its whole table). */
    g->nsources += p->sources_total || p->pair == NP_PAIR_MERGED ? p->sources_total : p->n_sources;
    g->bounded = g->bounded || p->sources_bounded;
    /* An input partition and its repartition partner merged by their worker (np_pair)
     * share sources by design: the partner's entries add to the input's. */
    if (g->bounded && p->pair != NP_PAIR_KEPT && p->pair != NP_PAIR_MERGED) count_split(m, g, p);
    if (p->pair == NP_PAIR_UNPAIRED) m->st.partials_unpaired++;
    long full = np_partial_merge_table(g->sources, p->sources, p->n_sources, p->other, 0, m->cfg.pool);
    g->sources_evicted += p->sources_evicted + (full > 0 ? (uint64_t)full : 0);
    if (full > 0) m->st.sources_evicted += (uint64_t)full;
    if (g->dests) {
        full = np_partial_merge_table(g->dests, p->dests, p->n_dests, p->dest_other, 0, m->cfg.pool);
        g->dests_evicted += p->dests_evicted + (full > 0 ? (uint64_t)full : 0);
        if (full > 0) m->st.dests_evicted += (uint64_t)full;
    }
    /* Register max: no per-destination work, no allocation. */
    if (p->fanin.len && (!g->fanin || np_vhll_merge_encoded(g->fanin, p->fanin.data, p->fanin.len, NULL, 0) < 0))
        m->st.fanin_bad++;
    long unknown = np_partial_merge_views(g->views, m->cfg.views, p->views, p->n_views);
    if (unknown > 0) m->st.views_unknown += (uint64_t)unknown;
    merge_classes(m, g, p->classes);
    if (p->partition >= m->npart) m->npart = p->partition + 1;
    m->st.partials++;
    return NP_MERGE_OK;
}

void np_merge_progress(np_merge_t *m, const Netpulse__PartitionProgress *pp, int64_t now_ms) {
    (void)now_ms;
    if (pp->partition < 0 || pp->partition >= m->cfg.max_partitions) return;
    part_progress_t *pr = &m->parts[pp->partition];
    int64_t lim = future_limit(m);
    if (pp->closed_through_ms > lim || pp->watermark_ms > lim) return; /* from the future: refused */
    /* Progress only moves forward: a message from a worker that lost the partition
     * must not drag it back. */
    if (!pr->reported || pp->closed_through_ms > pr->closed_through) pr->closed_through = pp->closed_through_ms;
    if (!pr->reported || pp->watermark_ms > pr->watermark) pr->watermark = pp->watermark_ms;
    pr->idle = pp->idle;
    pr->has_data = pr->has_data || pp->has_data;
    pr->reported = true;
    if (pp->partition >= m->npart) m->npart = pp->partition + 1;
}

int64_t np_merge_global_watermark(np_merge_t *m, int64_t now_ms) {
    int64_t min_active = NP_TS_NONE, max_any = NP_TS_NONE;
    bool any_active = false, all_reported = m->npart > 0;
    for (int32_t i = 0; i < m->npart; i++) {
        const part_progress_t *pr = &m->parts[i];
        if (!pr->reported) {
            all_reported = false;
            continue;
        }
        if (pr->watermark != NP_TS_NONE && pr->watermark > max_any) max_any = pr->watermark;
        if (pr->idle || !pr->has_data || pr->watermark == NP_TS_NONE) continue;
        if (!any_active || pr->watermark < min_active) min_active = pr->watermark;
        any_active = true;
    }
    int64_t g = m->gwm;
    if (any_active) {
        m->all_idle_since = NP_TS_NONE;
        if (min_active > g) g = min_active;
    } else if (all_reported && max_any != NP_TS_NONE) {
        /* Everyone is idle: let event time flow with processing time so the tail of
         * the stream is not held back forever. */
        if (m->all_idle_since == NP_TS_NONE) {
            m->all_idle_since = now_ms;
            m->all_idle_base = max_any > g ? max_any : g;
        }
        int64_t adv = m->all_idle_base + (now_ms - m->all_idle_since);
        if (adv > g) g = adv;
    }
    m->gwm = g;
    return g;
}

int64_t np_merge_complete_through(const np_merge_t *m) {
    if (m->npart == 0) return NP_TS_NONE;
    int64_t min = INT64_MAX;
    for (int32_t i = 0; i < m->npart; i++) {
        const part_progress_t *pr = &m->parts[i];
        if (!pr->reported || pr->closed_through == NP_TS_NONE) return NP_TS_NONE;
        if (pr->closed_through < min) min = pr->closed_through;
    }
    return min;
}

static np_gpane_t *oldest_pane(np_merge_t *m) {
    np_gpane_t *o = NULL;
    for (size_t i = 0; i < m->cfg.max_panes; i++) {
        np_gpane_t *g = &m->panes[i];
        if (g->start_ms != NP_TS_NONE && (!o || g->start_ms < o->start_ms)) o = g;
    }
    return o;
}

int32_t np_merge_waiting_partitions(const np_merge_t *m) {
    const np_gpane_t *o = NULL;
    for (size_t i = 0; i < m->cfg.max_panes; i++) {
        const np_gpane_t *g = &m->panes[i];
        if (g->start_ms != NP_TS_NONE && (!o || g->start_ms < o->start_ms)) o = g;
    }
    if (!o) return 0;
    int64_t end = o->start_ms + m->cfg.pane_ms;
    int32_t n = 0;
    for (int32_t i = 0; i < m->npart; i++) {
        const part_progress_t *pr = &m->parts[i];
        if (!pr->reported || pr->closed_through == NP_TS_NONE || pr->closed_through < end) n++;
    }
    return n;
}

bool np_merge_has_final(const np_merge_t *m) {
    int64_t through = np_merge_complete_through(m);
    if (through == NP_TS_NONE) return false;
    if (m->next_emit != NP_TS_NONE) return m->next_emit + m->cfg.pane_ms <= through;
    for (size_t i = 0; i < m->cfg.max_panes; i++)
        if (m->panes[i].start_ms != NP_TS_NONE && m->panes[i].start_ms + m->cfg.pane_ms <= through) return true;
    return false;
}

size_t np_merge_finalize(np_merge_t *m, size_t max_emit, np_merge_emit_fn emit, void *ctx) {
    int64_t through = np_merge_complete_through(m);
    if (through == NP_TS_NONE) return 0;
    size_t n = 0;
    int64_t pane = m->cfg.pane_ms;
    while (n < max_emit) {
        np_gpane_t *o = oldest_pane(m);
        if (m->next_emit == NP_TS_NONE) {
            if (!o) break;
            m->next_emit = o->start_ms;
        }
        if (m->next_emit + pane > through) break;
        if (o && o->start_ms == m->next_emit) {
            emit(ctx, o);
            note_final(m, o);
            gpane_reset(m, o);
        } else {
            /* No partition had data in this pane: still a window (of zeros), because a
             * drop to nothing is news too; but a long gap is skipped, not flooded. */
            int64_t gap_end = o ? o->start_ms : through;
            if (gap_end > through) gap_end = through;
            int64_t run = (gap_end - m->next_emit) / pane;
            if ((size_t)run > m->cfg.max_empty_run) {
                m->st.empty_panes_skipped += (uint64_t)run;
                m->next_emit = gap_end;
                continue;
            }
            np_gpane_t empty = {0};
            empty.start_ms = m->next_emit;
            emit(ctx, &empty);
        }
        m->next_emit += pane;
        m->st.panes_emitted++;
        n++;
    }
    return n;
}

np_srcmap_t *np_merge_swap_sources(np_merge_t *m, const np_gpane_t *gp, np_srcmap_t *empty) {
    uintptr_t at = (uintptr_t)gp, first = (uintptr_t)m->panes;
    assert(at >= first && at < first + m->cfg.max_panes * sizeof(*gp)); /* one of ours, not an empty pane */
    np_gpane_t *g = &m->panes[(at - first) / sizeof(*gp)];
    assert(np_srcmap_count(empty) == 0 && np_srcmap_interchangeable(empty, g->sources));
    np_srcmap_t *had = g->sources;
    g->sources = empty;
    return had;
}

void np_merge_get_stats(const np_merge_t *m, np_merge_stats_t *out) {
    *out = m->st;
    out->open_panes = 0;
    for (size_t i = 0; i < m->cfg.max_panes; i++) out->open_panes += m->panes[i].start_ms != NP_TS_NONE;
}
