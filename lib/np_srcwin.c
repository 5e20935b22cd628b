/* np_srcwin: a partition's per-source sliding window and kept panes. See np_srcwin.h. */
#include "np_srcwin.h"

#include <stdatomic.h>
#include <stdlib.h>

/* Generations are unique across every ring of the process, so the checkpoint writer's
 * stored generations (np_ckpt_writer) cannot take another ring's slot for its own, such as
 * the ring of a partition state re-created after a restore or a quarantine. */
static _Atomic uint64_t next_gen;

typedef struct kept_meta {
    uint64_t bytes, packets;
    bool whole;
} kept_meta_t;

struct np_srcwin {
    int64_t pane_ms, window_ms;
    size_t nwin;          /* panes of a window before its last: window_ms / pane_ms - 1 */
    size_t n;             /* ring: nwin + keep */
    int64_t *start;       /* per slot, NP_SRCWIN_NONE when empty */
    kept_meta_t *meta;
    uint64_t *gen;        /* per slot: changed when its pane or meta changes (next_gen) */
    np_srcmap_t **tab;
    np_srcmap_t *uni;     /* the union handed out */
    int64_t last;
    int64_t known_from;
};

np_srcwin_t *np_srcwin_new(int64_t pane_ms, int64_t window_ms, size_t keep, size_t max_sources, np_hll_pool_t *pool) {
    if (pane_ms <= 0 || window_ms < pane_ms || window_ms % pane_ms) return NULL;
    if (window_ms == pane_ms && keep == 0) return NULL;
    np_srcwin_t *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    w->pane_ms = pane_ms;
    w->window_ms = window_ms;
    w->nwin = (size_t)(window_ms / pane_ms) - 1;
    w->n = w->nwin + keep;
    w->last = NP_SRCWIN_NONE;
    w->known_from = NP_SRCWIN_NONE;
    w->start = calloc(w->n, sizeof(*w->start));
    w->meta = calloc(w->n, sizeof(*w->meta));
    w->gen = calloc(w->n, sizeof(*w->gen));
    w->tab = calloc(w->n, sizeof(*w->tab));
    w->uni = np_srcmap_new(max_sources * (w->nwin + 1), pool);
    if (!w->start || !w->meta || !w->gen || !w->tab || !w->uni) goto err;
    for (size_t i = 0; i < w->n; i++) {
        w->start[i] = NP_SRCWIN_NONE;
        if (!(w->tab[i] = np_srcmap_new(max_sources, pool))) goto err;
    }
    return w;
err:
    np_srcwin_destroy(&w);
    return NULL;
}

void np_srcwin_destroy(np_srcwin_t **wp) {
    if (!wp || !*wp) return;
    np_srcwin_t *w = *wp;
    for (size_t i = 0; w->tab && i < w->n; i++) np_srcmap_destroy(&w->tab[i]);
    np_srcmap_destroy(&w->uni);
    free(w->tab);
    free(w->meta);
    free(w->gen);
    free(w->start);
    free(w);
    *wp = NULL;
}

int64_t np_srcwin_ms(const np_srcwin_t *w) { return w->window_ms; }
int64_t np_srcwin_last(const np_srcwin_t *w) { return w->last; }
size_t np_srcwin_slots(const np_srcwin_t *w) { return w->n; }
int64_t np_srcwin_slot_start(const np_srcwin_t *w, size_t i) { return w->start[i]; }
const np_srcmap_t *np_srcwin_slot(const np_srcwin_t *w, size_t i) { return w->tab[i]; }
void np_srcwin_set_known_from(np_srcwin_t *w, int64_t from) { w->known_from = from; }
uint64_t np_srcwin_slot_gen(const np_srcwin_t *w, size_t i) { return w->gen[i]; }

void np_srcwin_slot_meta(const np_srcwin_t *w, size_t i, uint64_t *bytes, uint64_t *packets, bool *whole) {
    *bytes = w->meta[i].bytes;
    *packets = w->meta[i].packets;
    *whole = w->meta[i].whole;
}

