/*
 * np_hll: distinct-count sketches for "how many different X" questions: per source and pane,
 * the distinct destination IPs and destination ports (scans); per destination, the distinct
 * sources, merged from every partition's partial at the coordinator (DDoS fan-in).
 *
 * Not for exact counting of large sets, for frequencies (how often) or for membership (was X
 * seen): a sketch only answers "about how many distinct values".
 *
 * Two forms in one 32-byte struct that callers embed in their own tables:
 *   - exact:  up to NP_HLL_INLINE (6) distinct values kept inline as 32-bit keys derived from
 *             the 64-bit hash. The count is exact (up to hash collisions: two values share a key
 *             with probability ~2^-27.6 per pair, ~8e-8 for a full set). Most sources talk to
 *             1-3 peers per pane, so most sketches never leave this form and never touch the pool.
 *   - dense:  a HyperLogLog of 2^p one-byte registers (max value 65 - p), held in a block of a
 *             caller-owned np_hll_pool_t. A sketch is promoted when a 7th distinct value arrives;
 *             the inline keys carry enough of the hash (26 index bits + the rank of the other 38)
 *             to rebuild exactly the registers that adding the original hashes would have set.
 *
 * Error: a dense estimate has relative standard error ~1.04 / sqrt(2^p): 3.25 % at p = 10,
 * 1.63 % at p = 12, 0.81 % at p = 14; errors beyond 3 standard errors are rare (~0.3 %).
 * Below a few times 2^p values it is smaller still (the small-range regime). At p < 8 the
 * real spread is ~5-10 % above the formula and the tails are heavier. The estimator is
 * Ertl's improved raw estimator ("New cardinality estimation algorithms for HyperLogLog
 * sketches", 2017; the one Redis uses) with Flajolet's finite-m factor in alpha: it contains
 * the small-range (linear counting) correction and is unbiased over the whole range, without
 * empirical bias tables or a switch-over threshold. 64-bit hashes need no large-range
 * correction.
 *
 * Precision: one p per pool, and therefore per cluster (hll.precision): sketches merge only at
 * equal p, and dense encodings of another p are rejected. Default NP_HLL_P_DEFAULT = 10: a
 * promoted sketch costs 1 KiB of pool memory and at most 771 bytes in a partial or a checkpoint,
 * and 3.25 % (10 % at 3 sigma) is ample for thresholds such as "more than 100 ports" or "more
 * than 10,000 sources", which are orders of magnitude, not percentages. p = 12 quadruples memory
 * and wire size for a factor 2 in error, and partials carry one sketch per busy source per pane.
 *
 * Memory: sizeof(np_hll_t) == 32, plus 2^p bytes of pool per dense sketch. The pool reserves
 * max_blocks * 2^p bytes of address space up front (calloc: pages are touched only when first
 * used), so dense memory is bounded; when it is exhausted the sketch degrades safely (see
 * np_hll_add_hash) and np_hll_pool_exhausted() counts it for a metric.
 *
 * Ownership: a dense sketch owns one pool block until np_hll_reset. The pool must outlive its
 * sketches; reset them before destroying the pool, or drop both together. A sketch may be moved
 * by memcpy (a table growing): the block moves with it, but only one copy may be used or reset.
 *
 * Thread-safety: none. A pool and the sketches using it belong to one thread. I/O-free, no
 * globals; the add path does not allocate.
 */
#ifndef NP_HLL_H
#define NP_HLL_H

#include <stddef.h>
#include <stdint.h>

#define NP_HLL_P_MIN     4
#define NP_HLL_P_MAX     14
#define NP_HLL_P_DEFAULT 10
#define NP_HLL_INLINE    6 /* distinct values held exactly before promotion */

/* Encoding format version (the first byte of every encoding). */
#define NP_HLL_FORMAT_VERSION 1
/* A buffer this large holds any encoding this version produces (dense at p = 14). */
#define NP_HLL_ENCODED_MAX (3 + 3 * ((size_t)1 << NP_HLL_P_MAX) / 4)

/* Fields are private; the struct is public so that callers can embed it. An all-zero struct
 * is a valid empty sketch, so zeroed tables need no per-entry np_hll_init. */
