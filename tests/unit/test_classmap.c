/* Unit tests for np_classmap (bounded per-destination NSL-KDD class counts) and its path
 * through the pipeline's cores: panes (np_partstate_add_class), partials, checkpoints, the
 * coordinator's merge, window JSON and the intrusion detector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "np_ckpt.h"
#include "np_classmap.h"
#include "np_detect.h"
#include "np_merge.h"
#include "np_partial.h"
#include "np_result.h"
#include "np_window.h"
#include "test_ip4.h"


static const np_classcount_t *find(const np_classmap_t *m, const np_ip_t *ip) {
    for (size_t i = 0; i < np_classmap_count(m); i++) {
        const np_ip_t *e;
        const np_classcount_t *c;
        np_classmap_entry(m, i, &e, &c);
        if (memcmp(e->b, ip->b, 16) == 0) return c;
    }
    return NULL;
}

static void test_counts_eviction_clear(void **s) {
    (void)s;
    np_classmap_t *m = np_classmap_new(2);
    np_ip_t a = ip4(1), b = ip4(2), c = ip4(3);
    assert_int_equal(np_classmap_add(m, &a, 1, 0.9), 0);
    assert_int_equal(np_classmap_add(m, &a, 1, 0.8), 0);
    assert_int_equal(np_classmap_add(m, &b, 0, 0.5), 0);
    assert_int_equal(np_classmap_add(m, &c, 4, 1.0), 1); /* full: to `other`, counted */
    assert_int_equal(np_classmap_add(m, NULL, 2, 0.25), 0); /* unknown destination: `other`, not evicted */
    assert_int_equal(np_classmap_count(m), 2);
    assert_int_equal(np_classmap_evicted(m), 1);
    const np_classcount_t *ca = find(m, &a);
    assert_non_null(ca);
    assert_int_equal(ca->n[1], 2);
    assert_int_equal(ca->conf[1], 1700000);
    assert_int_equal(np_classmap_other(m)->n[4], 1);
    assert_int_equal(np_classmap_other(m)->n[2], 1);
    assert_int_equal(np_classcount_sum(np_classmap_total(m)), 5); /* totals exact whatever was evicted */
    np_classmap_clear(m);
    assert_true(np_classmap_empty(m));
    assert_int_equal(np_classmap_count(m), 0);
    assert_int_equal(np_classmap_evicted(m), 0);
    assert_null(find(m, &a));
    assert_int_equal(np_classmap_add(m, &c, 3, 0.1), 0); /* room again after clear */
    np_classmap_destroy(&m);
    assert_null(m);
}

static void test_many_destinations(void **s) {
    (void)s;
    np_classmap_t *m = np_classmap_new(1000);
    for (int round = 0; round < 3; round++) {
        for (uint32_t i = 0; i < 1500; i++) {
            np_ip_t ip = ip4(i * 7919);
            np_classmap_add(m, &ip, (int)(i % 5), 0.5);
        }
        assert_int_equal(np_classmap_count(m), 1000);
        assert_int_equal(np_classmap_evicted(m), 500);
        np_ip_t ip = ip4(999 * 7919);
        assert_int_equal(find(m, &ip)->n[999 % 5], 1);
        np_classmap_clear(m);
    }
    np_classmap_destroy(&m);
}

typedef struct {
    uint8_t *buf[8];
    size_t len[8];
    int n;
} sink_t;

static void keep_partial(void *ctx, np_partstate_t *ps, const np_pane_t *pane, uint64_t late) {
    sink_t *k = ctx;
    np_partial_enc_t e;
    np_partial_enc_init(&e);
    const uint8_t *out;
    size_t len;
    assert_int_equal(np_partial_encode(&e, "w", ps->partition, pane, ps->cfg.pane_ms, late, &out, &len), 0);
    k->buf[k->n] = malloc(len);
    memcpy(k->buf[k->n], out, len);
    k->len[k->n++] = len;
    np_partial_enc_free(&e);
}

static np_pane_config_t kcfg(void) {
    np_pane_config_t c = {.pane_ms = 5000, .lateness_ms = 0, .max_open_panes = 4, .max_sources = 1,
                          .max_class_dests = 16};
    return c;
}

/* Panes close by event time, late records are refused, and a closed pane's partial carries
 * its class table; a checkpoint taken with a pane open restores it exactly. */
