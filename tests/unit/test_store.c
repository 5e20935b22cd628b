/* Unit tests for np_store's fenced writes and np_ckpt_store against a real redis-server
 * (started here on a free port, as hiredis tests itself; skipped when there is none): the
 * single-key fenced set and the multi-part fenced write of incremental checkpoints, whose
 * Lua script must write every part or none, refuse a zombie's epoch, and refuse an append
 * to a part that is not the length its writer believes; a checkpoint written, read back
 * and moved aside with its parts, and only by the holder of the partition's epoch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "np_ckpt_store.h"
#include "np_store.h"
#include "redis_server.h"

static redis_server_t R; /* redis_server.h: its own port, no output on the test's pipe, dies with the test */
static np_store_t *st;

static char *get(const char *key, size_t *len) {
    uint8_t *v = NULL;
    char err[256];
    int rc = np_store_get(st, key, &v, len, err, sizeof(err));
    assert_true(rc >= 0);
    return (char *)v;
}

static void expect(const char *key, const char *val) {
    size_t len = 0;
    char *v = get(key, &len);
    if (!val) {
        assert_null(v);
        return;
    }
    assert_non_null(v);
    assert_int_equal(len, strlen(val));
    assert_memory_equal(v, val, len);
    free(v);
}

static void count_key(void *ctx, const char *k, size_t klen, const char *v, size_t vlen) {
    (void)k;
    (void)klen;
    (void)v;
    (void)vlen;
    (*(size_t *)ctx)++;
}

static void test_fenced_write(void **s) {
    (void)s;
    if (!st) skip();
    char err[256];
    int64_t epoch;
    const char *ek = "t:epoch:{g/t/0}", *hk = "t:ckpt:{g/t/0}", *pa = "t:ckpt:{g/t/0}:pane:0",
               *pb = "t:ckpt:{g/t/0}:out:0";
    assert_int_equal(np_store_incr(st, ek, &epoch, err, sizeof(err)), 0);
    np_store_part_t p1[] = {{pa, 'S', 0, (const uint8_t *)"abc", 3}, {pb, 'S', 0, (const uint8_t *)"x", 1}};
    assert_int_equal(np_store_fenced_write(st, ek, epoch, hk, (const uint8_t *)"h1", 2, p1, 2, err, sizeof(err)), 0);
    expect(hk, "h1");
    expect(pa, "abc");
    expect(pb, "x");
    /* Append after a length check; delete. */
    np_store_part_t p2[] = {{pa, 'A', 3, (const uint8_t *)"de", 2}, {pb, 'D', 0, NULL, 0}};
    assert_int_equal(np_store_fenced_write(st, ek, epoch, hk, (const uint8_t *)"h2", 2, p2, 2, err, sizeof(err)), 0);
    expect(hk, "h2");
    expect(pa, "abcde");
    expect(pb, NULL);
    /* The same append again (a re-sent call that was applied): refused, nothing written. */
    np_store_part_t p3[] = {{pb, 'S', 0, (const uint8_t *)"y", 1}, {pa, 'A', 3, (const uint8_t *)"de", 2}};
    assert_int_equal(np_store_fenced_write(st, ek, epoch, hk, (const uint8_t *)"h3", 2, p3, 2, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "pane:0"));
    expect(hk, "h2");
    expect(pa, "abcde");
    expect(pb, NULL);
    /* A new owner: the old epoch writes nothing, not even the parts. */
    int64_t e2;
    assert_int_equal(np_store_incr(st, ek, &e2, err, sizeof(err)), 0);
    np_store_part_t p4[] = {{pa, 'S', 0, (const uint8_t *)"zombie", 6}, {pb, 'S', 0, (const uint8_t *)"z", 1}};
    assert_int_equal(np_store_fenced_write(st, ek, epoch, hk, (const uint8_t *)"hz", 2, p4, 2, err, sizeof(err)), 1);
    expect(hk, "h2");
    expect(pa, "abcde");
    expect(pb, NULL);
    assert_int_equal(np_store_fenced_set(st, ek, hk, epoch, (const uint8_t *)"hz", 2, err, sizeof(err)), 1);
    assert_int_equal(np_store_fenced_write(st, ek, e2, hk, (const uint8_t *)"h4", 2, NULL, 0, err, sizeof(err)), 0);
    expect(hk, "h4");
}

