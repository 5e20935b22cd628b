/* Unit tests for np_view: the view language (errors name the problem), filter semantics,
 * group keys and their text, the bounded group table, the partial/checkpoint round trip of
 * view tables through the merge, and the volume detector on a view's series. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_ckpt.h"
#include "np_detect.h"
#include "np_merge.h"
#include "np_partial.h"
#include "np_view.h"

static np_record_t rec(const char *src, const char *dst, uint8_t proto, uint16_t sport, uint16_t dport, uint64_t bytes) {
    np_record_t r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(np_ip_parse(src, strlen(src), &r.src), 0);
    assert_int_equal(np_ip_parse(dst, strlen(dst), &r.dst), 0);
    r.proto = proto;
    r.src_port = sport;
    r.dst_port = dport;
    r.bytes = bytes;
    r.packets = 1 + bytes / 1000;
    return r;
}

static np_viewset_t VS;

static const np_view_t *parse1(const char *spec) {
    char err[256] = "";
    if (np_viewset_parse(&VS, spec, err, sizeof(err)) != 0) fail_msg("parse '%s': %s", spec, err);
    assert_int_equal(VS.n, 1);
    return &VS.v[0];
}

static void expect_error(const char *spec, const char *needle) {
    char err[256] = "";
    assert_int_equal(np_viewset_parse(&VS, spec, err, sizeof(err)), -1);
    if (!strstr(err, needle)) fail_msg("'%s': error '%s' lacks '%s'", spec, err, needle);
}

static void test_parse_errors(void **st) {
    (void)st;
    expect_error("web proto=tcp", "expected NAME: FILTER");
    expect_error("w: colour=red", "unknown field 'colour'");
    expect_error("w: proto=tcpx", "proto: 'tcpx'");
    expect_error("w: dport=70000", "dport: '70000'");
    expect_error("w: dport=90-80", "range");
    expect_error("w: src=10.0.0.300/8", "src: '10.0.0.300/8' is not an address");
    expect_error("w: (proto=tcp", "')' expected");
    expect_error("w: proto=tcp dport=80", "unexpected 'dport=80'");
    expect_error("w: proto=tcp and", "a term is missing");
    expect_error("w: bytes<0", "matches nothing");
    expect_error("w: bytes>=1,2", "takes one value");
    expect_error("w: src<10.0.0.0/8", "= or != only");
    expect_error("w: proto=tcp by colour", "unknown group key 'colour'");
    expect_error("w: proto=tcp by dst/33", "prefixes");
    expect_error("w: by", "group key is missing");
    expect_error("w: proto=tcp; w: proto=udp", "defined twice");
    expect_error("a b: proto=tcp", "view name");
    expect_error("w: proto=", "value is missing");
    char err[256];
    assert_int_equal(np_viewset_parse(&VS, "", err, sizeof(err)), 0);
    assert_int_equal(VS.n, 0);
    assert_int_equal(np_viewset_parse(&VS, " ; ", err, sizeof(err)), 0);
    assert_int_equal(VS.n, 0);
    assert_int_equal(np_viewset_parse(&VS, "a: proto=tcp; b: by dport; c:", err, sizeof(err)), 0);
    assert_int_equal(VS.n, 3);
    assert_int_equal(np_viewset_find(&VS, "b", 1), 1);
    assert_int_equal(np_viewset_find(&VS, "x", 1), -1);
}

static void test_filter(void **st) {
    (void)st;
    np_record_t web = rec("10.0.0.1", "192.168.1.5", NP_PROTO_TCP, 51000, 443, 1500);
    np_record_t dns = rec("10.0.0.2", "8.8.8.8", NP_PROTO_UDP, 53000, 53, 90);
    np_record_t dnsr = rec("8.8.8.8", "10.0.0.2", NP_PROTO_UDP, 53, 53000, 200);
    np_record_t v6 = rec("2001:db8::1", "2001:db8:1::9", NP_PROTO_TCP, 40000, 8080, 5000000);
    np_record_t ping = rec("10.1.0.1", "10.2.0.1", NP_PROTO_ICMP, 0, 0, 64);

    const np_view_t *v = parse1("w: proto=tcp and dport=80,443,8000-8999");
    assert_true(np_view_match(v, &web));
    assert_true(np_view_match(v, &v6));
    assert_false(np_view_match(v, &dns));
    /* not > and > or: udp or (tcp and not 443) */
    v = parse1("w: proto=udp or proto=tcp and not dport=443");
    assert_true(np_view_match(v, &dns));
    assert_false(np_view_match(v, &web));
    assert_true(np_view_match(v, &v6));
    v = parse1("w: (proto=udp or proto=tcp) and not dport=443");
    assert_true(np_view_match(v, &dns));
    assert_false(np_view_match(v, &web));
    v = parse1("dns: proto = udp and port = 53");
    assert_true(np_view_match(v, &dns));
    assert_true(np_view_match(v, &dnsr));
    assert_false(np_view_match(v, &web));
    v = parse1("w: src=10.0.0.0/8,2001:db8::/32 and dst!=192.168.0.0/16");
    assert_false(np_view_match(v, &web));
    assert_true(np_view_match(v, &dns));
    assert_true(np_view_match(v, &v6));
    assert_false(np_view_match(v, &dnsr));
    v = parse1("big: bytes>=1000000 or packets>1000");
    assert_true(np_view_match(v, &v6));
    assert_false(np_view_match(v, &web));
    v = parse1("small: bytes<100");
    assert_true(np_view_match(v, &dns));
    assert_true(np_view_match(v, &ping));
    assert_false(np_view_match(v, &dnsr));
    v = parse1("w: proto!=tcp,udp");
    assert_true(np_view_match(v, &ping));
    assert_false(np_view_match(v, &web));
    v = parse1("all:");
    assert_true(np_view_match(v, &ping));
    v = parse1("w: proto=1");
    assert_true(np_view_match(v, &ping));
}

