/* Unit tests for np_slots: slot numbering across the input and repartition topics,
 * owning and dropping slots, the outbox count over slots, acknowledgements, what progress
 * may report and what offsets may be committed (both held back by unacknowledged
 * partials), idleness and watermark markers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "np_slots.h"

static const np_pane_config_t CFG = {.pane_ms = 5000, .lateness_ms = 2000, .max_open_panes = 4, .max_sources = 64};

static void test_numbering(void **st) {
    (void)st;
    np_slots_t *sl = np_slots_new("in", "rep", 4, "conn", 2);
    assert_int_equal(sl->total, 10);
    assert_int_equal(np_slots_of(sl, "conn", 1), 9);
    assert_int_equal(np_slots_of(sl, "conn", 2), -1);
    assert_string_equal(np_slots_topic(sl, 8), "conn");
    assert_int_equal(np_slots_partition(sl, 9), 1);
    assert_false(np_slots_rekeyed(sl, 8));
    assert_int_equal(np_slots_of(sl, "in", 3), 3);
    assert_int_equal(np_slots_of(sl, "rep", 3), 7);
    assert_int_equal(np_slots_of(sl, "rep", 4), -1);
    assert_int_equal(np_slots_of(sl, "other", 0), -1);
    assert_string_equal(np_slots_topic(sl, 5), "rep");
    assert_int_equal(np_slots_partition(sl, 5), 1);
    assert_false(np_slots_rekeyed(sl, 3));
    assert_true(np_slots_rekeyed(sl, 4));
    np_slots_destroy(&sl);
    assert_null(sl);
    sl = np_slots_new("in", NULL, 4, NULL, 0);
    assert_int_equal(sl->total, 4);
    assert_int_equal(np_slots_of(sl, "rep", 0), -1);
    np_slots_destroy(&sl);
}

static void test_own_ack_progress(void **st) {
    (void)st;
    np_slots_t *sl = np_slots_new("in", "rep", 2, NULL, 0);
    assert_null(np_slots_get(sl, 0));
    assert_int_equal(np_slots_prepare(sl, 0), 0);
    assert_null(sl->s[0].rekey);
    assert_int_equal(np_slots_prepare(sl, 2), 0);
    assert_non_null(sl->s[2].rekey);
    np_slots_adopt(sl, 0, np_partstate_new(0, &CFG), 100);
    np_slots_adopt(sl, 2, np_partstate_new(2, &CFG), 100);
    assert_non_null(np_slots_get(sl, 0));

    np_partstate_t *ps = sl->s[0].ps;
    ps->closed_through = 10000;
    /* Two partials waiting: progress may claim only up to the older one. */
    assert_int_equal(np_slots_push_partial(sl, 0, 5000, 10, (const uint8_t *)"a", 1), 0);
    assert_int_equal(np_slots_push_partial(sl, 0, 0, 0, (const uint8_t *)"b", 1), 0);
    assert_true(sl->s[0].dirty);
    assert_int_equal(sl->outbox_items, 2);
    assert_int_equal(np_slots_reportable_closed(sl, 0), 0);
    assert_true(np_slots_progress_moved(sl));
    np_slots_progress_add(sl, 0, false);
    np_slots_progress_add(sl, 2, true);
    assert_int_equal(sl->s[0].sent_closed, 0);
    assert_false(np_slots_progress_moved(sl));
    np_partial_enc_t enc;
    np_partial_enc_init(&enc);
    const uint8_t *out;
    size_t len;
    assert_int_equal(np_slots_progress_encode(sl, &enc, "w", "s", &out, &len), 1);
    Netpulse__WorkerMsg *m = netpulse__worker_msg__unpack(NULL, len, out);
    assert_non_null(m);
    assert_int_equal(m->progress->n_partitions, 2);
    assert_int_equal(m->progress->partitions_total, 4);
    assert_int_equal(m->progress->partitions[0]->closed_through_ms, 0);
    assert_true(m->progress->partitions[1]->idle);
    assert_string_equal(m->progress->partitions[1]->topic, "rep");
    netpulse__worker_msg__free_unpacked(m, NULL);
    assert_int_equal(np_slots_progress_encode(sl, &enc, "w", "s", &out, &len), 0); /* nothing added since */
    np_partial_enc_free(&enc);

    assert_true(np_slots_ack(sl, 0, 0));
    assert_false(np_slots_ack(sl, 0, 0));  /* once */
    assert_false(np_slots_ack(sl, 1, 0));  /* not owned */
    assert_false(np_slots_ack(sl, 99, 0)); /* out of range */
    assert_int_equal(sl->outbox_items, 1);
    assert_int_equal(np_slots_reportable_closed(sl, 0), 5000);
    assert_true(np_slots_progress_moved(sl));
    np_slots_drop(sl, 0);
    assert_int_equal(sl->outbox_items, 0);
    assert_null(np_slots_get(sl, 0));
    assert_int_equal(sl->s[0].sent_closed, NP_TS_NONE);
    np_slots_destroy(&sl);
}

/* A restore given up (np_claim: another claim overtook it) drops a slot it prepared and
 * filled but never adopted: its outbox was never counted, so nothing is taken off the
 * count (which would wrap and pause the worker for good). */
