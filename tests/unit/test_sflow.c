/* Unit tests for np_sflow (sFlow v5) and np_pkt (packet headers) with hand-built datagrams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "flowbuf.h"
#include "np_pkt.h"
#include "np_sflow.h"

/* An Ethernet frame (optionally VLAN-tagged) carrying IPv4 TCP 10.0.0.1:1234 -> 10.0.0.2:80. */
static size_t frame_v4_tcp(uint8_t *out, bool vlan, uint8_t flags) {
    fbuf_t f = {.n = 0};
    fb_u(&f, 0x020000000002ULL, 6);
    fb_u(&f, 0x020000000001ULL, 6);
    if (vlan) {
        fb_u(&f, 0x8100, 2);
        fb_u(&f, 100, 2);
    }
    fb_u(&f, 0x0800, 2);
    fb_u(&f, 0x45, 1), fb_u(&f, 0, 1), fb_u(&f, 40, 2), fb_u(&f, 0, 4);
    fb_u(&f, 64, 1), fb_u(&f, 6, 1), fb_u(&f, 0, 2);
    fb_ip4(&f, 10, 0, 0, 1);
    fb_ip4(&f, 10, 0, 0, 2);
    fb_u(&f, 1234, 2), fb_u(&f, 80, 2), fb_u(&f, 0, 8), fb_u(&f, 0x50, 1), fb_u(&f, flags, 1), fb_u(&f, 0, 6);
    memcpy(out, f.b, f.n);
    return f.n;
}

/* IPv6 with a hop-by-hop extension header, then UDP 53. */
static size_t packet_v6_udp(uint8_t *out) {
    fbuf_t f = {.n = 0};
    fb_u(&f, 0x60000000, 4), fb_u(&f, 16, 2), fb_u(&f, 0, 1), fb_u(&f, 64, 1);
    uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
    fb_bytes(&f, a, 16);
    fb_bytes(&f, b, 16);
    fb_u(&f, 17, 1), fb_u(&f, 0, 7); /* hop-by-hop: next = UDP, 8 bytes */
    fb_u(&f, 5353, 2), fb_u(&f, 53, 2), fb_u(&f, 8, 2), fb_u(&f, 0, 2);
    memcpy(out, f.b, f.n);
    return f.n;
}

static void test_pkt_parse(void **state) {
    (void)state;
    uint8_t p[128];
    np_pkt_t k;
    size_t n = frame_v4_tcp(p, true, NP_TCP_FIN | 0x10);
    assert_int_equal(np_pkt_parse(p, n, NP_PKT_ETHERNET, &k), 0);
    assert_true(ip_is(&k.src, "10.0.0.1"));
    assert_true(ip_is(&k.dst, "10.0.0.2"));
    assert_int_equal(k.src_port, 1234);
    assert_int_equal(k.dst_port, 80);
    assert_int_equal(k.proto, 6);
    assert_int_equal(k.ip_len, 40);
    assert_int_equal(k.tcp_flags & NP_TCP_FIN, NP_TCP_FIN);
    assert_int_equal(np_pkt_parse(p, 30, NP_PKT_ETHERNET, &k), -1); /* cut before the addresses */
    n = packet_v6_udp(p);
    assert_int_equal(np_pkt_parse(p, n, NP_PKT_IP, &k), 0);
    assert_true(ip_is(&k.src, "2001:db8::1"));
    assert_int_equal(k.proto, 17);
    assert_int_equal(k.dst_port, 53);
    assert_int_equal(k.ip_len, 56);
    assert_int_equal(np_pkt_parse(p, 50, NP_PKT_IPV6, &k), 0); /* cut in the extension header */
    assert_int_equal(k.dst_port, 0);
    p[0] = 0x50;
    assert_int_equal(np_pkt_parse(p, n, NP_PKT_IP, &k), -1);
}

