/* Unit tests for np_owner (the coordinator's partition owner table). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "np_owner.h"

#define P(s) (const uint8_t *)(s), strlen(s)

static void test_claim_confirm(void **st) {
    (void)st;
    np_owner_t *o = np_owner_new(8);
    char v[128];
    int n = np_owner_value(v, sizeof(v), 7, "abc", 3);
    assert_string_equal(v, "7 abc 3");
    /* unknown slot owner: look it up; a matching stored value makes the peer the owner */
    assert_int_equal(np_owner_claim(o, 3, P("w1"), 7, "abc", 0), NP_OWNER_LOOKUP);
    assert_false(np_owner_holds(o, 3, P("w1")));
    assert_true(np_owner_confirm(o, 3, P("w1"), 7, "abc", v, (size_t)n));
    assert_true(np_owner_holds(o, 3, P("w1")));
    assert_false(np_owner_holds(o, 3, P("w2")));
    assert_int_equal(np_owner_claim(o, 3, P("w1"), 7, "abc", 1), NP_OWNER_OK);
    /* a zombie with an older epoch is refused without a look-up */
    assert_int_equal(np_owner_claim(o, 3, P("w0"), 6, "old", 500), NP_OWNER_REFUSED);
    /* a forger with the right epoch but another session: looked up (rate-limited), refused */
    assert_int_equal(np_owner_claim(o, 3, P("evil"), 7, "guess", 500), NP_OWNER_LOOKUP);
    assert_false(np_owner_confirm(o, 3, P("evil"), 7, "guess", v, (size_t)n));
    assert_int_equal(np_owner_claim(o, 3, P("evil"), 7, "guess", 550), NP_OWNER_REFUSED); /* too soon */
    assert_true(np_owner_holds(o, 3, P("w1")));
    /* the value of another slot does not fit */
    assert_int_equal(np_owner_claim(o, 2, P("w1"), 7, "abc", 0), NP_OWNER_LOOKUP);
    assert_false(np_owner_confirm(o, 2, P("w1"), 7, "abc", v, (size_t)n));
    assert_false(np_owner_confirm(o, 2, P("w1"), 7, "abc", NULL, 0)); /* nothing stored */
    /* a new owner (higher epoch) takes over */
    n = np_owner_value(v, sizeof(v), 8, "def", 3);
    assert_int_equal(np_owner_claim(o, 3, P("w2"), 8, "def", 1000), NP_OWNER_LOOKUP);
    assert_true(np_owner_confirm(o, 3, P("w2"), 8, "def", v, (size_t)n));
    assert_false(np_owner_holds(o, 3, P("w1")));
    assert_int_equal(np_owner_claim(o, 3, P("w1"), 7, "abc", 2000), NP_OWNER_REFUSED);
    np_owner_destroy(&o);
    assert_null(o);
}

static void test_bad_claims(void **st) {
    (void)st;
    np_owner_t *o = np_owner_new(4);
    assert_int_equal(np_owner_claim(o, 4, P("w"), 1, "s", 0), NP_OWNER_REFUSED);  /* slot out of range */
    assert_int_equal(np_owner_claim(o, -1, P("w"), 1, "s", 0), NP_OWNER_REFUSED);
    assert_int_equal(np_owner_claim(o, 0, P("w"), 0, "s", 0), NP_OWNER_REFUSED);  /* no epoch */
    assert_int_equal(np_owner_claim(o, 0, P("w"), 1, "", 0), NP_OWNER_REFUSED);   /* no session */
    assert_int_equal(np_owner_claim(o, 0, P("w"), 1, "a b", 0), NP_OWNER_REFUSED);
    assert_int_equal(np_owner_claim(o, 0, (const uint8_t *)"w", 0, 1, "s", 0), NP_OWNER_REFUSED);
    assert_false(np_owner_holds(o, 0, P("w")));
    np_owner_destroy(&o);
}

static void test_lookup_budget(void **st) {
    (void)st;
    np_owner_t *o = np_owner_new(4096);
    int lookups = 0;
    for (int32_t i = 0; i < 4096; i++) lookups += np_owner_claim(o, i, P("evil"), 1, "s", 5000) == NP_OWNER_LOOKUP;
    assert_int_equal(lookups, NP_OWNER_LOOKUPS_PER_S);
    /* a second later the budget is back */
    assert_int_equal(np_owner_claim(o, 4000, P("w"), 1, "s", 6000), NP_OWNER_LOOKUP);
    np_owner_destroy(&o);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_claim_confirm), cmocka_unit_test(test_bad_claims),
                                       cmocka_unit_test(test_lookup_budget)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
