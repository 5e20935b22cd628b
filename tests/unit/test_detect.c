/* Unit tests for np_detect: CIDRs, the volume baseline with hysteresis, new sources and
 * heavy hitters against the learnt baseline, scans, DDoS fan-in over the destination table,
 * thresholds and whitelist, and that saved state resumes to the same alerts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netpulse.pb-c.h"
#include "np_detect.h"

#define PANE 5000

static np_record_t rec(const char *src, const char *dst, uint16_t dport, uint64_t bytes) {
    np_record_t r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(np_ip_parse(src, strlen(src), &r.src), 0);
    assert_int_equal(np_ip_parse(dst, strlen(dst), &r.dst), 0);
    r.dst_port = dport;
    r.proto = NP_PROTO_TCP;
    r.bytes = bytes;
    r.packets = 1 + bytes / 1000;
    return r;
}

typedef struct pane {
    np_gpane_t g;
} pane_t;

static np_hll_pool_t *POOL;

static void pane_init(pane_t *p, int64_t start) {
    memset(p, 0, sizeof(*p));
    p->g.start_ms = start;
    if (!POOL) POOL = np_hll_pool_new(NP_HLL_P_DEFAULT, 4096);
    p->g.sources = np_srcmap_new(100000, POOL);
    p->g.dests = np_srcmap_new(100000, POOL);
}

static void pane_add(pane_t *p, const np_record_t *r) {
    p->g.records++;
    p->g.bytes += r->bytes;
    p->g.packets += r->packets;
    p->g.pmix[np_pmix_bucket(r->proto)]++;
    if (r->proto == NP_PROTO_TCP || r->proto == NP_PROTO_UDP) p->g.port_hist[np_port_bucket(r->dst_port)]++;
    np_srcmap_add_record(p->g.sources, r);
    np_srcmap_add_record_dst(p->g.dests, r);
}

static void pane_free(pane_t *p) {
    np_srcmap_destroy(&p->g.sources);
    np_srcmap_destroy(&p->g.dests);
}

/* Baseline: n records from 50 sources to 20 servers, deterministic sizes. */
static void baseline(pane_t *p, int n, unsigned salt) {
    for (int i = 0; i < n; i++) {
        char s[32], d[32];
        unsigned x = (unsigned)i * 2654435761u + salt * 40503u;
        snprintf(s, sizeof(s), "10.0.0.%u", 1 + (x >> 8) % 50);
        snprintf(d, sizeof(d), "192.168.0.%u", 1 + (x >> 16) % 20);
        np_record_t r = rec(s, d, 443, 1000 + (x >> 4) % 1000);
        pane_add(p, &r);
    }
}

/* Runs one pane; returns the number of anomalies of `kind` (or all with -1). */
static size_t run(np_detect_t *d, pane_t *p, int kind, np_anomaly_t *out) {
    np_forecast_t fc;
    size_t n = np_detect_pane(d, &p->g, out, &fc), k = 0;
    for (size_t i = 0; i < n; i++)
        if (kind < 0 || (int)out[i].kind == kind) k++;
    return k;
}

static np_detect_t *mkdet(np_detect_config_t *c) {
    np_detect_config_default(c, PANE);
    c->warmup_panes = 10;
    c->learn_panes = 10;
    c->baseline_panes = 20;
    np_detect_t *d = np_detect_new(c);
    assert_non_null(d);
    return d;
}

/* Ports: a baseline on a few service ports, then one pane (same volume, same hosts) whose
 * flows spread over many ports: one entropy alert naming the port series, for the episode. */
