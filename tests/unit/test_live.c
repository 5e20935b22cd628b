/* Unit tests for np_live (the gateway's bounded live state behind the web page). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "np_live.h"

static np_live_t *mk(size_t windows, size_t anomalies, size_t events) {
    np_live_limits_t lim = {windows, anomalies, events};
    np_live_t *l = np_live_new(&lim);
    assert_non_null(l);
    return l;
}

static int add_window(np_live_t *l, int64_t start, int64_t ms, uint64_t records) {
    char j[256];
    int n = snprintf(j, sizeof(j),
                     "{\"type\":\"window\",\"id\":\"window:%lld:%lld\",\"window_start\":%lld,\"window_end\":%lld,"
                     "\"window_ms\":%lld,\"records\":%llu}",
                     (long long)start, (long long)(start + ms), (long long)start, (long long)(start + ms),
                     (long long)ms, (unsigned long long)records);
    return np_live_add(l, "window", start, start + ms, j, (size_t)n);
}

static int add_anomaly(np_live_t *l, const char *entity, int64_t start) {
    char j[256];
    int n = snprintf(j, sizeof(j),
                     "{\"type\":\"anomaly\",\"id\":\"anomaly:ddos:%s:%lld\",\"kind\":\"ddos\",\"entity\":\"%s\","
                     "\"window_start\":%lld,\"window_end\":%lld,\"explanation\":\"fan-in\"}",
                     entity, (long long)start, entity, (long long)start, (long long)(start + 5000));
    return np_live_add(l, "anomaly", start, start + 5000, j, (size_t)n);
}

static int add_group(np_live_t *l, const char *view, int64_t start, int rank) {
    char j[256];
    int n = snprintf(j, sizeof(j), "{\"type\":\"group\",\"id\":\"group:%s:%lld:%d\",\"view\":\"%s\",\"rank\":%d}", view,
                     (long long)start, rank, view, rank);
    return np_live_add(l, "group", start, start + 5000, j, (size_t)n);
}

static size_t count(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* The last N pane windows, oldest first; since= filters; repeats replace; sliding apart. */
static void test_windows_ring(void **state) {
    (void)state;
    np_live_t *l = mk(3, 10, 64);
    for (int i = 0; i < 5; i++) assert_int_equal(add_window(l, 1000000 + i * 5000, 5000, 10 + (uint64_t)i), 1);
    assert_int_equal(add_window(l, 1000000 + 4 * 5000, 5000, 99), 1); /* a repeat replaces */
    assert_int_equal(add_window(l, 1000000 - 5000, 5000, 1), 0);     /* older than all kept */
    assert_int_equal(add_window(l, 1000000, 60000, 7), 1);           /* a sliding window */
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    np_live_windows_json(l, 0, &sb);
    assert_int_equal(count(sb.buf, "\"window_ms\":5000"), 3);
    assert_non_null(strstr(sb.buf, "\"pane_ms\":5000"));
    assert_non_null(strstr(sb.buf, "\"records\":12}"));
    assert_null(strstr(sb.buf, "\"records\":14}"));
    assert_non_null(strstr(sb.buf, "\"records\":99}"));
    assert_true(strstr(sb.buf, "\"records\":12}") < strstr(sb.buf, "\"records\":13}"));
    assert_non_null(strstr(sb.buf, "\"sliding\":{\"type\":\"window\""));
    assert_non_null(strstr(sb.buf, "\"window_ms\":60000"));
    np_strbuf_reset(&sb);
    np_live_windows_json(l, 1000000 + 4 * 5000, &sb); /* window_end > since */
    assert_int_equal(count(sb.buf, "\"window_ms\":5000"), 1);
    np_strbuf_free(&sb);
    np_live_destroy(&l);
    assert_null(l);
}

/* A sliding window seen before any pane is moved aside when the first pane arrives. */
static void test_pane_after_sliding(void **state) {
    (void)state;
    np_live_t *l = mk(4, 4, 16);
    assert_int_equal(add_window(l, 0, 15000, 1), 1);
    assert_int_equal(add_window(l, 10000, 5000, 2), 1);
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    np_live_windows_json(l, 0, &sb);
    assert_non_null(strstr(sb.buf, "\"pane_ms\":5000,\"windows\":[{"));
    assert_int_equal(count(sb.buf, "\"window_ms\":5000"), 1);
    assert_non_null(strstr(sb.buf, "\"sliding\":{\"type\":\"window\",\"id\":\"window:0:15000\""));
    np_strbuf_free(&sb);
    np_live_destroy(&l);
}

