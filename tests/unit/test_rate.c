/* Unit tests for np_rate (token bucket). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "np_rate.h"

static int take_n(np_rate_t *r, int64_t now, int n) {
    int got = 0;
    for (int i = 0; i < n; i++) got += np_rate_take(r, now);
    return got;
}

static void test_burst_then_rate(void **s) {
    (void)s;
    np_rate_t r;
    np_rate_init(&r, 100, 50);
    assert_int_equal(take_n(&r, 1000, 80), 50); /* starts full: the burst, then nothing */
    assert_int_equal(take_n(&r, 1010, 10), 1);  /* 10 ms at 100/s = 1 token */
    assert_int_equal(take_n(&r, 1015, 10), 0);  /* half a token is not a token */
    assert_int_equal(take_n(&r, 1020, 10), 1);  /* ... the other half arrives */
    /* A steady flood gets exactly the rate: 100 a second over 10 s. */
    int got = 0;
    for (int64_t t = 1021; t <= 11020; t++) got += take_n(&r, t, 5);
    assert_int_equal(got, 1000);
}

static void test_refill_capped(void **s) {
    (void)s;
    np_rate_t r;
    np_rate_init(&r, 1000, 10);
    assert_int_equal(take_n(&r, 0, 20), 10);
    /* A long pause (also one that would overflow dt * rate) refills to the burst only. */
    assert_int_equal(take_n(&r, INT64_MAX / 2, 20), 10);
    assert_int_equal(take_n(&r, INT64_MAX / 2 + 1, 20), 1);
}

static void test_clock_backwards_and_unlimited(void **s) {
    (void)s;
    np_rate_t r;
    np_rate_init(&r, 10, 1);
    assert_int_equal(take_n(&r, 5000, 3), 1);
    assert_int_equal(take_n(&r, 4000, 3), 0); /* backwards: no time passed */
    assert_int_equal(take_n(&r, 5100, 3), 1); /* 100 ms after the latest time seen */
    np_rate_init(&r, 0, 0);
    assert_int_equal(take_n(&r, 0, 100000), 100000);
    np_rate_init(&r, -5, 0);
    assert_int_equal(take_n(&r, 0, 7), 7);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_rate),
        cmocka_unit_test(test_refill_capped),
        cmocka_unit_test(test_clock_backwards_and_unlimited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
