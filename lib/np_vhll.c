/* np_vhll: a fixed-size pool of registers holding every destination's distinct-source
 * sketch (see np_vhll.h). */
#include "np_vhll.h"
#include "np_errstr.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct np_vhll {
    uint8_t *reg;
    size_t m;
    unsigned s, k, lgm; /* s = 2^k, m = 2^lgm */
    int used;
};

#define ENC_HDR 4

static int log2_exact(size_t x) {
    if (!x || (x & (x - 1))) return -1;
    return __builtin_ctzll((unsigned long long)x);
}

int np_vhll_check(size_t m, unsigned s, char *errstr, size_t errlen) {
    int lgm = log2_exact(m), k = log2_exact(s);
    if (lgm < 0 || m < NP_VHLL_M_MIN || m > NP_VHLL_M_MAX) {
        np_errstr_fail(errstr, errlen, "pool size %zu: a power of two from %u to %u", m, NP_VHLL_M_MIN, NP_VHLL_M_MAX);
        return 1;
    }
    if (k < 0 || s < NP_VHLL_S_MIN || s > NP_VHLL_S_MAX || (size_t)s > m / 4) {
        np_errstr_fail(errstr, errlen, "registers per destination %u: a power of two from %u to %u and at most pool/4", s,
             NP_VHLL_S_MIN, NP_VHLL_S_MAX);
        return 2;
    }
    return 0;
}

np_vhll_t *np_vhll_new(size_t m, unsigned s, char *errstr, size_t errlen) {
    if (np_vhll_check(m, s, errstr, errlen)) return NULL;
    int lgm = log2_exact(m), k = log2_exact(s);
    np_vhll_t *v = calloc(1, sizeof(*v));
    if (v) v->reg = calloc(m, 1);
    if (!v || !v->reg) {
        if (v) free(v);
        np_errstr_fail(errstr, errlen, "out of memory");
        return NULL;
    }
    v->m = m;
    v->s = s;
    v->k = (unsigned)k;
    v->lgm = (unsigned)lgm;
    return v;
}

void np_vhll_destroy(np_vhll_t **vp) {
    if (!vp || !*vp) return;
    free((*vp)->reg);
    free(*vp);
    *vp = NULL;
}

size_t np_vhll_bound_bytes(size_t m) { return sizeof(np_vhll_t) + m; }
size_t np_vhll_registers(const np_vhll_t *v) { return v->m; }
unsigned np_vhll_s(const np_vhll_t *v) { return v->s; }
int np_vhll_used(const np_vhll_t *v) { return v->used; }

void np_vhll_clear(np_vhll_t *v) {
    if (v->used) memset(v->reg, 0, v->m);
    v->used = 0;
}

/* The pool index of d's virtual register i: splitmix64's finaliser over d's hash and i, so
 * that the s registers of one destination are spread independently over the pool. */
