/* Unit tests for np_hll (exact-then-HyperLogLog distinct counting). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "np_hll.h"

/* The test's own PRNG (splitmix64): deterministic, independent of the code under test. */
static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The hash of value i of stream `seed`, both as 8 little-endian bytes. */
static uint64_t val(uint64_t seed, uint64_t i) {
    uint8_t b[16];
    for (int k = 0; k < 8; k++) {
        b[k] = (uint8_t)(seed >> (8 * k));
        b[8 + k] = (uint8_t)(i >> (8 * k));
    }
    return np_hll_hash(b, sizeof(b));
}

static void add_range(np_hll_t *h, np_hll_pool_t *pool, uint64_t seed, uint64_t from, uint64_t to) {
    for (uint64_t i = from; i < to; i++) assert_int_equal(np_hll_add_hash(h, pool, val(seed, i)), 0);
}

/* Equal sketches encode to equal bytes, so this is state equality. */
static void assert_same(const np_hll_t *a, const np_hll_t *b) {
    static uint8_t ea[NP_HLL_ENCODED_MAX], eb[NP_HLL_ENCODED_MAX];
    size_t la = np_hll_encode(a, ea, sizeof(ea)), lb = np_hll_encode(b, eb, sizeof(eb));
    assert_int_equal(la, lb);
    assert_memory_equal(ea, eb, la);
    assert_int_equal(np_hll_is_dense(a), np_hll_is_dense(b));
    if (np_hll_is_dense(a))
        assert_memory_equal(np_hll_registers(a), np_hll_registers(b),
                            (size_t)1 << np_hll_precision(a));
}

/* The key of a hash as the header documents it, computed independently. */
static uint32_t doc_key(uint64_t hash) {
    uint64_t low = hash & ((1ULL << 38) - 1);
    uint32_t rank = 1;
    for (int bit = 37; bit >= 0 && !(low >> bit & 1); bit--) rank++;
    return (uint32_t)(hash >> 38) << 6 | rank;
}

static void test_hash_vectors(void **s) {
    (void)s;
    /* XXH64, seed 0: the reference implementation's published values. */
    assert_true(np_hll_hash("", 0) == 0xef46db3751d8e999ULL);
    assert_true(np_hll_hash("a", 1) == 0xd24ec4f1a98c6e5bULL);
    assert_true(np_hll_hash("abc", 3) == 0x44bc2cf5ad770999ULL);
    assert_true(np_hll_hash("message digest", 14) == 0x066ed728fceeb3beULL);
    assert_true(np_hll_hash("abcdefghijklmnopqrstuvwxyz", 26) == 0xcfe1f278fa89835cULL);
    const char *alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    assert_true(np_hll_hash(alnum, 62) == 0xaaa46907d3047814ULL);
    char digits[81];
    for (int i = 0; i < 8; i++) memcpy(digits + 10 * i, "1234567890", 10);
    assert_true(np_hll_hash(digits, 80) == 0xe04a477f19ee145dULL);
    uint8_t https[2] = {0x01, 0xbb}; /* 443, network order */
    assert_true(np_hll_hash_port(443) == np_hll_hash(https, 2));
}

static void test_zero_struct_is_empty(void **s) {
    (void)s;
    np_hll_t h;
    memset(&h, 0, sizeof(h));
    assert_int_equal(np_hll_estimate(&h), 0);
    assert_true(np_hll_is_exact(&h));
    uint8_t buf[8];
    assert_int_equal(np_hll_encode(&h, buf, sizeof(buf)), 3);
    assert_int_equal(buf[0], NP_HLL_FORMAT_VERSION);
    assert_int_equal(buf[1], 0);
    assert_int_equal(buf[2], 0);
    assert_int_equal(sizeof(np_hll_t), 32);
}

static void test_exact_up_to_inline(void **s) {
    (void)s;
    np_hll_pool_t *pool = np_hll_pool_new(NP_HLL_P_DEFAULT, 4);
    for (uint64_t seed = 1; seed <= 200; seed++) {
        np_hll_t h;
        np_hll_init(&h);
        for (unsigned n = 1; n <= NP_HLL_INLINE; n++) {
            /* each value added three times, interleaved */
            for (unsigned rep = 0; rep < 3; rep++)
                for (unsigned i = 0; i < n; i++)
                    assert_int_equal(np_hll_add_hash(&h, pool, val(seed, i)), 0);
            assert_int_equal(np_hll_estimate(&h), n);
            assert_true(np_hll_is_exact(&h));
            assert_false(np_hll_is_dense(&h));
            assert_null(np_hll_registers(&h));
        }
        assert_int_equal(np_hll_pool_blocks_used(pool), 0);
    }
    /* The inline keys are the documented ones. */
    np_hll_t h;
    np_hll_init(&h);
    uint64_t x = val(7, 7);
    np_hll_add_hash(&h, pool, x);
    uint8_t buf[16];
    assert_int_equal(np_hll_encode(&h, buf, sizeof(buf)), 7);
    uint32_t k = (uint32_t)buf[3] | (uint32_t)buf[4] << 8 | (uint32_t)buf[5] << 16 |
                 (uint32_t)buf[6] << 24;
    assert_int_equal(k, doc_key(x));
    np_hll_pool_destroy(&pool);
    assert_null(pool);
}

