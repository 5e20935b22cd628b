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

/* Three owners of source partition 3 over one DLQ partition that partition 9 shares.
 * A checkpoints at 10 (DLQ end 0), dead-letters 10..19 and dies. B resumes at 10, finds
 * them, checkpoints at 15 and dies: a from past A's dead letters would make C, resuming at
 * 15, dead-letter 15..19 again. */
typedef struct dlq {
    int64_t src_part[64], src_off[64];
    int64_t n;
} dlq_t;

static void produce(dlq_t *q, np_dlqseen_t *owner, int64_t part, int64_t off) {
    q->src_part[q->n] = part;
    q->src_off[q->n] = off;
    if (owner) np_dlqseen_delivered(owner, q->n);
    q->n++;
}

static void restore(const dlq_t *q, np_dlqseen_t *s, int64_t from, int64_t resume) {
    np_dlqseen_reset(s, from);
    char p[24], o[24];
    for (int64_t i = from < 0 ? q->n : from; i < q->n; i++) {
        snprintf(p, sizeof(p), "%lld", (long long)q->src_part[i]);
        snprintf(o, sizeof(o), "%lld", (long long)q->src_off[i]);
        add(s, resume, "network-traffic", p, o);
    }
    np_dlqseen_seal(s, q->n);
}

static void test_three_owners(void **st) {
    (void)st;
    dlq_t q = {0};
    np_dlqseen_t a = {0}, b = {0}, c = {0};
    np_dlqseen_reset(&a, -1);
    np_dlqseen_seal(&a, 0);
    int64_t ckpt_from = np_dlqseen_ckpt_from(&a, 10); /* A's checkpoint at 10 */
    assert_int_equal(ckpt_from, 0);
    for (int64_t off = 10; off < 20; off++) {
        produce(&q, &a, 3, off);
        produce(&q, NULL, 9, off); /* another worker's partition, same DLQ partition */
    }
    restore(&q, &b, ckpt_from, 10); /* B */
    for (int64_t off = 10; off < 20; off++) assert_true(np_dlqseen_has(&b, off));
    ckpt_from = np_dlqseen_ckpt_from(&b, 15); /* B's checkpoint at 15, then kill -9 */
    assert_int_equal(ckpt_from, 0);
    restore(&q, &c, ckpt_from, 15); /* C */
    assert_int_equal(c.n, 5);
    for (int64_t off = 15; off < 20; off++) assert_true(np_dlqseen_has(&c, off));
    /* C passes A's last one and dead-letters 20: its checkpoint at 21 points after it. */
    produce(&q, &c, 3, 20);
    assert_int_equal(np_dlqseen_ckpt_from(&c, 21), q.n);
    np_dlqseen_free(&a);
    np_dlqseen_free(&b);
    np_dlqseen_free(&c);
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
        cmocka_unit_test(test_three_owners),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
