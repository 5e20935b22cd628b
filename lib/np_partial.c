/* np_partial: WorkerMsg encoding with reused buffers. See np_partial.h. */
#include "np_partial.h"

#include <stdlib.h>
#include <string.h>

void np_partial_enc_init(np_partial_enc_t *e) { memset(e, 0, sizeof(*e)); }

void np_partial_enc_free(np_partial_enc_t *e) {
    free(e->aggs);
    free(e->ptrs);
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

/* Fills e->aggs/e->ptrs from a source table; returns the count, or -1. */
static long fill_sources(np_partial_enc_t *e, const np_srcmap_t *m) {
    size_t n = m ? np_srcmap_count(m) : 0;
    size_t cap = e->cap;
    if (reserve((void **)&e->aggs, &cap, n, sizeof(*e->aggs)) < 0) return -1;
    if (reserve((void **)&e->ptrs, &e->cap, n, sizeof(*e->ptrs)) < 0) return -1;
    size_t k = 0;
    for (size_t i = 0; m && i < np_srcmap_slots(m) && k < n; i++) {
        const np_srcagg_t *s = np_srcmap_slot(m, i);
        if (!s) continue;
        Netpulse__SourceAgg *a = &e->aggs[k];
        netpulse__source_agg__init(a);
        a->ip.data = (uint8_t *)s->ip.b;
        a->ip.len = 16;
        a->records = s->records;
        a->bytes = s->bytes;
        a->packets = s->packets;
        e->ptrs[k++] = a;
    }
    return (long)k;
}

int np_partial_encode_gpane(np_partial_enc_t *e, const np_gpane_t *gp, int64_t pane_ms, const uint8_t **out,
                            size_t *out_len) {
    long k = fill_sources(e, gp->sources);
    if (k < 0) return -1;
    Netpulse__SourceAgg other = NETPULSE__SOURCE_AGG__INIT;
    Netpulse__Partial p = NETPULSE__PARTIAL__INIT;
    p.partition = -1;
    p.pane_start_ms = gp->start_ms;
    p.pane_ms = pane_ms;
    p.records = gp->records;
    p.bytes = gp->bytes;
    p.packets = gp->packets;
    p.late_records = gp->late_records;
    p.n_sources = (size_t)k;
    p.sources = e->ptrs;
    p.sources_evicted = gp->sources_evicted;
    p.partitions = gp->partitions;
    if (gp->seen) {
        p.seen.data = gp->seen;
        p.seen.len = NP_MERGE_MAX_PARTITIONS / 8;
    }
    if (gp->sources && np_srcmap_other(gp->sources)->records) {
        const np_srcagg_t *o = np_srcmap_other(gp->sources);
        other.records = o->records;
        other.bytes = o->bytes;
        other.packets = o->packets;
        p.other = &other;
    }
    Netpulse__WorkerMsg msg = NETPULSE__WORKER_MSG__INIT;
    msg.version = NP_WIRE_VERSION;
    msg.worker_id = (char *)"coordinator";
    msg.body_case = NETPULSE__WORKER_MSG__BODY_PARTIAL;
    msg.partial = &p;
    return pack(e, &msg, out, out_len);
}

int np_partial_decode_gpane(const uint8_t *buf, size_t len, np_gpane_t *g) {
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
    if (p->seen.len == NP_MERGE_MAX_PARTITIONS / 8) memcpy(g->seen, p->seen.data, p->seen.len);
    for (size_t i = 0; i < p->n_sources; i++) {
        np_ip_t ip;
        if (p->sources[i]->ip.len != 16 || !p->sources[i]->records) continue;
        memcpy(ip.b, p->sources[i]->ip.data, 16);
        np_srcmap_add(g->sources, &ip, p->sources[i]->records, p->sources[i]->bytes, p->sources[i]->packets);
    }
    if (p->other) np_srcmap_add_other(g->sources, p->other->records, p->other->bytes, p->other->packets, 0);
    netpulse__worker_msg__free_unpacked(m, NULL);
    return 0;
}

int np_partial_encode(np_partial_enc_t *e, const char *worker_id, int32_t partition,
                      const np_pane_t *pane, int64_t pane_ms, uint64_t late_records,
                      const uint8_t **out, size_t *out_len) {
    size_t n = np_srcmap_count(pane->sources);
    size_t cap = e->cap;
    if (reserve((void **)&e->aggs, &cap, n, sizeof(*e->aggs)) < 0) return -1;
    if (reserve((void **)&e->ptrs, &e->cap, n, sizeof(*e->ptrs)) < 0) return -1;
    size_t k = 0;
    for (size_t i = 0; i < np_srcmap_slots(pane->sources) && k < n; i++) {
        const np_srcagg_t *s = np_srcmap_slot(pane->sources, i);
        if (!s) continue;
        Netpulse__SourceAgg *a = &e->aggs[k];
        netpulse__source_agg__init(a);
        a->ip.data = (uint8_t *)s->ip.b;
        a->ip.len = 16;
        a->records = s->records;
        a->bytes = s->bytes;
        a->packets = s->packets;
        e->ptrs[k++] = a;
    }
    const np_srcagg_t *o = np_srcmap_other(pane->sources);
    Netpulse__SourceAgg other = NETPULSE__SOURCE_AGG__INIT;
    other.records = o->records;
    other.bytes = o->bytes;
    other.packets = o->packets;

    Netpulse__Partial p = NETPULSE__PARTIAL__INIT;
    p.partition = partition;
    p.pane_start_ms = pane->start_ms;
    p.pane_ms = pane_ms;
    p.records = pane->records;
    p.bytes = pane->bytes;
    p.packets = pane->packets;
    p.late_records = late_records;
    p.n_sources = k;
    p.sources = e->ptrs;
    p.sources_evicted = np_srcmap_evicted(pane->sources);
    if (o->records) p.other = &other;

    Netpulse__WorkerMsg msg = NETPULSE__WORKER_MSG__INIT;
    msg.version = NP_WIRE_VERSION;
    msg.worker_id = (char *)worker_id;
    msg.body_case = NETPULSE__WORKER_MSG__BODY_PARTIAL;
    msg.partial = &p;
    return pack(e, &msg, out, out_len);
}

int np_progress_encode(np_partial_enc_t *e, const char *worker_id, np_partstate_t *const *parts,
                       const uint8_t *idle, size_t n, int32_t partitions_total,
                       const uint8_t **out, size_t *out_len) {
    size_t cap = e->prog_cap;
    if (reserve((void **)&e->prog, &cap, n, sizeof(*e->prog)) < 0) return -1;
    if (reserve((void **)&e->prog_ptrs, &e->prog_cap, n, sizeof(*e->prog_ptrs)) < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        Netpulse__PartitionProgress *pp = &e->prog[i];
        netpulse__partition_progress__init(pp);
        pp->partition = parts[i]->partition;
        pp->closed_through_ms = parts[i]->closed_through;
        pp->watermark_ms = np_partstate_watermark(parts[i]);
        pp->idle = idle[i];
        pp->has_data = parts[i]->has_data;
        e->prog_ptrs[i] = pp;
    }
    Netpulse__Progress pr = NETPULSE__PROGRESS__INIT;
    pr.n_partitions = n;
    pr.partitions = e->prog_ptrs;
    pr.partitions_total = partitions_total;
    Netpulse__WorkerMsg msg = NETPULSE__WORKER_MSG__INIT;
    msg.version = NP_WIRE_VERSION;
    msg.worker_id = (char *)worker_id;
    msg.body_case = NETPULSE__WORKER_MSG__BODY_PROGRESS;
    msg.progress = &pr;
    return pack(e, &msg, out, out_len);
}
