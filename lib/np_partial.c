/* np_partial: WorkerMsg encoding with reused buffers. See np_partial.h. */
#include "np_partial.h"
#include "np_pair.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void np_partial_enc_init(np_partial_enc_t *e) { memset(e, 0, sizeof(*e)); }

void np_partial_aggbuf_free(np_aggbuf_t *b) {
    free(b->pmix);
    free(b->sketches);
    free(b->aggs);
    free(b->ptrs);
    memset(b, 0, sizeof(*b));
}

void np_partial_enc_free(np_partial_enc_t *e) {
    np_partial_aggbuf_free(&e->src);
    np_partial_aggbuf_free(&e->dst);
    np_partial_aggbuf_free(&e->win);
    free(e->views.views);
    free(e->views.vptrs);
    free(e->views.groups);
    free(e->views.gptrs);
    free(e->views.keys);
    free(e->cls.aggs);
    free(e->cls.ptrs);
    free(e->cls.nums);
    free(e->fanin);
    free(e->prog);
    free(e->prog_ptrs);
    free(e->buf);
    memset(e, 0, sizeof(*e));
}

static int reserve(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    void *np = realloc(*p, n * elem);
    if (!np) return -1;
    *p = np;
    *cap = n;
    return 0;
}

static int pack(np_partial_enc_t *e, Netpulse__WorkerMsg *msg, const uint8_t **out, size_t *out_len) {
    size_t need = netpulse__worker_msg__get_packed_size(msg);
    if (reserve((void **)&e->buf, &e->buf_cap, need, 1) < 0) return -1;
    *out_len = netpulse__worker_msg__pack(msg, e->buf);
    *out = e->buf;
    return 0;
}

/* pack() without protobuf-c's sizing pass, a walk of the whole message (7 % of a final
 * pane's finalize at 1,000 partitions): into a buffer of bound bytes, which the caller
 * computed as an upper bound of the packed size. The bytes are pack()'s. */
static int pack_within(np_partial_enc_t *e, Netpulse__WorkerMsg *msg, size_t bound, const uint8_t **out,
                       size_t *out_len) {
    if (reserve((void **)&e->buf, &e->buf_cap, bound, 1) < 0) return -1;
    *out_len = netpulse__worker_msg__pack(msg, e->buf);
    if (*out_len > bound) abort(); /* a wrong bound wrote past the buffer: stop, never go on */
    *out = e->buf;
    return 0;
}

/* Writes entry s as e->aggs[k], its sketches at e->sketches + *off (none when !sketches:
 * a bounded partial's destinations, whose fan-in travels in the np_vhll pool). */
static void fill_entry(np_aggbuf_t *e, size_t k, const np_srcagg_t *s, size_t *off, bool sketches) {
    Netpulse__SourceAgg *a = &e->aggs[k];
    netpulse__source_agg__init(a);
    a->ip.data = (uint8_t *)s->ip.b;
    a->ip.len = 16;
    a->records = s->records;
    a->bytes = s->bytes;
    a->packets = s->packets;
    a->protocol_records = &e->pmix[k * NP_PMIX__COUNT];
    a->n_protocol_records = NP_PMIX__COUNT;
    memcpy(a->protocol_records, s->pmix, sizeof(s->pmix));
    e->ptrs[k] = a;
    if (!sketches) return;
    a->dst_ips.data = e->sketches + *off;
    a->dst_ips.len = np_hll_encode(&s->dst_ips, e->sketches + *off, e->sketches_cap - *off);
    *off += a->dst_ips.len;
    a->dst_ports.data = e->sketches + *off;
    a->dst_ports.len = np_hll_encode(&s->dst_ports, e->sketches + *off, e->sketches_cap - *off);
    *off += a->dst_ports.len;
}

static void fill_one(np_aggbuf_t *e, size_t k, const np_srcagg_t *s, size_t *off) { fill_entry(e, k, s, off, true); }

/* Room for n entries whose sketches take sk bytes. */
static int aggbuf_reserve(np_aggbuf_t *e, size_t n, size_t sk) {
    size_t cap = e->cap;
    if (reserve((void **)&e->aggs, &cap, n, sizeof(*e->aggs)) < 0) return -1;
    if (reserve((void **)&e->ptrs, &e->cap, n, sizeof(*e->ptrs)) < 0) return -1;
    if (reserve((void **)&e->pmix, &e->pmix_cap, n * NP_PMIX__COUNT, sizeof(*e->pmix)) < 0) return -1;
    return reserve((void **)&e->sketches, &e->sketches_cap, sk, 1);
}

