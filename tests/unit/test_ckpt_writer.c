/* Unit tests for np_ckpt_writer and version-2 checkpoints (np_ckpt): what each
 * checkpoint writes (set, append, delete, nothing), that a restore from a first frame plus
 * deltas is exact, the periodic full snapshot, rewrites after a failure or a restore,
 * damaged and missing parts, and that a version-1 (full, one value) checkpoint still
 * restores. Redis is replaced by a map that applies the parts as the Lua script does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_ckpt.h"
#include "np_ckpt_writer.h"
#include "np_partial.h"
#include "np_srcwin.h"
#include "srcmap_eq.h"

/* ---- a store: head + parts ---------------------------------------------------------- */

#define MAXK 64
typedef struct store {
    uint8_t *head;
    size_t head_len;
    char key[MAXK][40];
    uint8_t *val[MAXK];
    size_t len[MAXK];
    size_t n;
    int fail_get; /* get_part answers -1 */
} store_t;

static int find_key(store_t *s, const char *k) {
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->key[i], k) == 0) return (int)i;
    return -1;
}

static void store_del(store_t *s, int i) {
    free(s->val[i]);
    s->n--;
    if ((size_t)i != s->n) {
        memcpy(s->key[i], s->key[s->n], sizeof(s->key[i]));
        s->val[i] = s->val[s->n];
        s->len[i] = s->len[s->n];
    }
}

/* Applies a batch like the Lua script: every 'A' checked first, then all or nothing. */
static int store_apply(store_t *s, const np_ckpt_writer_t *w) {
    for (size_t i = 0; i < w->nparts; i++) {
        const np_ckpt_part_t *p = &w->parts[i];
        int k = find_key(s, p->suffix);
        if (p->op == 'A' && (k < 0 ? 0 : s->len[k]) != p->expect) return -1;
    }
    free(s->head);
    s->head = malloc(w->head_len);
    memcpy(s->head, w->head, w->head_len);
    s->head_len = w->head_len;
    for (size_t i = 0; i < w->nparts; i++) {
        const np_ckpt_part_t *p = &w->parts[i];
        int k = find_key(s, p->suffix);
        if (p->op == 'D') {
            if (k >= 0) store_del(s, k);
            continue;
        }
        if (k < 0) {
            assert_true(s->n < MAXK);
            k = (int)s->n++;
            snprintf(s->key[k], sizeof(s->key[k]), "%s", p->suffix);
            s->val[k] = NULL;
            s->len[k] = 0;
        }
        size_t base = p->op == 'A' ? s->len[k] : 0;
        s->val[k] = realloc(s->val[k], base + p->len);
        memcpy(s->val[k] + base, p->data, p->len);
        s->len[k] = base + p->len;
    }
    return 0;
}

static int get_part(void *ctx, const char *suffix, uint8_t **data, size_t *len) {
    store_t *s = ctx;
    if (s->fail_get) return -1;
    int k = find_key(s, suffix);
    if (k < 0) return 1;
    *data = malloc(s->len[k] ? s->len[k] : 1);
    memcpy(*data, s->val[k], s->len[k]);
    *len = s->len[k];
    return 0;
}

static void store_free(store_t *s) {
    free(s->head);
    while (s->n) store_del(s, (int)s->n - 1);
}

/* ---- state ---------------------------------------------------------------------------- */

static np_pane_config_t cfg;
static np_hll_pool_t *pool;
static np_outbox_t ob;
static np_partial_enc_t enc;

static int setup(void **st) {
    (void)st;
    pool = np_hll_pool_new(NP_HLL_P_DEFAULT, 4096);
    cfg = (np_pane_config_t){.pane_ms = 5000, .lateness_ms = 2000, .max_open_panes = 4, .max_sources = 4096,
                             .max_dests = 4096, .pool = pool};
    np_outbox_init(&ob);
    np_partial_enc_init(&enc);
    return 0;
}

static int teardown(void **st) {
    (void)st;
    np_outbox_free(&ob);
    np_partial_enc_free(&enc);
    np_hll_pool_destroy(&pool);
    return 0;
}

