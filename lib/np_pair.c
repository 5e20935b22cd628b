/* np_pair: a repartition partial merged with its input partition's pane. See np_pair.h. */
#include "np_pair.h"

#include <stdlib.h>
#include <string.h>

#include "np_srcwin.h"

/* Scratch of one kind (pane or window): the merged table, what is sent, and the sorted
 * addresses the input side sent. */
typedef struct scratch {
    np_srcmap_t *merged, *sent;
    const np_srcagg_t **sel, **ptrs;
    size_t sel_cap, ptrs_cap;
    np_ip_t *in_sent;
    size_t nin_sent;
} scratch_t;

struct np_pair {
    scratch_t pane, win;
    size_t top, max_candidates;
};

static int scratch_init(scratch_t *s, size_t merged_cap, size_t sent_cap, size_t sel_cap, np_hll_pool_t *pool) {
    s->merged = np_srcmap_new(merged_cap, pool);
    s->sent = np_srcmap_new(sent_cap, pool);
    s->sel_cap = sel_cap;
    s->ptrs_cap = sent_cap;
    s->sel = calloc(sel_cap, sizeof(*s->sel));
    s->ptrs = calloc(sent_cap, sizeof(*s->ptrs));
    s->in_sent = calloc(sel_cap, sizeof(*s->in_sent));
    return s->merged && s->sent && s->sel && s->ptrs && s->in_sent ? 0 : -1;
}

static void scratch_free(scratch_t *s) {
    np_srcmap_destroy(&s->merged);
    np_srcmap_destroy(&s->sent);
    free(s->sel);
    free(s->ptrs);
    free(s->in_sent);
}

np_pair_t *np_pair_new(size_t max_sources, size_t window_panes, size_t top, size_t max_candidates,
                       np_hll_pool_t *pool) {
    if (!max_sources || !window_panes || !top) return NULL;
    np_pair_t *pr = calloc(1, sizeof(*pr));
    if (!pr) return NULL;
    pr->top = top;
    pr->max_candidates = max_candidates;
    /* The pane's input side may send its whole table (learning), so its sent set is up to
     * a table; the output up to a table plus the candidates. */
    size_t sel = top + max_candidates > max_sources ? top + max_candidates : max_sources;
    size_t wsrc = max_sources * window_panes;
    if (scratch_init(&pr->pane, 2 * max_sources, max_sources + top + max_candidates, sel, pool) < 0 ||
        scratch_init(&pr->win, 2 * wsrc, 2 * top, top > 0 ? 2 * top : 1, pool) < 0) {
        np_pair_destroy(&pr);
        return NULL;
    }
    return pr;
}

void np_pair_destroy(np_pair_t **prp) {
    if (!prp || !*prp) return;
    scratch_free(&(*prp)->pane);
    scratch_free(&(*prp)->win);
    free(*prp);
    *prp = NULL;
}

static int ip_cmp(const void *a, const void *b) { return memcmp(a, b, sizeof(np_ip_t)); }

static bool in_sent(const scratch_t *s, const np_ip_t *ip) {
    return s->nin_sent && bsearch(ip, s->in_sent, s->nin_sent, sizeof(np_ip_t), ip_cmp) != NULL;
}

/* The input side's sent sources (n pointers into its table), sorted for lookups. */
static void set_in_sent(scratch_t *s, const np_srcagg_t *const *list, size_t n) {
    for (size_t i = 0; i < n; i++) s->in_sent[i] = list[i]->ip;
    s->nin_sent = n;
    qsort(s->in_sent, n, sizeof(np_ip_t), ip_cmp);
}

/* dst += every entry of src (merged tables hold both sides: room by construction). */
static void merge_all(np_srcmap_t *dst, const np_srcmap_t *src) {
    for (size_t i = 0; src && i < np_srcmap_slots(src); i++) {
        const np_srcagg_t *e = np_srcmap_slot(src, i);
        if (e) np_srcmap_merge(dst, e);
    }
}

/* Sends source ip once: the merged entry, or, when the input side sent it, the
 * repartition side's counters with the merged sketches (nothing when that side does not
 * have it: the input side's entry is already the merged one). */
static void send(scratch_t *s, const np_srcmap_t *rep, const np_ip_t *ip) {
    if (np_srcmap_get(s->sent, ip)) return;
    const np_srcagg_t *m = np_srcmap_get(s->merged, ip);
    if (!in_sent(s, ip)) {
        np_srcmap_merge(s->sent, m);
        return;
    }
    const np_srcagg_t *r = rep ? np_srcmap_get(rep, ip) : NULL;
    if (!r) return;
    np_srcagg_t e = *m; /* borrows m's sketches: read only by the merge */
    e.records = r->records;
    e.bytes = r->bytes;
    e.packets = r->packets;
    memcpy(e.pmix, r->pmix, sizeof(e.pmix));
    np_srcmap_merge(s->sent, &e);
}

