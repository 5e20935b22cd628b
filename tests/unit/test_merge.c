/* Unit tests for np_merge (global panes, completeness, duplicates, global watermark)
 * and np_result (the window JSON). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "np_merge.h"
#include "np_pane.h"
#include "np_partial.h"
#include "np_record.h"
#include "np_result.h"

typedef struct out {
    int64_t start[64];
    uint64_t records[64];
    uint32_t partitions[64];
    char json[4096];
    size_t n;
} out_t;

static void collect(void *ctx, const np_gpane_t *g) {
    out_t *o = ctx;
    assert_true(o->n < 64);
    o->start[o->n] = g->start_ms;
    o->records[o->n] = g->records;
    o->partitions[o->n] = g->partitions;
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    char id[64];
    np_result_window_json(&sb, g, 5000, id, sizeof(id));
    snprintf(o->json, sizeof(o->json), "%s", sb.buf);
    np_strbuf_free(&sb);
    o->n++;
}

static const np_merge_config_t CFG = {.pane_ms = 5000, .max_panes = 16, .max_sources = 1024, .max_empty_run = 3, .max_dests = 1024};

static void partial(np_merge_t *m, int32_t part, int64_t start, uint64_t records, uint8_t ip_last,
                    np_merge_result_t want) {
    uint8_t ip[16] = {0};
    ip[10] = ip[11] = 0xff;
    ip[15] = ip_last;
    Netpulse__SourceAgg s = NETPULSE__SOURCE_AGG__INIT;
    s.ip.data = ip;
    s.ip.len = 16;
    s.records = records;
    s.bytes = records * 10;
    s.packets = records;
    Netpulse__SourceAgg *sp = &s;
    Netpulse__Partial p = NETPULSE__PARTIAL__INIT;
    p.partition = part;
    p.pane_start_ms = start;
    p.pane_ms = 5000;
    p.records = records;
    p.bytes = records * 10;
    p.packets = records;
    p.n_sources = 1;
    p.sources = &sp;
    assert_int_equal(np_merge_add_partial(m, &p), want);
}

static void progress(np_merge_t *m, int32_t part, int64_t closed, int64_t wm, bool idle) {
    Netpulse__PartitionProgress pp = NETPULSE__PARTITION_PROGRESS__INIT;
    pp.partition = part;
    pp.closed_through_ms = closed;
    pp.watermark_ms = wm;
    pp.idle = idle;
    pp.has_data = true;
    np_merge_progress(m, &pp, 0);
}

static void test_complete_only_when_all_partitions_pass(void **s) {
    (void)s;
    out_t o = {0};
    np_merge_t *m = np_merge_new(&CFG);
    np_merge_set_partitions(m, 2);
    assert_int_equal(np_merge_waiting_partitions(m), 0); /* no pane open */
    partial(m, 0, 0, 10, 1, NP_MERGE_OK);
    assert_int_equal(np_merge_waiting_partitions(m), 2);
    progress(m, 0, 5000, 6000, false);
    assert_int_equal(np_merge_waiting_partitions(m), 1);
    assert_int_equal(np_merge_finalize(m, 100, collect, &o), 0); /* partition 1 unknown */
    progress(m, 1, 0, 3000, false);
    assert_int_equal(np_merge_waiting_partitions(m), 1);
    assert_int_equal(np_merge_finalize(m, 100, collect, &o), 0); /* partition 1 not past */
    partial(m, 1, 0, 5, 1, NP_MERGE_OK);
    partial(m, 1, 0, 5, 1, NP_MERGE_DUPLICATE);
    progress(m, 1, 5000, 5500, false);
    assert_int_equal(np_merge_waiting_partitions(m), 0);
    assert_int_equal(np_merge_finalize(m, 100, collect, &o), 1);
    assert_int_equal(np_merge_waiting_partitions(m), 0); /* emitted: nothing open */
    assert_int_equal(o.start[0], 0);
    assert_int_equal(o.records[0], 15);
    assert_int_equal(o.partitions[0], 2);
    /* One source in both partitions counts once. */
    assert_non_null(strstr(o.json, "\"sources\":1,"));
    assert_non_null(strstr(o.json, "\"id\":\"window:0:5000\""));
    assert_non_null(strstr(o.json, "{\"ip\":\"0.0.0.1\",\"records\":15,\"bytes\":150,\"packets\":15,\"dst_ips\":0,\"dst_ports\":0}"));
    partial(m, 0, 0, 1, 1, NP_MERGE_TOO_LATE);
    np_merge_stats_t st;
    np_merge_get_stats(m, &st);
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(st.too_late, 1);
    np_merge_destroy(&m);
}