typedef struct np_hll {
    union {
        uint32_t key[NP_HLL_INLINE]; /* exact: the first n keys, strictly ascending */
        uint8_t *reg;                /* dense: 2^p registers in a pool block */
    } u;
    uint8_t n;     /* exact: keys stored */
    uint8_t p;     /* dense: precision; 0 while exact */
    uint8_t flags; /* private NP_HLL_F_* bits (np_hll.c) */
    uint16_t nz;   /* dense: registers that are not 0, kept up to date so that sizing an
                      encoding (every sketch of every open pane, each checkpoint) is O(1) */
} np_hll_t;

typedef struct np_hll_pool np_hll_pool_t;

/*
 * Hash of a value's bytes: XXH64 with seed 0 (the xxHash specification, Collet; test vectors
 * in tests/unit/test_hll.c). Fixed forever: hashes, and keys and registers derived from them,
 * are stored in checkpoints and compared across processes and versions. Hash every kind of
 * value in one canonical byte form: addresses as the 16-byte np_ip_t (IPv4-mapped), ports
 * with np_hll_hash_port.
 */
uint64_t np_hll_hash(const void *data, size_t len);

/* np_hll_hash of the port's 2 bytes in network (big-endian) order. */
uint64_t np_hll_hash_port(uint16_t port);

/* A pool of max_blocks register blocks of 2^p bytes, NP_HLL_P_MIN <= p <= NP_HLL_P_MAX.
 * max_blocks may be 0 (sketches then stay exact and degrade past NP_HLL_INLINE). Returns NULL
 * on allocation failure or when max_blocks * 2^p overflows. */
np_hll_pool_t *np_hll_pool_new(unsigned p, size_t max_blocks);
void np_hll_pool_destroy(np_hll_pool_t **pool);

unsigned np_hll_pool_precision(const np_hll_pool_t *pool);
size_t np_hll_pool_blocks_total(const np_hll_pool_t *pool);
size_t np_hll_pool_blocks_used(const np_hll_pool_t *pool);
size_t np_hll_pool_blocks_peak(const np_hll_pool_t *pool); /* highest blocks_used so far */
/* Operations that needed a block and found none (adds, merges and decodes that degraded a
 * sketch): the counter behind a netpulse_*_hll_pool_exhausted_total metric. */
uint64_t np_hll_pool_exhausted(const np_hll_pool_t *pool);

/* An empty exact sketch (same as zeroing it). h must not hold a block: use np_hll_reset. */
void np_hll_init(np_hll_t *h);

/* Returns h's block (if dense) to pool and empties h. */
void np_hll_reset(np_hll_t *h, np_hll_pool_t *pool);

/*
 * Adds a value by its np_hll_hash. Returns 0, or 1 when the value could not be recorded:
 * h needed promotion and pool had no free block. h then stays exact-form with its 6 keys,
 * flagged as a lower bound (np_hll_is_lower_bound), and np_hll_pool_exhausted() grows;
 * a later add of a new value retries the promotion (the flag stays until reset).
 */
int np_hll_add_hash(np_hll_t *h, np_hll_pool_t *pool, uint64_t hash);

/*
 * The number of distinct values added: exact in the exact form, else the HyperLogLog
 * estimate (rounded). For a lower-bound sketch it counts (or estimates) only what was kept.
 */
uint64_t np_hll_estimate(const np_hll_t *h);

/* The HyperLogLog estimate (Ertl, as np_hll_estimate) of m registers whose values' histogram
 * is hist (hist[v] registers hold v; ranks over q = 64 - log2(m') hash bits, values <= q + 1).
 * Not rounded. For sketches built on the same hashes elsewhere (np_vhll). */
double np_hll_estimate_hist(const uint32_t hist[66], size_t m, unsigned q);

/* The 2^k registers (1 <= k <= 26; k <= h's p when dense) that the values added to h would
 * have set at precision k, written to out[0 .. 2^k): exact for either form (the exact form's
 * keys carry 26 index bits; a dense sketch is reduced from p to k). Returns 0, or -1 when k
 * is out of range. Used to fold a per-destination sketch into a virtual HLL (np_vhll). */
int np_hll_fold(const np_hll_t *h, unsigned k, uint8_t *out);

