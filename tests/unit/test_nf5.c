/* Unit tests for np_nf5 (NetFlow v5) with hand-built datagrams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "flowbuf.h"
#include "np_nf5.h"

/* A v5 datagram of n records: header at unix time 1700000000.5 s, uptime 100000 ms. */
static void build(fbuf_t *f, int n, uint16_t sampling) {
    f->n = 0;
    fb_u(f, 5, 2);
    fb_u(f, (uint64_t)n, 2);
    fb_u(f, 100000, 4);      /* sysUptime */
    fb_u(f, 1700000000, 4);  /* unix_secs */
    fb_u(f, 500000000, 4);   /* unix_nsecs */
    fb_u(f, 42, 4);          /* flow_sequence */
    fb_u(f, 0x0102, 2);      /* engine type/id */
    fb_u(f, sampling, 2);
    for (int i = 0; i < n; i++) {
        fb_ip4(f, 10, 0, 0, (uint8_t)(1 + i));
        fb_ip4(f, 192, 168, 1, 5);
        fb_ip4(f, 0, 0, 0, 0); /* nexthop */
        fb_u(f, 3, 2);         /* input */
        fb_u(f, 4, 2);         /* output */
        fb_u(f, 10, 4);        /* packets */
        fb_u(f, 5000, 4);      /* octets */
        fb_u(f, 90000, 4);     /* first */
        fb_u(f, 99000, 4);     /* last: 1 s before the export */
        fb_u(f, 51234, 2);
        fb_u(f, 443, 2);
        fb_u(f, 0, 1);
        fb_u(f, 0x18, 1); /* tcp flags */
        fb_u(f, 6, 1);
        fb_u(f, 0, 1);
        fb_u(f, 0, 8); /* AS, masks, pad */
    }
}

static void test_decodes_records(void **state) {
    (void)state;
    fbuf_t f;
    build(&f, 2, 0);
    flows_t c = {.n = 0};
    np_fdec_info_t info;
    np_ip_t ex;
    np_ip_parse("192.0.2.9", 9, &ex);
    assert_int_equal(np_nf5_decode(f.b, f.n, &ex, collect, &c, &info), NP_FDEC_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(info.seq, 42);
    assert_int_equal(info.records, 2);
    assert_int_equal(info.domain, 0x0102);
    np_flow_t *x = &c.f[1];
    assert_true(ip_is(&x->src, "10.0.0.2"));
    assert_true(ip_is(&x->dst, "192.168.1.5"));
    assert_true(ip_is(&x->exporter, "192.0.2.9"));
    assert_int_equal(x->src_port, 51234);
    assert_int_equal(x->dst_port, 443);
    assert_int_equal(x->proto, 6);
    assert_int_equal(x->bytes, 5000);
    assert_int_equal(x->packets, 10);
    assert_int_equal(x->in_if, 3);
    assert_int_equal(x->out_if, 4);
    assert_int_equal(x->sampling, 1);
    assert_int_equal(x->ts_ms, 1700000000500 - 1000);
}

static void test_sampling_scales(void **state) {
    (void)state;
    fbuf_t f;
    build(&f, 1, 0x4000 | 100); /* mode bits 01, interval 100 */
    flows_t c = {.n = 0};
    np_fdec_info_t info;
    np_ip_t ex = {{0}};
    assert_int_equal(np_nf5_decode(f.b, f.n, &ex, collect, &c, &info), NP_FDEC_OK);
    assert_int_equal(c.f[0].sampling, 100);
    assert_int_equal(c.f[0].bytes, 500000);
    assert_int_equal(c.f[0].packets, 1000);
}

static void test_malformed(void **state) {
    (void)state;
    fbuf_t f;
    flows_t c = {.n = 0};
    np_fdec_info_t info;
    np_ip_t ex = {{0}};
    build(&f, 3, 0);
    assert_int_equal(np_nf5_decode(f.b, f.n - 1, &ex, collect, &c, &info), NP_FDEC_TRUNCATED);
    assert_int_equal(np_nf5_decode(f.b, 10, &ex, collect, &c, &info), NP_FDEC_TRUNCATED);
    fb_patch16(&f, 2, 31);
    assert_int_equal(np_nf5_decode(f.b, f.n, &ex, collect, &c, &info), NP_FDEC_MALFORMED);
    fb_patch16(&f, 0, 7);
    assert_int_equal(np_nf5_decode(f.b, f.n, &ex, collect, &c, &info), NP_FDEC_VERSION);
    assert_int_equal(c.n, 0); /* nothing emitted from a bad datagram */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decodes_records),
        cmocka_unit_test(test_sampling_scales),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
