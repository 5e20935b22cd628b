/* Unit tests for np_budget (the coordinator's worst-case memory) and the per-module bounds
 * it adds up: each bound is held against what the module really allocates at its cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_arena.h"
#include "np_budget.h"
#include "np_coordstore.h"
#include "np_pbatch.h"
#include "np_partial.h"
#include "np_result.h"
#include "np_srcmap.h"
#include "np_vhll.h"
#include "np_asan.h"
#include "test_ip4.h"

/* A source table at its cap and past it (evicting: the heap exists) stays within its bound,
 * and the bound is not loose (within 25 % of what a full table really holds). */
static void test_srcmap_bound_holds_and_is_tight(void **s) {
    (void)s;
    const size_t caps[] = {1, 31, 1000, 4097, 65536};
    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
        np_srcmap_t *m = np_srcmap_new(caps[c], NULL);
        assert_non_null(m);
        for (uint32_t i = 0; i < 2 * caps[c] + 10; i++) {
            np_ip_t ip = ip4(0x0a000000u + i);
            np_srcmap_add(m, &ip, 1 + i % 7, 100, 1);
        }
        size_t used = np_srcmap_memory_bytes(m), bound = np_srcmap_bound_bytes(caps[c], false);
        assert_true(np_srcmap_evicted(m) > 0);
        assert_true(used <= bound);
        assert_true(bound <= used + used / 4);
        assert_true(np_srcmap_bound_bytes(caps[c], true) > bound);
        np_srcmap_destroy(&m);
    }
}

static np_merge_config_t merge_cfg(size_t panes, size_t sources) {
    return (np_merge_config_t){.pane_ms = 5000, .max_panes = panes, .max_sources = sources, .max_dests = sources,
                               .max_empty_run = 720, .window_ms = 60000, .max_class_dests = 1024,
                               .fanin_registers = 1u << 18, .fanin_s = 256};
}

static np_budget_config_t budget_cfg(const np_merge_config_t *m, const np_detect_config_t *d) {
    return (np_budget_config_t){.merge = m, .detect = d, .hll_blocks = 65536, .hll_p = 10, .outbox_max = 4096,
                                .views_top = 10, .persist = true, .owners = true, .max_message_bytes = 1 << 20,
                                .rcvhwm = 100};
}

/* The group commit holds a batch of accepted partials: up to persist.batch.bytes plus one
 * message, or persist.batch.max messages, whichever is less; unpacked, and with Redis on
 * also staged and formatted, and a second batch decoded (the one sent, which Redis
 * applies while the next fills). */
static void test_group_commit_batch(void **s) {
    (void)s;
    np_merge_config_t m = merge_cfg(16, 10000);
    np_budget_config_t c = budget_cfg(&m, NULL);
    np_budget_t none, by_bytes, by_count, no_redis;
    np_budget_compute(&c, &none);
    c.batch_max = 256;
    c.batch_bytes = 8 << 20;
    np_budget_compute(&c, &by_bytes);
    uint64_t held = (8 << 20) + (1 << 20), one = 1 << 20;
    /* decoded in the arena (with the message in hand), staged, hiredis's formatted
     * command and output buffer; the arrays */
#define ARENA(use) np_arena_bound_bytes(NP_PBATCH_ARENA_BLOCK, (use) * NP_BUDGET_UNPACK_FACTOR)
    uint64_t arrays = 2 * np_pbatch_bound_bytes(256) + np_coordstore_stage_bound_bytes(256);
    assert_true(np_pbatch_bound_bytes(256) > 256 * sizeof(np_pbatch_item_t));
    assert_int_equal(none.part[NP_BUDGET_MESSAGE], one + ARENA(one));
    assert_int_equal(by_bytes.part[NP_BUDGET_MESSAGE] - none.part[NP_BUDGET_MESSAGE],
                     2 * ARENA(held + one) - ARENA(one) + held * 3 + arrays);
    assert_int_equal(by_bytes.total - none.total, 2 * ARENA(held + one) - ARENA(one) + held * 3 + arrays);
    c.batch_max = 4;
    np_budget_compute(&c, &by_count);
    assert_int_equal(by_count.part[NP_BUDGET_MESSAGE] - none.part[NP_BUDGET_MESSAGE],
                     2 * ARENA(5 * one) - ARENA(one) + (uint64_t)(4 << 20) * 3 + 2 * np_pbatch_bound_bytes(4) +
                         np_coordstore_stage_bound_bytes(4));
    c.persist = false;
    np_budget_compute(&c, &no_redis);
    assert_int_equal(no_redis.part[NP_BUDGET_MESSAGE] - none.part[NP_BUDGET_MESSAGE],
                     ARENA(5 * one) - ARENA(one) + np_pbatch_bound_bytes(4));
#undef ARENA
}

