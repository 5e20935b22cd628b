/* np_ckpt: partition checkpoints as protobuf. See np_ckpt.h. */
#include "np_ckpt.h"
#include "np_crc32.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netpulse.pb-c.h"
#include "np_partial.h"
#include "np_srcwin.h"

int np_ckpt_encode(const np_partstate_t *ps, const char *topic, int64_t epoch, const np_outbox_t *ob,
                   const int64_t *source_offsets, const int64_t *source_watermarks, size_t n_sources,
                   int64_t wall_ms, uint8_t **out, size_t *out_len) {
    int rc = -1;
    size_t npanes = ps->cfg.max_open_panes;
    Netpulse__PaneState *panes = calloc(npanes, sizeof(*panes));
    Netpulse__PaneState **pane_ptrs = calloc(npanes, sizeof(*pane_ptrs));
    np_partial_enc_t *encs = calloc(npanes, sizeof(*encs)); /* one per pane: all alive at once */
    ProtobufCBinaryData *obd = calloc(ob && ob->n ? ob->n : 1, sizeof(*obd));
    size_t nwin = ps->win ? np_srcwin_slots(ps->win) : 0;
    Netpulse__PaneState *wpanes = calloc(nwin ? nwin : 1, sizeof(*wpanes));
    Netpulse__PaneState **wptrs = calloc(nwin ? nwin : 1, sizeof(*wptrs));
    np_aggbuf_t *wbufs = calloc(nwin ? nwin : 1, sizeof(*wbufs));
    *out = NULL;
    if (!panes || !pane_ptrs || !encs || !obd || !wpanes || !wptrs || !wbufs) goto out;

    size_t k = 0;
    for (size_t i = 0; i < ps->cfg.max_open_panes; i++) {
        const np_pane_t *p = &ps->ring[i];
        if (p->start_ms == NP_TS_NONE) continue;
        Netpulse__PaneState *pst = &panes[k];
        netpulse__pane_state__init(pst);
        pst->pane_start_ms = p->start_ms;
        pst->records = p->records;
        pst->bytes = p->bytes;
        pst->packets = p->packets;
        pst->min_offset = p->min_offset;
        pst->protocol_records = (uint64_t *)p->pmix;
        pst->n_protocol_records = NP_PMIX__COUNT;
        long n = np_partial_fill_table(&encs[k].src, p->sources, &pst->sources, &pst->other);
        long nd = p->dests ? np_partial_fill_table(&encs[k].dst, p->dests, &pst->dests, &pst->dest_other) : 0;
        if (n < 0 || nd < 0) goto out;
        pst->n_sources = (size_t)n;
        pst->sources_evicted = np_srcmap_evicted(p->sources);
        pst->n_dests = (size_t)nd;
        pst->dests_evicted = p->dests ? np_srcmap_evicted(p->dests) : 0;
        pst->dst_port_hist = (uint32_t *)p->port_hist;
        pst->n_dst_port_hist = NP_PORT_BUCKETS;
        long nv = np_partial_fill_views(&encs[k].views, p->views, p->nviews, &pst->views);
        if (nv < 0) goto out;
        pst->n_views = (size_t)nv;
        int cerr;
        pst->classes = np_partial_fill_classes(&encs[k].cls, p->classes, &cerr);
        if (cerr) goto out;
        pane_ptrs[k++] = pst;
    }
    npanes = k;
    size_t kw = 0;
    for (size_t i = 0; i < nwin; i++) {
        if (np_srcwin_slot_start(ps->win, i) == NP_SRCWIN_NONE) continue;
        Netpulse__PaneState *pst = &wpanes[kw];
        netpulse__pane_state__init(pst);
        pst->pane_start_ms = np_srcwin_slot_start(ps->win, i);
        long n = np_partial_fill_table(&wbufs[kw], np_srcwin_slot(ps->win, i), &pst->sources, &pst->other);
        if (n < 0) goto out;
        pst->n_sources = (size_t)n;
        wptrs[kw++] = pst;
    }

    Netpulse__PartitionCheckpoint c = NETPULSE__PARTITION_CHECKPOINT__INIT;
    c.version = NP_CKPT_VERSION;
    c.topic = (char *)topic;
    c.partition = ps->partition;
    c.epoch = epoch;
    c.next_offset = ps->next_offset;
    c.max_ts = ps->max_ts;
    c.follow_wm = ps->follow_wm;
    c.closed_through = ps->closed_through;
    c.has_data = ps->has_data;
    c.late_pending = ps->late_pending;
    c.late_total = ps->late_total;
    c.records_total = ps->records_total;
    c.panes_emitted = ps->panes_emitted;
    c.n_window_panes = kw;
    c.window_panes = wptrs;
    c.pane_ms = ps->cfg.pane_ms;
    c.n_panes = npanes;
    c.panes = pane_ptrs;
    c.written_ms = wall_ms;
    c.source_offsets = (int64_t *)source_offsets;
    c.n_source_offsets = source_offsets ? n_sources : 0;
    c.source_watermarks = (int64_t *)source_watermarks;
    c.n_source_watermarks = source_watermarks ? n_sources : 0;
    if (ob) {
        for (size_t i = 0; i < ob->n; i++) {
            obd[i].data = ob->items[i].data;
            obd[i].len = ob->items[i].len;
        }
        c.n_outbox = ob->n;
        c.outbox = obd;
    }
    size_t len = netpulse__partition_checkpoint__get_packed_size(&c);
    *out = malloc(NP_CRC32_FRAME_HDR + len);
    if (!*out) goto out;
    *out_len = NP_CRC32_FRAME_HDR + netpulse__partition_checkpoint__pack(&c, *out + NP_CRC32_FRAME_HDR);
    np_crc32_frame_header(*out, NP_CKPT_MAGIC, NP_CKPT_FRAME_VERSION, *out + NP_CRC32_FRAME_HDR,
                          *out_len - NP_CRC32_FRAME_HDR);
    rc = 0;
out:
    for (size_t i = 0; encs && i < ps->cfg.max_open_panes; i++) np_partial_enc_free(&encs[i]);
    free(encs);
    free(panes);
    free(pane_ptrs);
    free(obd);
    for (size_t i = 0; wbufs && i < nwin; i++) np_partial_aggbuf_free(&wbufs[i]);
    free(wbufs);
    free(wpanes);
    free(wptrs);
    return rc;
}

