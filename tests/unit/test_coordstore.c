/* Unit tests for np_coordstore (the coordinator's state in Redis), against a real
 * redis-server that the test starts (redis_server.h); skipped (77) without one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "np_coordstore.h"
#include "np_crc32.h"
#include "np_strbuf.h"
#include "redis_server.h"

static redis_server_t R;

typedef struct fixture {
    np_store_t *store;
    np_coordstore_t *cs;
    char name[32];
} fixture_t;

static int setup(void **st) {
    static int n;
    fixture_t *f = calloc(1, sizeof(*f));
    char err[256];
    f->store = np_store_connect("127.0.0.1", R.port, 2000, err, sizeof(err));
    if (!f->store) return -1;
    snprintf(f->name, sizeof(f->name), "t%d", ++n); /* each test its own state */
    f->cs = np_coordstore_new(f->store, f->name);
    *st = f;
    return f->cs ? 0 : -1;
}

static int teardown(void **st) {
    fixture_t *f = *st;
    np_coordstore_destroy(&f->cs);
    assert_null(f->cs);
    np_store_destroy(&f->store);
    free(f);
    return 0;
}

/* A WorkerMsg{Partial} as a worker sends it. */
static size_t pack_partial(uint8_t *buf, int32_t partition, int64_t start, uint64_t records) {
    Netpulse__Partial p = NETPULSE__PARTIAL__INIT;
    p.partition = partition;
    p.pane_start_ms = start;
    p.pane_ms = 1000;
    p.records = records;
    Netpulse__WorkerMsg m = NETPULSE__WORKER_MSG__INIT;
    m.worker_id = "w1";
    m.body_case = NETPULSE__WORKER_MSG__BODY_PARTIAL;
    m.partial = &p;
    return netpulse__worker_msg__pack(&m, buf);
}

typedef struct seen {
    int n;
    int32_t partition[16];
    int64_t start[16];
    uint64_t records[16];
} seen_t;

static void partial_cb(void *ctx, const Netpulse__Partial *p) {
    seen_t *s = ctx;
    assert_true(s->n < 16);
    s->partition[s->n] = p->partition;
    s->start[s->n] = p->pane_start_ms;
    s->records[s->n] = p->records;
    s->n++;
}

typedef struct hash {
    int n;
    char keys[8][64];
    size_t vlen[8];
} hash_t;

static void hash_cb(void *ctx, const char *k, size_t klen, const char *v, size_t vlen) {
    hash_t *h = ctx;
    (void)v;
    if (h->n < 8) {
        snprintf(h->keys[h->n], sizeof(h->keys[h->n]), "%.*s", (int)klen, k);
        h->vlen[h->n] = vlen;
    }
    h->n++;
}

static void test_partials_round_trip(void **st) {
    fixture_t *f = *st;
    uint8_t buf[256];
    char err[256];
    size_t len = pack_partial(buf, 3, 5000, 42);
    assert_int_equal(np_coordstore_put_partial(f->cs, 5000, 3, buf, len, err, sizeof(err)), 0);
    len = pack_partial(buf, 4, 5000, 7);
    assert_int_equal(np_coordstore_put_partial(f->cs, 5000, 4, buf, len, err, sizeof(err)), 0);
    len = pack_partial(buf, 3, 6000, 9);
    assert_int_equal(np_coordstore_put_partial(f->cs, 6000, 3, buf, len, err, sizeof(err)), 0);
    len = pack_partial(buf, 3, 6000, 10); /* the same partial again replaces it */
    assert_int_equal(np_coordstore_put_partial(f->cs, 6000, 3, buf, len, err, sizeof(err)), 0);
    seen_t s = {0};
    size_t q = 99;
    assert_int_equal(np_coordstore_each_partial(f->cs, partial_cb, &s, &q, err, sizeof(err)), 0);
    assert_int_equal(q, 0);
    assert_int_equal(s.n, 3);
    uint64_t sum = 0;
    for (int i = 0; i < s.n; i++) {
        sum += s.records[i];
        if (s.start[i] == 6000) assert_int_equal(s.records[i], 10);
    }
    assert_int_equal(sum, 42 + 7 + 10);
    /* a final pane's partials go with the round */
    np_coordstore_begin(f->cs);
    np_coordstore_drop_pane(f->cs, 5000);
    assert_int_equal(np_coordstore_commit(f->cs, err, sizeof(err)), 0);
    memset(&s, 0, sizeof(s));
    assert_int_equal(np_coordstore_each_partial(f->cs, partial_cb, &s, &q, err, sizeof(err)), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.start[0], 6000);
    assert_int_equal(s.partition[0], 3);
}

