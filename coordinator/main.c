/*
 * netpulse-coordinator: receives partials and progress from every worker (ZeroMQ ROUTER),
 * merges them into global panes (np_merge), and once every partition of the input topic
 * has closed a pane, turns it into a `window` result and hands it to the gateway
 * (ZeroMQ DEALER). Results stay in a bounded outbox until the gateway acknowledges that
 * they are in Kafka; unacknowledged ones are re-sent, and the gateway drops repeats by id.
 * When the outbox is full the coordinator stops finalising panes (back-pressure) rather
 * than dropping results.
 *
 * It also computes the global watermark and sends it back to the workers, so that idle
 * partitions can follow it.
 *
 * Threads: one loop thread; libmicrohttpd serves /metrics and /healthz from atomics.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "netpulse.pb-c.h"
#include "np_budget.h"
#include "np_clock.h"
#include "np_coordstore.h"
#include "np_merge.h"
#include "np_opts.h"
#include "np_owner.h"
#include "np_pane.h"
#include "np_partial.h"
#include "np_pbatch.h"
#include "np_proc.h"
#include "np_result.h"
#include "np_resultbox.h"
#include "np_detect_cfg.h"
#include "np_store.h"
#include "np_window.h"
#include "np_zsock.h"

#define MAX_WORKERS 256
#define ID_MAX NP_RESULT_ID_MAX

static const np_opt_t coord_opts[] = {
    NP_OPTS_COMMON,
    NP_OPTS_ZMQ,
    {"bind", NP_OPT_STR, "tcp://127.0.0.1:5555", 1, 0, NULL, "ZeroMQ endpoint workers connect to"},
    {"gateway", NP_OPT_STR, "tcp://127.0.0.1:5556", 1, 0, NULL, "Gateway ZeroMQ endpoint"},
    NP_OPT_PANE_MS,
    NP_OPT_WINDOW_MS("at most 720 panes (= pane.ms: tumbling only)"),
    {"pane.windows", NP_OPT_BOOL, "true", 0, 0, NULL, "Also publish every pane as a window of pane.ms"},
    NP_OPT_HLL_POOL_BLOCKS("65536"),
    NP_OPTS_FANIN,
    NP_OPT_MAX_OPEN_PANES("256", 65536, "global (all partitions merged)"),
    NP_OPT_MAX_SOURCES_PER_PANE("1048576", 67108864, "per global pane"),
    NP_OPT_MAX_DESTS_PER_PANE("1048576", 1, 67108864, "per global pane"),
    NP_OPT_KDD_MAX_DESTS_PER_PANE("1024", "per global pane (intrusion alerts)"),
    NP_OPT_MAX_EMPTY_RUN,
    NP_OPT_OUTBOX_MAX("4096", 16, 1048576, "results (sent to the gateway); finalising pauses when full"),
    {"resend.ms", NP_OPT_INT, "2000", 50, 600000, NULL, "Re-send unacknowledged results after, ms"},
    {"watermark.ms", NP_OPT_INT, "100", 10, 60000, NULL, "How often the global watermark is sent"},
    NP_OPTS_REDIS("6379", "coordinator state, partition owners",
                  "state in memory only (a restart then loses open windows)"),
    {"persist.batch.max", NP_OPT_INT, "256", 1, 65536, NULL,
     "Partials drained from the socket and stored in one Redis transaction before any is merged and "
     "acknowledged (group commit; 1: one transaction per partial)"},
    {"persist.batch.bytes", NP_OPT_INT, "16777216", 1024, 268435456, NULL,
     "A group commit also closes at this many bytes of partials (one larger partial goes alone)"},
    {"owner.check", NP_OPT_BOOL, "true", 0, 0, NULL,
     "Take partials and progress for a partition only from the worker holding its fencing epoch "
     "(read from Redis; needs redis.port > 0)"},
    NP_OPTS_WORKER_INPUT, /* as the workers': names their ownership records */
    NP_OPT_KDD_TOPIC,     /* likewise, for the connection slots (kdd.model) */
    {"max.partitions", NP_OPT_INT, "4096", 1, 4096, NULL,
     "Partition slots accepted from workers (input + repartition partitions); more are refused"},
    {"max.future.ms", NP_OPT_INT, "300000", 0, 31536000000, NULL,
     "Pane starts and watermarks further than this ahead of the wall clock are refused (0 = no bound)"},
    {"state.name", NP_OPT_STR, "netpulse", 1, 0, NULL,
     "Names this coordinator's state in Redis (one per cluster)"},
    NP_OPTS_DETECT,
    NP_OPTS_VIEWS("16384"),
    {"views.top", NP_OPT_INT, "10", 1, 1000, NULL, "Groups published per view and pane window (most bytes first)"},
    {"memory.budget.mb", NP_OPT_INT, "0", 0, 16777216, NULL,
     "Refuse to start (exit 2) when the caps add up to more memory than this, MiB "
     "(0 = report the computed bound only; ARCHITECTURE.md, Memory budget)"},
};

#define NP_SEVERITIES (NP_SEV_CRITICAL + 1) /* info, warning, critical */

typedef struct coord {
    np_proc_t proc;
    np_merge_t *merge;
    int64_t pane_ms;
    void *zctx, *wsock, *gsock;
    np_zsock_cfg_t zc;
    np_zap_t *zap;
    np_owner_t *owners;     /* NULL: owner.check off */
    /* Workers seen, by ZeroMQ routing id, to send the global watermark to. */
    struct {
        uint8_t id[256];
        size_t len;
        int64_t last_seen;
    } workers[MAX_WORKERS];
    size_t nworkers;
    int64_t last_gwm; /* NP_TS_NONE until known */
    np_resultbox_t *outbox; /* results not yet acknowledged */
    int64_t resend_ms;
    np_strbuf_t sb;
    np_store_t *store;      /* NULL: in-memory only */
    np_coordstore_t *cs;    /* the state in store; NULL with it */
    np_window_t *win;       /* NULL when window.ms == pane.ms */
    np_hll_pool_t *pool;    /* dense distinct-count sketches of merged sources */
    bool pane_windows;
    np_partial_enc_t enc;
    np_detect_config_t dcfg;
    np_detect_t *det;       /* NULL: detection off */
    np_anomaly_t *anomalies; /* dcfg.max_alerts */
    np_viewset_t views;
    np_gagg_t *top;         /* views.top: scratch for a view's top groups */
    size_t ntop;
    uint64_t views_unknown; /* merge stats already counted */
    uint64_t window_mismatch, sources_split, partials_unpaired, fanin_bad;
    bool stale;             /* Redis and memory may differ: reload before going on */
    int64_t next_reload;
    np_pbatch_t *batch;     /* accepted partials awaiting their group commit */
    np_pbatch_t *sent;      /* the previous batch: its transaction sent, its outcome not read */
    uint8_t *ack_buf;
    size_t ack_cap;
    np_counter_t *m_persist_err, *m_reloads, *m_batches;
    np_counter_t *m_partials, *m_dups, *m_conflicting, *m_too_late, *m_full, *m_bad, *m_progress, *m_windows,
        *m_acks, *m_resends, *m_decode_err, *m_anomalies[NP_AN__COUNT][NP_SEVERITIES], *m_forecasts, *m_results, *m_groups,
        *m_views_unknown, *m_unpaired, *m_fanin_bad, *m_class_evicted, *m_refused, *m_quarantined, *m_unauth_partial, *m_unauth_progress,
        *m_evicted_src, *m_evicted_dst, *m_evicted_wtop, *m_known_full;
    np_gauge_t *m_gwm, *m_complete, *m_outbox, *m_open, *m_workers, *m_partitions, *m_waiting;
    np_histogram_t *m_merge_s, *m_finalize_s;
    np_budget_t budget;     /* worst-case memory of this configuration (np_budget) */
} coord_t;

static coord_t C;