static void test_pane_partial_checkpoint(void **s) {
    (void)s;
    np_pane_config_t cfg = kcfg();
    np_partstate_t *ps = np_partstate_new(7, &cfg);
    sink_t k = {0};
    np_ip_t a = ip4(10), b = ip4(11);
    int64_t pane;
    assert_int_equal(np_partstate_add_class(ps, 1000, &a, 1, 0.75, 0, keep_partial, &k, &pane), NP_PANE_ADDED);
    assert_int_equal(np_partstate_add_class(ps, 2000, &a, 1, 0.25, 1, keep_partial, &k, &pane), NP_PANE_ADDED);
    assert_int_equal(np_partstate_add_class(ps, 3000, &b, 0, 1.0, 2, keep_partial, &k, &pane), NP_PANE_ADDED);
    assert_int_equal(np_partstate_add_class(ps, 6000, &b, 3, 0.5, 3, keep_partial, &k, &pane), NP_PANE_ADDED);
    assert_int_equal(k.n, 1); /* the first pane closed when 6000 moved the watermark */
    assert_int_equal(np_partstate_add_class(ps, 4000, &b, 3, 0.5, 4, keep_partial, &k, &pane), NP_PANE_LATE);
    assert_int_equal(pane, 0);

    Netpulse__WorkerMsg *m = netpulse__worker_msg__unpack(NULL, k.len[0], k.buf[0]);
    assert_non_null(m);
    const Netpulse__Partial *p = m->partial;
    assert_int_equal(p->records, 0); /* connections are not flow records */
    assert_non_null(p->classes);
    assert_int_equal(p->classes->total->counts[1], 2);
    assert_int_equal(p->classes->total->counts[0], 1);
    assert_int_equal(p->classes->total->confidence[1], 1000000);
    assert_int_equal(p->classes->n_dests, 2);

    /* The coordinator: totals and per destination, a duplicate not counted twice. */
    np_merge_config_t mc = {.pane_ms = 5000, .max_panes = 8, .max_sources = 16, .max_class_dests = 1};
    np_merge_t *mg = np_merge_new(&mc);
    np_merge_set_partitions(mg, 8);
    assert_int_equal(np_merge_add_partial(mg, p), NP_MERGE_OK);
    assert_int_equal(np_merge_add_partial(mg, p), NP_MERGE_DUPLICATE);
    np_merge_stats_t st;
    np_merge_get_stats(mg, &st);
    assert_int_equal(st.class_dests_evicted, 1); /* room for one destination of two */
    netpulse__worker_msg__free_unpacked(m, NULL);
    np_merge_destroy(&mg);

    /* Checkpoint with pane 5000 open: restored with its class counts. */
    uint8_t *ck;
    size_t cklen;
    assert_int_equal(np_ckpt_encode(ps, "network-connections", 3, NULL, NULL, NULL, 0, 0, &ck, &cklen), 0);
    np_partstate_t *rs = NULL;
    np_outbox_t ob;
    char err[256];
    assert_int_equal(np_ckpt_decode(ck, cklen, &cfg, "network-connections", 7, &rs, &ob, NULL, NULL, NULL, 0, err,
                                    sizeof(err)),
                     0);
    np_pane_t *rp = NULL;
    for (size_t i = 0; i < rs->cfg.max_open_panes; i++)
        if (rs->ring[i].start_ms == 5000) rp = &rs->ring[i];
    assert_non_null(rp);
    assert_int_equal(np_classmap_total(rp->classes)->n[3], 1);
    assert_int_equal(find(rp->classes, &b)->conf[3], 500000);
    assert_int_equal(rs->late_total, 1);
    /* A flow partition's configuration has no class table: such a checkpoint is refused as damaged. */
    np_pane_config_t flow = cfg;
    flow.max_class_dests = 0;
    np_partstate_t *fs = NULL;
    assert_int_equal(np_ckpt_decode(ck, cklen, &flow, "network-connections", 7, &fs, &ob, NULL, NULL, NULL, 0, err,
                                    sizeof(err)),
                     NP_CKPT_CORRUPT);
    assert_non_null(strstr(err, "class counts"));
    free(ck);
    np_outbox_free(&ob);
    np_partstate_destroy(&rs);
    np_partstate_destroy(&ps);
    for (int i = 0; i < k.n; i++) free(k.buf[i]);
}

static np_gpane_t gpane_with(np_classmap_t *m) {
    np_gpane_t g;
    memset(&g, 0, sizeof(g));
    g.start_ms = 100000;
    g.sources = np_srcmap_new(4, NULL);
    g.classes = m;
    g.class_total = *np_classmap_total(m);
    return g;
}

/* The detector: one alert per destination (its most frequent attack class), above both
 * thresholds, the largest first within the budget, whatever order the table holds them in. */
