/* np_ckpt: partition checkpoints as protobuf. See np_ckpt.h. */
#include "np_ckpt.h"
#include "np_ckpt_writer.h"
#include "np_crc32.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netpulse.pb-c.h"
#include "np_partial.h"
#include "np_srcwin.h"

/* A pane's state; its tables are every entry, or (delta) the changed ones. */
static int fill_pane(Netpulse__PaneState *pst, const np_pane_t *p, np_partial_enc_t *e, bool delta) {
    netpulse__pane_state__init(pst);
    pst->pane_start_ms = p->start_ms;
    pst->records = p->records;
    pst->bytes = p->bytes;
    pst->packets = p->packets;
    pst->min_offset = p->min_offset;
    pst->protocol_records = (uint64_t *)p->pmix;
    pst->n_protocol_records = NP_PMIX__COUNT;
    pst->delta = delta;
    long n = delta ? np_partial_fill_changed(&e->src, p->sources, &pst->sources, &pst->other)
                   : np_partial_fill_table(&e->src, p->sources, &pst->sources, &pst->other);
    long nd = !p->dests ? 0
              : delta   ? np_partial_fill_changed(&e->dst, p->dests, &pst->dests, &pst->dest_other)
                        : np_partial_fill_table(&e->dst, p->dests, &pst->dests, &pst->dest_other);
    if (n < 0 || nd < 0) return -1;
    pst->n_sources = (size_t)n;
    pst->sources_evicted = np_srcmap_evicted(p->sources);
    pst->n_dests = (size_t)nd;
    pst->dests_evicted = p->dests ? np_srcmap_evicted(p->dests) : 0;
    pst->dst_port_hist = (uint32_t *)p->port_hist;
    pst->n_dst_port_hist = NP_PORT_BUCKETS;
    long nv = np_partial_fill_views(&e->views, p->views, p->nviews, &pst->views);
    if (nv < 0) return -1;
    pst->n_views = (size_t)nv;
    int cerr;
    pst->classes = np_partial_fill_classes(&e->cls, p->classes, &cerr);
    return cerr ? -1 : 0;
}

/* The source tables of the closed panes a sliding window still covers (bounded partials),
 * written whole in every head: they change only when a pane closes. */
typedef struct winpanes {
    size_t slots, n;
    Netpulse__PaneState *panes, **ptrs;
    np_aggbuf_t *bufs;
} winpanes_t;

static void win_free(winpanes_t *w) {
    for (size_t i = 0; w->bufs && i < w->slots; i++) np_partial_aggbuf_free(&w->bufs[i]);
    free(w->bufs);
    free(w->panes);
    free(w->ptrs);
}

/* Kept pane slot i of ps's ring into pst (its sources into buf). */
static int win_pane(Netpulse__PaneState *pst, np_aggbuf_t *buf, const np_partstate_t *ps, size_t i) {
    netpulse__pane_state__init(pst);
    pst->pane_start_ms = np_srcwin_slot_start(ps->win, i);
    bool whole;
    np_srcwin_slot_meta(ps->win, i, &pst->bytes, &pst->packets, &whole);
    pst->pair_whole = whole;
    long n = np_partial_fill_table(buf, np_srcwin_slot(ps->win, i), &pst->sources, &pst->other);
    if (n < 0) return -1;
    pst->n_sources = (size_t)n;
    return 0;
}

static int win_fill(winpanes_t *w, const np_partstate_t *ps) {
    w->slots = ps->win ? np_srcwin_slots(ps->win) : 0;
    w->panes = calloc(w->slots ? w->slots : 1, sizeof(*w->panes));
    w->ptrs = calloc(w->slots ? w->slots : 1, sizeof(*w->ptrs));
    w->bufs = calloc(w->slots ? w->slots : 1, sizeof(*w->bufs));
    if (!w->panes || !w->ptrs || !w->bufs) return -1;
    for (size_t i = 0; i < w->slots; i++) {
        if (np_srcwin_slot_start(ps->win, i) == NP_SRCWIN_NONE) continue;
        if (win_pane(&w->panes[w->n], &w->bufs[w->n], ps, i) < 0) return -1;
        w->ptrs[w->n] = &w->panes[w->n];
        w->n++;
    }
    return 0;
}