static void test_port_entropy(void **s) {
    (void)s;
    np_detect_config_t c;
    np_detect_t *d = mkdet(&c);
    np_anomaly_t out[64];
    static const uint16_t svc[] = {443, 80, 53, 22, 8080};
    int alerts = 0;
    for (int i = 0; i < 40; i++) {
        pane_t p;
        pane_init(&p, (int64_t)i * PANE);
        for (int k = 0; k < 600; k++) {
            unsigned x = (unsigned)k * 2654435761u + (unsigned)i * 40503u;
            char src[32], dst[32];
            snprintf(src, sizeof(src), "10.0.0.%u", 1 + (x >> 8) % 50);
            snprintf(dst, sizeof(dst), "192.168.0.%u", 1 + (x >> 16) % 20);
            bool spread = i >= 30 && i < 33 && k % 2 == 0;
            np_record_t r = rec(src, dst, spread ? (uint16_t)(1024 + (x >> 5) % 60000) : svc[(x >> 12) % 5],
                                1000 + (x >> 4) % 1000);
            pane_add(&p, &r);
        }
        np_forecast_t fc;
        size_t n = np_detect_pane(d, &p.g, out, &fc);
        for (size_t a = 0; a < n; a++) {
            if (out[a].kind != NP_AN_ENTROPY) continue;
            assert_int_equal(i, 30);
            assert_string_equal(out[a].metric, "dst_port_entropy");
            assert_non_null(strstr(out[a].explanation, "spread over more ports"));
            alerts++;
        }
        pane_free(&p);
    }
    assert_int_equal(alerts, 1);
    np_detect_destroy(&d);
}

static void test_spike_one_alert_per_episode(void **s) {
    (void)s;
    np_detect_config_t c;
    np_detect_t *d = mkdet(&c);
    np_anomaly_t out[64];
    size_t spikes = 0, drops = 0, before = 0;
    for (int i = 0; i < 60; i++) {
        pane_t p;
        pane_init(&p, (int64_t)i * PANE);
        bool spike = i >= 30 && i < 36, drop = i >= 45 && i < 48;
        baseline(&p, spike ? 3000 : drop ? 300 : 1000, (unsigned)i);
        size_t sp = run(d, &p, NP_AN_SPIKE, out);
        if (i < 30) before += sp;
        spikes += sp;
        pane_free(&p);
    }
    np_detect_stats_t st;
    np_detect_get_stats(d, &st);
    drops = st.by_kind[NP_AN_DROP];
    assert_int_equal(before, 0);   /* a steady baseline raises nothing */
    assert_int_equal(spikes, 1);   /* six spiking panes: one alert */
    assert_int_equal(drops, 1);
    np_detect_destroy(&d);
}

/* A lasting tripling of traffic: one spike, then (after baseline_panes / 2 panes, as
 * detect.shift.ms is longer) one level_shift with a score in [0, 1], then nothing: the new
 * level is the baseline; a spike on top of it is still one. Scores are in [0, 1]. */
static void test_level_shift(void **s) {
    (void)s;
    np_detect_config_t c;
    np_detect_t *d = mkdet(&c);
    np_anomaly_t out[64];
    int spikes = 0, shifts = 0, shift_at = -1, after = 0;
    for (int i = 0; i < 90; i++) {
        pane_t p;
        pane_init(&p, (int64_t)i * PANE);
        baseline(&p, i < 30 ? 1000 : i >= 80 && i < 82 ? 9000 : 3000, (unsigned)i);
        np_forecast_t fc;
        size_t n = np_detect_pane(d, &p.g, out, &fc);
        for (size_t a = 0; a < n; a++) {
            assert_true(out[a].score >= 0 && out[a].score <= 1);
            if (out[a].kind == NP_AN_SPIKE) spikes++;
            if (out[a].kind == NP_AN_LEVEL_SHIFT) {
                shifts++;
                shift_at = i;
                assert_string_equal(out[a].entity, "global");
                assert_non_null(strstr(out[a].explanation, "new baseline"));
            }
            if (i > shift_at && shift_at >= 0 && i < 80) after++;
        }
        pane_free(&p);
    }
    assert_int_equal(shifts, 1);
    assert_int_equal(shift_at, 30 + c.baseline_panes / 2 - 1); /* bounded: baseline_panes / 2 panes */
    assert_int_equal(after, 0);
    assert_int_equal(spikes, 2); /* the change, and the spike on the new level */
    np_detect_destroy(&d);
}

