/* np_hll: exact-then-HyperLogLog distinct counting. See np_hll.h. */
#include "np_hll.h"
#include "np_errstr.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

/* np_hll_t.flags */
#define NP_HLL_F_DENSE 0x01u
#define NP_HLL_F_LOWER 0x02u

/* Encoding: byte 1 */
#define ENC_FORM_MASK  0x03u
#define ENC_FORM_EXACT 0u
#define ENC_FORM_DENSE 1u
#define ENC_FORM_LIST  2u
#define ENC_LOWER      0x04u
#define ENC_HDR        3u

/* A key keeps KEY_IDX_BITS of the hash's top and the rank of the remaining 38 bits. */
#define KEY_IDX_BITS 26u
#define KEY_RANK_MAX (64u - KEY_IDX_BITS + 1u) /* 39: the low 38 bits are all 0 */

struct np_hll_pool {
    uint8_t *mem;      /* nblocks blocks of 2^p bytes */
    size_t nblocks;
    size_t fresh;      /* blocks [fresh, nblocks) were never handed out */
    size_t free_head;  /* a freed block, SIZE_MAX if none; a freed block starts with the next */
    size_t used;
    size_t peak;
    uint64_t exhausted;
    unsigned p;
};

/* ---- hash: XXH64, seed 0 ------------------------------------------------------------- */

#define XXP1 0x9E3779B185EBCA87ULL
#define XXP2 0xC2B2AE3D27D4EB4FULL
#define XXP3 0x165667B19E3779F9ULL
#define XXP4 0x85EBCA77C2B2AE63ULL
#define XXP5 0x27D4EB2F165667C5ULL

static inline uint64_t rotl64(uint64_t x, unsigned r) { return (x << r) | (x >> (64 - r)); }

/* Little-endian reads whatever the host order: the hash of a byte string is the same on
 * every machine. Compilers turn these into single loads on little-endian hosts. */