static int count_keys(const char *pattern) {
    char err[256];
    size_t n = 0;
    assert_int_equal(np_store_scan(st, pattern, 1000, count_key, &n, err, sizeof(err)), 0);
    return (int)n;
}

static void test_ckpt_store(void **s) {
    (void)s;
    if (!st) skip();
    char err[256];
    const char *ek = "netpulse:epoch:{g/t/3}", *hk = "netpulse:ckpt:{g/t/3}";
    np_hll_pool_t *pool = np_hll_pool_new(NP_HLL_P_DEFAULT, 256);
    np_pane_config_t cfg = {.pane_ms = 5000, .lateness_ms = 2000, .max_open_panes = 4, .max_sources = 256,
                            .max_dests = 256, .pool = pool};
    np_partstate_t *ps = np_partstate_new(3, &cfg);
    np_record_t r;
    memset(&r, 0, sizeof(r));
    r.src.b[10] = r.src.b[11] = r.dst.b[10] = r.dst.b[11] = 0xff;
    r.bytes = 10;
    r.packets = 1;
    int64_t epoch;
    assert_int_equal(np_store_incr(st, ek, &epoch, err, sizeof(err)), 0);
    np_ckpt_writer_t w;
    np_ckpt_writer_init(&w);
    np_ckpt_policy_t pol = {0, 32};
    for (int k = 0; k < 3; k++) { /* a first frame, then two deltas */
        for (int i = 0; i < 20; i++) {
            r.src.b[15] = (uint8_t)(i * (k + 1));
            r.ts_ms = 1000 + k;
            np_partstate_add(ps, &r, k * 100 + i, NULL, NULL, NULL);
        }
        assert_int_equal(np_ckpt_writer_plan(&w, ps, "t", epoch, NULL, NULL, NULL, 0, 0, &pol), 0);
        assert_int_equal(np_ckpt_store_write(st, ek, hk, epoch, &w, err, sizeof(err)), 0);
        np_ckpt_writer_done(&w, true);
    }
    assert_int_equal(count_keys("netpulse:ckpt:{g/t/3}:pane:*"), 1);
    size_t len;
    uint8_t *head = (uint8_t *)get(hk, &len);
    np_ckpt_store_reader_t rd = {.st = st, .key = hk};
    np_partstate_t *back = NULL;
    np_outbox_t ob;
    assert_int_equal(np_ckpt_decode_parts(head, len, np_ckpt_store_get_part, &rd, &cfg, "t", 3, &back, &ob, NULL, NULL,
                                          NULL, 0, NULL, err, sizeof(err)),
                     0);
    assert_int_equal(back->records_total, ps->records_total);
    assert_int_equal(np_srcmap_count(back->ring[0].sources) + np_srcmap_count(back->ring[1].sources) +
                         np_srcmap_count(back->ring[2].sources) + np_srcmap_count(back->ring[3].sources),
                     np_srcmap_count(ps->ring[0].sources) + np_srcmap_count(ps->ring[1].sources) +
                         np_srcmap_count(ps->ring[2].sources) + np_srcmap_count(ps->ring[3].sources));
    free(head);
    np_outbox_free(&ob);
    np_partstate_destroy(&back);
    /* Moved aside: the head and its part; a second quarantine leaves the first alone. */
    char qkey[400], want[64], pat[64];
    size_t nparts = 9;
    assert_int_equal(np_ckpt_store_lost(st, hk, err, sizeof(err)), 0);
    assert_int_equal(np_ckpt_store_quarantine(st, ek, hk, epoch, qkey, sizeof(qkey), &nparts, err, sizeof(err)), 0);
    snprintf(want, sizeof(want), "netpulse:ckpt:{g/t/3}:quarantine:%lld", (long long)epoch);
    assert_string_equal(qkey, want);
    assert_int_equal(nparts, 1);
    expect(hk, NULL);
    /* With the head gone, the next owner starts fresh but knows the history is lost. */
    assert_int_equal(np_ckpt_store_lost(st, hk, err, sizeof(err)), 1);
    snprintf(pat, sizeof(pat), "netpulse:ckpt:{g/t/3}:pane:*:quarantine:%lld", (long long)epoch);
    assert_int_equal(count_keys(pat), 1);
    assert_int_equal(count_keys("netpulse:ckpt:{g/t/3}:pane:*"), 1);
    np_ckpt_writer_free(&w);
    np_partstate_destroy(&ps);
    np_hll_pool_destroy(&pool);
}

