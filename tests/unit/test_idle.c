/* Unit tests for np_idle: a partition is idle only on evidence that the log was quiet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "np_idle.h"

enum { IDLE = 3000, EVERY = 1000, FRESH = 3000 };

/* The race of the bug reports, at start: the first fetch answers "end of log" at t=100 while
 * the partition is still empty; the producer writes at t=500, but this consumer is not
 * scheduled again until t=4000. The old rule (EOF seen, no record for idle.ms) called it
 * idle at t=3100 and it followed the global watermark before it had consumed anything. */
static void test_eof_then_stalled_consumer_is_not_idle(void **state) {
    (void)state;
    np_idle_t s;
    np_idle_reset(&s, 0);
    assert_false(np_idle_should_ask(&s, 5000, IDLE, EVERY)); /* first fetch not answered: nothing to ask */
    assert_false(np_idle_is(&s, 5000, IDLE, FRESH));
    np_idle_eof(&s, 0); /* the partition was empty at t=100 */
    assert_false(np_idle_is(&s, 3100, IDLE, FRESH)); /* an EOF alone is no evidence */
    assert_true(np_idle_should_ask(&s, 3100, IDLE, EVERY));
    np_idle_end(&s, 40, 3100); /* the log end, asked at t=3100: 40 records wait */
    assert_false(np_idle_is(&s, 3100, IDLE, FRESH));
    assert_false(np_idle_is(&s, 3900, IDLE, FRESH));
    for (int64_t o = 0; o < 40; o++) np_idle_record(&s, o, 4000); /* the consumer runs again */
    assert_false(np_idle_should_ask(&s, 4000, IDLE, EVERY));
    assert_false(np_idle_is(&s, 6000, IDLE, FRESH));
}

/* A consumer behind the log (slow, or its records queued locally) is never idle, however
 * long since its last record. */
static void test_lagging_is_not_idle(void **state) {
    (void)state;
    np_idle_t s;
    np_idle_reset(&s, 0);
    np_idle_record(&s, 9, 10);
    np_idle_end(&s, 100, 5000);
    assert_false(np_idle_is(&s, 5000, IDLE, FRESH));
    assert_false(np_idle_should_ask(&s, 5500, IDLE, EVERY)); /* answered 500 ms ago */
    assert_true(np_idle_should_ask(&s, 6000, IDLE, EVERY));
}

/* A quiet log does make it idle (what lets windows progress, it.0070), and a record wakes it. */
static void test_quiet_log_is_idle_until_a_record(void **state) {
    (void)state;
    np_idle_t s;
    np_idle_reset(&s, 0);
    np_idle_eof(&s, 0); /* empty partition */
    np_idle_end(&s, 0, 2999); /* asked 1 ms too early: proves 2999 ms of quiet only */
    assert_false(np_idle_is(&s, 2999, IDLE, FRESH));
    assert_true(np_idle_should_ask(&s, 3000, IDLE, EVERY)); /* so ask again */
    np_idle_end(&s, 0, 3000);
    assert_true(np_idle_is(&s, 3000, IDLE, FRESH));
    assert_false(np_idle_should_ask(&s, 3500, IDLE, EVERY));
    np_idle_end(&s, 0, 2000); /* an older answer arriving late changes nothing */
    assert_true(np_idle_is(&s, 3500, IDLE, FRESH));
    /* No fresh answer (broker or consumer too slow to ask): no longer idle. */
    assert_false(np_idle_is(&s, 6001, IDLE, FRESH));
    np_idle_end(&s, 0, 6001);
    assert_true(np_idle_is(&s, 6001, IDLE, FRESH));
    np_idle_record(&s, 0, 6100);
    assert_false(np_idle_is(&s, 6100, IDLE, FRESH));
    np_idle_end(&s, 1, 8000); /* 1.9 s after the record: not yet */
    assert_false(np_idle_is(&s, 8000, IDLE, FRESH));
    np_idle_end(&s, 1, 9100);
    assert_true(np_idle_is(&s, 9100, IDLE, FRESH));
}

/* An answer asked before an assignment (or before the last record) proves nothing about
 * what came after it. */
static void test_answer_before_activity_proves_nothing(void **state) {
    (void)state;
    np_idle_t s;
    np_idle_reset(&s, 0);
    np_idle_eof(&s, 5);
    np_idle_end(&s, 5, 4000);
    assert_true(np_idle_is(&s, 4000, IDLE, FRESH));
    np_idle_reset(&s, 4500); /* revoked and assigned again, or restored */
    assert_false(np_idle_is(&s, 9000, IDLE, FRESH));
    np_idle_eof(&s, 5);
    np_idle_end(&s, 5, 4000); /* the old answer again */
    assert_false(np_idle_is(&s, 9000, IDLE, FRESH));
    np_idle_end(&s, 5, 7500);
    assert_true(np_idle_is(&s, 7500, IDLE, FRESH));
}

/* Markers move the position but are not records: a repartition partition that receives
 * only markers is idle. */
static void test_markers_are_not_activity(void **state) {
    (void)state;
    np_idle_t s;
    np_idle_reset(&s, 0);
    np_idle_record(&s, 3, 100);
    np_idle_consumed(&s, 4);
    np_idle_consumed(&s, 5);
    np_idle_end(&s, 5, 3200); /* position 6 > end: the marker was read */
    assert_true(np_idle_is(&s, 3200, IDLE, FRESH));
    np_idle_end(&s, 7, 3300); /* one more marker not read yet: behind the log */
    assert_false(np_idle_is(&s, 3300, IDLE, FRESH));
}

/* One clock read per batch: the batch began at t=1000 (its first record taken), the consumer
 * was descheduled, and the partition's record at offset 7, appended at t=2500, was taken in
 * the same batch with time 1000; the batch ended at t=2600. Asked at t=4000, the log end is
 * at the position: without settling, that is 3000 ms after "the last record" and idle, after
 * only 1500 ms of real quiet. Settled, the record counts at t=2600. */
static void test_record_late_in_a_long_batch(void **state) {
    (void)state;
    np_idle_t s, other;
    np_idle_reset(&s, 0);
    np_idle_reset(&other, 0);
    np_idle_record(&other, 3, 500); /* a partition with nothing in this batch */
    np_idle_record(&s, 7, 1000);
    np_idle_settle(&s, 1000, 2600);
    np_idle_settle(&other, 1000, 2600);
    np_idle_end(&s, 8, 4000);
    assert_false(np_idle_is(&s, 4000, IDLE, FRESH));
    assert_true(np_idle_should_ask(&s, 5600, IDLE, EVERY));
    np_idle_end(&s, 8, 5600);
    assert_true(np_idle_is(&s, 5600, IDLE, FRESH));
    np_idle_end(&other, 4, 3500); /* untouched by the batch: its own last record still counts */
    assert_true(np_idle_is(&other, 3500, IDLE, FRESH));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eof_then_stalled_consumer_is_not_idle),
        cmocka_unit_test(test_lagging_is_not_idle),
        cmocka_unit_test(test_quiet_log_is_idle_until_a_record),
        cmocka_unit_test(test_answer_before_activity_proves_nothing),
        cmocka_unit_test(test_markers_are_not_activity),
        cmocka_unit_test(test_record_late_in_a_long_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