int np_ckpt_encode_win(const np_partstate_t *ps, size_t i, uint8_t **out, size_t *out_len) {
    Netpulse__PaneState pst;
    np_aggbuf_t buf = {0};
    *out = NULL;
    if (win_pane(&pst, &buf, ps, i) == 0) {
        size_t len = netpulse__pane_state__get_packed_size(&pst);
        if ((*out = malloc(NP_CRC32_FRAME_HDR + len))) {
            len = netpulse__pane_state__pack(&pst, *out + NP_CRC32_FRAME_HDR);
            np_crc32_frame_header(*out, NP_CKPT_WIN_MAGIC, NP_CKPT_FRAME_VERSION, *out + NP_CRC32_FRAME_HDR, len);
            *out_len = NP_CRC32_FRAME_HDR + len;
        }
    }
    np_partial_aggbuf_free(&buf);
    return *out ? 0 : -1;
}

/* The partition's scalars and re-keying memory, common to both versions. */
static void fill_head(Netpulse__PartitionCheckpoint *c, const np_partstate_t *ps, const char *topic, int64_t epoch,
                      const int64_t *source_offsets, const int64_t *source_watermarks, size_t n_sources,
                      int64_t wall_ms) {
    c->topic = (char *)topic;
    c->partition = ps->partition;
    c->epoch = epoch;
    c->next_offset = ps->next_offset;
    c->max_ts = ps->max_ts;
    c->follow_wm = ps->follow_wm;
    c->closed_through = ps->closed_through;
    c->has_data = ps->has_data;
    c->late_pending = ps->late_pending;
    c->late_total = ps->late_total;
    c->records_total = ps->records_total;
    c->panes_emitted = ps->panes_emitted;
    c->dlq_scan_from = ps->dlq_from >= 0 ? ps->dlq_from + 1 : 0;
    c->pair_kept = ps->win && ps->cfg.keep_panes;
    if (ps->win) {
        c->window_slots = (uint32_t)np_srcwin_slots(ps->win);
        c->window_known_from = np_srcwin_known_from(ps->win);
    }
    c->pane_ms = ps->cfg.pane_ms;
    c->written_ms = wall_ms;
    c->source_offsets = (int64_t *)source_offsets;
    c->n_source_offsets = source_offsets ? n_sources : 0;
    c->source_watermarks = (int64_t *)source_watermarks;
    c->n_source_watermarks = source_watermarks ? n_sources : 0;
}

static int pack_head(const Netpulse__PartitionCheckpoint *c, uint8_t **out, size_t *out_len) {
    size_t len = netpulse__partition_checkpoint__get_packed_size(c);
    *out = malloc(NP_CRC32_FRAME_HDR + len);
    if (!*out) return -1;
    *out_len = NP_CRC32_FRAME_HDR + netpulse__partition_checkpoint__pack(c, *out + NP_CRC32_FRAME_HDR);
    np_crc32_frame_header(*out, NP_CKPT_MAGIC, NP_CKPT_FRAME_VERSION, *out + NP_CRC32_FRAME_HDR,
                          *out_len - NP_CRC32_FRAME_HDR);
    return 0;
}

