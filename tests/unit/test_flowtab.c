/* Unit tests for np_flowtab (packets to flows for pcap replay). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "flowbuf.h"
#include "np_flowtab.h"

static np_pkt_t pkt(uint8_t src, uint16_t sport, uint8_t proto, uint8_t flags, uint32_t len) {
    np_pkt_t p;
    memset(&p, 0, sizeof p);
    np_ip_parse("10.0.0.1", 8, &p.src);
    p.src.b[15] = src;
    np_ip_parse("10.0.0.2", 8, &p.dst);
    p.src_port = sport;
    p.dst_port = 80;
    p.proto = proto;
    p.tcp_flags = flags;
    p.ip_len = len;
    return p;
}

static void test_fin_inactive_active(void **state) {
    (void)state;
    np_flowtab_t *t = np_flowtab_new(100, 60000, 15000);
    flows_t c = {.n = 0};
    np_pkt_t a = pkt(1, 1000, 6, 0x02, 60), b = pkt(1, 1000, 6, 0x11, 40), u = pkt(2, 53, 17, 0, 100);
    np_flowtab_add(t, 1000, &a, collect, &c);
    np_flowtab_add(t, 1100, &u, collect, &c);
    np_flowtab_add(t, 1500, &a, collect, &c);
    np_flowtab_add(t, 2000, &b, collect, &c); /* FIN: ends the TCP flow */
    assert_int_equal(c.n, 1);
    assert_int_equal(c.f[0].packets, 3);
    assert_int_equal(c.f[0].bytes, 160);
    assert_int_equal(c.f[0].ts_ms, 2000);
    assert_int_equal(np_flowtab_open(t), 1);
    /* The UDP flow goes idle for 15 s: ended by the next packet's sweep. */
    np_flowtab_add(t, 17000, &a, collect, &c);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.f[1].ts_ms, 1100);
    assert_int_equal(c.f[1].proto, 17);
    /* A long flow is cut every 60 s. */
    for (int64_t ts = 17000; ts <= 140000; ts += 1000) np_flowtab_add(t, ts, &a, collect, &c);
    assert_int_equal(c.n, 4);
    /* 125 packets from 17 s: cut at 77 s and 137 s (61 + 60), 4 still open */
    assert_int_equal(c.f[2].packets, 61);
    assert_int_equal(c.f[3].packets, 60);
    assert_int_equal(c.f[3].ts_ms, 136000);
    np_flowtab_flush(t, collect, &c);
    assert_int_equal(c.n, 5);
    assert_int_equal(c.f[4].packets, 4);
    assert_int_equal(np_flowtab_open(t), 0);
    np_flowtab_destroy(&t);
    assert_null(t);
}

static void test_full_table_forces_out(void **state) {
    (void)state;
    np_flowtab_t *t = np_flowtab_new(4, 60000, 15000);
    flows_t c = {.n = 0};
    uint64_t pk = 0;
    for (int i = 0; i < 10; i++) {
        np_pkt_t p = pkt((uint8_t)i, 1000, 17, 0, 100);
        np_flowtab_add(t, 1000, &p, collect, &c);
    }
    np_flowtab_flush(t, collect, &c);
    for (size_t i = 0; i < c.n; i++) pk += c.f[i].packets;
    assert_int_equal(pk, 10); /* nothing lost */
    assert_true(np_flowtab_forced(t) >= 4);
    np_flowtab_destroy(&t);
}

/* Many flows with removals in the middle of probe clusters: every packet is accounted. */
static void test_removal_keeps_table_consistent(void **state) {
    (void)state;
    np_flowtab_t *t = np_flowtab_new(64, 1000000, 1000000);
    flows_t c = {.n = 0};
    uint64_t total = 0;
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 40; i++) {
            np_pkt_t p = pkt((uint8_t)i, (uint16_t)(1000 + i), 6, (i % 3 == 0 && round == 1) ? 0x04 : 0x10, 10);
            np_flowtab_add(t, 1000 + round, &p, collect, &c);
            if (c.n > 32) {
                for (size_t k = 0; k < c.n; k++) total += c.f[k].packets;
                c.n = 0;
            }
        }
    np_flowtab_flush(t, collect, &c);
    for (size_t k = 0; k < c.n; k++) total += c.f[k].packets;
    assert_int_equal(total, 120);
    np_flowtab_destroy(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fin_inactive_active),
        cmocka_unit_test(test_full_table_forces_out),
        cmocka_unit_test(test_removal_keeps_table_consistent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