static void test_keys(void **st) {
    (void)st;
    np_record_t web = rec("10.0.0.1", "192.168.1.5", NP_PROTO_TCP, 51000, 443, 1500);
    np_record_t web2 = rec("10.0.0.7", "192.168.1.200", NP_PROTO_TCP, 51001, 443, 1500);
    np_record_t v6 = rec("2001:db8::1", "2001:db8:1:2:3::9", 47, 40000, 8080, 5000);
    const np_view_t *v = parse1("w: by proto, dport, dst/24");
    np_gkey_t a, b, c;
    np_view_key(v, &web, &a);
    np_view_key(v, &web2, &b);
    assert_memory_equal(&a, &b, sizeof(a)); /* same /24, same port: one group */
    char buf[256];
    np_view_group_format(v, &a, buf, sizeof(buf));
    assert_string_equal(buf, "\"proto\":\"tcp\",\"dport\":443,\"dst\":\"192.168.1.0/24\"");
    np_view_key(v, &v6, &c);
    np_view_group_format(v, &c, buf, sizeof(buf));
    assert_string_equal(buf, "\"proto\":47,\"dport\":8080,\"dst\":\"2001:db8:1:2::/64\"");
    v = parse1("w: by src, dst/16/48, sport");
    np_view_key(v, &web, &a);
    np_view_group_format(v, &a, buf, sizeof(buf));
    assert_string_equal(buf, "\"sport\":51000,\"src\":\"10.0.0.1\",\"dst\":\"192.168.0.0/16\"");
    np_view_key(v, &v6, &c);
    np_view_group_format(v, &c, buf, sizeof(buf));
    assert_string_equal(buf, "\"sport\":40000,\"src\":\"2001:db8::1\",\"dst\":\"2001:db8:1::/48\"");
    uint8_t wire[NP_GKEY_WIRE];
    np_gkey_encode(&c, wire);
    assert_int_equal(np_gkey_decode(wire, sizeof(wire), &b), 0);
    assert_memory_equal(&b, &c, sizeof(b));
    assert_int_equal(np_gkey_decode(wire, 5, &b), -1);
    v = parse1("w: proto=tcp");
    np_view_key(v, &web, &a);
    np_view_group_format(v, &a, buf, sizeof(buf));
    assert_string_equal(buf, "");
}