static void test_empty_windows_and_gaps(void **s) {
    (void)s;
    out_t o = {0};
    np_merge_t *m = np_merge_new(&CFG);
    np_merge_set_partitions(m, 1);
    partial(m, 0, 0, 1, 1, NP_MERGE_OK);
    partial(m, 0, 15000, 1, 1, NP_MERGE_OK);   /* gap of 2 empty panes: filled */
    partial(m, 0, 100000, 1, 1, NP_MERGE_OK);  /* gap of 16 > max_empty_run 3: skipped */
    progress(m, 0, 105000, 105000, false);
    size_t n = np_merge_finalize(m, 100, collect, &o);
    assert_int_equal(n, 5);
    int64_t want[] = {0, 5000, 10000, 15000, 100000};
    for (size_t i = 0; i < 5; i++) assert_int_equal(o.start[i], want[i]);
    assert_int_equal(o.records[1], 0);
    np_merge_destroy(&m);
}

typedef struct taker {
    np_merge_t *m;
    np_srcmap_t *table; /* in: an empty table for the pane; out: the pane's */
    out_t o;
} taker_t;

static void take_sources(void *ctx, const np_gpane_t *g) {
    taker_t *t = ctx;
    collect(&t->o, g);
    np_srcmap_t *had = g->sources;
    assert_ptr_equal(np_merge_swap_sources(t->m, g, t->table), had);
    assert_ptr_equal(g->sources, t->table);
    t->table = had;
}

/* np_merge_swap_sources: the emitted pane's table leaves the merge whole (the reset after
 * emit clears the table swapped in, not it), and the next pane merges into the new one. */
static void test_swap_sources(void **s) {
    (void)s;
    taker_t t = {.m = np_merge_new(&CFG), .table = np_srcmap_new(CFG.max_sources, NULL)};
    np_srcmap_t *empty = t.table;
    np_merge_set_partitions(t.m, 1);
    partial(t.m, 0, 0, 7, 1, NP_MERGE_OK);
    progress(t.m, 0, 5000, 5000, false);
    assert_int_equal(np_merge_finalize(t.m, 10, take_sources, &t), 1);
    assert_ptr_not_equal(t.table, empty);
    assert_int_equal(np_srcmap_count(t.table), 1);
    assert_int_equal(np_srcmap_entry(t.table, 0)->records, 7);
    np_srcmap_t *first = t.table;
    t.table = np_srcmap_new(CFG.max_sources, NULL);
    for (int i = 1; i < 2 * (int)CFG.max_panes; i++) { /* every pane slot reused, one with `empty` */
        partial(t.m, 0, i * 5000, 3, (uint8_t)(i + 1), NP_MERGE_OK);
        progress(t.m, 0, (i + 1) * 5000, (i + 1) * 5000, false);
        assert_int_equal(np_merge_finalize(t.m, 10, take_sources, &t), 1);
        assert_int_equal(np_srcmap_count(t.table), 1);
        assert_int_equal(np_srcmap_entry(t.table, 0)->ip.b[15], i + 1);
        np_srcmap_clear(t.table);
    }
    assert_non_null(strstr(t.o.json, "\"sources\":1,"));
    np_srcmap_destroy(&first);
    np_srcmap_destroy(&t.table);
    np_merge_destroy(&t.m);
}

