/* Unit tests for np_kdd_stream: a connection slot's records classified into their panes
 * (per destination, late ones refused, bad ones reported), and the model reload keeping
 * the old model when the file is bad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_kdd_stream.h"

/* A SYN flood row (neptune) and a normal HTTP row of KDDTest+. */
static const char SYN[] = "0,tcp,private,S0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,123,6,1.00,1.00,0.00,0.00,"
                          "0.05,0.07,0.00,255,26,0.10,0.05,0.00,0.00,1.00,1.00,0.00,0.00,neptune,19";
static const char WEB[] = "0,tcp,http,SF,232,8153,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,5,5,0.20,0.20,0.00,0.00,"
                          "1.00,0.00,0.00,30,255,1.00,0.00,0.03,0.04,0.03,0.01,0.00,0.01,normal,21";

static int closed;
static void count_closed(void *ctx, np_partstate_t *ps, const np_pane_t *pane, uint64_t late) {
    (void)ctx, (void)ps, (void)late;
    assert_int_equal(np_classcount_sum(np_classmap_total(pane->classes)), 3);
    closed++;
}

static void test_add_to_panes(void **state) {
    (void)state;
    char err[256];
    np_kdd_stream_t *s = np_kdd_stream_new(NP_KDD_MODEL_PATH, NULL, err, sizeof(err));
    assert_non_null(s);
    np_pane_config_t cfg = {.pane_ms = 5000, .max_open_panes = 4, .max_sources = 1, .max_class_dests = 8};
    np_partstate_t *ps = np_partstate_new(0, &cfg);
    int64_t pane;
    const char *k1 = "10.20.0.1", *k2 = "10.20.0.2";
    assert_int_equal(np_kdd_stream_add(s, ps, SYN, strlen(SYN), k1, strlen(k1), 1000, 0, count_closed, NULL, &pane, err,
                                       sizeof(err)),
                     NP_PANE_ADDED);
    assert_int_equal(np_kdd_stream_add(s, ps, SYN, strlen(SYN), k1, strlen(k1), 1500, 1, count_closed, NULL, &pane, err,
                                       sizeof(err)),
                     NP_PANE_ADDED);
    /* No key: counted, as an unknown destination. */
    assert_int_equal(np_kdd_stream_add(s, ps, WEB, strlen(WEB), NULL, 0, 2000, 2, count_closed, NULL, &pane, err,
                                       sizeof(err)),
                     NP_PANE_ADDED);
    assert_int_equal(np_kdd_stream_add(s, ps, "1,2,3", 5, k2, strlen(k2), 2500, 3, count_closed, NULL, &pane, err,
                                       sizeof(err)),
                     -1);
    assert_int_equal(ps->next_offset, 4); /* consumed all the same */
    np_pane_t *p = NULL;
    for (size_t i = 0; i < cfg.max_open_panes; i++)
        if (ps->ring[i].start_ms == 0) p = &ps->ring[i];
    assert_non_null(p);
    assert_int_equal(np_classmap_total(p->classes)->n[NP_KDD_DOS], 2);
    assert_int_equal(np_classmap_total(p->classes)->n[NP_KDD_NORMAL], 1);
    assert_int_equal(np_classmap_count(p->classes), 1);
    assert_int_equal(np_classmap_other(p->classes)->n[NP_KDD_NORMAL], 1);
    assert_int_equal(np_classmap_evicted(p->classes), 0);
    /* A record in the next pane closes this one; one for the closed pane is late. */
    assert_int_equal(np_kdd_stream_add(s, ps, WEB, strlen(WEB), k2, strlen(k2), 5000, 4, count_closed, NULL, &pane, err,
                                       sizeof(err)),
                     NP_PANE_ADDED);
    assert_int_equal(closed, 1);
    assert_int_equal(np_kdd_stream_add(s, ps, SYN, strlen(SYN), k1, strlen(k1), 4999, 5, count_closed, NULL, &pane, err,
                                       sizeof(err)),
                     NP_PANE_LATE);
    assert_int_equal(pane, 0);
    assert_int_equal(np_kdd_stream_counts(s)[NP_KDD_DOS], 3); /* classified, late or not */
    np_partstate_destroy(&ps);
    np_kdd_stream_destroy(&s);
    assert_null(s);
}

static void test_reload_keeps_model_on_bad_file(void **state) {
    (void)state;
    char path[] = "/tmp/np-test-kdd-stream-XXXXXX", err[512];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *in = fopen(NP_KDD_MODEL_PATH, "rb"), *out = fdopen(fd, "wb");
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0) fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
    np_kdd_stream_t *s = np_kdd_stream_new(path, NULL, err, sizeof(err));
    assert_non_null(s);
    const char *v = np_kdd_stream_model_version(s);
    char version[64];
    snprintf(version, sizeof(version), "%s", v);
    out = fopen(path, "wb");
    fputs("netpulse-kdd-model 1\n", out);
    fclose(out);
    assert_int_equal(np_kdd_stream_reload(s, err, sizeof(err)), -1);
    assert_string_equal(np_kdd_stream_model_version(s), version);
    double conf;
    assert_int_equal(np_kdd_stream_classify(s, SYN, strlen(SYN), &conf, err, sizeof(err)), NP_KDD_DOS);
    np_kdd_stream_destroy(&s);
    remove(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_to_panes),
        cmocka_unit_test(test_reload_keeps_model_on_bad_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
