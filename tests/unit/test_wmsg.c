/* Unit tests for np_wmsg (the coordinator's WorkerMsg decoder): every field against
 * protobuf-c's unpacker, and what a peer could send: unknown fields, packed and unpacked
 * repeated scalars, repeats, merges, malformed and truncated input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netpulse.pb-c.h"
#include "np_arena.h"
#include "np_wmsg.h"

/* ---- raw protobuf bytes ---------------------------------------------------------------- */

typedef struct wbuf {
    uint8_t b[1 << 16];
    size_t n;
} wbuf_t;

static void put_varint(wbuf_t *w, uint64_t v) {
    do {
        w->b[w->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}
static void put_tag(wbuf_t *w, uint32_t num, unsigned wt) {
    put_varint(w, (uint64_t)num << 3 | wt);
}
static void put_raw(wbuf_t *w, const void *p, size_t n) {
    memcpy(w->b + w->n, p, n);
    w->n += n;
}
static void put_lp(wbuf_t *w, uint32_t num, const void *p, size_t n) {
    put_tag(w, num, 2);
    put_varint(w, n);
    put_raw(w, p, n);
}
static void put_u(wbuf_t *w, uint32_t num, uint64_t v) {
    put_tag(w, num, 0);
    put_varint(w, v);
}

/* ---- decoding both ways ----------------------------------------------------------------- */

static np_arena_t *A;

static int setup(void **s) {
    (void)s;
    A = np_arena_new(1 << 16);
    return A ? 0 : -1;
}
static int teardown(void **s) {
    (void)s;
    np_arena_destroy(&A);
    return 0;
}

/* m packed by protobuf-c; unknown fields (the tests put them at the top and in a
 * partial) are not compared: np_wmsg does not keep them. */
static size_t pack_known(Netpulse__WorkerMsg *m, uint8_t **out) {
    bool part = m->body_case == NETPULSE__WORKER_MSG__BODY_PARTIAL;
    size_t nu = m->base.n_unknown_fields, np = part ? m->partial->base.n_unknown_fields : 0;
    m->base.n_unknown_fields = 0;
    if (part) m->partial->base.n_unknown_fields = 0;
    size_t len = netpulse__worker_msg__get_packed_size(m);
    *out = malloc(len + 1);
    assert_non_null(*out);
    netpulse__worker_msg__pack(m, *out);
    m->base.n_unknown_fields = nu;
    if (part) m->partial->base.n_unknown_fields = np;
    return len;
}

/* Decodes buf with np_wmsg and with protobuf-c: both accept and agree (re-encoded the
 * same), or both refuse. Returns np_wmsg's message (NULL: refused). */
static Netpulse__WorkerMsg *both(const uint8_t *buf, size_t len) {
    np_wmsg_err_t why;
    Netpulse__WorkerMsg *m = np_wmsg_decode(A, buf, len, &why);
    Netpulse__WorkerMsg *ref = netpulse__worker_msg__unpack(NULL, len, buf);
    assert_int_equal(m != NULL, ref != NULL);
    assert_int_equal(m != NULL, why == NP_WMSG_OK);
    if (m) {
        uint8_t *x, *y;
        size_t nx = pack_known(m, &x), ny = pack_known(ref, &y);
        assert_int_equal(nx, ny);
        assert_memory_equal(x, y, nx);
        free(x);
        free(y);
        assert_int_equal(m->base.n_unknown_fields, 0);
    }
    if (ref) netpulse__worker_msg__free_unpacked(ref, NULL);
    return m;
}

/* ---- a partial with every field -------------------------------------------------------- */

static uint8_t IP[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
static uint8_t SK[5] = {1, 2, 3, 4, 5};
static uint32_t PMIX[4] = {7, 0, 300, 1u << 31};
static uint64_t PTOT[4] = {1, UINT64_MAX, 0, 1ull << 40};
static uint32_t HIST[3] = {0, 5, 70000};
static uint64_t CNT[5] = {1, 2, 3, 4, 5};

static void fill_source(Netpulse__SourceAgg *s, uint64_t k) {
    netpulse__source_agg__init(s);
    s->ip.data = IP;
    s->ip.len = sizeof(IP);
    s->records = k;
    s->bytes = k * 1000;
    s->packets = k * 3;
    s->n_protocol_records = 4;
    s->protocol_records = PMIX;
    s->dst_ips.data = s->dst_ports.data = SK;
    s->dst_ips.len = 5;
    s->dst_ports.len = 3;
}

/* Every field of a WorkerMsg{partial} set, packed into w. */
static void full_partial(wbuf_t *w) {
    Netpulse__SourceAgg src[6], *ps[6];
    for (int i = 0; i < 6; i++) {
        fill_source(&src[i], (uint64_t)i + 1);
        ps[i] = &src[i];
    }
    Netpulse__GroupAgg g[3], *pg[2];
    for (int i = 0; i < 3; i++) {
        netpulse__group_agg__init(&g[i]);
        g[i].key.data = IP;
        g[i].key.len = (size_t)i + 1;
        g[i].records = g[i].bytes = g[i].packets = (uint64_t)i + 9;
    }
    pg[0] = &g[0];
    pg[1] = &g[1];
    Netpulse__ViewAgg v = NETPULSE__VIEW_AGG__INIT, *pv = &v;
    v.name = (char *)"web";
    v.n_groups = 2;
    v.groups = pg;
    v.groups_evicted = 4;
    v.other = &g[2];
    Netpulse__ClassAgg ca[3], *pca = &ca[1];
    for (int i = 0; i < 3; i++) {
        netpulse__class_agg__init(&ca[i]);
        ca[i].n_counts = ca[i].n_confidence = 5;
        ca[i].counts = ca[i].confidence = CNT;
    }
    ca[1].ip.data = IP;
    ca[1].ip.len = 16;
    Netpulse__ClassTable ct = NETPULSE__CLASS_TABLE__INIT;
    ct.total = &ca[0];
    ct.n_dests = 1;
    ct.dests = &pca;
    ct.dests_evicted = 2;
    ct.other = &ca[2];
    Netpulse__Partial p = NETPULSE__PARTIAL__INIT;
    p.partition = -5;
    p.pane_start_ms = -1700000000000;
    p.pane_ms = 5000;
    p.records = p.bytes = p.packets = p.late_records = UINT64_MAX;
    p.n_sources = 2;
    p.sources = ps;
    p.sources_evicted = 3;
    p.other = ps[2];
    p.partitions = 7;
    p.seen.data = SK;
    p.seen.len = 2;
    p.n_protocol_records = 4;
    p.protocol_records = PTOT;
    p.n_dests = 1;
    p.dests = &ps[3];
    p.dests_evicted = 1;
    p.dest_other = ps[4];
    p.n_views = 1;
    p.views = &pv;
    p.n_dst_port_hist = 3;
    p.dst_port_hist = HIST;
    p.classes = &ct;
    p.sources_total = 99;
    p.sources_bounded = 1;
    p.candidates_dropped = 2;
    p.window_ms = 60000;
    p.window_sources = 44;
    p.n_window_top = 1;
    p.window_top = &ps[5];
    p.window_only = 1;
    p.pair = 2;
    p.fanin.data = SK;
    p.fanin.len = 4;
    p.close_offset = 1ll << 40;
    p.records_end_offset = -3;
    Netpulse__WorkerMsg m = NETPULSE__WORKER_MSG__INIT;
    m.version = 1;
    m.worker_id = (char *)"worker-1";
    m.session = (char *)"s";
    m.body_case = NETPULSE__WORKER_MSG__BODY_PARTIAL;
    m.partial = &p;
    w->n = netpulse__worker_msg__pack(&m, w->b);
}

static void test_every_field(void **s) {
    (void)s;
    static wbuf_t w;
    full_partial(&w);
    Netpulse__WorkerMsg *m = both(w.b, w.n);
    assert_non_null(m);
    const Netpulse__Partial *p = m->partial;
    assert_int_equal(p->partition, -5);
    assert_int_equal(p->pane_start_ms, -1700000000000);
    assert_int_equal(p->n_sources, 2);
    assert_int_equal(p->sources[1]->records, 2);
    assert_memory_equal(p->sources[1]->ip.data, IP, 16);
    assert_int_equal(p->other->records, 3);
    assert_int_equal(p->n_protocol_records, 4);
    assert_true(p->protocol_records[1] == UINT64_MAX);
    assert_int_equal(p->dst_port_hist[2], 70000);
    assert_string_equal(p->views[0]->name, "web");
    assert_int_equal(p->views[0]->n_groups, 2);
    assert_int_equal(p->views[0]->other->key.len, 3);
    assert_int_equal(p->classes->dests[0]->counts[4], 5);
    assert_int_equal(p->window_top[0]->packets, 18);
    assert_true(p->sources_bounded && p->window_only);
    assert_int_equal(p->fanin.len, 4);
    assert_true(p->close_offset == 1ll << 40);
    assert_int_equal(p->records_end_offset, -3);
    assert_string_equal(m->worker_id, "worker-1");
    /* The bytes are copies in the arena: the input may go. */
    assert_true(p->fanin.data < w.b || p->fanin.data >= w.b + w.n);
}

static void test_progress(void **s) {
    (void)s;
    Netpulse__PartitionProgress pp[2], *ptr[2];
    for (int i = 0; i < 2; i++) {
        netpulse__partition_progress__init(&pp[i]);
        pp[i].partition = i;
        pp[i].closed_through_ms = pp[i].watermark_ms = 1000 * (i + 1);
        pp[i].idle = i;
        pp[i].has_data = 1;
        pp[i].epoch = 77;
        pp[i].topic = (char *)"network-traffic";
        pp[i].topic_partition = -1;
        ptr[i] = &pp[i];
    }
    Netpulse__Progress pr = NETPULSE__PROGRESS__INIT;
    pr.n_partitions = 2;
    pr.partitions = ptr;
    pr.partitions_total = 12;
    Netpulse__WorkerMsg m = NETPULSE__WORKER_MSG__INIT;
    m.body_case = NETPULSE__WORKER_MSG__BODY_PROGRESS;
    m.progress = &pr;
    static wbuf_t w;
    w.n = netpulse__worker_msg__pack(&m, w.b);
    Netpulse__WorkerMsg *d = both(w.b, w.n);
    assert_non_null(d);
    assert_int_equal(d->body_case, NETPULSE__WORKER_MSG__BODY_PROGRESS);
    assert_int_equal(d->progress->n_partitions, 2);
    assert_string_equal(d->progress->partitions[1]->topic, "network-traffic");
    assert_int_equal(d->progress->partitions[1]->topic_partition, -1);
    assert_string_equal(d->worker_id, ""); /* absent: protobuf-c's empty string */
    assert_ptr_equal(d->worker_id, protobuf_c_empty_string);
    w.n = 0; /* the empty message is a WorkerMsg with nothing set */
    d = both(w.b, 0);
    assert_non_null(d);
    assert_int_equal(d->body_case, NETPULSE__WORKER_MSG__BODY__NOT_SET);
}

/* Unknown fields of every wire type protobuf-c takes are skipped, at the top and inside a
 * partial; groups and wire types 6, 7 are refused. */
static void test_unknown_fields(void **s) {
    (void)s;
    static wbuf_t w, p;
    p.n = 0;
    put_u(&p, 1, 3);      /* partition */
    put_u(&p, 20, 5);     /* unused number */
    put_tag(&p, 1000, 1); /* 64-bit */
    put_raw(&p, "12345678", 8);
    put_tag(&p, 536870911, 5); /* the highest field number, 32-bit */
    put_raw(&p, "1234", 4);
    put_lp(&p, 40, "xyz", 3);       /* length-delimited */
    put_raw(&p, "\x80\x00\x01", 3); /* field number 0 in two bytes: unknown to protobuf-c too */
    put_u(&p, 4, 10);               /* records */
    put_lp(&p, 8, "", 0);           /* two empty sources */
    put_lp(&p, 8, "", 0);
    w.n = 0;
    put_lp(&w, 99, "ab", 2);
    put_lp(&w, 10, p.b, p.n);
    Netpulse__WorkerMsg *m = both(w.b, w.n);
    assert_non_null(m);
    assert_int_equal(m->partial->partition, 3);
    assert_int_equal(m->partial->records, 10);
    assert_int_equal(m->partial->n_sources, 2);
    assert_int_equal(m->partial->sources[1]->ip.len, 0);
    for (unsigned wt = 3; wt <= 7; wt++) {
        if (wt == 5) continue;
        size_t n = w.n;
        put_tag(&w, 50, wt);
        put_raw(&w, "\0\0\0\0\0\0\0\0", 8);
        np_wmsg_err_t why;
        assert_null(both(w.b, w.n));
        assert_null(np_wmsg_decode(A, w.b, w.n, &why));
        assert_int_equal(why, NP_WMSG_WIRE);
        w.n = n;
    }
}

/* Repeated scalars packed, unpacked and both at once; the last of a scalar wins. */
static void test_packed_unpacked_last_wins(void **s) {
    (void)s;
    static wbuf_t w, p, pk;
    p.n = pk.n = 0;
    put_varint(&pk, 1);
    put_varint(&pk, 300);
    put_varint(&pk, UINT64_MAX);
    put_u(&p, 13, 9);                /* protocol_records: unpacked */
    put_lp(&p, 13, pk.b, pk.n);      /* packed */
    put_u(&p, 13, 10);               /* unpacked again */
    put_lp(&p, 13, "", 0);           /* an empty packed run */
    put_u(&p, 18, (1ull << 32) + 6); /* dst_port_hist (uint32): the low 32 bits */
    put_lp(&p, 18, pk.b, pk.n);
    put_u(&p, 1, 1);
    put_u(&p, 1, 0xffffffffull); /* int32 partition: last wins, -1 */
    put_u(&p, 22, 0);
    put_u(&p, 22, 2); /* bool: any payload bit */
    w.n = 0;
    put_lp(&w, 2, "first", 5);
    put_lp(&w, 2, "second", 6); /* strings: last wins too */
    put_lp(&w, 10, p.b, p.n);
    Netpulse__WorkerMsg *m = both(w.b, w.n);
    assert_non_null(m);
    const Netpulse__Partial *q = m->partial;
    uint64_t want[] = {9, 1, 300, UINT64_MAX, 10};
    assert_int_equal(q->n_protocol_records, 5);
    assert_memory_equal(q->protocol_records, want, sizeof(want));
    uint32_t hist[] = {6, 1, 300, UINT32_MAX};
    assert_int_equal(q->n_dst_port_hist, 4);
    assert_memory_equal(q->dst_port_hist, hist, sizeof(hist));
    assert_int_equal(q->partition, -1);
    assert_int_equal(q->sources_bounded, 1);
    assert_string_equal(m->worker_id, "second");
}

/* A singular sub-message given twice is merged as protobuf-c merges it; a oneof member
 * replaces the one before it; a bool is read from any wire type. */
static void test_merge_and_oneof(void **s) {
    (void)s;
    static wbuf_t w, p, a, b;
    a.n = b.n = p.n = 0;
    put_lp(&a, 1, IP, 16);
    put_u(&a, 2, 5); /* records */
    put_u(&a, 3, 7); /* bytes: not in b, so b's (0) wins, as in protobuf-c */
    put_u(&a, 5, 1);
    put_u(&a, 5, 2);
    put_u(&b, 2, 6);
    put_u(&b, 5, 3);
    put_lp(&b, 6, SK, 2);
    put_lp(&p, 10, a.b, a.n); /* other, twice */
    put_lp(&p, 10, b.b, b.n);
    put_tag(&p, 27, 1); /* window_only with a 64-bit value */
    put_raw(&p, "\x80\0\0\0\0\0\0\x01", 8);
    w.n = 0;
    put_lp(&w, 10, "\x08\x05", 2); /* a partial (partition 5), replaced whole below */
    put_lp(&w, 11, "", 0);         /* then progress */
    put_lp(&w, 10, p.b, p.n);      /* then this partial */
    Netpulse__WorkerMsg *m = both(w.b, w.n);
    assert_non_null(m);
    assert_int_equal(m->body_case, NETPULSE__WORKER_MSG__BODY_PARTIAL);
    const Netpulse__Partial *q = m->partial;
    assert_int_equal(q->partition, 0);
    assert_int_equal(q->other->records, 6);
    assert_int_equal(q->other->bytes, 0);
    assert_int_equal(q->other->ip.len, 16); /* the earlier one's: the later has none */
    assert_int_equal(q->other->dst_ips.len, 2);
    uint32_t pr[] = {1, 2, 3};
    assert_int_equal(q->other->n_protocol_records, 3);
    assert_memory_equal(q->other->protocol_records, pr, sizeof(pr));
    assert_int_equal(q->window_only, 1);
    /* Class tables merge down to their ClassAggs; a view's `other` too. */
    static wbuf_t t1, t2, c1, c2, v1;
    c1.n = c2.n = t1.n = t2.n = v1.n = p.n = 0;
    put_u(&c1, 2, 4);
    put_lp(&c1, 1, IP, 4);
    put_u(&c2, 3, 8);
    put_lp(&t1, 1, c1.b, c1.n);
    put_lp(&t1, 2, c2.b, c2.n);
    put_lp(&t1, 4, c1.b, c1.n);
    put_lp(&t2, 1, c2.b, c2.n);
    put_lp(&t2, 2, c1.b, c1.n);
    put_u(&t2, 3, 1);
    put_lp(&p, 19, t1.b, t1.n);
    put_lp(&p, 19, t2.b, t2.n);
    put_lp(&v1, 4, "\x0a\x01z\x10\x02", 5);
    put_lp(&v1, 4, "\x18\x03", 2);
    put_lp(&p, 17, v1.b, v1.n);
    w.n = 0;
    put_lp(&w, 10, p.b, p.n);
    m = both(w.b, w.n);
    assert_non_null(m);
    const Netpulse__ClassTable *ct = m->partial->classes;
    assert_int_equal(ct->n_dests, 2);
    assert_int_equal(ct->total->n_counts, 1);
    assert_int_equal(ct->total->n_confidence, 1);
    assert_int_equal(ct->total->ip.len, 4);
    assert_non_null(ct->other);
    const Netpulse__GroupAgg *g = m->partial->views[0]->other;
    assert_int_equal(g->key.len, 1);
    assert_int_equal(g->records, 0);
    assert_int_equal(g->bytes, 3);
}

/* Malformed input is refused with a reason, never read past its end: every prefix of a
 * real partial, broken varints, tags and lengths, wrong wire types (and one longest
 * varint that is fine). */
static void test_malformed(void **s) {
    (void)s;
    static wbuf_t w;
    full_partial(&w);
    size_t refused = 0;
    for (size_t n = 0; n < w.n; n++) {
        uint8_t *cut = malloc(n ? n : 1); /* exactly n bytes: ASan sees a read past them */
        memcpy(cut, w.b, n);
        refused += both(cut, n) == NULL;
        free(cut);
    }
    assert_true(refused > w.n / 2);
    np_wmsg_err_t why;
    static const struct {
        const char *bytes;
        size_t len;
        np_wmsg_err_t why;
    } bad[] = {
        {"\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 12, NP_WMSG_TRUNCATED}, /* an 11-byte varint */
        {"\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x7f", 11,
         NP_WMSG_OK},                                 /* 10 bytes: taken, bits past 64 dropped */
        {"\x08\x80", 2, NP_WMSG_TRUNCATED},           /* unterminated */
        {"\x80\x80\x80\x80\x80\x01", 6, NP_WMSG_TAG}, /* a 6-byte tag */
        {"\x80", 1, NP_WMSG_TAG},                     /* a cut tag */
        {"\x05"
         "abcd",
         5, NP_WMSG_TAG}, /* field 0 in one byte */
        {"\x12\x05"
         "abc",
         5, NP_WMSG_TRUNCATED},                                 /* a length past the end */
        {"\x12\xff\xff\xff\xff\x0f", 6, NP_WMSG_LENGTH},        /* 2^32 - 1: wraps in protobuf-c */
        {"\x12\x80\x80\x80\x80\x80\x01", 7, NP_WMSG_TRUNCATED}, /* a 6-byte length */
        {"\x0a\x01\x00", 3, NP_WMSG_WIRE},                      /* version as bytes */
        {"\x15"
         "abcd",
         5, NP_WMSG_WIRE},                                  /* worker_id as 32-bit */
        {"\x52\x02\x40\x01", 4, NP_WMSG_WIRE},              /* a source as a varint */
        {"\x52\x02\xb0\x01", 4, NP_WMSG_TRUNCATED},         /* a bool without a value */
        {"\x52\x04\x6a\x02\x08\x80", 6, NP_WMSG_TRUNCATED}, /* packed: a cut varint */
        {"\x52\x03\x6a\x01\x80", 5, NP_WMSG_TRUNCATED},     /* packed: no varint's end */
        {"\x52\x03\x69"
         "ab",
         5, NP_WMSG_TRUNCATED},                                 /* 64-bit, 2 bytes */
        {"\x52\x04\x42\x02\x08\x01", 6, NP_WMSG_WIRE},          /* a source's ip as a varint */
        {"\x52\x05\x42\x03\x2d\x01\x02", 7, NP_WMSG_TRUNCATED}, /* 32-bit field, 2 bytes */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t *b = malloc(bad[i].len);
        memcpy(b, bad[i].bytes, bad[i].len);
        Netpulse__WorkerMsg *m = np_wmsg_decode(A, b, bad[i].len, &why);
        print_message("case %zu: %s\n", i, np_wmsg_err_str(why));
        assert_int_equal(why, bad[i].why);
        if (why == NP_WMSG_OK) /* the one case that is accepted */
            assert_int_equal(both(b, bad[i].len)->version, 0);
        else
            assert_null(m);
        if (why != NP_WMSG_LENGTH && why != NP_WMSG_OK)
            assert_null(netpulse__worker_msg__unpack(NULL, bad[i].len, b));
        free(b);
    }
}

/* Memory: arena only, and a failed decode's use is the caller's to rewind. */
static void test_arena_only(void **s) {
    (void)s;
    static wbuf_t w;
    full_partial(&w);
    np_arena_t *a = np_arena_new(4096);
    np_arena_mark_t m0 = np_arena_mark(a);
    assert_non_null(np_wmsg_decode(a, w.b, w.n, NULL));
    size_t used = np_arena_used(a);
    assert_true(used > 0 && used < 8 * w.n);
    np_arena_rewind(a, m0);
    assert_null(np_wmsg_decode(a, w.b, w.n - 1, NULL));
    np_arena_rewind(a, m0);
    assert_int_equal(np_arena_used(a), 0);
    np_arena_destroy(&a);
}

/* A message of descriptor d with every field set (distinct values, 2 elements per repeated
 * field; of a oneof, member number `pick` of the message's oneof fields), in the arena. */
static uint64_t seq;
static ProtobufCMessage *filled(const ProtobufCMessageDescriptor *d, unsigned pick) {
    ProtobufCMessage *m = np_arena_alloc(A, d->sizeof_message);
    protobuf_c_message_init(d, m);
    for (unsigned i = 0, oneof = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        char *p = (char *)m + fd->offset;
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (oneof++ != pick) continue;
            *(uint32_t *)((char *)m + fd->quantifier_offset) = fd->id;
        }
        size_t n = fd->label == PROTOBUF_C_LABEL_REPEATED ? 2 : 1, es = 8;
        if (fd->type == PROTOBUF_C_TYPE_BYTES) es = sizeof(ProtobufCBinaryData);
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            *(size_t *)((char *)m + fd->quantifier_offset) = n;
            p = *(char **)p = np_arena_alloc(A, n * es);
            if (fd->type != PROTOBUF_C_TYPE_UINT64 && fd->type != PROTOBUF_C_TYPE_MESSAGE) es = 4;
        }
        for (size_t k = 0; k < n; k++, p += es) {
            seq++;
            switch (fd->type) {
            case PROTOBUF_C_TYPE_MESSAGE: *(ProtobufCMessage **)p = filled(fd->descriptor, 0); break;
            case PROTOBUF_C_TYPE_STRING: {
                char *str = np_arena_alloc(A, 24);
                snprintf(str, 24, "s%llu", (unsigned long long)seq);
                *(char **)p = str;
                break;
            }
            case PROTOBUF_C_TYPE_BYTES: {
                ProtobufCBinaryData *b = (ProtobufCBinaryData *)p;
                b->data = np_arena_alloc(A, 8);
                memcpy(b->data, &seq, 8);
                b->len = 1 + seq % 8;
                break;
            }
            case PROTOBUF_C_TYPE_BOOL: *(protobuf_c_boolean *)p = 1; break;
            case PROTOBUF_C_TYPE_INT64:
            case PROTOBUF_C_TYPE_UINT64: *(uint64_t *)p = seq * 1000003; break;
            default: *(uint32_t *)p = (uint32_t)seq; break;
            }
        }
    }
    return m;
}

/* np_wmsg knows every field of the schema: a message with all of them set (both bodies)
 * decodes as protobuf-c decodes it. A field added to proto/netpulse.proto and not to
 * np_wmsg.c would be skipped as unknown: this test fails then. */
static void test_schema_complete(void **s) {
    (void)s;
    static wbuf_t w;
    for (unsigned pick = 0; pick < 2; pick++) {
        np_arena_mark_t mark = np_arena_mark(A);
        ProtobufCMessage *m = filled(&netpulse__worker_msg__descriptor, pick);
        w.n = protobuf_c_message_pack(m, w.b);
        print_message("pick %u: %zu bytes\n", pick, w.n);
        assert_true(w.n > 50);
        assert_non_null(both(w.b, w.n));
        np_arena_rewind(A, mark);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_progress),
        cmocka_unit_test(test_unknown_fields),
        cmocka_unit_test(test_packed_unpacked_last_wins),
        cmocka_unit_test(test_merge_and_oneof),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_arena_only),
        cmocka_unit_test(test_schema_complete),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
