/* Unit tests for np_window (sliding windows from final panes) and the persisted form
 * of a final pane (np_partial_encode_gpane / np_partial_decode_gpane). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "np_partial.h"
#include "np_window.h"
#include "srcmap_eq.h"

static np_gpane_t mk(int64_t start, uint64_t records, uint8_t src, int part) {
    np_gpane_t g = {0};
    g.start_ms = start;
    g.records = records;
    g.bytes = records * 100;
    g.packets = records * 2;
    g.seen = calloc(1, NP_MERGE_MAX_PARTITIONS / 8);
    g.sources = np_srcmap_new(100, NULL);
    g.seen[part / 8] |= (uint8_t)(1u << (part % 8));
    g.partitions = 1;
    np_ip_t ip = {{0}};
    ip.b[10] = ip.b[11] = 0xff;
    ip.b[15] = src;
    np_srcmap_add(g.sources, &ip, records, records * 100, records * 2);
    return g;
}

static void fr(np_gpane_t *g) {
    free(g->seen);
    np_srcmap_destroy(&g->sources);
}

static void test_sliding(void **s) {
    (void)s;
    assert_null(np_window_new(5000, 12000, 10, NULL)); /* not a multiple */
    np_window_t *w = np_window_new(5000, 15000, 100, NULL);
    np_gpane_t p0 = mk(0, 1, 1, 0), p1 = mk(5000, 2, 2, 1), p2 = mk(10000, 3, 1, 2), p3 = mk(15000, 4, 3, 0);
    assert_null(np_window_push(w, &p0)); /* would reach back before the first pane */
    assert_null(np_window_push(w, &p1));
    const np_gpane_t *o = np_window_push(w, &p2);
    assert_non_null(o);
    assert_int_equal(o->start_ms, 0);
    assert_int_equal(o->records, 6);
    assert_int_equal(o->bytes, 600);
    assert_int_equal(np_srcmap_count(o->sources), 2); /* source 1 in two panes counts once */
    assert_int_equal(o->partitions, 3);
    o = np_window_push(w, &p3);
    assert_int_equal(o->start_ms, 5000);
    assert_int_equal(o->records, 9);
    assert_int_equal(o->partitions, 3);
    /* An empty pane (no sources table, as np_merge emits for gaps) slides in as zeros. */
    np_gpane_t empty = {0};
    empty.start_ms = 20000;
    o = np_window_push(w, &empty);
    assert_int_equal(o->start_ms, 10000);
    assert_int_equal(o->records, 7);
    /* A jump past several panes (a skipped gap): stale slots are not counted. */
    np_gpane_t p9 = mk(45000, 5, 9, 3);
    o = np_window_push(w, &p9);
    assert_int_equal(o->start_ms, 35000);
    assert_int_equal(o->records, 5);
    assert_int_equal(np_srcmap_count(o->sources), 1);
    assert_int_equal(np_window_first(w), 0);
    np_window_destroy(&w);
    assert_null(w);
    fr(&p0), fr(&p1), fr(&p2), fr(&p3), fr(&p9);
}

/* Bounded partials: a window is published from the partitions' own window results only
 * when every partition with data in the window sent them with its last pane. Partition 1
 * had data in the first pane, then lost its history (a damaged checkpoint quarantined):
 * it sends nothing for the last pane, so the sum of partition 0's results would be short
 * by its sources; the window must be marked a lower bound instead. */
static np_gpane_t mk_bounded(int64_t start, uint64_t records, uint8_t src, int part, uint64_t win_sources) {
    np_gpane_t g = mk(start, records, src, part);
    g.bounded = true;
    g.nsources = 1;
    g.win_top = np_srcmap_new(100, NULL);
    for (size_t i = 0; i < np_srcmap_slots(g.sources); i++) {
        const np_srcagg_t *a = np_srcmap_slot(g.sources, i);
        if (a) np_srcmap_merge(g.win_top, a);
    }
    g.win_sources = win_sources;
    g.win_seen = 1;
    return g;
}