/* The total is the sum of its parts, and each pane table scales with what sets it. */
static void test_parts_add_up_and_scale_with_caps(void **s) {
    (void)s;
    np_detect_config_t dc;
    np_detect_config_default(&dc, 5000);
    np_merge_config_t m1 = merge_cfg(16, 10000), m2 = merge_cfg(32, 10000), m3 = merge_cfg(16, 20000);
    np_budget_config_t c1 = budget_cfg(&m1, &dc), c2 = budget_cfg(&m2, &dc), c3 = budget_cfg(&m3, &dc);
    np_budget_t b1, b2, b3;
    np_budget_compute(&c1, &b1);
    np_budget_compute(&c2, &b2);
    np_budget_compute(&c3, &b3);
    uint64_t sum = 0;
    for (int i = 0; i < NP_BUDGET__COUNT; i++) sum += b1.part[i];
    assert_int_equal(sum, b1.total);
    assert_int_equal(b1.part[NP_BUDGET_PANE_SOURCES], 16 * np_srcmap_bound_bytes(10000, false));
    assert_int_equal(b2.part[NP_BUDGET_PANE_SOURCES], 2 * b1.part[NP_BUDGET_PANE_SOURCES]);
    assert_int_equal(b2.part[NP_BUDGET_PANE_DESTS], 2 * b1.part[NP_BUDGET_PANE_DESTS]);
    assert_int_equal(b1.part[NP_BUDGET_PANE_FANIN], 16 * np_vhll_bound_bytes(1u << 18));
    assert_int_equal(b2.part[NP_BUDGET_PANE_FANIN], 2 * b1.part[NP_BUDGET_PANE_FANIN]);
    assert_int_equal(b3.part[NP_BUDGET_PANE_FANIN], b1.part[NP_BUDGET_PANE_FANIN]); /* fixed in the sources */
    assert_true(b3.part[NP_BUDGET_PANE_SOURCES] > b1.part[NP_BUDGET_PANE_SOURCES]);
    assert_true(b3.part[NP_BUDGET_WINDOW] > b1.part[NP_BUDGET_WINDOW]);
    assert_int_equal(b1.part[NP_BUDGET_HLL_POOL], (uint64_t)65536 << 10);
    /* Nothing to encode or restore without Redis; no detector state without detection;
     * no window tables for tumbling windows only. */
    c1.persist = false;
    c1.detect = NULL;
    m1.window_ms = 5000;
    np_budget_compute(&c1, &b1);
    assert_int_equal(b1.part[NP_BUDGET_ENCODER], 0);
    assert_int_equal(b1.part[NP_BUDGET_REDIS_TXN], 0);
    assert_int_equal(b1.part[NP_BUDGET_DETECT], 0);
    assert_int_equal(b1.part[NP_BUDGET_WINDOW], 0);
    assert_int_equal(b1.part[NP_BUDGET_PANE_WINDOW_TOP], 0);
}

/* The fan-in pool's bound against what it really allocates, filled (glibc's mallinfo2:
 * heap and mmapped blocks), for several sizes: at least what is used, within a page. */