static void put_val(const char *key, const char *val) {
    char err[256];
    const char *argv[] = {"SET", key, val};
    size_t lens[] = {3, strlen(key), strlen(val)};
    assert_int_equal(np_store_run(st, 3, argv, lens, err, sizeof(err)), 0);
}

static void put(const char *key) { put_val(key, "v"); }

/* A group or topic name with glob characters quarantines its own parts only. */
static void test_quarantine_glob(void **s) {
    (void)s;
    if (!st) skip();
    char esc[64], err[256], qkey[400];
    assert_int_equal(np_store_glob_escape("a*b?[c]\\d", esc, sizeof(esc)), 0);
    assert_string_equal(esc, "a\\*b\\?\\[c\\]\\\\d");
    assert_int_equal(np_store_glob_escape("abcd", esc, 5), 0);
    assert_int_equal(np_store_glob_escape("a*cd", esc, 5), -1);
    put("netpulse:ckpt:{g*/t/1}");
    put("netpulse:ckpt:{g*/t/1}:pane:1");
    put("netpulse:ckpt:{gx/t/1}:pane:1");
    put("netpulse:ckpt:{g[x]/t/1}");
    put("netpulse:ckpt:{g[x]/t/1}:out:2");
    put("netpulse:ckpt:{g*/t/1}:win:0"); /* a kept pane (bounded partials) */
    put_val("netpulse:epoch:{g*/t/1}", "3");
    put_val("netpulse:epoch:{g[x]/t/1}", "3");
    size_t nparts = 9;
    assert_int_equal(np_ckpt_store_quarantine(st, "netpulse:epoch:{g*/t/1}", "netpulse:ckpt:{g*/t/1}", 3, qkey,
                                              sizeof(qkey), &nparts, err, sizeof(err)),
                     0);
    assert_int_equal(nparts, 2);
    expect("netpulse:ckpt:{gx/t/1}:pane:1", "v");
    expect("netpulse:ckpt:{g*/t/1}:pane:1:quarantine:3", "v");
    expect("netpulse:ckpt:{g*/t/1}:win:0:quarantine:3", "v");
    assert_int_equal(np_ckpt_store_quarantine(st, "netpulse:epoch:{g[x]/t/1}", "netpulse:ckpt:{g[x]/t/1}", 3, qkey,
                                              sizeof(qkey), &nparts, err, sizeof(err)),
                     0);
    assert_int_equal(nparts, 1);
    expect("netpulse:ckpt:{gx/t/1}:pane:1", "v");
}

/* A zombie (it read a damaged checkpoint under epoch e1, then paused) must not move aside
 * what the new owner (e2) wrote since: its quarantine is fenced like a write and changes
 * nothing; the owner's own quarantine still works. */