static void test_window_results_cover(void **s) {
    (void)s;
    np_window_t *w = np_window_new(5000, 10000, 100, NULL);
    /* Pane 0: partitions 0 and 1 had data (sources 1 and 2). */
    np_gpane_t p0 = mk_bounded(0, 1, 1, 0, 1);
    p0.seen[0] |= 2;
    p0.partitions = 2;
    np_srcmap_add(p0.sources, &(np_ip_t){{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 2}}, 1, 100, 2);
    assert_null(np_window_push(w, &p0));
    /* Pane 5000: only partition 0, with its window (sources 1 and 3 over both panes). */
    np_gpane_t p1 = mk_bounded(5000, 1, 3, 0, 2);
    const np_gpane_t *o = np_window_push(w, &p1);
    assert_non_null(o);
    assert_true(o->sources_lower_bound); /* partition 1's data is in the window, its results are not */
    /* Pane 10000: partition 1 sends a window-only partial with its results (source 2 left
     * the window: 0), partition 0 its own: the window is exact again. */
    np_gpane_t p2 = mk_bounded(10000, 1, 1, 0, 2);
    p2.seen[0] |= 2;
    p2.win_seen = 2;
    o = np_window_push(w, &p2);
    assert_false(o->sources_lower_bound);
    assert_int_equal(o->nsources, 2);
    /* covered: the sources are the partitions' results alone (source 1), not the union
     * of the panes' tables (sources 1 and 3), which is not built; totals are summed */
    assert_int_equal(np_srcmap_count(o->sources), 1);
    assert_int_equal(o->records, 2);
    assert_int_equal(o->partitions, 2);
    /* Pane 15000: a partial without window results: the union of the panes' tables again
     * (sources 1 and 4), kept in the ring while the windows before did not need it. */
    np_gpane_t p3 = mk_bounded(15000, 1, 4, 0, 2);
    p3.win_missing = 1;
    o = np_window_push(w, &p3);
    assert_true(o->sources_lower_bound);
    assert_int_equal(np_srcmap_count(o->sources), 2);
    assert_int_equal(o->records, 2);
    /* Pane 20000 only window-only partials (bounded, no data), pane 25000 nothing: the
     * window 20000..30000 has no data, so 0 sources is exact, not a lower bound (0150). */
    np_gpane_t wonly = {.start_ms = 20000, .bounded = true}, none = {.start_ms = 25000};
    np_window_push(w, &wonly);
    o = np_window_push(w, &none);
    assert_non_null(o);
    assert_int_equal(o->records, 0);
    assert_false(o->sources_lower_bound);
    np_window_destroy(&w);
    np_gpane_t *all[] = {&p0, &p1, &p2, &p3};
    for (size_t i = 0; i < 4; i++) {
        np_srcmap_destroy(&all[i]->win_top);
        fr(all[i]);
    }
}

static void test_gpane_roundtrip(void **s) {
    (void)s;
    np_gpane_t g = mk(5000, 7, 42, 11);
    g.late_records = 3;
    np_partial_enc_t e;
    np_partial_enc_init(&e);
    const uint8_t *buf;
    size_t len;
    assert_int_equal(np_partial_encode_gpane(&e, &g, 5000, &buf, &len), 0);
    np_gpane_t d = {0};
    d.seen = calloc(1, NP_MERGE_MAX_PARTITIONS / 8);
    d.sources = np_srcmap_new(100, NULL);
    assert_int_equal(np_partial_decode_gpane(buf, len, &d, NULL), 0);
    assert_int_equal(d.start_ms, 5000);
    assert_int_equal(d.records, 7);
    assert_int_equal(d.late_records, 3);
    assert_int_equal(d.partitions, 1);
    assert_memory_equal(d.seen, g.seen, NP_MERGE_MAX_PARTITIONS / 8);
    assert_int_equal(np_srcmap_count(d.sources), 1);
    assert_int_equal(np_partial_decode_gpane((const uint8_t *)"\xff\xff", 2, &d, NULL), -1);
    np_partial_enc_free(&e);
    fr(&g);
    fr(&d);
}

/* np_partial_encode_gpane packs into a buffer sized by an upper bound instead of asking
 * protobuf-c for the size first: the bytes must be protobuf-c's own (unpacked and packed
 * again they come out the same), also with every field at its widest (varints of 10
 * bytes, dense sketches at precision 14, entries over 16 KiB). */
static void test_gpane_packed_as_protobuf_c(void **s) {
    (void)s;
    np_hll_pool_t *pool = np_hll_pool_new(14, 1024);
    np_gpane_t g = mk(-5000, UINT64_MAX, 1, 0);
    np_srcmap_destroy(&g.sources);
    g.sources = np_srcmap_new(300, pool);
    g.late_records = g.sources_evicted = g.nsources = UINT64_MAX;
    g.partitions = UINT32_MAX;
    g.bounded = true;
    memset(g.seen, 0xff, NP_MERGE_MAX_PARTITIONS / 8);
    for (int i = 0; i < NP_PMIX__COUNT; i++) g.pmix[i] = UINT64_MAX;
    for (int k = 0; k < 300; k++) {
        np_record_t r = {0};
        r.src.b[0] = 0x20;
        r.src.b[14] = (uint8_t)(k >> 8);
        r.src.b[15] = (uint8_t)k;
        r.proto = (uint8_t)(k % 4 ? NP_PROTO_TCP : NP_PROTO_UDP);
        r.bytes = r.packets = 1;
        for (int d = 0; d < (k < 40 ? 20000 : 1 + k % 5); d++) { /* 40 dense sketches */
            r.dst.b[12] = (uint8_t)(d >> 8);
            r.dst.b[13] = (uint8_t)d;
            r.dst_port = (uint16_t)d;
            np_srcmap_add_record(g.sources, &r);
        }
        np_srcmap_add(g.sources, &r.src, 1ull << 63, 1ull << 63, 1ull << 63); /* 10-byte varints */
    }
    np_partial_enc_t e;
    np_partial_enc_init(&e);
    const uint8_t *buf;
    size_t len;
    assert_int_equal(np_partial_encode_gpane(&e, &g, 5000, &buf, &len), 0);
    assert_true(len > 40 * 16384); /* the dense ones packed whole */
    Netpulse__WorkerMsg *m = netpulse__worker_msg__unpack(NULL, len, buf);
    assert_non_null(m);
    assert_int_equal(m->partial->n_sources, 300);
    assert_int_equal(netpulse__worker_msg__get_packed_size(m), len);
    uint8_t *again = malloc(len);
    assert_int_equal(netpulse__worker_msg__pack(m, again), len);
    assert_memory_equal(again, buf, len);
    free(again);
    netpulse__worker_msg__free_unpacked(m, NULL);
    np_partial_enc_free(&e);
    fr(&g);
    np_hll_pool_destroy(&pool);
}