/* A closed pane's partial goes to the outbox, as the worker does. */
static void emit(void *ctx, np_partstate_t *ps, const np_pane_t *pane, uint64_t late) {
    (void)ctx;
    const uint8_t *buf;
    size_t len;
    assert_int_equal(np_partial_encode(&enc, "w", ps->partition, pane, ps->cfg.pane_ms, late, &buf, &len), 0);
    assert_int_equal(np_outbox_push(&ob, pane->start_ms, pane->min_offset, buf, len), 0);
}

static int64_t offset;

/* n records at event time ts from sources src0.. (distinct per i), to ports and hosts
 * that vary, so that the sketches fill. */
static void add(np_partstate_t *ps, int64_t ts, uint32_t src0, uint32_t n, uint32_t salt) {
    for (uint32_t i = 0; i < n; i++) {
        np_record_t r;
        memset(&r, 0, sizeof(r));
        r.ts_ms = ts;
        r.src.b[10] = r.src.b[11] = r.dst.b[10] = r.dst.b[11] = 0xff;
        uint32_t s = src0 + i, d = (s * 7 + salt) % 997;
        memcpy(&r.src.b[12], &s, 4);
        memcpy(&r.dst.b[12], &d, 4);
        r.proto = (uint8_t)(i % 3 ? 6 : 17);
        r.dst_port = (uint16_t)(1000 + (s + salt) % 50);
        r.bytes = 100 + s % 13;
        r.packets = 1 + s % 3;
        np_partstate_add(ps, &r, offset++, emit, NULL, NULL);
    }
}

static void same_table(const np_srcmap_t *a, const np_srcmap_t *b) {
    assert_same_sources(a, b);
    assert_int_equal(np_srcmap_evicted(a), np_srcmap_evicted(b));
    assert_int_equal(np_srcmap_other(a)->records, np_srcmap_other(b)->records);
    assert_int_equal(np_srcmap_other(a)->bytes, np_srcmap_other(b)->bytes);
}

static const np_pane_t *pane_of(const np_partstate_t *ps, int64_t start) {
    for (size_t i = 0; i < ps->cfg.max_open_panes; i++)
        if (ps->ring[i].start_ms == start) return &ps->ring[i];
    return NULL;
}

/* b (restored) holds exactly a's state. */
static void same_state(const np_partstate_t *a, const np_partstate_t *b) {
    assert_int_equal(a->next_offset, b->next_offset);
    assert_int_equal(a->max_ts, b->max_ts);
    assert_int_equal(a->closed_through, b->closed_through);
    assert_int_equal(a->records_total, b->records_total);
    assert_int_equal(a->late_total, b->late_total);
    assert_int_equal(np_partstate_open_panes(a), np_partstate_open_panes(b));
    for (size_t i = 0; i < a->cfg.max_open_panes; i++) {
        const np_pane_t *x = &a->ring[i];
        if (x->start_ms == NP_TS_NONE) continue;
        const np_pane_t *y = pane_of(b, x->start_ms);
        assert_non_null(y);
        assert_int_equal(x->records, y->records);
        assert_int_equal(x->bytes, y->bytes);
        assert_int_equal(x->packets, y->packets);
        assert_int_equal(x->min_offset, y->min_offset);
        assert_memory_equal(x->pmix, y->pmix, sizeof(x->pmix));
        assert_memory_equal(x->port_hist, y->port_hist, sizeof(x->port_hist));
        same_table(x->sources, y->sources);
        same_table(x->dests, y->dests);
    }
}

static const np_ckpt_policy_t POL = {.full_every = 0, .max_frames = 32};

/* Plans and stores one checkpoint; returns the writer's batch counts via the writer. */
static void ckpt(np_ckpt_writer_t *w, np_partstate_t *ps, store_t *s, const np_ckpt_policy_t *pol) {
    assert_int_equal(np_ckpt_writer_plan(w, ps, "t", 5, &ob, NULL, NULL, 0, 0, pol), 0);
    assert_int_equal(store_apply(s, w), 0);
}

static int count_ops(const np_ckpt_writer_t *w, char op, const char *prefix) {
    int n = 0;
    for (size_t i = 0; i < w->nparts; i++)
        n += w->parts[i].op == op && strncmp(w->parts[i].suffix, prefix, strlen(prefix)) == 0;
    return n;
}