static inline uint64_t rd64(const uint8_t *p) {
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static inline uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t xx_round(uint64_t acc, uint64_t in) {
    acc += in * XXP2;
    acc = rotl64(acc, 31);
    return acc * XXP1;
}

static inline uint64_t xx_merge(uint64_t acc, uint64_t v) {
    acc ^= xx_round(0, v);
    return acc * XXP1 + XXP4;
}

uint64_t np_hll_hash(const void *data, size_t len) {
    const uint8_t *p = data;
    const uint8_t *end = p + len;
    uint64_t h;
    assert(data || len == 0);
    if (len >= 32) {
        uint64_t v1 = XXP1 + XXP2, v2 = XXP2, v3 = 0, v4 = 0 - XXP1;
        do {
            v1 = xx_round(v1, rd64(p));
            v2 = xx_round(v2, rd64(p + 8));
            v3 = xx_round(v3, rd64(p + 16));
            v4 = xx_round(v4, rd64(p + 24));
            p += 32;
        } while (end - p >= 32);
        h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
        h = xx_merge(h, v1);
        h = xx_merge(h, v2);
        h = xx_merge(h, v3);
        h = xx_merge(h, v4);
    } else {
        h = XXP5;
    }
    h += (uint64_t)len;
    while (end - p >= 8) {
        h ^= xx_round(0, rd64(p));
        h = rotl64(h, 27) * XXP1 + XXP4;
        p += 8;
    }
    if (end - p >= 4) {
        h ^= (uint64_t)rd32(p) * XXP1;
        h = rotl64(h, 23) * XXP2 + XXP3;
        p += 4;
    }
    while (p < end) {
        h ^= *p++ * XXP5;
        h = rotl64(h, 11) * XXP1;
    }
    h ^= h >> 33;
    h *= XXP2;
    h ^= h >> 29;
    h *= XXP3;
    h ^= h >> 32;
    return h;
}

uint64_t np_hll_hash_port(uint16_t port) {
    uint8_t b[2] = {(uint8_t)(port >> 8), (uint8_t)port};
    return np_hll_hash(b, sizeof(b));
}

/* ---- keys and registers ---------------------------------------------------------------- */

/* clz of a nonzero value (GCC/Clang builtin, one instruction). */
static inline unsigned clz64(uint64_t x) { return (unsigned)__builtin_clzll(x); }

static inline uint32_t hash_key(uint64_t hash) {
    /* The sentinel bit below the 38 shifted-up bits caps the rank at KEY_RANK_MAX. */
    uint64_t w = (hash << KEY_IDX_BITS) | (1ULL << (KEY_IDX_BITS - 1));
    return (uint32_t)(hash >> (64 - KEY_IDX_BITS)) << 6 | (clz64(w) + 1);
}

static inline int key_valid(uint32_t key) {
    uint32_t r = key & 63u;
    return r >= 1 && r <= KEY_RANK_MAX;
}

/* The register a hash sets at precision p: index = its top p bits, value = 1 + the leading
 * zeros of the other 64 - p bits (65 - p when they are all 0). */
static inline void hash_reg(uint64_t hash, unsigned p, uint32_t *idx, uint8_t *val) {
    *idx = (uint32_t)(hash >> (64 - p));
    *val = (uint8_t)(clz64((hash << p) | (1ULL << (p - 1))) + 1);
}

/* The same register from a key: the key holds the hash's top 26 bits, so the index and, if
 * the 26 - p bits after it are not all 0, the rank come from them; otherwise the rank
 * continues into the low 38 bits, whose rank the key stores. */
static inline void key_reg(uint32_t key, unsigned p, uint32_t *idx, uint8_t *val) {
    uint32_t top = key >> 6;
    unsigned rest = KEY_IDX_BITS - p;
    uint32_t mid = top & ((1u << rest) - 1);
    *idx = top >> rest;
    if (mid)
        *val = (uint8_t)(rest - (32 - (unsigned)__builtin_clz(mid)) + 1);
    else
        *val = (uint8_t)(rest + (key & 63u));
}

static size_t count_nonzero(const np_hll_t *h) {
    size_t m = (size_t)1 << h->p, c = 0;
    const uint8_t *r = h->u.reg;
    for (size_t j = 0; j < m; j += 16, r += 16) { /* fixed 16-byte steps: see reg_merge */
        unsigned nz = 0;
        for (unsigned k = 0; k < 16; k++) nz += r[k] != 0;
        c += nz;
    }
    return c;
}

/* Raises a register; returns 1 when it was 0 (one more nonzero register: np_hll_t.nz). */
static inline unsigned reg_max(uint8_t *reg, uint32_t idx, uint8_t val) {
    uint8_t old = reg[idx];
    if (val <= old) return 0;
    reg[idx] = val;
    return old == 0;
}

/* ---- pool ------------------------------------------------------------------------------ */

np_hll_pool_t *np_hll_pool_new(unsigned p, size_t max_blocks) {
    assert(p >= NP_HLL_P_MIN && p <= NP_HLL_P_MAX);
    if (max_blocks > SIZE_MAX >> p) return NULL;
    np_hll_pool_t *pool = calloc(1, sizeof(*pool));
    if (!pool) return NULL;
    if (max_blocks) {
        /* calloc of a large region maps fresh zero pages: address space, not memory, until
         * blocks are used. */
        pool->mem = calloc(max_blocks, (size_t)1 << p);
        if (!pool->mem) {
            free(pool);
            return NULL;
        }
    }
    pool->nblocks = max_blocks;
    pool->free_head = SIZE_MAX;
    pool->p = p;
    return pool;
}

void np_hll_pool_destroy(np_hll_pool_t **poolp) {
    if (!poolp || !*poolp) return;
    free((*poolp)->mem);
    free(*poolp);
    *poolp = NULL;
}

unsigned np_hll_pool_precision(const np_hll_pool_t *pool) { return pool->p; }
size_t np_hll_pool_blocks_total(const np_hll_pool_t *pool) { return pool->nblocks; }
size_t np_hll_pool_blocks_used(const np_hll_pool_t *pool) { return pool->used; }
size_t np_hll_pool_blocks_peak(const np_hll_pool_t *pool) { return pool->peak; }
uint64_t np_hll_pool_exhausted(const np_hll_pool_t *pool) { return pool->exhausted; }

/* A zeroed block, or NULL (counted) when the pool is exhausted. */
static uint8_t *block_get(np_hll_pool_t *pool) {
    size_t bsize = (size_t)1 << pool->p;
    size_t i;
    if (pool->free_head != SIZE_MAX) {
        i = pool->free_head;
        memcpy(&pool->free_head, pool->mem + i * bsize, sizeof(size_t));
    } else if (pool->fresh < pool->nblocks) {
        i = pool->fresh++;
    } else {
        pool->exhausted++;
        return NULL;
    }
    uint8_t *b = pool->mem + i * bsize;
    memset(b, 0, bsize);
    if (++pool->used > pool->peak) pool->peak = pool->used;
    return b;
}

static void block_put(np_hll_pool_t *pool, uint8_t *b) {
    size_t bsize = (size_t)1 << pool->p;
    assert(pool->mem && b >= pool->mem && b < pool->mem + pool->nblocks * bsize &&
           (size_t)(b - pool->mem) % bsize == 0); /* a block of this pool */
    memcpy(b, &pool->free_head, sizeof(size_t));
    pool->free_head = (size_t)(b - pool->mem) / bsize;
    pool->used--;
}

/* ---- sketch ---------------------------------------------------------------------------- */

void np_hll_init(np_hll_t *h) { memset(h, 0, sizeof(*h)); }

void np_hll_reset(np_hll_t *h, np_hll_pool_t *pool) {
    if (h->flags & NP_HLL_F_DENSE) block_put(pool, h->u.reg);
    memset(h, 0, sizeof(*h));
}

int np_hll_is_dense(const np_hll_t *h) { return (h->flags & NP_HLL_F_DENSE) != 0; }
int np_hll_is_lower_bound(const np_hll_t *h) { return (h->flags & NP_HLL_F_LOWER) != 0; }
int np_hll_is_exact(const np_hll_t *h) { return h->flags == 0; }
const uint8_t *np_hll_registers(const np_hll_t *h) { return np_hll_is_dense(h) ? h->u.reg : NULL; }
unsigned np_hll_precision(const np_hll_t *h) { return h->p; }

/* Switches h to the dense form with nkeys keys' registers. Returns -1 (h unchanged) when the
 * pool has no block. keys may point into h. */
static int promote(np_hll_t *h, np_hll_pool_t *pool, const uint32_t *keys, size_t nkeys) {
    uint8_t *reg = pool ? block_get(pool) : NULL; /* no pool: the sketch stays inline */
    if (!reg) return -1;
    unsigned nz = 0;
    for (size_t i = 0; i < nkeys; i++) {
        uint32_t idx;
        uint8_t val;
        key_reg(keys[i], pool->p, &idx, &val);
        nz += reg_max(reg, idx, val);
    }
    h->u.reg = reg;
    h->nz = (uint16_t)nz;
    h->n = 0;
    h->p = (uint8_t)pool->p;
    h->flags |= NP_HLL_F_DENSE;
    return 0;
}

int np_hll_add_hash(np_hll_t *h, np_hll_pool_t *pool, uint64_t hash) {
    if (h->flags & NP_HLL_F_DENSE) {
        uint32_t idx;
        uint8_t val;
        hash_reg(hash, h->p, &idx, &val);
        h->nz += reg_max(h->u.reg, idx, val);
        return 0;
    }
    uint32_t key = hash_key(hash);
    unsigned n = h->n, i = 0;
    while (i < n && h->u.key[i] < key) i++;
    if (i < n && h->u.key[i] == key) return 0;
    if (n < NP_HLL_INLINE) {
        memmove(&h->u.key[i + 1], &h->u.key[i], (n - i) * sizeof(uint32_t));
        h->u.key[i] = key;
        h->n++;
        return 0;
    }
    uint32_t keys[NP_HLL_INLINE];
    memcpy(keys, h->u.key, sizeof(keys));
    if (promote(h, pool, keys, NP_HLL_INLINE) < 0) {
        h->flags |= NP_HLL_F_LOWER;
        return 1;
    }
    uint32_t idx;
    uint8_t val;
    hash_reg(hash, h->p, &idx, &val);
    h->nz += reg_max(h->u.reg, idx, val);
    return 0;
}

/* sigma and tau of Ertl's estimator (the series of his algorithm 6, as in Redis). */
static double ertl_sigma(double x) {
    if (x == 1.0) return INFINITY;
    double y = 1.0, z = x, zp;
    do {
        x *= x;
        zp = z;
        z += x * y;
        y += y;
    } while (zp != z);
    return z;
}

static double ertl_tau(double x) {
    if (x == 0.0 || x == 1.0) return 0.0;
    double y = 1.0, z = 1.0 - x, zp;
    do {
        x = sqrt(x);
        zp = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
    } while (zp != z);
    return z / 3.0;
}

uint64_t np_hll_estimate(const np_hll_t *h) {
    if (!(h->flags & NP_HLL_F_DENSE)) return h->n;
    size_t m = (size_t)1 << h->p;
    uint32_t hist[66] = {0};
    for (size_t j = 0; j < m; j++) hist[h->u.reg[j]]++;
    return (uint64_t)llround(np_hll_estimate_hist(hist, m, 64 - h->p));
}

double np_hll_estimate_hist(const uint32_t hist[66], size_t m, unsigned q) {
    double dm = (double)m;
    double z = dm * ertl_tau((dm - hist[q + 1]) / dm);
    for (unsigned k = q; k >= 1; k--) z = 0.5 * (z + hist[k]);
    z += dm * ertl_sigma(hist[0] / dm);
    /* Ertl's alpha_inf = 1 / (2 ln 2) is the limit for large m; dividing by (1 + 1.079/m),
     * the finite-m factor of Flajolet's alpha_m, removes the bias that leaves at small p
     * (+7 % at p = 4, +2 % at p = 6, +0.1 % at p = 10 without it). An all-zero sketch gives
     * z = inf, so 0. */
    double alpha = 0.5 / log(2.0) / (1.0 + 1.079 / dm);
    return alpha * dm * dm / z;
}

int np_hll_fold(const np_hll_t *h, unsigned k, uint8_t *out) {
    if (k < 1 || k > KEY_IDX_BITS) return -1;
    memset(out, 0, (size_t)1 << k);
    if (!(h->flags & NP_HLL_F_DENSE)) {
        for (unsigned i = 0; i < h->n; i++) {
            uint32_t idx;
            uint8_t val;
            key_reg(h->u.key[i], k, &idx, &val);
            if (val > out[idx]) out[idx] = val;
        }
        return 0;
    }
    if (k > h->p) return -1;
    /* Precision reduction (the index's low p - k bits join the rank's bits): a register
     * whose dropped bits are not all 0 gives a rank fixed by those bits; otherwise the rank
     * continues into the old one. The result equals the registers the same hashes set at k. */
    unsigned rest = h->p - k;
    size_t m = (size_t)1 << h->p;
    for (size_t j = 0; j < m; j++) {
        uint8_t r = h->u.reg[j];
        if (!r) continue;
        uint32_t mid = (uint32_t)j & ((1u << rest) - 1);
        uint8_t val = (uint8_t)(mid ? rest - (32 - (unsigned)__builtin_clz(mid)) + 1 : rest + r);
        uint32_t idx = (uint32_t)(j >> rest);
        if (val > out[idx]) out[idx] = val;
    }
    return 0;
}

/* d[j] = max(d[j], s[j]) for m (a multiple of 16) registers of two distinct blocks. The fixed
 * 16-byte inner loop and restrict let -O2 make this one vector max per step. */
static void reg_merge(uint8_t *restrict d, const uint8_t *restrict s, size_t m) {
    for (size_t j = 0; j < m; j += 16, d += 16, s += 16)
        for (unsigned k = 0; k < 16; k++) d[k] = s[k] > d[k] ? s[k] : d[k];
}

void np_hll_registers_max(uint8_t *restrict d, const uint8_t *restrict s, size_t m) { reg_merge(d, s, m); }

void np_hll_hash_register(uint64_t hash, unsigned p, uint32_t *idx, uint8_t *val) { hash_reg(hash, p, idx, val); }

int np_hll_merge(np_hll_t *dst, const np_hll_t *src, np_hll_pool_t *pool) {
    if (dst == src) return 0;
    int rc = 0;
    uint8_t lower = src->flags & NP_HLL_F_LOWER;
    /* Into an empty sketch (a source new to the coordinator's pane: every source, as sources
     * are partition-local) the union is the source's sketch: no key merge, no register count. */
    bool empty = !(dst->flags & NP_HLL_F_DENSE) && dst->n == 0;
    if (empty && !(src->flags & NP_HLL_F_DENSE)) {
        memcpy(dst->u.key, src->u.key, src->n * sizeof(uint32_t));
        dst->n = src->n;
    } else if (src->flags & NP_HLL_F_DENSE) {
        assert(src->p == pool->p);
        if (!(dst->flags & NP_HLL_F_DENSE)) {
            uint32_t keys[NP_HLL_INLINE];
            size_t n = dst->n;
            memcpy(keys, dst->u.key, n * sizeof(uint32_t));
            if (promote(dst, pool, keys, n) < 0) {
                dst->flags |= NP_HLL_F_LOWER;
                return 1;
            }
        }
        assert(dst->p == src->p);
        size_t m = (size_t)1 << dst->p;
        reg_merge(dst->u.reg, src->u.reg, m);
        dst->nz = empty ? src->nz : (uint16_t)count_nonzero(dst);
    } else if (dst->flags & NP_HLL_F_DENSE) {
        for (unsigned i = 0; i < src->n; i++) {
            uint32_t idx;
            uint8_t val;
            key_reg(src->u.key[i], dst->p, &idx, &val);
            dst->nz += reg_max(dst->u.reg, idx, val);
        }
    } else {
        /* Both exact: a sorted union, promoted if it does not fit inline. */
        uint32_t u[2 * NP_HLL_INLINE];
        size_t n = 0, i = 0, j = 0;
        while (i < dst->n || j < src->n) {
            if (j == src->n || (i < dst->n && dst->u.key[i] < src->u.key[j])) {
                u[n++] = dst->u.key[i++];
            } else if (i == dst->n || src->u.key[j] < dst->u.key[i]) {
                u[n++] = src->u.key[j++];
            } else { /* in both */
                u[n++] = dst->u.key[i++];
                j++;
            }
        }
        if (n <= NP_HLL_INLINE || promote(dst, pool, u, n) < 0) {
            if (n > NP_HLL_INLINE) {
                n = NP_HLL_INLINE;
                dst->flags |= NP_HLL_F_LOWER;
                rc = 1;
            }
            memcpy(dst->u.key, u, n * sizeof(uint32_t));
            dst->n = (uint8_t)n;
        }
    }
    dst->flags |= lower;
    return rc;
}

/* ---- encoding -------------------------------------------------------------------------- */

static inline void wr16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void wr32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}


