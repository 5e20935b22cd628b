/* Unit tests for np_srcmap (bounded per-source table) and np_strbuf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "np_srcmap.h"
#include "np_strbuf.h"
#include "test_ip4.h"


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

/* The cache hints change nothing: on an empty table, on present and absent addresses, in
 * both stages (an out-of-range read would show under the sanitizer build). */
static void test_prefetch_is_a_hint(void **s) {
    (void)s;
    np_srcmap_t *m = np_srcmap_new(1000, NULL);
    np_ip_t ip = ip4(7);
    np_srcmap_prefetch(m, &ip, 0);
    np_srcmap_prefetch(m, &ip, 1);
    assert_int_equal(np_srcmap_count(m), 0);
    for (uint32_t i = 0; i < 1000; i++) {
        ip = ip4(i);
        np_srcmap_add(m, &ip, 1, i, 1);
    }
    for (uint32_t i = 0; i < 2000; i++) {
        ip = ip4(i);
        np_srcmap_prefetch(m, &ip, 0);
        np_srcmap_prefetch(m, &ip, 1);
    }
    assert_int_equal(np_srcmap_count(m), 1000);
    ip = ip4(500);
    assert_int_equal(np_srcmap_get(m, &ip)->bytes, 500);
    ip = ip4(1500);
    assert_null(np_srcmap_get(m, &ip));
    np_srcmap_destroy(&m);
}

/* Sum over entries plus `other`: what the table accounts for. */
static void table_totals(const np_srcmap_t *m, uint64_t *rec, uint64_t *bytes, uint64_t *pk) {
    *rec = np_srcmap_other(m)->records;
    *bytes = np_srcmap_other(m)->bytes;
    *pk = np_srcmap_other(m)->packets;
    for (size_t i = 0; i < np_srcmap_slots(m); i++) {
        const np_srcagg_t *e = np_srcmap_slot(m, i);
        if (!e) continue;
        *rec += e->records;
        *bytes += e->bytes;
        *pk += e->packets;
    }
}

static void test_eviction_to_other(void **s) {
    (void)s;
    np_srcmap_t *m = np_srcmap_new(10, NULL);
    for (uint32_t i = 0; i < 15; i++) {
        np_ip_t ip = ip4(i);
        assert_int_equal(np_srcmap_add(m, &ip, 1, 100, 2), i < 10 ? 0 : 1);
        assert_non_null(np_srcmap_get(m, &ip)); /* the newcomer is stored, the least one left */
    }
    np_ip_t ip = ip4(14); /* stored sources still update */
    assert_int_equal(np_srcmap_add(m, &ip, 1, 100, 2), 0);
    assert_int_equal(np_srcmap_count(m), 10);
    assert_int_equal(np_srcmap_evicted(m), 5);
    assert_int_equal(np_srcmap_other(m)->records, 5);
    assert_int_equal(np_srcmap_other(m)->bytes, 500);
    uint64_t rec, bytes, pk;
    table_totals(m, &rec, &bytes, &pk);
    assert_int_equal(rec, 16);
    assert_int_equal(bytes, 1600);
    assert_int_equal(pk, 32);
    np_srcmap_destroy(&m);
}

/* Merged entries weigh max(records, packets): the lightest one makes room. */
static void test_merge_evicts_lightest(void **s) {
    (void)s;
    np_srcmap_t *m = np_srcmap_new(2, NULL);
    np_srcagg_t a = {.ip = ip4(1), .records = 10, .bytes = 1000, .packets = 10};
    np_srcagg_t b = {.ip = ip4(2), .records = 1, .bytes = 50, .packets = 3};
    np_srcagg_t c = {.ip = ip4(3), .records = 5, .bytes = 500, .packets = 5};
    assert_int_equal(np_srcmap_merge(m, &a), 0);
    assert_int_equal(np_srcmap_merge(m, &b), 0);
    assert_int_equal(np_srcmap_merge(m, &c), 1);
    assert_null(np_srcmap_get(m, &b.ip));
    const np_srcagg_t *e = np_srcmap_get(m, &c.ip);
    assert_non_null(e);
    assert_int_equal(e->records, 5);
    assert_int_equal(np_srcmap_upper(m, e), 3 + 5); /* b's estimate is c's possible error */
    assert_int_equal(np_srcmap_other(m)->records, 1);
    assert_int_equal(np_srcmap_other(m)->bytes, 50);
    assert_int_equal(np_srcmap_evicted(m), 1);
    assert_int_equal(np_srcmap_error_bound(m), (10 + 3 + 5) / 2);
    np_srcmap_destroy(&m);
}

/* A stored source that grows after the table overflowed is no longer the least: the next
 * newcomer takes the entry that is. */