/* m's `other` aggregate into e->other (*other NULL when empty). */
static void fill_other(np_aggbuf_t *e, const np_srcmap_t *m, Netpulse__SourceAgg **other) {
    const np_srcagg_t *o = m ? np_srcmap_other(m) : NULL;
    *other = NULL;
    if (o && o->records) {
        netpulse__source_agg__init(&e->other);
        e->other.records = o->records;
        e->other.bytes = o->bytes;
        e->other.packets = o->packets;
        *other = &e->other;
    }
}

static long fill_table(np_aggbuf_t *e, const np_srcmap_t *m, Netpulse__SourceAgg ***out, Netpulse__SourceAgg **other,
                       bool sketches) {
    size_t n = m ? np_srcmap_count(m) : 0, sk = 0;
    for (size_t i = 0; sketches && m && i < np_srcmap_slots(m); i++) {
        const np_srcagg_t *s = np_srcmap_slot(m, i);
        if (s) sk += np_hll_encoded_size(&s->dst_ips) + np_hll_encoded_size(&s->dst_ports);
    }
    if (aggbuf_reserve(e, n, sk) < 0) return -1;
    size_t k = 0, off = 0;
    for (size_t i = 0; m && i < np_srcmap_slots(m) && k < n; i++) {
        const np_srcagg_t *s = np_srcmap_slot(m, i);
        if (s) fill_entry(e, k++, s, &off, sketches);
    }
    e->sketches_len = off;
    *out = e->ptrs;
    fill_other(e, m, other);
    return (long)k;
}

long np_partial_fill_table(np_aggbuf_t *e, const np_srcmap_t *m, Netpulse__SourceAgg ***out,
                           Netpulse__SourceAgg **other) {
    return fill_table(e, m, out, other, true);
}

/* A bounded partial's fan-in: every destination's distinct-source sketch folded into one
 * fixed-size pool (np_vhll), encoded into e->fanin. Returns its length (0: no destination). */
static long fill_fanin(np_partial_enc_t *e, np_vhll_t *v, const np_srcmap_t *m) {
    np_vhll_clear(v);
    for (size_t i = 0; m && i < np_srcmap_slots(m); i++) {
        const np_srcagg_t *d = np_srcmap_slot(m, i);
        if (d) np_vhll_add_sketch(v, &d->ip, &d->dst_ips);
    }
    if (!np_vhll_used(v)) return 0;
    size_t need = np_vhll_encoded_size(v);
    if (reserve((void **)&e->fanin, &e->fanin_cap, need, 1) < 0) return -1;
    return (long)np_vhll_encode(v, e->fanin, e->fanin_cap);
}

long np_partial_fill_changed(np_aggbuf_t *e, const np_srcmap_t *m, Netpulse__SourceAgg ***out,
                             Netpulse__SourceAgg **other) {
    size_t n = np_srcmap_changed_count(m), sk = 0, total = np_srcmap_entries(m);
    for (size_t i = 0; i < total; i++)
        if (np_srcmap_changed(m, i)) {
            const np_srcagg_t *s = np_srcmap_entry(m, i);
            sk += np_hll_encoded_size(&s->dst_ips) + np_hll_encoded_size(&s->dst_ports);
        }
    if (aggbuf_reserve(e, n, sk) < 0) return -1;
    size_t k = 0, off = 0;
    for (size_t i = 0; i < total && k < n; i++)
        if (np_srcmap_changed(m, i)) fill_one(e, k++, np_srcmap_entry(m, i), &off);
    e->sketches_len = off;
    *out = e->ptrs;
    fill_other(e, m, other);
    return (long)k;
}

long np_partial_fill_list(np_aggbuf_t *e, const np_srcagg_t *const *list, size_t n, Netpulse__SourceAgg ***out) {
    size_t sk = 0;
    for (size_t i = 0; i < n; i++) sk += np_hll_encoded_size(&list[i]->dst_ips) + np_hll_encoded_size(&list[i]->dst_ports);
    if (aggbuf_reserve(e, n, sk) < 0) return -1;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) fill_one(e, i, list[i], &off);
    e->sketches_len = off;
    *out = e->ptrs;
    return (long)n;
}