static void test_fanin_bound_holds(void **s) {
    (void)s;
#ifdef NP_ASAN
    skip(); /* mallinfo2 does not see ASan's allocator */
#endif
    const size_t sizes[] = {1u << 10, 1u << 14, 1u << 18, 1u << 20};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct mallinfo2 before = mallinfo2();
        np_vhll_t *v = np_vhll_new(sizes[i], 64, NULL, 0);
        assert_non_null(v);
        for (uint32_t k = 0; k < 4 * sizes[i]; k++) {
            np_ip_t d = ip4(0x0a000000u + k % 1000);
            np_vhll_add(v, &d, np_hll_hash(&k, sizeof(k)));
        }
        struct mallinfo2 after = mallinfo2();
        size_t used = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);
        size_t bound = np_vhll_bound_bytes(sizes[i]);
        assert_true(used >= sizes[i]);
        assert_true(used <= bound + 4096); /* malloc's headers and page rounding */
        assert_true(bound <= used + 64);
        np_vhll_destroy(&v);
    }
}

/* Over budget: refused, naming the key and the figure; 0 = report only. */
static void test_check_names_key_and_figure(void **s) {
    (void)s;
    np_merge_config_t m = merge_cfg(256, 1048576);
    np_budget_config_t c = budget_cfg(&m, NULL);
    np_budget_t b;
    np_budget_compute(&c, &b);
    char err[512], fig[32];
    assert_int_equal(np_budget_check(&b, 0, err, sizeof(err)), 0);
    assert_int_equal(np_budget_check(&b, b.total, err, sizeof(err)), 0);
    assert_int_equal(np_budget_check(&b, b.total - 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "memory.budget.mb"));
    assert_non_null(strstr(err, "max.open.panes x max.sources.per.pane"));
    snprintf(fig, sizeof(fig), "%llu bytes", (unsigned long long)b.total);
    assert_non_null(strstr(err, fig));
    /* Today's defaults: tens of GB and more. */
    assert_true(b.total > ((uint64_t)40 << 30));
    char line[1024];
    size_t n = np_budget_format(&b, line, sizeof(line));
    assert_true(n < sizeof(line));
    assert_non_null(strstr(line, "pane_sources="));
    assert_non_null(strstr(line, "total="));
    /* libzmq's queue is reported beside the total, not in it */
    assert_int_equal(b.zmq_queue_per_peer, (uint64_t)100 << 20);
    assert_non_null(strstr(line, "zmq_queue_per_worker=104857600"));
}

/* The longest results fit NP_RESULT_JSON_MAX, which the outbox's bound assumes. */
static void test_result_json_max(void **s) {
    (void)s;
    np_gpane_t g;
    memset(&g, 0, sizeof(g));
    g.start_ms = INT64_MAX / 2;
    g.records = g.bytes = g.packets = g.late_records = g.sources_evicted = UINT64_MAX;
    g.nsources = UINT64_MAX;
    g.partitions = UINT32_MAX;
    g.bounded = g.sources_lower_bound = true;
    for (int i = 0; i < NP_PMIX__COUNT; i++) g.pmix[i] = UINT64_MAX;
    for (int k = 0; k < NP_KDD_NCLASSES; k++) g.class_total.n[k] = UINT64_MAX / NP_KDD_NCLASSES;
    g.sources = np_srcmap_new(64, NULL);
    for (int i = 0; i < 20; i++) {
        np_ip_t ip;
        memset(ip.b, 0xfe, 16);
        ip.b[15] = (uint8_t)i;
        ip.b[1] = (uint8_t)(i * 7 + 1);
        np_srcmap_add(g.sources, &ip, UINT64_MAX / 32, UINT64_MAX / 32, UINT64_MAX / 32);
    }
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    char id[NP_RESULT_ID_MAX];
    np_result_window_json(&sb, &g, INT64_MAX / 4, id, sizeof(id));
    assert_true(sb.len > 1000 && sb.len <= NP_RESULT_JSON_MAX);
    np_srcmap_destroy(&g.sources);
    np_anomaly_t a;
    memset(&a, 0, sizeof(a));
    a.kind = NP_AN_INTRUSION;
    memset(a.entity, '"', sizeof(a.entity) - 1); /* every character escaped */
    memset(a.metric, '\\', sizeof(a.metric) - 1);
    memset(a.explanation, 1, sizeof(a.explanation) - 1); /* \u0001: six bytes each */
    a.observed = a.expected = a.score = -1.2345e300;
    a.window_start = a.window_end = INT64_MIN;
    for (int k = 0; k < NP_KDD_NCLASSES; k++) a.class_counts[k] = UINT64_MAX;
    np_strbuf_reset(&sb);
    np_result_anomaly_json(&sb, &a, id, sizeof(id));
    assert_true(sb.len > 1500 && sb.len <= NP_RESULT_JSON_MAX);
    np_strbuf_free(&sb);
}