static void test_damaged_partials_quarantined(void **st) {
    fixture_t *f = *st;
    uint8_t buf[256];
    char err[256], key[128], qkey[128];
    size_t len = pack_partial(buf, 1, 7000, 5);
    assert_int_equal(np_coordstore_put_partial(f->cs, 7000, 1, buf, len, err, sizeof(err)), 0);
    assert_int_equal(np_coordstore_put_partial(f->cs, 7000, 2, buf, len, err, sizeof(err)), 0);
    snprintf(key, sizeof(key), "netpulse:coord:{%s}:pane:7000", f->name);
    snprintf(qkey, sizeof(qkey), "netpulse:coord:{%s}:pane:quarantine", f->name);
    /* partition 2: one flipped payload byte (the checksum no longer fits) */
    uint8_t framed[300];
    np_crc32_frame_header(framed, "NPP", 1, buf, len);
    memcpy(framed + NP_CRC32_FRAME_HDR, buf, len);
    framed[NP_CRC32_FRAME_HDR + 3] ^= 0x40;
    const char *hset[] = {"HSET", key, "2", (const char *)framed};
    size_t hset_l[] = {4, strlen(key), 1, NP_CRC32_FRAME_HDR + len};
    assert_int_equal(np_store_run(f->store, 4, hset, hset_l, err, sizeof(err)), 0);
    /* partition 5: an unframed value that is no WorkerMsg */
    const char *junk[] = {"HSET", key, "5", "\xff\xff\xff"};
    size_t junk_l[] = {4, strlen(key), 1, 3};
    assert_int_equal(np_store_run(f->store, 4, junk, junk_l, err, sizeof(err)), 0);
    seen_t s = {0};
    size_t q = 0;
    assert_int_equal(np_coordstore_each_partial(f->cs, partial_cb, &s, &q, err, sizeof(err)), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.partition[0], 1);
    assert_int_equal(q, 2);
    hash_t h = {0};
    assert_int_equal(np_store_hgetall(f->store, qkey, hash_cb, &h, err, sizeof(err)), 0);
    assert_int_equal(h.n, 2);
    assert_true((strcmp(h.keys[0], "7000/2") == 0 && strcmp(h.keys[1], "7000/5") == 0) ||
                (strcmp(h.keys[0], "7000/5") == 0 && strcmp(h.keys[1], "7000/2") == 0));
    hash_t left = {0};
    assert_int_equal(np_store_hgetall(f->store, key, hash_cb, &left, err, sizeof(err)), 0);
    assert_int_equal(left.n, 1); /* moved aside, not left to fail every restore */
    assert_string_equal(left.keys[0], "1");
    memset(&s, 0, sizeof(s));
    assert_int_equal(np_coordstore_each_partial(f->cs, partial_cb, &s, &q, err, sizeof(err)), 0);
    assert_int_equal(q, 0);
    assert_int_equal(s.n, 1);
}

typedef struct restored {
    int results;
    char ids[4][32];
    int64_t start[4], end[4];
    char json[4][32];
    int known;
    np_ip_t ip[4];
    np_known_t kv[4];
    size_t detect_len;
    uint8_t detect[16];
    int refuse_detect;
} restored_t;

static void result_cb(void *ctx, const char *id, const char *type, int64_t start, int64_t end, const uint8_t *json,
                      size_t len) {
    restored_t *r = ctx;
    assert_true(r->results < 4);
    assert_string_equal(type, strcmp(id, "f1") == 0 ? "forecast" : "window");
    snprintf(r->ids[r->results], sizeof(r->ids[0]), "%s", id);
    snprintf(r->json[r->results], sizeof(r->json[0]), "%.*s", (int)len, (const char *)json);
    r->start[r->results] = start;
    r->end[r->results] = end;
    r->results++;
}