static void test_max_emit_backpressure(void **s) {
    (void)s;
    out_t o = {0};
    np_merge_t *m = np_merge_new(&CFG);
    np_merge_set_partitions(m, 1);
    for (int i = 0; i < 4; i++) partial(m, 0, i * 5000, 1, 1, NP_MERGE_OK);
    progress(m, 0, 20000, 20000, false);
    assert_int_equal(np_merge_finalize(m, 3, collect, &o), 3);
    assert_int_equal(np_merge_finalize(m, 3, collect, &o), 1);
    assert_int_equal(o.start[3], 15000);
    np_merge_destroy(&m);
}

static void test_bad_and_full(void **s) {
    (void)s;
    np_merge_config_t c = CFG;
    c.max_panes = 2;
    np_merge_t *m = np_merge_new(&c);
    partial(m, 0, 1234, 1, 1, NP_MERGE_BAD);  /* misaligned */
    partial(m, -1, 0, 1, 1, NP_MERGE_BAD);
    partial(m, 0, 0, 1, 1, NP_MERGE_OK);
    partial(m, 0, 5000, 1, 1, NP_MERGE_OK);
    partial(m, 0, 10000, 1, 1, NP_MERGE_FULL);
    np_merge_destroy(&m);
}

static void test_global_watermark(void **s) {
    (void)s;
    np_merge_t *m = np_merge_new(&CFG);
    np_merge_set_partitions(m, 3);
    assert_int_equal(np_merge_global_watermark(m, 0), NP_TS_NONE);
    progress(m, 0, 5000, 8000, false);
    progress(m, 1, 5000, 6000, false);
    assert_int_equal(np_merge_global_watermark(m, 0), 6000);
    progress(m, 1, 5000, 6000, true); /* idle: no longer holds the others back */
    assert_int_equal(np_merge_global_watermark(m, 0), 8000);
    /* All idle (partition 2 reports idle too): time flows from the highest watermark. */
    progress(m, 0, 5000, 8000, true);
    progress(m, 2, 0, 0, true);
    assert_int_equal(np_merge_global_watermark(m, 1000), 8000);
    assert_int_equal(np_merge_global_watermark(m, 3500), 10500);
    /* Never moves back when a partition becomes active again behind it. */
    progress(m, 2, 0, 7000, false);
    assert_int_equal(np_merge_global_watermark(m, 4000), 10500);
    np_merge_destroy(&m);
}

/* Hostile input: slots beyond max.partitions, panes and progress from the future, and
 * pane starts near INT64_MIN are refused; a forged partition count is capped. */
static void test_bounds(void **s) {
    (void)s;
    np_merge_config_t c = CFG;
    c.max_partitions = 8;
    c.max_future_ms = 300000;
    np_merge_t *m = np_merge_new(&c);
    int64_t now = 1700000000000;
    np_merge_set_wall_clock(m, now);
    partial(m, 8, 0, 1, 1, NP_MERGE_BAD);                     /* slot out of range */
    partial(m, 0, now + 300000, 1, 1, NP_MERGE_OK);           /* at the bound */
    partial(m, 0, now + 305000, 1, 1, NP_MERGE_BAD);          /* past it */
    partial(m, 0, INT64_MIN - INT64_MIN % 5000, 1, 1, NP_MERGE_BAD);
    np_merge_set_partitions(m, 4096);
    assert_int_equal(np_merge_partitions(m), 8);
    progress(m, 0, now + 400000, now + 400000, false);        /* from the future: ignored */
    assert_int_equal(np_merge_global_watermark(m, 0), NP_TS_NONE);
    progress(m, 100, 0, 0, false);                            /* slot out of range: ignored */
    assert_int_equal(np_merge_partitions(m), 8);
    np_merge_destroy(&m);
}

/* A global pane's table at its cap: the coordinator's own evictions are counted (not the
 * workers', which come in the partial), and the totals stay exact. */
