/* Unit tests for np_resultbox (the coordinator's results awaiting acknowledgement). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "np_resultbox.h"

#define J(s) (const uint8_t *)(s), strlen(s)

static void push_n(np_resultbox_t *b, int from, int n) {
    for (int i = from; i < from + n; i++) {
        char id[16], js[32];
        snprintf(id, sizeof(id), "r%d", i);
        snprintf(js, sizeof(js), "{\"i\":%d}", i);
        assert_non_null(np_resultbox_push(b, id, "window", i * 10, i * 10 + 5, J(js)));
    }
}

static void test_push_full_ack_in_order(void **st) {
    (void)st;
    np_resultbox_t *b = np_resultbox_new(4);
    assert_non_null(b);
    push_n(b, 0, 4);
    assert_int_equal(np_resultbox_len(b), 4);
    assert_null(np_resultbox_push(b, "r9", "window", 0, 0, J("{}"))); /* full: refused, not dropped */
    np_resultbox_item_t *p = np_resultbox_at(b, 2);
    assert_string_equal(p->id, "r2");
    assert_string_equal(p->type, "window");
    assert_int_equal(p->start, 20);
    assert_int_equal(p->end, 25);
    assert_memory_equal(p->json, "{\"i\":2}", p->len);
    assert_int_equal(p->sent_mono, 0);
    assert_true(np_resultbox_ack(b, "r0"));
    assert_false(np_resultbox_ack(b, "r0")); /* a repeat ack */
    assert_false(np_resultbox_ack(b, "nope"));
    assert_int_equal(np_resultbox_len(b), 3);
    assert_string_equal(np_resultbox_at(b, 0)->id, "r1");
    push_n(b, 4, 1); /* wraps around the ring */
    assert_string_equal(np_resultbox_at(b, 3)->id, "r4");
    np_resultbox_destroy(&b);
    assert_null(b);
}

static void test_ack_out_of_order_pops_head_only(void **st) {
    (void)st;
    np_resultbox_t *b = np_resultbox_new(8);
    push_n(b, 0, 5);
    assert_true(np_resultbox_ack(b, "r2"));
    assert_true(np_resultbox_ack(b, "r3"));
    assert_int_equal(np_resultbox_len(b), 5); /* the head r0 still waits */
    assert_null(np_resultbox_at(b, 2)->json);
    assert_true(np_resultbox_ack(b, "r1"));
    assert_int_equal(np_resultbox_len(b), 5);
    assert_true(np_resultbox_ack(b, "r0"));
    assert_int_equal(np_resultbox_len(b), 1); /* r0..r3 popped together */
    assert_string_equal(np_resultbox_at(b, 0)->id, "r4");
    np_resultbox_destroy(&b);
}

static void test_due_first_run(void **st) {
    (void)st;
    np_resultbox_t *b = np_resultbox_new(8);
    push_n(b, 0, 5);
    size_t first = 99;
    assert_int_equal(np_resultbox_due(b, 10000, 2000, &first), 5); /* never sent: all due */
    assert_int_equal(first, 0);
    for (size_t k = 0; k < 5; k++) np_resultbox_at(b, k)->sent_mono = 1000;
    np_resultbox_at(b, 3)->sent_mono = 5000; /* sent again later */
    assert_int_equal(np_resultbox_due(b, 999, 2000, &first), 0);
    assert_int_equal(np_resultbox_due(b, 2999, 2000, &first), 0);
    assert_int_equal(np_resultbox_due(b, 3000, 2000, &first), 3); /* r0..r2; r3 ends the run */
    assert_int_equal(first, 0);
    assert_true(np_resultbox_ack(b, "r1"));
    assert_int_equal(np_resultbox_due(b, 3000, 2000, &first), 1); /* r0; the acked r1 ends it */
    assert_true(np_resultbox_ack(b, "r0"));
    assert_int_equal(np_resultbox_due(b, 3000, 2000, &first), 1); /* r2 */
    assert_string_equal(np_resultbox_at(b, first)->id, "r2");
    np_resultbox_destroy(&b);
}

static void test_sort_and_clear(void **st) {
    (void)st;
    np_resultbox_t *b = np_resultbox_new(4);
    push_n(b, 0, 3);
    assert_true(np_resultbox_ack(b, "r0"));
    assert_true(np_resultbox_ack(b, "r1"));
    /* head at 2: the next pushes wrap; out of window order as a Redis hash returns them */
    assert_non_null(np_resultbox_push(b, "b", "window", 10, 30, J("{}")));
    assert_non_null(np_resultbox_push(b, "a", "forecast", 10, 20, J("{}")));
    assert_non_null(np_resultbox_push(b, "c", "anomaly", 5, 40, J("{}")));
    np_resultbox_sort(b);
    const char *want[] = {"c", "a", "b", "r2"};
    for (size_t k = 0; k < 4; k++) assert_string_equal(np_resultbox_at(b, k)->id, want[k]);
    np_resultbox_clear(b);
    assert_int_equal(np_resultbox_len(b), 0);
    push_n(b, 0, 4);
    assert_int_equal(np_resultbox_len(b), 4);
    np_resultbox_destroy(&b);
    assert_null(np_resultbox_new(0));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_full_ack_in_order),
        cmocka_unit_test(test_ack_out_of_order_pops_head_only),
        cmocka_unit_test(test_due_first_run),
        cmocka_unit_test(test_sort_and_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