static void test_sources_and_scans(void **s) {
    (void)s;
    np_detect_config_t c;
    np_detect_t *d = mkdet(&c);
    np_anomaly_t out[64];
    for (int i = 0; i < 12; i++) {
        pane_t p;
        pane_init(&p, (int64_t)i * PANE);
        baseline(&p, 1000, (unsigned)i);
        assert_int_equal(run(d, &p, -1, out), 0);
        pane_free(&p);
    }
    pane_t p;
    pane_init(&p, 12 * PANE);
    baseline(&p, 1000, 12);
    /* a new heavy source, a known source turned heavy, a host scan, a port scan, a DDoS */
    for (int i = 0; i < 10; i++) {
        np_record_t r = rec("100.64.0.1", "192.168.0.1", 443, 200000);
        pane_add(&p, &r);
    }
    for (int i = 0; i < 100; i++) {
        char dst[32];
        snprintf(dst, sizeof(dst), "172.16.0.%d", i + 1);
        np_record_t r = rec("203.0.113.5", dst, 22, 60);
        pane_add(&p, &r);
        np_record_t q = rec("203.0.113.6", "192.168.0.9", (uint16_t)(1000 + i), 60);
        pane_add(&p, &q);
    }
    for (int i = 0; i < 400; i++) {
        char src[32];
        snprintf(src, sizeof(src), "198.18.%d.%d", i / 250, 1 + i % 250);
        np_record_t r = rec(src, "192.168.0.77", 53, 80);
        pane_add(&p, &r);
    }
    size_t n = run(d, &p, -1, out);
    bool seen[NP_AN__COUNT] = {0};
    for (size_t i = 0; i < n; i++) {
        seen[out[i].kind] = true;
        if (out[i].kind == NP_AN_NEW_SOURCE) assert_string_equal(out[i].entity, "100.64.0.1");
        if (out[i].kind == NP_AN_HOST_SCAN) assert_string_equal(out[i].entity, "203.0.113.5");
        if (out[i].kind == NP_AN_PORT_SCAN) assert_string_equal(out[i].entity, "203.0.113.6");
        if (out[i].kind == NP_AN_DDOS) assert_string_equal(out[i].entity, "192.168.0.77");
        assert_true(strlen(out[i].explanation) > 20);
    }
    assert_true(seen[NP_AN_NEW_SOURCE] && seen[NP_AN_HOST_SCAN] && seen[NP_AN_PORT_SCAN] && seen[NP_AN_DDOS]);
    pane_free(&p);
    np_detect_destroy(&d);
}

static void test_threshold_and_whitelist(void **s) {
    (void)s;
    np_detect_config_t c;
    np_detect_config_default(&c, PANE);
    c.warmup_panes = 5;
    np_cidr_parse("192.168.0.0/24", 14, &c.rules[0].cidr);
    c.rules[0].flows = 100; /* per second: 500 per pane */
    c.nrules = 1;
    np_detect_t *d = np_detect_new(&c);
    np_anomaly_t out[64];
    size_t alerts = 0;
    for (int i = 0; i < 8; i++) {
        pane_t p;
        pane_init(&p, (int64_t)i * PANE);
        baseline(&p, i >= 5 ? 1000 : 200, (unsigned)i);
        np_forecast_t fc;
        size_t n = np_detect_pane(d, &p.g, out, &fc);
        for (size_t k = 0; k < n; k++)
            if (out[k].kind == NP_AN_THRESHOLD) {
                alerts++;
                assert_string_equal(out[k].entity, "192.168.0.0/24");
                assert_string_equal(out[k].metric, "flows");
            }
        pane_free(&p);
    }
    assert_int_equal(alerts, 1);
    np_detect_destroy(&d);
    /* the same with the destination prefix whitelisted */
    np_cidr_parse("192.168.0.0/16", 14, &c.whitelist[0]);
    c.nwhitelist = 1;
    d = np_detect_new(&c);
    alerts = 0;
    for (int i = 0; i < 8; i++) {
        pane_t p;
        pane_init(&p, (int64_t)i * PANE);
        baseline(&p, i >= 5 ? 1000 : 200, (unsigned)i);
        alerts += run(d, &p, NP_AN_THRESHOLD, out);
        pane_free(&p);
    }
    assert_int_equal(alerts, 0);
    np_detect_destroy(&d);
}

