/* Unit tests for np_idset (the gateway's bounded set of published result ids). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "np_idset.h"

static void id(char *buf, size_t len, int i) { snprintf(buf, len, "window-%d-%d", i * 5000, i % 7); }

static void test_add_has(void **st) {
    (void)st;
    np_idset_t *s = np_idset_new(4);
    assert_non_null(s);
    assert_false(np_idset_has(s, "a"));
    np_idset_add(s, "a");
    np_idset_add(s, "a"); /* a repeat is one id */
    np_idset_add(s, "b");
    assert_true(np_idset_has(s, "a"));
    assert_true(np_idset_has(s, "b"));
    assert_false(np_idset_has(s, "c"));
    assert_false(np_idset_has(s, "ab"));
    assert_int_equal(np_idset_len(s), 2);
    assert_int_equal(np_idset_cap(s), 4);
    np_idset_destroy(&s);
    assert_null(s);
    assert_null(np_idset_new(0));
}

static void test_oldest_forgotten_first(void **st) {
    (void)st;
    np_idset_t *s = np_idset_new(3);
    np_idset_add(s, "1");
    np_idset_add(s, "2");
    np_idset_add(s, "3");
    np_idset_add(s, "1"); /* known: does not refresh nor evict */
    assert_int_equal(np_idset_evicted(s), 0);
    np_idset_add(s, "4");
    assert_false(np_idset_has(s, "1"));
    assert_true(np_idset_has(s, "2") && np_idset_has(s, "3") && np_idset_has(s, "4"));
    assert_int_equal(np_idset_len(s), 3);
    assert_int_equal(np_idset_evicted(s), 1);
    np_idset_destroy(&s);
}

/* Many ids through a small set: every probe cluster must stay findable after evictions
 * re-place it (the linear-probing removal), against a model of the last cap ids. */
static void test_churn_matches_model(void **st) {
    (void)st;
    enum { CAP = 100, N = 20000 };
    np_idset_t *s = np_idset_new(CAP);
    char buf[64];
    for (int i = 0; i < N; i++) {
        id(buf, sizeof(buf), i);
        np_idset_add(s, buf);
        if (i % 97 == 0) { /* spot-check the window of remembered ids */
            for (int j = i - CAP - 5; j <= i; j++) {
                if (j < 0) continue;
                id(buf, sizeof(buf), j);
                assert_int_equal(np_idset_has(s, buf), j > i - CAP);
            }
        }
    }
    assert_int_equal(np_idset_len(s), CAP);
    assert_int_equal(np_idset_evicted(s), N - CAP);
    np_idset_destroy(&s);
}

static void test_long_ids_cut(void **st) {
    (void)st;
    np_idset_t *s = np_idset_new(8);
    char longid[400];
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    np_idset_add(s, longid); /* cut, not overflowing */
    assert_int_equal(np_idset_len(s), 1);
    np_idset_destroy(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_has),
        cmocka_unit_test(test_oldest_forgotten_first),
        cmocka_unit_test(test_churn_matches_model),
        cmocka_unit_test(test_long_ids_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