static void test_promotion(void **s) {
    (void)s;
    np_hll_pool_t *pool = np_hll_pool_new(NP_HLL_P_DEFAULT, 4);
    np_hll_t h;
    np_hll_init(&h);
    add_range(&h, pool, 3, 0, NP_HLL_INLINE);
    assert_false(np_hll_is_dense(&h));
    add_range(&h, pool, 3, 0, NP_HLL_INLINE); /* repeats do not promote */
    assert_int_equal(np_hll_pool_blocks_used(pool), 0);
    add_range(&h, pool, 3, NP_HLL_INLINE, NP_HLL_INLINE + 1);
    assert_true(np_hll_is_dense(&h));
    assert_false(np_hll_is_exact(&h));
    assert_false(np_hll_is_lower_bound(&h));
    assert_int_equal(np_hll_precision(&h), NP_HLL_P_DEFAULT);
    assert_int_equal(np_hll_pool_blocks_used(pool), 1);
    assert_int_equal(np_hll_estimate(&h), NP_HLL_INLINE + 1);
    /* Promotion yields the registers that adding every hash to registers gives. */
    const uint8_t *r = np_hll_registers(&h);
    uint8_t want[1 << NP_HLL_P_DEFAULT] = {0};
    for (uint64_t i = 0; i <= NP_HLL_INLINE; i++) {
        uint64_t x = val(3, i);
        unsigned idx = (unsigned)(x >> (64 - NP_HLL_P_DEFAULT));
        uint64_t w = x << NP_HLL_P_DEFAULT;
        unsigned rank = 1;
        while (rank <= 64 - NP_HLL_P_DEFAULT && !(w >> 63)) {
            rank++;
            w <<= 1;
        }
        if (rank > want[idx]) want[idx] = (uint8_t)rank;
    }
    assert_memory_equal(r, want, sizeof(want));
    np_hll_reset(&h, pool);
    assert_int_equal(np_hll_pool_blocks_used(pool), 0);
    assert_int_equal(np_hll_pool_blocks_peak(pool), 1);
    np_hll_pool_destroy(&pool);
}

/* A value recorded through its inline key (merged into a dense sketch) sets the same register
 * as the hash added directly, at every precision and for hashes with long zero runs. */
static void test_key_path_matches_hash_path(void **s) {
    (void)s;
    uint64_t rs = 42;
    for (unsigned p = NP_HLL_P_MIN; p <= NP_HLL_P_MAX; p++) {
        np_hll_pool_t *pool = np_hll_pool_new(p, 3);
        np_hll_t base;
        np_hll_init(&base);
        add_range(&base, pool, 99, 0, NP_HLL_INLINE + 1);
        for (int t = 0; t < 64 * 6 + 2000; t++) {
            uint64_t r = rng_next(&rs), x;
            unsigned z = (unsigned)t / 6; /* 0..63, then random */
            uint64_t idxmask = ~(~0ULL >> p);
            switch (t < 64 * 6 ? t % 6 : 6) {
            case 0: x = r & ~((1ULL << z) - 1); break;              /* z zero bits at the bottom */
            case 1: x = r >> z; break;                              /* z zero bits at the top */
            case 2: x = 1ULL << (63 - z); break;                    /* a single bit */
            case 3: x = (r & idxmask) | (1ULL << (63 - z) & ~idxmask); break; /* index, one bit */
            case 4: x = (r & idxmask) | (z & 1 ? 0 : ~idxmask); break; /* rest all 0 or all 1 */
            case 5: x = (r & idxmask) | ((r >> z) & ~idxmask); break; /* zeros after the index */
            default: x = r; break;
            }
            np_hll_t direct, viakey, one;
            np_hll_init(&direct);
            np_hll_init(&viakey);
            np_hll_init(&one);
            np_hll_merge(&direct, &base, pool);
            np_hll_merge(&viakey, &base, pool);
            np_hll_add_hash(&direct, pool, x);
            np_hll_add_hash(&one, pool, x);
            np_hll_merge(&viakey, &one, pool);
            assert_memory_equal(np_hll_registers(&direct), np_hll_registers(&viakey),
                                (size_t)1 << p);
            np_hll_reset(&direct, pool);
            np_hll_reset(&viakey, pool);
        }
        np_hll_reset(&base, pool);
        assert_int_equal(np_hll_pool_blocks_used(pool), 0);
        np_hll_pool_destroy(&pool);
    }
}