/* State saved after pane k and restored into a new detector gives the same alerts. */
static void test_state_roundtrip(void **s) {
    (void)s;
    np_detect_config_t c;
    np_detect_t *a = mkdet(&c), *b = NULL;
    np_anomaly_t oa[64], ob[64];
    for (int i = 0; i < 40; i++) {
        pane_t p;
        pane_init(&p, (int64_t)i * PANE);
        baseline(&p, i >= 30 && i < 33 ? 3000 : 1000, (unsigned)i);
        if (i == 20) {
            uint8_t *buf;
            size_t len;
            assert_int_equal(np_detect_state_encode(a, &buf, &len), 0);
            b = np_detect_new(&c);
            assert_int_equal(np_detect_state_decode(b, buf, len), 0);
            free(buf);
        }
        np_forecast_t fa, fb;
        size_t na = np_detect_pane(a, &p.g, oa, &fa);
        if (b) {
            size_t nb = np_detect_pane(b, &p.g, ob, &fb);
            assert_int_equal(na, nb);
            for (size_t k = 0; k < na; k++) assert_string_equal(oa[k].entity, ob[k].entity);
            assert_true(fa.predicted == fb.predicted);
        }
        pane_free(&p);
    }
    assert_int_equal(np_detect_state_decode(b, (const uint8_t *)"junk", 4), -1);
    np_detect_destroy(&a);
    np_detect_destroy(&b);
}

/* A state saved before level_shift existed (11 kinds in stats) and before seasonality
 * (no fields 40-44) still restores, counts included, and runs on like the original; one
 * with another version is refused. */
static void test_state_before_level_shift(void **s) {
    (void)s;
    np_detect_config_t c;
    np_detect_t *a = mkdet(&c), *b = mkdet(&c);
    np_anomaly_t out[64];
    for (int i = 0; i < 30; i++) {
        pane_t p;
        pane_init(&p, (int64_t)i * PANE);
        baseline(&p, i == 25 ? 3000 : 1000, (unsigned)i);
        run(a, &p, -1, out);
        pane_free(&p);
    }
    uint8_t *buf, old[65536];
    size_t len;
    assert_int_equal(np_detect_state_encode(a, &buf, &len), 0);
    Netpulse__DetectState *st = netpulse__detect_state__unpack(NULL, len, buf);
    assert_non_null(st);
    assert_int_equal(st->n_stats, 6 + NP_AN__COUNT);
    size_t n_stats = st->n_stats, n_seasons = st->n_seasons, n_season_series = st->n_season_series,
           n_fc_models = st->n_fc_models;
    st->n_stats = 6 + NP_AN_LEVEL_SHIFT; /* as saved before */
    st->n_seasons = st->n_season_series = st->n_fc_models = 0; /* and before seasonality */
    st->season_stage = st->fc_flags = 0;
    size_t olen = netpulse__detect_state__pack(st, old);
    /* free_unpacked frees what the counts say: give them back */
    st->n_stats = n_stats;
    st->n_seasons = n_seasons;
    st->n_season_series = n_season_series;
    st->n_fc_models = n_fc_models;
    assert_true(olen < sizeof(old));
    assert_int_equal(np_detect_state_decode(b, old, olen), 0);
    np_detect_stats_t sa, sb;
    np_detect_get_stats(a, &sa);
    np_detect_get_stats(b, &sb);
    assert_int_equal(sb.panes, 30);
    assert_int_equal(sb.by_kind[NP_AN_SPIKE], 1);
    assert_int_equal(sa.by_kind[NP_AN_SPIKE], 1);
    for (int i = 30; i < 45; i++) { /* and runs on like the original */
        pane_t p;
        pane_init(&p, (int64_t)i * PANE);
        baseline(&p, i == 40 ? 3000 : 1000, (unsigned)i);
        np_anomaly_t ob[64];
        np_forecast_t fa, fb;
        size_t na = np_detect_pane(a, &p.g, out, &fa), nb = np_detect_pane(b, &p.g, ob, &fb);
        assert_int_equal(na, nb);
        assert_true(fa.predicted == fb.predicted);
        pane_free(&p);
    }
    st->version = 2;
    olen = netpulse__detect_state__pack(st, old);
    assert_int_equal(np_detect_state_decode(b, old, olen), -1);
    netpulse__detect_state__free_unpacked(st, NULL);
    free(buf);
    np_detect_destroy(&a);
    np_detect_destroy(&b);
}