/* Prefetch distances in entries: far enough that a miss (~100 ns) is over when the
 * merge reaches the entry, near enough that the lines are still cached. */
enum { PF_NEAR = 4, PF_FAR = 8 };

static void prefetch_source(const np_srcmap_t *m, const Netpulse__SourceAgg *sa, int stage) {
    if (sa->ip.len != 16) return;
    np_ip_t ip;
    memcpy(ip.b, sa->ip.data, 16);
    np_srcmap_prefetch(m, &ip, stage);
}

long np_partial_merge_table(np_srcmap_t *m, Netpulse__SourceAgg *const *entries, size_t n,
                            const Netpulse__SourceAgg *other, uint64_t evicted, np_hll_pool_t *pool) {
    long full = 0;
    bool bad = false;
    for (size_t i = 0; i < n; i++) {
        /* The table's index slot PF_FAR entries ahead, the entry it names PF_NEAR ahead:
         * the misses of later lookups overlap this one's work (see np_srcmap_prefetch). */
        if (i + PF_FAR < n) prefetch_source(m, entries[i + PF_FAR], 0);
        if (i + PF_NEAR < n) prefetch_source(m, entries[i + PF_NEAR], 1);
        int r = np_partial_merge_source(m, entries[i], pool);
        if (r == 1) full++;
        if (r < 0) bad = true;
    }
    if ((other && other->records) || evicted)
        np_srcmap_add_other(m, other ? other->records : 0, other ? other->bytes : 0, other ? other->packets : 0, evicted);
    return bad ? -1 : full;
}

long np_partial_fill_views(np_viewbuf_t *b, const np_viewagg_t *a, size_t n, Netpulse__ViewAgg ***out) {
    size_t ng = 0, vcap = b->vcap, gcap = b->gcap;
    for (size_t i = 0; i < n; i++) ng += np_gtab_count(a[i].groups) + 1;
    if (reserve((void **)&b->views, &vcap, n, sizeof(*b->views)) < 0 ||
        reserve((void **)&b->vptrs, &b->vcap, n, sizeof(*b->vptrs)) < 0 ||
        reserve((void **)&b->groups, &gcap, ng, sizeof(*b->groups)) < 0 ||
        reserve((void **)&b->gptrs, &b->gcap, ng, sizeof(*b->gptrs)) < 0 ||
        reserve((void **)&b->keys, &b->keys_cap, ng * NP_GKEY_WIRE, 1) < 0)
        return -1;
    size_t k = 0, g = 0;
    for (size_t i = 0; i < n; i++) {
        const np_gtab_t *t = a[i].groups;
        uint64_t rec, by, pk;
        np_gtab_totals(t, &rec, &by, &pk);
        if (rec == 0) continue;
        Netpulse__ViewAgg *v = &b->views[k];
        netpulse__view_agg__init(v);
        v->name = (char *)a[i].view->name;
        v->groups = &b->gptrs[g];
        for (size_t j = 0; j < np_gtab_slots(t); j++) {
            const np_gagg_t *e = np_gtab_slot(t, j);
            if (!e) continue;
            Netpulse__GroupAgg *ga = &b->groups[g];
            netpulse__group_agg__init(ga);
            np_gkey_encode(&e->key, &b->keys[g * NP_GKEY_WIRE]);
            ga->key.data = &b->keys[g * NP_GKEY_WIRE];
            ga->key.len = NP_GKEY_WIRE;
            ga->records = e->records;
            ga->bytes = e->bytes;
            ga->packets = e->packets;
            b->gptrs[g++] = ga;
            v->n_groups++;
        }
        const np_gagg_t *o = np_gtab_other(t);
        if (o->records) {
            Netpulse__GroupAgg *ga = &b->groups[g++];
            netpulse__group_agg__init(ga);
            ga->records = o->records;
            ga->bytes = o->bytes;
            ga->packets = o->packets;
            v->other = ga;
        }
        v->groups_evicted = np_gtab_evicted(t);
        b->vptrs[k++] = v;
    }
    *out = b->vptrs;
    return (long)k;
}