static void test_gtab(void **st) {
    (void)st;
    np_gtab_t *t = np_gtab_new(100);
    assert_non_null(t);
    np_gkey_t k;
    for (int round = 0; round < 2; round++) { /* the second round reuses the cleared table */
        uint64_t sum = 0;
        for (int i = 0; i < 150; i++) {
            memset(&k, 0, sizeof(k));
            k.dport = (uint16_t)i;
            sum += (uint64_t)i;
            assert_int_equal(np_gtab_add(t, &k, 1, (uint64_t)i, 1), i < 100 ? 0 : 1);
        }
        k.dport = 5;
        assert_int_equal(np_gtab_add(t, &k, 2, 1000, 2), 0); /* existing group still takes counts */
        assert_int_equal(np_gtab_count(t), 100);
        assert_int_equal(np_gtab_evicted(t), 50);
        uint64_t r, b, p;
        np_gtab_totals(t, &r, &b, &p);
        assert_int_equal(r, 152);
        assert_int_equal(b, sum + 1000);
        assert_int_equal(np_gtab_other(t)->records, 50);
        np_gagg_t top[3];
        assert_int_equal(np_gtab_top(t, top, 3), 3);
        assert_int_equal(top[0].key.dport, 5);
        assert_int_equal(top[0].bytes, 1005);
        assert_int_equal(top[1].key.dport, 99);
        assert_int_equal(top[2].key.dport, 98);
        np_gtab_clear(t);
        assert_int_equal(np_gtab_count(t), 0);
        np_gtab_totals(t, &r, &b, &p);
        assert_int_equal(r, 0);
    }
    np_gtab_destroy(&t);
}

typedef struct merged {
    uint64_t web, dns;
    size_t groups;
} merged_t;

static void emit(void *ctx, const np_gpane_t *gp) {
    merged_t *s = ctx;
    uint64_t b, p;
    assert_int_equal(gp->nviews, 2);
    np_gtab_totals(gp->views[0].groups, &s->web, &b, &p);
    np_gtab_totals(gp->views[1].groups, &s->dns, &b, &p);
    s->groups = np_gtab_count(gp->views[0].groups);
}

/* Two partitions' panes -> partials -> merge: the merged view tables are the union, and a
 * checkpoint of a pane restores its view tables. */
