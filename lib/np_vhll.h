/*
 * np_vhll: a virtual HyperLogLog (vHLL; Xiao, Zhou, Chen, "Better with fewer bits:
 * improving the performance of cardinality estimation of large data streams", INFOCOM
 * 2017): the distinct sources of *every* destination of a pane in one fixed-size pool of m
 * one-byte registers. Destination d owns s "virtual" registers, register i of d living at
 * pool[H(d, i) mod m]; a source of d sets one of them as a HyperLogLog at precision
 * log2(s) would. Registers are shared, so d's virtual sketch also holds noise from every
 * other (destination, source) pair; the estimate subtracts the noise the whole pool shows:
 *
 *     n_d = m s / (m - s) * (E_s(d) / s - E_m / m)
 *
 * where E_s(d) is the HLL estimate of d's s registers and E_m that of the whole pool (the
 * distinct (destination, source) pairs, n). Merging two pools is a register max, so the
 * coordinator unites partitions (and panes) with no per-destination work and no allocation.
 *
 * Error (measured in tests/unit/test_vhll.c against exact counts): the standard error of
 * n_d is about 1.04 / sqrt(s) * (n_d + s * n / m), i.e. relative 1.04 / sqrt(s) (6.5 % at
 * s = 256) while the pool is lightly loaded (s * n / m << n_d), growing with the noise
 * s * n / m once many pairs share the pool. Not for destinations with few sources in a busy
 * pool (they read as 0 +- the noise term); for "did one destination get >= T sources",
 * with T well above s * n / m, it is what the DDoS detector needs at a fixed size.
 *
 * Here sources are added as np_hll sketches already kept per destination (np_hll_fold
 * reduces a destination's sketch to s registers exactly), so the pool is a function of the
 * pane's destination table: re-made after a restore, it is the same.
 *
 * Memory: m bytes, fixed. I/O-free, no globals; not thread-safe (one owner).
 */
#ifndef NP_VHLL_H
#define NP_VHLL_H

#include <stddef.h>
#include <stdint.h>

#include "np_hll.h"
#include "np_ip.h"

#define NP_VHLL_M_MIN (1u << 10)
#define NP_VHLL_M_MAX (1u << 24)
#define NP_VHLL_S_MIN 16u
#define NP_VHLL_S_MAX (1u << NP_HLL_P_DEFAULT) /* folded from np_hll's sketches */
#define NP_VHLL_M_DEFAULT (1u << 18)
#define NP_VHLL_S_DEFAULT 256u
#define NP_VHLL_FORMAT_VERSION 1

typedef struct np_vhll np_vhll_t;

/* NULL unless m and s are powers of two within the bounds above, with s <= m / 4 (the
 * estimator divides by m - s; the reason written to errstr, which may be NULL) or memory is short. */
np_vhll_t *np_vhll_new(size_t m, unsigned s, char *errstr, size_t errlen);
/* What np_vhll_new would refuse: 0 (valid), 1 (m), 2 (s); the reason in errstr. So that a
 * process can name the configuration key. */
int np_vhll_check(size_t m, unsigned s, char *errstr, size_t errlen);
void np_vhll_destroy(np_vhll_t **v);
/* What np_vhll_new(m, .) allocates, for np_budget. */
size_t np_vhll_bound_bytes(size_t m);

size_t np_vhll_registers(const np_vhll_t *v); /* m */
unsigned np_vhll_s(const np_vhll_t *v);
/* True once anything was added or merged since the last clear. */
int np_vhll_used(const np_vhll_t *v);
void np_vhll_clear(np_vhll_t *v);

/* Adds one source (by its np_hll_hash) of destination d. */
void np_vhll_add(np_vhll_t *v, const np_ip_t *d, uint64_t src_hash);
/* Adds every source of d's sketch h (np_hll_fold to s registers). */
void np_vhll_add_sketch(np_vhll_t *v, const np_ip_t *d, const np_hll_t *h);
/* dst := max(dst, src) register by register; both of the same m and s (asserted). */
void np_vhll_merge(np_vhll_t *dst, const np_vhll_t *src);

/* The pool's noise per register, E_m / m: compute once per pool state, pass to
 * np_vhll_estimate for each destination. */
double np_vhll_noise(const np_vhll_t *v);
/* d's distinct sources, >= 0 (rounded; at most NP_VHLL_EST_MAX, which a saturated pool reads). */
uint64_t np_vhll_estimate(const np_vhll_t *v, const np_ip_t *d, double noise);
/* A lower bound on d's distinct sources given its estimate est: est - z * sigma, with
 * sigma = 1.04 / sqrt(s) * m / (m - s) * (est + s * noise), the error above; 0 when
 * that is negative. In a busy pool (s * noise large) every destination's estimate has
 * noise in the hundreds: a detector threshold compares this bound, not the estimate,
 * so that noise alone does not raise an alert. */
uint64_t np_vhll_lower(const np_vhll_t *v, uint64_t est, double noise, double z);
#define NP_VHLL_EST_MAX 1000000000000000ull

/*
 * Encoding, format version 1 (little-endian): byte 0 version, byte 1 form (0 dense, 1 list),
 * byte 2 log2 s, byte 3 log2 m; dense: m register bytes; list: 4-byte count, then count
 * 4-byte entries (index << 8 | value), indices strictly ascending, values 1..65 - log2 s.
 * The encoder picks the smaller form. Equal pools encode to equal bytes.
 */
size_t np_vhll_encoded_size(const np_vhll_t *v);
/* Writes v's encoding if it fits in cap; returns its length either way. */
size_t np_vhll_encode(const np_vhll_t *v, uint8_t *buf, size_t cap);
/* v := max(v, the pool encoded in buf) without allocating. Returns 0, or -1 (v unchanged)
 * when buf is not a valid encoding of a pool of v's m and s; the reason in errstr. */
int np_vhll_merge_encoded(np_vhll_t *v, const uint8_t *buf, size_t len, char *errstr, size_t errlen);

#endif
