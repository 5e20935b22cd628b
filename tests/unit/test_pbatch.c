/* Unit tests for np_pbatch (the coordinator's group commit of partials). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "np_pbatch.h"

/* A WorkerMsg{partial} decoded into b's arena, as the coordinator decodes it. */
static Netpulse__WorkerMsg *partial(np_pbatch_t *b, int32_t partition, int64_t start, size_t *raw_len) {
    Netpulse__Partial p = NETPULSE__PARTIAL__INIT;
    p.partition = partition;
    p.pane_start_ms = start;
    p.pane_ms = 1000;
    Netpulse__WorkerMsg m = NETPULSE__WORKER_MSG__INIT;
    m.worker_id = "w";
    m.body_case = NETPULSE__WORKER_MSG__BODY_PARTIAL;
    m.partial = &p;
    uint8_t buf[128];
    *raw_len = netpulse__worker_msg__pack(&m, buf);
    return np_pbatch_unpack(b, buf, *raw_len);
}

typedef struct acks {
    int calls;
    char peer[4][8];
    size_t n[4];
    int32_t part[4][8];
    int64_t start[4][8];
} acks_t;

static void ack_cb(void *ctx, const uint8_t *peer, size_t peer_len, Netpulse__PartialId **ids, size_t n) {
    acks_t *a = ctx;
    assert_true(a->calls < 4 && n <= 8 && peer_len < 8);
    memcpy(a->peer[a->calls], peer, peer_len);
    a->n[a->calls] = n;
    for (size_t i = 0; i < n; i++) {
        a->part[a->calls][i] = ids[i]->partition;
        a->start[a->calls][i] = ids[i]->pane_start_ms;
    }
    a->calls++;
}

static np_pbatch_item_t *add(np_pbatch_t *b, const char *peer, int32_t partition, int64_t start) {
    size_t len;
    Netpulse__WorkerMsg *m = partial(b, partition, start, &len);
    assert_non_null(m);
    np_pbatch_item_t *e = np_pbatch_add(b, (const uint8_t *)peer, strlen(peer), m, len);
    if (!e) np_pbatch_release(b);
    return e;
}

static void test_acks_one_message_per_worker(void **st) {
    (void)st;
    np_pbatch_t *b = np_pbatch_new(8, 1 << 20);
    assert_non_null(b);
    assert_false(add(b, "A", 1, 5000)->repeat);
    assert_false(add(b, "B", 2, 5000)->repeat);
    assert_false(add(b, "A", 3, 5000)->repeat);
    assert_false(add(b, "A", 1, 10000)->repeat); /* another pane */
    assert_true(add(b, "A", 3, 5000)->repeat);   /* a re-send within the batch */
    assert_false(add(b, "C", 4, 5000)->repeat);
    assert_int_equal(np_pbatch_len(b), 6);
    for (size_t i = 0; i < 6; i++) np_pbatch_at(b, i)->ack = true;
    np_pbatch_at(b, 5)->ack = false; /* not settled (no room): no acknowledgement */
    acks_t a = {0};
    np_pbatch_acks(b, ack_cb, &a);
    assert_int_equal(a.calls, 2);
    assert_string_equal(a.peer[0], "A");
    assert_int_equal(a.n[0], 4);
    int32_t want_part[] = {1, 3, 1, 3};
    int64_t want_start[] = {5000, 5000, 10000, 5000};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(a.part[0][i], want_part[i]);
        assert_int_equal(a.start[0][i], want_start[i]);
    }
    assert_string_equal(a.peer[1], "B");
    assert_int_equal(a.n[1], 1);
    assert_int_equal(a.part[1][0], 2);
    np_pbatch_clear(b);
    assert_int_equal(np_pbatch_len(b), 0);
    assert_null(np_pbatch_at(b, 0));
    memset(&a, 0, sizeof(a));
    np_pbatch_acks(b, ack_cb, &a);
    assert_int_equal(a.calls, 0);
    assert_non_null(add(b, "A", 3, 5000)); /* cleared: no longer a repeat */
    assert_false(np_pbatch_at(b, 0)->repeat);
    np_pbatch_destroy(&b); /* frees what it holds */
    assert_null(b);
}

static void test_bounds(void **st) {
    (void)st;
    assert_null(np_pbatch_new(0, 100));
    np_pbatch_t *b = np_pbatch_new(3, 1 << 20);
    add(b, "A", 1, 0);
    assert_false(np_pbatch_full(b));
    add(b, "A", 2, 0);
    add(b, "A", 3, 0);
    assert_true(np_pbatch_full(b));
    assert_null(add(b, "A", 4, 0)); /* full: not taken */
    np_pbatch_drop_last(b);
    assert_int_equal(np_pbatch_len(b), 2);
    assert_false(np_pbatch_full(b));
    np_pbatch_destroy(&b);
    /* by bytes: the partial that reaches max_bytes closes the batch */
    size_t len;
    b = np_pbatch_new(100, 1 << 20);
    assert_non_null(partial(b, 1, 0, &len));
    np_pbatch_release(b);
    np_pbatch_destroy(&b);
    b = np_pbatch_new(100, 2 * len);
    add(b, "A", 1, 0);
    assert_false(np_pbatch_full(b));
    add(b, "A", 2, 0);
    assert_true(np_pbatch_full(b));
    np_pbatch_drop_last(b);
    assert_false(np_pbatch_full(b));
    char long_peer[300];
    memset(long_peer, 'x', sizeof(long_peer) - 1);
    long_peer[sizeof(long_peer) - 1] = '\0';
    assert_null(add(b, long_peer, 9, 0)); /* a routing id is at most 255 bytes */
    np_pbatch_destroy(&b);
}