static void test_quarantine_fenced(void **s) {
    (void)s;
    if (!st) skip();
    char err[256], qkey[400];
    const char *ek = "netpulse:epoch:{g/t/5}", *hk = "netpulse:ckpt:{g/t/5}", *pa = "netpulse:ckpt:{g/t/5}:pane:0",
               *po = "netpulse:ckpt:{g/t/5}:out:0";
    int64_t e1, e2;
    assert_int_equal(np_store_incr(st, ek, &e1, err, sizeof(err)), 0);
    put(hk); /* damaged: "v" is no checkpoint */
    assert_int_equal(np_store_incr(st, ek, &e2, err, sizeof(err)), 0);
    /* The new owner quarantined it and wrote a fresh checkpoint with parts. */
    np_store_part_t p[] = {{pa, 'S', 0, (const uint8_t *)"pane", 4}, {po, 'S', 0, (const uint8_t *)"out", 3}};
    assert_int_equal(np_store_fenced_write(st, ek, e2, hk, (const uint8_t *)"head", 4, p, 2, err, sizeof(err)), 0);
    size_t nparts = 9;
    assert_int_equal(np_ckpt_store_quarantine(st, ek, hk, e1, qkey, sizeof(qkey), &nparts, err, sizeof(err)), 1);
    assert_int_equal(nparts, 0);
    expect(hk, "head");
    expect(pa, "pane");
    expect(po, "out");
    assert_int_equal(np_ckpt_store_lost(st, hk, err, sizeof(err)), 0);
    assert_int_equal(count_keys("netpulse:ckpt:{g/t/5}*quarantine*"), 0);
    /* The owner's quarantine moves the head and both parts, and marks the history lost. */
    assert_int_equal(np_ckpt_store_quarantine(st, ek, hk, e2, qkey, sizeof(qkey), &nparts, err, sizeof(err)), 0);
    assert_int_equal(nparts, 2);
    expect(hk, NULL);
    expect(pa, NULL);
    assert_int_equal(count_keys("netpulse:ckpt:{g/t/5}*quarantine*"), 3);
    assert_int_equal(np_ckpt_store_lost(st, hk, err, sizeof(err)), 1);
}

/* A pipelined transaction: sent, then other commands on the connection (they read its
 * replies first and keep its outcome), then its outcome; a failing one reports failure
 * through whatever came between. */
static void test_txn_pipelined(void **s) {
    (void)s;
    if (!st) skip();
    char err[256];
    assert_false(np_store_txn_sent(st));
    assert_int_equal(np_store_txn_wait(st, err, sizeof(err)), -1); /* nothing sent */
    np_store_txn_begin(st);
    const char *set1[] = {"SET", "t:pipe:a", "1"}, *set2[] = {"SET", "t:pipe:b", "2"};
    size_t l3[] = {3, 8, 1};
    np_store_txn_add(st, 3, set1, l3);
    np_store_txn_add(st, 3, set2, l3);
    assert_int_equal(np_store_txn_send(st, err, sizeof(err)), 0);
    assert_true(np_store_txn_sent(st));
    assert_true(np_store_fd(st) >= 0);
    expect("t:pipe:a", "1"); /* a command in between: reads the replies first */
    int64_t v = 0;
    assert_int_equal(np_store_incr(st, "t:pipe:n", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 1);
    assert_int_equal(np_store_txn_wait(st, err, sizeof(err)), 0);
    assert_false(np_store_txn_sent(st));
    expect("t:pipe:b", "2");
    /* Waited for at once, as np_store_txn_commit. */
    np_store_txn_begin(st);
    const char *set3[] = {"SET", "t:pipe:c", "3"};
    np_store_txn_add(st, 3, set3, l3);
    assert_int_equal(np_store_txn_send(st, err, sizeof(err)), 0);
    assert_int_equal(np_store_txn_wait(st, err, sizeof(err)), 0);
    expect("t:pipe:c", "3");
    /* A command failing inside: the outcome is a failure, kept across a command between. */
    np_store_txn_begin(st);
    const char *incr[] = {"INCR", "t:pipe:a"}, *hset[] = {"HSET", "t:pipe:a", "f", "v"};
    size_t l2[] = {4, 8}, l4[] = {4, 8, 1, 1};
    np_store_txn_add(st, 2, incr, l2);
    np_store_txn_add(st, 4, hset, l4); /* WRONGTYPE: a string */
    assert_int_equal(np_store_txn_send(st, err, sizeof(err)), 0);
    expect("t:pipe:a", "2"); /* MULTI/EXEC does not roll back the INCR */
    err[0] = 0;
    assert_int_equal(np_store_txn_wait(st, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "WRONGTYPE"));
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fenced_write), cmocka_unit_test(test_ckpt_store),
                                       cmocka_unit_test(test_quarantine_glob), cmocka_unit_test(test_quarantine_fenced),
                                       cmocka_unit_test(test_txn_pipelined)};
    return redis_server_run_group(&R, "test_store", tests, &st);
}
