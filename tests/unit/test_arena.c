/* Unit tests for np_arena (the bump allocator behind the coordinator's decoding). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "netpulse.pb-c.h"
#include "np_arena.h"

#include "np_asan.h"
#ifdef NP_ASAN
#include <sanitizer/asan_interface.h>
#endif

static void test_alloc_rewind_reset(void **st) {
    (void)st;
    np_arena_t *a = np_arena_new(4096);
    assert_non_null(a);
    assert_int_equal(np_arena_used(a), 0);
    assert_int_equal(np_arena_mallocs(a), 0); /* nothing before the first allocation */
    np_arena_mark_t empty = np_arena_mark(a);
    char *p = np_arena_alloc(a, 3), *q = np_arena_alloc(a, 10);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % NP_ARENA_ALIGN, 0);
    assert_int_equal((uintptr_t)q % NP_ARENA_ALIGN, 0);
    assert_true(q >= p + 3);
    assert_int_equal(np_arena_used(a), 8 + 16); /* rounded to NP_ARENA_ALIGN */
    assert_non_null(np_arena_alloc(a, 0));       /* a valid pointer, as malloc(0) */
    memset(q, 'q', 10);
    np_arena_mark_t m = np_arena_mark(a);
    size_t used = np_arena_used(a);
    char *r = np_arena_alloc(a, 100);
    char *big = np_arena_alloc(a, 10000); /* larger than a block: a block of its own */
    assert_non_null(r);
    assert_non_null(big);
    memset(big, 'b', 10000);
    assert_int_equal(np_arena_mallocs(a), 2);
    np_arena_rewind(a, m); /* gives back r and big, keeps q */
    assert_int_equal(np_arena_used(a), used);
#ifdef NP_ASAN
    assert_true(__asan_address_is_poisoned(r)); /* a use after the rewind is reported */
    assert_false(__asan_address_is_poisoned(q + 9));
#endif
    assert_int_equal(q[9], 'q');
    assert_ptr_equal(np_arena_alloc(a, 100), r); /* the same memory again */
    size_t held = np_arena_held(a);
    np_arena_rewind(a, empty); /* before the first block: every block goes */
    assert_int_equal(np_arena_used(a), 0);
    assert_true(np_arena_held(a) < held - 4096);
    assert_non_null(np_arena_alloc(a, 3));
    assert_int_equal(np_arena_used(a), 8);
    np_arena_destroy(&a);
    assert_null(a);
    np_arena_destroy(&a); /* NULL: nothing */
}

/* Rounds that use the same amount allocate nothing once the arena has grown to it. */
static void test_steady_state_allocates_nothing(void **st) {
    (void)st;
    np_arena_t *a = np_arena_new(4096);
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 1000; i++) assert_non_null(np_arena_alloc(a, 24 + (size_t)i % 100));
        np_arena_reset(a);
    }
    uint64_t after_growth = np_arena_mallocs(a);
    assert_true(after_growth > 1);
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 1000; i++) assert_non_null(np_arena_alloc(a, 24 + (size_t)i % 100));
        np_arena_reset(a);
    }
    assert_int_equal(np_arena_mallocs(a), after_growth);
    np_arena_destroy(&a);
}

/* What it holds stays within np_arena_bound_bytes for its peak use, also for sizes that
 * waste the most (just over half a block, so each leaves the rest of a block unused). */
static void test_bound(void **st) {
    (void)st;
    const size_t sizes[] = {8, 100, 2049, 4000, 4097, 9000, 50000};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        np_arena_t *a = np_arena_new(4096);
        size_t peak = 0, held = 0;
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 200; i++) {
                assert_non_null(np_arena_alloc(a, sizes[s] + (size_t)(i % 3)));
                if (np_arena_used(a) > peak) peak = np_arena_used(a);
                if (np_arena_held(a) > held) held = np_arena_held(a);
                assert_true(np_arena_held(a) <= np_arena_bound_bytes(4096, peak));
            }
            np_arena_reset(a);
            assert_true(np_arena_held(a) <= np_arena_bound_bytes(4096, peak));
        }
        /* the bound is not loose by orders of magnitude */
        assert_true(np_arena_bound_bytes(4096, peak) < 3 * held + 8192);
        np_arena_destroy(&a);
    }
}

/* protobuf-c unpacks into the arena; free_unpacked frees nothing; a rewind gives it back. */
static void test_protobuf(void **st) {
    (void)st;
    Netpulse__Partial p = NETPULSE__PARTIAL__INIT;
    p.partition = 7;
    p.pane_start_ms = 5000;
    Netpulse__WorkerMsg m = NETPULSE__WORKER_MSG__INIT;
    m.worker_id = "worker-1";
    m.body_case = NETPULSE__WORKER_MSG__BODY_PARTIAL;
    m.partial = &p;
    uint8_t buf[256];
    size_t len = netpulse__worker_msg__pack(&m, buf);
    np_arena_t *a = np_arena_new(4096);
    np_arena_mark_t mk = np_arena_mark(a);
    Netpulse__WorkerMsg *u = netpulse__worker_msg__unpack(np_arena_protobuf(a), len, buf);
    assert_non_null(u);
    assert_string_equal(u->worker_id, "worker-1");
    assert_int_equal(u->partial->partition, 7);
    assert_true(np_arena_used(a) > 0);
    netpulse__worker_msg__free_unpacked(u, np_arena_protobuf(a)); /* no-op */
    assert_int_equal(u->partial->pane_start_ms, 5000);
    np_arena_rewind(a, mk);
    assert_int_equal(np_arena_used(a), 0);
    /* damaged bytes: unpack fails, what it took is given back by the rewind */
    buf[1] = 0xff;
    assert_null(netpulse__worker_msg__unpack(np_arena_protobuf(a), len, buf));
    np_arena_rewind(a, mk);
    assert_int_equal(np_arena_used(a), 0);
    np_arena_destroy(&a);
}

/* A large message decoded and given back (a rewind: refused before the owner check) does
 * not size the block a reset keeps: only what was in use at the reset does. */
static void test_rewound_peak_not_kept(void **st) {
    (void)st;
    np_arena_t *a = np_arena_new(4096);
    assert_non_null(a);
    np_arena_mark_t m = np_arena_mark(a);
    assert_non_null(np_arena_alloc(a, 1 << 20));
    np_arena_rewind(a, m);
    for (int i = 0; i < 3; i++) assert_non_null(np_arena_alloc(a, 3000)); /* two blocks */
    np_arena_reset(a);
    assert_true(np_arena_held(a) < 64 * 1024); /* 1 MiB kept before */
    np_arena_destroy(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_rewind_reset), cmocka_unit_test(test_rewound_peak_not_kept),
        cmocka_unit_test(test_steady_state_allocates_nothing),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_protobuf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