static void remember_worker(coord_t *c, const uint8_t *id, size_t len, int64_t now) {
    for (size_t i = 0; i < c->nworkers; i++)
        if (c->workers[i].len == len && memcmp(c->workers[i].id, id, len) == 0) {
            c->workers[i].last_seen = now;
            return;
        }
    size_t slot = c->nworkers;
    if (slot == MAX_WORKERS) { /* replace the one silent the longest */
        slot = 0;
        for (size_t i = 1; i < MAX_WORKERS; i++)
            if (c->workers[i].last_seen < c->workers[slot].last_seen) slot = i;
    } else {
        c->nworkers++;
    }
    memcpy(c->workers[slot].id, id, len);
    c->workers[slot].len = len;
    c->workers[slot].last_seen = now;
    np_gauge_set(c->m_workers, (int64_t)c->nworkers);
}

/* ---- state in Redis (np_coordstore) ------------------------------------------------ */

static void restore_partial_cb(void *ctx, const Netpulse__Partial *p) {
    coord_t *c = ctx;
    if (np_merge_add_partial(c->merge, p) == NP_MERGE_BAD) {
        np_counter_inc(c->m_bad);
        np_error("stored_partial_refused", "partition=%d pane_start=%" PRId64 " action=skipped", p->partition,
                 p->pane_start_ms);
    }
}

static void outbox_cb(void *ctx, const char *id, const char *type, int64_t start, int64_t end, const uint8_t *json,
                      size_t len) {
    coord_t *c = ctx;
    np_resultbox_push(c->outbox, id, type, start, end, json, len); /* full: the rest waits in Redis */
}

/* Refills the sliding window with the final panes it still covers (their windows were
 * published before; the outputs are ignored). */
static int restore_window(coord_t *c, const np_merge_config_t *mc, char *err, size_t errlen) {
    int64_t first = np_window_first(c->win), next = np_merge_next_emit(c->merge);
    int64_t from = next - np_window_ms(c->win) + mc->pane_ms;
    np_gpane_t g = {0};
    g.seen = calloc(1, NP_MERGE_MAX_PARTITIONS / 8);
    g.sources = np_srcmap_new(mc->max_sources, mc->pool);
    int rc = g.seen && g.sources ? 0 : -1;
    for (int64_t s = from; rc == 0 && s < next; s += mc->pane_ms) {
        if (first != NP_TS_NONE && s < first) continue;
        uint8_t *buf = NULL;
        size_t len = 0;
        int got = np_coordstore_get_final(c->cs, s, &buf, &len, err, errlen);
        memset(g.seen, 0, NP_MERGE_MAX_PARTITIONS / 8);
        np_srcmap_clear(g.sources);
        memset(g.pmix, 0, sizeof(g.pmix));
        g.records = g.bytes = g.packets = g.late_records = g.sources_evicted = 0;
        g.partitions = 0;
        g.nsources = 0;
        g.bounded = false;
        memset(&g.class_total, 0, sizeof(g.class_total));
        g.start_ms = s;
        if (got < 0) {
            rc = -1;
        } else {
            if (got == 0 && np_partial_decode_gpane(buf, len, &g, mc->pool) < 0) np_warn("final_pane_unreadable", "pane=%lld", (long long)s);
            np_window_push(c->win, &g); /* an absent record was an empty pane */
        }
        free(buf);
    }
    np_window_set_first(c->win, first);
    free(g.seen);
    np_srcmap_destroy(&g.sources);
    return rc;
}

static int detect_decode_cb(void *ctx, const uint8_t *buf, size_t len) {
    coord_t *c = ctx;
    return np_detect_state_decode(c->det, buf, len);
}

static void known_restore_cb(void *ctx, const np_ip_t *ip, const np_known_t *v) {
    coord_t *c = ctx;
    np_detect_known_set(c->det, ip, v);
}

/* Detector state as of the last committed finalize round. */
static int restore_detect(coord_t *c, char *err, size_t errlen) {
    return np_coordstore_load_detect(c->cs, detect_decode_cb, known_restore_cb, c, err, errlen);
}

/* Rebuilds merge state and outbox from Redis (start-up, or after a failed write left
 * memory and Redis possibly different). Returns 0 or -1. */
static int coord_restore(coord_t *c, const np_merge_config_t *mc) {
    char err[256];
    np_merge_t *fresh = np_merge_new(mc);
    if (!fresh) return -1;
    np_merge_set_wall_clock(fresh, np_clock_wall_ms(NULL));
    np_merge_destroy(&c->merge);
    c->merge = fresh;
    np_resultbox_clear(c->outbox);
    if (c->win) {
        int64_t wms = np_window_ms(c->win);
        np_window_destroy(&c->win);
        c->win = np_window_new(mc->pane_ms, wms, mc->max_sources, mc->pool);
        if (!c->win) return -1;
    }
    if (c->det) {
        np_detect_destroy(&c->det);
        if (!(c->det = np_detect_new(&c->dcfg))) return -1;
    }
    if (!c->cs) return 0;
    np_coordstore_meta_t meta;
    size_t quarantined = 0;
    if (np_coordstore_load_meta(c->cs, &meta, err, sizeof(err)) < 0) goto fail;
    if (meta.has_next_emit) np_merge_set_next_emit(c->merge, meta.next_emit);
    if (meta.has_window_first && c->win) np_window_set_first(c->win, meta.window_first);
    int prc = np_coordstore_each_partial(c->cs, restore_partial_cb, c, &quarantined, err, sizeof(err));
    np_counter_add(c->m_quarantined, quarantined);
    if (prc < 0) goto fail;
    if (c->win && np_merge_next_emit(c->merge) != NP_TS_NONE && restore_window(c, mc, err, sizeof(err)) < 0) goto fail;
    if (c->det && restore_detect(c, err, sizeof(err)) < 0) goto fail;
    if (np_coordstore_each_result(c->cs, outbox_cb, c, err, sizeof(err)) < 0) goto fail;
    np_resultbox_sort(c->outbox);
    np_merge_stats_t ms;
    np_merge_get_stats(c->merge, &ms);
    np_info("state_restored", "next_emit=%lld open_panes=%zu partials=%llu outbox=%zu", (long long)np_merge_next_emit(c->merge),
            ms.open_panes, (unsigned long long)ms.partials, np_resultbox_len(c->outbox));
    return 0;
fail:
    np_error("state_restore_failed", "error=\"%s\"", err);
    np_resultbox_clear(c->outbox);
    return -1;
}

/* Acknowledges ids[0..n) to the worker that sent them, in one message, with the current
 * global watermark (workers take any number of acknowledgements per message). */
