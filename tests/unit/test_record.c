/*
 * Unit tests for np_record: every accepted format decoded to exact values, and every
 * rejection reason with a representative input, so a change in what the worker accepts
 * shows up here rather than as a shift in the dead-letter metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "np_record.h"

/* 2023-11-14T22:13:20Z: every record time below is near this "now". */
#define NOW_MS 1700000000000LL
#define NO_KAFKA_TS (-1)
#define DETAIL_LEN 128

static np_record_limits_t limits(void)
{
    np_record_limits_t lim;
    np_record_limits_default(&lim);
    lim.max_future_ms = 86400000; /* the cases below are written for one day */
    return lim;
}

static np_record_reason_t decode_n(const char *s, size_t n, int64_t kafka_ts, np_record_t *rec,
                                   char *detail)
{
    np_record_limits_t lim = limits();
    return np_record_decode(s, n, kafka_ts, NOW_MS, &lim, rec, detail, DETAIL_LEN);
}

/* Decodes a NUL-terminated record that must be accepted. */
static np_record_t ok_rec(const char *s, int64_t kafka_ts)
{
    np_record_t rec;
    char detail[DETAIL_LEN];
    memset(&rec, 0xa5, sizeof rec);
    np_record_reason_t r = decode_n(s, strlen(s), kafka_ts, &rec, detail);
    if (r != NP_REC_OK)
        fail_msg("rejected %s: %s (%s)", s, np_record_reason_name(r), detail);
    return rec;
}

/* Decodes a record (n bytes) that must be rejected with `want`; if `in_detail` is given,
 * the detail must contain it. */
static void bad_n(const char *s, size_t n, int64_t kafka_ts, np_record_reason_t want,
                  const char *in_detail)
{
    np_record_t rec;
    char detail[DETAIL_LEN];
    memset(detail, 'x', sizeof detail);
    np_record_reason_t r = decode_n(s, n, kafka_ts, &rec, detail);
    if (r != want)
        fail_msg("%.*s: want %s, got %s (%s)", (int)n, s, np_record_reason_name(want),
                 np_record_reason_name(r), r == NP_REC_OK ? "" : detail);
    assert_non_null(memchr(detail, '\0', sizeof detail));
    assert_true(strlen(detail) > 0);
    if (in_detail && !strstr(detail, in_detail))
        fail_msg("%.*s: detail \"%s\" lacks \"%s\"", (int)n, s, detail, in_detail);
}

static void bad(const char *s, int64_t kafka_ts, np_record_reason_t want, const char *in_detail)
{
    bad_n(s, strlen(s), kafka_ts, want, in_detail);
}