long np_partial_merge_views(np_viewagg_t *a, const np_viewset_t *vs, Netpulse__ViewAgg *const *v, size_t n) {
    long unknown = 0;
    bool bad = false;
    for (size_t i = 0; i < n; i++) {
        int vi = vs && v[i]->name ? np_viewset_find(vs, v[i]->name, strlen(v[i]->name)) : -1;
        if (vi < 0 || !a) {
            unknown++;
            continue;
        }
        np_gtab_t *t = a[vi].groups;
        for (size_t j = 0; j < v[i]->n_groups; j++) {
            const Netpulse__GroupAgg *ga = v[i]->groups[j];
            np_gkey_t key;
            if (ga->records == 0 || np_gkey_decode(ga->key.data, ga->key.len, &key) < 0) {
                bad = true;
                continue;
            }
            np_gtab_add(t, &key, ga->records, ga->bytes, ga->packets);
        }
        const Netpulse__GroupAgg *o = v[i]->other;
        if ((o && o->records) || v[i]->groups_evicted)
            np_gtab_add_other(t, o ? o->records : 0, o ? o->bytes : 0, o ? o->packets : 0, v[i]->groups_evicted);
    }
    return bad ? -1 : unknown;
}

int np_partial_merge_source(np_srcmap_t *m, const Netpulse__SourceAgg *sa, np_hll_pool_t *pool) {
    if (sa->ip.len != 16 || sa->records == 0) return -1;
    np_srcagg_t e;
    memset(&e, 0, sizeof(e));
    memcpy(e.ip.b, sa->ip.data, 16);
    e.records = sa->records;
    e.bytes = sa->bytes;
    e.packets = sa->packets;
    for (size_t i = 0; i < sa->n_protocol_records && i < NP_PMIX__COUNT; i++) e.pmix[i] = sa->protocol_records[i];
    char err[64];
    int rc = 0;
    /* A sketch that does not decode is left empty: the counters still merge. */
    if (sa->dst_ips.len && np_hll_decode(&e.dst_ips, pool, sa->dst_ips.data, sa->dst_ips.len, err, sizeof(err)) < 0) rc = -1;
    if (sa->dst_ports.len && np_hll_decode(&e.dst_ports, pool, sa->dst_ports.data, sa->dst_ports.len, err, sizeof(err)) < 0) rc = -1;
    int r = np_srcmap_merge(m, &e);
    np_hll_reset(&e.dst_ips, pool);
    np_hll_reset(&e.dst_ports, pool);
    return r == 1 ? 1 : rc;
}

/* Points a ClassAgg at 2 * NP_KDD_NCLASSES numbers in nums, filled from c. */
static void class_agg(Netpulse__ClassAgg *a, uint64_t *nums, const np_ip_t *ip, const np_classcount_t *c) {
    netpulse__class_agg__init(a);
    if (ip) {
        a->ip.data = (uint8_t *)ip->b;
        a->ip.len = 16;
    }
    memcpy(nums, c->n, sizeof(c->n));
    memcpy(nums + NP_KDD_NCLASSES, c->conf, sizeof(c->conf));
    a->counts = nums;
    a->n_counts = NP_KDD_NCLASSES;
    a->confidence = nums + NP_KDD_NCLASSES;
    a->n_confidence = NP_KDD_NCLASSES;
}

Netpulse__ClassTable *np_partial_fill_classes(np_classbuf_t *b, const np_classmap_t *m, int *err) {
    *err = 0;
    if (!m || np_classmap_empty(m)) return NULL;
    size_t n = np_classmap_count(m), cap = b->cap;
    if (reserve((void **)&b->aggs, &cap, n, sizeof(*b->aggs)) < 0 ||
        reserve((void **)&b->ptrs, &b->cap, n, sizeof(*b->ptrs)) < 0 ||
        reserve((void **)&b->nums, &b->nums_cap, (n + 2) * 2 * NP_KDD_NCLASSES, sizeof(*b->nums)) < 0) {
        *err = -1;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const np_ip_t *ip;
        const np_classcount_t *c;
        np_classmap_entry(m, i, &ip, &c);
        class_agg(&b->aggs[i], b->nums + i * 2 * NP_KDD_NCLASSES, ip, c);
        b->ptrs[i] = &b->aggs[i];
    }
    netpulse__class_table__init(&b->table);
    class_agg(&b->total, b->nums + n * 2 * NP_KDD_NCLASSES, NULL, np_classmap_total(m));
    class_agg(&b->other, b->nums + (n + 1) * 2 * NP_KDD_NCLASSES, NULL, np_classmap_other(m));
    b->table.total = &b->total;
    b->table.other = &b->other;
    b->table.dests = b->ptrs;
    b->table.n_dests = n;
    b->table.dests_evicted = np_classmap_evicted(m);
    return &b->table;
}