static np_partstate_t *restore(store_t *s, np_ckpt_writer_t *w, int expect_rc) {
    np_partstate_t *ps = NULL;
    np_outbox_t rob;
    int64_t epoch = 0;
    char err[256] = "";
    int rc = np_ckpt_decode_parts(s->head, s->head_len, get_part, s, &cfg, "t", 3, &ps, &rob, &epoch, NULL, NULL, 0, w,
                                  err, sizeof(err));
    if (rc != expect_rc) fail_msg("decode: %d (%s), expected %d", rc, err, expect_rc);
    if (rc == 0) {
        assert_int_equal(epoch, 5);
        assert_int_equal(rob.n, ob.n);
        for (size_t i = 0; i < ob.n; i++) {
            assert_int_equal(rob.items[i].pane_start, ob.items[i].pane_start);
            assert_int_equal(rob.items[i].len, ob.items[i].len);
            assert_memory_equal(rob.items[i].data, ob.items[i].data, ob.items[i].len);
        }
        np_outbox_free(&rob);
    }
    return ps;
}

/* Set, append, nothing, delete; every restore exact. */
static void test_deltas_restore_exactly(void **st) {
    (void)st;
    store_t s = {0};
    np_ckpt_writer_t w;
    np_ckpt_writer_init(&w);
    np_partstate_t *ps = np_partstate_new(3, &cfg);
    offset = 100;
    add(ps, 1000, 0, 300, 1);   /* pane 0 */
    add(ps, 6000, 1000, 200, 2); /* pane 5000; watermark 4000: pane 0 still open */
    ckpt(&w, ps, &s, &POL);
    assert_int_equal(count_ops(&w, 'S', "pane:"), 2);
    assert_int_equal(w.panes_delta, 0);
    np_ckpt_writer_done(&w, true);

    /* Only pane 5000 takes records: old sources again and new ones. */
    add(ps, 6500, 1100, 150, 3);
    size_t full_bytes = 0;
    ckpt(&w, ps, &s, &POL);
    assert_int_equal(count_ops(&w, 'A', "pane:5000"), 1);
    assert_int_equal(w.nparts, 1); /* pane 0 untouched: nothing */
    assert_int_equal(w.panes_delta, 1);
    full_bytes = w.batch_bytes;
    np_ckpt_writer_done(&w, true);
    np_partstate_t *back = restore(&s, NULL, 0);
    same_state(ps, back);
    np_partstate_destroy(&back);

    /* Nothing changed: only the head. */
    ckpt(&w, ps, &s, &POL);
    assert_int_equal(w.nparts, 0);
    assert_true(w.batch_bytes < full_bytes);
    np_ckpt_writer_done(&w, true);

    /* A few sources of pane 5000 again: the delta holds those, not the pane. */
    add(ps, 6600, 1000, 5, 4);
    ckpt(&w, ps, &s, &POL);
    assert_int_equal(count_ops(&w, 'A', "pane:5000"), 1);
    assert_true(w.parts[0].len < full_bytes / 4);
    np_ckpt_writer_done(&w, true);
    back = restore(&s, NULL, 0);
    same_state(ps, back);
    np_partstate_destroy(&back);

    /* Pane 0 closes: its part goes, its partial comes (set once). */
    add(ps, 7500, 5000, 10, 5);
    assert_int_equal(ob.n, 1);
    ckpt(&w, ps, &s, &POL);
    assert_int_equal(count_ops(&w, 'D', "pane:0"), 1);
    assert_int_equal(count_ops(&w, 'S', "out:0"), 1);
    np_ckpt_writer_done(&w, true);
    assert_int_equal(find_key(&s, "pane:0"), -1);
    back = restore(&s, NULL, 0);
    same_state(ps, back);
    np_partstate_destroy(&back);
    ckpt(&w, ps, &s, &POL);
    assert_int_equal(count_ops(&w, 'S', "out:"), 0); /* stored already */
    np_ckpt_writer_done(&w, true);

    /* Acknowledged: deleted. */
    assert_true(np_outbox_ack(&ob, 0));
    ckpt(&w, ps, &s, &POL);
    assert_int_equal(count_ops(&w, 'D', "out:0"), 1);
    np_ckpt_writer_done(&w, true);
    assert_int_equal(find_key(&s, "out:0"), -1);
    back = restore(&s, NULL, 0);
    same_state(ps, back);
    np_partstate_destroy(&back);

    np_ckpt_writer_free(&w);
    np_partstate_destroy(&ps);
    store_free(&s);
}