static void send_acks(coord_t *c, const uint8_t *peer, size_t peer_len, Netpulse__PartialId **ids, size_t n) {
    Netpulse__CoordMsg cm = NETPULSE__COORD_MSG__INIT;
    cm.version = NP_WIRE_VERSION;
    cm.global_watermark_ms = c->last_gwm;
    cm.n_acks = n;
    cm.acks = ids;
    size_t len = netpulse__coord_msg__get_packed_size(&cm);
    if (len > c->ack_cap) {
        uint8_t *b = realloc(c->ack_buf, len);
        if (!b) return; /* not acknowledged: the worker re-sends, a repeat is acknowledged then */
        c->ack_buf = b;
        c->ack_cap = len;
    }
    netpulse__coord_msg__pack(&cm, c->ack_buf);
    if (zmq_send(c->wsock, peer, peer_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
        zmq_send(c->wsock, c->ack_buf, len, ZMQ_DONTWAIT);
}

static void ack_partial(coord_t *c, const uint8_t *peer, size_t peer_len, int32_t partition, int64_t pane_start) {
    Netpulse__PartialId id = NETPULSE__PARTIAL_ID__INIT, *ids[1] = {&id};
    id.partition = partition;
    id.pane_start_ms = pane_start;
    send_acks(c, peer, peer_len, ids, 1);
}

/* A copy of a pane merged or published before that holds records the merged one lacks
 * (np_merge_conflict_offset: rebuilt by an owner that started from the committed offsets
 * without the earlier owner's state): they are in no window and in no dead letter. Counted
 * and logged with the partition's offsets that hold them, never silent (ARCHITECTURE.md,
 * "Where it is not exact"). */
static void note_conflict(coord_t *c, const Netpulse__WorkerMsg *m) {
    static np_log_rl_t rl = NP_LOG_RL_INIT;
    const Netpulse__Partial *p = m->partial;
    int64_t close = np_merge_conflict_offset(c->merge, p);
    if (close < 0) return;
    np_counter_inc(c->m_conflicting);
    np_log_rl(&rl, NP_LOG_ERROR, "partial_conflicting",
              "worker=%s partition=%d pane_start=%" PRId64 " records=%" PRIu64 " merged_close_offset=%" PRId64
              " records_end_offset=%" PRId64 " hint=\"records of this pane at partition offsets in [merged_close_offset, "
              "records_end_offset) are in no window and were not dead-lettered\"",
              m->worker_id, p->partition, p->pane_start_ms, p->records, close, p->records_end_offset);
}

/* Counts and logs the merge of a partial; true when it is settled (to acknowledge). */
static bool settle_partial(coord_t *c, const Netpulse__WorkerMsg *m, np_merge_result_t r, double secs) {
    static np_log_rl_t rl = NP_LOG_RL_INIT;
    const Netpulse__Partial *p = m->partial;
    switch (r) {
    case NP_MERGE_OK:
        np_counter_inc(c->m_partials);
        np_histogram_observe(c->m_merge_s, secs);
        break;
    case NP_MERGE_DUPLICATE:
        np_counter_inc(c->m_dups);
        note_conflict(c, m);
        break;
    case NP_MERGE_TOO_LATE:
        np_counter_inc(c->m_too_late);
        np_log_rl(&rl, NP_LOG_INFO, "partial_after_final", "worker=%s partition=%d pane_start=%" PRId64, m->worker_id,
                  p->partition, p->pane_start_ms);
        note_conflict(c, m);
        break;
    case NP_MERGE_FULL:
        np_counter_inc(c->m_full);
        np_log_rl(&rl, NP_LOG_ERROR, "merge_full", "worker=%s partition=%d pane_start=%" PRId64, m->worker_id,
                  p->partition, p->pane_start_ms);
        break;
    case NP_MERGE_BAD:
        np_counter_inc(c->m_bad);
        np_log_rl(&rl, NP_LOG_ERROR, "partial_rejected",
                  "worker=%s partition=%d pane_start=%" PRId64 " pane_ms=%" PRId64 " expected_pane_ms=%" PRId64,
                  m->worker_id, p->partition, p->pane_start_ms, p->pane_ms, c->pane_ms);
        break;
    }
    /* Everything but "no room" is settled for good: merged now, merged before, or never
     * mergeable. "No room" stays unacknowledged so the worker re-sends it later. */
    return r != NP_MERGE_FULL;
}

static void send_acks_cb(void *ctx, const uint8_t *peer, size_t peer_len, Netpulse__PartialId **ids, size_t n) {
    send_acks(ctx, peer, peer_len, ids, n);
}

/* A batch Redis did not store: none of it is merged or acknowledged (the workers re-send). */
static void not_stored(coord_t *c, np_pbatch_t *b, const char *err) {
    static np_log_rl_t rl = NP_LOG_RL_INIT;
    np_counter_inc(c->m_persist_err);
    np_log_rl(&rl, NP_LOG_ERROR, "persist_failed", "what=partials count=%zu error=\"%s\"", np_pbatch_len(b), err);
    np_pbatch_clear(b);
}

/* The sent batch's outcome: when Redis stored it, merges and acknowledges its partials;
 * if not, none is merged or acknowledged, and the workers re-send them (ARCHITECTURE.md,
 * Coordinator). Waits for Redis only if it has not answered yet. */
static void settle_sent(coord_t *c) {
    size_t n = np_pbatch_len(c->sent);
    if (!n) return;
    double t0 = np_clock_mono_s();
    char err[256];
    if (c->cs && np_coordstore_wait_partials(c->cs, err, sizeof(err)) < 0) {
        not_stored(c, c->sent, err);
        return;
    }
    np_counter_inc(c->m_batches);
    double share = (np_clock_mono_s() - t0) / (double)n; /* each partial's part of the wait */
    for (size_t i = 0; i < n; i++) {
        double t1 = np_clock_mono_s();
        np_pbatch_item_t *e = np_pbatch_at(c->sent, i);
        np_merge_result_t r = np_merge_add_partial(c->merge, e->m->partial);
        e->ack = settle_partial(c, e->m, r, share + np_clock_mono_s() - t1);
    }
    np_pbatch_acks(c->sent, send_acks_cb, c);
    np_pbatch_clear(c->sent);
}

/* The group commit: settles the batch sent before, then sends this one's partials to
 * Redis in one transaction and keeps them as the sent batch, so that the partials that
 * arrive meanwhile are decoded while Redis applies it; its outcome is read by the next
 * flush, a finalize round (which needs every stored partial merged) or once Redis has
 * answered (the main loop polls its socket). Without Redis it is settled at once. */
static void flush_partials(coord_t *c) {
    settle_sent(c);
    size_t n = np_pbatch_len(c->batch);
    if (!n) return;
    char err[256];
    if (c->cs && np_coordstore_send_partials(c->cs, err, sizeof(err)) < 0) {
        not_stored(c, c->batch, err);
        return;
    }
    np_pbatch_t *t = c->sent;
    c->sent = c->batch;
    c->batch = t;
    if (!c->cs) settle_sent(c);
}

/* Takes an accepted partial (np_merge_check_partial OK) into the group commit. False when
 * the batch did not take m (the caller releases it); one not taken, or not staged (then
 * given back here), is not acknowledged, and the worker re-sends it. Stages buf, the bytes
 * as received: nothing is encoded again. */
static bool add_pending(coord_t *c, const uint8_t *peer, size_t peer_len, Netpulse__WorkerMsg *m, const uint8_t *buf,
                        size_t len) {
    const Netpulse__Partial *p = m->partial;
    np_pbatch_item_t *e = np_pbatch_add(c->batch, peer, peer_len, m, len);
    if (!e) return false;
    char err[256];
    if (!e->repeat && c->cs && np_coordstore_stage_partial(c->cs, p->pane_start_ms, p->partition, buf, len, err, sizeof(err)) < 0) {
        static np_log_rl_t rl = NP_LOG_RL_INIT;
        np_counter_inc(c->m_persist_err);
        np_log_rl(&rl, NP_LOG_ERROR, "persist_failed", "what=partial partition=%d error=\"%s\"", p->partition, err);
        np_pbatch_drop_last(c->batch); /* gives m back */
        return true;
    }
    if (np_pbatch_full(c->batch)) flush_partials(c);
    return true;
}

/* True when peer may speak for the claimed partition: it holds the partition's current
 * fencing epoch (np_owner; a claim new to us is checked against Redis). */
static bool claim_ok(coord_t *c, const uint8_t *peer, size_t plen, const char *session,
                     const Netpulse__PartitionProgress *pp, int64_t now) {
    if (!c->owners) return true;
    np_owner_verdict_t v = np_owner_claim(c->owners, pp->partition, peer, plen, pp->epoch, session, now);
    if (v != NP_OWNER_LOOKUP) return v == NP_OWNER_OK;
    const char *topic = np_config_str(c->proc.cfg, "topic"), *rtopic = np_config_str(c->proc.cfg, "repartition.topic");
    const char *ktopic = np_config_str(c->proc.cfg, "kdd.topic");
    if (!pp->topic || pp->topic_partition < 0 ||
        (strcmp(pp->topic, topic) != 0 && strcmp(pp->topic, rtopic) != 0 && strcmp(pp->topic, ktopic) != 0))
        return false;
    char key[400], err[256];
    uint8_t *buf = NULL;
    size_t len = 0;
    snprintf(key, sizeof(key), "netpulse:owner:{%s/%s/%d}", np_config_str(c->proc.cfg, "group.id"), pp->topic,
             pp->topic_partition);
    int got = np_store_get(c->store, key, &buf, &len, err, sizeof(err));
    bool ok = got == 0 && np_owner_confirm(c->owners, pp->partition, peer, plen, pp->epoch, session, (const char *)buf, len);
    free(buf);
    return ok;
}

static void on_progress(coord_t *c, const uint8_t *peer, size_t peer_len, const Netpulse__WorkerMsg *m, int64_t now) {
    static np_log_rl_t rl = NP_LOG_RL_INIT;
    size_t taken = 0, refused = 0;
    np_counter_inc(c->m_progress);
    for (size_t i = 0; i < m->progress->n_partitions; i++) {
        const Netpulse__PartitionProgress *pp = m->progress->partitions[i];
        if (claim_ok(c, peer, peer_len, m->session, pp, now)) {
            np_merge_progress(c->merge, pp, now);
            taken++;
        } else {
            refused++;
        }
    }
    /* The partition count only from a worker that holds something: a stranger's count
     * would hold every pane back. */
    if (taken || !c->owners) np_merge_set_partitions(c->merge, m->progress->partitions_total);
    if (refused) {
        np_counter_add(c->m_unauth_progress, refused);
        np_log_rl(&rl, NP_LOG_WARN, "progress_refused", "worker=\"%.64s\" partitions=%zu reason=not_owner", m->worker_id,
                  refused);
    }
}

static void on_worker_msg(coord_t *c, const uint8_t *peer, size_t peer_len, const uint8_t *buf, size_t len,
                          int64_t now) {
    static np_log_rl_t rl = NP_LOG_RL_INIT;
    /* Decoded into the batch's arena: given back below unless the batch keeps it. */
    Netpulse__WorkerMsg *m = np_pbatch_unpack(c->batch, buf, len);
    if (!m) {
        np_counter_inc(c->m_decode_err);
        np_log_rl(&rl, NP_LOG_WARN, "bad_worker_message", "bytes=%zu", len);
        return;
    }
    if (m->body_case == NETPULSE__WORKER_MSG__BODY_PARTIAL && c->stale) {
        /* Memory is about to be reloaded from Redis: take nothing now (no merge, no
         * acknowledgement, not even "too late"); the worker re-sends. */
    } else if (m->body_case == NETPULSE__WORKER_MSG__BODY_PARTIAL && c->owners &&
               !np_owner_holds(c->owners, m->partial->partition, peer, peer_len)) {
        /* Not (yet) from the partition's owner: not taken, not acknowledged. The owner
         * re-sends it once its progress has shown its claim. */
        np_counter_inc(c->m_unauth_partial);
        np_log_rl(&rl, NP_LOG_WARN, "partial_refused", "worker=\"%.64s\" partition=%d pane_start=%" PRId64 " reason=not_owner",
                  m->worker_id, m->partial->partition, m->partial->pane_start_ms);
    } else if (m->body_case == NETPULSE__WORKER_MSG__BODY_PARTIAL) {
        /* Accepted ones are persisted before they are merged and acknowledged, in a group
         * commit (flush_partials); the others are settled now. */
        const Netpulse__Partial *p = m->partial;
        if (np_merge_check_partial(c->merge, p) == NP_MERGE_OK) {
            if (!add_pending(c, peer, peer_len, m, buf, len)) np_pbatch_release(c->batch);
            return;
        }
        if (settle_partial(c, m, np_merge_add_partial(c->merge, p), 0))
            ack_partial(c, peer, peer_len, p->partition, p->pane_start_ms);
    } else if (m->body_case == NETPULSE__WORKER_MSG__BODY_PROGRESS) {
        on_progress(c, peer, peer_len, m, now);
    }
    np_pbatch_release(c->batch);
}

static void recv_workers(coord_t *c, int64_t now) {
    for (int n = 0; n < 10000; n++) {
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, c->wsock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&id);
            break;
        }
        zmq_msg_init(&body);
        if (zmq_msg_more(&id) && zmq_msg_recv(&body, c->wsock, 0) >= 0) {
            remember_worker(c, zmq_msg_data(&id), zmq_msg_size(&id), now);
            on_worker_msg(c, zmq_msg_data(&id), zmq_msg_size(&id), zmq_msg_data(&body), zmq_msg_size(&body), now);
        }
        /* Drop any further frames of a malformed multipart message. */
        while (zmq_msg_more(&body) && zmq_msg_recv(&body, c->wsock, 0) >= 0) {}
        zmq_msg_close(&id);
        zmq_msg_close(&body);
    }
    /* Nothing accepted waits past this drain of the socket: sent now, or once Redis has
     * answered for the batch before (the main loop wakes for it). */
    if (!np_pbatch_len(c->sent)) flush_partials(c);
}

