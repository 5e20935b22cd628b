/* Unit tests for np_nf9 (NetFlow v9 and IPFIX) with hand-built datagrams: templates and
 * options templates, sampling, IPv6, variable-length fields, expiry, withdrawal, eviction,
 * template misses and malformed sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "flowbuf.h"
#include "np_nf9.h"

static np_ip_t EX;

static void v9_header(fbuf_t *f, uint32_t seq, uint32_t source_id) {
    f->n = 0;
    fb_u(f, 9, 2);
    fb_u(f, 0, 2);          /* count: not relied on */
    fb_u(f, 100000, 4);     /* sysUptime ms */
    fb_u(f, 1700000000, 4); /* unix secs */
    fb_u(f, seq, 4);
    fb_u(f, source_id, 4);
}

static void ipfix_header(fbuf_t *f, uint32_t seq, uint32_t domain) {
    f->n = 0;
    fb_u(f, 10, 2);
    fb_u(f, 0, 2); /* length, patched by ipfix_end */
    fb_u(f, 1700000000, 4);
    fb_u(f, seq, 4);
    fb_u(f, domain, 4);
}
static void ipfix_end(fbuf_t *f) { fb_patch16(f, 2, (uint16_t)f->n); }

/* Starts a set; returns its offset for set_end. */
static size_t set_begin(fbuf_t *f, uint16_t id) {
    size_t at = f->n;
    fb_u(f, id, 2);
    fb_u(f, 0, 2);
    return at;
}
static void set_end(fbuf_t *f, size_t at) { fb_patch16(f, at + 2, (uint16_t)(f->n - at)); }

/* Template 256: src4 dst4 sport dport proto bytes packets in out LAST_SWITCHED. */
static void v4_template(fbuf_t *f, uint16_t set_id) {
    size_t s = set_begin(f, set_id);
    static const uint16_t fields[][2] = {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 4}, {2, 4}, {10, 2}, {14, 2}, {21, 4}};
    fb_u(f, 256, 2);
    fb_u(f, 10, 2);
    for (int i = 0; i < 10; i++) {
        fb_u(f, fields[i][0], 2);
        fb_u(f, fields[i][1], 2);
    }
    set_end(f, s);
}

static void v4_record(fbuf_t *f, uint8_t last_octet, uint32_t bytes, uint32_t pkts, uint32_t last_uptime) {
    fb_ip4(f, 10, 0, 0, last_octet);
    fb_ip4(f, 192, 168, 1, 1);
    fb_u(f, 40000, 2);
    fb_u(f, 53, 2);
    fb_u(f, 17, 1);
    fb_u(f, bytes, 4);
    fb_u(f, pkts, 4);
    fb_u(f, 1, 2);
    fb_u(f, 2, 2);
    fb_u(f, last_uptime, 4);
}

static np_fdec_err_t decode(np_nf9_t *d, fbuf_t *f, int64_t now, flows_t *c, np_fdec_info_t *info) {
    return np_nf9_decode(d, f->b, f->n, &EX, now, collect, c, info);
}

static void test_v9_template_then_data(void **state) {
    (void)state;
    np_nf9_t *d = np_nf9_new(16, 0);
    fbuf_t f;
    v9_header(&f, 1, 7);
    v4_template(&f, 0);
    size_t s = set_begin(&f, 256);
    v4_record(&f, 1, 1000, 2, 99000);
    v4_record(&f, 2, 3000, 4, 100000);
    fb_u(&f, 0, 2); /* padding */
    set_end(&f, s);
    flows_t c = {.n = 0};
    np_fdec_info_t info;
    assert_int_equal(decode(d, &f, 0, &c, &info), NP_FDEC_OK);
    assert_int_equal(info.version, 9);
    assert_int_equal(info.domain, 7);
    assert_int_equal(info.templates, 1);
    assert_int_equal(info.records, 2);
    assert_int_equal(c.n, 2);
    assert_true(ip_is(&c.f[0].src, "10.0.0.1"));
    assert_int_equal(c.f[0].dst_port, 53);
    assert_int_equal(c.f[0].proto, 17);
    assert_int_equal(c.f[0].bytes, 1000);
    assert_int_equal(c.f[0].packets, 2);
    assert_int_equal(c.f[0].in_if, 1);
    assert_int_equal(c.f[0].out_if, 2);
    assert_int_equal(c.f[0].ts_ms, 1700000000000 - 1000); /* LAST 1 s before the export */
    assert_int_equal(c.f[1].ts_ms, 1700000000000);
    assert_int_equal(np_nf9_templates(d), 1);
    /* Data of another source id has no template: a miss, nothing emitted. */
    v9_header(&f, 2, 8);
    s = set_begin(&f, 256);
    v4_record(&f, 3, 1, 1, 1);
    set_end(&f, s);
    c.n = 0;
    assert_int_equal(decode(d, &f, 0, &c, &info), NP_FDEC_OK);
    assert_int_equal(info.template_misses, 1);
    assert_int_equal(c.n, 0);
    np_nf9_destroy(&d);
    assert_null(d);
}