static void test_intrusion_alerts(void **s) {
    (void)s;
    np_classmap_t *m = np_classmap_new(64);
    np_ip_t a = ip4(0x0a140001), b = ip4(0x0a140002), c = ip4(0x0a140003), d = ip4(0x0a140004);
    for (int i = 0; i < 30; i++) np_classmap_add(m, &a, 1, 0.9);  /* 30 DoS of 40: alert */
    for (int i = 0; i < 10; i++) np_classmap_add(m, &a, 0, 0.6);
    for (int i = 0; i < 19; i++) np_classmap_add(m, &b, 2, 1.0);  /* 19 Probe: below min */
    for (int i = 0; i < 25; i++) np_classmap_add(m, &c, 3, 0.5);  /* 25 R2L of 225: share too low */
    for (int i = 0; i < 200; i++) np_classmap_add(m, &c, 0, 0.5);
    for (int i = 0; i < 50; i++) np_classmap_add(m, &d, 4, 0.8);  /* 50 U2R + 21 DoS: U2R wins */
    for (int i = 0; i < 21; i++) np_classmap_add(m, &d, 1, 0.8);
    np_gpane_t g = gpane_with(m);

    np_detect_config_t cfg;
    np_detect_config_default(&cfg, 5000);
    np_detect_t *det = np_detect_new(&cfg);
    np_anomaly_t out[64];
    np_forecast_t fc;
    size_t n = np_detect_pane(det, &g, out, &fc);
    size_t found = 0;
    np_anomaly_t *first = NULL;
    for (size_t i = 0; i < n; i++) {
        if (out[i].kind != NP_AN_INTRUSION) continue;
        if (!first) first = &out[i];
        found++;
    }
    assert_int_equal(found, 2);
    assert_string_equal(first->entity, "10.20.0.4"); /* 50 before 30 */
    assert_int_equal(first->cls, 4);
    assert_int_equal(first->class_counts[1], 21);
    assert_true(first->confidence > 0.7999 && first->confidence < 0.8001);

    np_strbuf_t sb = {0};
    char id[NP_RESULT_ID_MAX];
    np_result_anomaly_json(&sb, first, id, sizeof(id));
    assert_string_equal(id, "anomaly:intrusion:10.20.0.4:100000");
    assert_non_null(strstr(sb.buf, "\"class\":\"U2R\""));
    assert_non_null(strstr(sb.buf, "\"counts\":{\"normal\":0,\"DoS\":21,\"Probe\":0,\"R2L\":0,\"U2R\":50}"));
    assert_non_null(strstr(sb.buf, "50 of 71 connections to 10.20.0.4 classified U2R (mean confidence 0.80)"));
    np_strbuf_reset(&sb);
    np_result_window_json(&sb, &g, 5000, id, sizeof(id));
    assert_non_null(strstr(sb.buf, "\"classes\":{\"normal\":210,\"DoS\":51,\"Probe\":19,\"R2L\":25,\"U2R\":50}"));
    np_detect_destroy(&det);

    /* A budget of one alert keeps the largest and counts the other as suppressed. */
    cfg.max_alerts = 1;
    det = np_detect_new(&cfg);
    n = np_detect_pane(det, &g, out, &fc);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].kind, NP_AN_INTRUSION);
    assert_string_equal(out[0].entity, "10.20.0.4");
    np_detect_stats_t st;
    np_detect_get_stats(det, &st);
    assert_int_equal(st.suppressed, 1);
    assert_int_equal(st.by_kind[NP_AN_INTRUSION], 1);
    np_detect_destroy(&det);
    np_strbuf_free(&sb);
    np_srcmap_destroy(&g.sources);
    np_classmap_destroy(&m);
}

/* A final pane's class totals survive the coordinator's persistence of final panes (the
 * sliding window restored after a restart), and sliding windows sum them. */
static void test_final_pane_and_window(void **s) {
    (void)s;
    np_classmap_t *m = np_classmap_new(4);
    np_ip_t a = ip4(1);
    for (int i = 0; i < 7; i++) np_classmap_add(m, &a, 2, 0.5);
    np_gpane_t g = gpane_with(m);
    g.seen = calloc(1, NP_MERGE_MAX_PARTITIONS / 8);
    np_partial_enc_t e;
    np_partial_enc_init(&e);
    const uint8_t *buf;
    size_t len;
    assert_int_equal(np_partial_encode_gpane(&e, &g, 5000, &buf, &len), 0);
    np_gpane_t r;
    memset(&r, 0, sizeof(r));
    r.seen = calloc(1, NP_MERGE_MAX_PARTITIONS / 8);
    r.sources = np_srcmap_new(4, NULL);
    assert_int_equal(np_partial_decode_gpane(buf, len, &r, NULL), 0);
    assert_int_equal(r.class_total.n[2], 7);
    assert_int_equal(r.class_total.conf[2], 3500000);

    np_window_t *w = np_window_new(5000, 10000, 4, NULL);
    r.start_ms = 0;
    assert_null(np_window_push(w, &r));
    r.start_ms = 5000;
    const np_gpane_t *win = np_window_push(w, &r);
    assert_non_null(win);
    assert_int_equal(win->class_total.n[2], 14);
    np_window_destroy(&w);
    np_partial_enc_free(&e);
    free(g.seen);
    free(r.seen);
    np_srcmap_destroy(&r.sources);
    np_srcmap_destroy(&g.sources);
    np_classmap_destroy(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_eviction_clear),
        cmocka_unit_test(test_many_destinations),
        cmocka_unit_test(test_pane_partial_checkpoint),
        cmocka_unit_test(test_intrusion_alerts),
        cmocka_unit_test(test_final_pane_and_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
