/* np_cand: the sources a bounded partial carries. See np_cand.h. */
#include "np_cand.h"

#include <assert.h>

void np_cand_config_from_detect(np_cand_config_t *c, const np_detect_config_t *d, size_t top, size_t max_candidates) {
    c->top = top;
    c->max_candidates = max_candidates;
    c->learn_panes = d->learn_panes;
    c->new_min_share = d->new_min_share;
    c->hh_share = d->hh_share;
    c->scan_fanout = d->scan_fanout;
    c->new_min_bytes = d->new_min_bytes;
    c->hh_min_records = d->hh_min_records;
    c->scan_hosts = d->scan_hosts;
    c->scan_ports = d->scan_ports;
    c->scan_flow_bytes = d->scan_flow_bytes;
}

bool np_cand_learning(const np_cand_config_t *c, uint64_t panes_emitted) {
    return c->learn_panes > 0 && panes_emitted < (uint64_t)c->learn_panes;
}

/* Distinct targets as np_detect counts them: the estimate, never above the flows. */
static uint64_t targets(const np_hll_t *h, uint64_t records) {
    uint64_t n = np_hll_estimate(h);
    return n > records ? records : n;
}

bool np_cand_detector(const np_cand_config_t *c, const np_srcagg_t *s, uint64_t pane_bytes, uint64_t pane_packets) {
    /* The same arithmetic as np_detect's detect_sources, with the partition's totals in
     * place of the global ones: a share can only shrink when the denominator grows. */
    double tb = (double)pane_bytes, tp = (double)pane_packets;
    double bshare = tb > 0 ? (double)s->bytes / tb : 0, pshare = tp > 0 ? (double)s->packets / tp : 0;
    double share = bshare > pshare ? bshare : pshare;
    if (s->records >= c->hh_min_records) {
        if (bshare >= c->new_min_share && s->bytes >= c->new_min_bytes) return true; /* new source */
        if (share >= c->hh_share) return true;                                      /* heavy hitter */
    }
    double recs = (double)s->records;
    if (recs <= 0 || (double)s->bytes / recs > (double)c->scan_flow_bytes) return false;
    uint64_t hosts = targets(&s->dst_ips, s->records), ports = targets(&s->dst_ports, s->records);
    return (hosts >= c->scan_hosts && (double)hosts >= c->scan_fanout * recs) ||
           (ports >= c->scan_ports && (double)ports >= c->scan_fanout * recs);
}

/* Which detector candidates to keep when there are too many: new sources and heavy
 * hitters (few by construction: a share) first, then scans by their distinct targets. */
static uint64_t cand_rank(const np_cand_config_t *c, const np_srcagg_t *s) {
    if (s->records >= c->hh_min_records && s->bytes >= c->new_min_bytes) return UINT64_MAX;
    uint64_t h = targets(&s->dst_ips, s->records), p = targets(&s->dst_ports, s->records);
    return h > p ? h : p;
}

/* Min-heap on cand_rank over h[0..n): the weakest kept candidate at the root. */
static void heap_down(const np_cand_config_t *c, const np_srcagg_t **h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && cand_rank(c, h[l]) < cand_rank(c, h[m])) m = l;
        if (r < n && cand_rank(c, h[r]) < cand_rank(c, h[m])) m = r;
        if (m == i) return;
        const np_srcagg_t *t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_up(const np_cand_config_t *c, const np_srcagg_t **h, size_t i) {
    while (i > 0 && cand_rank(c, h[i]) < cand_rank(c, h[(i - 1) / 2])) {
        const np_srcagg_t *t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

size_t np_cand_top(const np_srcmap_t *m, size_t top, const np_srcagg_t **out) {
    size_t have = 0;
    for (size_t i = 0; i < np_srcmap_slots(m) && top; i++) {
        const np_srcagg_t *s = np_srcmap_slot(m, i);
        if (!s || (have == top && !np_srcagg_ranks_before(s, out[top - 1]))) continue;
        size_t j = have < top ? have++ : top - 1;
        while (j > 0 && np_srcagg_ranks_before(s, out[j - 1])) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = s;
    }
    return have;
}

size_t np_cand_select(const np_cand_config_t *c, const np_srcmap_t *m, uint64_t pane_bytes, uint64_t pane_packets,
                      const np_srcagg_t **out, size_t cap, uint64_t *dropped) {
    assert(c->top >= 1 && cap >= c->top + c->max_candidates);
    *dropped = 0;
    size_t ntop = np_cand_top(m, c->top, out);
    const np_srcagg_t **heap = out + ntop;
    size_t nh = 0;
    for (size_t i = 0; ntop == c->top && i < np_srcmap_slots(m); i++) {
        const np_srcagg_t *s = np_srcmap_slot(m, i);
        /* The order is total, so "ranks at or above the last top one" is "is a top one". */
        if (!s || s == out[ntop - 1] || np_srcagg_ranks_before(s, out[ntop - 1])) continue;
        if (!np_cand_detector(c, s, pane_bytes, pane_packets)) continue;
        if (nh < c->max_candidates) {
            heap[nh++] = s;
            heap_up(c, heap, nh - 1);
            continue;
        }
        (*dropped)++;
        if (nh && cand_rank(c, s) > cand_rank(c, heap[0])) {
            heap[0] = s;
            heap_down(c, heap, nh, 0);
        }
    }
    return ntop + nh;
}

void np_cand_window(np_partial_bounded_t *b, np_srcwin_t *win, int64_t start_ms, const np_srcmap_t *pane_sources,
                    bool window_only, size_t top, const np_srcagg_t **win_sel) {
    const np_srcmap_t *u = np_srcwin_union(win, start_ms, pane_sources);
    b->window_only = window_only;
    b->window_ms = np_srcwin_ms(win);
    b->window_sources = np_srcmap_count(u);
    b->win_top = win_sel;
    b->nwin_top = np_cand_top(u, top, win_sel);
}
