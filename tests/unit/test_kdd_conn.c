/* Unit tests for np_kdd_conn (NSL-KDD connection records as CSV or JSON). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_kdd_conn.h"

/* The first row of KDDTrain+.txt (the data README quotes it). */
static const char ROW[] =
    "0,tcp,ftp_data,SF,491,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,2,0.00,0.00,0.00,0.00,1.00,0.00,"
    "0.00,150,25,0.17,0.03,0.17,0.00,0.00,0.00,0.05,0.00,normal,20\n";

static void test_csv_row(void **state)
{
    (void)state;
    np_kdd_conn_t c;
    char          err[128];
    assert_int_equal(np_kdd_conn_parse(ROW, strlen(ROW), &c, err, sizeof err), 0);
    assert_string_equal(c.sym[0], "tcp");
    assert_string_equal(c.sym[1], "ftp_data");
    assert_string_equal(c.sym[2], "SF");
    assert_true(c.num[4] == 491.0);
    assert_true(c.num[31] == 150.0);
    assert_true(c.num[33] == 0.17); /* strtod: the same double as Python's float("0.17") */
    assert_true(c.num[39] == 0.05);
    assert_int_equal(c.label, NP_KDD_NORMAL);
}

static void test_csv_without_label(void **state)
{
    (void)state;
    char row[512];
    snprintf(row, sizeof row, "%s", ROW);
    *strstr(row, ",normal") = 0; /* the 41 features only */
    np_kdd_conn_t c;
    assert_int_equal(np_kdd_conn_parse_csv(row, strlen(row), &c, NULL, 0), 0);
    assert_int_equal(c.label, -1);
}

static void test_csv_errors(void **state)
{
    (void)state;
    np_kdd_conn_t c;
    char          err[128];
    assert_int_equal(np_kdd_conn_parse_csv("1,tcp,http", 10, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "3 fields"));
    char row[512];
    snprintf(row, sizeof row, "%s", ROW);
    row[0] = 'x';
    assert_int_equal(np_kdd_conn_parse_csv(row, strlen(row), &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "duration (column 1) is not a number"));
    snprintf(row, sizeof row, "%.*s,1,2", (int)strlen(ROW) - 1, ROW);
    assert_int_equal(np_kdd_conn_parse_csv(row, strlen(row), &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than 43 fields"));
    snprintf(row, sizeof row, "0,,http%s", strstr(ROW, ",SF"));
    assert_int_equal(np_kdd_conn_parse_csv(row, strlen(row), &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty protocol_type"));
}

/* The JSON form of ROW: every column by name. */
static void row_as_json(char *out, size_t n, const char *skip)
{
    np_kdd_conn_t c;
    assert_int_equal(np_kdd_conn_parse_csv(ROW, strlen(ROW), &c, NULL, 0), 0);
    size_t len = (size_t)snprintf(out, n, "{");
    for (int col = 0; col < NP_KDD_NCOLS; col++) {
        if (skip && strcmp(skip, np_kdd_col_name(col)) == 0)
            continue;
        if (np_kdd_col_is_symbolic(col))
            len += (size_t)snprintf(out + len, n - len, "\"%s\": \"%s\", ", np_kdd_col_name(col),
                                    c.sym[col - 1]);
        else
            len += (size_t)snprintf(out + len, n - len, "\"%s\":%.17g,", np_kdd_col_name(col),
                                    c.num[col]);
    }
    snprintf(out + len, n - len, "\"label\":\"smurf\",\"dst_ip\":\"10.0.0.1\"}");
}

static void test_json_equals_csv(void **state)
{
    (void)state;
    char          js[4096], err[128];
    np_kdd_conn_t a, b;
    row_as_json(js, sizeof js, NULL);
    assert_int_equal(np_kdd_conn_parse(js, strlen(js), &a, err, sizeof err), 0);
    assert_int_equal(np_kdd_conn_parse(ROW, strlen(ROW), &b, err, sizeof err), 0);
    assert_memory_equal(a.num, b.num, sizeof a.num);
    assert_memory_equal(a.sym, b.sym, sizeof a.sym);
    assert_int_equal(a.label, NP_KDD_DOS);
    row_as_json(js, sizeof js, "dst_host_count");
    assert_int_equal(np_kdd_conn_parse(js, strlen(js), &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "missing dst_host_count (column 32)"));
    assert_int_equal(np_kdd_conn_parse("{\"duration\":", 12, &a, err, sizeof err), -1);
}

static void test_labels(void **state)
{
    (void)state;
    assert_int_equal(np_kdd_label_class("neptune"), NP_KDD_DOS);
    assert_int_equal(np_kdd_label_class("mscan"), NP_KDD_PROBE);
    assert_int_equal(np_kdd_label_class("worm"), NP_KDD_R2L);
    assert_int_equal(np_kdd_label_class("httptunnel"), NP_KDD_U2R);
    assert_int_equal(np_kdd_label_class("nonsense"), -1);
    assert_string_equal(np_kdd_class_name(NP_KDD_R2L), "R2L");
    assert_null(np_kdd_class_name(5));
}

/* The fast path gives strtod's double, bit for bit, on every form it takes (random
 * mantissas up to 15 digits, every decimal point position, signs), and refuses the rest. */
static void test_decimal_equals_strtod(void **state)
{
    (void)state;
    uint64_t r = 88172645463325252ull;
    char     t[40];
    for (int i = 0; i < 2000000; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17; /* xorshift64 */
        int      nd = 1 + (int)(r % 15), point = (int)((r >> 8) % (unsigned)(nd + 1)), k = 0;
        uint64_t d  = r >> 16;
        if ((r >> 4) % 7 == 0)
            t[k++] = '-';
        for (int j = 0; j < nd; j++) {
            if (j == point && j > 0)
                t[k++] = '.';
            t[k++] = (char)('0' + (j == 0 && nd > 1 && i % 3 ? 1 + d % 9 : d % 10));
            d /= 10;
            if (!d)
                d = r ^ (uint64_t)i * 0x9e3779b97f4a7c15ull;
        }
        t[k]       = 0;
        double got = 0, want = strtod(t, NULL);
        assert_int_equal(np_kdd_decimal(t, strlen(t), &got), 0);
        if (memcmp(&got, &want, sizeof got) != 0)
            fail_msg("%s: %a != strtod's %a", t, got, want);
    }
    double v;
    const char *other[] = {"1e5", ".5", "1.", "", "-", "+1", "1.2.3", "0x10", "1234567890123456", "nan", " 1"};
    for (size_t i = 0; i < sizeof other / sizeof *other; i++)
        assert_int_equal(np_kdd_decimal(other[i], strlen(other[i]), &v), -1);
    assert_int_equal(np_kdd_decimal("0.07,1", 4, &v), 0); /* only the given length */
    assert_true(v == 0.07);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_row),         cmocka_unit_test(test_csv_without_label),
        cmocka_unit_test(test_csv_errors),      cmocka_unit_test(test_json_equals_csv),
        cmocka_unit_test(test_labels),          cmocka_unit_test(test_decimal_equals_strtod),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
