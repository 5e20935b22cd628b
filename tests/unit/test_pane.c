/* Unit tests for np_pane (pane math, per-partition watermarks, lateness, idleness). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "np_pane.h"
#include "np_srcwin.h"

typedef struct emitted {
    int64_t start[64];
    uint64_t records[64];
    uint64_t late[64];
    size_t n;
} emitted_t;

static void collect(void *ctx, np_partstate_t *ps, const np_pane_t *p, uint64_t late) {
    emitted_t *e = ctx;
    (void)ps;
    assert_true(e->n < 64);
    e->start[e->n] = p->start_ms;
    e->records[e->n] = p->records;
    e->late[e->n] = late;
    e->n++;
}

static np_record_t rec(int64_t ts, uint8_t last_octet) {
    np_record_t r;
    memset(&r, 0, sizeof(r));
    r.ts_ms = ts;
    r.src.b[10] = r.src.b[11] = 0xff;
    r.src.b[15] = last_octet;
    r.bytes = 100;
    r.packets = 2;
    return r;
}

static const np_pane_config_t CFG = {.pane_ms = 5000, .lateness_ms = 2000, .max_open_panes = 4, .max_sources = 1024, .max_dests = 1024};

static void test_pane_start(void **s) {
    (void)s;
    assert_int_equal(np_pane_start(0, 5000), 0);
    assert_int_equal(np_pane_start(4999, 5000), 0);
    assert_int_equal(np_pane_start(5000, 5000), 5000);
    assert_int_equal(np_pane_start(-1, 5000), -5000);
    assert_int_equal(np_pane_start(-5000, 5000), -5000);
    /* values from the network: no signed overflow (UBSan), saturated near the limits */
    assert_int_equal(np_pane_start(INT64_MAX, 5000), INT64_MAX - INT64_MAX % 5000);
    assert_int_equal(np_pane_start(INT64_MIN, 5000), INT64_MIN - INT64_MIN % 5000);
    assert_int_equal(np_pane_start(INT64_MIN + 1, 7), INT64_MIN - INT64_MIN % 7);
    assert_true(np_pane_start(INT64_MIN + 5000, 5000) <= INT64_MIN + 5000);
    assert_int_equal(np_pane_start(1700000001234, 5000), 1700000000000);
}

static void test_config_check(void **s) {
    (void)s;
    np_pane_config_t c = CFG;
    assert_null(np_pane_config_check(&c));
    c.max_open_panes = 2; /* 2000/5000 + 2 = 2 */
    assert_null(np_pane_config_check(&c));
    c.lateness_ms = 5000; /* needs 3 */
    assert_non_null(np_pane_config_check(&c));
    c = CFG;
    c.pane_ms = 0;
    assert_non_null(np_pane_config_check(&c));
}

static void test_close_on_watermark(void **s) {
    (void)s;
    emitted_t e = {0};
    np_partstate_t *ps = np_partstate_new(3, &CFG);
    np_record_t r = rec(1000, 1);
    assert_int_equal(np_partstate_add(ps, &r, 0, collect, &e, NULL), NP_PANE_ADDED);
    r = rec(4000, 2);
    np_partstate_add(ps, &r, 1, collect, &e, NULL);
    r = rec(6999, 1); /* watermark 4999: pane 0 still open */
    np_partstate_add(ps, &r, 2, collect, &e, NULL);
    assert_int_equal(e.n, 0);
    r = rec(7000, 1); /* watermark 5000 = end of pane 0 */
    np_partstate_add(ps, &r, 3, collect, &e, NULL);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.start[0], 0);
    assert_int_equal(e.records[0], 2);
    assert_int_equal(ps->closed_through, 5000);
    /* Out of order but on time: pane 5000 is open. */
    r = rec(5500, 9);
    assert_int_equal(np_partstate_add(ps, &r, 4, collect, &e, NULL), NP_PANE_ADDED);
    /* Late: pane 0 is closed. Counted, reported with the next partial. */
    int64_t pane = -1;
    r = rec(4999, 9);
    assert_int_equal(np_partstate_add(ps, &r, 5, collect, &e, &pane), NP_PANE_LATE);
    assert_int_equal(pane, 0);
    assert_int_equal(ps->late_total, 1);
    r = rec(12000, 1);
    np_partstate_add(ps, &r, 6, collect, &e, NULL);
    assert_int_equal(e.n, 2);
    assert_int_equal(e.start[1], 5000);
    assert_int_equal(e.records[1], 3);
    assert_int_equal(e.late[1], 1);
    np_partstate_destroy(&ps);
    assert_null(ps);
}

