/* Unit tests for np_vhll (the virtual HyperLogLog pool of per-destination fan-in):
 * estimates against exact counts at several cardinalities and pool loads, equality of
 * adding by hash and by folded np_hll sketches, merge = union, encoding round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_vhll.h"

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static np_ip_t dest(uint32_t i) {
    np_ip_t d;
    memset(&d, 0, sizeof(d));
    d.b[10] = d.b[11] = 0xff;
    d.b[12] = 10, d.b[13] = (uint8_t)(i >> 16), d.b[14] = (uint8_t)(i >> 8), d.b[15] = (uint8_t)i;
    return d;
}

/* A source's hash: np_hll_hash of its 16 bytes, as the tables use. */
static uint64_t src_hash(uint64_t id) {
    uint8_t b[16] = {0};
    memcpy(b, &id, sizeof(id));
    return np_hll_hash(b, sizeof(b));
}

static void test_new_rejects_bad_sizes(void **state) {
    (void)state;
    char err[128];
    assert_null(np_vhll_new(1000, 256, err, sizeof(err)));
    assert_non_null(strstr(err, "pool size"));
    assert_null(np_vhll_new(1u << 12, 100, err, sizeof(err)));
    assert_non_null(strstr(err, "per destination"));
    assert_null(np_vhll_new(1u << 12, 2048, err, sizeof(err)));
    assert_null(np_vhll_new(1u << 10, 512, err, sizeof(err))); /* s > m / 4 */
    np_vhll_t *v = np_vhll_new(1u << 12, 256, err, sizeof(err));
    assert_non_null(v);
    np_vhll_destroy(&v);
    assert_null(v);
}

/* Relative error of the fan-in of `targets` destinations of n_f sources each, with
 * `noise_pairs` other (destination, source) pairs in the pool, against the stated bound
 * 1.04 / sqrt(s) * (n_f + s * n / m) at 4 standard errors for each, and the mean within
 * 2 standard errors of the mean plus 5 % (the bias measured at the heaviest load is 4 %). */
static void check_error(size_t m, unsigned s, uint64_t nf, uint64_t noise_pairs, unsigned targets) {
    np_vhll_t *v = np_vhll_new(m, s, NULL, 0);
    assert_non_null(v);
    uint64_t seed = nf * 7919 + noise_pairs, id = 1;
    for (uint64_t i = 0; i < noise_pairs; i++) { /* background: 100,000 destinations, few sources each */
        np_ip_t d = dest(100000 + (uint32_t)(rng_next(&seed) % 100000));
        np_vhll_add(v, &d, src_hash(id++));
    }
    for (unsigned t = 0; t < targets; t++) {
        np_ip_t d = dest(t);
        for (uint64_t j = 0; j < nf; j++) np_vhll_add(v, &d, src_hash(id++));
    }
    double n = (double)(noise_pairs + nf * targets);
    double sd = 1.04 / sqrt((double)s) * ((double)nf + (double)s * n / (double)m);
    double noise = np_vhll_noise(v), sum = 0, worst = 0;
    for (unsigned t = 0; t < targets; t++) {
        np_ip_t d = dest(t);
        double e = (double)np_vhll_estimate(v, &d, noise) - (double)nf;
        sum += e;
        if (fabs(e) > worst) worst = fabs(e);
        assert_true(fabs(e) <= 4 * sd);
    }
    double mean = sum / targets;
    printf("m=%zu s=%u n_f=%" PRIu64 " pairs=%.0f: mean error %+.1f (%.2f%%), worst %.1f, bound sd %.1f\n", m, s, nf, n,
           mean, 100 * mean / (double)nf, worst, sd);
    assert_true(fabs(mean) <= 2 * sd / sqrt((double)targets) + 0.05 * (double)nf); /* bias <= 4 % measured */
    np_vhll_destroy(&v);
}

static void test_error_against_exact(void **state) {
    (void)state;
    size_t m = NP_VHLL_M_DEFAULT;
    unsigned s = NP_VHLL_S_DEFAULT;
    uint64_t nfs[] = {100, 1000, 10000, 100000};
    for (size_t i = 0; i < sizeof(nfs) / sizeof(nfs[0]); i++) {
        check_error(m, s, nfs[i], 0, 40);       /* the pool holds only the targets */
        check_error(m, s, nfs[i], 100000, 40);  /* lightly loaded: s n / m ~ 100 */
        check_error(m, s, nfs[i], 1000000, 40); /* loaded: s n / m ~ 1000 */
    }
}