/* The last M anomalies, newest first, one per id. */
static void test_anomalies(void **state) {
    (void)state;
    np_live_t *l = mk(4, 2, 16);
    assert_int_equal(add_anomaly(l, "10.0.0.1", 5000), 1);
    assert_int_equal(add_anomaly(l, "10.0.0.2", 10000), 1);
    assert_int_equal(add_anomaly(l, "10.0.0.2", 10000), 1); /* re-sent: replaces */
    assert_int_equal(add_anomaly(l, "10.0.0.3", 15000), 1);
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    np_live_anomalies_json(l, &sb);
    assert_int_equal(count(sb.buf, "\"type\":\"anomaly\""), 2);
    assert_null(strstr(sb.buf, "10.0.0.1"));
    assert_true(strstr(sb.buf, "10.0.0.3") < strstr(sb.buf, "10.0.0.2"));
    np_strbuf_free(&sb);
    np_live_destroy(&l);
}

/* A view's groups are those of its latest window, by rank; older windows are ignored. */
static void test_groups(void **state) {
    (void)state;
    np_live_t *l = mk(4, 4, 64);
    assert_int_equal(add_group(l, "web", 5000, 2), 1);
    assert_int_equal(add_group(l, "web", 5000, 1), 1);
    assert_int_equal(add_group(l, "dns", 5000, 1), 1);
    assert_int_equal(add_group(l, "web", 10000, 3), 1);
    assert_int_equal(add_group(l, "web", 5000, 4), 0);
    assert_int_equal(add_group(l, "web", 10000, 33), 0); /* past the cap */
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    np_live_groups_json(l, &sb);
    assert_non_null(strstr(sb.buf, "{\"view\":\"web\",\"window_start\":10000,\"groups\":["
                                   "{\"type\":\"group\",\"id\":\"group:web:10000:3\""));
    assert_int_equal(count(sb.buf, "group:web:"), 1);
    assert_non_null(strstr(sb.buf, "group:dns:5000:1"));
    np_strbuf_reset(&sb);
    assert_int_equal(add_group(l, "web", 10000, 1), 1);
    np_live_groups_json(l, &sb);
    assert_true(strstr(sb.buf, "group:web:10000:1") < strstr(sb.buf, "group:web:10000:3"));
    np_strbuf_free(&sb);
    np_live_destroy(&l);
}

/* Oversized and unknown results are ignored; the state stays under its bound. */
static void test_bounds(void **state) {
    (void)state;
    np_live_limits_t lim = {8, 4, 16};
    np_live_t *l = np_live_new(&lim);
    static char big[NP_LIVE_JSON_MAX + 2];
    memset(big, 'x', sizeof(big) - 1);
    assert_int_equal(np_live_add(l, "window", 0, 5000, big, sizeof(big) - 1), 0);
    assert_int_equal(np_live_add(l, "nonsense", 0, 5000, "{}", 2), 0);
    for (int i = 0; i < 1000; i++) {
        add_window(l, i * 5000, 5000, (uint64_t)i);
        add_anomaly(l, "10.0.0.9", i * 5000);
        add_group(l, "v", i * 5000, 1 + i % 10);
    }
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    np_live_status_json(l, &sb);
    unsigned long long bytes = 0, bound = 0;
    const char *p = strstr(sb.buf, "\"bytes\":");
    assert_non_null(p);
    sscanf(p, "\"bytes\":%llu,\"memory_bound_bytes\":%llu", &bytes, &bound);
    assert_true(bytes > 0 && bytes < bound);
    assert_int_equal(bound, np_live_memory_bound(&lim));
    assert_non_null(strstr(sb.buf, "\"results_ignored\":2,"));
    np_strbuf_reset(&sb);
    np_live_windows_json(l, 0, &sb);
    assert_int_equal(count(sb.buf, "\"type\":\"window\""), 8);
    np_strbuf_free(&sb);
    np_live_destroy(&l);
}

/* Events come in order after the cursor; a client that falls behind gets `reset`. */
static void test_events(void **state) {
    (void)state;
    np_live_t *l = mk(8, 8, 4);
    uint64_t cur = np_live_cursor(l);
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    assert_int_equal(np_live_events(l, &cur, 10, 1 << 20, &sb), 0); /* nothing: waits, returns 0 */
    add_window(l, 0, 5000, 1);
    add_anomaly(l, "10.0.0.1", 0);
    assert_int_equal(np_live_events(l, &cur, 0, 1 << 20, &sb), 2);
    assert_non_null(strstr(sb.buf, "id: 1\nevent: window\ndata: {\"type\":\"window\""));
    assert_non_null(strstr(sb.buf, "}\n\nid: 2\nevent: anomaly\ndata: "));
    assert_int_equal(cur, 2);
    for (int i = 1; i < 7; i++) add_window(l, i * 5000, 5000, 1);
    np_strbuf_reset(&sb);
    assert_int_equal(np_live_events(l, &cur, 0, 1 << 20, &sb), 1); /* reset only: refetch the API */
    assert_non_null(strstr(sb.buf, "event: reset\n"));
    assert_int_equal(cur, 8);
    np_strbuf_free(&sb);
    np_live_destroy(&l);
}