static void test_table_cap_evictions_counted(void **s) {
    (void)s;
    np_merge_config_t cfg = CFG;
    cfg.max_sources = 2;
    np_merge_t *m = np_merge_new(&cfg);
    np_merge_stats_t st;
    for (uint8_t i = 1; i <= 3; i++) partial(m, i, 0, 5, i, NP_MERGE_OK); /* 3 sources, room for 2 */
    np_merge_get_stats(m, &st);
    assert_int_equal(st.sources_evicted, 1);
    assert_int_equal(st.dests_evicted, 0);
    partial(m, 4, 0, 5, 3, NP_MERGE_OK); /* the newest source is stored: no eviction */
    np_merge_get_stats(m, &st);
    assert_int_equal(st.sources_evicted, 1);
    np_merge_set_partitions(m, 5);
    for (int32_t p = 0; p < 5; p++) progress(m, p, 5000, 5000, false);
    out_t o = {0};
    assert_int_equal(np_merge_finalize(m, 4, collect, &o), 1);
    assert_int_equal(o.records[0], 20);
    np_merge_destroy(&m);
}

/* ---- a copy rebuilt by an owner that started empty (ARCHITECTURE.md "Where it is not exact") */

typedef struct sent {
    np_merge_t *m;
    np_partial_enc_t enc;
    np_merge_result_t r[8];
    int64_t conflict[8];
    int64_t close[8], end[8];
    size_t n;
} sent_t;

/* The worker's emit, encoded and handed to the coordinator's merge as the wire carries it. */
static void send_pane(void *ctx, np_partstate_t *ps, const np_pane_t *pane, uint64_t late) {
    sent_t *t = ctx;
    const uint8_t *buf;
    size_t len;
    if (pane->records == 0) return;
    assert_int_equal(np_partial_encode(&t->enc, "w", ps->partition, pane, 5000, late, &buf, &len), 0);
    Netpulse__WorkerMsg *wm = netpulse__worker_msg__unpack(NULL, len, buf);
    assert_non_null(wm);
    assert_true(t->n < 8);
    t->r[t->n] = np_merge_add_partial(t->m, wm->partial);
    t->conflict[t->n] = np_merge_conflict_offset(t->m, wm->partial);
    t->close[t->n] = wm->partial->close_offset;
    t->end[t->n] = wm->partial->records_end_offset;
    t->n++;
    netpulse__worker_msg__free_unpacked(wm, NULL);
}

/* A coordinator of two partitions and the worker side's encoder. */
static void sent_init(sent_t *t) {
    memset(t, 0, sizeof(*t));
    t->m = np_merge_new(&CFG);
    np_partial_enc_init(&t->enc);
    np_merge_set_partitions(t->m, 2);
}

static void sent_free(sent_t *t) {
    np_partial_enc_free(&t->enc);
    np_merge_destroy(&t->m);
}

static np_partstate_t *owner(void) {
    np_pane_config_t pc = {.pane_ms = 5000, .lateness_ms = 2000, .max_open_panes = 4, .max_sources = 64};
    return np_partstate_new(0, &pc);
}

static np_pane_add_result_t take(np_partstate_t *ps, int64_t ts, int64_t offset, sent_t *t) {
    np_record_t r;
    memset(&r, 0, sizeof(r));
    r.ts_ms = ts;
    r.bytes = 100;
    r.packets = 1;
    r.src.b[10] = r.src.b[11] = 0xff;
    r.src.b[15] = (uint8_t)(offset + 1);
    return np_partstate_add(ps, &r, offset, send_pane, t, NULL);
}

/*
 * The sequence: owner 1 takes offsets 0-1 (pane [0, 5000)), its partition goes idle and
 * follows the global watermark 12000, which closes the pane (close offset 2); the pane is
 * merged, and published once every partition passed it. Owner 1 may commit offset 2 (no
 * open pane, nothing unacknowledged) and dies; its checkpoint is lost. Offset 2 holds a
 * record of pane [0, 5000): owner 1 would have found it late. Owner 2 starts empty at 2,
 * knows no closed pane and takes it; its copy of the pane reaches the coordinator as a
 * duplicate (partition 1 has not passed the pane) or after it was published, and before
 * close offsets existed the record was in no window and no dead letter, counted nowhere.
 * Now that copy is told from a pure re-read: it holds offset 2 >= the merged close offset.
 */