/* Seasonality in the live volume detector (1-minute panes, so that days are cheap): 1000
 * records a pane with 2 % noise, and a nightly job that triples traffic from 02:00 to 02:30.
 * Without profiles every night raises spikes / drops / level shifts; with them, once the
 * daily profile is in use (day 3 on), the job raises nothing, while a tripling at 14:00 on
 * day 5 still raises a spike. The state carries the profiles: a detector restored from it
 * on day 4 raises the same anomalies as the one that ran on. */
#define MIN_MS 60000LL
#define DAY (1440 * MIN_MS)
static int nightly(np_detect_t *d, np_detect_t *twin, int64_t day_from, int64_t day_to, int *day5_spikes) {
    np_anomaly_t out[64], o2[64];
    int night = 0;
    for (int64_t t = 0; t < 6 * DAY; t += MIN_MS) {
        int64_t tod = t % DAY, day = t / DAY;
        double v = 1000;
        if (tod >= 120 * MIN_MS && tod < 150 * MIN_MS) v = 3000;               /* the nightly job */
        if (day == 5 && tod >= 840 * MIN_MS && tod < 850 * MIN_MS) v = 3000;   /* a real spike */
        unsigned x = (unsigned)(t / MIN_MS) * 2654435761u;
        v *= 1 + 0.02 * ((double)(x >> 16 & 1023) / 512.0 - 1);
        np_gpane_t g;
        memset(&g, 0, sizeof(g));
        g.start_ms = t;
        g.records = (uint64_t)v;
        g.bytes = g.records * 1200;
        g.packets = g.records * 3;
        g.pmix[0] = g.records;
        np_forecast_t fc, f2;
        size_t n = np_detect_pane(d, &g, out, &fc);
        if (twin && day >= 4) {
            size_t n2 = np_detect_pane(twin, &g, o2, &f2);
            assert_int_equal(n, n2);
            for (size_t k = 0; k < n; k++) assert_int_equal(out[k].kind, o2[k].kind);
            assert_true(fc.predicted == f2.predicted);
        }
        if (twin && t == 4 * DAY - MIN_MS) {
            uint8_t *buf;
            size_t len;
            assert_int_equal(np_detect_state_encode(d, &buf, &len), 0);
            assert_true(len < 64 * 1024); /* bounded: the profiles are fixed-size */
            assert_int_equal(np_detect_state_decode(twin, buf, len), 0);
            free(buf);
        }
        for (size_t k = 0; k < n; k++) {
            bool vol = out[k].kind == NP_AN_SPIKE || out[k].kind == NP_AN_DROP || out[k].kind == NP_AN_LEVEL_SHIFT;
            if (vol && day >= day_from && day < day_to && tod >= 110 * MIN_MS && tod < 170 * MIN_MS) night++;
            if (out[k].kind == NP_AN_SPIKE && day == 5 && tod >= 840 * MIN_MS && tod < 850 * MIN_MS)
                (*day5_spikes)++;
        }
    }
    return night;
}

static void test_seasonal_volume(void **s) {
    (void)s;
    np_detect_config_t c;
    np_detect_config_default(&c, MIN_MS);
    c.seasonal = false;
    np_detect_t *d = np_detect_new(&c);
    int spikes = 0;
    int plain = nightly(d, NULL, 3, 6, &spikes);
    assert_true(plain >= 3); /* without profiles: every night */
    assert_true(spikes >= 1);
    np_detect_destroy(&d);
    c.seasonal = true;
    d = np_detect_new(&c);
    np_detect_t *twin = np_detect_new(&c);
    spikes = 0;
    int seasonal = nightly(d, twin, 3, 6, &spikes);
    assert_int_equal(seasonal, 0); /* the job is the profile's */
    assert_true(spikes >= 1);      /* the real spike is not */
    np_detect_destroy(&d);
    np_detect_destroy(&twin);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_entropy),
        cmocka_unit_test(test_spike_one_alert_per_episode),
        cmocka_unit_test(test_level_shift),
        cmocka_unit_test(test_sources_and_scans),
        cmocka_unit_test(test_threshold_and_whitelist),
        cmocka_unit_test(test_state_roundtrip),
        cmocka_unit_test(test_state_before_level_shift),
        cmocka_unit_test(test_seasonal_volume),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    np_hll_pool_destroy(&POOL);
    return rc;
}