static void test_merge_and_checkpoint(void **st) {
    (void)st;
    char err[256];
    assert_int_equal(np_viewset_parse(&VS, "web: proto=tcp by dst/24; dns: port=53", err, sizeof(err)), 0);
    np_pane_config_t pc = {.pane_ms = 5000, .lateness_ms = 0, .max_open_panes = 4, .max_sources = 1000,
                           .views = &VS, .max_groups = 64};
    np_partstate_t *ps[2] = {np_partstate_new(0, &pc), np_partstate_new(1, &pc)};
    np_merge_config_t mc = {.pane_ms = 5000, .max_panes = 4, .max_sources = 1000, .views = &VS, .max_groups = 64};
    np_merge_t *m = np_merge_new(&mc);
    assert_non_null(m);
    for (int i = 0; i < 40; i++) {
        char dst[32];
        snprintf(dst, sizeof(dst), "192.168.%d.%d", i % 4, i);
        np_record_t r = rec("10.0.0.1", dst, NP_PROTO_TCP, 50000, 443, 100);
        r.ts_ms = 1000;
        assert_int_equal(np_partstate_add(ps[i % 2], &r, i, NULL, NULL, NULL), NP_PANE_ADDED);
    }
    np_record_t q = rec("10.0.0.2", "8.8.8.8", NP_PROTO_UDP, 50000, 53, 80);
    q.ts_ms = 1200;
    assert_int_equal(np_partstate_add(ps[0], &q, 100, NULL, NULL, NULL), NP_PANE_ADDED);

    /* checkpoint partition 0 and restore it */
    uint8_t *buf;
    size_t len;
    np_outbox_t ob;
    np_outbox_init(&ob);
    assert_int_equal(np_ckpt_encode(ps[0], "t", 1, &ob, NULL, NULL, 0, 0, &buf, &len), 0);
    np_partstate_t *back = NULL;
    np_outbox_t ob2;
    int64_t epoch;
    if (np_ckpt_decode(buf, len, &pc, "t", 0, &back, &ob2, &epoch, NULL, NULL, 0, err, sizeof(err)) != 0)
        fail_msg("checkpoint: %s", err);
    free(buf);
    np_pane_t *p0 = NULL, *b0 = NULL;
    for (size_t i = 0; i < pc.max_open_panes; i++) {
        if (ps[0]->ring[i].start_ms == 0) p0 = &ps[0]->ring[i];
        if (back->ring[i].start_ms == 0) b0 = &back->ring[i];
    }
    assert_non_null(p0);
    assert_non_null(b0);
    for (size_t vi = 0; vi < 2; vi++) {
        uint64_t r1, by1, pk1, r2, by2, pk2;
        np_gtab_totals(p0->views[vi].groups, &r1, &by1, &pk1);
        np_gtab_totals(b0->views[vi].groups, &r2, &by2, &pk2);
        assert_int_equal(r1, r2);
        assert_int_equal(by1, by2);
        assert_int_equal(np_gtab_count(p0->views[vi].groups), np_gtab_count(b0->views[vi].groups));
    }

    np_partial_enc_t e;
    np_partial_enc_init(&e);
    for (int k = 0; k < 2; k++) {
        np_pane_t *p = NULL;
        for (size_t i = 0; i < pc.max_open_panes; i++)
            if (ps[k]->ring[i].start_ms == 0) p = &ps[k]->ring[i];
        const uint8_t *out;
        size_t olen;
        assert_int_equal(np_partial_encode(&e, "w", k, p, 5000, 0, &out, &olen), 0);
        Netpulse__WorkerMsg *wm = netpulse__worker_msg__unpack(NULL, olen, out);
        assert_non_null(wm);
        assert_int_equal(wm->partial->n_views, k == 0 ? 2 : 1); /* views without records are left out */
        assert_int_equal(np_merge_add_partial(m, wm->partial), NP_MERGE_OK);
        netpulse__worker_msg__free_unpacked(wm, NULL);
    }
    np_partial_enc_free(&e);
    np_merge_stats_t ms;
    np_merge_get_stats(m, &ms);
    assert_int_equal(ms.views_unknown, 0);

    /* a coordinator without the dns view counts it as unknown */
    np_viewset_t only_web;
    assert_int_equal(np_viewset_parse(&only_web, "web: proto=tcp by dst/24", err, sizeof(err)), 0);
    np_viewagg_t *a = np_viewaggs_new(&only_web, 8);
    np_partial_enc_init(&e);
    Netpulse__ViewAgg **vv;
    long nv = np_partial_fill_views(&e.views, p0->views, p0->nviews, &vv);
    assert_int_equal(nv, 2);
    assert_int_equal(np_partial_merge_views(a, &only_web, vv, (size_t)nv), 1);
    uint64_t r, b, pk;
    np_gtab_totals(a[0].groups, &r, &b, &pk);
    assert_int_equal(r, 20);
    assert_int_equal(np_gtab_count(a[0].groups), 2); /* partition 0 saw 192.168.0.x and 192.168.2.x */
    np_viewaggs_destroy(&a, only_web.n);
    np_partial_enc_free(&e);

    np_partial_enc_init(&e);
    nv = np_partial_fill_views(&e.views, p0->views, p0->nviews, &vv);
    a = np_viewaggs_new(&only_web, 1); /* a table of 1 group folds the other into `other` */
    np_partial_merge_views(a, &only_web, vv, (size_t)nv);
    np_gtab_totals(a[0].groups, &r, &b, &pk);
    assert_int_equal(r, 20);
    assert_int_equal(np_gtab_count(a[0].groups), 1);
    assert_int_equal(np_gtab_evicted(a[0].groups), 1);
    assert_int_equal(np_gtab_other(a[0].groups)->records, 10);
    np_viewaggs_destroy(&a, only_web.n);
    np_partial_enc_free(&e);

    /* the merged pane: web has 40 records in 4 groups, dns 1 */
    merged_t seen = {0, 0, 0};
    np_merge_progress(m, &(Netpulse__PartitionProgress){.partition = 0, .closed_through_ms = 5000, .has_data = 1}, 0);
    np_merge_progress(m, &(Netpulse__PartitionProgress){.partition = 1, .closed_through_ms = 5000, .has_data = 1}, 0);
    np_merge_set_partitions(m, 2);
    assert_int_equal(np_merge_finalize(m, 10, emit, &seen), 1);
    assert_int_equal(seen.web, 40);
    assert_int_equal(seen.dns, 1);
    assert_int_equal(seen.groups, 4);

    np_outbox_free(&ob);
    np_outbox_free(&ob2);
    np_partstate_destroy(&back);
    np_partstate_destroy(&ps[0]);
    np_partstate_destroy(&ps[1]);
    np_merge_destroy(&m);
}

