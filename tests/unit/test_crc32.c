/* Unit tests for np_crc32: the folded (PCLMULQDQ) and the table CRC-32 agree with each
 * other and with known values, at every length and alignment around the fold's blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "np_crc32.h"

static uint64_t rng_next(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The check value of CRC-32/ISO-HDLC (zlib's crc32) and two more computed by Python's zlib.crc32. */
static void test_known_values(void **state) {
    (void)state;
    assert_int_equal(np_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
    assert_int_equal(np_crc32((const uint8_t *)"", 0), 0);
    static uint8_t zeros[4096], ff[100];
    memset(ff, 0xFF, sizeof(ff));
    assert_int_equal(np_crc32(zeros, sizeof(zeros)), 0xC71C0011u);
    assert_int_equal(np_crc32(ff, sizeof(ff)), 0x03D28681u);
}

/* Every length 0..600 at every alignment 0..15, and some long buffers: one answer. */
static void test_fold_equals_table(void **state) {
    (void)state;
    static uint8_t buf[70000];
    uint64_t s = 7;
    for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (uint8_t)rng_next(&s);
    for (size_t off = 0; off < 16; off++)
        for (size_t len = 0; len <= 600; len++) assert_int_equal(np_crc32(buf + off, len), np_crc32_portable(buf + off, len));
    size_t longs[] = {4095, 4096, 9173, 65536, 69999};
    for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++)
        assert_int_equal(np_crc32(buf + 1, longs[i]), np_crc32_portable(buf + 1, longs[i]));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_fold_equals_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