/* A destination without sources reads near 0 however busy the pool: no phantom fan-in
 * above the noise bound. */
static void test_empty_destination_reads_low(void **state) {
    (void)state;
    np_vhll_t *v = np_vhll_new(NP_VHLL_M_DEFAULT, NP_VHLL_S_DEFAULT, NULL, 0);
    uint64_t seed = 1;
    for (uint64_t i = 0; i < 200000; i++) {
        np_ip_t d = dest(100000 + (uint32_t)(rng_next(&seed) % 50000));
        np_vhll_add(v, &d, src_hash(i));
    }
    double noise = np_vhll_noise(v), sd = 1.04 / 16.0 * (256.0 * 200000 / NP_VHLL_M_DEFAULT);
    for (uint32_t t = 0; t < 100; t++) {
        np_ip_t d = dest(t);
        assert_true((double)np_vhll_estimate(v, &d, noise) <= 4 * sd);
    }
    np_vhll_destroy(&v);
}

/* In a busy pool the estimate of a destination with few sources reads far above them (the
 * noise), so a threshold on the estimate raises false DDoS alerts; np_vhll_lower does not
 * cross it, while a destination with many sources still does. m = 2^14, s = 64, 200k
 * other pairs: noise s n / m ~ 780 per destination. */
static void test_lower_bound_ignores_noise(void **state) {
    (void)state;
    np_vhll_t *v = np_vhll_new(1u << 14, 64, NULL, 0);
    uint64_t seed = 7, id = 1;
    for (uint64_t i = 0; i < 200000; i++) {
        np_ip_t d = dest(100000 + (uint32_t)(rng_next(&seed) % 100000));
        np_vhll_add(v, &d, src_hash(id++));
    }
    for (uint32_t t = 0; t < 200; t++) { /* 20 sources each */
        np_ip_t d = dest(t);
        for (int j = 0; j < 20; j++) np_vhll_add(v, &d, src_hash(id++));
    }
    np_ip_t big = dest(5000);
    for (int j = 0; j < 5000; j++) np_vhll_add(v, &big, src_hash(id++));
    double noise = np_vhll_noise(v);
    unsigned est_over = 0, lower_over = 0;
    for (uint32_t t = 0; t < 200; t++) {
        np_ip_t d = dest(t);
        uint64_t e = np_vhll_estimate(v, &d, noise);
        est_over += e >= 100;
        lower_over += np_vhll_lower(v, e, noise, 3.0) >= 100;
    }
    printf("20-source destinations reading >= 100: estimate %u of 200, lower bound %u\n", est_over, lower_over);
    assert_true(est_over >= 20); /* the noise the bound is for (43 of 200 measured) */
    assert_int_equal(lower_over, 0);
    uint64_t e = np_vhll_estimate(v, &big, noise);
    assert_true(np_vhll_lower(v, e, noise, 3.0) >= 1000);
    assert_true(np_vhll_lower(v, e, noise, 3.0) <= e);
    np_vhll_destroy(&v);
}

/* Adding a destination's sources one by one or as its np_hll sketch (exact or dense form)
 * sets the same registers. */
static void test_sketch_equals_hashes(void **state) {
    (void)state;
    np_hll_pool_t *pool = np_hll_pool_new(NP_HLL_P_DEFAULT, 16);
    uint64_t counts[] = {3, 6, 7, 50, 5000};
    for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
        np_vhll_t *a = np_vhll_new(1u << 14, 64, NULL, 0), *b = np_vhll_new(1u << 14, 64, NULL, 0);
        np_hll_t h;
        np_hll_init(&h);
        np_ip_t d = dest(7);
        for (uint64_t i = 0; i < counts[c]; i++) {
            np_vhll_add(a, &d, src_hash(i));
            np_hll_add_hash(&h, pool, src_hash(i));
        }
        np_vhll_add_sketch(b, &d, &h);
        uint8_t ea[(1u << 14) + 8], eb[(1u << 14) + 8];
        size_t la = np_vhll_encode(a, ea, sizeof(ea)), lb = np_vhll_encode(b, eb, sizeof(eb));
        assert_int_equal(la, lb);
        assert_memory_equal(ea, eb, la);
        np_hll_reset(&h, pool);
        np_vhll_destroy(&a);
        np_vhll_destroy(&b);
    }
    np_hll_pool_destroy(&pool);
}