/* Pane i of the lent/copied comparison: sources spread so that consecutive panes share
 * some, every third source with destinations enough for a dense sketch (pool p 10). */
static void fill_pane(np_gpane_t *g, int i) {
    g->start_ms = i * 5000;
    g->records = g->bytes = g->packets = 0;
    memset(g->seen, 0, NP_MERGE_MAX_PARTITIONS / 8);
    g->seen[0] = 1;
    g->partitions = 1;
    for (int k = 0; k < 40; k++) {
        np_ip_t ip = {{0}};
        ip.b[10] = ip.b[11] = 0xff;
        ip.b[14] = (uint8_t)((i * 13 + k) % 60);
        np_record_t r = {0};
        r.src = ip;
        r.proto = NP_PROTO_TCP;
        r.bytes = 100u + (uint64_t)k;
        r.packets = 1;
        for (int d = 0; d < (k % 3 ? 2 : 200); d++) { /* every third source dense */
            r.dst.b[12] = (uint8_t)d;
            r.dst.b[13] = (uint8_t)i;
            r.dst_port = (uint16_t)(d + k);
            np_srcmap_add_record(g->sources, &r);
            g->records++;
            g->bytes += r.bytes;
            g->packets++;
        }
    }
}

/* np_window_push_lent + np_window_keep hand the pane's table to the ring instead of copying
 * it: every window (each the union of the ring's last 3 panes, no window results) must be
 * what copying gives, while the lender refills the emptied table it got back each pane, as
 * np_merge reuses its panes. */
static void test_lent_same_as_copied(void **s) {
    (void)s;
    np_hll_pool_t *pool = np_hll_pool_new(10, 4096);
    np_window_t *copied = np_window_new(5000, 15000, 100, pool), *lent = np_window_new(5000, 15000, 100, pool);
    np_gpane_t a = mk(0, 1, 1, 0), b = mk(0, 1, 1, 0);
    np_srcmap_destroy(&a.sources);
    np_srcmap_destroy(&b.sources);
    a.sources = np_srcmap_new(100, pool);
    b.sources = np_srcmap_new(100, pool);
    np_srcmap_t *tables[8] = {b.sources}; /* every table seen by the lender */
    size_t ntables = 1;
    for (int i = 0; i < 8; i++) {
        np_srcmap_clear(a.sources);
        np_srcmap_clear(b.sources);
        fill_pane(&a, i);
        fill_pane(&b, i);
        const np_gpane_t *wa = np_window_push(copied, &a), *wb = np_window_push_lent(lent, &b);
        assert_int_equal(wa != NULL, wb != NULL);
        if (wa) {
            assert_int_equal(wa->start_ms, wb->start_ms);
            assert_int_equal(wa->records, wb->records);
            assert_true(np_srcmap_count(wa->sources) > 40); /* the union of the panes' sources */
            assert_same_sources(wa->sources, wb->sources);
        }
        np_srcmap_t *had = b.sources, *spare = np_window_keep(lent);
        assert_non_null(spare);
        assert_true(spare != had);
        assert_int_equal(np_srcmap_count(spare), 0);
        b.sources = spare;
        bool known = false;
        for (size_t t = 0; t < ntables; t++) known = known || tables[t] == spare;
        if (!known) tables[ntables++] = spare;
    }
    assert_int_equal(ntables, 4); /* the lender's table and the ring's 3 go round, no more */
    /* A table of another capacity is copied: nothing to keep. */
    np_gpane_t c = mk(40000, 1, 1, 0);
    assert_non_null(np_window_push_lent(lent, &c));
    assert_null(np_window_keep(lent));
    np_gpane_t empty = {0};
    empty.start_ms = 45000;
    assert_non_null(np_window_push_lent(lent, &empty));
    assert_null(np_window_keep(lent));
    np_window_destroy(&copied);
    np_window_destroy(&lent);
    fr(&a), fr(&b), fr(&c);
    np_hll_pool_destroy(&pool);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sliding),
        cmocka_unit_test(test_window_results_cover),
        cmocka_unit_test(test_gpane_roundtrip),
        cmocka_unit_test(test_gpane_packed_as_protobuf_c),
        cmocka_unit_test(test_lent_same_as_copied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