/* Every candidate of the merged table, then the corrections for what the input sent. */
static size_t finish(scratch_t *s, const np_srcmap_t *rep, size_t ncand, bool rep_whole,
                     const np_srcagg_t *const **out) {
    for (size_t i = 0; i < ncand; i++) send(s, rep, &s->sel[i]->ip);
    for (size_t i = 0; rep && i < np_srcmap_slots(rep); i++) {
        const np_srcagg_t *r = np_srcmap_slot(rep, i);
        if (r && (rep_whole || in_sent(s, &r->ip))) send(s, rep, &r->ip);
    }
    size_t n = 0;
    for (size_t i = 0; i < np_srcmap_entries(s->sent) && n < s->ptrs_cap; i++) s->ptrs[n++] = np_srcmap_entry(s->sent, i);
    *out = s->ptrs;
    return n;
}

static void start(scratch_t *s, const np_srcmap_t *in, const np_srcmap_t *rep, uint64_t *total) {
    np_srcmap_clear(s->merged);
    np_srcmap_clear(s->sent);
    s->nin_sent = 0;
    merge_all(s->merged, in);
    merge_all(s->merged, rep);
    *total = np_srcmap_count(s->merged) - (in ? np_srcmap_count(in) : 0);
}

size_t np_pair_pane(np_pair_t *pr, const np_cand_config_t *c, const np_pair_side_t *in, const np_pair_side_t *rep,
                    const np_srcagg_t *const **out, uint64_t *total, uint64_t *dropped) {
    scratch_t *s = &pr->pane;
    start(s, in->t, rep->t, total);
    *dropped = 0;
    if (in->t && in->whole) {
        size_t n = 0;
        for (size_t i = 0; i < np_srcmap_slots(in->t) && n < s->sel_cap; i++) {
            const np_srcagg_t *e = np_srcmap_slot(in->t, i);
            if (e) s->sel[n++] = e;
        }
        set_in_sent(s, s->sel, n);
    } else if (in->t) {
        uint64_t d;
        size_t n = np_cand_select(c, in->t, in->bytes, in->packets, s->sel, s->sel_cap, &d);
        set_in_sent(s, s->sel, n);
    }
    /* Candidates of the merged table against the pair's totals: a share of the global pane
     * is at most the share of the pair's (the global totals include both). While the
     * repartition side learns, every entry of its table goes (finish) and the merged
     * candidates outside it were the input side's already (np_pair.h). */
    size_t ncand = 0;
    if (!rep->whole)
        ncand = np_cand_select(c, s->merged, in->bytes + rep->bytes, in->packets + rep->packets, s->sel, s->sel_cap,
                               dropped);
    return finish(s, rep->t, ncand, rep->whole, out);
}

size_t np_pair_window(np_pair_t *pr, size_t top, const np_srcmap_t *in_u, const np_srcmap_t *rep_u,
                      const np_srcagg_t *const **out, uint64_t *total) {
    scratch_t *s = &pr->win;
    if (top > pr->top) top = pr->top;
    start(s, in_u, rep_u, total);
    if (in_u) set_in_sent(s, s->sel, np_cand_top(in_u, top, s->sel));
    size_t ncand = np_cand_top(s->merged, top, s->sel);
    return finish(s, rep_u, ncand, false, out);
}

int np_pair_bounded(np_pair_t *pr, const np_cand_config_t *c, np_partstate_t *in, np_partstate_t *rep,
                    const np_pane_t *pane, np_partial_bounded_t *b) {
    int64_t P = pane->start_ms, pane_ms = rep->cfg.pane_ms;
    bool has_win = rep->win && np_srcwin_ms(rep->win) > pane_ms;
    np_pair_side_t is = {0}, rs = {pane->records ? pane->sources : NULL, pane->bytes, pane->packets, b->sel == NULL};
    int f = in && in->win && in->closed_through != NP_TS_NONE && P + pane_ms <= in->closed_through
                ? np_srcwin_find(in->win, P, &is.t, &is.bytes, &is.packets, &is.whole)
                : -1;
    if (f < 0 || (has_win && !np_srcwin_covers(in->win, P))) return b->pair = NP_PAIR_UNPAIRED;
    b->dropped = 0;
    b->nsel = 0;
    b->pair_sources = 0;
    b->sel = pr->pane.ptrs; /* never NULL now: the entries are the merged ones, not the table */
    if (pane->records) b->nsel = np_pair_pane(pr, c, &is, &rs, &b->sel, &b->pair_sources, &b->dropped);
    if (has_win) {
        const np_srcmap_t *iu = np_srcwin_union(in->win, P, is.t);
        const np_srcmap_t *ru = np_srcwin_union(rep->win, P, rs.t);
        b->nwin_top = np_pair_window(pr, c->top, iu, ru, &b->win_top, &b->window_sources);
    }
    return b->pair = NP_PAIR_MERGED;
}