static int decode_cb(void *ctx, const uint8_t *buf, size_t len) {
    restored_t *r = ctx;
    if (r->refuse_detect) return -1;
    assert_true(len <= sizeof(r->detect));
    memcpy(r->detect, buf, len);
    r->detect_len = len;
    return 0;
}

static void known_cb(void *ctx, const np_ip_t *ip, const np_known_t *v) {
    restored_t *r = ctx;
    assert_true(r->known < 4);
    r->ip[r->known] = *ip;
    r->kv[r->known] = *v;
    r->known++;
}

static void test_finalize_round_and_restore(void **st) {
    fixture_t *f = *st;
    char err[256];
    /* nothing stored yet */
    np_coordstore_meta_t m;
    assert_int_equal(np_coordstore_load_meta(f->cs, &m, err, sizeof(err)), 0);
    assert_false(m.has_next_emit);
    assert_false(m.has_window_first);
    restored_t r = {0};
    assert_int_equal(np_coordstore_load_detect(f->cs, decode_cb, known_cb, &r, err, sizeof(err)), 0);
    assert_int_equal(r.detect_len, 0);
    assert_int_equal(r.known, 0);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(np_coordstore_get_final(f->cs, 1000, &buf, &len, err, sizeof(err)), 1);

    /* round 1 */
    np_coordstore_begin(f->cs);
    np_coordstore_add_result(f->cs, "w1", "window", 1000, 2000, (const uint8_t *)"{\"a\":1}", 7);
    np_coordstore_add_result(f->cs, "f1", "forecast", 2000, 3000, (const uint8_t *)"{\"f\":2}", 7);
    np_coordstore_keep_final(f->cs, 1000, (const uint8_t *)"pane1\0x", 7, -59000);
    np_ip_t ips[3] = {0};
    ips[0].b[15] = 1;
    ips[1].b[0] = 0x20;
    ips[1].b[15] = 2;
    ips[2].b[15] = 3;
    np_known_t kv[3] = {{250, 3, 4}, {1000, 70000, 1}, {UINT16_MAX, UINT32_MAX, 0}}; /* every digit count */
    np_coordstore_add_known(f->cs, ips, kv, 3);
    np_coordstore_add_known(f->cs, ips, kv, 0); /* nothing */
    np_coordstore_set_next_emit(f->cs, 2000);
    np_coordstore_set_window_first(f->cs, -5000);
    np_coordstore_set_detect(f->cs, (const uint8_t *)"DS\0\1", 4);
    assert_int_equal(np_coordstore_commit(f->cs, err, sizeof(err)), 0);
    /* round 2: the next pane; a window of 2 panes forgets pane 1000 at 3000 */
    np_coordstore_begin(f->cs);
    np_coordstore_keep_final(f->cs, 2000, (const uint8_t *)"pane2", 5, 1000 - 2000 + 1000);
    np_coordstore_keep_final(f->cs, 3000, (const uint8_t *)"pane3", 5, 1000);
    np_coordstore_set_next_emit(f->cs, 4000);
    assert_int_equal(np_coordstore_commit(f->cs, err, sizeof(err)), 0);

    assert_int_equal(np_coordstore_load_meta(f->cs, &m, err, sizeof(err)), 0);
    assert_true(m.has_next_emit);
    assert_int_equal(m.next_emit, 4000);
    assert_true(m.has_window_first);
    assert_int_equal(m.window_first, -5000);
    assert_int_equal(np_coordstore_get_final(f->cs, 1000, &buf, &len, err, sizeof(err)), 1);
    assert_int_equal(np_coordstore_get_final(f->cs, 3000, &buf, &len, err, sizeof(err)), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(buf, "pane3", 5);
    free(buf);
    assert_int_equal(np_coordstore_load_detect(f->cs, decode_cb, known_cb, &r, err, sizeof(err)), 0);
    assert_int_equal(r.detect_len, 4);
    assert_memory_equal(r.detect, "DS\0\1", 4);
    assert_int_equal(r.known, 3);
    for (int i = 0; i < 3; i++) {
        int j = 0;
        while (j < 2 && memcmp(r.ip[i].b, ips[j].b, 16) != 0) j++;
        assert_memory_equal(r.ip[i].b, ips[j].b, 16);
        assert_int_equal(r.kv[i].share_pm, kv[j].share_pm);
        assert_int_equal(r.kv[i].hosts, kv[j].hosts);
        assert_int_equal(r.kv[i].ports, kv[j].ports);
    }
    restored_t bad = {.refuse_detect = 1};
    assert_int_equal(np_coordstore_load_detect(f->cs, decode_cb, known_cb, &bad, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":detect is unreadable"));

    assert_int_equal(np_coordstore_each_result(f->cs, result_cb, &r, err, sizeof(err)), 0);
    assert_int_equal(r.results, 2);
    for (int i = 0; i < 2; i++) {
        bool w = strcmp(r.ids[i], "w1") == 0;
        assert_int_equal(r.start[i], w ? 1000 : 2000);
        assert_int_equal(r.end[i], w ? 2000 : 3000);
        assert_string_equal(r.json[i], w ? "{\"a\":1}" : "{\"f\":2}");
    }
    assert_int_equal(np_coordstore_ack(f->cs, "w1", err, sizeof(err)), 0);
    assert_int_equal(np_coordstore_ack(f->cs, "w1", err, sizeof(err)), 0); /* a repeat is harmless */
    r.results = 0;
    assert_int_equal(np_coordstore_each_result(f->cs, result_cb, &r, err, sizeof(err)), 0);
    assert_int_equal(r.results, 1);
    assert_string_equal(r.ids[0], "f1");
}

/* Known sources' values are written with np_strbuf_fmt_u64 instead of snprintf's "%u":
 * the same text, so a restore reads what an older coordinator wrote and the reverse. */
static void test_known_digits_as_snprintf(void **st) {
    (void)st;
    const uint64_t v[] = {0, 7, 10, 99, 1000, UINT16_MAX, 70000, UINT32_MAX, UINT64_MAX};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char want[32], got[NP_U64_DIGITS];
        int n = snprintf(want, sizeof(want), "%llu", (unsigned long long)v[i]);
        assert_int_equal(np_strbuf_fmt_u64(got, v[i]), n);
        assert_memory_equal(got, want, (size_t)n);
    }
}

