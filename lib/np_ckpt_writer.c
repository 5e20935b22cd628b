/* np_ckpt_writer: incremental partition checkpoints. See np_ckpt_writer.h. */
#include "np_ckpt_writer.h"

#include <stdlib.h>
#include <string.h>

#include "np_srcwin.h"

void np_ckpt_writer_init(np_ckpt_writer_t *w) { memset(w, 0, sizeof(*w)); }

static void batch_free(np_ckpt_writer_t *w) {
    for (size_t i = 0; i < w->nparts; i++) free(w->parts[i].data);
    w->nparts = 0;
    free(w->head);
    w->head = NULL;
    w->head_len = w->batch_bytes = 0;
    w->panes_full = w->panes_delta = 0;
}

void np_ckpt_writer_free(np_ckpt_writer_t *w) {
    batch_free(w);
    free(w->parts);
    free(w->stored);
    free(w->next);
    if (w->enc) np_partial_enc_free(w->enc);
    free(w->enc);
    np_ckpt_writer_init(w);
}

static int cmp_stored(const void *a, const void *b) {
    const np_ckpt_stored_t *x = a, *y = b;
    if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}

static np_ckpt_stored_t *find(np_ckpt_stored_t *v, size_t n, int kind, int64_t start) {
    np_ckpt_stored_t key = {.kind = (uint8_t)kind, .start = start};
    if (n == 0) return NULL; /* v may be NULL then, which bsearch may not be given */
    return bsearch(&key, v, n, sizeof(*v), cmp_stored);
}

static int push(np_ckpt_stored_t **v, size_t *n, size_t *cap, const np_ckpt_stored_t *e) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        np_ckpt_stored_t *nv = realloc(*v, nc * sizeof(*nv));
        if (!nv) return -1;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = *e;
    return 0;
}

void np_ckpt_writer_adopt(np_ckpt_writer_t *w, int kind, int64_t start) {
    np_ckpt_stored_t e = {.kind = (uint8_t)kind, .start = start};
    w->full_next = true;
    if (push(&w->stored, &w->nstored, &w->cap_stored, &e) == 0)
        qsort(w->stored, w->nstored, sizeof(*w->stored), cmp_stored);
}

static np_ckpt_part_t *add_part(np_ckpt_writer_t *w, char op, int kind, int64_t start) {
    if (w->nparts == w->cap_parts) {
        size_t nc = w->cap_parts ? w->cap_parts * 2 : 16;
        np_ckpt_part_t *np = realloc(w->parts, nc * sizeof(*np));
        if (!np) return NULL;
        w->parts = np;
        w->cap_parts = nc;
    }
    np_ckpt_part_t *p = &w->parts[w->nparts++];
    memset(p, 0, sizeof(*p));
    p->op = op;
    np_ckpt_part_suffix(p->suffix, sizeof(p->suffix), kind, start);
    return p;
}

/* Evictions so far in the pane's tables: a Space-Saving eviction gives an entry to another
 * source, and the evicted source's values in older frames would come back on restore. */
static uint64_t pane_evicted(const np_pane_t *p) {
    return np_srcmap_evicted(p->sources) + (p->dests ? np_srcmap_evicted(p->dests) : 0);
}

static uint64_t pane_entries(const np_pane_t *p) {
    return np_srcmap_count(p->sources) + (p->dests ? np_srcmap_count(p->dests) : 0);
}

/* Whether a stored pane part is rewritten rather than appended to: when its deltas
 * outweigh twice what a full frame would take now (the first frame scaled by the entries
 * added since), so a restore reads at most about three times the pane. Once was tried:
 * with a third of a pane's sources touched per second, that rewrote most panes once more
 * before they closed (bench/README.md). */
static bool rewrite(const np_ckpt_stored_t *st, const np_pane_t *p, bool full, const np_ckpt_policy_t *pol) {
    if (full || !st || !st->known || st->frames >= pol->max_frames || pane_evicted(p) != st->evicted) return true;
    uint64_t now = pane_entries(p), full_now = st->base;
    if (st->base_entries && now > st->base_entries) full_now = (uint64_t)((double)st->base * now / st->base_entries);
    return st->bytes - st->base > 2 * full_now;
}

