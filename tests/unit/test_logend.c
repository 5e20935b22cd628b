/* Unit tests for np_logend: log ends asked in a thread of their own, only when wanted, at
 * most one round per every_ms, each answer with the time its round was asked; a failed
 * round or an unknown partition keeps the previous answer; destroy waits for a round in
 * flight. The ask function is a fake (no broker). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <time.h>

#include "np_clock.h"
#include "np_logend.h"

typedef struct fake {
    _Atomic int calls;
    _Atomic int in_ask, done;
    _Atomic int64_t base;  /* ends[i] = base + i */
    _Atomic int rc;
    _Atomic int unknown;   /* partition left at -1, or -1 for none */
    _Atomic int sleep_ms;
} fake_t;

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int fake_ask(void *ctx, int64_t *ends, size_t n, int timeout_ms) {
    fake_t *f = ctx;
    assert_true(timeout_ms > 0);
    f->in_ask = 1;
    if (f->sleep_ms) sleep_ms(f->sleep_ms);
    for (size_t i = 0; i < n; i++) ends[i] = (int)i == f->unknown ? -1 : f->base + (int64_t)i;
    f->calls++;
    f->done = 1;
    return f->rc;
}

/* Waits up to 5 s for partition i to hold an answer asked at or after `since`. */
static bool wait_answer(np_logend_t *le, size_t i, int64_t since, int64_t *end, int64_t *asked) {
    for (int k = 0; k < 500; k++) {
        if (np_logend_get(le, i, end, asked) && *asked >= since) return true;
        sleep_ms(10);
    }
    return false;
}

static void test_only_when_wanted(void **st) {
    (void)st;
    fake_t f = {.base = 40, .unknown = -1};
    np_logend_t *le = np_logend_new(3, fake_ask, &f, 50, 1000);
    assert_non_null(le);
    sleep_ms(150);
    int64_t end, asked;
    assert_int_equal(f.calls, 0);
    assert_false(np_logend_get(le, 0, &end, &asked));
    int64_t t0 = np_clock_mono_ms();
    np_logend_want(le);
    assert_true(wait_answer(le, 2, t0, &end, &asked));
    assert_int_equal(end, 42);
    assert_true(asked >= t0 && asked <= np_clock_mono_ms());
    assert_false(np_logend_get(le, 3, &end, &asked)); /* out of range */
    sleep_ms(150);
    assert_int_equal(f.calls, 1); /* one want, one round */
    np_logend_stats_t s = np_logend_stats(le);
    assert_int_equal(s.rounds, 1);
    assert_int_equal(s.failed, 0);
    np_logend_destroy(&le);
    assert_null(le);
}

/* Wanting again at once waits for every_ms after the previous round began. */
static void test_rate_limited(void **st) {
    (void)st;
    fake_t f = {.base = 0, .unknown = -1};
    np_logend_t *le = np_logend_new(1, fake_ask, &f, 300, 1000);
    int64_t end, a1, a2, t0 = np_clock_mono_ms();
    np_logend_want(le);
    assert_true(wait_answer(le, 0, t0, &end, &a1));
    f.base = 7;
    np_logend_want(le);
    np_logend_want(le); /* wants add up to one round */
    assert_true(wait_answer(le, 0, a1 + 1, &end, &a2));
    assert_int_equal(end, 7);
    assert_true(a2 - a1 >= 300);
    sleep_ms(400);
    assert_int_equal(f.calls, 2);
    np_logend_destroy(&le);
}

/* A failed round changes nothing; a partition the round did not know keeps its answer. */
static void test_failures_keep_answers(void **st) {
    (void)st;
    fake_t f = {.base = 10, .unknown = -1};
    np_logend_t *le = np_logend_new(2, fake_ask, &f, 10, 1000);
    int64_t e0, a0, e1, a1, t0 = np_clock_mono_ms();
    np_logend_want(le);
    assert_true(wait_answer(le, 1, t0, &e1, &a1));
    assert_true(np_logend_get(le, 0, &e0, &a0));
    assert_int_equal(e0, 10);
    assert_int_equal(e1, 11);
    f.rc = -1;
    f.base = 99;
    np_logend_want(le);
    for (int k = 0; k < 500 && np_logend_stats(le).failed == 0; k++) sleep_ms(10);
    assert_int_equal(np_logend_stats(le).failed, 1);
    int64_t e, a;
    assert_true(np_logend_get(le, 0, &e, &a));
    assert_int_equal(e, 10);
    assert_int_equal(a, a0);
    f.rc = 0;
    f.unknown = 1;
    np_logend_want(le);
    assert_true(wait_answer(le, 0, a0 + 1, &e, &a));
    assert_int_equal(e, 99);
    assert_true(np_logend_get(le, 1, &e, &a));
    assert_int_equal(e, 11); /* unknown this round: the older answer stands */
    assert_int_equal(a, a1);
    np_logend_destroy(&le);
}

/* Destroy waits for the round in flight (the ask function must not outlive the caller's
 * handle), and returns at once when none is. */
static void test_destroy_waits_for_round(void **st) {
    (void)st;
    fake_t f = {.unknown = -1, .sleep_ms = 200};
    np_logend_t *le = np_logend_new(1, fake_ask, &f, 10, 1000);
    np_logend_want(le);
    for (int k = 0; k < 500 && !f.in_ask; k++) sleep_ms(1);
    assert_true(f.in_ask);
    np_logend_stop(le); /* returns at once, the round goes on */
    assert_false(f.done);
    np_logend_want(le);
    np_logend_destroy(&le);
    assert_true(f.done);
    assert_int_equal(f.calls, 1); /* no round after the stop */
    fake_t g = {.unknown = -1};
    int64_t t0 = np_clock_mono_ms();
    le = np_logend_new(1, fake_ask, &g, 10000, 1000);
    np_logend_destroy(&le);
    assert_true(np_clock_mono_ms() - t0 < 1000);
    assert_int_equal(g.calls, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_when_wanted),
        cmocka_unit_test(test_rate_limited),
        cmocka_unit_test(test_failures_keep_answers),
        cmocka_unit_test(test_destroy_waits_for_round),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