static void rebuilt_copy(bool published) {
    sent_t t;
    sent_init(&t);
    np_partstate_t *w1 = owner();
    assert_int_equal(take(w1, 1000, 0, &t), NP_PANE_ADDED);
    assert_int_equal(take(w1, 3000, 1, &t), NP_PANE_ADDED);
    np_partstate_follow(w1, 12000);
    np_partstate_advance(w1, send_pane, &t);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.r[0], NP_MERGE_OK);
    assert_int_equal(t.close[0], 2);
    assert_int_equal(t.end[0], 2);
    assert_int_equal(np_partstate_safe_offset(w1), 2); /* what owner 1 may commit */
    progress(t.m, 0, 10000, 10000, true);
    progress(t.m, 1, published ? 10000 : 0, 10000, false);
    out_t o = {0};
    assert_int_equal(np_merge_finalize(t.m, 10, collect, &o), published ? 2 : 0);

    /* Offset 2, event time 4000: late for owner 1, which closed its pane. */
    np_partstate_t *w2 = owner();
    assert_true(np_partstate_is_late(w1, 4000));
    assert_int_equal(take(w2, 4000, 2, &t), NP_PANE_ADDED); /* owner 2 does not know */
    assert_int_equal(take(w2, 20000, 3, &t), NP_PANE_ADDED); /* closes its copy of the pane */
    assert_int_equal(t.n, 2);
    assert_int_equal(t.r[1], published ? NP_MERGE_TOO_LATE : NP_MERGE_DUPLICATE);
    assert_int_equal(t.end[1], 3);
    assert_int_equal(t.conflict[1], 2); /* offsets [2, 3) are lost: counted */
    np_merge_stats_t st;
    np_merge_get_stats(t.m, &st);
    assert_int_equal(st.conflicting, 1);
    assert_int_equal(published ? st.too_late : st.duplicates, 1);

    /* A pure re-read (owner 3 starts at offset 1, as after a checkpoint or an earlier
     * commit): its copy holds only records the merged one has. No conflict. */
    np_partstate_t *w3 = owner();
    assert_int_equal(take(w3, 3000, 1, &t), NP_PANE_ADDED);
    assert_int_equal(take(w3, 20000, 3, &t), NP_PANE_ADDED);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.end[2], 2);
    assert_int_equal(t.conflict[2], -1);
    np_merge_get_stats(t.m, &st);
    assert_int_equal(st.conflicting, 1);
    np_partstate_t *owners[3] = {w1, w2, w3};
    for (int i = 0; i < 3; i++) np_partstate_destroy(&owners[i]);
    sent_free(&t);
}

static void test_rebuilt_copy_of_merged_pane(void **s) {
    (void)s;
    rebuilt_copy(false);
}

static void test_rebuilt_copy_of_published_pane(void **s) {
    (void)s;
    rebuilt_copy(true);
}

/* Out-of-order event times around the committed offset C alone lose nothing: owner 1
 * takes offsets 0-4, closes pane [0, 5000) by its own watermark at offset 3 and finds
 * offset 4 late; C = 1 (pane [5000, 10000) is open from offset 1). Owner 2 starts empty at
 * C: its copy of the closed pane holds offset 2 only, a pure re-read (no conflict), and it
 * reads the record that closed the pane (offset 3) before offset 4, which it finds late
 * too. A record owner 2 misjudges must lie before the record that moved owner 1's
 * watermark past it, which owner 1 read (and dead-lettered) before it committed C. */