/* A datagram: one flow sample (rate 256, a raw Ethernet header) and one counter sample. */
static void build(fbuf_t *f, bool expanded) {
    uint8_t fr[128];
    size_t fl = frame_v4_tcp(fr, false, 0x10);
    f->n = 0;
    fb_u(f, 5, 4);
    fb_u(f, 1, 4);
    fb_ip4(f, 192, 0, 2, 7); /* agent */
    fb_u(f, 3, 4);           /* sub-agent */
    fb_u(f, 99, 4);          /* sequence */
    fb_u(f, 12345, 4);       /* uptime */
    fb_u(f, 3, 4);           /* samples */
    /* flow sample */
    fb_u(f, expanded ? 3 : 1, 4);
    size_t len_at = f->n;
    fb_u(f, 0, 4);
    fb_u(f, 1, 4);              /* sequence */
    fb_u(f, 5, 4);              /* source id */
    if (expanded) fb_u(f, 5, 4);
    fb_u(f, 256, 4);            /* rate */
    fb_u(f, 1000, 4), fb_u(f, 0, 4); /* pool, drops */
    if (expanded) fb_u(f, 0, 4);
    fb_u(f, 11, 4);             /* input */
    if (expanded) fb_u(f, 0, 4);
    fb_u(f, 12, 4);             /* output */
    fb_u(f, 2, 4);              /* records */
    fb_u(f, 1001, 4), fb_u(f, 4, 4), fb_u(f, 0xaabbccdd, 4); /* a switch record: skipped */
    fb_u(f, 1, 4);              /* raw packet header */
    fb_u(f, 16 + ((fl + 3) & ~3u), 4);
    fb_u(f, 1, 4);              /* ethernet */
    fb_u(f, 1518, 4);           /* frame length */
    fb_u(f, 4, 4);              /* stripped */
    fb_u(f, fl, 4);
    fb_bytes(f, fr, fl);
    while (f->n % 4) fb_u(f, 0, 1);
    uint32_t sl = (uint32_t)(f->n - len_at - 4);
    f->b[len_at] = (uint8_t)(sl >> 24), f->b[len_at + 1] = (uint8_t)(sl >> 16);
    f->b[len_at + 2] = (uint8_t)(sl >> 8), f->b[len_at + 3] = (uint8_t)sl;
    /* counter sample with generic interface counters */
    fb_u(f, 2, 4);
    fb_u(f, 12 + 8 + 88, 4);
    fb_u(f, 1, 4), fb_u(f, 5, 4), fb_u(f, 1, 4);
    fb_u(f, 1, 4), fb_u(f, 88, 4);
    fb_u(f, 5, 4), fb_u(f, 6, 4), fb_u(f, 1000000000, 8), fb_u(f, 1, 4), fb_u(f, 3, 4);
    fb_u(f, 123456789, 8), fb_u(f, 1000, 4), fb_u(f, 0, 12), fb_u(f, 7, 4), fb_u(f, 0, 4);
    fb_u(f, 987654321, 8), fb_u(f, 2000, 4), fb_u(f, 0, 12), fb_u(f, 9, 4), fb_u(f, 0, 4);
    /* an unknown sample format: skipped by its length */
    fb_u(f, (1234u << 12) | 1, 4), fb_u(f, 8, 4), fb_u(f, 0, 8);
}

static np_ifcount_t last_if;
static void collect_if(void *ctx, const np_ifcount_t *c) {
    (void)ctx;
    last_if = *c;
}

static void test_flow_and_counter_samples(void **state) {
    (void)state;
    for (int expanded = 0; expanded < 2; expanded++) {
        fbuf_t f;
        build(&f, expanded);
        flows_t c = {.n = 0};
        np_fdec_info_t info;
        memset(&last_if, 0, sizeof last_if);
        assert_int_equal(np_sflow_decode(f.b, f.n, 1700000000000, collect, collect_if, &c, &info), NP_FDEC_OK);
        assert_int_equal(info.version, 5);
        assert_int_equal(info.seq, 99);
        assert_int_equal(info.domain, 3);
        assert_int_equal(info.records, 1);
        assert_int_equal(info.counters, 1);
        assert_int_equal(c.n, 1);
        np_flow_t *x = &c.f[0];
        assert_true(ip_is(&x->exporter, "192.0.2.7"));
        assert_true(ip_is(&x->src, "10.0.0.1"));
        assert_int_equal(x->dst_port, 80);
        assert_int_equal(x->proto, 6);
        assert_int_equal(x->bytes, 1518 * 256);
        assert_int_equal(x->packets, 256);
        assert_int_equal(x->sampling, 256);
        assert_int_equal(x->in_if, 11);
        assert_int_equal(x->out_if, 12);
        assert_int_equal(x->ts_ms, 1700000000000);
        assert_int_equal(last_if.ifindex, 5);
        assert_true(last_if.in_octets == 123456789);
        assert_true(last_if.out_octets == 987654321);
        assert_int_equal(last_if.in_errors, 7);
        assert_int_equal(last_if.out_errors, 9);
        np_ip_t agent;
        assert_int_equal(np_sflow_agent(f.b, f.n, &agent), 0);
        assert_true(ip_is(&agent, "192.0.2.7"));
    }
}

static void test_malformed(void **state) {
    (void)state;
    fbuf_t f;
    build(&f, false);
    flows_t c = {.n = 0};
    np_fdec_info_t info;
    assert_int_equal(np_sflow_decode(f.b, 3, 0, collect, NULL, &c, &info), NP_FDEC_TRUNCATED);
    /* Every truncation is reported, never read past. */
    for (size_t n = 4; n < f.n; n++)
        assert_int_not_equal(np_sflow_decode(f.b, n, 0, collect, NULL, &c, &info), NP_FDEC_OK);
    f.b[7] = 9; /* agent address type 9 */
    assert_int_equal(np_sflow_decode(f.b, f.n, 0, collect, NULL, &c, &info), NP_FDEC_MALFORMED);
    f.b[3] = 4;
    assert_int_equal(np_sflow_decode(f.b, f.n, 0, collect, NULL, &c, &info), NP_FDEC_VERSION);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pkt_parse),
        cmocka_unit_test(test_flow_and_counter_samples),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