int np_partial_class_count(const Netpulse__ClassAgg *a, np_classcount_t *c) {
    if (!a || a->n_counts != NP_KDD_NCLASSES || a->n_confidence != NP_KDD_NCLASSES) return -1;
    memcpy(c->n, a->counts, sizeof(c->n));
    memcpy(c->conf, a->confidence, sizeof(c->conf));
    return 0;
}

long np_partial_merge_classes(np_classmap_t *m, const Netpulse__ClassTable *t) {
    long full = 0;
    int bad = 0;
    np_classcount_t c;
    for (size_t i = 0; i < t->n_dests; i++) {
        np_ip_t ip;
        if (np_partial_class_count(t->dests[i], &c) < 0 || t->dests[i]->ip.len != 16) {
            bad = 1;
            continue;
        }
        memcpy(ip.b, t->dests[i]->ip.data, 16);
        full += np_classmap_merge(m, &ip, &c);
    }
    if (t->other && np_partial_class_count(t->other, &c) == 0) np_classmap_merge(m, NULL, &c);
    np_classmap_add_evicted(m, t->dests_evicted);
    return bad ? -1 : full;
}

/* reserve()'s capacity for need elements. */
static size_t reserved(size_t need) {
    size_t n = 64;
    while (n < need) n *= 2;
    return n;
}

/* A packed SourceAgg without its sketches: tag + length, the address, three varints, the
 * packed protocol mix, the two sketch fields' tags and lengths. A strict bound (pack_within
 * relies on it): an entry is under 2^21 bytes, so its tag and length take at most 4 (one
 * over the 3 here) and each sketch field's at most 4 (two under the 6 here). */
#define GPANE_ENTRY_WIRE_MAX (3 + 18 + 3 * 11 + 3 + NP_PMIX__COUNT * 5 + 2 * 6)

/* Encoded sketches of a pane: every entry's two at their inline maximum, dense_max of
 * them dense (a dense one is at most 3 + 3/4 of its registers). */
static size_t gpane_sketch_bytes(size_t max_sources, size_t dense_max, unsigned p) {
    size_t inline_max = 3 + 4 * NP_HLL_INLINE, dense = 3 + 3 * ((size_t)1 << p) / 4;
    if (dense_max > 2 * max_sources) dense_max = 2 * max_sources;
    return 2 * max_sources * inline_max + dense_max * dense;
}

size_t np_partial_gpane_wire_bound_bytes(size_t max_sources, size_t dense_max, unsigned p) {
    /* + the pane's own fields, its partition bitmap and class totals */
    return max_sources * GPANE_ENTRY_WIRE_MAX + gpane_sketch_bytes(max_sources, dense_max, p) + 4096;
}

size_t np_partial_gpane_enc_bound_bytes(size_t max_sources, size_t dense_max, unsigned p) {
    size_t n = reserved(max_sources);
    return n * (sizeof(Netpulse__SourceAgg) + sizeof(Netpulse__SourceAgg *) + NP_PMIX__COUNT * sizeof(uint32_t)) +
           reserved(gpane_sketch_bytes(max_sources, dense_max, p)) +
           reserved(np_partial_gpane_wire_bound_bytes(max_sources, dense_max, p));
}

