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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_only_when_all_partitions_pass),
        cmocka_unit_test(test_empty_windows_and_gaps),
        cmocka_unit_test(test_max_emit_backpressure),
        cmocka_unit_test(test_bad_and_full),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_global_watermark),
        cmocka_unit_test(test_table_cap_evictions_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