static void test_growth_moves_entry_off_min(void **s) {
    (void)s;
    np_srcmap_t *m = np_srcmap_new(3, NULL);
    np_ip_t a = ip4(1), b = ip4(2), c = ip4(3), d = ip4(4), e = ip4(5);
    np_srcmap_add(m, &a, 1, 1, 1);
    np_srcmap_add(m, &b, 1, 1, 1);
    np_srcmap_add(m, &c, 1, 1, 1);
    assert_int_equal(np_srcmap_add(m, &d, 1, 1, 1), 1); /* overflow: one of a, b, c leaves */
    const np_ip_t *left = !np_srcmap_get(m, &a) ? &a : !np_srcmap_get(m, &b) ? &b : &c;
    const np_ip_t *grow = left == &a ? &b : &a, *least = left == &c ? &b : &c;
    np_srcmap_add(m, grow, 10, 10, 10); /* now the heaviest */
    assert_int_equal(np_srcmap_add(m, &e, 1, 1, 1), 1);
    assert_non_null(np_srcmap_get(m, grow));
    assert_non_null(np_srcmap_get(m, &e));
    assert_null(np_srcmap_get(m, least)); /* estimate 1: less than d's 2 */
    assert_non_null(np_srcmap_get(m, &d));
    np_srcmap_destroy(&m);
}

/* Checks every Space-Saving claim of np_srcmap.h against exact per-source counts. */
static void check_bounds(const np_srcmap_t *m, const uint64_t *rec, const uint64_t *pk, const uint64_t *w, uint32_t n,
                         uint32_t base) {
    uint64_t bound = np_srcmap_error_bound(m);
    size_t seen = 0;
    for (size_t i = 0; i < np_srcmap_slots(m); i++) {
        const np_srcagg_t *e = np_srcmap_slot(m, i);
        if (!e) continue;
        seen++;
        assert_ptr_equal(np_srcmap_get(m, &e->ip), e); /* the index survived the evictions */
        uint32_t id = ((uint32_t)e->ip.b[12] << 24 | (uint32_t)e->ip.b[13] << 16 | (uint32_t)e->ip.b[14] << 8 |
                       e->ip.b[15]) - base;
        assert_true(id < n);
        assert_true(e->records <= rec[id] && rec[id] - e->records <= bound);
        assert_true(e->packets <= pk[id] && pk[id] - e->packets <= bound);
        assert_true(rec[id] <= np_srcmap_upper(m, e) && pk[id] <= np_srcmap_upper(m, e));
    }
    assert_int_equal(seen, np_srcmap_count(m));
    for (uint32_t id = 0; id < n; id++)
        if (w[id] > bound) {
            np_ip_t ip = ip4(base + id);
            assert_non_null(np_srcmap_get(m, &ip));
        }
}

/* A skewed stream of weighted additions against exact counts, twice (clear in between). */
static void test_space_saving_bounds(void **s) {
    (void)s;
    enum { N = 5000, K = 64 };
    static uint64_t rec[N], pk[N], w[N];
    np_srcmap_t *m = np_srcmap_new(K, NULL);
    uint64_t x = 88172645463325252ULL, total_r = 0, total_b = 0, total_p = 0;
    for (int round = 0; round < 2; round++) {
        memset(rec, 0, sizeof(rec));
        memset(pk, 0, sizeof(pk));
        memset(w, 0, sizeof(w));
        np_srcmap_clear(m);
        total_r = total_b = total_p = 0;
        for (int i = 0; i < 200000; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            double u = (double)(x >> 11) / 9007199254740992.0;
            uint32_t id = (uint32_t)(N * u * u * u * u); /* heavy at low ids */
            uint64_t r = 1 + (x >> 3) % 2, p = 1 + (x >> 5) % 6, b = 40 * p;
            np_ip_t ip = ip4(0x0a000000u + id);
            np_srcmap_add(m, &ip, r, b, p);
            rec[id] += r, pk[id] += p, w[id] += r > p ? r : p;
            total_r += r, total_b += b, total_p += p;
        }
        assert_int_equal(np_srcmap_count(m), K);
        assert_true(np_srcmap_evicted(m) > 0);
        check_bounds(m, rec, pk, w, N, 0x0a000000u);
        uint64_t tr, tb, tp;
        table_totals(m, &tr, &tb, &tp);
        assert_int_equal(tr, total_r);
        assert_int_equal(tb, total_b);
        assert_int_equal(tp, total_p);
    }
    np_srcmap_destroy(&m);
}

/* Issue 16: a spoofed-source flood (1M distinct sources, one record each) with a few heavy
 * sources and a scanner that start only once the flood has filled the table. Keeping the
 * first sources seen lost all of them; Space-Saving keeps each, within the bound. */
