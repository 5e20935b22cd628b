/* Unit tests for np_rekey: a repartition slot's watermark is the minimum of its inputs'
 * markers (none until every input announced one, never moving an input back), and copies
 * of re-keyed records re-forwarded after a crash are recognised. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "np_pane.h"
#include "np_rekey.h"

static void test_watermark_is_min_of_markers(void **st) {
    (void)st;
    np_rekey_t *rk = np_rekey_new(3);
    assert_non_null(rk);
    assert_int_equal(np_rekey_watermark(rk), NP_TS_NONE);
    assert_int_equal(np_rekey_marker(rk, 0, 5000), NP_TS_NONE);
    assert_int_equal(np_rekey_marker(rk, 2, 7000), NP_TS_NONE);
    assert_int_equal(np_rekey_marker(rk, 1, 6000), 5000);
    assert_int_equal(np_rekey_marker(rk, 0, 9000), 6000);
    assert_int_equal(np_rekey_marker(rk, 1, 4000), 6000); /* an older marker: ignored */
    assert_int_equal(rk->wm[1], 6000);
    assert_int_equal(np_rekey_marker(rk, 3, 1), 6000);    /* not an input: ignored */
    np_rekey_destroy(&rk);
    assert_null(rk);
}

static void test_copies_are_seen(void **st) {
    (void)st;
    np_rekey_t *rk = np_rekey_new(2);
    assert_false(np_rekey_seen(rk, 0, 10));
    assert_false(np_rekey_seen(rk, 1, 3));
    assert_true(np_rekey_seen(rk, 0, 10));  /* the same record again */
    assert_true(np_rekey_seen(rk, 0, 9));   /* an earlier one */
    assert_false(np_rekey_seen(rk, 0, 11));
    assert_false(np_rekey_seen(rk, 2, 0));  /* not an input: kept */
    assert_false(np_rekey_seen(rk, 2, 0));
    assert_int_equal(rk->hwm[0], 11);
    assert_int_equal(rk->hwm[1], 3);
    np_rekey_destroy(&rk);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_watermark_is_min_of_markers),
                                       cmocka_unit_test(test_copies_are_seen)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