/* protobuf-c allocator that counts what an unpacked message holds through malloc (with
 * its 16-byte chunk header, rounded to 16): what decoding cost before the arena. */
static size_t counted;
static void *count_alloc(void *ud, size_t n) {
    (void)ud;
    counted += (n + 16 + 15) / 16 * 16;
    return malloc(n);
}
static void count_free(void *ud, void *p) {
    (void)ud;
    free(p);
}

/* The densest partial a worker sends (one record per source) takes at most
 * NP_BUDGET_UNPACK_FACTOR times its wire size in the coordinator's arena, which holds
 * within np_arena_bound_bytes of that; a batch of them too. With sketches (whole tables)
 * and without (bounded partials' destinations: counters only, the fan-in in the pool),
 * which is denser: 4.24x and 5.25x measured with np_wmsg (5.25x and 6.39x with protobuf-c
 * into the arena). */
static void unpack_factor(size_t sk_len) {
    enum { N = 20000 };
    Netpulse__SourceAgg *aggs = calloc(N, sizeof(*aggs)), **ptrs = calloc(N, sizeof(*ptrs));
    np_ip_t *ips = calloc(N, sizeof(*ips));
    uint32_t pmix[NP_PMIX__COUNT] = {1, 0, 0, 0};
    uint8_t sk[3] = {NP_HLL_FORMAT_VERSION, 0, 0}; /* an empty exact sketch */
    assert_non_null(aggs);
    for (size_t i = 0; i < N; i++) {
        netpulse__source_agg__init(&aggs[i]);
        ips[i] = ip4(0x0a000000u + (uint32_t)i);
        aggs[i].ip.data = ips[i].b;
        aggs[i].ip.len = 16;
        aggs[i].records = aggs[i].packets = 1;
        aggs[i].bytes = 40;
        aggs[i].n_protocol_records = NP_PMIX__COUNT;
        aggs[i].protocol_records = pmix;
        aggs[i].dst_ips.data = aggs[i].dst_ports.data = sk;
        aggs[i].dst_ips.len = aggs[i].dst_ports.len = sk_len;
        ptrs[i] = &aggs[i];
    }
    Netpulse__Partial p = NETPULSE__PARTIAL__INIT;
    p.pane_ms = 5000;
    p.n_sources = p.n_dests = N;
    p.sources = p.dests = ptrs;
    Netpulse__WorkerMsg msg = NETPULSE__WORKER_MSG__INIT;
    msg.worker_id = (char *)"w";
    msg.body_case = NETPULSE__WORKER_MSG__BODY_PARTIAL;
    msg.partial = &p;
    size_t len = netpulse__worker_msg__get_packed_size(&msg);
    uint8_t *buf = malloc(len);
    netpulse__worker_msg__pack(&msg, buf);
    ProtobufCAllocator al = {count_alloc, count_free, NULL};
    counted = 0;
    Netpulse__WorkerMsg *u = netpulse__worker_msg__unpack(&al, len, buf);
    assert_non_null(u);
    assert_int_equal(u->partial->n_sources, N);
    printf("through malloc: %zu bytes from %zu on the wire: %.2fx\n", counted, len, (double)counted / (double)len);
    netpulse__worker_msg__free_unpacked(u, &al);
    np_pbatch_t *b = np_pbatch_new(4, 1 << 30);
    assert_non_null(b);
    for (int k = 1; k <= 3; k++) { /* one message, then a batch of three */
        u = np_pbatch_unpack(b, buf, len);
        assert_non_null(u);
        assert_int_equal(u->partial->n_sources, N);
        assert_non_null(np_pbatch_add(b, (const uint8_t *)"w", 1, u, len));
        double factor = (double)np_pbatch_arena_used(b) / (double)(k * len);
        printf("arena: %zu bytes in use, %zu held, for %d x %zu on the wire: %.2fx\n", np_pbatch_arena_used(b),
               np_pbatch_arena_held(b), k, len, factor);
        assert_true(factor > 1.0 && factor <= NP_BUDGET_UNPACK_FACTOR);
        assert_true(np_pbatch_arena_held(b) <=
                    np_arena_bound_bytes(NP_PBATCH_ARENA_BLOCK, (uint64_t)k * len * NP_BUDGET_UNPACK_FACTOR));
    }
    np_pbatch_clear(b); /* one block for the three now: still within the bound */
    assert_true(np_pbatch_arena_held(b) <= np_arena_bound_bytes(NP_PBATCH_ARENA_BLOCK, 3 * len * NP_BUDGET_UNPACK_FACTOR));
    np_pbatch_destroy(&b);
    free(buf);
    free(aggs);
    free(ptrs);
    free(ips);
}

