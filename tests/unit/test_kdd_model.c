/* Unit tests for np_kdd_model (the NSL-KDD random forest: loading, validation, prediction). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_kdd_model.h"

/* Two trees over duration (raw) and protocol_type=tcp/udp (one-hot). Tree 0 splits duration
 * at a double that is not a float32 (1 + 2^-30): 1.0f goes left, the next float right. */
static const char BODY[] =
    "netpulse-kdd-model 1\n"
    "meta version test-1\n"
    "meta note two trees\n"
    "classes 5 normal DoS Probe R2L U2R\n"
    "weights 0x1p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+1\n"
    "inputs 3\n"
    "i num 0\n"
    "i cat 1 tcp\n"
    "i cat 1 udp\n"
    "trees 2 6\n"
    "tree 3\n"
    "s 0 0x1.00000004p+0 1 2\n"
    "l 0x1p+0 0x0p+0 0x0p+0 0x0p+0 0x0p+0\n"
    "l 0x0p+0 0x1p+0 0x0p+0 0x0p+0 0x0p+0\n"
    "tree 3\n"
    "s 2 0x1p-1 1 2\n"
    "l 0x1p-1 0x0p+0 0x0p+0 0x0p+0 0x1p-1\n"
    "l 0x0p+0 0x0p+0 0x1p+0 0x0p+0 0x0p+0\n"
    "end\n";