static void test_accuracy(void **s) {
    (void)s;
    static const uint64_t at[] = {100, 1000, 2500, 5000, 10000, 100000, 1000000};
    enum { NAT = sizeof(at) / sizeof(at[0]), SEEDS = 5 };
    static const unsigned ps[] = {4, 8, 10, 12, 14};
    for (size_t pi = 0; pi < sizeof(ps) / sizeof(ps[0]); pi++) {
        unsigned p = ps[pi];
        double se = 1.04 / sqrt((double)(1u << p));
        /* 1.04/sqrt(m) is asymptotic: at m = 16 the spread is ~7 % wider and the tail heavier
         * (~1.5 % of estimates beyond 3 SE), so the toy precision gets 4 SE. */
        double bound = (p < 8 ? 4 : 3) * se;
        double sum_abs[NAT] = {0}, sum[NAT] = {0}, max_abs[NAT] = {0};
        np_hll_pool_t *pool = np_hll_pool_new(p, 1);
        for (uint64_t seed = 1; seed <= SEEDS; seed++) {
            np_hll_t h;
            np_hll_init(&h);
            uint64_t n = 0;
            for (size_t a = 0; a < NAT; a++) {
                add_range(&h, pool, 1000 + seed, n, at[a]);
                n = at[a];
                double err = ((double)np_hll_estimate(&h) - (double)n) / (double)n;
                if (fabs(err) > bound)
                    fail_msg("p=%u seed=%llu n=%llu: error %.4f > %.4f", p,
                             (unsigned long long)seed, (unsigned long long)n, err, bound);
                sum_abs[a] += fabs(err);
                sum[a] += err;
                if (fabs(err) > max_abs[a]) max_abs[a] = fabs(err);
            }
            np_hll_reset(&h, pool);
        }
        for (size_t a = 0; a < NAT; a++)
            print_message("p=%-2u SE=%.2f%%  n=%-7llu mean|err|=%.2f%% max|err|=%.2f%% bias=%+.2f%%\n",
                          p, 100 * se, (unsigned long long)at[a], 100 * sum_abs[a] / SEEDS,
                          100 * max_abs[a], 100 * sum[a] / SEEDS);
        np_hll_pool_destroy(&pool);
    }
}

/* Copy via merge into an empty sketch. */
static void copy(np_hll_t *dst, const np_hll_t *src, np_hll_pool_t *pool) {
    np_hll_init(dst);
    assert_int_equal(np_hll_merge(dst, src, pool), 0);
}

/* Merging into an empty sketch takes a shortcut (a copy of the keys; the register count
 * taken from the source): the copy must behave as the source itself, also when both then
 * take the same further values (a stale register count would show in the encoding). */
static void test_merge_into_empty(void **s) {
    (void)s;
    np_hll_pool_t *pool = np_hll_pool_new(12, 16);
    static const uint64_t sizes[] = {0, 1, 3, NP_HLL_INLINE, NP_HLL_INLINE + 1, 50, 4000};
    for (size_t c = 0; c < sizeof(sizes) / sizeof(sizes[0]); c++) {
        np_hll_t a, d;
        np_hll_init(&a);
        add_range(&a, pool, 9, 0, sizes[c]);
        copy(&d, &a, pool);
        assert_int_equal(d.nz, a.nz);
        assert_int_equal(d.n, a.n);
        assert_same(&d, &a);
        add_range(&a, pool, 9, 100000, 100000 + 300);
        add_range(&d, pool, 9, 100000, 100000 + 300);
        assert_int_equal(d.nz, a.nz);
        assert_same(&d, &a);
        np_hll_reset(&a, pool);
        np_hll_reset(&d, pool);
    }
    assert_int_equal(np_hll_pool_blocks_used(pool), 0);
    np_hll_pool_destroy(&pool);
}