static void assert_ip(const np_ip_t *ip, const char *want)
{
    char buf[64];
    size_t n = np_ip_format(ip, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

/* ---------------------------------------------------------------- formats */

static void test_netpulse_json(void **state)
{
    (void)state;
    np_record_t r = ok_rec("{\"ts\":1700000000123,\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"192.168.1.5\","
                           "\"src_port\":51234,\"dst_port\":443,\"proto\":\"tcp\",\"bytes\":1500,"
                           "\"packets\":3}",
                           NO_KAFKA_TS);
    assert_int_equal(r.ts_ms, 1700000000123LL);
    assert_ip(&r.src, "10.0.0.1");
    assert_ip(&r.dst, "192.168.1.5");
    assert_true(np_ip_is_v4(&r.src));
    assert_int_equal(r.src_port, 51234);
    assert_int_equal(r.dst_port, 443);
    assert_int_equal(r.proto, NP_PROTO_TCP);
    assert_int_equal(r.bytes, 1500);
    assert_int_equal(r.packets, 3);
}

static void test_netpulse_json_whitespace(void **state)
{
    (void)state;
    np_record_t r = ok_rec(" \r\n\t{ \"ts\" : 1700000000123 ,\n \"src_ip\":\"10.0.0.1\" ,"
                           "\"dst_ip\" :\"10.0.0.2\",\"proto\":17 }\r\n ",
                           NO_KAFKA_TS);
    assert_int_equal(r.ts_ms, 1700000000123LL);
    assert_int_equal(r.proto, NP_PROTO_UDP);
    assert_int_equal(r.src_port, 0);
    assert_int_equal(r.dst_port, 0);
    assert_int_equal(r.bytes, 0);
    assert_int_equal(r.packets, 1);
}

static void test_tutorial_epoch_seconds(void **state)
{
    (void)state;
    np_record_t r = ok_rec("{\"timestamp\":1700000000,\"source_ip\":\"10.1.2.3\","
                           "\"destination_ip\":\"8.8.8.8\",\"protocol\":\"UDP\",\"bytes_sent\":512}",
                           NO_KAFKA_TS);
    assert_int_equal(r.ts_ms, 1700000000000LL);
    assert_ip(&r.src, "10.1.2.3");
    assert_ip(&r.dst, "8.8.8.8");
    assert_int_equal(r.proto, NP_PROTO_UDP);
    assert_int_equal(r.bytes, 512);
    assert_int_equal(r.packets, 1); /* absent */
    assert_int_equal(r.src_port, 0);
    assert_int_equal(r.dst_port, 0);
}

static void test_tutorial_epoch_ms(void **state)
{
    (void)state;
    np_record_t r = ok_rec("{\"timestamp\":1699999999999,\"source_ip\":\"1.1.1.1\","
                           "\"destination_ip\":\"2.2.2.2\",\"bytes\":7}",
                           NO_KAFKA_TS);
    assert_int_equal(r.ts_ms, 1699999999999LL);
    assert_int_equal(r.bytes, 7);
}

static void test_tutorial_fractional_seconds(void **state)
{
    (void)state;
    const char *fmt = "{\"timestamp\":%s,\"source_ip\":\"1.1.1.1\",\"destination_ip\":\"2.2.2.2\"}";
    static const struct {
        const char *ts;
        int64_t want;
    } cases[] = {
        {"1700000000.5", 1700000000500LL},
        {"1700000000.123456", 1700000000123LL}, /* truncated, not rounded */
        {"1700000000.0", 1700000000000LL},
        {"1.7e9", 1700000000000LL},
        {"1.7000000005E+9", 1700000000500LL},
        {"\"1700000000.25\"", 1700000000250LL},
        {"1.7e12", 1700000000000LL}, /* >= 1e11: milliseconds */
        {"100000000000", 100000000000LL}, /* 1e11: milliseconds */
        {"0", 0},
        {"-0", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, fmt, cases[i].ts);
        np_record_t r = ok_rec(buf, NO_KAFKA_TS);
        if (r.ts_ms != cases[i].want)
            fail_msg("%s: ts_ms %lld, want %lld", cases[i].ts, (long long)r.ts_ms,
                     (long long)cases[i].want);
    }
}

static void test_seconds_ms_boundary(void **state)
{
    (void)state;
    /* Just under 1e11 is seconds (year 5138); a "now" far ahead lets it through. */
    np_record_limits_t lim = limits();
    np_record_t r;
    char detail[DETAIL_LEN];
    const char *s = "{\"ts\":99999999999.999,\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\"}";
    assert_int_equal(np_record_decode(s, strlen(s), -1, INT64_MAX, &lim, &r, detail, sizeof detail),
                     NP_REC_OK);
    assert_int_equal(r.ts_ms, 99999999999999LL);
    s = "{\"ts\":\"100000000000\",\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\"}";
    assert_int_equal(np_record_decode(s, strlen(s), -1, INT64_MAX, &lim, &r, detail, sizeof detail),
                     NP_REC_OK);
    assert_int_equal(r.ts_ms, 100000000000LL);
    s = "{\"ts\":9223372036854775807,\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\"}";
    assert_int_equal(np_record_decode(s, strlen(s), -1, INT64_MAX, &lim, &r, detail, sizeof detail),
                     NP_REC_OK);
    assert_int_equal(r.ts_ms, INT64_MAX);
}

static void test_tutorial_iso8601(void **state)
{
    (void)state;
    const char *fmt = "{\"timestamp\":\"%s\",\"source_ip\":\"1.1.1.1\",\"destination_ip\":\"2.2.2.2\"}";
    static const struct {
        const char *ts;
        int64_t want;
    } cases[] = {
        {"2023-11-14T22:13:20Z", 1700000000000LL},
        {"2023-11-14T22:13:20.123Z", 1700000000123LL},
        {"2023-11-14T22:13:20.1Z", 1700000000100LL},
        {"2023-11-14T22:13:20.123999Z", 1700000000123LL},
        {"2023-11-14t22:13:20z", 1700000000000LL},
        {"2023-11-14T23:13:20+01:00", 1700000000000LL},
        {"2023-11-14T23:13:20+0100", 1700000000000LL},
        {"2023-11-14T16:43:20.5-05:30", 1700000000500LL},
        {"2023-11-14T22:13:20", 1700000000000LL},  /* no zone = UTC */
        {"2023-11-14 22:13:20", 1700000000000LL},  /* space separator */
        {"2023-11-14 22:13:20,250", 1700000000250LL},
        {"2020-02-29T00:00:00Z", 1582934400000LL}, /* leap day */
        {"1970-01-01T00:00:00Z", 0},
        {"1700000000", 1700000000000LL},           /* numeric string: epoch s */
        {"1700000000123", 1700000000123LL},        /* numeric string: epoch ms */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, fmt, cases[i].ts);
        np_record_t r = ok_rec(buf, NO_KAFKA_TS);
        if (r.ts_ms != cases[i].want)
            fail_msg("%s: ts_ms %lld, want %lld", cases[i].ts, (long long)r.ts_ms,
                     (long long)cases[i].want);
    }
}

static void test_all_field_names(void **state)
{
    (void)state;
    np_record_t r = ok_rec("{\"timestamp\":1700000000123,\"source_ip\":\"10.0.0.1\","
                           "\"destination_ip\":\"10.0.0.2\",\"source_port\":1,"
                           "\"destination_port\":2,\"protocol\":\"icmp\",\"bytes_sent\":3,"
                           "\"packets\":4}",
                           NO_KAFKA_TS);
    assert_int_equal(r.ts_ms, 1700000000123LL);
    assert_ip(&r.src, "10.0.0.1");
    assert_ip(&r.dst, "10.0.0.2");
    assert_int_equal(r.src_port, 1);
    assert_int_equal(r.dst_port, 2);
    assert_int_equal(r.proto, NP_PROTO_ICMP);
    assert_int_equal(r.bytes, 3);
    assert_int_equal(r.packets, 4);
    /* Near-misses of known names are unknown keys, ignored. */
    r = ok_rec("{\"ts\":1700000000123,\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"10.0.0.2\","
               "\"TS\":\"x\",\"src_ip \":5,\"bytes_\":\"x\",\"Proto\":true,\"packet\":-1,"
               "\"destination_ports\":70000}",
               NO_KAFKA_TS);
    assert_ip(&r.src, "10.0.0.1");
    assert_int_equal(r.bytes, 0);
    assert_int_equal(r.proto, 0);
    assert_int_equal(r.packets, 1);
    assert_int_equal(r.dst_port, 0);
}

static void test_numeric_strings(void **state)
{
    (void)state;
    np_record_t r = ok_rec("{\"ts\":\"1700000000123\",\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"10.0.0.2\","
                           "\"src_port\":\"51234\",\"dst_port\":\"443\",\"proto\":\"6\","
                           "\"bytes\":\"1500\",\"packets\":\"3\"}",
                           NO_KAFKA_TS);
    assert_int_equal(r.ts_ms, 1700000000123LL);
    assert_int_equal(r.src_port, 51234);
    assert_int_equal(r.dst_port, 443);
    assert_int_equal(r.proto, 6);
    assert_int_equal(r.bytes, 1500);
    assert_int_equal(r.packets, 3);
}

static void test_integral_decimals(void **state)
{
    (void)state;
    np_record_t r = ok_rec("{\"ts\":1700000000123,\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"10.0.0.2\","
                           "\"dst_port\":4.43e2,\"bytes\":1.5e3,\"packets\":3.0,\"src_port\":0}",
                           NO_KAFKA_TS);
    assert_int_equal(r.dst_port, 443);
    assert_int_equal(r.bytes, 1500);
    assert_int_equal(r.packets, 3);
    r = ok_rec("{\"ts\":1700000000123,\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"10.0.0.2\","
               "\"bytes\":1099511627776,\"packets\":4294967296}",
               NO_KAFKA_TS);
    assert_int_equal(r.bytes, 1ULL << 40); /* exactly at the limits */
    assert_int_equal(r.packets, 1ULL << 32);
}

static void test_protocols(void **state)
{
    (void)state;
    static const struct {
        const char *proto;
        int want;
    } cases[] = {
        {"\"tcp\"", 6},   {"\"TCP\"", 6},    {"\"Udp\"", 17},     {"\"icmp\"", 1},
        {"\"ICMPv6\"", 58}, {"\"ipv6-icmp\"", 58}, {"\"gre\"", 47}, {"\"esp\"", 50},
        {"\"AH\"", 51},   {"\"sctp\"", 132}, {"0", 0},            {"255", 255},
        {"\"47\"", 47},   {"\"t\\u0063p\"", 6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[256];
        snprintf(buf, sizeof buf,
                 "{\"ts\":1700000000123,\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"proto\":%s}",
                 cases[i].proto);
        np_record_t r = ok_rec(buf, NO_KAFKA_TS);
        if (r.proto != cases[i].want)
            fail_msg("proto %s: %d, want %d", cases[i].proto, r.proto, cases[i].want);
    }
}

static void test_ipv6_records(void **state)
{
    (void)state;
    np_record_t r = ok_rec("{\"ts\":1700000000123,\"src_ip\":\"2001:db8::1\",\"dst_ip\":\"::1\","
                           "\"proto\":\"icmpv6\"}",
                           NO_KAFKA_TS);
    assert_ip(&r.src, "2001:db8::1");
    assert_ip(&r.dst, "::1");
    assert_false(np_ip_is_v4(&r.src));
    assert_false(np_ip_is_v4(&r.dst));
    assert_int_equal(r.proto, NP_PROTO_ICMPV6);
    static const uint8_t loopback[16] = {[15] = 1};
    assert_memory_equal(r.dst.b, loopback, 16);

    /* An IPv4-mapped address is the same key as the dotted quad. */
    np_record_t m = ok_rec("{\"ts\":1700000000123,\"src_ip\":\"::ffff:10.0.0.1\",\"dst_ip\":\"10.0.0.1\"}",
                           NO_KAFKA_TS);
    assert_true(np_ip_is_v4(&m.src));
    assert_memory_equal(m.src.b, m.dst.b, 16);
    assert_ip(&m.src, "10.0.0.1");
}

static void test_csv(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "10.0.0.1,192.168.1.5,1500",
        "10.0.0.1,192.168.1.5,1500\n",
        "10.0.0.1,192.168.1.5,1500\r\n",
        "  10.0.0.1 , 192.168.1.5\t,  1500  \r\n",
        "\"10.0.0.1\",\"192.168.1.5\",\"1500\"",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        np_record_t r = ok_rec(lines[i], 1700000000999LL);
        assert_int_equal(r.ts_ms, 1700000000999LL);
        assert_ip(&r.src, "10.0.0.1");
        assert_ip(&r.dst, "192.168.1.5");
        assert_int_equal(r.bytes, 1500);
        assert_int_equal(r.proto, 0);
        assert_int_equal(r.src_port, 0);
        assert_int_equal(r.dst_port, 0);
        assert_int_equal(r.packets, 1);
    }
    np_record_t r = ok_rec("2001:db8::2,::1,0\n", 5);
    assert_ip(&r.src, "2001:db8::2");
    assert_ip(&r.dst, "::1");
    assert_int_equal(r.bytes, 0);
    assert_int_equal(r.ts_ms, 5);
}

static void test_kafka_timestamp_fallback(void **state)
{
    (void)state;
    np_record_t r = ok_rec("{\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"10.0.0.2\"}", 1700000000777LL);
    assert_int_equal(r.ts_ms, 1700000000777LL);
    /* A time in the record wins over the Kafka timestamp. */
    r = ok_rec("{\"ts\":1700000000123,\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"10.0.0.2\"}",
               1700000000777LL);
    assert_int_equal(r.ts_ms, 1700000000123LL);
    /* null counts as absent */
    r = ok_rec("{\"ts\":null,\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"10.0.0.2\",\"packets\":null}",
               0);
    assert_int_equal(r.ts_ms, 0);
    assert_int_equal(r.packets, 1);
}

static void test_skips_nested_unknown_values(void **state)
{
    (void)state;
    np_record_t r = ok_rec(
        "{\"meta\":{\"a\":[1,2,{\"b\":3}],\"c\":\"}]\\\"\"},\"src_ip\":\"10.0.0.1\","
        "\"tags\":[],\"o\":{},\"n\":[[[]],{\"x\":[null,true,false,-1.5e-3,\"s\"]}],"
        "\"dst_ip\":\"10.0.0.2\",\"ts\":1700000000123,\"note\":\"a \\\"quoted\\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u00e9 \\ud83d\\ude00\"}",
        NO_KAFKA_TS);
    assert_ip(&r.src, "10.0.0.1");
    assert_ip(&r.dst, "10.0.0.2");
    assert_int_equal(r.ts_ms, 1700000000123LL);
}

static void test_duplicate_keys_last_wins(void **state)
{
    (void)state;
    np_record_t r = ok_rec("{\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":1700000000001,"
                           "\"dst_port\":70000,\"dst_port\":80,\"src_ip\":\"3.3.3.3\","
                           "\"timestamp\":1700000000002,\"bytes\":1,\"bytes_sent\":2}",
                           NO_KAFKA_TS);
    assert_ip(&r.src, "3.3.3.3");
    assert_int_equal(r.dst_port, 80); /* the bad first value is overwritten */
    assert_int_equal(r.ts_ms, 1700000000002LL);
    assert_int_equal(r.bytes, 2);
}

static void test_escaped_keys_and_values(void **state)
{
    (void)state;
    np_record_t r = ok_rec("{\"src\\u005fip\":\"10.0.0.\\u0031\",\"dst_ip\":\"::\\u0031\","
                           "\"\\u0074s\":\"2023-11-14T22:13:20\\u005A\"}",
                           NO_KAFKA_TS);
    assert_ip(&r.src, "10.0.0.1");
    assert_ip(&r.dst, "::1");
    assert_int_equal(r.ts_ms, 1700000000000LL);
}

static void test_utf8_bom(void **state)
{
    (void)state;
    np_record_t r = ok_rec("\xef\xbb\xbf{\"ts\":1700000000123,\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\"}",
                           NO_KAFKA_TS);
    assert_int_equal(r.ts_ms, 1700000000123LL);
}

static void test_depth_limit(void **state)
{
    (void)state;
    /* The top-level object is level 1: 15 nested levels are fine, 16 are one too many. */
    for (int nested = 14; nested <= 17; nested++) {
        char buf[512];
        size_t n = 0;
        n += (size_t)snprintf(buf + n, sizeof buf - n, "{\"x\":");
        for (int i = 0; i < nested; i++) {
            if (i % 2)
                buf[n++] = '[';
            else
                n += (size_t)snprintf(buf + n, sizeof buf - n, "{\"k\":");
        }
        buf[n++] = '1';
        for (int i = nested - 1; i >= 0; i--)
            buf[n++] = (i % 2) ? ']' : '}';
        n += (size_t)snprintf(buf + n, sizeof buf - n,
                              ",\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":1}");
        if (nested <= 15)
            (void)ok_rec(buf, NO_KAFKA_TS);
        else
            bad(buf, NO_KAFKA_TS, NP_REC_MALFORMED_JSON, "nesting deeper than 16");
    }
}

/* ---------------------------------------------------------------- rejections */

static void test_empty(void **state)
{
    (void)state;
    bad_n(NULL, 0, 1, NP_REC_EMPTY, NULL);
    bad_n("", 0, 1, NP_REC_EMPTY, NULL);
    bad(" \t\r\n  ", 1, NP_REC_EMPTY, NULL);
    bad("\n", 1, NP_REC_EMPTY, NULL);
}

static void test_oversized(void **state)
{
    (void)state;
    char big[64 * 1024 + 2];
    memset(big, ' ', sizeof big);
    bad_n(big, 64 * 1024 + 1, 1, NP_REC_OVERSIZED, "65537 bytes > 65536");
    bad_n(big, 64 * 1024, 1, NP_REC_EMPTY, NULL); /* at the limit: scanned */

    /* Checked before anything else, even before the syntax. */
    np_record_limits_t lim = limits();
    lim.max_bytes = 10;
    np_record_t rec;
    char detail[DETAIL_LEN];
    const char *s = "{\"ts\":1,\"src_ip\":\"1.1.1.1\"";
    assert_int_equal(np_record_decode(s, strlen(s), 1, NOW_MS, &lim, &rec, detail, sizeof detail),
                     NP_REC_OVERSIZED);
}

static void test_truncated_json(void **state)
{
    (void)state;
    const char *s = "{\"ts\":1700000000123,\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"2001:db8::1\","
                    "\"meta\":[1,{\"a\":true,\"b\":null,\"c\":false}],\"note\":\"\\u00e9\\n\","
                    "\"bytes\":1.5e3,\"proto\":\"tcp\"}";
    size_t len = strlen(s);
    (void)ok_rec(s, NO_KAFKA_TS);
    /* Every proper prefix is incomplete. */
    for (size_t n = 1; n < len; n++)
        bad_n(s, n, NO_KAFKA_TS, NP_REC_MALFORMED_JSON, NULL);
    bad("{\"ts\":1,\"src_ip\":\"1.1.1.1\"", NO_KAFKA_TS, NP_REC_MALFORMED_JSON,
        "unexpected end of input at offset 26");
}

static void test_malformed_json(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        const char *detail;
    } cases[] = {
        {"{\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":1}x", "trailing data at offset 46"},
        {"{\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":1} {}", "trailing data"},
        {"{\"src_ip\":\"1.1.1.1\",}", "unexpected character '}' at offset 20"},
        {"{\"src_ip\" \"1.1.1.1\"}", "unexpected character '\"' at offset 10"},
        {"{\"src_ip\":x}", "unexpected character 'x' at offset 10"},
        {"{src_ip:1}", "unexpected character 's' at offset 1"},
        {"{'src_ip':1}", "unexpected character '''"},
        {"{\"a\":tru}", "unexpected character '}' at offset 8"},
        {"{\"a\":nul}", NULL},
        {"{\"a\":01}", "unexpected character '1'"},
        {"{\"a\":1.}", "bad number at offset 5"},
        {"{\"a\":-}", "bad number"},
        {"{\"a\":1e}", "bad number"},
        {"{\"a\":+1}", "unexpected character '+'"},
        {"{\"a\":\"\\x\"}", "bad escape at offset 6"},
        {"{\"a\":\"\\u12g4\"}", "bad \\u escape"},
        {"{\"a\":\"tab\there\"}", "control byte 0x09 in string"},
        {"{\"a\":[1,2}", "unexpected character '}'"},
        {"{\"a\":{\"b\":1]}", "unexpected character ']'"},
        {"{\"a\":[1,]}", "unexpected character ']'"},
        {"{\"a\" : {\"b\"}}", "unexpected character '}'"},
        {"{\"a\":\"unterminated}", "unterminated string at offset 5"},
        {"[1,2]", "not an object"},
        {"{\"a\":1}}", "trailing data"},
        {"{\"a\":\xff}", "unexpected byte 0xff at offset 5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        bad(cases[i].s, 1, NP_REC_MALFORMED_JSON, cases[i].detail);
}

static void test_embedded_nul(void **state)
{
    (void)state;
    static const char j1[] = "{\"src_ip\":\"1.1.1.1\0\",\"dst_ip\":\"2.2.2.2\",\"ts\":1}";
    bad_n(j1, sizeof j1 - 1, 1, NP_REC_MALFORMED_JSON, "NUL byte at offset 18");
    static const char j2[] = "{\"src_ip\":\"1.1.1.1\",\0\"dst_ip\":\"2.2.2.2\",\"ts\":1}";
    bad_n(j2, sizeof j2 - 1, 1, NP_REC_MALFORMED_JSON, "NUL byte at offset 20");
    static const char j3[] = "{\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":1}\0";
    bad_n(j3, sizeof j3 - 1, 1, NP_REC_MALFORMED_JSON, "NUL byte at offset 46");
    static const char c1[] = "10.0.0.1,10.0.0\0.2,5";
    bad_n(c1, sizeof c1 - 1, 1, NP_REC_MALFORMED_CSV, "NUL byte at offset 15");
    /* An escaped NUL is well-formed JSON but no address. */
    bad("{\"src_ip\":\"1.1.1.1\\u0000\",\"dst_ip\":\"2.2.2.2\",\"ts\":1}", 1, NP_REC_BAD_IP,
        "field src_ip");
}

static void test_missing_fields(void **state)
{
    (void)state;
    bad("{\"dst_ip\":\"2.2.2.2\",\"ts\":1700000000123}", 1, NP_REC_MISSING_FIELD, "src_ip");
    bad("{\"src_ip\":\"1.1.1.1\",\"ts\":1700000000123}", 1, NP_REC_MISSING_FIELD, "dst_ip");
    bad("{\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\"}", NO_KAFKA_TS, NP_REC_MISSING_FIELD,
        "ts");
    bad("{\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":null}", NO_KAFKA_TS,
        NP_REC_MISSING_FIELD, "ts");
    bad("{\"src_ip\":null,\"dst_ip\":\"2.2.2.2\",\"ts\":1}", 1, NP_REC_MISSING_FIELD, "src_ip");
    bad("{\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"src_ip\":null,\"ts\":1}", 1,
        NP_REC_MISSING_FIELD, "src_ip");
    bad("{}", 1, NP_REC_MISSING_FIELD, NULL);
    bad("10.0.0.1,10.0.0.2,5", NO_KAFKA_TS, NP_REC_MISSING_FIELD, "no timestamp");
}