/* A spike confined to one view: the view alerts, the global series (10x larger) does not. */
static void test_view_detection(void **st) {
    (void)st;
    char err[256];
    assert_int_equal(np_viewset_parse(&VS, "dns: port=53", err, sizeof(err)), 0);
    np_detect_config_t cfg;
    np_detect_config_default(&cfg, 5000);
    cfg.views = &VS;
    np_detect_t *d = np_detect_new(&cfg);
    assert_non_null(d);
    np_gpane_t g;
    memset(&g, 0, sizeof(g));
    g.sources = np_srcmap_new(16, NULL);
    g.nviews = 1;
    g.views = np_viewaggs_new(&VS, 16);
    np_anomaly_t out[64];
    np_forecast_t fc;
    int alerts = 0;
    uint8_t *state = NULL;
    size_t state_len = 0;
    for (int i = 0; i < 60; i++) {
        g.start_ms = (int64_t)i * 5000;
        uint64_t dns = (i >= 40 && i < 44) ? 400 : 100 + (uint64_t)(i % 3);
        g.records = 2000 + (uint64_t)(i % 5) + dns;
        g.bytes = g.records * 500;
        g.packets = g.records * 2;
        g.pmix[NP_PMIX_TCP] = g.records;
        np_viewaggs_clear(g.views, 1);
        np_gkey_t k;
        memset(&k, 0, sizeof(k));
        np_gtab_add(g.views[0].groups, &k, dns, dns * 80, dns);
        if (i == 39) assert_int_equal(np_detect_state_encode(d, &state, &state_len), 0);
        size_t n = np_detect_pane(d, &g, out, &fc);
        for (size_t a = 0; a < n; a++) {
            assert_string_equal(out[a].entity, "view:dns");
            assert_int_equal(out[a].kind, NP_AN_SPIKE);
            assert_int_equal(out[a].window_start, 40 * 5000);
            assert_non_null(strstr(out[a].explanation, "in view dns"));
            alerts++;
        }
    }
    assert_int_equal(alerts, 1);
    /* restored just before the spike, a detector raises the same alert */
    np_detect_t *d2 = np_detect_new(&cfg);
    assert_int_equal(np_detect_state_decode(d2, state, state_len), 0);
    g.start_ms = 40 * 5000;
    np_viewaggs_clear(g.views, 1);
    np_gkey_t k;
    memset(&k, 0, sizeof(k));
    np_gtab_add(g.views[0].groups, &k, 400, 400 * 80, 400);
    assert_int_equal(np_detect_pane(d2, &g, out, &fc), 1);
    assert_string_equal(out[0].entity, "view:dns");
    free(state);
    np_detect_destroy(&d);
    np_detect_destroy(&d2);
    np_viewaggs_destroy(&g.views, 1);
    np_srcmap_destroy(&g.sources);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors), cmocka_unit_test(test_filter), cmocka_unit_test(test_keys),
        cmocka_unit_test(test_gtab), cmocka_unit_test(test_merge_and_checkpoint), cmocka_unit_test(test_view_detection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