int np_partial_encode_gpane(np_partial_enc_t *e, const np_gpane_t *gp, int64_t pane_ms, const uint8_t **out,
                            size_t *out_len) {
    Netpulse__SourceAgg **srcs, *other;
    long k = np_partial_fill_table(&e->src, gp->sources, &srcs, &other);
    if (k < 0) return -1;
    Netpulse__Partial p = NETPULSE__PARTIAL__INIT;
    p.partition = -1;
    p.other = other;
    p.pane_start_ms = gp->start_ms;
    p.pane_ms = pane_ms;
    p.records = gp->records;
    p.bytes = gp->bytes;
    p.packets = gp->packets;
    p.late_records = gp->late_records;
    p.n_sources = (size_t)k;
    p.sources = srcs;
    p.sources_evicted = gp->sources_evicted;
    p.partitions = gp->partitions;
    p.sources_total = gp->nsources;
    p.sources_bounded = gp->bounded;
    p.protocol_records = (uint64_t *)gp->pmix;
    p.n_protocol_records = NP_PMIX__COUNT;
    uint8_t seen[NP_MERGE_MAX_PARTITIONS / 8];
    if (gp->seen) { /* partitions with data: the window-only ones left out */
        for (size_t i = 0; i < sizeof(seen); i++) seen[i] = gp->seen[i] & (uint8_t)~(gp->wonly ? gp->wonly[i] : 0);
        p.seen.data = seen;
        p.seen.len = sizeof(seen);
    }
    /* A final pane keeps its class totals for the sliding windows; its destinations served
     * detection already. */
    if (np_classcount_sum(&gp->class_total)) {
        if (reserve((void **)&e->cls.nums, &e->cls.nums_cap, 2 * NP_KDD_NCLASSES, sizeof(*e->cls.nums)) < 0)
            return -1;
        class_agg(&e->cls.total, e->cls.nums, NULL, &gp->class_total);
        netpulse__class_table__init(&e->cls.table);
        e->cls.table.total = &e->cls.total;
        p.classes = &e->cls.table;
    }
    Netpulse__WorkerMsg msg = NETPULSE__WORKER_MSG__INIT;
    msg.version = NP_WIRE_VERSION;
    msg.worker_id = (char *)"coordinator";
    msg.body_case = NETPULSE__WORKER_MSG__BODY_PARTIAL;
    msg.partial = &p;
    /* Every entry within GPANE_ENTRY_WIRE_MAX besides its sketches; the pane's own fields,
     * bitmap, class totals and `other` within the 4,096 of np_partial_gpane_wire_bound_bytes
     * (so the buffer stays within np_partial_gpane_enc_bound_bytes). */
    return pack_within(e, &msg, (size_t)k * GPANE_ENTRY_WIRE_MAX + e->src.sketches_len + 4096, out, out_len);
}

int np_partial_decode_gpane(const uint8_t *buf, size_t len, np_gpane_t *g, np_hll_pool_t *pool) {
    Netpulse__WorkerMsg *m = netpulse__worker_msg__unpack(NULL, len, buf);
    if (!m || m->body_case != NETPULSE__WORKER_MSG__BODY_PARTIAL) {
        if (m) netpulse__worker_msg__free_unpacked(m, NULL);
        return -1;
    }
    const Netpulse__Partial *p = m->partial;
    g->start_ms = p->pane_start_ms;
    g->records = p->records;
    g->bytes = p->bytes;
    g->packets = p->packets;
    g->late_records = p->late_records;
    g->sources_evicted = p->sources_evicted;
    g->partitions = p->partitions;
    g->nsources = p->sources_total;
    g->bounded = p->sources_bounded;
    if (p->seen.len == NP_MERGE_MAX_PARTITIONS / 8) memcpy(g->seen, p->seen.data, p->seen.len);
    for (size_t i = 0; i < p->n_protocol_records && i < NP_PMIX__COUNT; i++) g->pmix[i] = p->protocol_records[i];
    np_partial_merge_table(g->sources, p->sources, p->n_sources, p->other, 0, pool);
    if (p->classes) np_partial_class_count(p->classes->total, &g->class_total);
    netpulse__worker_msg__free_unpacked(m, NULL);
    return 0;
}

int np_partial_encode(np_partial_enc_t *e, const char *worker_id, int32_t partition,
                      const np_pane_t *pane, int64_t pane_ms, uint64_t late_records,
                      const uint8_t **out, size_t *out_len) {
    return np_partial_encode_sel(e, worker_id, partition, pane, pane_ms, late_records, NULL, out, out_len);
}

