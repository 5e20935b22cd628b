/* Unit tests for np_dlqseen: dead letters an earlier owner already produced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "np_dlqseen.h"

/* One dead letter read back, with headers given as C strings (NULL: absent). */
static int add(np_dlqseen_t *s, int64_t min, const char *t, const char *p, const char *o) {
    return np_dlqseen_add(s, "network-traffic", 3, min, t, t ? strlen(t) : 0, p, p ? strlen(p) : 0, o,
                          o ? strlen(o) : 0);
}

static void test_partition(void **st) {
    (void)st;
    assert_int_equal(np_dlqseen_partition(5, 4), 1);
    assert_int_equal(np_dlqseen_partition(3, 1), 0);
    assert_int_equal(np_dlqseen_partition(3, 0), -1); /* count unknown: the partitioner's */
}

static void test_only_ours_from_the_resume_offset(void **st) {
    (void)st;
    np_dlqseen_t s = {0};
    np_dlqseen_reset(&s, 100);
    assert_int_equal(add(&s, 50, "network-traffic", "3", "70"), 1);
    assert_int_equal(add(&s, 50, "network-traffic", "3", "55"), 1); /* any order */
    assert_int_equal(add(&s, 50, "network-traffic", "3", "49"), 0); /* before the resume offset */
    assert_int_equal(add(&s, 50, "network-traffic", "13", "60"), 0); /* another partition */
    assert_int_equal(add(&s, 50, "network-traffic-repartition", "3", "60"), 0);
    assert_int_equal(add(&s, 50, "network-traffi", "3", "60"), 0);
    assert_int_equal(add(&s, 50, "network-traffic", "3", "6x"), 0); /* damaged headers */
    assert_int_equal(add(&s, 50, "network-traffic", NULL, "60"), 0);
    assert_int_equal(add(&s, 50, NULL, "3", "60"), 0);
    assert_int_equal(add(&s, 50, "network-traffic", "3", "-60"), 0);
    np_dlqseen_seal(&s, 140);
    assert_true(np_dlqseen_has(&s, 55));
    assert_true(np_dlqseen_has(&s, 70));
    assert_false(np_dlqseen_has(&s, 49));
    assert_false(np_dlqseen_has(&s, 60));
    assert_false(np_dlqseen_has(&s, 71));
    np_dlqseen_free(&s);
}

/* The `from` a checkpoint keeps: the restore's until the owner has passed the earlier
 * owner's last dead letter (a third owner must find those too), then the end read or the
 * DLQ offset after our own last delivered dead letter. */
static void test_ckpt_from(void **st) {
    (void)st;
    np_dlqseen_t s = {0};
    np_dlqseen_reset(&s, 100);
    add(&s, 50, "network-traffic", "3", "70");
    np_dlqseen_seal(&s, 140);
    assert_int_equal(np_dlqseen_ckpt_from(&s, 60), 100);
    assert_int_equal(np_dlqseen_ckpt_from(&s, 70), 100);
    assert_int_equal(np_dlqseen_ckpt_from(&s, 71), 140);
    np_dlqseen_delivered(&s, 150);
    np_dlqseen_delivered(&s, 145); /* reports of one partition may come in any order */
    assert_int_equal(np_dlqseen_ckpt_from(&s, 71), 151);
    assert_int_equal(np_dlqseen_ckpt_from(&s, 65), 100);
    /* Nothing found: the end at once. */
    np_dlqseen_reset(&s, 100);
    np_dlqseen_seal(&s, 140);
    assert_int_equal(np_dlqseen_ckpt_from(&s, 50), 140);
    assert_false(np_dlqseen_has(&s, 50));
    /* An older checkpoint (nothing read): the end, or what we deliver. */
    np_dlqseen_reset(&s, -1);
    assert_int_equal(np_dlqseen_ckpt_from(&s, 50), -1);
    np_dlqseen_seal(&s, 0);
    assert_int_equal(np_dlqseen_ckpt_from(&s, 50), 0); /* an empty DLQ: offset 0 is a place */
    np_dlqseen_delivered(&s, 0);
    assert_int_equal(np_dlqseen_ckpt_from(&s, 50), 1);
    np_dlqseen_free(&s);
}

/* A read that failed (or overflowed) leaves what the DLQ holds after it unknown: the
 * checkpoint keeps `from` for ever, so a later owner reads from there again. */
static void test_failed_read_keeps_from(void **st) {
    (void)st;
    np_dlqseen_t s = {0};
    np_dlqseen_reset(&s, 100);
    add(&s, 50, "network-traffic", "3", "70");
    np_dlqseen_seal(&s, -1);
    assert_true(np_dlqseen_has(&s, 70)); /* what was read still counts */
    np_dlqseen_delivered(&s, 500);
    assert_int_equal(np_dlqseen_ckpt_from(&s, 1000000), 100);
    np_dlqseen_free(&s);
}

static void test_bounded(void **st) {
    (void)st;
    np_dlqseen_t s = {0};
    np_dlqseen_reset(&s, 0);
    char o[24];
    int kept = 0, full = 0;
    for (int i = 0; i < NP_DLQSEEN_MAX + 10; i++) {
        snprintf(o, sizeof(o), "%d", i);
        int rc = add(&s, 0, "network-traffic", "3", o);
        kept += rc == 1;
        full += rc == -1;
    }
    assert_int_equal(kept, NP_DLQSEEN_MAX);
    assert_int_equal(full, 10);
    assert_true(s.overflow);
    np_dlqseen_seal(&s, 999999);
    assert_true(np_dlqseen_has(&s, NP_DLQSEEN_MAX - 1));
    assert_false(np_dlqseen_has(&s, NP_DLQSEEN_MAX)); /* may be dead-lettered again */
    assert_int_equal(np_dlqseen_ckpt_from(&s, NP_DLQSEEN_MAX + 5), 0);
    np_dlqseen_free(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partition),
        cmocka_unit_test(test_only_ours_from_the_resume_offset),
        cmocka_unit_test(test_ckpt_from),
        cmocka_unit_test(test_failed_read_keeps_from),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