static void test_bad_ip(void **state)
{
    (void)state;
    bad("{\"src_ip\":\"10.0.0.256\",\"dst_ip\":\"2.2.2.2\",\"ts\":1}", 1, NP_REC_BAD_IP,
        "field src_ip: \"10.0.0.256\" is not an IP address");
    bad("{\"src_ip\":\"1.1.1.1\",\"destination_ip\":\"example.com\",\"ts\":1}", 1, NP_REC_BAD_IP,
        "field destination_ip");
    bad("{\"src_ip\":\"\",\"dst_ip\":\"2.2.2.2\",\"ts\":1}", 1, NP_REC_BAD_IP, NULL);
    bad("{\"src_ip\":\"2001:db8:::1\",\"dst_ip\":\"2.2.2.2\",\"ts\":1}", 1, NP_REC_BAD_IP, NULL);
    bad("{\"src_ip\":\" 1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":1}", 1, NP_REC_BAD_IP, NULL);
    /* Long input is cut in the detail. */
    bad("{\"src_ip\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
        "\"dst_ip\":\"2.2.2.2\",\"ts\":1}",
        1, NP_REC_BAD_IP, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"");
    bad("localhost,10.0.0.2,5", 1, NP_REC_BAD_IP, "field source_ip");
    bad("10.0.0.1,10.0.0.300,5", 1, NP_REC_BAD_IP, "field destination_ip");
}