int np_ckpt_encode(const np_partstate_t *ps, const char *topic, int64_t epoch, const np_outbox_t *ob,
                   const int64_t *source_offsets, const int64_t *source_watermarks, size_t n_sources,
                   int64_t wall_ms, uint8_t **out, size_t *out_len) {
    int rc = -1;
    size_t npanes = ps->cfg.max_open_panes;
    Netpulse__PaneState *panes = calloc(npanes, sizeof(*panes));
    Netpulse__PaneState **pane_ptrs = calloc(npanes, sizeof(*pane_ptrs));
    np_partial_enc_t *encs = calloc(npanes, sizeof(*encs)); /* one per pane: all alive at once */
    ProtobufCBinaryData *obd = calloc(ob && ob->n ? ob->n : 1, sizeof(*obd));
    winpanes_t win = {0};
    *out = NULL;
    if (!panes || !pane_ptrs || !encs || !obd || win_fill(&win, ps) < 0) goto out;

    size_t k = 0;
    for (size_t i = 0; i < ps->cfg.max_open_panes; i++) {
        const np_pane_t *p = &ps->ring[i];
        if (p->start_ms == NP_TS_NONE) continue;
        if (fill_pane(&panes[k], p, &encs[k], false) < 0) goto out;
        pane_ptrs[k] = &panes[k];
        k++;
    }
    npanes = k;

    Netpulse__PartitionCheckpoint c = NETPULSE__PARTITION_CHECKPOINT__INIT;
    c.version = NP_CKPT_VERSION_FULL;
    fill_head(&c, ps, topic, epoch, source_offsets, source_watermarks, n_sources, wall_ms);
    c.n_window_panes = win.n;
    c.window_panes = win.ptrs;
    c.n_panes = npanes;
    c.panes = pane_ptrs;
    if (ob) {
        for (size_t i = 0; i < ob->n; i++) {
            obd[i].data = ob->items[i].data;
            obd[i].len = ob->items[i].len;
        }
        c.n_outbox = ob->n;
        c.outbox = obd;
    }
    rc = pack_head(&c, out, out_len);
out:
    for (size_t i = 0; encs && i < ps->cfg.max_open_panes; i++) np_partial_enc_free(&encs[i]);
    free(encs);
    free(panes);
    free(pane_ptrs);
    free(obd);
    win_free(&win);
    return rc;
}

void np_ckpt_part_suffix(char *buf, size_t len, int kind, int64_t start) {
    snprintf(buf, len, "%s:%" PRId64, kind == NP_CKPT_PART_PANE ? "pane" : kind == NP_CKPT_PART_WIN ? "win" : "out",
             start);
}

int np_ckpt_encode_head(const np_partstate_t *ps, const char *topic, int64_t epoch, const int64_t *source_offsets,
                        const int64_t *source_watermarks, size_t n_sources, int64_t wall_ms,
                        const np_ckpt_pane_ref_t *panes, size_t npanes, const int64_t *outs, size_t nouts,
                        const int64_t *wins, size_t nwins, uint8_t **out, size_t *out_len) {
    Netpulse__PanePart *pp = calloc(npanes ? npanes : 1, sizeof(*pp));
    Netpulse__PanePart **ptrs = calloc(npanes ? npanes : 1, sizeof(*ptrs));
    int rc = -1;
    *out = NULL;
    if (!pp || !ptrs) goto out;
    for (size_t i = 0; i < npanes; i++) {
        netpulse__pane_part__init(&pp[i]);
        pp[i].pane_start_ms = panes[i].start;
        pp[i].bytes = panes[i].bytes;
        pp[i].frames = panes[i].frames;
        ptrs[i] = &pp[i];
    }
    Netpulse__PartitionCheckpoint c = NETPULSE__PARTITION_CHECKPOINT__INIT;
    /* Kept panes as parts are new in version 3: an older reader refuses the head rather
     * than restore without them (it would take their panes for panes without data). */
    c.version = nwins ? NP_CKPT_VERSION : NP_CKPT_VERSION_PARTS;
    fill_head(&c, ps, topic, epoch, source_offsets, source_watermarks, n_sources, wall_ms);
    c.n_pane_parts = npanes;
    c.pane_parts = ptrs;
    c.n_outbox_parts = nouts;
    c.outbox_parts = (int64_t *)outs;
    c.n_window_parts = nwins;
    c.window_parts = (int64_t *)wins;
    rc = pack_head(&c, out, out_len);
out:
    free(pp);
    free(ptrs);
    return rc;
}

int np_ckpt_encode_pane(np_partial_enc_t *enc, np_pane_t *p, bool delta, uint8_t **out, size_t *out_len) {
    Netpulse__PaneState pst;
    *out = NULL;
    if (fill_pane(&pst, p, enc, delta) < 0) return -1;
    size_t len = netpulse__pane_state__get_packed_size(&pst);
    if (len > UINT32_MAX - NP_CRC32_FRAME_HDR) return -1;
    uint8_t *b = malloc(4 + NP_CRC32_FRAME_HDR + len);
    if (!b) return -1;
    uint8_t *payload = b + 4 + NP_CRC32_FRAME_HDR;
    len = netpulse__pane_state__pack(&pst, payload);
    uint32_t flen = (uint32_t)(NP_CRC32_FRAME_HDR + len);
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(flen >> (8 * i));
    np_crc32_frame_header(b + 4, NP_CKPT_PANE_MAGIC, NP_CKPT_FRAME_VERSION, payload, len);
    np_srcmap_changes_clear(p->sources);
    if (p->dests) np_srcmap_changes_clear(p->dests);
    *out = b;
    *out_len = 4 + flen;
    return 0;
}