#define CK_ERR(...)                                                                            \
    do {                                                                                       \
        snprintf(errstr, errlen, __VA_ARGS__);                                                 \
        goto err;                                                                              \
    } while (0)
/* The value is damaged (not a choice of configuration): quarantine and start over. */
#define CK_CORRUPT(...)                                                                        \
    do {                                                                                       \
        rc = NP_CKPT_CORRUPT;                                                                  \
        CK_ERR(__VA_ARGS__);                                                                   \
    } while (0)

int np_ckpt_decode(const uint8_t *buf, size_t len, const np_pane_config_t *cfg, const char *topic,
                   int32_t partition, np_partstate_t **ps_out, np_outbox_t *ob, int64_t *epoch_out,
                   int64_t *source_offsets, int64_t *source_watermarks, size_t n_sources, char *errstr,
                   size_t errlen) {
    np_partstate_t *ps = NULL;
    Netpulse__PartitionCheckpoint *c = NULL;
    int rc = NP_CKPT_REFUSED;
    np_outbox_init(ob);
    const uint8_t *payload = buf;
    size_t plen = len;
    char why[160];
    if (np_crc32_frame_open(buf, len, NP_CKPT_MAGIC, NP_CKPT_FRAME_VERSION, &payload, &plen, why, sizeof(why)) < 0)
        CK_CORRUPT("checkpoint: %s", why);
    c = netpulse__partition_checkpoint__unpack(NULL, plen, payload);
    if (!c) CK_CORRUPT("checkpoint does not decode (%zu bytes)", len);
    if (c->version > NP_CKPT_VERSION) CK_ERR("checkpoint version %u is newer than %u", c->version, NP_CKPT_VERSION);
    if (strcmp(c->topic, topic) != 0 || c->partition != partition)
        CK_CORRUPT("checkpoint is for %.64s/%d, not %s/%d", c->topic, c->partition, topic, partition);
    if (c->pane_ms != cfg->pane_ms)
        CK_ERR("checkpoint was written with pane.ms=%lld, this worker runs %lld", (long long)c->pane_ms,
               (long long)cfg->pane_ms);
    ps = np_partstate_new(partition, cfg);
    if (!ps) CK_ERR("out of memory");
    ps->next_offset = c->next_offset;
    ps->max_ts = c->max_ts;
    ps->follow_wm = c->follow_wm;
    ps->closed_through = c->closed_through;
    ps->has_data = c->has_data;
    ps->late_pending = c->late_pending;
    ps->late_total = c->late_total;
    ps->records_total = c->records_total;
    ps->panes_emitted = c->panes_emitted;
    for (size_t i = 0; i < c->n_panes; i++) {
        const Netpulse__PaneState *s = c->panes[i];
        np_pane_t *p = np_partstate_claim_pane(ps, s->pane_start_ms);
        if (!p) CK_ERR("checkpoint pane %lld does not fit the pane ring (max.open.panes)", (long long)s->pane_start_ms);
        p->records = s->records;
        p->bytes = s->bytes;
        p->packets = s->packets;
        p->min_offset = s->min_offset;
        for (size_t j = 0; j < s->n_protocol_records && j < NP_PMIX__COUNT; j++) p->pmix[j] = s->protocol_records[j];
        for (size_t j = 0; j < s->n_dst_port_hist && j < NP_PORT_BUCKETS; j++) p->port_hist[j] = s->dst_port_hist[j];
        if (np_partial_merge_table(p->sources, s->sources, s->n_sources, s->other, s->sources_evicted, cfg->pool) < 0)
            CK_CORRUPT("checkpoint pane %lld: bad source entry", (long long)s->pane_start_ms);
        if (p->dests &&
            np_partial_merge_table(p->dests, s->dests, s->n_dests, s->dest_other, s->dests_evicted, cfg->pool) < 0)
            CK_CORRUPT("checkpoint pane %lld: bad destination entry", (long long)s->pane_start_ms);
        /* Views no longer configured are dropped; views new since then start empty. */
        if (np_partial_merge_views(p->views, cfg->views, s->views, s->n_views) < 0)
            CK_CORRUPT("checkpoint pane %lld: bad view group", (long long)s->pane_start_ms);
        if (s->classes && !p->classes)
            CK_CORRUPT("checkpoint pane %lld: class counts in a partition that has none", (long long)s->pane_start_ms);
        if (s->classes && np_partial_merge_classes(p->classes, s->classes) < 0)
            CK_CORRUPT("checkpoint pane %lld: bad class entry", (long long)s->pane_start_ms);
    }
    /* A worker without a sliding window ignores these; one with a window whose checkpoint
     * has none (older, or written without) starts with an empty window history. */
    for (size_t i = 0; ps->win && i < c->n_window_panes; i++) {
        const Netpulse__PaneState *s = c->window_panes[i];
        if (np_pane_start(s->pane_start_ms, cfg->pane_ms) != s->pane_start_ms)
            CK_CORRUPT("checkpoint window pane %lld is misaligned", (long long)s->pane_start_ms);
        np_srcmap_t *t = np_srcwin_claim(ps->win, s->pane_start_ms);
        if (np_partial_merge_table(t, s->sources, s->n_sources, NULL, 0, cfg->pool) < 0)
            CK_CORRUPT("checkpoint window pane %lld: bad source entry", (long long)s->pane_start_ms);
    }
    for (size_t i = 0; i < c->n_outbox; i++) {
        Netpulse__WorkerMsg *m = netpulse__worker_msg__unpack(NULL, c->outbox[i].len, c->outbox[i].data);
        if (!m || m->body_case != NETPULSE__WORKER_MSG__BODY_PARTIAL) {
            if (m) netpulse__worker_msg__free_unpacked(m, NULL);
            CK_CORRUPT("checkpoint outbox item %zu is not a partial", i);
        }
        int64_t pane = m->partial->pane_start_ms;
        netpulse__worker_msg__free_unpacked(m, NULL);
        if (np_outbox_push(ob, pane, c->outbox[i].data, c->outbox[i].len) < 0) CK_ERR("out of memory");
    }
    if (epoch_out) *epoch_out = c->epoch;
    for (size_t i = 0; source_offsets && i < n_sources; i++)
        source_offsets[i] = i < c->n_source_offsets ? c->source_offsets[i] : -1;
    for (size_t i = 0; source_watermarks && i < n_sources; i++)
        source_watermarks[i] = i < c->n_source_watermarks ? c->source_watermarks[i] : NP_TS_NONE;
    netpulse__partition_checkpoint__free_unpacked(c, NULL);
    *ps_out = ps;
    return 0;
err:
    if (c) netpulse__partition_checkpoint__free_unpacked(c, NULL);
    np_partstate_destroy(&ps);
    np_outbox_free(ob);
    return rc;
}