static void broadcast_watermark(coord_t *c, int64_t gwm) {
    Netpulse__CoordMsg cm = NETPULSE__COORD_MSG__INIT;
    cm.version = NP_WIRE_VERSION;
    cm.global_watermark_ms = gwm;
    uint8_t buf[64];
    size_t len = netpulse__coord_msg__pack(&cm, buf);
    for (size_t i = 0; i < c->nworkers; i++) {
        if (zmq_send(c->wsock, c->workers[i].id, c->workers[i].len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) continue;
        zmq_send(c->wsock, buf, len, ZMQ_DONTWAIT);
    }
}

/* ---- outbox to the gateway --------------------------------------------------------- */

static void send_pending(coord_t *c, size_t from, size_t count, int64_t now) {
    if (count == 0) return;
    Netpulse__Result *rs = calloc(count, sizeof(*rs));
    Netpulse__Result **rp = calloc(count, sizeof(*rp));
    if (!rs || !rp) goto out;
    for (size_t i = 0; i < count; i++) {
        np_resultbox_item_t *p = np_resultbox_at(c->outbox, from + i);
        netpulse__result__init(&rs[i]);
        rs[i].id = p->id;
        rs[i].type = p->type;
        rs[i].window_start_ms = p->start;
        rs[i].window_end_ms = p->end;
        rs[i].json.data = p->json;
        rs[i].json.len = p->len;
        rp[i] = &rs[i];
        p->sent_mono = now;
    }
    Netpulse__ResultBatch b = NETPULSE__RESULT_BATCH__INIT;
    b.version = NP_WIRE_VERSION;
    b.n_results = count;
    b.results = rp;
    size_t len = netpulse__result_batch__get_packed_size(&b);
    uint8_t *buf = malloc(len);
    if (buf) {
        netpulse__result_batch__pack(&b, buf);
        if (zmq_send(c->gsock, buf, len, ZMQ_DONTWAIT) < 0)
            np_warn("gateway_send_failed", "error=\"%s\" results=%zu", zmq_strerror(errno), count);
        free(buf);
    }
out:
    free(rs);
    free(rp);
}

/* Queues the result in c->sb (outbox + its Redis record in the open transaction). */
static void queue_result(coord_t *c, const char *id, const char *type, int64_t start, int64_t end) {
    assert(np_resultbox_len(c->outbox) < np_resultbox_cap(c->outbox)); /* finalize is given the room left */
    np_resultbox_item_t *p = np_resultbox_push(c->outbox, id, type, start, end, (const uint8_t *)c->sb.buf, c->sb.len);
    if (!p) {
        np_error("out_of_memory", "what=result id=%s", id);
        abort();
    }
    np_counter_inc(c->m_results);
    if (c->cs) np_coordstore_add_result(c->cs, p->id, p->type, p->start, p->end, p->json, p->len);
}

static void emit_result(coord_t *c, const np_gpane_t *gp, int64_t window_ms) {
    char id[ID_MAX];
    np_strbuf_reset(&c->sb);
    np_result_window_json(&c->sb, gp, window_ms, id, sizeof(id));
    queue_result(c, id, "window", gp->start_ms, gp->start_ms + window_ms);
    np_counter_inc(c->m_windows);
    np_debug("window_final", "id=%s records=%" PRIu64 " partitions=%u", id, gp->records, gp->partitions);
}

/* Known sources the detectors learnt in this pane: one HSET in the open transaction. */
typedef struct known_batch {
    np_ip_t *ips;
    np_known_t *vals;
    size_t n, cap;
} known_batch_t;

static void known_cb(void *ctx, const np_ip_t *ip, const np_known_t *v) {
    known_batch_t *b = ctx;
    if (b->n == b->cap) return;
    b->ips[b->n] = *ip;
    b->vals[b->n] = *v;
    b->n++;
}

/* Runs the detectors on a final pane and queues its anomalies and forecast; the detector
 * state goes into the same transaction (saved once per round, in finalize_round). */
static void detect(coord_t *c, const np_gpane_t *gp) {
    np_forecast_t fc;
    size_t n = np_detect_pane(c->det, gp, c->anomalies, &fc);
    char id[ID_MAX];
    for (size_t i = 0; i < n; i++) {
        const np_anomaly_t *a = &c->anomalies[i];
        np_strbuf_reset(&c->sb);
        np_result_anomaly_json(&c->sb, a, id, sizeof(id));
        queue_result(c, id, "anomaly", a->window_start, a->window_end);
        np_counter_inc(c->m_anomalies[a->kind][a->severity]);
        np_info("anomaly", "id=%s severity=%s observed=%g expected=%g", id, np_severity_name(a->severity), a->observed,
                a->expected);
    }
    np_strbuf_reset(&c->sb);
    np_result_forecast_json(&c->sb, &fc, id, sizeof(id));
    queue_result(c, id, "forecast", fc.window_start, fc.window_end);
    np_counter_inc(c->m_forecasts);
    if (!c->cs) return;
    size_t changed = np_detect_known_changed(c->det, NULL, NULL);
    if (!changed) return;
    known_batch_t b = {0};
    b.cap = changed;
    b.ips = malloc(changed * sizeof(*b.ips));
    b.vals = malloc(changed * sizeof(*b.vals));
    if (!b.ips || !b.vals) abort();
    np_detect_known_changed(c->det, known_cb, &b);
    np_coordstore_add_known(c->cs, b.ips, b.vals, b.n);
    free(b.ips);
    free(b.vals);
}

/* The top groups of every view in a final pane, as `group` results. */
static void emit_groups(coord_t *c, const np_gpane_t *gp) {
    char id[ID_MAX];
    for (size_t vi = 0; vi < gp->nviews; vi++) {
        const np_viewagg_t *va = &gp->views[vi];
        uint64_t rec, bytes, pk;
        np_gtab_totals(va->groups, &rec, &bytes, &pk);
        size_t n = np_gtab_top(va->groups, c->top, c->ntop);
        for (size_t i = 0; i < n; i++) {
            np_strbuf_reset(&c->sb);
            np_result_group_json(&c->sb, va->view, &c->top[i], (int)i + 1, bytes, gp->start_ms, c->pane_ms, id, sizeof(id));
            queue_result(c, id, "group", gp->start_ms, gp->start_ms + c->pane_ms);
            np_counter_inc(c->m_groups);
        }
    }
}

/* A global pane is final: publish it (as a pane window and/or as the end of a sliding
 * window) and, in the same Redis transaction, drop its partials and keep its merged
 * aggregate as long as a sliding window still covers it. */
static void emit_window(void *ctx, const np_gpane_t *gp) {
    coord_t *c = ctx;
    if (c->pane_windows || !c->win) emit_result(c, gp, c->pane_ms);
    if (c->win) { /* the ring borrows gp's sources until they are read for the last time */
        const np_gpane_t *w = np_window_push_lent(c->win, gp);
        if (w) emit_result(c, w, np_window_ms(c->win));
    }
    emit_groups(c, gp);
    if (c->det) detect(c, gp);
    if (c->cs) {
        np_coordstore_drop_pane(c->cs, gp->start_ms);
        if (c->win) {
            const uint8_t *buf;
            size_t len;
            if (np_partial_encode_gpane(&c->enc, gp, c->pane_ms, &buf, &len) < 0) abort();
            np_coordstore_keep_final(c->cs, gp->start_ms, buf, len, gp->start_ms - np_window_ms(c->win));
        }
    }
    if (c->win) { /* the ring keeps gp's table, the merge gets the ring's emptied one */
        np_srcmap_t *spare = np_window_keep(c->win);
        if (spare) np_merge_swap_sources(c->merge, gp, spare);
    }
}

static void on_gateway_ack(coord_t *c, const uint8_t *buf, size_t len) {
    Netpulse__ResultAck *a = netpulse__result_ack__unpack(NULL, len, buf);
    if (!a) {
        np_counter_inc(c->m_decode_err);
        return;
    }
    for (size_t i = 0; i < a->n_ids; i++) {
        if (!np_resultbox_ack(c->outbox, a->ids[i])) continue;
        if (c->cs) { /* best effort: a leftover is re-sent after a restart and dropped as a repeat */
            char err[256];
            np_coordstore_ack(c->cs, a->ids[i], err, sizeof(err));
        }
        np_counter_inc(c->m_acks);
    }
    netpulse__result_ack__free_unpacked(a, NULL);
}

static void recv_gateway(coord_t *c) {
    uint8_t buf[1 << 16];
    for (;;) {
        int n = zmq_recv(c->gsock, buf, sizeof(buf), ZMQ_DONTWAIT);
        if (n < 0) return;
        if ((size_t)n > sizeof(buf)) {
            np_counter_inc(c->m_decode_err);
            continue;
        }
        on_gateway_ack(c, buf, (size_t)n);
    }
}

static void resend_due(coord_t *c, int64_t now) {
    size_t first;
    size_t count = np_resultbox_due(c->outbox, now, c->resend_ms, &first);
    if (count) {
        if (np_resultbox_at(c->outbox, first)->sent_mono) np_counter_add(c->m_resends, count);
        send_pending(c, first, count > 256 ? 256 : count, now);
    }
}

/* At most: two windows, the views' top groups, the anomalies and a forecast. */
static size_t results_per_pane(const coord_t *c) {
    return 2 + c->views.n * c->ntop + (c->det ? c->dcfg.max_alerts + 1 : 0);
}

/* Publishes the panes that are final, as many as the outbox has room for
 * (back-pressure), recording them in Redis in one transaction with the panes' removal. */
static void finalize_round(coord_t *c, const np_merge_config_t *mc, int64_t now) {
    /* A pane is final only with every stored partial merged; a reload reads them. */
    if (c->stale || np_merge_has_final(c->merge)) settle_sent(c);
    if (c->stale) {
        if (now >= c->next_reload) {
            c->next_reload = now + 1000;
            if (coord_restore(c, mc) == 0) {
                c->stale = false;
                np_counter_inc(c->m_reloads);
            }
        }
        return;
    }
    size_t before = np_resultbox_len(c->outbox), cap = np_resultbox_cap(c->outbox);
    if (!np_merge_has_final(c->merge) || before == cap) return;
    size_t per_pane = results_per_pane(c);
    size_t room = (cap - before) / per_pane;
    if (room > NP_BUDGET_FINALIZE_PANES) room = NP_BUDGET_FINALIZE_PANES; /* bounds the round's transaction */
    if (room == 0) return; /* (before MULTI: an abandoned one would poison the next) */
    double t0 = np_clock_mono_s();
    if (c->cs) np_coordstore_begin(c->cs);
    size_t emitted = np_merge_finalize(c->merge, room, emit_window, c);
    if (c->cs && emitted) {
        char err[256];
        np_coordstore_set_next_emit(c->cs, np_merge_next_emit(c->merge));
        if (c->win) np_coordstore_set_window_first(c->cs, np_window_first(c->win));
        if (c->det) {
            uint8_t *ds;
            size_t dlen;
            if (np_detect_state_encode(c->det, &ds, &dlen) < 0) abort();
            np_coordstore_set_detect(c->cs, ds, dlen);
            free(ds);
        }
        if (np_coordstore_commit(c->cs, err, sizeof(err)) < 0) {
            /* Memory moved on, Redis did not: reload from Redis (which re-finalises
             * the same panes, with the same ids) once it answers again. */
            np_counter_inc(c->m_persist_err);
            np_error("persist_failed", "what=finalize error=\"%s\"", err);
            c->stale = true;
            c->next_reload = now + 1000;
            return;
        }
    }
    if (emitted) {
        np_histogram_observe(c->m_finalize_s, np_clock_mono_s() - t0);
        send_pending(c, before, np_resultbox_len(c->outbox) - before, now);
    }
}

/* ---- set-up and loop --------------------------------------------------------------- */

static int health(void *ctx, char *buf, size_t len) {
    coord_t *c = ctx;
    if ((size_t)np_gauge_get(c->m_outbox) >= np_resultbox_cap(c->outbox)) {
        snprintf(buf, len, "outbox full: gateway not acknowledging");
        return 1;
    }
    return 0;
}

static void register_metrics(coord_t *c) {
    np_metrics_t *m = c->proc.metrics;
    c->m_partials = np_metrics_counter(m, "netpulse_coordinator_partials_merged_total", "Partials merged", NULL);
    c->m_dups = np_metrics_counter(m, "netpulse_coordinator_partials_duplicate_total", "Partials ignored as duplicates", NULL);
    c->m_conflicting = np_metrics_counter(m, "netpulse_coordinator_partials_conflicting_total",
                                          "Partials for a pane merged or published before holding records the merged "
                                          "copy lacks (lost: logged as partial_conflicting with their offsets)", NULL);
    c->m_too_late = np_metrics_counter(m, "netpulse_coordinator_partials_after_final_total", "Partials for panes already final (ignored)", NULL);
    c->m_full = np_metrics_counter(m, "netpulse_coordinator_partials_no_room_total", "Partials refused: too many open panes", NULL);
    c->m_bad = np_metrics_counter(m, "netpulse_coordinator_partials_invalid_total", "Partials refused as invalid", NULL);
    c->m_progress = np_metrics_counter(m, "netpulse_coordinator_progress_messages_total", "Progress messages", NULL);
    c->m_windows = np_metrics_counter(m, "netpulse_coordinator_windows_emitted_total", "Windows finalised", NULL);
    c->m_acks = np_metrics_counter(m, "netpulse_coordinator_results_acked_total", "Results acknowledged by the gateway", NULL);
    c->m_resends = np_metrics_counter(m, "netpulse_coordinator_results_resent_total", "Results re-sent to the gateway", NULL);
    c->m_decode_err = np_metrics_counter(m, "netpulse_coordinator_messages_invalid_total", "Undecodable messages", NULL);
    c->m_persist_err = np_metrics_counter(m, "netpulse_coordinator_persist_errors_total", "Writes to Redis that failed", NULL);
    c->m_batches = np_metrics_counter(m, "netpulse_coordinator_persist_batches_total",
                                      "Group commits of accepted partials (partials_merged_total / this: the mean batch)", NULL);
    c->m_reloads = np_metrics_counter(m, "netpulse_coordinator_state_reloads_total", "Reloads of state from Redis after a failed write", NULL);
    for (int k = 0; k < NP_AN__COUNT; k++)
        for (int v = 0; v < NP_SEVERITIES; v++) { /* every pair up front: series exist at 0 */
            char labels[96];
            snprintf(labels, sizeof(labels), "kind=\"%s\",severity=\"%s\"", np_anomaly_kind_name((np_anomaly_kind_t)k),
                     np_severity_name((np_severity_t)v));
            c->m_anomalies[k][v] = np_metrics_counter(m, "netpulse_coordinator_anomalies_total",
                                                      "Anomalies raised, by kind and severity", labels);
        }
    c->m_results = np_metrics_counter(m, "netpulse_coordinator_results_emitted_total",
                                      "Results handed to the gateway (windows, anomalies, forecasts)", NULL);
    c->m_forecasts = np_metrics_counter(m, "netpulse_coordinator_forecasts_total", "Forecasts published", NULL);
    c->m_groups = np_metrics_counter(m, "netpulse_coordinator_groups_total", "View groups published", NULL);
    c->m_class_evicted = np_metrics_counter(m, "netpulse_coordinator_class_dests_evicted_total",
                                            "Destinations' NSL-KDD class counts folded into 'other' (global pane table full)", NULL);
    c->m_unpaired = np_metrics_counter(m, "netpulse_coordinator_partials_unpaired_total",
                                       "Bounded repartition partials their worker could not merge with the input "
                                       "partition's pane (sources both had are counted twice)", NULL);
    c->m_fanin_bad = np_metrics_counter(m, "netpulse_coordinator_fanin_refused_total",
                                        "Bounded partials' fan-in pools of another fanin.pool.registers / "
                                        "fanin.registers.per.dest, or malformed (left out: DDoS fan-in short)", NULL);
    c->m_views_unknown = np_metrics_counter(m, "netpulse_coordinator_views_unknown_total",
                                            "View tables in partials for views this coordinator does not define (ignored)", NULL);
    c->m_unauth_partial = np_metrics_counter(m, "netpulse_coordinator_messages_unauthorised_total",
                                             "Messages refused: the sender does not hold the partition's fencing epoch",
                                             "kind=\"partial\"");
    c->m_unauth_progress = np_metrics_counter(m, "netpulse_coordinator_messages_unauthorised_total",
                                              "Messages refused: the sender does not hold the partition's fencing epoch",
                                              "kind=\"progress\"");
    c->m_quarantined = np_metrics_counter(m, "netpulse_coordinator_partials_quarantined_total",
                                          "Stored partials found damaged on restore and moved aside", NULL);
    c->m_refused = np_metrics_counter(m, "netpulse_coordinator_zmq_peers_refused_total",
                                      "ZeroMQ peers refused: CURVE key not on the allow-list", NULL);
    static const char *const tables[3] = {"table=\"sources\"", "table=\"dests\"", "table=\"window_top\""};
    np_counter_t **ev[3] = {&c->m_evicted_src, &c->m_evicted_dst, &c->m_evicted_wtop};
    for (int i = 0; i < 3; i++)
        *ev[i] = np_metrics_counter(m, "netpulse_coordinator_table_evictions_total",
                                    "Entries folded into 'other' while merging: a global pane's table was at its cap", tables[i]);
    c->m_known_full = np_metrics_counter(m, "netpulse_coordinator_known_sources_full_total",
                                         "Sources not learnt as known: detect.max.known.sources reached", NULL);
    np_gauge_set(np_metrics_gauge(m, "netpulse_coordinator_memory_bound_bytes",
                                  "Worst-case memory of this configuration: every cap full (ARCHITECTURE.md, Memory budget)", NULL),
                 (int64_t)c->budget.total);
    for (int i = 0; i < NP_BUDGET__COUNT; i++) {
        char labels[64];
        snprintf(labels, sizeof(labels), "component=\"%s\"", np_budget_part_name((np_budget_part_t)i));
        np_gauge_set(np_metrics_gauge(m, "netpulse_coordinator_memory_bound_component_bytes",
                                      "Worst-case memory by component, every cap full", labels),
                     (int64_t)c->budget.part[i]);
    }
    np_gauge_set(np_metrics_gauge(m, "netpulse_coordinator_memory_zmq_queue_per_worker_bytes",
                                  "Not in the bound: what libzmq may queue per connected worker (zmq.rcvhwm x zmq.max.message.bytes)",
                                  NULL),
                 (int64_t)c->budget.zmq_queue_per_peer);
    np_gauge_set(np_metrics_gauge(m, "netpulse_coordinator_memory_budget_bytes", "memory.budget.mb in bytes (0: report only)", NULL),
                 np_config_int(c->proc.cfg, "memory.budget.mb") << 20);
    c->m_gwm = np_metrics_gauge_milli(m, "netpulse_coordinator_global_watermark_seconds", "Global watermark (event time, seconds since the epoch)", NULL);
    c->m_complete = np_metrics_gauge_milli(m, "netpulse_coordinator_complete_through_seconds", "Every pane before this event time (seconds since the epoch) is final", NULL);
    c->m_outbox = np_metrics_gauge(m, "netpulse_coordinator_outbox_results", "Results awaiting acknowledgement", NULL);
    c->m_open = np_metrics_gauge(m, "netpulse_coordinator_open_panes", "Global panes not yet final", NULL);
    c->m_workers = np_metrics_gauge(m, "netpulse_coordinator_workers_seen", "Workers seen", NULL);
    c->m_partitions = np_metrics_gauge(m, "netpulse_coordinator_partitions", "Input partitions tracked", NULL);
    c->m_waiting = np_metrics_gauge(m, "netpulse_coordinator_waiting_partitions",
                                    "Partitions (slots) the oldest open pane still waits for (0: none open)", NULL);
    c->m_merge_s = np_metrics_histogram(m, "netpulse_coordinator_merge_duration_seconds",
                                        "Time to persist and merge one partial (with its share of its group commit)", NULL, np_metrics_buckets_fast,
                                        np_metrics_buckets_fast_n);
    c->m_finalize_s = np_metrics_histogram(m, "netpulse_coordinator_finalize_duration_seconds",
                                           "Time of one finalize step: detectors, results and the Redis transaction",
                                           NULL, np_metrics_buckets_fast, np_metrics_buckets_fast_n);
}

/* Computes the worst-case memory of this configuration, logs it by component and holds
 * it against memory.budget.mb. Returns -1 (config error logged) when over budget. */
static int check_budget(coord_t *c, const np_merge_config_t *mc) {
    np_config_t *cfg = c->proc.cfg;
    np_budget_config_t bc = {.merge = mc, .detect = c->det ? &c->dcfg : NULL,
                             .hll_blocks = (size_t)np_config_int(cfg, "hll.pool.blocks"), .hll_p = np_hll_pool_precision(c->pool),
                             .outbox_max = (size_t)np_config_int(cfg, "outbox.max"), .views_top = c->ntop,
                             .persist = np_config_int(cfg, "redis.port") > 0,
                             .owners = np_config_int(cfg, "redis.port") > 0 && np_config_bool(cfg, "owner.check"),
                             .max_message_bytes = (size_t)np_config_int(cfg, "zmq.max.message.bytes"),
                             .rcvhwm = (size_t)np_config_int(cfg, "zmq.rcvhwm"),
                             .batch_max = (size_t)np_config_int(cfg, "persist.batch.max"),
                             .batch_bytes = (size_t)np_config_int(cfg, "persist.batch.bytes")};
    np_budget_compute(&bc, &c->budget);
    char line[1024], err[512];
    np_budget_format(&c->budget, line, sizeof(line));
    uint64_t budget = (uint64_t)np_config_int(cfg, "memory.budget.mb") << 20;
    np_info("memory_bound", "budget=%" PRIu64 " %s", budget, line);
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    if (budget == 0 && pages > 0 && psz > 0 && c->budget.total > (uint64_t)pages * (uint64_t)psz)
        np_warn("memory_bound_over_ram", "bound=%" PRIu64 " ram=%" PRIu64 " hint=\"the caps can hold more than this host's "
                "memory: lower them (max.open.panes, max.sources.per.pane, max.dests.per.pane) and set memory.budget.mb\"",
                c->budget.total, (uint64_t)pages * (uint64_t)psz);
    if (np_budget_check(&c->budget, budget, err, sizeof(err)) < 0) {
        np_proc_fatal_config(err);
        return -1;
    }
    return 0;
}

/* Logs (rate-limited) a bounded-partials condition whose count grew since the last look. */
static void warn_grown(np_log_rl_t *rl, const char *event, uint64_t now, uint64_t *seen, const char *hint) {
    if (now <= *seen) return;
    np_log_rl(rl, NP_LOG_WARN, event, "total=%" PRIu64 " hint=\"%s\"", now, hint);
    *seen = now;
}

int main(int argc, char **argv) {
    coord_t *c = &C;
    int rc = np_proc_init(&c->proc, "netpulse-coordinator",
                          "Merges workers' partial aggregates into global windows once every "
                          "partition has passed them, and hands results to the gateway.",
                          coord_opts, sizeof(coord_opts) / sizeof(coord_opts[0]), argc, argv);
    if (rc) return rc == 1 ? 0 : 2;
    np_config_t *cfg = c->proc.cfg;
    c->pane_ms = np_config_int(cfg, "pane.ms");
    {
        char zerr[320];
        if (np_zsock_cfg_load(&c->zc, cfg, zerr, sizeof(zerr)) < 0 ||
            np_zsock_check(&c->zc, true, np_config_str(cfg, "bind"), zerr, sizeof(zerr)) < 0 ||
            np_zsock_check(&c->zc, false, np_config_str(cfg, "gateway"), zerr, sizeof(zerr)) < 0) {
            np_proc_fatal_config(zerr);
            return 2;
        }
    }
    np_merge_config_t mc = {.pane_ms = c->pane_ms,
                            .max_panes = (size_t)np_config_int(cfg, "max.open.panes"),
                            .max_sources = (size_t)np_config_int(cfg, "max.sources.per.pane"),
                            .max_dests = (size_t)np_config_int(cfg, "max.dests.per.pane"),
                            .max_empty_run = (size_t)np_config_int(cfg, "max.empty.run"),
                            .max_partitions = (int32_t)np_config_int(cfg, "max.partitions"),
                            .max_future_ms = np_config_int(cfg, "max.future.ms"),
                            .window_ms = np_config_int(cfg, "window.ms"),
                            .max_class_dests = (size_t)np_config_int(cfg, "kdd.max.dests.per.pane")};
    {
        char ferr[240];
        if (np_fanin_config_load(cfg, &mc.fanin_registers, &mc.fanin_s, ferr, sizeof(ferr)) < 0) {
            np_proc_fatal_config(ferr);
            return 2;
        }
    }
    c->pool = np_hll_pool_new(NP_HLL_P_DEFAULT, (size_t)np_config_int(cfg, "hll.pool.blocks"));
    if (!c->pool) {
        np_error("out_of_memory", "what=hll_pool");
        return 1;
    }
    mc.pool = c->pool;
    char verr[320];
    if (np_views_config_load(&c->views, cfg, verr, sizeof(verr)) < 0) {
        np_proc_fatal_config(verr);
        return 2;
    }
    mc.views = &c->views;
    mc.max_groups = (size_t)np_config_int(cfg, "views.max.groups");
    c->ntop = (size_t)np_config_int(cfg, "views.top");
    c->top = calloc(c->ntop, sizeof(*c->top));
    c->merge = np_merge_new(&mc);
    if (c->merge) np_merge_set_wall_clock(c->merge, np_clock_wall_ms(NULL));
    int64_t window_ms = np_config_int(cfg, "window.ms");
    c->pane_windows = np_config_bool(cfg, "pane.windows");
    if (window_ms % c->pane_ms != 0 || window_ms / c->pane_ms > 720) {
        np_proc_fatal_config("window.ms must be a multiple of pane.ms, at most 720 panes");
        return 2;
    }
    if (window_ms != c->pane_ms && !(c->win = np_window_new(c->pane_ms, window_ms, mc.max_sources, c->pool))) {
        np_error("out_of_memory", "what=window");
        return 1;
    }
    np_partial_enc_init(&c->enc);
    if (np_config_bool(cfg, "detect.enabled")) {
        char err[256];
        if (np_detect_config_load(&c->dcfg, cfg, c->pane_ms, err, sizeof(err)) < 0) {
            np_proc_fatal_config(err);
            return 2;
        }
        c->dcfg.views = &c->views;
        c->det = np_detect_new(&c->dcfg);
        c->anomalies = calloc(c->dcfg.max_alerts, sizeof(*c->anomalies));
        if (!c->det || !c->anomalies) {
            np_error("out_of_memory", "what=detectors");
            return 1;
        }
    }
    size_t ob_cap = (size_t)np_config_int(cfg, "outbox.max");
    if (ob_cap < 2 * results_per_pane(c)) {
        np_proc_fatal_config("outbox.max must be at least 2 x the results of one pane "
                             "(2 windows + views x views.top + detect.max.alerts + 1)");
        return 2;
    }
    if (check_budget(c, &mc) < 0) return 2;
    c->outbox = np_resultbox_new(ob_cap);
    c->resend_ms = np_config_int(cfg, "resend.ms");
    c->sent = np_pbatch_new((size_t)np_config_int(cfg, "persist.batch.max"),
                            (size_t)np_config_int(cfg, "persist.batch.bytes"));
    c->batch = np_pbatch_new((size_t)np_config_int(cfg, "persist.batch.max"),
                             (size_t)np_config_int(cfg, "persist.batch.bytes"));
    if (!c->merge || !c->outbox || !c->top || !c->batch || !c->sent) {
        np_error("out_of_memory", "what=state");
        return 1;
    }
    np_strbuf_init(&c->sb);
    c->last_gwm = NP_TS_NONE;
    register_metrics(c);
    if (np_config_int(cfg, "redis.port") > 0) {
        char err[256];
        c->store = np_store_connect_config(cfg, err, sizeof(err));
        if (c->store && !(c->cs = np_coordstore_new(c->store, np_config_str(cfg, "state.name")))) {
            np_error("out_of_memory", "what=coordstore");
            return 1;
        }
        if (np_config_bool(cfg, "owner.check") && !(c->owners = np_owner_new(NP_MERGE_MAX_PARTITIONS))) {
            np_error("out_of_memory", "what=owners");
            return 1;
        }
        if (!c->store || coord_restore(c, &mc) < 0) {
            np_error("redis_unavailable", "error=\"%s\"", c->store ? "cannot restore state" : err);
            return 1;
        }
    }
    if (np_proc_http_start(&c->proc, health, NULL, c) < 0) return 1;

    c->zctx = zmq_ctx_new();
    c->wsock = zmq_socket(c->zctx, ZMQ_ROUTER);
    c->gsock = zmq_socket(c->zctx, ZMQ_DEALER);
    int linger = 2000;
    zmq_setsockopt(c->gsock, ZMQ_LINGER, &linger, sizeof(linger));
    const char *bind = np_config_str(cfg, "bind"), *gw = np_config_str(cfg, "gateway");
    {
        char zerr[320];
        if ((c->zc.curve && !(c->zap = np_zsock_zap_start(c->zctx, &c->zc, c->m_refused, zerr, sizeof(zerr)))) ||
            np_zsock_setup(&c->zc, c->wsock, true, bind, zerr, sizeof(zerr)) < 0 ||
            np_zsock_setup(&c->zc, c->gsock, false, gw, zerr, sizeof(zerr)) < 0) {
            np_proc_fatal_config(zerr);
            return 2;
        }
    }
    if (zmq_bind(c->wsock, bind) != 0) {
        char why[256];
        snprintf(why, sizeof(why), "bind: cannot bind '%s': %s", bind, zmq_strerror(errno));
        np_proc_fatal_config(why);
        return 2;
    }
    if (zmq_connect(c->gsock, gw) != 0) {
        char why[256];
        snprintf(why, sizeof(why), "gateway: cannot connect to '%s': %s", gw, zmq_strerror(errno));
        np_proc_fatal_config(why);
        return 2;
    }
    np_info("started", "bind=%s gateway=%s pane_ms=%" PRId64, bind, gw, c->pane_ms);

    int64_t wm_every = np_config_int(cfg, "watermark.ms"), next_wm = 0;
    zmq_pollitem_t items[3] = {{c->wsock, 0, ZMQ_POLLIN, 0}, {c->gsock, 0, ZMQ_POLLIN, 0}, {NULL, -1, ZMQ_POLLIN, 0}};
    while (!np_proc_stopping()) {
        /* Also wakes when Redis answers the sent batch, to acknowledge it without delay
         * (with no connection left its outcome is known: settled at once). */
        items[2].fd = np_pbatch_len(c->sent) ? np_coordstore_fd(c->cs) : -1;
        if (np_pbatch_len(c->sent) && items[2].fd < 0) flush_partials(c);
        zmq_poll(items, items[2].fd >= 0 ? 3 : 2, 50);
        if (items[2].fd >= 0 && (items[2].revents & ZMQ_POLLIN)) flush_partials(c);
        int64_t now = np_clock_mono_ms();
        np_merge_set_wall_clock(c->merge, np_clock_wall_ms(NULL));
        recv_workers(c, now);
        recv_gateway(c);
        if (now >= next_wm) {
            int64_t g = np_merge_global_watermark(c->merge, now);
            c->last_gwm = g;
            if (g != NP_TS_NONE) {
                broadcast_watermark(c, g);
                np_gauge_set(c->m_gwm, g);
            }
            next_wm = now + wm_every;
        }
        finalize_round(c, &mc, now);
        if (!c->stale) resend_due(c, now); /* a stale outbox holds results Redis may not have */
        np_merge_stats_t st;
        np_merge_get_stats(c->merge, &st);
        np_gauge_set(c->m_outbox, (int64_t)np_resultbox_len(c->outbox));
        np_gauge_set(c->m_open, (int64_t)st.open_panes);
        int64_t ct = np_merge_complete_through(c->merge);
        np_gauge_set(c->m_complete, ct == NP_TS_NONE ? 0 : ct);
        np_gauge_set(c->m_waiting, np_merge_waiting_partitions(c->merge));
        np_gauge_set(c->m_partitions, np_merge_partitions(c->merge));
        np_counter_set_max(c->m_class_evicted, st.class_dests_evicted);
        np_counter_set_max(c->m_evicted_src, st.sources_evicted);
        np_counter_set_max(c->m_evicted_dst, st.dests_evicted);
        np_counter_set_max(c->m_evicted_wtop, st.window_top_evicted);
        if (c->det) {
            np_detect_stats_t ds;
            np_detect_get_stats(c->det, &ds);
            np_counter_set_max(c->m_known_full, ds.known_full); /* (a reload restarts the detector's count) */
        }
        if (st.views_unknown > c->views_unknown) {
            static np_log_rl_t vrl = NP_LOG_RL_INIT;
            np_counter_add(c->m_views_unknown, st.views_unknown - c->views_unknown);
            np_log_rl(&vrl, NP_LOG_WARN, "view_unknown",
                      "total=%" PRIu64 " hint=\"workers define views this coordinator does not: set the same views everywhere\"",
                      st.views_unknown);
            c->views_unknown = st.views_unknown;
        }
        static np_log_rl_t wrl = NP_LOG_RL_INIT, srl = NP_LOG_RL_INIT;
        warn_grown(&wrl, "window_mismatch", st.window_mismatch, &c->window_mismatch,
                   "workers compute sliding windows of another window.ms: set the same window.ms in workers "
                   "and coordinator, or sliding windows' sources are lower bounds");
        if (st.partials_unpaired > c->partials_unpaired)
            np_counter_add(c->m_unpaired, st.partials_unpaired - c->partials_unpaired);
        if (st.fanin_bad > c->fanin_bad) np_counter_add(c->m_fanin_bad, st.fanin_bad - c->fanin_bad);
        static np_log_rl_t frl = NP_LOG_RL_INIT;
        warn_grown(&frl, "fanin_refused", st.fanin_bad, &c->fanin_bad,
                   "a bounded partial's fan-in pool has another fanin.pool.registers or fanin.registers.per.dest "
                   "than this coordinator (set the same in workers and coordinator): its destinations' fan-in is "
                   "left out");
        static np_log_rl_t url = NP_LOG_RL_INIT;
        warn_grown(&url, "partials_unpaired", st.partials_unpaired, &c->partials_unpaired,
                   "a repartition partition's pane was closed away from its input partition's (another "
                   "worker, or a rebalance): with bounded partials, sources both had are counted twice");
        warn_grown(&srl, "sources_split", st.sources_split, &c->sources_split,
                   "a source reached two partitions of one pane (keyed and re-keyed records): with bounded "
                   "partials its pane is counted twice in sources");
    }

    settle_sent(c); /* stored partials are acknowledged, not left for the workers to re-send */
    /* Give the gateway a moment to acknowledge what is in flight. */
    int64_t deadline = np_clock_mono_ms() + 3000;
    while (np_resultbox_len(c->outbox) && np_clock_mono_ms() < deadline) {
        zmq_poll(&items[1], 1, 100);
        recv_gateway(c);
    }
    np_info("stopping", "unacknowledged=%zu", np_resultbox_len(c->outbox));
    np_resultbox_destroy(&c->outbox);
    np_coordstore_destroy(&c->cs);
    zmq_close(c->wsock);
    zmq_close(c->gsock);
    np_zsock_zap_stop(&c->zap);
    zmq_ctx_term(c->zctx);
    np_zsock_cfg_free(&c->zc);
    np_merge_destroy(&c->merge);
    np_owner_destroy(&c->owners);
    np_window_destroy(&c->win);
    np_detect_destroy(&c->det);
    free(c->anomalies);
    np_hll_pool_destroy(&c->pool); /* after every table that borrowed it */
    np_partial_enc_free(&c->enc);
    np_strbuf_free(&c->sb);
    np_pbatch_destroy(&c->batch);
    np_pbatch_destroy(&c->sent);
    free(c->ack_buf);
    np_proc_fini(&c->proc);
    return 0;
}