/* v9 options template (scope: system) carrying SAMPLING_INTERVAL = 10. */
static void test_v9_options_sampling(void **state) {
    (void)state;
    np_nf9_t *d = np_nf9_new(16, 0);
    fbuf_t f;
    v9_header(&f, 1, 0);
    size_t s = set_begin(&f, 1);
    fb_u(&f, 300, 2); /* template id */
    fb_u(&f, 4, 2);   /* scope length: one field */
    fb_u(&f, 8, 2);   /* option length: two fields */
    fb_u(&f, 1, 2), fb_u(&f, 4, 2);  /* scope: system (type 1 = not octets!) */
    fb_u(&f, 34, 2), fb_u(&f, 4, 2); /* SAMPLING_INTERVAL */
    fb_u(&f, 35, 2), fb_u(&f, 1, 2); /* SAMPLING_ALGORITHM */
    set_end(&f, s);
    v4_template(&f, 0);
    s = set_begin(&f, 300);
    fb_u(&f, 0x7f000001, 4);
    fb_u(&f, 10, 4);
    fb_u(&f, 1, 1);
    set_end(&f, s);
    s = set_begin(&f, 256);
    v4_record(&f, 1, 1000, 2, 100000);
    set_end(&f, s);
    flows_t c = {.n = 0};
    np_fdec_info_t info;
    assert_int_equal(decode(d, &f, 0, &c, &info), NP_FDEC_OK);
    assert_int_equal(info.templates, 2);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.f[0].sampling, 10);
    assert_int_equal(c.f[0].bytes, 10000);
    assert_int_equal(c.f[0].packets, 20);
    np_nf9_destroy(&d);
}

/* IPFIX: IPv6, flowEndMilliseconds, a variable-length field and an enterprise field. */
static void test_ipfix_v6_varlen(void **state) {
    (void)state;
    np_nf9_t *d = np_nf9_new(16, 0);
    fbuf_t f;
    ipfix_header(&f, 0, 5);
    size_t s = set_begin(&f, 2);
    fb_u(&f, 400, 2);
    fb_u(&f, 8, 2);
    fb_u(&f, 27, 2), fb_u(&f, 16, 2);
    fb_u(&f, 28, 2), fb_u(&f, 16, 2);
    fb_u(&f, 4, 2), fb_u(&f, 1, 2);
    fb_u(&f, 85, 2), fb_u(&f, 8, 2);          /* octetTotalCount */
    fb_u(&f, 2, 2), fb_u(&f, 2, 2);           /* packetDeltaCount, reduced size */
    fb_u(&f, 82, 2), fb_u(&f, 65535, 2);      /* interfaceName, variable length */
    fb_u(&f, 0x8000 | 1, 2), fb_u(&f, 4, 2);  /* enterprise field 1 ... */
    fb_u(&f, 9999, 4);                        /* ... of PEN 9999: skipped */
    fb_u(&f, 153, 2), fb_u(&f, 8, 2);         /* flowEndMilliseconds */
    set_end(&f, s);
    s = set_begin(&f, 400);
    for (int rec = 0; rec < 2; rec++) {
        uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
        fb_bytes(&f, a, 16);
        fb_bytes(&f, b, 16);
        fb_u(&f, 58, 1);
        fb_u(&f, 777, 8);
        fb_u(&f, 3, 2);
        if (rec == 0) {
            fb_u(&f, 4, 1); /* short form */
            fb_bytes(&f, "eth0", 4);
        } else {
            fb_u(&f, 255, 1); /* long form */
            fb_u(&f, 300, 2);
            for (int i = 0; i < 300; i++) fb_u(&f, 'x', 1);
        }
        fb_u(&f, 0xdeadbeef, 4);
        fb_u(&f, 1700000000123 + rec, 8);
    }
    set_end(&f, s);
    ipfix_end(&f);
    flows_t c = {.n = 0};
    np_fdec_info_t info;
    assert_int_equal(decode(d, &f, 0, &c, &info), NP_FDEC_OK);
    assert_int_equal(info.version, 10);
    assert_int_equal(info.domain, 5);
    assert_int_equal(c.n, 2);
    assert_true(ip_is(&c.f[1].src, "2001:db8::1"));
    assert_true(ip_is(&c.f[1].dst, "2001:db8::2"));
    assert_int_equal(c.f[1].proto, 58);
    assert_int_equal(c.f[1].bytes, 777);
    assert_int_equal(c.f[1].packets, 3);
    assert_int_equal(c.f[0].ts_ms, 1700000000123);
    assert_int_equal(c.f[1].ts_ms, 1700000000124);
    np_nf9_destroy(&d);
}

