/* Unit tests for np_summary: reading back the fields the gateway shows from results that
 * np_result wrote (window, anomaly, forecast), escapes and truncation, malformed input,
 * and the list of recent anomalies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_result.h"
#include "np_summary.h"

static void test_window_round_trip(void **st) {
    (void)st;
    np_gpane_t g = {0};
    g.start_ms = 1700000000000;
    g.records = 95015;
    g.bytes = 858584341;
    g.packets = 1084720;
    g.pmix[NP_PMIX_TCP] = 70102;
    g.pmix[NP_PMIX_UDP] = 23011;
    g.pmix[NP_PMIX_ICMP] = 1902;
    g.pmix[NP_PMIX_OTHER] = 0;
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    char id[64], err[128];
    np_result_window_json(&sb, &g, 5000, id, sizeof(id));
    np_summary_t s;
    assert_int_equal(np_summary_parse(sb.buf, sb.len, &s, err, sizeof(err)), 0);
    assert_string_equal(s.type, "window");
    assert_int_equal(s.window_start, 1700000000000);
    assert_int_equal(s.window_end, 1700000005000);
    assert_int_equal(s.window_ms, 5000);
    assert_int_equal(s.records, 95015);
    assert_int_equal(s.bytes, 858584341);
    assert_int_equal(s.packets, 1084720);
    assert_int_equal(s.sources, 0);
    assert_int_equal(s.protocols[NP_SUMMARY_TCP], 70102);
    assert_int_equal(s.protocols[NP_SUMMARY_UDP], 23011);
    assert_int_equal(s.protocols[NP_SUMMARY_ICMP], 1902);
    assert_int_equal(s.protocols[NP_SUMMARY_OTHER], 0);
    assert_string_equal(np_summary_proto_name(NP_SUMMARY_ICMP), "icmp");
    np_strbuf_free(&sb);
}

static void test_documented_examples(void **st) {
    (void)st;
    /* The examples in ARCHITECTURE.md, nested arrays and objects included. */
    const char *w = "{\"type\":\"window\",\"id\":\"window:1700000000000:1700000005000\",\"window_start\":1700000000000,"
                    "\"window_end\":1700000005000,\"window_ms\":5000,\"records\":95015,\"bytes\":858584341,\"packets\":1084720,"
                    "\"protocols\":{\"tcp\":70102,\"udp\":23011,\"icmp\":1902,\"other\":0},\"sources\":1000,"
                    "\"top_sources\":[{\"ip\":\"10.0.2.249\",\"records\":7947,\"bytes\":68757255,\"packets\":86017,"
                    "\"dst_ips\":812,\"dst_ports\":9}],\"partitions\":12,\"late_records\":0}";
    const char *f = "{\"type\":\"forecast\",\"id\":\"forecast:1700000495000:1700000500000\",\"metric\":\"packets\","
                    "\"window_start\":1700000495000,\"window_end\":1700000500000,\"predicted\":11690.5,"
                    "\"previous\":{\"window_start\":1700000490000,\"predicted\":12129.5,\"actual\":11221}}";
    np_summary_t s;
    char err[128];
    assert_int_equal(np_summary_parse(w, strlen(w), &s, err, sizeof(err)), 0);
    assert_int_equal(s.sources, 1000);
    assert_int_equal(s.records, 95015); /* not the top source's */
    assert_int_equal(np_summary_parse(f, strlen(f), &s, err, sizeof(err)), 0);
    assert_string_equal(s.type, "forecast");
    assert_true(s.predicted == 11690.5); /* not previous.predicted */
    assert_int_equal(s.window_start, 1700000495000);
}