static void test_names_are_separate(void **st) {
    fixture_t *f = *st;
    char err[256];
    uint8_t buf[256];
    size_t len = pack_partial(buf, 1, 1000, 1);
    assert_int_equal(np_coordstore_put_partial(f->cs, 1000, 1, buf, len, err, sizeof(err)), 0);
    np_coordstore_t *other = np_coordstore_new(f->store, "another-cluster");
    seen_t s = {0};
    size_t q = 0;
    assert_int_equal(np_coordstore_each_partial(other, partial_cb, &s, &q, err, sizeof(err)), 0);
    assert_int_equal(s.n, 0);
    np_coordstore_destroy(&other);
}

/* Group commit: partials of several panes staged, stored by one flush; a partition staged
 * twice for a pane is stored once (the later copy); an empty flush is a no-op. */
static void test_group_commit(void **st) {
    fixture_t *f = *st;
    uint8_t buf[256];
    char err[256], key[128];
    assert_int_equal(np_coordstore_flush_partials(f->cs, err, sizeof(err)), 0);
    const struct { int32_t part; int64_t start; uint64_t records; } in[] = {
        {7, 9000, 1}, {2, 8000, 2}, {7, 8000, 3}, {2, 9000, 4}, {7, 9000, 5}, {11, 8000, 6}};
    size_t bytes = 0;
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        size_t len = pack_partial(buf, in[i].part, in[i].start, in[i].records);
        bytes += NP_CRC32_FRAME_HDR + len;
        assert_int_equal(np_coordstore_stage_partial(f->cs, in[i].start, in[i].part, buf, len, err, sizeof(err)), 0);
    }
    assert_int_equal(np_coordstore_staged(f->cs), 6);
    assert_int_equal(np_coordstore_staged_bytes(f->cs), bytes);
    seen_t s = {0};
    size_t q = 0;
    assert_int_equal(np_coordstore_each_partial(f->cs, partial_cb, &s, &q, err, sizeof(err)), 0);
    assert_int_equal(s.n, 0); /* staged is not stored */
    assert_int_equal(np_coordstore_flush_partials(f->cs, err, sizeof(err)), 0);
    assert_int_equal(np_coordstore_staged(f->cs), 0);
    assert_int_equal(np_coordstore_staged_bytes(f->cs), 0);
    assert_int_equal(np_coordstore_each_partial(f->cs, partial_cb, &s, &q, err, sizeof(err)), 0);
    assert_int_equal(q, 0);
    assert_int_equal(s.n, 5);
    uint64_t sum = 0;
    for (int i = 0; i < s.n; i++) {
        sum += s.records[i];
        if (s.start[i] == 9000 && s.partition[i] == 7) assert_int_equal(s.records[i], 5);
    }
    assert_int_equal(sum, 2 + 3 + 4 + 5 + 6);
    /* the layout of np_coordstore_put_partial: one hash per pane, under the state's hash tag */
    hash_t h = {0};
    snprintf(key, sizeof(key), "netpulse:coord:{%s}:pane:8000", f->name);
    assert_int_equal(np_store_hgetall(f->store, key, hash_cb, &h, err, sizeof(err)), 0);
    assert_int_equal(h.n, 3);
    /* a write Redis refuses fails the whole flush: the caller acknowledges none */
    snprintf(key, sizeof(key), "netpulse:coord:{%s}:pane:10000", f->name);
    const char *set[] = {"SET", key, "not a hash"};
    size_t set_l[] = {3, strlen(key), 10};
    assert_int_equal(np_store_run(f->store, 3, set, set_l, err, sizeof(err)), 0);
    size_t len = pack_partial(buf, 1, 11000, 1);
    assert_int_equal(np_coordstore_stage_partial(f->cs, 11000, 1, buf, len, err, sizeof(err)), 0);
    len = pack_partial(buf, 1, 10000, 1);
    assert_int_equal(np_coordstore_stage_partial(f->cs, 10000, 1, buf, len, err, sizeof(err)), 0);
    err[0] = '\0';
    assert_int_equal(np_coordstore_flush_partials(f->cs, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "WRONGTYPE"));
    assert_int_equal(np_coordstore_staged(f->cs), 0);
}

