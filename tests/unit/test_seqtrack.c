/* Unit tests for np_seqtrack (export sequence tracking). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "np_seqtrack.h"

static np_ip_t ip(const char *s) {
    np_ip_t a;
    np_ip_parse(s, strlen(s), &a);
    return a;
}

static void test_per_datagram_and_per_flow(void **state) {
    (void)state;
    np_seqtrack_t *t = np_seqtrack_new(16);
    np_ip_t a = ip("192.0.2.1");
    uint32_t lost;
    assert_int_equal(np_seqtrack_observe(t, &a, 9, 0, 10, 1, &lost), NP_SEQ_FIRST);
    assert_int_equal(np_seqtrack_observe(t, &a, 9, 0, 11, 1, &lost), NP_SEQ_OK);
    assert_int_equal(np_seqtrack_observe(t, &a, 9, 0, 14, 1, &lost), NP_SEQ_LOST);
    assert_int_equal(lost, 2);
    assert_int_equal(np_seqtrack_observe(t, &a, 9, 0, 12, 1, &lost), NP_SEQ_REORDER); /* late */
    assert_int_equal(np_seqtrack_observe(t, &a, 9, 0, 15, 1, &lost), NP_SEQ_OK);     /* unmoved */
    /* Another domain of the same exporter is its own stream. IPFIX: + records. */
    assert_int_equal(np_seqtrack_observe(t, &a, 10, 1, 0, 30, &lost), NP_SEQ_FIRST);
    assert_int_equal(np_seqtrack_observe(t, &a, 10, 1, 30, 20, &lost), NP_SEQ_OK);
    assert_int_equal(np_seqtrack_observe(t, &a, 10, 1, 60, 5, &lost), NP_SEQ_LOST);
    assert_int_equal(lost, 10);
    /* Wrap-around. */
    assert_int_equal(np_seqtrack_observe(t, &a, 5, 0, 0xfffffff0u, 0x20, &lost), NP_SEQ_FIRST);
    assert_int_equal(np_seqtrack_observe(t, &a, 5, 0, 0x10, 1, &lost), NP_SEQ_OK);
    /* A restart (sequence far behind) is not loss. */
    assert_int_equal(np_seqtrack_observe(t, &a, 5, 0, 0x7000000, 1, &lost), NP_SEQ_REORDER);
    assert_int_equal(np_seqtrack_streams(t), 3);
    np_seqtrack_destroy(&t);
    assert_null(t);
}

/* softflowd's IPFIX: the sequence includes the message's own records. */
static void test_inclusive_sequence(void **state) {
    (void)state;
    np_seqtrack_t *t = np_seqtrack_new(16);
    np_ip_t a = ip("192.0.2.1");
    uint32_t lost;
    assert_int_equal(np_seqtrack_observe(t, &a, 10, 0, 22, 22, &lost), NP_SEQ_FIRST);
    assert_int_equal(np_seqtrack_observe(t, &a, 10, 0, 51, 29, &lost), NP_SEQ_OK);
    assert_int_equal(np_seqtrack_observe(t, &a, 10, 0, 78, 27, &lost), NP_SEQ_OK);
    assert_int_equal(np_seqtrack_observe(t, &a, 10, 0, 78 + 30 + 20, 20, &lost), NP_SEQ_LOST);
    assert_int_equal(lost, 30);
    np_seqtrack_destroy(&t);
}

static void test_bounded(void **state) {
    (void)state;
    np_seqtrack_t *t = np_seqtrack_new(16);
    uint32_t lost;
    for (int i = 0; i < 1000; i++) {
        np_ip_t a = ip("10.0.0.1");
        a.b[14] = (uint8_t)(i >> 8), a.b[15] = (uint8_t)i;
        np_seqtrack_observe(t, &a, 9, 0, 1, 1, &lost);
    }
    assert_true(np_seqtrack_streams(t) <= 16);
    assert_true(np_seqtrack_evictions(t) >= 1000 - 16);
    np_seqtrack_destroy(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_datagram_and_per_flow),
        cmocka_unit_test(test_inclusive_sequence),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