static inline size_t slot(const np_vhll_t *v, uint64_t dh, unsigned i) {
    uint64_t z = dh + (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (size_t)(z & (v->m - 1));
}

static inline uint64_t dest_hash(const np_ip_t *d) { return np_hll_hash(d->b, 16); }

void np_vhll_add(np_vhll_t *v, const np_ip_t *d, uint64_t src_hash) {
    uint32_t i;
    uint8_t val;
    np_hll_hash_register(src_hash, v->k, &i, &val); /* the register it sets at precision k */
    uint8_t *r = &v->reg[slot(v, dest_hash(d), i)];
    if (val > *r) *r = val;
    v->used = 1;
}

void np_vhll_add_sketch(np_vhll_t *v, const np_ip_t *d, const np_hll_t *h) {
    uint8_t virt[NP_VHLL_S_MAX];
    if (np_hll_fold(h, v->k, virt) < 0) return; /* s <= 2^p by construction */
    uint64_t dh = dest_hash(d);
    for (unsigned i = 0; i < v->s; i++) {
        if (!virt[i]) continue;
        uint8_t *r = &v->reg[slot(v, dh, i)];
        if (virt[i] > *r) *r = virt[i];
        v->used = 1;
    }
}

void np_vhll_merge(np_vhll_t *dst, const np_vhll_t *src) {
    assert(dst->m == src->m && dst->s == src->s);
    if (!src->used) return;
    np_hll_registers_max(dst->reg, src->reg, dst->m); /* m >= 1024: a multiple of 16 */
    dst->used = 1;
}

double np_vhll_noise(const np_vhll_t *v) {
    if (!v->used) return 0;
    uint32_t hist[66] = {0};
    for (size_t j = 0; j < v->m; j++) hist[v->reg[j]]++;
    return np_hll_estimate_hist(hist, v->m, 64 - v->k) / (double)v->m;
}

uint64_t np_vhll_estimate(const np_vhll_t *v, const np_ip_t *d, double noise) {
    if (!v->used) return 0;
    uint32_t hist[66] = {0};
    uint64_t dh = dest_hash(d);
    for (unsigned i = 0; i < v->s; i++) hist[v->reg[slot(v, dh, i)]]++;
    double s = (double)v->s, m = (double)v->m;
    double n = m * s / (m - s) * (np_hll_estimate_hist(hist, v->s, 64 - v->k) / s - noise);
    if (!(n < (double)NP_VHLL_EST_MAX)) return NP_VHLL_EST_MAX; /* saturated registers read +inf */
    return n > 0 ? (uint64_t)llround(n) : 0;
}

uint64_t np_vhll_lower(const np_vhll_t *v, uint64_t est, double noise, double z) {
    double s = (double)v->s, m = (double)v->m;
    double sigma = 1.04 / sqrt(s) * m / (m - s) * ((double)est + s * (noise > 0 ? noise : 0));
    double lo = (double)est - z * sigma;
    return lo > 0 ? (uint64_t)lo : 0;
}

static size_t nonzero(const np_vhll_t *v) {
    size_t c = 0;
    for (size_t j = 0; j < v->m; j++) c += v->reg[j] != 0;
    return c;
}

size_t np_vhll_encoded_size(const np_vhll_t *v) {
    size_t list = 4 + 4 * nonzero(v);
    return ENC_HDR + (list < v->m ? list : v->m);
}

size_t np_vhll_encode(const np_vhll_t *v, uint8_t *buf, size_t cap) {
    size_t nz = nonzero(v), list = 4 + 4 * nz;
    int dense = list >= v->m;
    size_t len = ENC_HDR + (dense ? v->m : list);
    if (len > cap) return len;
    buf[0] = NP_VHLL_FORMAT_VERSION;
    buf[1] = dense ? 0 : 1;
    buf[2] = (uint8_t)v->k;
    buf[3] = (uint8_t)v->lgm;
    if (dense) {
        memcpy(buf + ENC_HDR, v->reg, v->m);
        return len;
    }
    uint8_t *p = buf + ENC_HDR;
    p[0] = (uint8_t)nz, p[1] = (uint8_t)(nz >> 8), p[2] = (uint8_t)(nz >> 16), p[3] = (uint8_t)(nz >> 24);
    p += 4;
    for (size_t j = 0; j < v->m; j++) {
        if (!v->reg[j]) continue;
        uint32_t e = (uint32_t)j << 8 | v->reg[j];
        p[0] = (uint8_t)e, p[1] = (uint8_t)(e >> 8), p[2] = (uint8_t)(e >> 16), p[3] = (uint8_t)(e >> 24);
        p += 4;
    }
    return len;
}

static inline uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int np_vhll_merge_encoded(np_vhll_t *v, const uint8_t *buf, size_t len, char *errstr, size_t errlen) {
    if (len < ENC_HDR) return np_errstr_fail(errstr, errlen, "fan-in pool: %zu bytes, short", len);
    if (buf[0] != NP_VHLL_FORMAT_VERSION) return np_errstr_fail(errstr, errlen, "fan-in pool: format version %u", buf[0]);
    if (buf[2] != v->k || buf[3] != v->lgm)
        return np_errstr_fail(errstr, errlen, "fan-in pool of 2^%u registers, 2^%u per destination; this process has 2^%u, 2^%u",
                    buf[3], buf[2], v->lgm, v->k);
    unsigned vmax = 65 - v->k;
    const uint8_t *p = buf + ENC_HDR;
    if (buf[1] == 0) {
        if (len != ENC_HDR + v->m) return np_errstr_fail(errstr, errlen, "fan-in pool: dense, %zu bytes", len);
        uint8_t top = 0; /* a max reduction (vectorised), not a branch per register */
        for (size_t j = 0; j < v->m; j++) top = p[j] > top ? p[j] : top;
        if (top > vmax) return np_errstr_fail(errstr, errlen, "fan-in pool: a register = %u (at most %u)", top, vmax);
        np_hll_registers_max(v->reg, p, v->m);
        v->used = 1;
        return 0;
    }
    if (buf[1] != 1 || len < ENC_HDR + 4) return np_errstr_fail(errstr, errlen, "fan-in pool: form %u", buf[1]);
    uint32_t n = rd32(p);
    if (len != ENC_HDR + 4 + 4 * (size_t)n || n > v->m) return np_errstr_fail(errstr, errlen, "fan-in pool: %u entries in %zu bytes", n, len);
    p += 4;
    /* Validate first, so that a bad message leaves v as it was. */
    int64_t prev = -1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t e = rd32(p + 4 * (size_t)i), idx = e >> 8, val = e & 255;
        if ((int64_t)idx <= prev || idx >= v->m || val < 1 || val > vmax)
            return np_errstr_fail(errstr, errlen, "fan-in pool: entry %u (index %u, value %u)", i, idx, val);
        prev = idx;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t e = rd32(p + 4 * (size_t)i);
        uint8_t *r = &v->reg[e >> 8];
        if ((e & 255) > *r) *r = (uint8_t)(e & 255);
    }
    if (n) v->used = 1;
    return 0;
}