/* Every full_every-th checkpoint rewrites every part; a failed write makes the next one
 * full and deletes what it may have left; a restore does too; long changelogs compact. */
static void test_full_snapshots(void **st) {
    (void)st;
    store_t s = {0};
    np_ckpt_writer_t w;
    np_ckpt_writer_init(&w);
    np_partstate_t *ps = np_partstate_new(3, &cfg);
    np_ckpt_policy_t pol = {.full_every = 3, .max_frames = 32};
    offset = 0;
    add(ps, 1000, 0, 50, 1);
    ckpt(&w, ps, &s, &pol); /* 1: pane 0 new */
    np_ckpt_writer_done(&w, true);
    add(ps, 1100, 0, 50, 2);
    ckpt(&w, ps, &s, &pol); /* 2: delta */
    assert_false(w.batch_full);
    assert_int_equal(w.panes_delta, 1);
    np_ckpt_writer_done(&w, true);
    add(ps, 1200, 0, 50, 3);
    ckpt(&w, ps, &s, &pol); /* 3: full */
    assert_true(w.batch_full);
    assert_int_equal(w.panes_full, 1);
    np_ckpt_writer_done(&w, true);

    /* A failed write: the next one rewrites, and deletes the pane it planned if closed. */
    add(ps, 6000, 100, 20, 4); /* pane 5000 opens */
    assert_int_equal(np_ckpt_writer_plan(&w, ps, "t", 5, &ob, NULL, NULL, 0, 0, &pol), 0);
    np_ckpt_writer_done(&w, false);
    add(ps, 6100, 100, 20, 5);
    ckpt(&w, ps, &s, &pol);
    assert_true(w.batch_full);
    assert_int_equal(count_ops(&w, 'S', "pane:"), 2);
    np_ckpt_writer_done(&w, true);
    np_partstate_t *back = restore(&s, NULL, 0);
    same_state(ps, back);
    np_partstate_destroy(&back);

    /* A restore: the writer knows the parts, rewrites them and deletes stale ones. */
    np_ckpt_writer_t w2;
    np_ckpt_writer_init(&w2);
    back = restore(&s, &w2, 0);
    add(back, 7500, 200, 5, 6); /* pane 0 closes in the restored state */
    ckpt(&w2, back, &s, &pol);
    assert_true(w2.batch_full);
    assert_int_equal(count_ops(&w2, 'D', "pane:0"), 1);
    assert_int_equal(count_ops(&w2, 'S', "pane:5000"), 1);
    np_ckpt_writer_done(&w2, true);
    np_ckpt_writer_free(&w2);
    np_partstate_destroy(&back);
    np_outbox_free(&ob);
    np_outbox_init(&ob);

    /* Compaction at max_frames. */
    np_ckpt_policy_t small = {.full_every = 0, .max_frames = 2};
    np_ckpt_writer_free(&w);
    np_ckpt_writer_init(&w);
    ckpt(&w, ps, &s, &small);
    np_ckpt_writer_done(&w, true);
    add(ps, 6200, 100, 3, 7);
    ckpt(&w, ps, &s, &small);
    assert_int_equal(count_ops(&w, 'A', "pane:5000"), 1);
    np_ckpt_writer_done(&w, true);
    add(ps, 6300, 100, 3, 8);
    ckpt(&w, ps, &s, &small);
    assert_int_equal(count_ops(&w, 'S', "pane:5000"), 1); /* 2 frames: rewritten */
    np_ckpt_writer_done(&w, true);
    back = restore(&s, NULL, 0);
    same_state(ps, back);
    np_partstate_destroy(&back);

    np_ckpt_writer_free(&w);
    np_partstate_destroy(&ps);
    store_free(&s);
}