static void *closer(void *arg) {
    np_live_close(arg);
    return NULL;
}

/* Closing wakes a waiting client at once; client slots are bounded. */
static void test_close_and_clients(void **state) {
    (void)state;
    np_live_t *l = mk(2, 2, 2);
    assert_true(np_live_client_enter(l, 2));
    assert_true(np_live_client_enter(l, 2));
    assert_false(np_live_client_enter(l, 2));
    np_live_client_leave(l);
    assert_true(np_live_client_enter(l, 2));
    pthread_t t;
    uint64_t cur = np_live_cursor(l);
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    pthread_create(&t, NULL, closer, l);
    assert_int_equal(np_live_events(l, &cur, 60000, 1024, &sb), -1); /* would hang 60 s if not woken */
    pthread_join(t, NULL);
    assert_false(np_live_client_enter(l, 8));
    np_strbuf_free(&sb);
    np_live_destroy(&l);
}

/* The fleet lists workers sorted, with health from age and invalid heartbeats as null. */
static void test_fleet(void **state) {
    (void)state;
    np_live_t *l = mk(2, 2, 8);
    const char *hb = "{\"id\":\"w2\",\"pid\":7,\"partitions\":[0,1],\"lag\":{\"network-traffic\":{\"0\":5}}}";
    np_live_worker_t w[] = {{"netpulse:workers:w2", hb, strlen(hb), 1200},
                            {"netpulse:workers:w1", "{\"id\":", 6, 9000}};
    np_live_set_fleet(l, 1234, "ok", NULL, w, 2, 5000);
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    np_live_fleet_json(l, &sb);
    assert_string_equal(sb.buf,
                        "{\"redis\":\"ok\",\"updated_ms\":1234,\"stale_ms\":5000,\"workers\":["
                        "{\"key\":\"netpulse:workers:w1\",\"age_ms\":9000,\"healthy\":false,\"heartbeat\":null},"
                        "{\"key\":\"netpulse:workers:w2\",\"age_ms\":1200,\"healthy\":true,\"heartbeat\":"
                        "{\"id\":\"w2\",\"pid\":7,\"partitions\":[0,1],\"lag\":{\"network-traffic\":{\"0\":5}}}}],"
                        "\"workers_total\":2}");
    np_strbuf_reset(&sb);
    np_live_set_fleet(l, 2000, "not configured", "redis.port is 0", NULL, 0, 5000);
    np_live_fleet_json(l, &sb);
    assert_non_null(strstr(sb.buf, "\"redis\":\"not configured\",\"error\":\"redis.port is 0\""));
    uint64_t cur = 0;
    np_strbuf_reset(&sb);
    assert_int_equal(np_live_events(l, &cur, 0, 1 << 20, &sb), 2);
    assert_non_null(strstr(sb.buf, "event: fleet\ndata: {\"updated_ms\":2000}"));
    np_strbuf_free(&sb);
    np_live_destroy(&l);
}

static void test_json_valid(void **state) {
    (void)state;
    const char *good[] = {"{}", "[]", " {\"a\":[1,-2.5e3,true,false,null,\"x\\n\\u00e9\"]} ", "0", "\"s\""};
    const char *bad[] = {"", "{", "{\"a\":}", "[1,]", "{\"a\" 1}", "01", "tru", "\"\\x\"", "{} {}", "[1]]"};
    for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
        assert_true(np_live_json_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) assert_false(np_live_json_valid(bad[i], strlen(bad[i])));
    char deep[80];
    memset(deep, '[', 40);
    memset(deep + 40, ']', 40);
    assert_false(np_live_json_valid(deep, sizeof(deep))); /* nesting past 32 */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_ring), cmocka_unit_test(test_pane_after_sliding),
        cmocka_unit_test(test_anomalies),    cmocka_unit_test(test_groups),
        cmocka_unit_test(test_bounds),       cmocka_unit_test(test_events),
        cmocka_unit_test(test_close_and_clients), cmocka_unit_test(test_fleet),
        cmocka_unit_test(test_json_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