/* Messages live in the arena: one not added is given back (release, or the next unpack),
 * a dropped item's too; a clear gives back everything, and a steady state of drains of the
 * same size allocates nothing. */
static void test_arena(void **st) {
    (void)st;
    np_pbatch_t *b = np_pbatch_new(64, 1 << 20);
    size_t len;
    assert_non_null(add(b, "A", 1, 0));
    size_t one = np_pbatch_arena_used(b);
    assert_true(one > 0);
    assert_non_null(partial(b, 2, 0, &len)); /* decoded, not added (a progress, a refusal) */
    assert_true(np_pbatch_arena_used(b) > one);
    np_pbatch_release(b);
    assert_int_equal(np_pbatch_arena_used(b), one);
    assert_non_null(partial(b, 2, 0, &len));
    assert_non_null(partial(b, 3, 0, &len)); /* the next unpack gives back the one before */
    assert_int_equal(np_pbatch_arena_used(b), 2 * one);
    np_pbatch_release(b);
    assert_non_null(add(b, "A", 2, 0));
    np_pbatch_drop_last(b);
    assert_int_equal(np_pbatch_arena_used(b), one);
    assert_int_equal(np_pbatch_at(b, 0)->m->partial->partition, 1); /* still readable */
    uint8_t junk[4] = {0xff, 0xff, 0xff, 0xff};
    assert_null(np_pbatch_unpack(b, junk, sizeof(junk))); /* not a WorkerMsg: nothing kept */
    assert_int_equal(np_pbatch_arena_used(b), one);
    np_pbatch_clear(b);
    assert_int_equal(np_pbatch_arena_used(b), 0);
    uint64_t mallocs = 0;
    for (int round = 0; round < 6; round++) {
        if (round == 2) mallocs = np_pbatch_arena_mallocs(b);
        for (int32_t i = 0; i < 64; i++) assert_non_null(add(b, "A", i, 0));
        np_pbatch_clear(b);
    }
    assert_int_equal(np_pbatch_arena_mallocs(b), mallocs);
    np_pbatch_destroy(&b);
}

/* Many partials and peers: repeats and acknowledgements as a pairwise scan finds them. */
static int big_calls;
static size_t big_total;
static void big_cb(void *ctx, const uint8_t *peer, size_t peer_len, Netpulse__PartialId **ids, size_t n) {
    (void)ctx;
    assert_int_equal(peer_len, 3);
    int w = (peer[1] - '0') * 10 + (peer[2] - '0');
    assert_int_equal(w, big_calls); /* peers in the order of their first item */
    size_t k = 0; /* this peer's acknowledged items in arrival order, as test_many adds them */
    for (int32_t i = 0; i < 1000; i++) {
        int32_t part = i < 600 ? i : i - 400;
        if (part % 16 != w || !(i < 16 || i % 7 != 0)) continue;
        assert_true(k < n);
        assert_int_equal(ids[k++]->partition, part);
    }
    assert_int_equal(k, n);
    big_calls++;
    big_total += n;
}

static void test_many(void **st) {
    (void)st;
    enum { MAX = 1000 };
    np_pbatch_t *b = np_pbatch_new(MAX, 1 << 30);
    size_t acked = 0;
    for (int32_t i = 0; i < MAX; i++) {
        /* partitions 0..599 of pane 0, then 400 re-sends of partitions 200..599 */
        int32_t part = i < 600 ? i : i - 400;
        char peer[4];
        snprintf(peer, sizeof(peer), "w%02d", part % 16);
        np_pbatch_item_t *e = add(b, peer, part, 0);
        assert_non_null(e);
        assert_int_equal(e->repeat, i >= 600);
        e->ack = i < 16 || i % 7 != 0;
        acked += e->ack;
    }
    assert_true(np_pbatch_full(b));
    np_pbatch_acks(b, big_cb, NULL);
    assert_int_equal(big_calls, 16);
    assert_int_equal(big_total, acked);
    np_pbatch_clear(b);
    assert_false(add(b, "w00", 5, 0)->repeat); /* the tables are empty again */
    assert_true(add(b, "w00", 5, 0)->repeat);
    np_pbatch_destroy(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acks_one_message_per_worker),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