static void test_anomaly(void **st) {
    (void)st;
    np_anomaly_t a;
    memset(&a, 0, sizeof(a));
    a.kind = NP_AN_DDOS;
    a.severity = NP_SEV_CRITICAL;
    snprintf(a.entity, sizeof(a.entity), "192.168.3.148");
    snprintf(a.metric, sizeof(a.metric), "dst_sources");
    a.window_start = 1700001560000;
    a.window_end = 1700001565000;
    a.observed = 511;
    a.expected = 100;
    a.score = 5.11;
    snprintf(a.explanation, sizeof(a.explanation), "511 \"distinct\" sources\\fan-in\n(34%%) é");
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    char id[NP_RESULT_ID_MAX], err[128];
    np_result_anomaly_json(&sb, &a, id, sizeof(id));
    np_summary_t s;
    assert_int_equal(np_summary_parse(sb.buf, sb.len, &s, err, sizeof(err)), 0);
    assert_string_equal(s.type, "anomaly");
    assert_string_equal(s.kind, "ddos");
    assert_string_equal(s.severity, "critical");
    assert_string_equal(s.entity, "192.168.3.148");
    assert_string_equal(s.explanation, a.explanation);
    assert_int_equal(s.window_end, 1700001565000);
    np_strbuf_free(&sb);
}

static void test_escapes_and_truncation(void **st) {
    (void)st;
    np_summary_t s;
    char err[128];
    const char *j = "{\"kind\":\"a\\u00e9\\ud83d\\ude00\\/\\t\"}";
    assert_int_equal(np_summary_parse(j, strlen(j), &s, err, sizeof(err)), 0);
    assert_string_equal(s.kind, "a\xc3\xa9\xf0\x9f\x98\x80/\t");
    /* 600 two-byte characters: cut to whole characters below the 512-byte field. */
    char big[2000] = "{\"explanation\":\"";
    for (int i = 0; i < 600; i++) strcat(big, "\xc3\xa9");
    strcat(big, "\"}");
    assert_int_equal(np_summary_parse(big, strlen(big), &s, err, sizeof(err)), 0);
    assert_int_equal(strlen(s.explanation), 510);
}

static void test_malformed(void **st) {
    (void)st;
    np_summary_t s;
    char err[128];
    const char *bad[] = {"", "[]", "{\"records\":}", "{\"records\":-1}", "{\"type\":\"window\"", "{\"a\":1} x",
                         "{\"kind\":\"\\x\"}", "{\"kind\":\"\\ud800\"}", "{\"a\":[1,2}", "{\"a\":tru}", "{\"protocols\":{\"tcp\":\"x\"}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(np_summary_parse(bad[i], strlen(bad[i]), &s, err, sizeof(err)), -1);
        assert_non_null(strstr(err, " at byte "));
    }
    char deep[200] = "{\"a\":";
    for (int i = 0; i < 40; i++) strcat(deep, "[");
    assert_int_equal(np_summary_parse(deep, strlen(deep), &s, err, sizeof(err)), -1);
    const char *ok = " { \"a\" : [ {\"b\":null}, true, false, -1.5e3 ] , \"records\" : 7 } ";
    assert_int_equal(np_summary_parse(ok, strlen(ok), &s, err, sizeof(err)), 0);
    assert_int_equal(s.records, 7);
}

static void test_recent(void **st) {
    (void)st;
    np_summary_recent_t r;
    memset(&r, 0, sizeof(r));
    assert_null(np_summary_recent_get(&r, 1));
    np_summary_t s;
    memset(&s, 0, sizeof(s));
    for (int i = 1; i <= 13; i++) {
        s.window_end = i;
        np_summary_recent_push(&r, &s);
    }
    assert_int_equal(r.n, NP_SUMMARY_RECENT_MAX);
    for (size_t rank = 1; rank <= NP_SUMMARY_RECENT_MAX; rank++)
        assert_int_equal(np_summary_recent_get(&r, rank)->window_end, 14 - (int64_t)rank);
    assert_null(np_summary_recent_get(&r, 0));
    assert_null(np_summary_recent_get(&r, 11));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_round_trip), cmocka_unit_test(test_documented_examples),
        cmocka_unit_test(test_anomaly),           cmocka_unit_test(test_escapes_and_truncation),
        cmocka_unit_test(test_malformed),         cmocka_unit_test(test_recent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