static void test_drop_unadopted(void **st) {
    (void)st;
    np_slots_t *sl = np_slots_new("in", "rep", 2, NULL, 0);
    assert_int_equal(np_slots_prepare(sl, 1), 0);
    np_slots_adopt(sl, 1, np_partstate_new(1, &CFG), 100);
    assert_int_equal(np_slots_push_partial(sl, 1, 0, 0, (const uint8_t *)"a", 1), 0);
    assert_int_equal(np_slots_prepare(sl, 2), 0);
    assert_int_equal(np_outbox_push(&sl->s[2].outbox, 0, NP_OUTBOX_OFFSET_UNKNOWN, (const uint8_t *)"r", 1), 0);
    np_slots_drop(sl, 2);
    assert_int_equal(sl->outbox_items, 1);
    assert_int_equal(sl->s[2].outbox.n, 0);
    assert_null(sl->s[2].rekey);
    np_slots_destroy(&sl);
}

static void no_emit(void *ctx, np_partstate_t *ps, const np_pane_t *pane, uint64_t late) {
    (void)ctx;
    (void)ps;
    (void)pane;
    (void)late;
}

static void add_at(np_partstate_t *ps, int64_t ts, int64_t offset) {
    np_record_t r;
    memset(&r, 0, sizeof(r));
    r.ts_ms = ts;
    r.packets = 1;
    np_partstate_add(ps, &r, offset, no_emit, NULL, NULL);
}

/* The committed offset is where an owner without a checkpoint starts: it must not pass a
 * closed pane whose partial the coordinator has not acknowledged (Redis down: no acks, no
 * checkpoint), which np_partstate_safe_offset alone (open panes) passes. */
static void test_commit_offset(void **st) {
    (void)st;
    np_slots_t *sl = np_slots_new("in", NULL, 1, NULL, 0);
    np_slots_prepare(sl, 0);
    np_slots_adopt(sl, 0, np_partstate_new(0, &CFG), 0);
    np_partstate_t *ps = sl->s[0].ps;
    assert_int_equal(np_slots_commit_offset(sl, 0), -1); /* nothing consumed */
    add_at(ps, 1000, 100);
    add_at(ps, 2000, 101);
    add_at(ps, 6000, 102);
    assert_int_equal(np_slots_commit_offset(sl, 0), 100);
    add_at(ps, 9000, 103); /* watermark 7000: pane 0 closes; its partial is sent, not acknowledged */
    assert_int_equal(np_slots_push_partial(sl, 0, 0, 100, (const uint8_t *)"p0", 2), 0);
    assert_int_equal(np_partstate_safe_offset(ps), 102);  /* the open pane's first record */
    assert_int_equal(np_slots_commit_offset(sl, 0), 100); /* but pane 0 is not safe yet */
    add_at(ps, 16000, 104); /* pane 5000 closes too, and its partial is acknowledged first */
    assert_int_equal(np_slots_push_partial(sl, 0, 5000, 102, (const uint8_t *)"p1", 2), 0);
    assert_true(np_slots_ack(sl, 0, 5000));
    assert_int_equal(np_slots_commit_offset(sl, 0), 100);
    assert_true(np_slots_ack(sl, 0, 0));
    assert_int_equal(np_slots_commit_offset(sl, 0), 104); /* every closed pane acknowledged */
    /* A window-only partial (no records) holds nothing back. */
    assert_int_equal(np_slots_push_partial(sl, 0, 10000, -1, (const uint8_t *)"w", 1), 0);
    assert_int_equal(np_slots_commit_offset(sl, 0), 104);
    /* A partial restored from a checkpoint (offsets unknown) holds every commit back until
     * it is acknowledged, also when the same pane closes again. */
    assert_int_equal(np_outbox_push(&sl->s[0].outbox, 20000, NP_OUTBOX_OFFSET_UNKNOWN, (const uint8_t *)"r", 1), 0);
    assert_int_equal(np_slots_commit_offset(sl, 0), -1);
    assert_int_equal(np_outbox_push(&sl->s[0].outbox, 20000, 103, (const uint8_t *)"r", 1), 0);
    assert_int_equal(np_slots_commit_offset(sl, 0), -1);
    assert_true(np_outbox_ack(&sl->s[0].outbox, 20000));
    assert_int_equal(np_slots_commit_offset(sl, 0), 104);
    np_slots_destroy(&sl);
}

static void test_idle_and_markers(void **st) {
    (void)st;
    np_slots_t *sl = np_slots_new("in", "rep", 1, NULL, 0);
    np_slots_prepare(sl, 0);
    np_slots_adopt(sl, 0, np_partstate_new(0, &CFG), 1000);
    assert_false(np_slots_idle(sl, 0, 9000, 3000, 3000)); /* no fetch answered yet */
    np_idle_eof(&sl->s[0].idle, 0);
    assert_false(np_slots_idle(sl, 0, 9000, 3000, 3000)); /* an EOF alone is no evidence */
    np_idle_end(&sl->s[0].idle, 0, 3999); /* the log end, asked 2999 ms after the adoption */
    assert_false(np_slots_idle(sl, 0, 3999, 3000, 3000));
    np_idle_end(&sl->s[0].idle, 0, 4000);
    assert_true(np_slots_idle(sl, 0, 4000, 3000, 3000));
    assert_false(np_slots_marker_due(sl, 0, NP_TS_NONE, 5000));
    assert_true(np_slots_marker_due(sl, 0, 4000, 5000));
    sl->s[0].marker_wm = 4000;
    assert_false(np_slots_marker_due(sl, 0, 4999, 5000)); /* same pane */
    assert_true(np_slots_marker_due(sl, 0, 5000, 5000));
    np_slots_destroy(&sl);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_numbering), cmocka_unit_test(test_own_ack_progress),
                                       cmocka_unit_test(test_drop_unadopted),
                                       cmocka_unit_test(test_commit_offset), cmocka_unit_test(test_idle_and_markers)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