static void test_out_of_range(void **state)
{
    (void)state;
    const char *base = "\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\"";
    static const struct {
        const char *field;
        const char *detail;
    } cases[] = {
        {"\"ts\":1700000000123,\"dst_port\":70000", "field dst_port: 70000 > 65535"},
        {"\"ts\":1700000000123,\"source_port\":\"65536\"", "field source_port: 65536 > 65535"},
        {"\"ts\":1700000000123,\"bytes\":-1", "field bytes: -1 is negative"},
        {"\"ts\":1700000000123,\"bytes_sent\":\"-5\"", "field bytes_sent: -5 is negative"},
        {"\"ts\":1700000000123,\"bytes\":1099511627777", "> 1099511627776"},
        {"\"ts\":1700000000123,\"bytes\":18446744073709551616", "field bytes"},
        {"\"ts\":1700000000123,\"bytes\":1e400", "field bytes: 1e400"},
        {"\"ts\":1700000000123,\"packets\":4294967297", "> 4294967296"},
        {"\"ts\":1700000000123,\"packets\":1.5", "field packets: 1.5 is not an integer"},
        {"\"ts\":1700000000123,\"dst_port\":4.435e2", "not an integer"},
        {"\"ts\":1700000000123,\"proto\":256", "field proto: 256 > 255"},
        {"\"ts\":1700000000123,\"proto\":-6", "negative"},
        {"\"ts\":1700000000123,\"protocol\":\"xtp\"", "field protocol: unknown protocol \"xtp\""},
        {"\"ts\":1700000000123,\"protocol\":\"\"", "unknown protocol"},
        {"\"ts\":-1", "field ts: -1 is negative"},
        {"\"ts\":-1700000000.5", "negative"},
        {"\"ts\":\"-1700000000\"", "negative"},
        {"\"ts\":1e30", "field ts: 1e30 is too large"},
        {"\"ts\":9223372036854775808", "too large"},
        {"\"timestamp\":\"1969-12-31T23:59:59Z\"", "before 1970"},
        /* one day and one ms ahead of now */
        {"\"ts\":1700086400001", "field ts: 1700086400001 ms is more than 86400000 ms ahead"},
        {"\"ts\":1700086401", "field ts"},
        {"\"timestamp\":\"2030-01-01T00:00:00Z\"", "field timestamp"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "{%s,%s}", base, cases[i].field);
        bad(buf, NO_KAFKA_TS, NP_REC_OUT_OF_RANGE, cases[i].detail);
    }
    /* exactly max_future_ms ahead is still accepted */
    np_record_t r = ok_rec("{\"ts\":1700086400000,\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\"}",
                           NO_KAFKA_TS);
    assert_int_equal(r.ts_ms, 1700086400000LL);
    /* the Kafka timestamp is held to the same limit */
    bad("{\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\"}", NOW_MS + 86400001, NP_REC_OUT_OF_RANGE,
        "Kafka timestamp");
    bad("10.0.0.1,10.0.0.2,5", NOW_MS + 86400001, NP_REC_OUT_OF_RANGE, "Kafka timestamp");
    bad("10.0.0.1,10.0.0.2,-5", 1, NP_REC_OUT_OF_RANGE, "field bytes_sent: -5 is negative");
    bad("10.0.0.1,10.0.0.2,1099511627777", 1, NP_REC_OUT_OF_RANGE, "bytes_sent");

    /* Custom limits apply. */
    np_record_limits_t lim = limits();
    lim.max_flow_bytes = 100;
    lim.max_future_ms = 0;
    np_record_t rec;
    char detail[DETAIL_LEN];
    const char *s = "{\"ts\":1700000000000,\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"bytes\":101}";
    assert_int_equal(np_record_decode(s, strlen(s), -1, NOW_MS, &lim, &rec, detail, sizeof detail),
                     NP_REC_OUT_OF_RANGE);
    assert_string_equal(detail, "field bytes: 101 > 100");
    lim.max_future_ms = 1;
    s = "{\"ts\":1700000000002,\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"bytes\":100}";
    assert_int_equal(np_record_decode(s, strlen(s), -1, NOW_MS, &lim, &rec, detail, sizeof detail),
                     NP_REC_OUT_OF_RANGE);
    /* 0 = no bound, as in the coordinator: a year ahead is taken */
    lim.max_future_ms = 0;
    s = "{\"ts\":1731536000000,\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"bytes\":100}";
    assert_int_equal(np_record_decode(s, strlen(s), -1, NOW_MS, &lim, &rec, detail, sizeof detail), NP_REC_OK);
}