/* Plans one open pane: SET a full frame, APPEND a delta, or nothing. */
static int plan_pane(np_ckpt_writer_t *w, np_pane_t *p, bool full, const np_ckpt_policy_t *pol) {
    np_ckpt_stored_t *st = find(w->stored, w->nstored, NP_CKPT_PART_PANE, p->start_ms);
    np_ckpt_stored_t e = st ? *st : (np_ckpt_stored_t){.kind = NP_CKPT_PART_PANE, .start = p->start_ms};
    bool again = rewrite(st, p, full, pol);
    if (again || p->adds != st->adds) {
        np_ckpt_part_t *part = add_part(w, again ? 'S' : 'A', NP_CKPT_PART_PANE, p->start_ms);
        if (!part || np_ckpt_encode_pane(w->enc, p, !again, &part->data, &part->len) < 0) return -1;
        part->expect = again ? 0 : st->bytes;
        e.adds = p->adds;
        e.evicted = pane_evicted(p);
        e.known = true;
        e.frames = again ? 1 : e.frames + 1;
        e.bytes = again ? part->len : e.bytes + part->len;
        if (again) {
            e.base = part->len;
            e.base_entries = pane_entries(p);
        }
        w->batch_bytes += part->len;
        if (again)
            w->panes_full++;
        else
            w->panes_delta++;
    }
    return push(&w->next, &w->nnext, &w->cap_next, &e);
}

/* Plans one unacknowledged partial: SET once. */
static int plan_out(np_ckpt_writer_t *w, const np_outbox_item_t *it, bool full) {
    np_ckpt_stored_t *st = find(w->stored, w->nstored, NP_CKPT_PART_OUT, it->pane_start);
    np_ckpt_stored_t e = {.kind = NP_CKPT_PART_OUT, .start = it->pane_start, .known = true};
    if (full || !st || !st->known) {
        np_ckpt_part_t *part = add_part(w, 'S', NP_CKPT_PART_OUT, it->pane_start);
        if (!part || np_ckpt_encode_out(it->data, it->len, &part->data, &part->len) < 0) return -1;
        w->batch_bytes += part->len;
        e.bytes = part->len;
    } else {
        e = *st;
    }
    return push(&w->next, &w->nnext, &w->cap_next, &e);
}

/* Plans kept pane slot i: SET when not stored as it is now, else nothing. */
static int plan_win(np_ckpt_writer_t *w, const np_partstate_t *ps, size_t i, bool full) {
    int64_t start = np_srcwin_slot_start(ps->win, i);
    uint64_t gen = np_srcwin_slot_gen(ps->win, i);
    np_ckpt_stored_t *st = find(w->stored, w->nstored, NP_CKPT_PART_WIN, start);
    np_ckpt_stored_t e = {.kind = NP_CKPT_PART_WIN, .start = start, .adds = gen, .known = true};
    if (full || !st || !st->known || st->adds != gen) {
        np_ckpt_part_t *part = add_part(w, 'S', NP_CKPT_PART_WIN, start);
        if (!part || np_ckpt_encode_win(ps, i, &part->data, &part->len) < 0) return -1;
        w->batch_bytes += part->len;
        e.bytes = part->len;
    } else {
        e = *st;
    }
    return push(&w->next, &w->nnext, &w->cap_next, &e);
}