/* Runs last: stops the server. */
static void test_errors_when_redis_is_gone(void **st) {
    fixture_t *f = *st;
    char err[256] = "";
    uint8_t buf[256];
    size_t len = pack_partial(buf, 1, 1000, 1);
    redis_server_stop(&R);
    assert_int_equal(np_coordstore_put_partial(f->cs, 1000, 1, buf, len, err, sizeof(err)), -1);
    assert_true(err[0] != '\0');
    assert_int_equal(np_coordstore_stage_partial(f->cs, 1000, 2, buf, len, err, sizeof(err)), 0);
    assert_int_equal(np_coordstore_flush_partials(f->cs, err, sizeof(err)), -1);
    assert_int_equal(np_coordstore_staged(f->cs), 0);
    np_coordstore_begin(f->cs);
    np_coordstore_set_next_emit(f->cs, 1);
    assert_int_equal(np_coordstore_commit(f->cs, err, sizeof(err)), -1);
    np_coordstore_meta_t m;
    assert_int_equal(np_coordstore_load_meta(f->cs, &m, err, sizeof(err)), -1);
    seen_t s = {0};
    assert_int_equal(np_coordstore_each_partial(f->cs, partial_cb, &s, NULL, err, sizeof(err)), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_partials_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_partials_quarantined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finalize_round_and_restore, setup, teardown),
        cmocka_unit_test(test_known_digits_as_snprintf),
        cmocka_unit_test_setup_teardown(test_names_are_separate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_when_redis_is_gone, setup, teardown),
    };
    return redis_server_run_group(&R, "test_coordstore", tests, NULL);
}