static void test_big_jump_closes_all(void **s) {
    (void)s;
    emitted_t e = {0};
    np_partstate_t *ps = np_partstate_new(0, &CFG);
    for (int i = 0; i < 4; i++) {
        np_record_t r = rec(i * 1000 + 3000, (uint8_t)i);
        np_partstate_add(ps, &r, i, collect, &e, NULL);
    }
    np_record_t r = rec(1000000, 1);
    np_partstate_add(ps, &r, 10, collect, &e, NULL);
    assert_int_equal(e.n, 2); /* panes 0 and 5000 had data; the empty ones are not sent */
    assert_int_equal(e.start[0], 0);
    assert_int_equal(e.start[1], 5000);
    assert_int_equal(ps->closed_through, 995000);
    np_partstate_destroy(&ps);
}

static void test_follow_global(void **s) {
    (void)s;
    emitted_t e = {0};
    np_partstate_t *ps = np_partstate_new(0, &CFG);
    /* No data yet: following the global watermark closes nothing but moves progress. */
    np_partstate_follow(ps, 20000);
    np_partstate_advance(ps, collect, &e);
    assert_int_equal(ps->closed_through, 20000);
    assert_int_equal(e.n, 0);
    np_record_t r = rec(19999, 1);
    assert_int_equal(np_partstate_add(ps, &r, 0, collect, &e, NULL), NP_PANE_LATE);
    r = rec(21000, 1);
    assert_int_equal(np_partstate_add(ps, &r, 1, collect, &e, NULL), NP_PANE_ADDED);
    /* Its own watermark (19000) is behind the followed one: progress never moves back. */
    assert_int_equal(np_partstate_watermark(ps), 20000);
    np_partstate_follow(ps, 10000);
    assert_int_equal(np_partstate_watermark(ps), 20000);
    np_partstate_follow(ps, 26000);
    np_partstate_advance(ps, collect, &e);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.start[0], 20000);
    np_partstate_destroy(&ps);
}

static void test_too_far_ahead(void **s) {
    (void)s;
    emitted_t e = {0};
    np_partstate_t *ps = np_partstate_new(0, &CFG);
    /* nothing to compare with: no bound */
    assert_false(np_partstate_too_far_ahead(ps, INT64_MAX, NP_TS_NONE, 60000));
    np_record_t r = rec(100000, 1);
    np_partstate_add(ps, &r, 0, collect, &e, NULL); /* watermark 98000 */
    assert_false(np_partstate_too_far_ahead(ps, 160000, NP_TS_NONE, 60000));
    assert_true(np_partstate_too_far_ahead(ps, 160001, NP_TS_NONE, 60000));
    assert_false(np_partstate_too_far_ahead(ps, 160001, NP_TS_NONE, 0)); /* off */
    /* the global watermark is the reference when it is ahead (a partition waking up) */
    assert_false(np_partstate_too_far_ahead(ps, 500000, 450000, 60000));
    assert_true(np_partstate_too_far_ahead(ps, INT64_MAX, 450000, 60000));
    assert_false(np_partstate_too_far_ahead(ps, 160001, INT64_MAX - 1, 60000)); /* no overflow */
    np_partstate_destroy(&ps);
}

static void test_safe_offset(void **s) {
    (void)s;
    emitted_t e = {0};
    np_partstate_t *ps = np_partstate_new(0, &CFG);
    assert_int_equal(np_partstate_safe_offset(ps), -1);
    np_record_t r = rec(1000, 1);
    np_partstate_add(ps, &r, 100, collect, &e, NULL);
    r = rec(6000, 1);
    np_partstate_add(ps, &r, 101, collect, &e, NULL);
    assert_int_equal(np_partstate_safe_offset(ps), 100); /* pane 0 still open */
    r = rec(9000, 1);
    np_partstate_add(ps, &r, 102, collect, &e, NULL); /* closes pane 0 */
    assert_int_equal(np_partstate_safe_offset(ps), 101);
    r = rec(30000, 1);
    np_partstate_add(ps, &r, 103, collect, &e, NULL);
    assert_int_equal(np_partstate_safe_offset(ps), 103);
    np_partstate_destroy(&ps);
}