static size_t dense_size(unsigned p) { return ENC_HDR + 3 * ((size_t)1 << p) / 4; }
static size_t list_size(size_t nonzero) { return ENC_HDR + 2 + 3 * nonzero; }

size_t np_hll_encoded_size(const np_hll_t *h) {
    if (!(h->flags & NP_HLL_F_DENSE)) return ENC_HDR + 4 * (size_t)h->n;
    size_t d = dense_size(h->p), l = list_size(h->nz);
    return l < d ? l : d;
}

size_t np_hll_encode(const np_hll_t *h, uint8_t *buf, size_t cap) {
    uint8_t lower = (h->flags & NP_HLL_F_LOWER) ? ENC_LOWER : 0;
    if (!(h->flags & NP_HLL_F_DENSE)) {
        size_t len = ENC_HDR + 4 * (size_t)h->n;
        if (len > cap) return len;
        buf[0] = NP_HLL_FORMAT_VERSION;
        buf[1] = ENC_FORM_EXACT | lower;
        buf[2] = h->n;
        for (unsigned i = 0; i < h->n; i++) wr32(buf + ENC_HDR + 4 * i, h->u.key[i]);
        return len;
    }
    size_t m = (size_t)1 << h->p;
    const uint8_t *r = h->u.reg;
    size_t nz = h->nz;
    size_t d = dense_size(h->p), l = list_size(nz);
    if (l < d) {
        if (l > cap) return l;
        buf[0] = NP_HLL_FORMAT_VERSION;
        buf[1] = ENC_FORM_LIST | lower;
        buf[2] = h->p;
        wr16(buf + ENC_HDR, (uint32_t)nz);
        uint8_t *o = buf + ENC_HDR + 2;
        /* A list is chosen only for sparse sketches: skip the zero registers 8 at a time
         * (checkpoints encode every sketch of every open pane each second). */
        for (size_t j = 0; j < m; j += 8) {
            uint64_t w;
            memcpy(&w, r + j, 8);
            if (!w) continue;
            for (size_t k = j; k < j + 8; k++) {
                if (!r[k]) continue;
                wr16(o, (uint32_t)k);
                o[2] = r[k];
                o += 3;
            }
        }
        return l;
    }
    if (d > cap) return d;
    buf[0] = NP_HLL_FORMAT_VERSION;
    buf[1] = ENC_FORM_DENSE | lower;
    buf[2] = h->p;
    uint8_t *o = buf + ENC_HDR;
    for (size_t j = 0; j < m; j += 4, o += 3) { /* 4 registers of 6 bits in 3 bytes */
        o[0] = (uint8_t)(r[j] | r[j + 1] << 6);
        o[1] = (uint8_t)(r[j + 1] >> 2 | r[j + 2] << 4);
        o[2] = (uint8_t)(r[j + 2] >> 4 | r[j + 3] << 2);
    }
    return d;
}