static void test_bad_timestamp(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "2024-13-01T00:00:00Z", /* month 13 */
        "2023-02-30T00:00:00Z", /* Feb 30 */
        "2023-02-29T00:00:00Z", /* not a leap year */
        "2100-02-29T00:00:00Z", /* century, not a leap year */
        "2024-00-10T00:00:00Z",
        "2024-01-00T00:00:00Z",
        "2024-04-31T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01T23:60:00Z",
        "2024-01-01T23:00:61Z",
        "2024-01-01",
        "2024-01-01T00:00",
        "2024-01-01T00:00:00.Z",
        "2024-01-01T00:00:00+1",
        "2024-01-01T00:00:00+01:",
        "2024-01-01T00:00:00+24:00",
        "2024-01-01T00:00:00+01:60",
        "2024-01-01T00:00:00ZZ",
        "2024-01-01X00:00:00Z",
        "2024/01/01T00:00:00Z",
        "24-01-01T00:00:00Z",
        "yesterday",
        "",
        "1700000000 ",
        "0x65",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[256];
        snprintf(buf, sizeof buf,
                 "{\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"timestamp\":\"%s\"}", cases[i]);
        bad(buf, 1, NP_REC_BAD_TIMESTAMP, "field timestamp");
    }
    bad("{\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":\"2024-13-01T00:00:00Z\"}", 1,
        NP_REC_BAD_TIMESTAMP, "field ts: \"2024-13-01T00:00:00Z\" is not a timestamp");
}