static int plan_head(np_ckpt_writer_t *w, const np_partstate_t *ps, const char *topic, int64_t epoch,
                     const int64_t *so, const int64_t *sw, size_t n_sources, int64_t wall_ms) {
    np_ckpt_pane_ref_t *refs = calloc(w->nnext ? w->nnext : 1, sizeof(*refs));
    int64_t *outs = calloc(w->nnext ? w->nnext : 1, sizeof(*outs));
    int64_t *wins = calloc(w->nnext ? w->nnext : 1, sizeof(*wins));
    size_t nr = 0, no = 0, nw = 0;
    int rc = -1;
    if (refs && outs && wins) {
        for (size_t i = 0; i < w->nnext; i++) {
            const np_ckpt_stored_t *e = &w->next[i];
            if (e->kind == NP_CKPT_PART_PANE)
                refs[nr++] = (np_ckpt_pane_ref_t){e->start, e->bytes, e->frames};
            else if (e->kind == NP_CKPT_PART_WIN)
                wins[nw++] = e->start;
            else
                outs[no++] = e->start;
        }
        rc = np_ckpt_encode_head(ps, topic, epoch, so, sw, n_sources, wall_ms, refs, nr, outs, no, wins, nw,
                                 &w->head, &w->head_len);
    }
    free(refs);
    free(outs);
    free(wins);
    if (rc == 0) w->batch_bytes += w->head_len;
    return rc;
}

int np_ckpt_writer_plan(np_ckpt_writer_t *w, np_partstate_t *ps, const char *topic, int64_t epoch,
                        const np_outbox_t *ob, const int64_t *source_offsets, const int64_t *source_watermarks,
                        size_t n_sources, int64_t wall_ms, const np_ckpt_policy_t *pol) {
    batch_free(w);
    w->nnext = 0;
    if (!w->enc) {
        if (!(w->enc = calloc(1, sizeof(*w->enc)))) goto fail;
        np_partial_enc_init(w->enc);
    }
    bool full = w->full_next || pol->full_every == 1 || (pol->full_every && w->since_full + 1 >= pol->full_every);
    w->batch_full = full;
    for (size_t i = 0; i < ps->cfg.max_open_panes; i++)
        if (ps->ring[i].start_ms != NP_TS_NONE && plan_pane(w, &ps->ring[i], full, pol) < 0) goto fail;
    for (size_t i = 0; ob && i < ob->n; i++)
        if (plan_out(w, &ob->items[i], full) < 0) goto fail;
    for (size_t i = 0; ps->win && i < np_srcwin_slots(ps->win); i++)
        if (np_srcwin_slot_start(ps->win, i) != NP_SRCWIN_NONE && plan_win(w, ps, i, full) < 0) goto fail;
    if (w->nnext) qsort(w->next, w->nnext, sizeof(*w->next), cmp_stored);
    for (size_t i = 0; i < w->nstored; i++) {
        const np_ckpt_stored_t *st = &w->stored[i];
        if (!find(w->next, w->nnext, st->kind, st->start) && !add_part(w, 'D', st->kind, st->start)) goto fail;
    }
    if (plan_head(w, ps, topic, epoch, source_offsets, source_watermarks, n_sources, wall_ms) < 0) goto fail;
    return 0;
fail:
    np_ckpt_writer_done(w, false);
    return -1;
}

void np_ckpt_writer_done(np_ckpt_writer_t *w, bool stored) {
    if (stored) {
        np_ckpt_stored_t *t = w->stored;
        size_t tc = w->cap_stored;
        w->stored = w->next;
        w->cap_stored = w->cap_next;
        w->nstored = w->nnext;
        w->next = t;
        w->cap_next = tc;
        w->since_full = w->batch_full ? 0 : w->since_full + 1;
        w->full_next = false;
    } else {
        /* Whatever was planned may or may not be in Redis: remember it all as unknown, so
         * the next (full) checkpoint rewrites what is current and deletes the rest. */
        size_t sorted = w->nstored;
        for (size_t i = 0; i < w->nnext; i++)
            if (!find(w->stored, sorted, w->next[i].kind, w->next[i].start))
                push(&w->stored, &w->nstored, &w->cap_stored, &w->next[i]); /* on failure: a leaked key, not a wrong one */
        if (w->nstored) qsort(w->stored, w->nstored, sizeof(*w->stored), cmp_stored);
        for (size_t i = 0; i < w->nstored; i++) w->stored[i].known = false;
        w->full_next = true;
    }
    w->nnext = 0;
    batch_free(w);
}