/* Merge (in memory or from an encoding, list or dense form) is the union's pool. */
static void test_merge_is_union(void **state) {
    (void)state;
    size_t m = 1u << 12;
    uint64_t sizes[] = {20, 5000}; /* list form, then dense */
    for (size_t k = 0; k < 2; k++) {
        np_vhll_t *a = np_vhll_new(m, 64, NULL, 0), *b = np_vhll_new(m, 64, NULL, 0), *u = np_vhll_new(m, 64, NULL, 0),
                  *c = np_vhll_new(m, 64, NULL, 0);
        for (uint64_t i = 0; i < sizes[k]; i++) {
            np_ip_t d = dest((uint32_t)(i % 37));
            np_vhll_add(i % 2 ? a : b, &d, src_hash(i));
            np_vhll_add(u, &d, src_hash(i));
        }
        uint8_t buf[m + 64], ub[m + 64];
        size_t la = np_vhll_encode(a, buf, sizeof(buf));
        assert_true(la <= np_vhll_encoded_size(a));
        assert_int_equal(np_vhll_merge_encoded(c, buf, la, NULL, 0), 0);
        size_t lb = np_vhll_encode(b, buf, sizeof(buf));
        assert_int_equal(np_vhll_merge_encoded(c, buf, lb, NULL, 0), 0);
        np_vhll_merge(a, b);
        size_t lu = np_vhll_encode(u, ub, sizeof(ub));
        assert_int_equal(np_vhll_encode(a, buf, sizeof(buf)), lu);
        assert_memory_equal(buf, ub, lu);
        assert_int_equal(np_vhll_encode(c, buf, sizeof(buf)), lu);
        assert_memory_equal(buf, ub, lu);
        assert_int_equal(buf[1], k == 0 ? 1 : 0);
        np_vhll_destroy(&a), np_vhll_destroy(&b), np_vhll_destroy(&u), np_vhll_destroy(&c);
    }
}

static void test_decode_rejects_bad_input(void **state) {
    (void)state;
    np_vhll_t *v = np_vhll_new(1u << 12, 64, NULL, 0), *w = np_vhll_new(1u << 13, 64, NULL, 0);
    np_ip_t d = dest(1);
    np_vhll_add(w, &d, src_hash(1));
    uint8_t buf[(1u << 13) + 64];
    char err[160];
    size_t n = np_vhll_encode(w, buf, sizeof(buf));
    assert_int_equal(np_vhll_merge_encoded(v, buf, n, err, sizeof(err)), -1); /* another m */
    assert_non_null(strstr(err, "registers"));
    np_vhll_destroy(&w);
    w = np_vhll_new(1u << 12, 64, NULL, 0);
    np_vhll_add(w, &d, src_hash(1));
    np_vhll_add(w, &d, src_hash(2));
    n = np_vhll_encode(w, buf, sizeof(buf));
    assert_int_equal(np_vhll_merge_encoded(v, buf, n - 1, err, sizeof(err)), -1); /* truncated */
    uint8_t bad[64];
    memcpy(bad, buf, n);
    bad[8] = 0; /* value 0 in a list entry */
    assert_int_equal(np_vhll_merge_encoded(v, bad, n, err, sizeof(err)), -1);
    memcpy(bad, buf, n);
    memcpy(bad + 12, buf + 8, 4); /* indices not ascending */
    assert_int_equal(np_vhll_merge_encoded(v, bad, n, err, sizeof(err)), -1);
    bad[0] = 9;
    assert_int_equal(np_vhll_merge_encoded(v, bad, n, err, sizeof(err)), -1);
    assert_false(np_vhll_used(v)); /* nothing merged from bad input */
    assert_int_equal(np_vhll_merge_encoded(v, buf, n, err, sizeof(err)), 0);
    assert_true(np_vhll_used(v));
    np_vhll_destroy(&v);
    np_vhll_destroy(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_rejects_bad_sizes),     cmocka_unit_test(test_error_against_exact),
        cmocka_unit_test(test_empty_destination_reads_low), cmocka_unit_test(test_sketch_equals_hashes),
        cmocka_unit_test(test_lower_bound_ignores_noise), cmocka_unit_test(test_merge_is_union),            cmocka_unit_test(test_decode_rejects_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
