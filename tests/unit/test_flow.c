/* Unit tests for np_flow: the JSON a flow becomes, read back by the workers' decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "flowbuf.h"
#include "np_record.h"

static void test_json_roundtrip(void **state) {
    (void)state;
    np_flow_t f = {.ts_ms = 1700000000123, .src_port = 51234, .dst_port = 443, .proto = 6, .bytes = 1500,
                   .packets = 3, .in_if = 7, .out_if = 9, .sampling = 100};
    np_ip_parse("10.0.0.1", 8, &f.src);
    np_ip_parse("2001:db8::5", 11, &f.dst);
    np_ip_parse("192.0.2.1", 9, &f.exporter);
    char buf[400];
    size_t n = np_flow_format(&f, buf, sizeof buf);
    assert_true(n > 0);
    assert_string_equal(buf, "{\"ts\":1700000000123,\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"2001:db8::5\",\"src_port\":51234,"
                             "\"dst_port\":443,\"proto\":\"tcp\",\"bytes\":1500,\"packets\":3,\"exporter\":\"192.0.2.1\","
                             "\"in_if\":7,\"out_if\":9,\"sampling\":100}");
    /* The extra keys are ignored by the record decoder (its general path): same record. */
    np_record_limits_t lim;
    np_record_limits_default(&lim);
    np_record_t r;
    char detail[128];
    assert_int_equal(np_record_decode(buf, n, -1, 1700000000123, &lim, &r, detail, sizeof detail), NP_REC_OK);
    assert_int_equal(r.ts_ms, f.ts_ms);
    assert_memory_equal(&r.src, &f.src, sizeof r.src);
    assert_memory_equal(&r.dst, &f.dst, sizeof r.dst);
    assert_int_equal(r.src_port, 51234);
    assert_int_equal(r.dst_port, 443);
    assert_int_equal(r.proto, 6);
    assert_int_equal(r.bytes, 1500);
    assert_int_equal(r.packets, 3);
    /* The fast path takes this layout too, and agrees with the general decoder. */
    np_record_t g;
    assert_int_equal(np_record_decode_general(buf, n, -1, 1700000000123, &lim, &g, detail, sizeof detail), NP_REC_OK);
    assert_memory_equal(&r, &g, sizeof r);
    /* A near miss (a key renamed) still decodes, through the general decoder. */
    char *k = strstr(buf, "in_if");
    k[0] = 'X';
    assert_int_equal(np_record_decode(buf, n, -1, 1700000000123, &lim, &r, detail, sizeof detail), NP_REC_OK);
    assert_memory_equal(&r, &g, sizeof r);
}

static void test_other_protocol_is_a_number(void **state) {
    (void)state;
    np_flow_t f = {.ts_ms = 1, .proto = 47, .bytes = 1, .packets = 1, .sampling = 1};
    np_ip_parse("10.0.0.1", 8, &f.src);
    np_ip_parse("10.0.0.2", 8, &f.dst);
    char buf[400];
    size_t n = np_flow_format(&f, buf, sizeof buf);
    assert_non_null(strstr(buf, "\"proto\":47,"));
    np_record_limits_t lim;
    np_record_limits_default(&lim);
    np_record_t r;
    char detail[128];
    assert_int_equal(np_record_decode(buf, n, -1, 1, &lim, &r, detail, sizeof detail), NP_REC_OK);
    assert_int_equal(r.proto, 47);
    assert_int_equal(np_flow_format(&f, buf, 40), 0); /* too small: nothing */
}

static void test_helpers(void **state) {
    (void)state;
    const uint8_t b[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(np_flow_be(b, 2), 0x0102);
    assert_true(np_flow_be(b, 8) == 0x0102030405060708ULL);
    np_ip_t ip;
    np_flow_ip4(&ip, b);
    assert_true(ip_is(&ip, "1.2.3.4"));
    assert_string_equal(np_fdec_err_name(NP_FDEC_TRUNCATED), "truncated");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_roundtrip),
        cmocka_unit_test(test_other_protocol_is_a_number),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