/* IPFIX options: systemInitTimeMilliseconds + samplingPacketInterval/Space (softflowd -s 4),
 * then data with flowEndSysUpTime. */
static void test_ipfix_options_sysinit_sampling(void **state) {
    (void)state;
    np_nf9_t *d = np_nf9_new(16, 0);
    fbuf_t f;
    ipfix_header(&f, 0, 0);
    size_t s = set_begin(&f, 3);
    fb_u(&f, 256, 2);
    fb_u(&f, 4, 2); /* fields */
    fb_u(&f, 1, 2); /* scope fields */
    fb_u(&f, 143, 2), fb_u(&f, 4, 2);
    fb_u(&f, 160, 2), fb_u(&f, 8, 2);
    fb_u(&f, 305, 2), fb_u(&f, 4, 2);
    fb_u(&f, 306, 2), fb_u(&f, 4, 2);
    set_end(&f, s);
    s = set_begin(&f, 2);
    fb_u(&f, 1024, 2);
    fb_u(&f, 3, 2);
    fb_u(&f, 8, 2), fb_u(&f, 4, 2);
    fb_u(&f, 2, 2), fb_u(&f, 4, 2);
    fb_u(&f, 21, 2), fb_u(&f, 4, 2);
    set_end(&f, s);
    s = set_begin(&f, 256);
    fb_u(&f, 1, 4);
    fb_u(&f, 1699999000000, 8); /* init 1000 s before the export */
    fb_u(&f, 1, 4);
    fb_u(&f, 3, 4);
    set_end(&f, s);
    s = set_begin(&f, 1024);
    fb_ip4(&f, 10, 1, 1, 1);
    fb_u(&f, 5, 4);
    fb_u(&f, 999000, 4); /* 999 s after init */
    fb_ip4(&f, 10, 1, 1, 2);
    fb_u(&f, 5, 4);
    fb_u(&f, (uint32_t)(-5000), 4); /* "before" init: softflowd reading a capture */
    set_end(&f, s);
    ipfix_end(&f);
    flows_t c = {.n = 0};
    np_fdec_info_t info;
    assert_int_equal(decode(d, &f, 0, &c, &info), NP_FDEC_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.f[0].sampling, 4);
    assert_int_equal(c.f[0].packets, 20);
    assert_int_equal(c.f[0].ts_ms, 1699999999000);
    assert_int_equal(c.f[1].ts_ms, 1699998995000);
    np_nf9_destroy(&d);
}

static void learn(np_nf9_t *d, uint32_t domain, int64_t now) {
    fbuf_t f;
    v9_header(&f, 1, domain);
    v4_template(&f, 0);
    flows_t c = {.n = 0};
    np_fdec_info_t info;
    assert_int_equal(decode(d, &f, now, &c, &info), NP_FDEC_OK);
}

static size_t data(np_nf9_t *d, uint32_t domain, int64_t now, np_fdec_info_t *info) {
    fbuf_t f;
    v9_header(&f, 2, domain);
    size_t s = set_begin(&f, 256);
    v4_record(&f, 1, 1, 1, 1);
    set_end(&f, s);
    flows_t c = {.n = 0};
    assert_int_equal(decode(d, &f, now, &c, info), NP_FDEC_OK);
    return c.n;
}