static void test_merge_is_union(void **s) {
    (void)s;
    /* {A range, B range}: exact+exact staying exact, exact+exact promoting, exact+dense,
     * dense+exact, dense+dense, disjoint and overlapping. */
    static const uint64_t cases[][4] = {
        {0, 0, 0, 0},        {0, 2, 1, 4},       {0, 4, 4, 7},         {0, 6, 0, 6},
        {0, 3, 0, 1000},     {0, 1000, 500, 503}, {0, 5000, 2000, 30000}, {0, 20000, 20000, 40000},
        {0, 6, 100, 106},
    };
    np_hll_pool_t *pool = np_hll_pool_new(12, 16);
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const uint64_t *k = cases[c];
        np_hll_t a, b, u, ab, ba;
        np_hll_init(&a);
        np_hll_init(&b);
        np_hll_init(&u);
        add_range(&a, pool, 5, k[0], k[1]);
        add_range(&b, pool, 5, k[2], k[3]);
        add_range(&u, pool, 5, k[0], k[1]);
        add_range(&u, pool, 5, k[2], k[3]);
        copy(&ab, &a, pool);
        assert_int_equal(np_hll_merge(&ab, &b, pool), 0);
        copy(&ba, &b, pool);
        assert_int_equal(np_hll_merge(&ba, &a, pool), 0);
        assert_same(&ab, &u);
        assert_same(&ba, &u);
        assert_int_equal(np_hll_merge(&ab, &ab, pool), 0); /* self-merge: no-op */
        assert_int_equal(np_hll_merge(&ab, &a, pool), 0);  /* idempotent */
        assert_same(&ab, &u);
        np_hll_t *all[] = {&a, &b, &u, &ab, &ba};
        for (size_t i = 0; i < 5; i++) np_hll_reset(all[i], pool);
        assert_int_equal(np_hll_pool_blocks_used(pool), 0);
    }
    /* Associativity over partitions: many partials merged in two orders. */
    np_hll_t part[8], fwd, rev, u;
    np_hll_init(&fwd);
    np_hll_init(&rev);
    np_hll_init(&u);
    for (int i = 0; i < 8; i++) {
        np_hll_init(&part[i]);
        add_range(&part[i], pool, 9, (uint64_t)i * 3, (uint64_t)i * 3 + (i % 2 ? 2 : 500));
        add_range(&u, pool, 9, (uint64_t)i * 3, (uint64_t)i * 3 + (i % 2 ? 2 : 500));
    }
    for (int i = 0; i < 8; i++) {
        np_hll_merge(&fwd, &part[i], pool);
        np_hll_merge(&rev, &part[7 - i], pool);
    }
    assert_same(&fwd, &u);
    assert_same(&rev, &u);
    np_hll_pool_destroy(&pool); /* dropping the pool with its sketches is allowed */
}

static np_hll_pool_t *g_pool; /* for roundtrip(): the pool decodes go to */

