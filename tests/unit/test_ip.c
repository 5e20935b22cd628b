/*
 * Unit tests for np_ip: addresses parse and format as glibc's inet_pton/inet_ntop do
 * (the IPv4 paths are hand-written for speed), IPv4 is stored IPv4-mapped, and CIDR
 * prefixes parse, match and print in IPv4 terms where they are IPv4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <string.h>

#include <cmocka.h>

#include "np_ip.h"

static void assert_ip(const np_ip_t *ip, const char *want)
{
    char buf[64];
    size_t n = np_ip_format(ip, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void test_ip_round_trip(void **state)
{
    (void)state;
    static const char *const good[] = {
        "0.0.0.0", "10.0.0.1", "255.255.255.255", "192.168.1.5", "::", "::1", "2001:db8::1",
        "fe80::1:2", "1:2:3:4:5:6:7:8", "2001:db8:0:1::", "ff02::fb",
        "1111:2222:3333:4444:5555:6666:7777:8888",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        np_ip_t ip;
        if (np_ip_parse(good[i], strlen(good[i]), &ip) != 0)
            fail_msg("np_ip_parse(%s) failed", good[i]);
        assert_ip(&ip, good[i]);
        assert_int_equal(np_ip_is_v4(&ip), strchr(good[i], '.') != NULL);
    }
    static const struct {
        const char *in, *out;
    } canon[] = {
        {"::ffff:10.0.0.1", "10.0.0.1"},
        {"::FFFF:1.2.3.4", "1.2.3.4"},
        {"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
        {"0:0:0:0:0:0:0:1", "::1"},
    };
    for (size_t i = 0; i < sizeof canon / sizeof canon[0]; i++) {
        np_ip_t ip;
        assert_int_equal(np_ip_parse(canon[i].in, strlen(canon[i].in), &ip), 0);
        assert_ip(&ip, canon[i].out);
    }
    np_ip_t v4;
    assert_int_equal(np_ip_parse("1.2.3.4", 7, &v4), 0);
    static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4};
    assert_memory_equal(v4.b, mapped, 16);
    /* len is honoured: the bytes after it are not looked at */
    assert_int_equal(np_ip_parse("1.2.3.45", 7, &v4), 0);
    assert_memory_equal(v4.b, mapped, 16);
    /* a too-small buffer gives 0 and an empty string, not an overflow */
    char tiny[4] = "xyz";
    assert_int_equal(np_ip_format(&v4, tiny, sizeof tiny), 0);
    assert_string_equal(tiny, "");
}

/* np_ip_format writes IPv4 itself (no sprintf): it must give inet_ntop's text, and fail
 * like it when the buffer is short, for every octet value and length of text. */
static void test_ip_format_v4_as_inet_ntop(void **state)
{
    (void)state;
    np_ip_t ip;
    memset(&ip, 0, sizeof ip);
    ip.b[10] = ip.b[11] = 0xff;
    for (unsigned v = 0; v < 256 * 256; v += 7) {
        uint8_t a[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(255 - v % 256), (uint8_t)(v % 11)};
        memcpy(ip.b + 12, a, 4);
        char want[INET_ADDRSTRLEN], got[INET_ADDRSTRLEN];
        assert_non_null(inet_ntop(AF_INET, a, want, sizeof want));
        assert_int_equal(np_ip_format(&ip, got, sizeof got), strlen(want));
        assert_string_equal(got, want);
        for (size_t cap = 1; cap <= strlen(want) + 1; cap++) {
            char small[INET_ADDRSTRLEN];
            size_t n = np_ip_format(&ip, small, cap);
            if (cap > strlen(want)) {
                assert_int_equal(n, strlen(want));
                assert_string_equal(small, want);
            } else {
                assert_int_equal(n, 0);
                assert_string_equal(small, "");
            }
        }
    }
}