/* The register a hash sets at precision p (1 <= p <= 26): index = its top p bits, value =
 * 1 + the leading zeros of the other 64 - p bits. For sketches built on the same hashes
 * elsewhere (np_vhll). */
void np_hll_hash_register(uint64_t hash, unsigned p, uint32_t *idx, uint8_t *val);

/* d[j] = max(d[j], s[j]) for m registers (m a multiple of 16; d and s distinct): the union
 * of two register arrays, one vector max per 16 bytes. */
void np_hll_registers_max(uint8_t *restrict d, const uint8_t *restrict s, size_t m);

/* 1 if np_hll_estimate is exact: exact form and nothing was dropped. */
int np_hll_is_exact(const np_hll_t *h);
/* 1 if h holds registers. */
int np_hll_is_dense(const np_hll_t *h);
/* 1 if values were dropped for lack of pool blocks (here or in a sketch merged into h):
 * the true count is at least np_hll_estimate (up to the estimate's error). */
int np_hll_is_lower_bound(const np_hll_t *h);
/* Dense: the 2^p registers, read-only (tests, debugging); exact: NULL. */
const uint8_t *np_hll_registers(const np_hll_t *h);
/* Dense: p; exact: 0. */
unsigned np_hll_precision(const np_hll_t *h);

/*
 * dst := dst ∪ src. The result is identical to the sketch of the union of the values (same
 * keys or same registers), whatever the forms, so merging is commutative and associative.
 * A dense src must come from a pool of pool's precision (asserted). Returns 0, or 1 when dst
 * needed a block and none was free: dst then keeps what fits inline and is a lower bound.
 * src is not modified; dst == src is a no-op.
 */
int np_hll_merge(np_hll_t *dst, const np_hll_t *src, np_hll_pool_t *pool);

/*
 * Encoding, format version 1 (all integers little-endian):
 *   byte 0   version = 1
 *   byte 1   flags: bits 0-1 form (0 exact, 1 dense, 2 register list), bit 2 lower bound;
 *            the other bits are 0
 *   exact          byte 2 n (0..255), then n 4-byte keys, strictly ascending. A key is
 *                  hash >> 38 (26 bits) << 6 | rank, where rank (1..39) is 1 + the number of
 *                  leading zeros of the low 38 bits of the hash (39 when they are all 0). It is
 *                  independent of p. Decoders accept n > NP_HLL_INLINE (they promote).
 *   dense          byte 2 p, then 2^p registers of 6 bits, packed LSB-first: register j is
 *                  bits 6j..6j+5 of the byte string read as one little-endian number
 *                  (3 * 2^p / 4 bytes: 768 at p = 10).
 *   register list  byte 2 p, bytes 3-4 count, then count entries of 3 bytes: register index
 *                  (2 bytes, strictly ascending, < 2^p) and value (1 byte, 1..65-p); registers
 *                  not listed are 0. The encoder picks it over "dense" when smaller: a sketch
 *                  just past promotion costs ~25 bytes, not 768.
 * Equal sketches encode to equal bytes. Decoders require the exact length.
 */

/* The length np_hll_encode needs for h (<= NP_HLL_ENCODED_MAX). */
size_t np_hll_encoded_size(const np_hll_t *h);

/* Writes h's encoding to buf if it fits in cap bytes. Returns its length either way
 * (nothing is written when that is > cap). */
size_t np_hll_encode(const np_hll_t *h, uint8_t *buf, size_t cap);

/*
 * Replaces h (which must be initialized; its block, if any, goes back to pool) with the sketch
 * encoded in buf[0..len). Safe on any input. Returns 0; 1 when the sketch is valid but needed a
 * block and the pool had none (h is then a lower bound: the exact form's first 6 keys, or empty
 * for the dense forms); or -1 when buf is not a valid encoding for this pool (bad version, flag,
 * length, precision other than the pool's, out-of-range or unordered entries): h is then empty
 * and a reason is written to errstr (always NUL-terminated when errlen > 0; may be NULL).
 */
int np_hll_decode(np_hll_t *h, np_hll_pool_t *pool, const uint8_t *buf, size_t len, char *errstr,
                  size_t errlen);

#endif