/* Damaged, missing, unreadable and overgrown parts; a head without its parts. */
static void test_damaged_parts(void **st) {
    (void)st;
    store_t s = {0};
    np_ckpt_writer_t w;
    np_ckpt_writer_init(&w);
    np_partstate_t *ps = np_partstate_new(3, &cfg);
    offset = 0;
    add(ps, 1000, 0, 40, 1);
    ckpt(&w, ps, &s, &POL);
    np_ckpt_writer_done(&w, true);
    add(ps, 1000, 20, 40, 2);
    ckpt(&w, ps, &s, &POL);
    np_ckpt_writer_done(&w, true);
    int k = find_key(&s, "pane:0");
    assert_true(k >= 0);
    for (size_t i = 0; i < s.len[k]; i += 7) { /* any flipped byte, first frame or delta */
        s.val[k][i] ^= 0x10;
        restore(&s, NULL, NP_CKPT_CORRUPT);
        s.val[k][i] ^= 0x10;
    }
    s.len[k]--; /* truncated */
    restore(&s, NULL, NP_CKPT_CORRUPT);
    s.len[k]++;
    s.fail_get = 1;
    restore(&s, NULL, NP_CKPT_IO);
    s.fail_get = 0;
    np_partstate_t *back = NULL;
    char err[200];
    assert_int_equal(np_ckpt_decode(s.head, s.head_len, &cfg, "t", 3, &back, &ob, NULL, NULL, NULL, 0, err, sizeof(err)),
                     NP_CKPT_CORRUPT); /* parts and no way to read them */
    np_outbox_init(&ob);
    store_del(&s, k);
    restore(&s, NULL, NP_CKPT_CORRUPT); /* missing */
    np_ckpt_writer_free(&w);
    np_partstate_destroy(&ps);
    store_free(&s);
}

/* A version-1 checkpoint (one value, written by np_ckpt_encode) restores through the
 * version-2 reader, and the writer's first checkpoint after it is a full one. */
static void test_version1_restores(void **st) {
    (void)st;
    np_partstate_t *ps = np_partstate_new(3, &cfg);
    offset = 7;
    add(ps, 1000, 0, 100, 1);
    add(ps, 6000, 50, 100, 2);
    add(ps, 7500, 80, 3, 3); /* pane 0 closes: an outbox item */
    assert_int_equal(ob.n, 1);
    uint8_t *buf;
    size_t len;
    assert_int_equal(np_ckpt_encode(ps, "t", 5, &ob, NULL, NULL, 0, 0, &buf, &len), 0);
    store_t s = {.head = buf, .head_len = len};
    np_ckpt_writer_t w;
    np_ckpt_writer_init(&w);
    np_partstate_t *back = restore(&s, &w, 0);
    same_state(ps, back);
    ckpt(&w, back, &s, &POL);
    assert_int_equal(count_ops(&w, 'S', "pane:"), 1);
    assert_int_equal(count_ops(&w, 'S', "out:"), 1);
    np_ckpt_writer_done(&w, true);
    np_partstate_destroy(&back);
    back = restore(&s, NULL, 0); /* and as version 2 */
    same_state(ps, back);
    np_partstate_destroy(&back);
    np_ckpt_writer_free(&w);
    np_partstate_destroy(&ps);
    store_free(&s);
    np_outbox_free(&ob);
    np_outbox_init(&ob);
}

/* A full table evicts (Space-Saving gives an entry to another source): the pane is
 * rewritten, not appended to, and the evicted source does not come back on restore. */
