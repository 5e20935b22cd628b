/* Unit tests for np_srcmap (bounded per-source table) and np_strbuf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "np_srcmap.h"
#include "np_strbuf.h"

static np_ip_t ip4(uint32_t v) {
    np_ip_t ip;
    memset(&ip, 0, sizeof(ip));
    ip.b[10] = ip.b[11] = 0xff;
    ip.b[12] = (uint8_t)(v >> 24);
    ip.b[13] = (uint8_t)(v >> 16);
    ip.b[14] = (uint8_t)(v >> 8);
    ip.b[15] = (uint8_t)v;
    return ip;
}

static void test_grow_and_lookup(void **s) {
    (void)s;
    np_srcmap_t *m = np_srcmap_new(100000, NULL);
    for (uint32_t i = 0; i < 50000; i++) {
        np_ip_t ip = ip4(i);
        assert_int_equal(np_srcmap_add(m, &ip, 1, i, 1), 0);
    }
    for (uint32_t i = 0; i < 50000; i += 2) {
        np_ip_t ip = ip4(i);
        np_srcmap_add(m, &ip, 1, 1, 1);
    }
    assert_int_equal(np_srcmap_count(m), 50000);
    assert_true(np_srcmap_capacity(m) >= 100000); /* load <= 1/2 */
    np_ip_t ip = ip4(4242);
    const np_srcagg_t *a = np_srcmap_get(m, &ip);
    assert_non_null(a);
    assert_int_equal(a->records, 2);
    assert_int_equal(a->bytes, 4243);
    ip = ip4(999999);
    assert_null(np_srcmap_get(m, &ip));
    size_t seen = 0;
    for (size_t i = 0; i < np_srcmap_slots(m); i++) seen += np_srcmap_slot(m, i) != NULL;
    assert_int_equal(seen, 50000);
    size_t cap = np_srcmap_capacity(m);
    np_srcmap_clear(m);
    assert_int_equal(np_srcmap_count(m), 0);
    assert_int_equal(np_srcmap_capacity(m), cap); /* memory kept for reuse */
    np_srcmap_destroy(&m);
    assert_null(m);
}

static void test_eviction_to_other(void **s) {
    (void)s;
    np_srcmap_t *m = np_srcmap_new(10, NULL);
    for (uint32_t i = 0; i < 15; i++) {
        np_ip_t ip = ip4(i);
        assert_int_equal(np_srcmap_add(m, &ip, 1, 100, 2), i < 10 ? 0 : 1);
    }
    np_ip_t ip = ip4(3); /* existing sources still update */
    assert_int_equal(np_srcmap_add(m, &ip, 1, 100, 2), 0);
    assert_int_equal(np_srcmap_count(m), 10);
    assert_int_equal(np_srcmap_evicted(m), 5);
    assert_int_equal(np_srcmap_other(m)->records, 5);
    assert_int_equal(np_srcmap_other(m)->bytes, 500);
    np_srcmap_destroy(&m);
}

static void test_top_bytes(void **s) {
    (void)s;
    np_srcmap_t *m = np_srcmap_new(1000, NULL);
    for (uint32_t i = 1; i <= 100; i++) {
        np_ip_t ip = ip4(i);
        np_srcmap_add(m, &ip, 1, (i * 37) % 101, 1);
    }
    np_ip_t a = ip4(500), b = ip4(501); /* a tie on bytes and records: lower address first */
    np_srcmap_add(m, &b, 1, 1000, 1);
    np_srcmap_add(m, &a, 1, 1000, 1);
    np_srcagg_t top[5];
    assert_int_equal(np_srcmap_top_bytes(m, top, 5), 5);
    assert_memory_equal(top[0].ip.b, a.b, 16);
    assert_memory_equal(top[1].ip.b, b.b, 16);
    assert_int_equal(top[2].bytes, 100);
    for (int i = 3; i < 5; i++) assert_true(top[i].bytes <= top[i - 1].bytes);
    np_srcagg_t all[200];
    assert_int_equal(np_srcmap_top_bytes(m, all, 200), 102);
    np_srcmap_destroy(&m);
}

static void test_record_detail(void **s) {
    (void)s;
    np_hll_pool_t *pool = np_hll_pool_new(10, 16);
    np_srcmap_t *m = np_srcmap_new(100, pool);
    np_record_t r;
    memset(&r, 0, sizeof(r));
    r.src = ip4(1);
    r.bytes = 10;
    r.packets = 1;
    for (uint32_t i = 0; i < 300; i++) { /* a scan: 300 hosts, 3 ports, mixed protocols */
        r.dst = ip4(1000 + i);
        r.dst_port = (uint16_t)(i % 3);
        r.proto = i % 2 ? NP_PROTO_TCP : NP_PROTO_UDP;
        assert_int_equal(np_srcmap_add_record(m, &r), 0);
    }
    const np_srcagg_t *a = np_srcmap_get(m, &r.src);
    assert_int_equal(a->records, 300);
    assert_int_equal(a->pmix[NP_PMIX_TCP], 150);
    assert_int_equal(a->pmix[NP_PMIX_UDP], 150);
    assert_int_equal(np_hll_estimate(&a->dst_ports), 3); /* exact while small */
    uint64_t hosts = np_hll_estimate(&a->dst_ips);
    assert_true(hosts > 270 && hosts < 330);
    assert_true(np_hll_pool_blocks_used(pool) == 1);
    /* Merging an entry into another table unites the sketches. */
    np_srcmap_t *m2 = np_srcmap_new(100, pool);
    np_srcmap_merge(m2, a);
    np_srcmap_merge(m2, a);
    assert_int_equal(np_srcmap_get(m2, &r.src)->records, 600);
    assert_int_equal(np_hll_estimate(&np_srcmap_get(m2, &r.src)->dst_ips), hosts);
    np_srcmap_clear(m);
    np_srcmap_destroy(&m2);
    assert_int_equal(np_hll_pool_blocks_used(pool), 0); /* blocks returned */
    np_srcmap_destroy(&m);
    np_hll_pool_destroy(&pool);
}

static void test_strbuf(void **s) {
    (void)s;
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    np_strbuf_i64(&sb, -42);
    np_strbuf_putc(&sb, ' ');
    np_strbuf_u64(&sb, 18446744073709551615ULL);
    np_strbuf_putc(&sb, ' ');
    np_strbuf_json_str(&sb, "a\"b\\c\n\x01", 7);
    assert_string_equal(sb.buf, "-42 18446744073709551615 \"a\\\"b\\\\c\\n\\u0001\"");
    np_strbuf_reset(&sb);
    for (int i = 0; i < 1000; i++) np_strbuf_printf(&sb, "%d,", i);
    assert_int_equal(sb.len, strlen(sb.buf));
    np_strbuf_free(&sb);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow_and_lookup),
        cmocka_unit_test(test_eviction_to_other),
        cmocka_unit_test(test_top_bytes),
        cmocka_unit_test(test_record_detail),
        cmocka_unit_test(test_strbuf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