static uint32_t crc32_ref(const char *b, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= (unsigned char)b[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* body + its checksum line */
static char *with_crc(const char *body)
{
    char *s = malloc(strlen(body) + 32);
    sprintf(s, "%scrc32 %08x\n", body, crc32_ref(body, strlen(body)));
    return s;
}

static int parse(const char *body, np_kdd_model_t **m, char *err)
{
    char *s  = with_crc(body);
    int   rc = np_kdd_model_parse(s, strlen(s), m, err, 256);
    free(s);
    return rc;
}

static void test_load_and_predict(void **state)
{
    (void)state;
    np_kdd_model_t *m = NULL;
    char            err[256];
    assert_int_equal(parse(BODY, &m, err), 0);
    assert_string_equal(np_kdd_model_version(m), "test-1");
    assert_string_equal(np_kdd_model_meta(m, "note"), "two trees");
    assert_int_equal(np_kdd_model_ninputs(m), 3);
    assert_int_equal(np_kdd_model_ntrees(m), 2);
    double conf;
    float  x[3] = {1.0f, 1.0f, 0.0f}; /* tcp, duration 1: normal + half normal/half U2R */
    /* sums 1.5, 0, 0, 0, 0.5 -> /2 = 0.75 0.25; weighted 0.75 vs 0.5: normal */
    assert_int_equal(np_kdd_model_predict(m, x, &conf), NP_KDD_NORMAL);
    assert_true(conf == 0.75);
    x[0] = nextafterf(1.0f, 2.0f); /* > 1 + 2^-30 as double: right: DoS */
    assert_int_equal(np_kdd_model_predict(m, x, &conf), NP_KDD_DOS);
    assert_true(conf == 0.5); /* DoS 0.5, normal 0.25, U2R 0.25 x 2: tie, DoS comes first */
    x[2] = 1.0f; /* udp too: tree 1 goes right: DoS 0.5 = Probe 0.5, the first wins */
    assert_int_equal(np_kdd_model_predict(m, x, &conf), NP_KDD_DOS);
    np_kdd_model_destroy(&m);
    assert_null(m);
}

static void test_encode(void **state)
{
    (void)state;
    np_kdd_model_t *m = NULL;
    char            err[256];
    assert_int_equal(parse(BODY, &m, err), 0);
    np_kdd_conn_t c = {.label = -1};
    c.num[0]        = 2.5;
    strcpy(c.sym[0], "udp");
    float x[3];
    np_kdd_model_encode(m, &c, x);
    assert_true(x[0] == 2.5f && x[1] == 0.0f && x[2] == 1.0f);
    strcpy(c.sym[0], "icmp"); /* unseen value: no one-hot set */
    np_kdd_model_encode(m, &c, x);
    assert_true(x[1] == 0.0f && x[2] == 0.0f);
    double conf;
    assert_int_equal(np_kdd_model_classify(m, &c, &conf), NP_KDD_DOS);
    np_kdd_model_destroy(&m);
}

/* body with the first occurrence of `from` replaced by `to` */
static void expect_error(const char *from, const char *to, const char *want)
{
    char body[2048];
    const char *p = strstr(BODY, from);
    assert_non_null(p);
    snprintf(body, sizeof body, "%.*s%s%s", (int)(p - BODY), BODY, to, p + strlen(from));
    np_kdd_model_t *m = NULL;
    char            err[256];
    assert_int_equal(parse(body, &m, err), -1);
    assert_null(m);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
}

static void test_bad_files(void **state)
{
    (void)state;
    expect_error("netpulse-kdd-model 1", "netpulse-kdd-model 2", "unsupported");
    expect_error("netpulse-kdd-model 1", "hello", "not a netpulse-kdd-model");
    expect_error("meta version test-1\n", "", "no 'meta version'");
    expect_error("R2L U2R", "U2R R2L", "class 3 is U2R, want R2L");
    expect_error("i cat 1 udp", "i cat 1 tcp", "listed twice");
    expect_error("i num 0", "i num 1", "bad input 0");
    expect_error("s 2 0x1p-1 1 2", "s 3 0x1p-1 1 2", "bad split node");
    expect_error("s 2 0x1p-1 1 2", "s 2 0x1p-1 2 2", "bad split node");
    expect_error("trees 2 6", "trees 2 7", "7");
    expect_error("trees 2 6", "trees 2 50000000", "more than the rest of the file can hold");
    expect_error("end\n", "", "want 'end'");
    expect_error("l 0x0p+0 0x0p+0 0x1p+0", "l 0x0p+0 0x0p+0 0x1p+1", "bad leaf probability");
}

static void test_checksum(void **state)
{
    (void)state;
    np_kdd_model_t *m = NULL;
    char            err[256];
    char           *s = with_crc(BODY);
    s[strlen(s) - 20] ^= 1; /* a bit flipped in a leaf */
    assert_int_equal(np_kdd_model_parse(s, strlen(s), &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "checksum mismatch"));
    assert_int_equal(np_kdd_model_parse(BODY, strlen(BODY), &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "no crc32 line"));
    s[strlen(s) / 2] = 0; /* truncated */
    assert_int_equal(np_kdd_model_parse(s, strlen(s), &m, err, sizeof err), -1);
    free(s);
}

static void test_load_errors(void **state)
{
    (void)state;
    np_kdd_model_t *m = NULL;
    char            err[256];
    assert_int_equal(np_kdd_model_load("/nonexistent/kdd.model", &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "kdd model /nonexistent/kdd.model: No such file"));
}

/* The model committed in models/ loads and has the documented shape. */
static void test_committed_model(void **state)
{
    (void)state;
    np_kdd_model_t *m = NULL;
    char            err[256];
    if (np_kdd_model_load(NP_KDD_MODEL_PATH, &m, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(np_kdd_model_version(m), "kdd-rf-2");
    assert_int_equal(np_kdd_model_ntrees(m), 12);
    assert_non_null(np_kdd_model_meta(m, "train_sha256"));
    np_kdd_conn_t c;
    const char    row[] = "0,tcp,private,S0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,123,6,1.00,"
                          "1.00,0.00,0.00,0.05,0.07,0.00,255,26,0.10,0.05,0.00,0.00,1.00,1.00,"
                          "0.00,0.00,neptune,19";
    assert_int_equal(np_kdd_conn_parse(row, strlen(row), &c, err, sizeof err), 0);
    double conf;
    assert_int_equal(np_kdd_model_classify(m, &c, &conf), NP_KDD_DOS); /* a SYN flood */
    assert_true(conf > 0.9);
    np_kdd_model_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_and_predict), cmocka_unit_test(test_encode),
        cmocka_unit_test(test_bad_files),        cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_load_errors),      cmocka_unit_test(test_committed_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