int np_ckpt_encode_out(const uint8_t *partial, size_t len, uint8_t **out, size_t *out_len) {
    *out = malloc(NP_CRC32_FRAME_HDR + len);
    if (!*out) return -1;
    memcpy(*out + NP_CRC32_FRAME_HDR, partial, len);
    np_crc32_frame_header(*out, NP_CKPT_OUT_MAGIC, NP_CKPT_FRAME_VERSION, partial, len);
    *out_len = NP_CRC32_FRAME_HDR + len;
    return 0;
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

/* A pane's state from its newest (or only) record: totals, views, `other`, entries. */
static int restore_pane(np_pane_t *p, const Netpulse__PaneState *s, const np_pane_config_t *cfg, char *errstr,
                        size_t errlen) {
    p->records = s->records;
    p->bytes = s->bytes;
    p->packets = s->packets;
    p->min_offset = s->min_offset;
    for (size_t j = 0; j < s->n_protocol_records && j < NP_PMIX__COUNT; j++) p->pmix[j] = s->protocol_records[j];
    for (size_t j = 0; j < s->n_dst_port_hist && j < NP_PORT_BUCKETS; j++) p->port_hist[j] = s->dst_port_hist[j];
    const char *bad = NULL;
    if (np_partial_merge_table(p->sources, s->sources, s->n_sources, s->other, s->sources_evicted, cfg->pool) < 0)
        bad = "source entry";
    else if (p->dests &&
             np_partial_merge_table(p->dests, s->dests, s->n_dests, s->dest_other, s->dests_evicted, cfg->pool) < 0)
        bad = "destination entry";
    /* Views no longer configured are dropped; views new since then start empty. */
    else if (np_partial_merge_views(p->views, cfg->views, s->views, s->n_views) < 0)
        bad = "view group";
    else if (s->classes && !p->classes)
        bad = "class table (class counts in a partition that has none)";
    else if (s->classes && np_partial_merge_classes(p->classes, s->classes) < 0)
        bad = "class entry";
    if (!bad) return 0;
    snprintf(errstr, errlen, "checkpoint pane %" PRId64 ": bad %s", s->pane_start_ms, bad);
    return -1;
}

/* Entries of an older frame that no newer frame holds: their latest stored values. */
static int restore_older(np_srcmap_t *m, Netpulse__SourceAgg *const *e, size_t n, np_hll_pool_t *pool) {
    for (size_t i = 0; m && i < n; i++) {
        np_ip_t ip;
        if (e[i]->ip.len != 16) return -1;
        memcpy(ip.b, e[i]->ip.data, 16);
        if (np_srcmap_get(m, &ip)) continue;
        if (np_partial_merge_source(m, e[i], pool) < 0) return -1;
    }
    return 0;
}

/* Splits a pane part into its frames: offsets and lengths of the NPP frames. */
static int split_frames(const uint8_t *d, size_t len, uint32_t frames, size_t *off, size_t *flen) {
    size_t pos = 0;
    for (uint32_t k = 0; k < frames; k++) {
        if (len - pos < 4) return -1;
        uint32_t l = (uint32_t)d[pos] | (uint32_t)d[pos + 1] << 8 | (uint32_t)d[pos + 2] << 16 | (uint32_t)d[pos + 3] << 24;
        pos += 4;
        if (l > len - pos) return -1;
        off[k] = pos;
        flen[k] = l;
        pos += l;
    }
    return pos == len ? 0 : -1;
}

/* Restores one pane part: its newest frame in full, then older frames' entries that no
 * newer frame replaced (every frame holds full values, so the newest one wins). */
static int restore_part(np_partstate_t *ps, const np_pane_config_t *cfg, const Netpulse__PanePart *ref,
                        const uint8_t *d, size_t len, char *errstr, size_t errlen) {
    if (ref->frames < 1 || ref->frames > 1u << 20 || ref->bytes != len) {
        snprintf(errstr, errlen, "pane part %" PRId64 ": %zu bytes, %" PRIu32 " frames, the head says %" PRIu64,
                 ref->pane_start_ms, len, ref->frames, ref->bytes);
        return -1;
    }
    size_t *off = calloc(ref->frames, sizeof(*off)), *flen = calloc(ref->frames, sizeof(*flen));
    int rc = -1;
    np_pane_t *p = NULL;
    char why[160];
    if (!off || !flen) {
        snprintf(errstr, errlen, "out of memory");
        goto out;
    }
    if (split_frames(d, len, ref->frames, off, flen) < 0) {
        snprintf(errstr, errlen, "pane part %" PRId64 ": frames do not add up", ref->pane_start_ms);
        goto out;
    }
    if (!(p = np_partstate_claim_pane(ps, ref->pane_start_ms))) {
        snprintf(errstr, errlen, "checkpoint pane %" PRId64 " does not fit the pane ring", ref->pane_start_ms);
        goto out;
    }
    for (uint32_t k = ref->frames; k-- > 0;) {
        const uint8_t *payload;
        size_t plen;
        why[0] = '\0';
        if (np_crc32_frame_open(d + off[k], flen[k], NP_CKPT_PANE_MAGIC, NP_CKPT_FRAME_VERSION, &payload, &plen, why,
                                sizeof(why)) != 1) {
            snprintf(errstr, errlen, "pane part %" PRId64 " frame %" PRIu32 ": %s", ref->pane_start_ms, k,
                     why[0] ? why : "not a frame");
            goto out;
        }
        Netpulse__PaneState *s = netpulse__pane_state__unpack(NULL, plen, payload);
        int bad = !s || s->pane_start_ms != ref->pane_start_ms || s->delta != (k > 0);
        if (!bad && k == ref->frames - 1)
            bad = restore_pane(p, s, cfg, why, sizeof(why)) < 0;
        else if (!bad)
            bad = restore_older(p->sources, s->sources, s->n_sources, cfg->pool) < 0 ||
                  restore_older(p->dests, s->dests, s->n_dests, cfg->pool) < 0;
        if (s) netpulse__pane_state__free_unpacked(s, NULL);
        if (bad) {
            snprintf(errstr, errlen, "pane part %" PRId64 " frame %" PRIu32 " is not a frame of this pane",
                     ref->pane_start_ms, k);
            goto out;
        }
    }
    rc = 0;
out:
    free(off);
    free(flen);
    return rc;
}

/* Restores an outbox part: a framed WorkerMsg{partial} for the listed pane. */
static int restore_out(np_outbox_t *ob, int64_t start, const uint8_t *d, size_t len, char *errstr, size_t errlen) {
    const uint8_t *payload;
    size_t plen;
    char why[160] = "";
    if (np_crc32_frame_open(d, len, NP_CKPT_OUT_MAGIC, NP_CKPT_FRAME_VERSION, &payload, &plen, why, sizeof(why)) != 1) {
        snprintf(errstr, errlen, "outbox part %" PRId64 ": %s", start, why[0] ? why : "not a frame");
        return -1;
    }
    Netpulse__WorkerMsg *m = netpulse__worker_msg__unpack(NULL, plen, payload);
    int ok = m && m->body_case == NETPULSE__WORKER_MSG__BODY_PARTIAL && m->partial->pane_start_ms == start;
    if (m) netpulse__worker_msg__free_unpacked(m, NULL);
    if (!ok) {
        snprintf(errstr, errlen, "outbox part %" PRId64 " is not its partial", start);
        return -1;
    }
    if (np_outbox_push(ob, start, NP_OUTBOX_OFFSET_UNKNOWN, payload, plen) < 0) {
        snprintf(errstr, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* Part (kind, start) into *d (malloc'd) and *len: 0, or NP_CKPT_IO / NP_CKPT_CORRUPT
 * (missing) with errstr. */
static int fetch_part(np_ckpt_get_part_fn get_part, void *ctx, int kind, int64_t start, uint8_t **d, size_t *len,
                      char *errstr, size_t errlen) {
    char suffix[40];
    np_ckpt_part_suffix(suffix, sizeof(suffix), kind, start);
    int g = get_part(ctx, suffix, d, len);
    if (g < 0) {
        snprintf(errstr, errlen, "checkpoint part %s could not be read", suffix);
        return NP_CKPT_IO;
    }
    if (g == 1) {
        snprintf(errstr, errlen, "checkpoint part %s is missing", suffix);
        return NP_CKPT_CORRUPT;
    }
    return 0;
}

/* Fetches and restores every part a version-2 head lists. */
static int restore_parts(const Netpulse__PartitionCheckpoint *c, np_ckpt_get_part_fn get_part, void *ctx,
                         np_partstate_t *ps, const np_pane_config_t *cfg, np_outbox_t *ob, char *errstr, size_t errlen) {
    size_t n = c->n_pane_parts + c->n_outbox_parts;
    if (n && !get_part) {
        snprintf(errstr, errlen, "checkpoint has %zu parts and no way to read them", n);
        return NP_CKPT_CORRUPT;
    }
    for (size_t i = 0; i < n; i++) {
        bool pane = i < c->n_pane_parts;
        int64_t start = pane ? c->pane_parts[i]->pane_start_ms : c->outbox_parts[i - c->n_pane_parts];
        uint8_t *d = NULL;
        size_t len = 0;
        int g = fetch_part(get_part, ctx, pane ? NP_CKPT_PART_PANE : NP_CKPT_PART_OUT, start, &d, &len, errstr, errlen);
        if (g < 0) return g;
        int r = pane ? restore_part(ps, cfg, c->pane_parts[i], d, len, errstr, errlen)
                     : restore_out(ob, start, d, len, errstr, errlen);
        free(d);
        if (r < 0) return NP_CKPT_CORRUPT;
    }
    return 0;
}

/* A version-3 head's kept panes: each part fetched and unpacked into kept[i] (the caller
 * frees them with free_kept). */
static int fetch_kept(const Netpulse__PartitionCheckpoint *c, np_ckpt_get_part_fn get_part, void *ctx,
                      Netpulse__PaneState **kept, char *errstr, size_t errlen) {
    if (c->n_window_parts && !get_part) {
        snprintf(errstr, errlen, "checkpoint has %zu kept pane parts and no way to read them", c->n_window_parts);
        return NP_CKPT_CORRUPT;
    }
    for (size_t i = 0; i < c->n_window_parts; i++) {
        char why[160];
        uint8_t *d = NULL;
        size_t len = 0;
        const uint8_t *payload;
        size_t plen;
        int g = fetch_part(get_part, ctx, NP_CKPT_PART_WIN, c->window_parts[i], &d, &len, errstr, errlen);
        if (g < 0) return g;
        if (np_crc32_frame_open(d, len, NP_CKPT_WIN_MAGIC, NP_CKPT_FRAME_VERSION, &payload, &plen, why, sizeof(why)) == 1)
            kept[i] = netpulse__pane_state__unpack(NULL, plen, payload);
        free(d);
        if (!kept[i] || kept[i]->pane_start_ms != c->window_parts[i]) {
            snprintf(errstr, errlen, "checkpoint part win:%lld is damaged", (long long)c->window_parts[i]);
            return NP_CKPT_CORRUPT;
        }
    }
    return 0;
}

static void free_kept(Netpulse__PaneState **kept, size_t n) {
    for (size_t i = 0; kept && i < n; i++)
        if (kept[i]) netpulse__pane_state__free_unpacked(kept[i], NULL);
    free(kept);
}

/* The oldest pane a checkpoint's kept panes answer for. Written with the ring: what it
 * stored. Older (or written without a ring): the n newest panes' reach, which the writer's
 * ring (at least n slots) covered whatever its size: not simply the oldest pane kept, as a
 * ring keeps a stale slot that no later pane with data overwrote while the pane between
 * was overwritten (a review found "no data" answered for it). With none kept, the panes
 * closed after the checkpoint only (the writer may not have kept any). */
static int64_t stored_known_from(const Netpulse__PartitionCheckpoint *c, Netpulse__PaneState *const *kept, size_t n,
                                 int64_t pane_ms) {
    if (c->window_slots) return c->window_known_from;
    if (n == 0) return c->closed_through == NP_TS_NONE ? NP_SRCWIN_NONE : c->closed_through;
    int64_t oldest = kept[0]->pane_start_ms, newest = oldest;
    for (size_t i = 1; i < n; i++) {
        if (kept[i]->pane_start_ms < oldest) oldest = kept[i]->pane_start_ms;
        if (kept[i]->pane_start_ms > newest) newest = kept[i]->pane_start_ms;
    }
    int64_t reach = newest - (int64_t)(n - 1) * pane_ms; /* starts are range-checked */
    return reach > oldest ? reach : oldest;
}

/* Pane starts read from Redis (CRC-framed, not authenticated) are kept far from the int64
 * ends, so ring arithmetic on them cannot overflow. */
static bool ts_in_range(int64_t t) { return t > -(INT64_C(1) << 62) && t < (INT64_C(1) << 62); }
/* The same for a mark, which may also be a sentinel (NP_TS_NONE, NP_SRCWIN_NONE,
 * NP_SRCWIN_KNOWN_FROM_NEXT). */
static bool mark_in_range(int64_t t) { return t == INT64_MIN || t == INT64_MAX || ts_in_range(t); }

static int64_t later(int64_t a, int64_t b) {
    if (a == NP_SRCWIN_NONE) return b;
    if (b == NP_SRCWIN_NONE) return a;
    return a > b ? a : b;
}

/* The kept panes into ps's ring, which may be of another size than the writer's: only the
 * panes the ring can hold (the newest), and the panes before the stored mark unknown. A
 * checkpoint without kept panes for the repartition partner (np_pair) does not say which
 * closed panes had data. */
static int restore_window(np_partstate_t *ps, const Netpulse__PartitionCheckpoint *c, Netpulse__PaneState *const *kept,
                          size_t n, const np_pane_config_t *cfg, char *errstr, size_t errlen) {
    int64_t newest = NP_SRCWIN_NONE, reach = (int64_t)np_srcwin_slots(ps->win) * cfg->pane_ms;
    if (!mark_in_range(c->closed_through) || !mark_in_range(c->window_known_from)) {
        snprintf(errstr, errlen, "checkpoint window marks out of range");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t start = kept[i]->pane_start_ms;
        if (!ts_in_range(start)) {
            snprintf(errstr, errlen, "checkpoint window pane %lld out of range", (long long)start);
            return -1;
        }
        if (np_pane_start(start, cfg->pane_ms) != start) {
            snprintf(errstr, errlen, "checkpoint window pane %lld is misaligned", (long long)start);
            return -1;
        }
        if (newest == NP_SRCWIN_NONE || start > newest) newest = start;
    }
    for (size_t i = 0; i < n; i++) {
        const Netpulse__PaneState *s = kept[i];
        if (s->pane_start_ms <= newest - reach) continue; /* would take a newer pane's slot */
        np_srcmap_t *t = np_srcwin_claim(ps->win, s->pane_start_ms);
        if (np_partial_merge_table(t, s->sources, s->n_sources, NULL, 0, cfg->pool) < 0) {
            snprintf(errstr, errlen, "checkpoint window pane %lld: bad source entry", (long long)s->pane_start_ms);
            return -1;
        }
        np_srcwin_note(ps->win, s->pane_start_ms, s->bytes, s->packets, s->pair_whole);
    }
    int64_t from = stored_known_from(c, kept, n, cfg->pane_ms);
    if (cfg->keep_panes && !c->pair_kept && c->closed_through != NP_TS_NONE) from = later(from, c->closed_through);
    np_srcwin_set_known_from(ps->win, from);
    return 0;
}

int np_ckpt_decode_parts(const uint8_t *buf, size_t len, np_ckpt_get_part_fn get_part, void *ctx,
                         const np_pane_config_t *cfg, const char *topic, int32_t partition, np_partstate_t **ps_out,
                         np_outbox_t *ob, int64_t *epoch_out, int64_t *source_offsets, int64_t *source_watermarks,
                         size_t n_sources, struct np_ckpt_writer *w, char *errstr, size_t errlen) {
    np_partstate_t *ps = NULL;
    Netpulse__PartitionCheckpoint *c = NULL;
    Netpulse__PaneState **kept = NULL; /* a version-3 head's kept panes */
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
    ps->dlq_from = c->dlq_scan_from > 0 ? c->dlq_scan_from - 1 : -1;
    for (size_t i = 0; i < c->n_panes; i++) {
        const Netpulse__PaneState *s = c->panes[i];
        np_pane_t *p = np_partstate_claim_pane(ps, s->pane_start_ms);
        if (!p) CK_ERR("checkpoint pane %lld does not fit the pane ring (max.open.panes)", (long long)s->pane_start_ms);
        if (restore_pane(p, s, cfg, errstr, errlen) < 0) {
            rc = NP_CKPT_CORRUPT;
            goto err;
        }
    }
    if (ps->win && c->n_window_parts) {
        if (!(kept = calloc(c->n_window_parts, sizeof(*kept)))) CK_ERR("out of memory");
        int krc = fetch_kept(c, get_part, ctx, kept, errstr, errlen);
        if (krc < 0) {
            rc = krc;
            goto err;
        }
    }
    if (ps->win && restore_window(ps, c, kept ? kept : c->window_panes, kept ? c->n_window_parts : c->n_window_panes,
                                  cfg, errstr, errlen) < 0) {
        rc = NP_CKPT_CORRUPT;
        goto err;
    }
    for (size_t i = 0; i < c->n_outbox; i++) {
        Netpulse__WorkerMsg *m = netpulse__worker_msg__unpack(NULL, c->outbox[i].len, c->outbox[i].data);
        if (!m || m->body_case != NETPULSE__WORKER_MSG__BODY_PARTIAL) {
            if (m) netpulse__worker_msg__free_unpacked(m, NULL);
            CK_CORRUPT("checkpoint outbox item %zu is not a partial", i);
        }
        int64_t pane = m->partial->pane_start_ms;
        netpulse__worker_msg__free_unpacked(m, NULL);
        if (np_outbox_push(ob, pane, NP_OUTBOX_OFFSET_UNKNOWN, c->outbox[i].data, c->outbox[i].len) < 0) CK_ERR("out of memory");
    }
    int prc = restore_parts(c, get_part, ctx, ps, cfg, ob, errstr, errlen);
    if (prc < 0) {
        rc = prc;
        goto err;
    }
    if (epoch_out) *epoch_out = c->epoch;
    for (size_t i = 0; source_offsets && i < n_sources; i++)
        source_offsets[i] = i < c->n_source_offsets ? c->source_offsets[i] : -1;
    for (size_t i = 0; source_watermarks && i < n_sources; i++)
        source_watermarks[i] = i < c->n_source_watermarks ? c->source_watermarks[i] : NP_TS_NONE;
    if (w) {
        np_ckpt_writer_free(w);
        np_ckpt_writer_init(w);
        for (size_t i = 0; i < c->n_pane_parts; i++)
            np_ckpt_writer_adopt(w, NP_CKPT_PART_PANE, c->pane_parts[i]->pane_start_ms);
        for (size_t i = 0; i < c->n_outbox_parts; i++) np_ckpt_writer_adopt(w, NP_CKPT_PART_OUT, c->outbox_parts[i]);
        for (size_t i = 0; i < c->n_window_parts; i++) np_ckpt_writer_adopt(w, NP_CKPT_PART_WIN, c->window_parts[i]);
    }
    free_kept(kept, c->n_window_parts);
    netpulse__partition_checkpoint__free_unpacked(c, NULL);
    *ps_out = ps;
    return 0;
err:
    if (c) free_kept(kept, c->n_window_parts);
    if (c) netpulse__partition_checkpoint__free_unpacked(c, NULL);
    np_partstate_destroy(&ps);
    np_outbox_free(ob);
    return rc;
}

int np_ckpt_decode(const uint8_t *buf, size_t len, const np_pane_config_t *cfg, const char *topic,
                   int32_t partition, np_partstate_t **ps_out, np_outbox_t *ob, int64_t *epoch_out,
                   int64_t *source_offsets, int64_t *source_watermarks, size_t n_sources, char *errstr,
                   size_t errlen) {
    return np_ckpt_decode_parts(buf, len, NULL, NULL, cfg, topic, partition, ps_out, ob, epoch_out, source_offsets,
                                source_watermarks, n_sources, NULL, errstr, errlen);
}