static void test_flood_keeps_heavy(void **s) {
    (void)s;
    enum { K = 1000, FLOOD = 1000000, HEAVY = 5, HEAVY_RECORDS = 20000, SCAN_PORTS = 3000 };
    np_hll_pool_t *pool = np_hll_pool_new(NP_HLL_P_DEFAULT, 64);
    np_srcmap_t *m = np_srcmap_new(K, pool);
    np_record_t r;
    memset(&r, 0, sizeof(r));
    r.proto = NP_PROTO_TCP;
    uint64_t heavy_n[HEAVY] = {0}, scan_n = 0, total_r = 0, total_b = 0, total_p = 0, evictions = 0;
    np_ip_t scanner = ip4(0xc6336401u); /* 198.51.100.1 */
    for (uint32_t i = 0; i < FLOOD; i++) {
        r.src = ip4(0x0b000000u + i); /* spoofed: never repeats */
        r.dst = ip4(0xc0a80001u);
        r.dst_port = 80;
        r.bytes = 60;
        r.packets = 1;
        evictions += (uint64_t)np_srcmap_add_record(m, &r);
        total_r++, total_b += r.bytes, total_p += r.packets;
        if (i < 10 * K) continue; /* the table is full of flood sources before the rest begin */
        if (i % 49 == 0) { /* 5 heavy sources, round robin: ~20k records each */
            int h = (int)((i / 49) % HEAVY);
            r.src = ip4(0xcb007101u + (uint32_t)h); /* 203.0.113.1.. */
            r.dst = ip4(0xc0a80002u + (uint32_t)h);
            r.bytes = 1500 * 4;
            r.packets = 4;
            evictions += (uint64_t)np_srcmap_add_record(m, &r);
            heavy_n[h]++;
            total_r++, total_b += r.bytes, total_p += r.packets;
        }
        if (i % 330 == 0 && scan_n < SCAN_PORTS) { /* a port scan: one SYN per port */
            r.src = scanner;
            r.dst = ip4(0xc0a80063u);
            r.dst_port = (uint16_t)(1 + scan_n);
            r.bytes = 44;
            r.packets = 1;
            evictions += (uint64_t)np_srcmap_add_record(m, &r);
            scan_n++;
            total_r++, total_b += r.bytes, total_p += r.packets;
        }
    }
    uint64_t bound = np_srcmap_error_bound(m);
    assert_true(bound > 0 && bound < HEAVY_RECORDS / 10);
    for (int h = 0; h < HEAVY; h++) {
        np_ip_t ip = ip4(0xcb007101u + (uint32_t)h);
        const np_srcagg_t *e = np_srcmap_get(m, &ip);
        assert_non_null(e);
        assert_true(heavy_n[h] > bound);
        assert_true(e->records <= heavy_n[h] && heavy_n[h] - e->records <= bound);
        assert_true(e->packets <= 4 * heavy_n[h] && 4 * heavy_n[h] - e->packets <= bound);
        assert_true(np_srcmap_upper(m, e) >= 4 * heavy_n[h]);
    }
    const np_srcagg_t *sc = np_srcmap_get(m, &scanner);
    assert_non_null(sc);
    assert_int_equal(scan_n, SCAN_PORTS);
    assert_true(sc->records <= scan_n && scan_n - sc->records <= bound);
    /* Its port sketch covers the ports since it was (last) stored: a scan stays visible. */
    uint64_t ports = np_hll_estimate(&sc->dst_ports);
    assert_true(ports > sc->records * 9 / 10 && ports < sc->records * 11 / 10 + 10);
    uint64_t tr, tb, tp;
    table_totals(m, &tr, &tb, &tp);
    assert_int_equal(tr, total_r);
    assert_int_equal(tb, total_b);
    assert_int_equal(tp, total_p);
    assert_int_equal(np_srcmap_count(m), K);
    assert_int_equal(np_srcmap_evicted(m), evictions);
    np_srcmap_clear(m);
    assert_int_equal(np_hll_pool_blocks_used(pool), 0); /* evicted sketches went back */
    np_srcmap_destroy(&m);
    np_hll_pool_destroy(&pool);
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
        cmocka_unit_test(test_prefetch_is_a_hint),
        cmocka_unit_test(test_eviction_to_other),
        cmocka_unit_test(test_merge_evicts_lightest),
        cmocka_unit_test(test_growth_moves_entry_off_min),
        cmocka_unit_test(test_space_saving_bounds),
        cmocka_unit_test(test_flood_keeps_heavy),
        cmocka_unit_test(test_top_bytes),
        cmocka_unit_test(test_record_detail),
        cmocka_unit_test(test_strbuf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