size_t np_srcwin_memory_bytes(const np_srcwin_t *w) {
    size_t n = sizeof(*w) + w->n * (sizeof(*w->start) + sizeof(*w->meta) + sizeof(*w->gen) + sizeof(*w->tab)) +
               np_srcmap_memory_bytes(w->uni);
    for (size_t i = 0; i < w->n; i++) n += np_srcmap_memory_bytes(w->tab[i]);
    return n;
}

static size_t slot_of(const np_srcwin_t *w, int64_t start) {
    int64_t k = (start / w->pane_ms) % (int64_t)w->n;
    return (size_t)(k < 0 ? k + (int64_t)w->n : k);
}

np_srcmap_t *np_srcwin_claim(np_srcwin_t *w, int64_t start) {
    size_t i = slot_of(w, start);
    np_srcmap_clear(w->tab[i]);
    w->start[i] = start;
    w->meta[i] = (kept_meta_t){0};
    w->gen[i] = atomic_fetch_add(&next_gen, 1) + 1;
    if (w->last == NP_SRCWIN_NONE || start > w->last) w->last = start;
    return w->tab[i];
}

/* dst += every entry of src; returns the entries dst had no room for. */
static int merge_all(np_srcmap_t *dst, const np_srcmap_t *src) {
    int full = 0;
    for (size_t i = 0; i < np_srcmap_slots(src); i++) {
        const np_srcagg_t *s = np_srcmap_slot(src, i);
        if (s && np_srcmap_merge(dst, s)) full++;
    }
    return full;
}

int np_srcwin_push(np_srcwin_t *w, int64_t start, const np_srcmap_t *m) {
    if (w->known_from == NP_SRCWIN_KNOWN_FROM_NEXT) w->known_from = start;
    return merge_all(np_srcwin_claim(w, start), m) ? -1 : 0;
}

void np_srcwin_note(np_srcwin_t *w, int64_t start, uint64_t bytes, uint64_t packets, bool whole) {
    size_t i = slot_of(w, start);
    if (w->start[i] != start) return;
    w->meta[i] = (kept_meta_t){bytes, packets, whole};
    w->gen[i] = atomic_fetch_add(&next_gen, 1) + 1;
}

/* A pane is known when no later push can have taken its ring slot (pushes come in pane
 * order, so only one at least n panes later can) and it is not before known_from. */
static bool known(const np_srcwin_t *w, int64_t start) {
    if (w->known_from != NP_SRCWIN_NONE && start < w->known_from) return false;
    return w->last == NP_SRCWIN_NONE || start > w->last - (int64_t)w->n * w->pane_ms;
}

int64_t np_srcwin_known_from(const np_srcwin_t *w) {
    if (w->last == NP_SRCWIN_NONE) return w->known_from;
    int64_t ring = w->last - (int64_t)(w->n - 1) * w->pane_ms;
    return w->known_from != NP_SRCWIN_NONE && w->known_from > ring ? w->known_from : ring;
}

int np_srcwin_find(const np_srcwin_t *w, int64_t start, const np_srcmap_t **t, uint64_t *bytes, uint64_t *packets,
                   bool *whole) {
    if (!known(w, start)) return -1;
    size_t i = slot_of(w, start);
    if (w->start[i] != start) return 0;
    if (t) *t = w->tab[i];
    if (bytes) *bytes = w->meta[i].bytes;
    if (packets) *packets = w->meta[i].packets;
    if (whole) *whole = w->meta[i].whole;
    return 1;
}

bool np_srcwin_covers(const np_srcwin_t *w, int64_t start) {
    return known(w, start - (int64_t)w->nwin * w->pane_ms);
}

const np_srcmap_t *np_srcwin_union(np_srcwin_t *w, int64_t start, const np_srcmap_t *current) {
    np_srcmap_clear(w->uni);
    int64_t from = start - (int64_t)w->nwin * w->pane_ms;
    for (size_t i = 0; i < w->n; i++)
        if (w->start[i] != NP_SRCWIN_NONE && w->start[i] >= from && w->start[i] < start) merge_all(w->uni, w->tab[i]);
    if (current) merge_all(w->uni, current);
    return w->uni;
}