static void test_eviction_rewrites(void **st) {
    (void)st;
    store_t s = {0};
    np_ckpt_writer_t w;
    np_ckpt_writer_init(&w);
    np_pane_config_t small = cfg;
    small.max_sources = small.max_dests = 8;
    np_pane_config_t saved = cfg;
    cfg = small; /* restore() decodes with cfg */
    np_partstate_t *ps = np_partstate_new(3, &cfg);
    offset = 0;
    add(ps, 1000, 0, 8, 1); /* full, no eviction yet */
    ckpt(&w, ps, &s, &POL);
    np_ckpt_writer_done(&w, true);
    add(ps, 1100, 0, 4, 1); /* updates only (same destinations): a delta */
    ckpt(&w, ps, &s, &POL);
    assert_int_equal(count_ops(&w, 'A', "pane:0"), 1);
    np_ckpt_writer_done(&w, true);
    add(ps, 1200, 100, 3, 3); /* new sources: evictions */
    assert_true(np_srcmap_evicted(ps->ring[0].sources) > 0);
    ckpt(&w, ps, &s, &POL);
    assert_int_equal(count_ops(&w, 'S', "pane:0"), 1);
    np_ckpt_writer_done(&w, true);
    np_partstate_t *back = restore(&s, NULL, 0);
    same_state(ps, back);
    np_partstate_destroy(&back);
    np_ckpt_writer_free(&w);
    np_partstate_destroy(&ps);
    store_free(&s);
    cfg = saved;
}

/* The kept panes (bounded partials' window and np_pair) are parts: each SET once when its
 * pane closes and DELeted when it leaves the ring, never rewritten in every head; a
 * restore gets them back exactly; a missing one makes the checkpoint corrupt. */
static void test_kept_pane_parts(void **st) {
    (void)st;
    store_t s = {0};
    np_ckpt_writer_t w;
    np_ckpt_writer_init(&w);
    cfg.window_ms = 15000; /* 2 panes before the last */
    cfg.keep_panes = 1;    /* a ring of 3 */
    cfg.lateness_ms = 0;
    np_partstate_t *ps = np_partstate_new(3, &cfg);
    offset = 100;
    add(ps, 1000, 0, 50, 1);
    add(ps, 6000, 100, 50, 2); /* pane 0 closes */
    ckpt(&w, ps, &s, &POL);
    assert_int_equal(count_ops(&w, 'S', "win:"), 1);
    assert_int_equal(count_ops(&w, 'S', "win:0"), 1);
    size_t head1 = w.head_len;
    np_ckpt_writer_done(&w, true);
    add(ps, 6500, 120, 50, 3);
    ckpt(&w, ps, &s, &POL);
    assert_int_equal(count_ops(&w, 'S', "win:"), 0); /* stored already */
    assert_true(w.head_len < head1 + 16);             /* the head lists it, does not hold it */
    np_ckpt_writer_done(&w, true);
    for (int64_t t = 11000; t <= 21000; t += 5000) add(ps, t, (uint32_t)t, 50, 4); /* 5000..15000 close */
    ckpt(&w, ps, &s, &POL);
    assert_int_equal(count_ops(&w, 'S', "win:"), 3);
    assert_int_equal(count_ops(&w, 'D', "win:0"), 1); /* its slot went to 15000 */
    np_ckpt_writer_done(&w, true);
    np_ckpt_writer_t w2;
    np_ckpt_writer_init(&w2);
    np_partstate_t *back = restore(&s, &w2, 0);
    same_state(ps, back);
    for (int64_t p = 5000; p <= 15000; p += 5000) {
        const np_srcmap_t *a = NULL, *b = NULL;
        uint64_t ab = 0, bb = 0;
        assert_int_equal(np_srcwin_find(ps->win, p, &a, &ab, NULL, NULL), 1);
        assert_int_equal(np_srcwin_find(back->win, p, &b, &bb, NULL, NULL), 1);
        same_table(a, b);
        assert_int_equal(ab, bb);
    }
    assert_int_equal(np_srcwin_find(back->win, 0, NULL, NULL, NULL, NULL), -1);
    /* After a restore every part is rewritten once (what Redis holds is unknown). */
    ckpt(&w2, back, &s, &POL);
    assert_int_equal(count_ops(&w2, 'S', "win:"), 3);
    np_ckpt_writer_done(&w2, true);
    np_partstate_destroy(&back);
    /* A kept pane's part missing: corrupt, not a window without that pane. */
    store_del(&s, find_key(&s, "win:10000"));
    assert_null(restore(&s, NULL, NP_CKPT_CORRUPT));
    np_ckpt_writer_free(&w);
    np_ckpt_writer_free(&w2);
    np_partstate_destroy(&ps);
    store_free(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_deltas_restore_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_snapshots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version1_restores, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eviction_rewrites, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kept_pane_parts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