static void test_ip_invalid(void **state)
{
    (void)state;
    static const char *const bad_ips[] = {
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "::g", "1:2:3:4:5:6:7:8:9", ":::",
        "1.2.3.4 ", " ::1", "abc", "fe80::1%eth0", "01.2.3.4", "1.2.3.04", "1..2.3", "1.2.3.",
        ".1.2.3", "1.2.3.4.", "1234.1.1.1", "1.2.3.1000", "0x1.2.3.4", "1.2.3.4/24",
        "1111:2222:3333:4444:5555:6666:777.888.999.000", /* 46 chars: too long */
    };
    for (size_t i = 0; i < sizeof bad_ips / sizeof bad_ips[0]; i++) {
        np_ip_t ip;
        if (np_ip_parse(bad_ips[i], strlen(bad_ips[i]), &ip) == 0)
            fail_msg("np_ip_parse(\"%s\") accepted", bad_ips[i]);
    }
    np_ip_t ip;
    assert_int_not_equal(np_ip_parse("1.2.3.4\0", 8, &ip), 0);
}

static void test_cidr(void **s) {
    (void)s;
    np_cidr_t c;
    np_ip_t ip;
    assert_int_equal(np_cidr_parse("10.1.0.0/16", 11, &c), 0);
    np_ip_parse("10.1.200.3", 10, &ip);
    assert_true(np_cidr_contains(&c, &ip));
    np_ip_parse("10.2.0.1", 8, &ip);
    assert_false(np_cidr_contains(&c, &ip));
    char buf[64];
    np_cidr_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, "10.1.0.0/16");
    assert_int_equal(np_cidr_parse("2001:db8::/32", 13, &c), 0);
    np_ip_parse("2001:db8:5::1", 13, &ip);
    assert_true(np_cidr_contains(&c, &ip));
    assert_int_equal(np_cidr_parse("10.0.0.0/33", 11, &c), -1);
    assert_int_equal(np_cidr_parse("nonsense", 8, &c), -1);
}

/* Prefix lengths at and around the byte boundaries, IPv4 in IPv4 terms, host bits cleared. */
static void test_cidr_edges(void **s) {
    (void)s;
    np_cidr_t c;
    np_ip_t ip;
    char buf[64];
    assert_int_equal(np_cidr_parse(" 10.1.2.3/8\t", 12, &c), 0); /* blanks around, host bits */
    np_cidr_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, "10.0.0.0/8");
    assert_int_equal(c.bits, 96 + 8);
    assert_int_equal(np_cidr_parse("10.1.2.3", 8, &c), 0); /* an address alone: a host */
    np_cidr_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, "10.1.2.3/32");
    np_ip_parse("10.1.2.3", 8, &ip);
    assert_true(np_cidr_contains(&c, &ip));
    np_ip_parse("10.1.2.4", 8, &ip);
    assert_false(np_cidr_contains(&c, &ip));
    assert_int_equal(np_cidr_parse("0.0.0.0/0", 9, &c), 0); /* all IPv4, not IPv6 */
    np_ip_parse("203.0.113.9", 11, &ip);
    assert_true(np_cidr_contains(&c, &ip));
    np_ip_parse("2001:db8::1", 11, &ip);
    assert_false(np_cidr_contains(&c, &ip));
    assert_int_equal(np_cidr_parse("::/0", 4, &c), 0); /* everything */
    assert_true(np_cidr_contains(&c, &ip));
    assert_int_equal(np_cidr_parse("192.168.0.0/23", 14, &c), 0); /* not on a byte boundary */
    np_ip_parse("192.168.1.255", 13, &ip);
    assert_true(np_cidr_contains(&c, &ip));
    np_ip_parse("192.168.2.0", 11, &ip);
    assert_false(np_cidr_contains(&c, &ip));
    assert_int_equal(np_cidr_parse("2001:db8::ff/127", 16, &c), 0);
    np_cidr_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, "2001:db8::fe/127");
    assert_int_equal(np_cidr_parse("2001:db8::/129", 14, &c), -1);
    assert_int_equal(np_cidr_parse("10.0.0.0/", 9, &c), -1);
    assert_int_equal(np_cidr_parse("10.0.0.0/-1", 11, &c), -1);
    assert_int_equal(np_cidr_parse("10.0.0.0/8x", 11, &c), -1);
    assert_int_equal(np_cidr_parse("", 0, &c), -1);
    assert_int_equal(np_cidr_parse("   ", 3, &c), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ip_round_trip),
        cmocka_unit_test(test_ip_format_v4_as_inet_ntop),
        cmocka_unit_test(test_ip_invalid),
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_cidr_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