int np_partial_encode_sel(np_partial_enc_t *e, const char *worker_id, int32_t partition, const np_pane_t *pane,
                          int64_t pane_ms, uint64_t late_records, const np_partial_bounded_t *b,
                          const uint8_t **out, size_t *out_len) {
    Netpulse__SourceAgg **srcs, *other, **dsts = NULL, *dother = NULL, **wtop = NULL;
    long k, kw = 0;
    if (b && b->sel) {
        k = np_partial_fill_list(&e->src, b->sel, b->nsel, &srcs);
        fill_other(&e->src, pane->sources, &other);
    } else {
        k = np_partial_fill_table(&e->src, pane->sources, &srcs, &other);
    }
    bool pool = b && b->fanin && pane->dests;
    long kd = pane->dests ? fill_table(&e->dst, pane->dests, &dsts, &dother, !pool) : 0;
    long kf = pool ? fill_fanin(e, b->fanin, pane->dests) : 0;
    if (k < 0 || kd < 0 || kf < 0) return -1;

    Netpulse__Partial p = NETPULSE__PARTIAL__INIT;
    p.partition = partition;
    p.pane_start_ms = pane->start_ms;
    p.pane_ms = pane_ms;
    p.records = pane->records;
    p.bytes = pane->bytes;
    p.packets = pane->packets;
    p.late_records = late_records;
    p.close_offset = pane->close_offset > 0 ? pane->close_offset : 0;
    p.records_end_offset = pane->max_offset >= 0 ? pane->max_offset + 1 : 0;
    p.n_sources = (size_t)k;
    p.sources = srcs;
    p.sources_evicted = np_srcmap_evicted(pane->sources);
    p.sources_total = np_srcmap_count(pane->sources);
    if (b) {
        p.sources_bounded = b->sel != NULL;
        p.candidates_dropped = b->dropped;
        p.window_only = b->window_only;
        p.pair = b->pair;
        if (b->pair == NP_PAIR_MERGED) p.sources_total = b->pair_sources;
        if (b->window_ms) {
            kw = np_partial_fill_list(&e->win, b->win_top, b->nwin_top, &wtop);
            if (kw < 0) return -1;
            p.window_ms = b->window_ms;
            p.window_sources = b->window_sources;
            p.window_top = wtop;
            p.n_window_top = (size_t)kw;
        }
    }
    p.protocol_records = (uint64_t *)pane->pmix;
    p.n_protocol_records = NP_PMIX__COUNT;
    p.other = other;
    p.n_dests = (size_t)kd;
    p.dests = dsts;
    p.dest_other = dother;
    p.dests_evicted = pane->dests ? np_srcmap_evicted(pane->dests) : 0;
    p.fanin.data = e->fanin;
    p.fanin.len = (size_t)kf;
    p.dst_port_hist = (uint32_t *)pane->port_hist;
    p.n_dst_port_hist = NP_PORT_BUCKETS;
    long kv = np_partial_fill_views(&e->views, pane->views, pane->nviews, &p.views);
    if (kv < 0) return -1;
    p.n_views = (size_t)kv;
    int cerr;
    p.classes = np_partial_fill_classes(&e->cls, pane->classes, &cerr);
    if (cerr) return -1;

    Netpulse__WorkerMsg msg = NETPULSE__WORKER_MSG__INIT;
    msg.version = NP_WIRE_VERSION;
    msg.worker_id = (char *)worker_id;
    msg.body_case = NETPULSE__WORKER_MSG__BODY_PARTIAL;
    msg.partial = &p;
    return pack(e, &msg, out, out_len);
}

int np_progress_encode(np_partial_enc_t *e, const char *worker_id, const char *session, np_partstate_t *const *parts,
                       const int64_t *closed_through, const uint8_t *idle, const np_progress_claim_t *claims,
                       size_t n, int32_t partitions_total, const uint8_t **out, size_t *out_len) {
    size_t cap = e->prog_cap;
    if (reserve((void **)&e->prog, &cap, n, sizeof(*e->prog)) < 0) return -1;
    if (reserve((void **)&e->prog_ptrs, &e->prog_cap, n, sizeof(*e->prog_ptrs)) < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        Netpulse__PartitionProgress *pp = &e->prog[i];
        netpulse__partition_progress__init(pp);
        pp->partition = parts[i]->partition;
        pp->closed_through_ms = closed_through[i];
        pp->watermark_ms = np_partstate_watermark(parts[i]);
        pp->idle = idle[i];
        pp->has_data = parts[i]->has_data;
        if (claims) {
            pp->epoch = claims[i].epoch;
            pp->topic = (char *)claims[i].topic;
            pp->topic_partition = claims[i].topic_partition;
        }
        e->prog_ptrs[i] = pp;
    }
    Netpulse__Progress pr = NETPULSE__PROGRESS__INIT;
    pr.n_partitions = n;
    pr.partitions = e->prog_ptrs;
    pr.partitions_total = partitions_total;
    Netpulse__WorkerMsg msg = NETPULSE__WORKER_MSG__INIT;
    msg.version = NP_WIRE_VERSION;
    msg.worker_id = (char *)worker_id;
    msg.session = (char *)(session ? session : "");
    msg.body_case = NETPULSE__WORKER_MSG__BODY_PROGRESS;
    msg.progress = &pr;
    return pack(e, &msg, out, out_len);
}
