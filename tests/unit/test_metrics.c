/* Unit tests for np_metrics: the text exposition (HELP/TYPE once per name, labels),
 * milli gauges rendered as decimals, histograms (buckets, +Inf, _sum, _count, labels with
 * le), unpublishing a series, info sets with escaped label values, and observations from
 * several threads at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "np_metrics.h"

/* Renders m into a fresh NUL-terminated string the caller frees. */
static char *render(np_metrics_t *m) {
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    np_metrics_render(m, &sb);
    char *s = strdup(sb.buf ? sb.buf : "");
    np_strbuf_free(&sb);
    return s;
}

static size_t count_of(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static void test_counters_and_gauges(void **st) {
    (void)st;
    np_metrics_t *m = np_metrics_new();
    np_counter_t *a = np_metrics_counter(m, "x_total", "Xs", "reason=\"a\"");
    np_counter_t *b = np_metrics_counter(m, "x_total", "Xs", "reason=\"b\"");
    assert_ptr_equal(a, np_metrics_counter(m, "x_total", "Xs", "reason=\"a\""));
    np_counter_add(a, 3);
    np_counter_inc(b);
    np_gauge_set(np_metrics_gauge(m, "g", "A gauge", NULL), -5);
    char *s = render(m);
    assert_int_equal(count_of(s, "# TYPE x_total counter\n"), 1);
    assert_int_equal(count_of(s, "# HELP x_total Xs\n"), 1);
    assert_non_null(strstr(s, "x_total{reason=\"a\"} 3\n"));
    assert_non_null(strstr(s, "x_total{reason=\"b\"} 1\n"));
    assert_non_null(strstr(s, "# TYPE g gauge\ng -5\n"));
    free(s);
    np_metrics_destroy(&m);
    assert_null(m);
}

static void test_milli(void **st) {
    (void)st;
    np_metrics_t *m = np_metrics_new();
    np_gauge_set(np_metrics_gauge_milli(m, "t_seconds", "T", NULL), 1700000005123);
    np_gauge_set(np_metrics_gauge_milli(m, "neg", "N", NULL), -1500);
    np_gauge_set(np_metrics_gauge_milli(m, "small", "S", NULL), 7);
    char *s = render(m);
    assert_non_null(strstr(s, "\nt_seconds 1700000005.123\n"));
    assert_non_null(strstr(s, "\nneg -1.500\n"));
    assert_non_null(strstr(s, "\nsmall 0.007\n"));
    free(s);
    np_metrics_destroy(&m);
}

static void test_histogram(void **st) {
    (void)st;
    np_metrics_t *m = np_metrics_new();
    const double b[] = {0.1, 1, 2.5};
    np_histogram_t *h = np_metrics_histogram(m, "d_seconds", "D", NULL, b, 3);
    np_histogram_t *hl = np_metrics_histogram(m, "l_seconds", "L", "kind=\"x\"", b, 3);
    np_histogram_observe(h, 0.05);
    np_histogram_observe(h, 0.1); /* equal to a bound: in that bucket (le) */
    np_histogram_observe(h, 2);
    np_histogram_observe(h, 100);
    np_histogram_observe(hl, 0.5);
    assert_int_equal(np_histogram_count(h), 4);
    assert_true(np_histogram_sum(h) > 102.14 && np_histogram_sum(h) < 102.16);
    char *s = render(m);
    assert_int_equal(count_of(s, "# TYPE d_seconds histogram\n"), 1);
    assert_non_null(strstr(s, "d_seconds_bucket{le=\"0.1\"} 2\n"
                              "d_seconds_bucket{le=\"1\"} 2\n"
                              "d_seconds_bucket{le=\"2.5\"} 3\n"
                              "d_seconds_bucket{le=\"+Inf\"} 4\n"
                              "d_seconds_sum 102.15\n"
                              "d_seconds_count 4\n"));
    assert_non_null(strstr(s, "l_seconds_bucket{kind=\"x\",le=\"0.1\"} 0\n"
                              "l_seconds_bucket{kind=\"x\",le=\"1\"} 1\n"));
    assert_non_null(strstr(s, "l_seconds_sum{kind=\"x\"} 0.5\nl_seconds_count{kind=\"x\"} 1\n"));
    free(s);
    /* The standard bucket sets ascend. */
    for (size_t i = 1; i < np_metrics_buckets_fast_n; i++)
        assert_true(np_metrics_buckets_fast[i] > np_metrics_buckets_fast[i - 1]);
    for (size_t i = 1; i < np_metrics_buckets_slow_n; i++)
        assert_true(np_metrics_buckets_slow[i] > np_metrics_buckets_slow[i - 1]);
    np_metrics_destroy(&m);
}

static void test_unpublish(void **st) {
    (void)st;
    np_metrics_t *m = np_metrics_new();
    np_gauge_t *p0 = np_metrics_gauge(m, "lag", "Lag", "partition=\"0\"");
    np_gauge_t *p1 = np_metrics_gauge(m, "lag", "Lag", "partition=\"1\"");
    np_gauge_set(p0, 10);
    np_gauge_set(p1, 20);
    np_metrics_unpublish(m, p0);
    char *s = render(m);
    assert_null(strstr(s, "partition=\"0\""));
    assert_non_null(strstr(s, "# TYPE lag gauge\nlag{partition=\"1\"} 20\n"));
    free(s);
    np_metrics_unpublish(m, p1);
    s = render(m);
    assert_null(strstr(s, "lag")); /* no samples: no HELP/TYPE either */
    free(s);
    assert_ptr_equal(np_metrics_gauge(m, "lag", "Lag", "partition=\"0\""), p0); /* back, zeroed */
    s = render(m);
    assert_non_null(strstr(s, "lag{partition=\"0\"} 0\n"));
    assert_int_equal(count_of(s, "# TYPE lag"), 1);
    free(s);
    np_metrics_destroy(&m);
}

static void test_infoset(void **st) {
    (void)st;
    np_metrics_t *m = np_metrics_new();
    np_infoset_t *is = np_metrics_infoset(m, "recent_info", "Recent", 3);
    char *s = render(m);
    assert_null(strstr(s, "recent_info"));
    free(s);
    const char *names[] = {"rank", "explanation"};
    const char *v1[] = {"1", "say \"hi\"\\ to\nall"};
    const char *v2[] = {"2", "plain"};
    np_infoset_set(is, 0, names, v1, 2, 1700000005000);
    np_infoset_set(is, 1, names, v2, 2, 1500);
    np_infoset_set(is, 3, names, v2, 2, 1); /* out of range: ignored */
    s = render(m);
    assert_non_null(strstr(s, "# TYPE recent_info gauge\n"));
    assert_non_null(strstr(s, "recent_info{rank=\"1\",explanation=\"say \\\"hi\\\"\\\\ to\\nall\"} 1700000005.000\n"));
    assert_non_null(strstr(s, "recent_info{rank=\"2\",explanation=\"plain\"} 1.500\n"));
    assert_int_equal(count_of(s, "recent_info{"), 2);
    free(s);
    np_infoset_clear(is, 0);
    np_infoset_set(is, 1, names, v1, 2, 2000); /* replaced */
    s = render(m);
    assert_int_equal(count_of(s, "recent_info{"), 1);
    assert_non_null(strstr(s, "recent_info{rank=\"1\",explanation=\"say"));
    free(s);
    np_metrics_destroy(&m);
}

static void test_escape(void **st) {
    (void)st;
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    np_metrics_escape_label(&sb, "a\\b\"c\nd é");
    assert_string_equal(sb.buf, "a\\\\b\\\"c\\nd é");
    np_strbuf_free(&sb);
}

#define THREADS 4
#define PER_THREAD 100000

static void *observer(void *arg) {
    np_histogram_t *h = arg;
    for (int i = 0; i < PER_THREAD; i++) np_histogram_observe(h, (i % 4) * 0.5); /* 0, .5, 1, 1.5 */
    return NULL;
}

static void *renderer(void *arg) {
    np_metrics_t *m = arg;
    for (int i = 0; i < 50; i++) free(render(m));
    return NULL;
}

static void test_concurrent(void **st) {
    (void)st;
    np_metrics_t *m = np_metrics_new();
    const double b[] = {0.5, 1};
    np_histogram_t *h = np_metrics_histogram(m, "c_seconds", "C", NULL, b, 2);
    pthread_t t[THREADS + 1];
    for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_create(&t[i], NULL, observer, h), 0);
    assert_int_equal(pthread_create(&t[THREADS], NULL, renderer, m), 0);
    for (int i = 0; i <= THREADS; i++) pthread_join(t[i], NULL);
    assert_int_equal(np_histogram_count(h), THREADS * PER_THREAD);
    /* Sums of halves are exact in a double: no lost update in the CAS loop. */
    assert_true(np_histogram_sum(h) == THREADS * (PER_THREAD / 4) * 3.0);
    char *s = render(m);
    assert_non_null(strstr(s, "c_seconds_bucket{le=\"0.5\"} 200000\n"));
    assert_non_null(strstr(s, "c_seconds_bucket{le=\"1\"} 300000\n"));
    assert_non_null(strstr(s, "c_seconds_bucket{le=\"+Inf\"} 400000\n"));
    assert_non_null(strstr(s, "c_seconds_count 400000\n"));
    free(s);
    np_metrics_destroy(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_and_gauges), cmocka_unit_test(test_milli),
        cmocka_unit_test(test_histogram),           cmocka_unit_test(test_unpublish),
        cmocka_unit_test(test_infoset),             cmocka_unit_test(test_escape),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