static void test_bad_type(void **state)
{
    (void)state;
    static const struct {
        const char *fields;
        const char *detail;
    } cases[] = {
        {"\"src_ip\":167772161,\"dst_ip\":\"2.2.2.2\",\"ts\":1",
         "field src_ip: expected a string, got number"},
        {"\"src_ip\":\"1.1.1.1\",\"dst_ip\":[\"2.2.2.2\"],\"ts\":1", "got array"},
        {"\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":true", "field ts"},
        {"\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":{}", "got object"},
        {"\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":1,\"dst_port\":\"https\"",
         "field dst_port: \"https\" is not a number"},
        {"\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":1,\"bytes\":false",
         "field bytes: expected a number, got false"},
        {"\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":1,\"packets\":\"\"", "not a number"},
        {"\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":1,\"packets\":\" 3\"", "not a number"},
        {"\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":1,\"proto\":true", "field proto"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "{%s}", cases[i].fields);
        bad(buf, 1, NP_REC_BAD_TYPE, cases[i].detail);
    }
    bad("10.0.0.1,10.0.0.2,lots", 1, NP_REC_BAD_TYPE, "field bytes_sent");
    bad("10.0.0.1,10.0.0.2,", 1, NP_REC_BAD_TYPE, "field bytes_sent");
}

static void test_malformed_csv(void **state)
{
    (void)state;
    bad("10.0.0.1,10.0.0.2", 1, NP_REC_MALFORMED_CSV, "got 2");
    bad("10.0.0.1,10.0.0.2,5,6", 1, NP_REC_MALFORMED_CSV, "got 4");
    bad("10.0.0.1,10.0.0.2,5,", 1, NP_REC_MALFORMED_CSV, "got 4");
    bad("10.0.0.1", 1, NP_REC_MALFORMED_CSV, "got 1");
    bad("source_ip,destination_ip,bytes_sent", 1, NP_REC_MALFORMED_CSV, "header line");
    bad("source_ip,destination_ip,bytes_sent\r\n", 1, NP_REC_MALFORMED_CSV, "header line");
    bad("src,dst,bytes\n", NO_KAFKA_TS, NP_REC_MALFORMED_CSV, "header line");
    bad("10.0.0.1,10.0.0.2,5\n10.0.0.1,10.0.0.2,6\n", 1, NP_REC_MALFORMED_CSV, "line break");
    bad("10.0.0.1,10.0.0.2\r5", 1, NP_REC_MALFORMED_CSV, "line break");
}

/* ---------------------------------------------------------------- API details */

static void test_detail_handling(void **state)
{
    (void)state;
    np_record_limits_t lim = limits();
    np_record_t rec;
    const char *s = "{\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":1,\"dst_port\":70000}";
    /* small detail buffer: truncated, NUL-terminated */
    char small[8];
    memset(small, 'x', sizeof small);
    assert_int_equal(np_record_decode(s, strlen(s), -1, NOW_MS, &lim, &rec, small, sizeof small),
                     NP_REC_OUT_OF_RANGE);
    assert_string_equal(small, "field d");
    /* no detail buffer at all */
    assert_int_equal(np_record_decode(s, strlen(s), -1, NOW_MS, &lim, &rec, NULL, 0),
                     NP_REC_OUT_OF_RANGE);
    /* NULL limits mean the defaults */
    assert_int_equal(np_record_decode(s, strlen(s), -1, NOW_MS, NULL, &rec, NULL, 0),
                     NP_REC_OUT_OF_RANGE);
    /* detail is cleared on success, and *out is untouched on failure */
    char detail[DETAIL_LEN] = "stale";
    const char *good = "{\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":1}";
    assert_int_equal(np_record_decode(good, strlen(good), -1, NOW_MS, &lim, &rec, detail,
                                      sizeof detail),
                     NP_REC_OK);
    assert_string_equal(detail, "");
    np_record_t before = rec;
    assert_int_equal(np_record_decode(s, strlen(s), -1, NOW_MS, &lim, &rec, detail, sizeof detail),
                     NP_REC_OUT_OF_RANGE);
    assert_memory_equal(&before, &rec, sizeof rec);
    /* a non-printable byte in echoed input is shown as '?' */
    bad("{\"src_ip\":\"1.1.1.1\",\"dst_ip\":\"2.2.2.2\",\"ts\":1,\"proto\":\"\xc3\xa9\"}", 1,
        NP_REC_OUT_OF_RANGE, "unknown protocol \"??\"");
}

static void test_reason_names(void **state)
{
    (void)state;
    static const char *const want[NP_REC__COUNT] = {
        "ok", "empty", "oversized", "malformed_json", "malformed_csv", "missing_field",
        "bad_ip", "bad_timestamp", "out_of_range", "bad_type", "watermark_jump",
    };
    for (int r = 0; r < NP_REC__COUNT; r++)
        assert_string_equal(np_record_reason_name((np_record_reason_t)r), want[r]);
    assert_string_equal(np_record_reason_name(NP_REC__COUNT), "unknown");
    assert_string_equal(np_record_reason_name((np_record_reason_t)-1), "unknown");
}

static void test_limits_default(void **state)
{
    (void)state;
    np_record_limits_t lim;
    np_record_limits_default(&lim);
    assert_int_equal(lim.max_bytes, 65536);
    assert_int_equal(lim.max_future_ms, 300000);
    assert_int_equal(lim.max_flow_bytes, 1ULL << 40);
    assert_int_equal(lim.max_flow_packets, 1ULL << 32);
}

/* ---------------------------------------------------------------- np_time (np_ip: test_ip.c) */

/* The fast path for the generator's layout must only ever accept what the general decoder
 * accepts, into the same record: every combination of awkward values in that layout, and
 * every one-byte change and truncation of a valid record, decode alike both ways. */
static void assert_decodes_alike(const char *buf, size_t len)
{
    np_record_t a, b;
    char da[160], db[160];
    memset(&a, 0xa5, sizeof a);
    memset(&b, 0xa5, sizeof b);
    np_record_limits_t lim;
    np_record_limits_default(&lim);
    np_record_reason_t ra = np_record_decode(buf, len, -1, 1700000000000LL, &lim, &a, da, sizeof da);
    np_record_reason_t rb = np_record_decode_general(buf, len, -1, 1700000000000LL, &lim, &b, db, sizeof db);
    if (ra != rb || strcmp(da, db) != 0 || (ra == NP_REC_OK && memcmp(&a, &b, sizeof a) != 0))
        fail_msg("decoded differently: %.*s (fast %s \"%s\", general %s \"%s\")", (int)len, buf,
                 np_record_reason_name(ra), da, np_record_reason_name(rb), db);
}

static void test_fast_path_equals_general(void **state)
{
    (void)state;
    static const char *const ts[] = {"0", "1", "99999999999", "100000000000", "1700000000123", "1700086400001",
                                     "9223372036854775807", "9223372036854775808", "18446744073709551615",
                                     "99999999999999999999", "01", "-1", "1.5"};
    static const char *const ip[] = {"10.0.0.1", "255.255.255.255", "0.0.0.0", "256.1.1.1", "2001:db8::1",
                                     "2001:DB8::1", "::ffff:1.2.3.4", "fe80::1%eth0", "1.2.3", "::", "1.02.3.4",
                                     "", "1.2.3.4 "};
    static const char *const port[] = {"0", "443", "65535", "65536", "007", "99999999999999999999", "\"80\""};
    static const char *const proto[] = {"\"tcp\"", "\"udp\"", "\"icmp\"", "\"TCP\"", "\"gre\"", "\"6\"", "6",
                                        "\"tcp \"", "null"};
    static const char *const count[] = {"0", "1", "1500", "4294967296", "4294967297", "1099511627776",
                                        "1099511627777", "18446744073709551615", "1e3", "00"};
    uint64_t x = 88172645463325252ULL;
    char buf[512];
    for (int i = 0; i < 40000; i++) {
        uint64_t pick[9];
        for (int k = 0; k < 9; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
            pick[k] = x;
        }
#define PICK(arr, k) arr[pick[k] % (sizeof arr / sizeof arr[0])]
        int n = snprintf(buf, sizeof buf,
                         "{\"ts\":%s,\"src_ip\":\"%s\",\"dst_ip\":\"%s\",\"src_port\":%s,\"dst_port\":%s,"
                         "\"proto\":%s,\"bytes\":%s,\"packets\":%s}",
                         PICK(ts, 0), PICK(ip, 1), PICK(ip, 2), PICK(port, 3), PICK(port, 4), PICK(proto, 5),
                         PICK(count, 6), PICK(count, 7));
#undef PICK
        assert_decodes_alike(buf, (size_t)n);
    }
    static const char valid[] = "{\"ts\":1700000000123,\"src_ip\":\"10.1.2.3\",\"dst_ip\":\"2001:db8::7\","
                                "\"src_port\":51234,\"dst_port\":443,\"proto\":\"udp\",\"bytes\":1500,\"packets\":3}";
    static const char subst[] = " \"\\0129aAf,:{}[].-eE\t\n";
    size_t len = sizeof valid - 1;
    for (size_t at = 0; at < len; at++) {
        assert_decodes_alike(valid, at); /* truncated */
        memcpy(buf, valid, len);
        for (size_t k = 0; k < sizeof subst; k++) { /* the last one is a NUL byte */
            buf[at] = subst[k];
            assert_decodes_alike(buf, len);
        }
    }
}

static void test_iso8601(void **state)
{
    (void)state;
    int64_t ms;
    static const struct {
        const char *s;
        int64_t want;
    } good[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T00:00:00.001Z", 1},
        {"1969-12-31T23:59:59Z", -1000},
        {"2000-02-29T00:00:00Z", 951782400000LL},
        {"2000-03-01T00:00:00Z", 951868800000LL},
        {"2024-01-02T03:04:05.678Z", 1704164645678LL},
        {"2024-01-02T04:04:05.678+01:00", 1704164645678LL},
        {"2024-01-01T23:04:05.678-0400", 1704164645678LL},
        {"2016-12-31T23:59:60Z", 1483228800000LL}, /* leap second: the next second */
        {"9999-12-31T23:59:59Z", 253402300799000LL},
        {"0000-01-01T00:00:00Z", -62167219200000LL},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (np_time_parse_iso8601(good[i].s, strlen(good[i].s), &ms) != 0)
            fail_msg("np_time_parse_iso8601(%s) failed", good[i].s);
        if (ms != good[i].want)
            fail_msg("%s: %lld, want %lld", good[i].s, (long long)ms, (long long)good[i].want);
    }
    /* len is honoured */
    assert_int_equal(np_time_parse_iso8601("2024-01-02T03:04:05Zjunk", 20, &ms), 0);
    assert_int_equal(ms, 1704164645000LL);
    assert_int_not_equal(np_time_parse_iso8601("2024-01-02T03:04:05Z", 19 + 2, &ms), 0);
    for (size_t n = 0; n < 19; n++)
        assert_int_not_equal(np_time_parse_iso8601("2024-01-02T03:04:05Z", n, &ms), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netpulse_json),
        cmocka_unit_test(test_netpulse_json_whitespace),
        cmocka_unit_test(test_tutorial_epoch_seconds),
        cmocka_unit_test(test_tutorial_epoch_ms),
        cmocka_unit_test(test_tutorial_fractional_seconds),
        cmocka_unit_test(test_seconds_ms_boundary),
        cmocka_unit_test(test_tutorial_iso8601),
        cmocka_unit_test(test_all_field_names),
        cmocka_unit_test(test_numeric_strings),
        cmocka_unit_test(test_integral_decimals),
        cmocka_unit_test(test_protocols),
        cmocka_unit_test(test_ipv6_records),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_kafka_timestamp_fallback),
        cmocka_unit_test(test_skips_nested_unknown_values),
        cmocka_unit_test(test_duplicate_keys_last_wins),
        cmocka_unit_test(test_escaped_keys_and_values),
        cmocka_unit_test(test_utf8_bom),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_truncated_json),
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_bad_ip),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_bad_timestamp),
        cmocka_unit_test(test_bad_type),
        cmocka_unit_test(test_malformed_csv),
        cmocka_unit_test(test_detail_handling),
        cmocka_unit_test(test_reason_names),
        cmocka_unit_test(test_limits_default),
        cmocka_unit_test(test_fast_path_equals_general),
        cmocka_unit_test(test_iso8601),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