static void roundtrip(const np_hll_t *h, uint8_t form) {
    uint8_t buf[NP_HLL_ENCODED_MAX], buf2[NP_HLL_ENCODED_MAX];
    size_t len = np_hll_encode(h, buf, sizeof(buf));
    assert_int_equal(len, np_hll_encoded_size(h));
    assert_int_equal(buf[1] & 3, form);
    assert_int_equal(np_hll_encode(h, buf2, len - 1), len); /* too small: nothing written */
    np_hll_t d;
    np_hll_init(&d);
    char err[128];
    assert_int_equal(np_hll_decode(&d, g_pool, buf, len, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_same(&d, h);
    assert_int_equal(np_hll_estimate(&d), np_hll_estimate(h));
    assert_int_equal(np_hll_is_lower_bound(&d), np_hll_is_lower_bound(h));
    assert_int_equal(np_hll_encode(&d, buf2, sizeof(buf2)), len);
    assert_memory_equal(buf, buf2, len);
    np_hll_reset(&d, g_pool);
}

static void test_encode_roundtrip(void **s) {
    (void)s;
    g_pool = np_hll_pool_new(NP_HLL_P_DEFAULT, 8);
    np_hll_t h;
    np_hll_init(&h);
    roundtrip(&h, 0);
    for (uint64_t n = 1; n <= NP_HLL_INLINE; n++) {
        add_range(&h, g_pool, 11, n - 1, n);
        roundtrip(&h, 0);
    }
    add_range(&h, g_pool, 11, NP_HLL_INLINE, 50); /* dense, few registers: register list */
    roundtrip(&h, 2);
    assert_true(np_hll_encoded_size(&h) < 200);
    add_range(&h, g_pool, 11, 50, 100000); /* full registers: 6-bit dense */
    roundtrip(&h, 1);
    assert_int_equal(np_hll_encoded_size(&h), 3 + 768);
    np_hll_reset(&h, g_pool);

    /* A lower-bound flag survives both forms. */
    np_hll_pool_t *none = np_hll_pool_new(NP_HLL_P_DEFAULT, 0);
    add_range(&h, none, 12, 0, NP_HLL_INLINE);
    assert_int_equal(np_hll_add_hash(&h, none, val(12, 1000)), 1);
    roundtrip(&h, 0);
    np_hll_t d;
    np_hll_init(&d);
    add_range(&d, g_pool, 13, 0, 20000);
    np_hll_merge(&d, &h, g_pool);
    assert_true(np_hll_is_lower_bound(&d));
    roundtrip(&d, 1);
    np_hll_reset(&d, g_pool);

    /* Decoders promote an exact form longer than the inline set (a future encoder's). */
    uint8_t big[3 + 4 * 20];
    uint32_t keys[20];
    np_hll_t u;
    np_hll_init(&u);
    for (int i = 0; i < 20; i++) {
        keys[i] = doc_key(val(14, (uint64_t)i));
        np_hll_add_hash(&u, g_pool, val(14, (uint64_t)i));
    }
    for (int i = 1; i < 20; i++) /* insertion sort */
        for (int j = i; j > 0 && keys[j] < keys[j - 1]; j--) {
            uint32_t t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    big[0] = 1;
    big[1] = 0;
    big[2] = 20;
    for (int i = 0; i < 20; i++)
        for (int b = 0; b < 4; b++) big[3 + 4 * i + b] = (uint8_t)(keys[i] >> (8 * b));
    assert_int_equal(np_hll_decode(&d, g_pool, big, sizeof(big), NULL, 0), 0);
    assert_same(&d, &u);
    /* ... and keep the first 6 as a lower bound when the pool is empty. */
    assert_int_equal(np_hll_decode(&h, none, big, sizeof(big), NULL, 0), 1);
    assert_int_equal(np_hll_estimate(&h), NP_HLL_INLINE);
    assert_true(np_hll_is_lower_bound(&h));
    np_hll_reset(&d, g_pool);
    np_hll_reset(&u, g_pool);
    np_hll_reset(&h, none);
    assert_int_equal(np_hll_pool_blocks_used(g_pool), 0);
    np_hll_pool_destroy(&none);
    np_hll_pool_destroy(&g_pool);
}

/* A decode result must be a usable sketch (or empty after an error). */
static void check_decoded(np_hll_t *d, np_hll_pool_t *pool, int rc) {
    assert_true(rc >= -1 && rc <= 1);
    if (rc < 0) {
        assert_int_equal(np_hll_estimate(d), 0);
        assert_true(np_hll_is_exact(d));
        return;
    }
    (void)np_hll_estimate(d);
    static uint8_t buf[NP_HLL_ENCODED_MAX];
    size_t len = np_hll_encode(d, buf, sizeof(buf));
    assert_true(len <= sizeof(buf));
    np_hll_t again;
    np_hll_init(&again);
    assert_true(np_hll_decode(&again, pool, buf, len, NULL, 0) >= 0);
    assert_same(&again, d);
    np_hll_reset(&again, pool);
}

/* The size of an encoding comes from a count of nonzero registers the sketch keeps up to
 * date: it must equal a fresh count after adds, promotion, merges (dense and exact into
 * dense) and decoding, whichever form the encoder then picks. */
static size_t nonzero_registers(const np_hll_t *h) {
    size_t c = 0;
    for (size_t j = 0; j < ((size_t)1 << np_hll_precision(h)); j++) c += np_hll_registers(h)[j] != 0;
    return c;
}

static void assert_size_from_registers(const np_hll_t *h) {
    size_t nz = nonzero_registers(h), list = 3 + 2 + 3 * nz, dense = 3 + 3 * ((size_t)1 << np_hll_precision(h)) / 4;
    uint8_t buf[NP_HLL_ENCODED_MAX];
    assert_int_equal(np_hll_encoded_size(h), list < dense ? list : dense);
    assert_int_equal(np_hll_encode(h, buf, sizeof(buf)), np_hll_encoded_size(h));
}

static void test_nonzero_count_kept(void **s) {
    (void)s;
    np_hll_pool_t *pool = np_hll_pool_new(NP_HLL_P_DEFAULT, 8);
    np_hll_t a, b, c;
    np_hll_init(&a);
    np_hll_init(&b);
    np_hll_init(&c);
    for (uint64_t n = 7; n < 3000; n = n * 3 / 2) {
        add_range(&a, pool, 21, 0, n);
        assert_size_from_registers(&a);
    }
    add_range(&b, pool, 22, 0, 40);
    assert_int_equal(np_hll_merge(&b, &a, pool), 0); /* dense into dense */
    assert_size_from_registers(&b);
    add_range(&c, pool, 23, 0, 3); /* exact into dense */
    assert_int_equal(np_hll_merge(&b, &c, pool), 0);
    assert_size_from_registers(&b);
    uint8_t buf[NP_HLL_ENCODED_MAX];
    size_t len = np_hll_encode(&b, buf, sizeof(buf));
    np_hll_t d;
    np_hll_init(&d);
    assert_int_equal(np_hll_decode(&d, pool, buf, len, NULL, 0), 0);
    assert_size_from_registers(&d);
    add_range(&d, pool, 24, 0, 100);
    assert_size_from_registers(&d);
    np_hll_reset(&a, pool);
    np_hll_reset(&b, pool);
    np_hll_reset(&c, pool);
    np_hll_reset(&d, pool);
    np_hll_pool_destroy(&pool);
}

static void test_decode_rejects_bad_input(void **s) {
    (void)s;
    np_hll_pool_t *pool = np_hll_pool_new(NP_HLL_P_DEFAULT, 4);
    np_hll_t h, d;
    np_hll_init(&d);
    static uint8_t enc[5][NP_HLL_ENCODED_MAX + 1];
    size_t enclen[5];
    uint64_t sizes[5] = {0, 1, NP_HLL_INLINE, 40, 50000};
    for (int e = 0; e < 5; e++) {
        np_hll_init(&h);
        add_range(&h, pool, 21, 0, sizes[e]);
        enclen[e] = np_hll_encode(&h, enc[e], NP_HLL_ENCODED_MAX);
        np_hll_reset(&h, pool);
    }
    char err[128];
    /* Every truncation, and one byte too many. */
    for (int e = 0; e < 5; e++) {
        for (size_t len = 0; len < enclen[e]; len++) {
            assert_int_equal(np_hll_decode(&d, pool, enc[e], len, err, sizeof(err)), -1);
            assert_true(strlen(err) > 0);
            check_decoded(&d, pool, -1);
        }
        assert_int_equal(np_hll_decode(&d, pool, enc[e], enclen[e] + 1, err, sizeof(err)), -1);
        assert_int_equal(np_hll_decode(&d, pool, enc[e], enclen[e], err, sizeof(err)), 0);
    }
    np_hll_reset(&d, pool);
    /* Specific rejections. */
    uint8_t b[NP_HLL_ENCODED_MAX + 1];
    memcpy(b, enc[2], enclen[2]); /* exact, 6 keys */
    b[0] = 2;
    assert_int_equal(np_hll_decode(&d, pool, b, enclen[2], err, sizeof(err)), -1);
    assert_non_null(strstr(err, "version"));
    b[0] = 1;
    b[1] = 0x08;
    assert_int_equal(np_hll_decode(&d, pool, b, enclen[2], err, sizeof(err)), -1);
    b[1] = 3;
    assert_int_equal(np_hll_decode(&d, pool, b, enclen[2], err, sizeof(err)), -1);
    b[1] = 0;
    memcpy(b + 7, b + 3, 4); /* duplicate key */
    assert_int_equal(np_hll_decode(&d, pool, b, enclen[2], err, sizeof(err)), -1);
    assert_non_null(strstr(err, "ascending"));
    memcpy(b, enc[2], enclen[2]);
    b[3] = (uint8_t)(b[3] & ~63); /* rank 0 */
    assert_int_equal(np_hll_decode(&d, pool, b, enclen[2], err, sizeof(err)), -1);
    b[3] = (uint8_t)(b[3] | 40); /* rank 40 */
    assert_int_equal(np_hll_decode(&d, pool, b, enclen[2], err, sizeof(err)), -1);
    memcpy(b, enc[4], enclen[4]); /* dense */
    b[2] = 12;
    assert_int_equal(np_hll_decode(&d, pool, b, enclen[4], err, sizeof(err)), -1);
    assert_non_null(strstr(err, "precision"));
    b[2] = NP_HLL_P_DEFAULT;
    b[3] = 63; /* register 0 = 63 > 55 */
    assert_int_equal(np_hll_decode(&d, pool, b, enclen[4], err, sizeof(err)), -1);
    b[3] = (uint8_t)((b[3] & ~63) | 55); /* the maximum is fine */
    assert_int_equal(np_hll_decode(&d, pool, b, enclen[4], err, sizeof(err)), 0);
    memcpy(b, enc[3], enclen[3]); /* register list */
    b[7] = 0; /* first value 0 */
    assert_int_equal(np_hll_decode(&d, pool, b, enclen[3], err, sizeof(err)), -1);
    memcpy(b, enc[3], enclen[3]);
    b[8] = b[5], b[9] = b[6]; /* second index = first */
    assert_int_equal(np_hll_decode(&d, pool, b, enclen[3], err, sizeof(err)), -1);
    memcpy(b, enc[3], enclen[3]);
    b[6] = 0x04; /* first index 1024+ */
    assert_int_equal(np_hll_decode(&d, pool, b, enclen[3], err, sizeof(err)), -1);
    assert_int_equal(np_hll_decode(&d, pool, NULL, 0, NULL, 0), -1);
    assert_int_equal(np_hll_decode(&d, pool, b, enclen[3], NULL, 0), -1); /* errstr optional */

    /* Random garbage, half of it behind a plausible header so it reaches the body checks,
     * and random mutations of valid encodings. */
    uint64_t rs = 7;
    for (int t = 0; t < 200000; t++) {
        size_t len;
        if (t % 2 == 0) {
            len = (size_t)(rng_next(&rs) % 64);
            if (t % 8 == 0) len = (size_t)(rng_next(&rs) % (NP_HLL_ENCODED_MAX + 2));
            for (size_t i = 0; i < len; i++) b[i] = (uint8_t)rng_next(&rs);
            if (t % 4 == 0 && len >= 3) {
                uint64_t r = rng_next(&rs);
                b[0] = 1;
                b[1] = (uint8_t)(r % 3 | (r & 4));
                b[2] = (b[1] & 3) ? NP_HLL_P_DEFAULT : (uint8_t)(r >> 8) % 8;
                if ((b[1] & 3) == 1 && r % 5 == 0) len = 3 + 768;
                if ((b[1] & 3) == 2 && len >= 5) {
                    b[3] = (uint8_t)((len - 5) / 3), b[4] = 0;
                    len = 5 + 3 * b[3];
                }
                if ((b[1] & 3) == 0) len = 3 + 4 * (size_t)b[2];
            }
        } else {
            int e = (int)(rng_next(&rs) % 5);
            len = enclen[e];
            memcpy(b, enc[e], len);
            int flips = 1 + (int)(rng_next(&rs) % 3);
            for (int f = 0; f < flips; f++) b[rng_next(&rs) % len] ^= (uint8_t)(1u << (rng_next(&rs) % 8));
        }
        int rc = np_hll_decode(&d, pool, b, len, err, sizeof(err));
        check_decoded(&d, pool, rc);
    }
    np_hll_reset(&d, pool);
    assert_int_equal(np_hll_pool_blocks_used(pool), 0);
    assert_int_equal(np_hll_pool_exhausted(pool), 0);
    np_hll_pool_destroy(&pool);
}

static void test_pool_exhaustion(void **s) {
    (void)s;
    np_hll_pool_t *pool = np_hll_pool_new(NP_HLL_P_DEFAULT, 2);
    np_hll_t h[3];
    for (int i = 0; i < 3; i++) {
        np_hll_init(&h[i]);
        add_range(&h[i], pool, 30 + (uint64_t)i, 0, NP_HLL_INLINE);
    }
    add_range(&h[0], pool, 30, NP_HLL_INLINE, 1000);
    add_range(&h[1], pool, 31, NP_HLL_INLINE, 1000);
    assert_int_equal(np_hll_pool_blocks_used(pool), 2);
    /* h[2] cannot promote: it keeps its 6 keys, says it is a lower bound, counts each miss. */
    assert_int_equal(np_hll_add_hash(&h[2], pool, val(32, 100)), 1);
    assert_int_equal(np_hll_add_hash(&h[2], pool, val(32, 101)), 1);
    assert_int_equal(np_hll_add_hash(&h[2], pool, val(32, 0)), 0); /* already known */
    assert_int_equal(np_hll_pool_exhausted(pool), 2);
    assert_int_equal(np_hll_estimate(&h[2]), NP_HLL_INLINE);
    assert_true(np_hll_is_lower_bound(&h[2]));
    assert_false(np_hll_is_exact(&h[2]));
    assert_false(np_hll_is_dense(&h[2]));
    /* Merges that need a block degrade the same way. */
    np_hll_t m;
    np_hll_init(&m);
    add_range(&m, pool, 33, 0, 3);
    assert_int_equal(np_hll_merge(&m, &h[0], pool), 1);
    assert_true(np_hll_is_lower_bound(&m));
    assert_int_equal(np_hll_estimate(&m), 3);
    np_hll_init(&m);
    add_range(&m, pool, 33, 0, 3);
    np_hll_t e;
    np_hll_init(&e);
    add_range(&e, pool, 34, 0, 5);
    assert_int_equal(np_hll_merge(&m, &e, pool), 1);
    assert_int_equal(np_hll_estimate(&m), NP_HLL_INLINE);
    assert_true(np_hll_is_lower_bound(&m));
    assert_int_equal(np_hll_pool_exhausted(pool), 4);
    /* Decoding a dense sketch without a block: valid input, degraded result. */
    uint8_t buf[NP_HLL_ENCODED_MAX];
    size_t len = np_hll_encode(&h[0], buf, sizeof(buf));
    np_hll_t d;
    np_hll_init(&d);
    assert_int_equal(np_hll_decode(&d, pool, buf, len, NULL, 0), 1);
    assert_true(np_hll_is_lower_bound(&d));
    assert_int_equal(np_hll_estimate(&d), 0);
    assert_int_equal(np_hll_pool_exhausted(pool), 5);
    /* A lower bound propagates through merges. */
    np_hll_merge(&h[1], &h[2], pool);
    assert_true(np_hll_is_lower_bound(&h[1]));
    /* Once a block is free, the next new value promotes; the flag stays until reset. */
    np_hll_reset(&h[0], pool);
    assert_int_equal(np_hll_add_hash(&h[2], pool, val(32, 102)), 0);
    assert_true(np_hll_is_dense(&h[2]));
    assert_true(np_hll_is_lower_bound(&h[2]));
    assert_int_equal(np_hll_estimate(&h[2]), NP_HLL_INLINE + 1);
    np_hll_reset(&h[2], pool);
    assert_true(np_hll_is_exact(&h[2]));
    np_hll_reset(&h[1], pool);
    assert_int_equal(np_hll_pool_blocks_used(pool), 0);
    assert_int_equal(np_hll_pool_blocks_peak(pool), 2);
    np_hll_pool_destroy(&pool);

    /* A pool of 0 blocks: exact-only counting. */
    pool = np_hll_pool_new(NP_HLL_P_MIN, 0);
    np_hll_init(&m);
    add_range(&m, pool, 35, 0, NP_HLL_INLINE);
    assert_int_equal(np_hll_add_hash(&m, pool, val(35, 99)), 1);
    np_hll_reset(&m, pool);
    np_hll_pool_destroy(&pool);
    assert_null(np_hll_pool_new(NP_HLL_P_MAX, SIZE_MAX / 2)); /* size overflow */
}

static void test_reset_returns_blocks(void **s) {
    (void)s;
    enum { N = 300 };
    np_hll_pool_t *pool = np_hll_pool_new(12, N);
    assert_int_equal(np_hll_pool_blocks_total(pool), N);
    assert_int_equal(np_hll_pool_precision(pool), 12);
    static np_hll_t h[N];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            np_hll_init(&h[i]);
            uint64_t n = NP_HLL_INLINE + 1 + (uint64_t)(i % 7) * (uint64_t)round * 50;
            add_range(&h[i], pool, 40 + (uint64_t)round * N + (uint64_t)i, 0, n);
            /* Recycled blocks start from zero: 7 values set at most 7 registers. */
            if (n == NP_HLL_INLINE + 1) {
                const uint8_t *r = np_hll_registers(&h[i]);
                size_t nz = 0;
                for (size_t j = 0; j < 4096; j++) nz += r[j] != 0;
                assert_true(nz >= 1 && nz <= n);
            }
        }
        assert_int_equal(np_hll_pool_blocks_used(pool), N);
        for (int i = 0; i < N; i++) np_hll_reset(&h[i], pool);
        assert_int_equal(np_hll_pool_blocks_used(pool), 0);
    }
    assert_int_equal(np_hll_pool_blocks_peak(pool), N);
    assert_int_equal(np_hll_pool_exhausted(pool), 0);
    np_hll_pool_destroy(&pool);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_vectors),
        cmocka_unit_test(test_zero_struct_is_empty),
        cmocka_unit_test(test_exact_up_to_inline),
        cmocka_unit_test(test_promotion),
        cmocka_unit_test(test_key_path_matches_hash_path),
        cmocka_unit_test(test_accuracy),
        cmocka_unit_test(test_merge_into_empty),
        cmocka_unit_test(test_merge_is_union),
        cmocka_unit_test(test_encode_roundtrip),
        cmocka_unit_test(test_nonzero_count_kept),
        cmocka_unit_test(test_decode_rejects_bad_input),
        cmocka_unit_test(test_pool_exhaustion),
        cmocka_unit_test(test_reset_returns_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