static void test_sources_and_memory(void **s) {
    (void)s;
    emitted_t e = {0};
    np_pane_config_t c = CFG;
    c.max_sources = 3;
    np_partstate_t *ps = np_partstate_new(0, &c);
    for (int i = 0; i < 5; i++) {
        np_record_t r = rec(1000 + i, (uint8_t)i);
        np_partstate_add(ps, &r, i, collect, &e, NULL);
    }
    const np_pane_t *p = &ps->ring[0];
    assert_int_equal(p->records, 5);
    assert_int_equal(np_srcmap_count(p->sources), 3);
    assert_int_equal(np_srcmap_evicted(p->sources), 2);
    assert_int_equal(np_srcmap_other(p->sources)->records, 2);
    assert_true(np_partstate_memory_bytes(ps) > 0);
    assert_int_equal(np_partstate_open_panes(ps), 1);
    np_partstate_destroy(&ps);
}

/* np_partstate_is_late says what np_partstate_add would, without counting anything: the
 * worker asks it before forwarding a record, so a record late in its input partition is
 * dead-lettered there (with observe moving the watermark for forwarded ones). */
static void test_is_late(void **s) {
    (void)s;
    emitted_t e = {0};
    np_partstate_t *ps = np_partstate_new(0, &CFG);
    assert_false(np_partstate_is_late(ps, 0)); /* nothing closed yet: nothing is late */
    np_partstate_observe(ps, 7000, 0, collect, &e); /* forwarded: watermark 5000 closes pane 0 */
    assert_int_equal(ps->closed_through, 5000);
    assert_int_equal(e.n, 0); /* no data here: nothing to emit */
    assert_true(np_partstate_is_late(ps, 1000));
    assert_true(np_partstate_is_late(ps, 4999));
    assert_false(np_partstate_is_late(ps, 5000));
    assert_int_equal(ps->late_total, 0); /* asking counts nothing */
    np_record_t r = rec(4999, 1);
    assert_int_equal(np_partstate_add(ps, &r, 1, collect, &e, NULL), NP_PANE_LATE);
    r = rec(5000, 1);
    assert_int_equal(np_partstate_add(ps, &r, 2, collect, &e, NULL), NP_PANE_ADDED);
    assert_int_equal(ps->late_total, 1);
    np_partstate_destroy(&ps);
}

/* A partition restarted empty after its checkpoint was quarantined (np_srcwin known from
 * the next pane it closes): the worker, when a pane closes, sends window results only if
 * np_srcwin_covers says it closed every pane of that window again, so the coordinator
 * marks the others lower bounds. Recorded here at emit time, as the worker asks. */
static bool covered[8];
static size_t ncovered;
static void note_covered(void *ctx, np_partstate_t *ps, const np_pane_t *p, uint64_t late) {
    (void)ctx, (void)late;
    assert_true(ncovered < 8);
    covered[ncovered++] = np_srcwin_covers(ps->win, p->start_ms);
}

static void test_window_known_after_restart(void **s) {
    (void)s;
    np_pane_config_t c = CFG;
    c.window_ms = 15000; /* 3 panes */
    c.lateness_ms = 0;
    np_partstate_t *ps = np_partstate_new(0, &c);
    assert_non_null(ps->win);
    assert_true(np_srcwin_covers(ps->win, 100000)); /* a fresh partition lost nothing */
    np_srcwin_set_known_from(ps->win, NP_SRCWIN_KNOWN_FROM_NEXT);
    assert_false(np_srcwin_covers(ps->win, 100000)); /* nothing closed since the restart */
    ncovered = 0;
    for (int64_t t = 100000, off = 0; t <= 120000; t += 5000, off++) {
        np_record_t r = rec(t, 1); /* closes the pane before t */
        np_partstate_add(ps, &r, off, note_covered, NULL, NULL);
    }
    assert_int_equal(ps->closed_through, 120000);
    /* Panes 100000 to 115000 closed: the windows ending with 100000 and 105000 reach back
     * before the restart, those ending with 110000 (100000..114999) and 115000 do not. */
    assert_int_equal(ncovered, 4);
    assert_false(covered[0]);
    assert_false(covered[1]);
    assert_true(covered[2]);
    assert_true(covered[3]);
    np_partstate_destroy(&ps);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pane_start),        cmocka_unit_test(test_config_check),
        cmocka_unit_test(test_close_on_watermark), cmocka_unit_test(test_big_jump_closes_all),
        cmocka_unit_test(test_follow_global),     cmocka_unit_test(test_safe_offset),
        cmocka_unit_test(test_sources_and_memory), cmocka_unit_test(test_too_far_ahead),
        cmocka_unit_test(test_is_late),
        cmocka_unit_test(test_window_known_after_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