static void test_fresh_start_out_of_order_exact(void **s) {
    (void)s;
    sent_t t;
    sent_init(&t);
    np_partstate_t *w1 = owner(), *w2 = owner();
    const int64_t ts[5] = {1000, 6000, 4500, 7500, 3000};
    const np_pane_add_result_t want[5] = {NP_PANE_ADDED, NP_PANE_ADDED, NP_PANE_ADDED, NP_PANE_ADDED, NP_PANE_LATE};
    for (int64_t o = 0; o < 5; o++) assert_int_equal(take(w1, ts[o], o, &t), want[o]);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.r[0], NP_MERGE_OK);
    assert_int_equal(t.close[0], 4);
    int64_t c = np_partstate_safe_offset(w1);
    assert_int_equal(c, 1);
    for (int64_t o = c; o < 5; o++) assert_int_equal(take(w2, ts[o], o, &t), want[o]);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.r[1], NP_MERGE_DUPLICATE);
    assert_int_equal(t.end[1], 3);
    assert_int_equal(t.conflict[1], -1);
    np_partstate_destroy(&w1);
    np_partstate_destroy(&w2);
    sent_free(&t);
}

/* Published panes in which the partition had no partial: any record of a copy is lost.
 * Partials without offsets (older workers) and window-only ones are never conflicting. */
static void test_conflict_rules(void **s) {
    (void)s;
    np_merge_t *m = np_merge_new(&CFG);
    np_merge_set_partitions(m, 1);
    Netpulse__Partial p = NETPULSE__PARTIAL__INIT;
    p.partition = 0;
    p.pane_ms = 5000;
    p.pane_start_ms = 5000;
    p.records = 3;
    p.close_offset = 10;
    p.records_end_offset = 9;
    assert_int_equal(np_merge_add_partial(m, &p), NP_MERGE_OK);
    progress(m, 0, 20000, 20000, false);
    out_t o = {0};
    assert_int_equal(np_merge_finalize(m, 10, collect, &o), 3); /* 5000, 10000, 15000 */
    p.pane_start_ms = 10000; /* published without a partial of partition 0 */
    p.records_end_offset = 4;
    assert_int_equal(np_merge_add_partial(m, &p), NP_MERGE_TOO_LATE);
    assert_int_equal(np_merge_conflict_offset(m, &p), 0);
    p.pane_start_ms = 5000;
    assert_int_equal(np_merge_conflict_offset(m, &p), -1); /* within the merged copy */
    p.records_end_offset = 11;
    assert_int_equal(np_merge_conflict_offset(m, &p), 10);
    p.records_end_offset = 0; /* a worker from before the offsets */
    assert_int_equal(np_merge_conflict_offset(m, &p), -1);
    p.pane_start_ms = 0;      /* published before anything of partition 0 was seen */
    p.records_end_offset = 11;
    np_merge_t *fresh = np_merge_new(&CFG);
    np_merge_set_next_emit(fresh, 20000); /* as restored after a restart */
    assert_int_equal(np_merge_add_partial(fresh, &p), NP_MERGE_TOO_LATE);
    assert_int_equal(np_merge_conflict_offset(fresh, &p), -1); /* cannot be told: not counted */
    np_merge_stats_t st;
    np_merge_get_stats(m, &st);
    assert_int_equal(st.conflicting, 1);
    np_merge_get_stats(fresh, &st);
    assert_int_equal(st.conflicting, 0);
    np_merge_destroy(&fresh);
    np_merge_destroy(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_only_when_all_partitions_pass),
        cmocka_unit_test(test_empty_windows_and_gaps),
        cmocka_unit_test(test_max_emit_backpressure),
        cmocka_unit_test(test_bad_and_full),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_global_watermark),
        cmocka_unit_test(test_table_cap_evictions_counted),
        cmocka_unit_test(test_rebuilt_copy_of_merged_pane),
        cmocka_unit_test(test_rebuilt_copy_of_published_pane),
        cmocka_unit_test(test_fresh_start_out_of_order_exact),
        cmocka_unit_test(test_conflict_rules),
        cmocka_unit_test(test_swap_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