static void test_expiry_and_eviction(void **state) {
    (void)state;
    np_nf9_t *d = np_nf9_new(2, 60000);
    np_fdec_info_t info;
    learn(d, 1, 0);
    assert_int_equal(data(d, 1, 59000, &info), 1);
    assert_int_equal(data(d, 1, 61000, &info), 0); /* not refreshed for 61 s: expired */
    assert_int_equal(info.template_misses, 1);
    learn(d, 1, 61000); /* refresh */
    assert_int_equal(data(d, 1, 62000, &info), 1);
    learn(d, 2, 62000);
    learn(d, 3, 63000); /* cache of 2: domain 1 (oldest) goes */
    assert_int_equal(np_nf9_evictions(d), 1);
    assert_int_equal(np_nf9_templates(d), 2);
    assert_int_equal(data(d, 1, 63000, &info), 0);
    assert_int_equal(data(d, 3, 63000, &info), 1);
    for (uint32_t k = 10; k < 200; k++) learn(d, k, 64000 + k); /* churn: tombstones are compacted */
    assert_int_equal(np_nf9_templates(d), 2);
    assert_int_equal(data(d, 199, 70000, &info), 1);
    np_nf9_destroy(&d);
}

static void test_ipfix_withdrawal(void **state) {
    (void)state;
    np_nf9_t *d = np_nf9_new(8, 0);
    fbuf_t f;
    ipfix_header(&f, 0, 0);
    v4_template(&f, 2);
    ipfix_end(&f);
    flows_t c = {.n = 0};
    np_fdec_info_t info;
    assert_int_equal(decode(d, &f, 0, &c, &info), NP_FDEC_OK);
    assert_int_equal(np_nf9_templates(d), 1);
    ipfix_header(&f, 0, 0);
    size_t s = set_begin(&f, 2);
    fb_u(&f, 256, 2);
    fb_u(&f, 0, 2);
    set_end(&f, s);
    ipfix_end(&f);
    assert_int_equal(decode(d, &f, 0, &c, &info), NP_FDEC_OK);
    assert_int_equal(np_nf9_templates(d), 0);
    np_nf9_destroy(&d);
}

static void test_malformed(void **state) {
    (void)state;
    np_nf9_t *d = np_nf9_new(8, 0);
    fbuf_t f;
    flows_t c = {.n = 0};
    np_fdec_info_t info;
    v9_header(&f, 1, 0);
    assert_int_equal(np_nf9_decode(d, f.b, 12, &EX, 0, collect, &c, &info), NP_FDEC_TRUNCATED);
    size_t s = set_begin(&f, 0);
    fb_u(&f, 256, 2);
    fb_u(&f, 50, 2); /* 50 fields promised, none there */
    set_end(&f, s);
    assert_int_equal(decode(d, &f, 0, &c, &info), NP_FDEC_MALFORMED);
    v9_header(&f, 1, 0);
    fb_u(&f, 256, 2);
    fb_u(&f, 2, 2); /* set length below its header */
    assert_int_equal(decode(d, &f, 0, &c, &info), NP_FDEC_MALFORMED);
    v9_header(&f, 1, 0);
    fb_u(&f, 256, 2);
    fb_u(&f, 400, 2); /* longer than the datagram */
    assert_int_equal(decode(d, &f, 0, &c, &info), NP_FDEC_TRUNCATED);
    ipfix_header(&f, 0, 0);
    fb_patch16(&f, 2, 2000); /* message length beyond the datagram */
    assert_int_equal(decode(d, &f, 0, &c, &info), NP_FDEC_TRUNCATED);
    f.b[1] = 8;
    assert_int_equal(decode(d, &f, 0, &c, &info), NP_FDEC_VERSION);
    assert_int_equal(c.n, 0);
    np_nf9_destroy(&d);
}

int main(void) {
    np_ip_parse("192.0.2.1", 9, &EX);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v9_template_then_data),
        cmocka_unit_test(test_v9_options_sampling),
        cmocka_unit_test(test_ipfix_v6_varlen),
        cmocka_unit_test(test_ipfix_options_sysinit_sampling),
        cmocka_unit_test(test_expiry_and_eviction),
        cmocka_unit_test(test_ipfix_withdrawal),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