static void test_unpack_factor(void **s) {
    (void)s;
    unpack_factor(3); /* an empty exact sketch */
    unpack_factor(0); /* no sketch */
}

/* Encoding a final pane whose source table is at its cap stays within the encoder's
 * bound, and the message within the wire bound. */
static void test_gpane_encoder_bound(void **s) {
    (void)s;
    enum { MAX = 5000 };
    np_hll_pool_t *pool = np_hll_pool_new(10, 256);
    np_gpane_t g;
    memset(&g, 0, sizeof(g));
    g.start_ms = 0;
    g.sources = np_srcmap_new(MAX, pool);
    for (uint32_t i = 0; i < 2 * MAX; i++) {
        np_record_t r;
        memset(&r, 0, sizeof(r));
        r.src = ip4(0x0a000000u + i % (MAX + 100));
        r.dst = ip4(0xc0a80000u + i * 13);
        r.dst_port = (uint16_t)(i * 7);
        r.proto = 6;
        r.packets = 1;
        r.bytes = 100;
        np_srcmap_add_record(g.sources, &r);
    }
    np_partial_enc_t e;
    np_partial_enc_init(&e);
    const uint8_t *out;
    size_t len;
    assert_int_equal(np_partial_encode_gpane(&e, &g, 5000, &out, &len), 0);
    size_t held = e.src.cap * (sizeof(*e.src.aggs) + sizeof(*e.src.ptrs)) + e.src.pmix_cap * sizeof(uint32_t) +
                  e.src.sketches_cap + e.buf_cap;
    assert_true(len <= np_partial_gpane_wire_bound_bytes(MAX, 256, 10));
    assert_true(held <= np_partial_gpane_enc_bound_bytes(MAX, 256, 10));
    np_partial_enc_free(&e);
    np_srcmap_destroy(&g.sources);
    np_hll_pool_destroy(&pool);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_srcmap_bound_holds_and_is_tight),
        cmocka_unit_test(test_fanin_bound_holds),
        cmocka_unit_test(test_parts_add_up_and_scale_with_caps),
        cmocka_unit_test(test_group_commit_batch),
        cmocka_unit_test(test_check_names_key_and_figure),
        cmocka_unit_test(test_result_json_max),
        cmocka_unit_test(test_unpack_factor),
        cmocka_unit_test(test_gpane_encoder_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