/* Unpacks the 4 registers packed in 3 bytes of a dense encoding. Returns the largest. */
static inline uint8_t unpack4(const uint8_t *b, uint8_t r[4]) {
    r[0] = b[0] & 63;
    r[1] = (uint8_t)((b[0] >> 6 | b[1] << 2) & 63);
    r[2] = (uint8_t)((b[1] >> 4 | b[2] << 4) & 63);
    r[3] = b[2] >> 2;
    uint8_t a = r[0] > r[1] ? r[0] : r[1], c = r[2] > r[3] ? r[2] : r[3];
    return a > c ? a : c;
}

int np_hll_decode(np_hll_t *h, np_hll_pool_t *pool, const uint8_t *buf, size_t len, char *errstr,
                  size_t errlen) {
    np_hll_reset(h, pool);
    if (errstr && errlen) errstr[0] = '\0';
    if (len < ENC_HDR) return np_errstr_fail(errstr, errlen, "hll: %zu bytes, shorter than a header", len);
    if (buf[0] != NP_HLL_FORMAT_VERSION)
        return np_errstr_fail(errstr, errlen, "hll: unknown format version %u", buf[0]);
    if (buf[1] & ~(ENC_FORM_MASK | ENC_LOWER))
        return np_errstr_fail(errstr, errlen, "hll: unknown flags 0x%02x", buf[1]);
    unsigned form = buf[1] & ENC_FORM_MASK;
    uint8_t lower = (buf[1] & ENC_LOWER) ? NP_HLL_F_LOWER : 0;
    const uint8_t *in = buf + ENC_HDR;
    size_t inlen = len - ENC_HDR;

    if (form == ENC_FORM_EXACT) {
        size_t n = buf[2];
        if (inlen != 4 * n)
            return np_errstr_fail(errstr, errlen, "hll: %zu keys need %zu bytes, have %zu", n, 4 * n, inlen);
        uint32_t keys[255];
        for (size_t i = 0; i < n; i++) {
            keys[i] = rd32(in + 4 * i);
            if (!key_valid(keys[i])) return np_errstr_fail(errstr, errlen, "hll: key %zu: bad rank", i);
            if (i && keys[i] <= keys[i - 1])
                return np_errstr_fail(errstr, errlen, "hll: key %zu: not ascending", i);
        }
        if (n <= NP_HLL_INLINE || promote(h, pool, keys, n) < 0) {
            int rc = 0;
            if (n > NP_HLL_INLINE) {
                n = NP_HLL_INLINE;
                lower = NP_HLL_F_LOWER;
                rc = 1;
            }
            memcpy(h->u.key, keys, n * sizeof(uint32_t));
            h->n = (uint8_t)n;
            h->flags = lower;
            return rc;
        }
        h->flags |= lower;
        return 0;
    }
    if (form != ENC_FORM_DENSE && form != ENC_FORM_LIST)
        return np_errstr_fail(errstr, errlen, "hll: unknown form %u", form);

    unsigned p = buf[2];
    if (p != pool->p)
        return np_errstr_fail(errstr, errlen, "hll: precision %u, this pool's is %u", p, pool->p);
    size_t m = (size_t)1 << p;
    uint8_t vmax = (uint8_t)(65 - p);
    size_t count = 0;
    /* Validate everything before taking a block, so that bad input never costs one. */
    if (form == ENC_FORM_DENSE) {
        if (inlen != 3 * m / 4)
            return np_errstr_fail(errstr, errlen, "hll: dense p=%u needs %zu bytes, have %zu", p, 3 * m / 4,
                        inlen);
        for (size_t j = 0; j < m; j += 4) {
            uint8_t r[4];
            if (unpack4(in + j / 4 * 3, r) > vmax)
                return np_errstr_fail(errstr, errlen, "hll: registers %zu..%zu: a value > %u", j, j + 3,
                            vmax);
        }
    } else {
        if (inlen < 2) return np_errstr_fail(errstr, errlen, "hll: register list without a count");
        count = (size_t)in[0] | (size_t)in[1] << 8;
        if (count > m) return np_errstr_fail(errstr, errlen, "hll: %zu registers listed, p=%u", count, p);
        if (inlen - 2 != 3 * count)
            return np_errstr_fail(errstr, errlen, "hll: %zu registers need %zu bytes, have %zu", count,
                        3 * count, inlen - 2);
        for (size_t i = 0; i < count; i++) {
            const uint8_t *e = in + 2 + 3 * i;
            size_t idx = (size_t)e[0] | (size_t)e[1] << 8;
            if (idx >= m) return np_errstr_fail(errstr, errlen, "hll: register index %zu >= %zu", idx, m);
            if (i && idx <= ((size_t)e[-3] | (size_t)e[-2] << 8))
                return np_errstr_fail(errstr, errlen, "hll: register list not ascending at %zu", i);
            if (e[2] == 0 || e[2] > vmax)
                return np_errstr_fail(errstr, errlen, "hll: register %zu value %u", idx, e[2]);
        }
    }
    uint8_t *reg = block_get(pool);
    if (!reg) {
        h->flags = NP_HLL_F_LOWER;
        return 1;
    }
    if (form == ENC_FORM_DENSE) {
        for (size_t j = 0; j < m; j += 4) unpack4(in + j / 4 * 3, reg + j);
    } else {
        for (size_t i = 0; i < count; i++) {
            const uint8_t *e = in + 2 + 3 * i;
            reg[(size_t)e[0] | (size_t)e[1] << 8] = e[2];
        }
    }
    h->u.reg = reg;
    h->p = (uint8_t)p;
    h->nz = (uint16_t)count_nonzero(h);
    h->flags = NP_HLL_F_DENSE | lower;
    return 0;
}
