/* np_crc32: CRC-32 and the stored-state frame. See np_crc32.h. */
#include "np_crc32.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Slicing-by-8 (eight bytes a step through eight tables): the same CRC-32 as the
 * byte-at-a-time loop, about 5x faster; the coordinator frames every partial it stores
 * with it, which was a tenth of its CPU at 1,000 partitions byte by byte. Where the CPU
 * multiplies carry-less (PCLMULQDQ, x86-64 since 2010) the body of a buffer is folded
 * instead (crc_clmul), about 10x faster again; the table loop does the tail. */
static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void init_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (uint32_t i = 0; i < 256; i++) table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xFF];
}

/* The table loop on the register (pre- and post-inversion left to the caller). */
static uint32_t crc_table(uint32_t c, const uint8_t *buf, size_t len) {
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        /* little-endian words built byte by byte: no alignment or byte-order assumption */
        uint32_t lo = c ^ ((uint32_t)buf[i] | (uint32_t)buf[i + 1] << 8 | (uint32_t)buf[i + 2] << 16 |
                           (uint32_t)buf[i + 3] << 24);
        c = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^ table[5][(lo >> 16) & 0xFF] ^ table[4][lo >> 24] ^
            table[3][buf[i + 4]] ^ table[2][buf[i + 5]] ^ table[1][buf[i + 6]] ^ table[0][buf[i + 7]];
    }
    for (; i < len; i++) c = table[0][(c ^ buf[i]) & 0xFF] ^ (c >> 8);
    return c;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NP_CRC32_CLMUL 1

/* Carry-less multiplication folding (Gopal, Ozturk et al., "Fast CRC Computation for
 * Generic Polynomials Using PCLMULQDQ Instruction", Intel, 2009), in the bit-reflected
 * domain of CRC-32: four 128-bit lanes are folded 64 bytes ahead, then into one lane,
 * then 16 bytes at a time, and the last 128 bits are reduced to 32 (Barrett). The
 * constants are x^k mod P(x) for the fold distances, and P(x) with its Barrett quotient,
 * all bit-reflected (the paper's appendix). The stored partials are checksummed at about
 * 9 MB per pane at 1,000 partitions: the table loop took ~5 ms of that pane, this ~0.5.
 * len >= 64 and a multiple of 16; c is the register (inverted). */
__attribute__((target("pclmul,sse4.1"))) static uint32_t crc_clmul(uint32_t c, const uint8_t *buf, size_t len) {
    const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596LL, 0x0154442bd4LL); /* x^(4*128+32), x^(4*128-32) */
    const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009eLL, 0x01751997d0LL); /* x^(128+32), x^(128-32) */
    const __m128i k5 = _mm_set_epi64x(0, 0x0163cd6124LL);                /* x^64 */
    const __m128i poly = _mm_set_epi64x(0x01f7011641LL, 0x01db710641LL); /* mu, P(x) */
    const __m128i lo32 = _mm_setr_epi32(~0, 0, ~0, 0);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 0));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 16));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 32));
    __m128i x4 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 48));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)c));
    buf += 64;
    len -= 64;
    for (; len >= 64; buf += 64, len -= 64) {
        __m128i *lanes[4] = {&x1, &x2, &x3, &x4};
        for (int i = 0; i < 4; i++) {
            __m128i lo = _mm_clmulepi64_si128(*lanes[i], k1k2, 0x00);
            __m128i hi = _mm_clmulepi64_si128(*lanes[i], k1k2, 0x11);
            __m128i in = _mm_loadu_si128((const __m128i *)(const void *)(buf + 16 * i));
            *lanes[i] = _mm_xor_si128(_mm_xor_si128(lo, hi), in);
        }
    }
    /* four lanes into one, then the 16-byte blocks left */
    __m128i next[3] = {x2, x3, x4};
    for (int i = 0; i < 3; i++) {
        __m128i lo = _mm_clmulepi64_si128(x1, k3k4, 0x00), hi = _mm_clmulepi64_si128(x1, k3k4, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(lo, hi), next[i]);
    }
    for (; len >= 16; buf += 16, len -= 16) {
        __m128i lo = _mm_clmulepi64_si128(x1, k3k4, 0x00), hi = _mm_clmulepi64_si128(x1, k3k4, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(lo, hi), _mm_loadu_si128((const __m128i *)(const void *)buf));
    }
    /* 128 bits to 64 */
    __m128i t = _mm_clmulepi64_si128(x1, k3k4, 0x10);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), t);
    t = _mm_srli_si128(x1, 4);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, lo32), k5, 0x00), t);
    /* Barrett reduction to 32 bits */
    t = _mm_clmulepi64_si128(_mm_and_si128(x1, lo32), poly, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, lo32), poly, 0x00);
    return (uint32_t)_mm_extract_epi32(_mm_xor_si128(x1, t), 1);
}

static int have_clmul;
#endif

static void init(void) {
    init_table();
#ifdef NP_CRC32_CLMUL
    __builtin_cpu_init();
    have_clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1") && !getenv("NP_CRC32_NO_CLMUL");
#endif
}

uint32_t np_crc32(const uint8_t *buf, size_t len) {
    pthread_once(&table_once, init);
    uint32_t c = 0xFFFFFFFFu;
#ifdef NP_CRC32_CLMUL
    if (have_clmul && len >= 64) {
        size_t body = len & ~(size_t)15;
        c = crc_clmul(c, buf, body);
        buf += body;
        len -= body;
    }
#endif
    return crc_table(c, buf, len) ^ 0xFFFFFFFFu;
}

/* The portable loop alone, for tests that hold the two to the same answer. */
uint32_t np_crc32_portable(const uint8_t *buf, size_t len) {
    pthread_once(&table_once, init);
    return crc_table(0xFFFFFFFFu, buf, len) ^ 0xFFFFFFFFu;
}

void np_crc32_frame_header(uint8_t hdr[NP_CRC32_FRAME_HDR], const char magic[3], uint8_t version,
                           const uint8_t *payload, size_t len) {
    uint32_t c = np_crc32(payload, len);
    memcpy(hdr, magic, 3);
    hdr[3] = version;
    for (int i = 0; i < 4; i++) hdr[4 + i] = (uint8_t)(c >> (8 * i));
}

int np_crc32_frame_open(const uint8_t *buf, size_t len, const char magic[3], uint8_t version,
                        const uint8_t **payload, size_t *plen, char *errstr, size_t errlen) {
    if (len < 3 || memcmp(buf, magic, 3) != 0) return 0;
    if (len < NP_CRC32_FRAME_HDR) {
        snprintf(errstr, errlen, "truncated frame (%zu bytes)", len);
        return -1;
    }
    if (buf[3] != version) {
        snprintf(errstr, errlen, "frame version %u, expected %u", buf[3], version);
        return -1;
    }
    uint32_t want = 0;
    for (int i = 0; i < 4; i++) want |= (uint32_t)buf[4 + i] << (8 * i);
    uint32_t got = np_crc32(buf + NP_CRC32_FRAME_HDR, len - NP_CRC32_FRAME_HDR);
    if (got != want) {
        snprintf(errstr, errlen, "checksum mismatch (stored %08x, computed %08x, %zu bytes)", want, got, len);
        return -1;
    }
    *payload = buf + NP_CRC32_FRAME_HDR;
    *plen = len - NP_CRC32_FRAME_HDR;
    return 1;
}
