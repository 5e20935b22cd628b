/*
 * netpulse-worker: one member of the consumer group that reads flow records from
 * `network-traffic`. For each partition it owns it keeps event-time panes (np_pane),
 * closes them as the partition's watermark passes, and sends one partial per
 * (partition, pane) to the coordinator over ZeroMQ, followed by its progress.
 *
 * Threads: the main thread does everything (Kafka, panes, ZeroMQ); libmicrohttpd serves
 * /metrics and /healthz on its own thread from atomics only.
 *
 * Delivery in this version is at-least-once into the coordinator, which drops partials
 * it has already merged: the worker commits to Kafka only offsets whose records are all
 * in partials the coordinator acknowledged (np_slots_commit_offset), so an owner that finds
 * no checkpoint re-reads every pane not yet safe at the coordinator in full.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <zmq.h>

#include "netpulse.pb-c.h"
#include "np_ckpt.h"
#include "np_ckpt_store.h"
#include "np_dlqseen.h"
#include "np_claim.h"
#include "np_zsock.h"
#include "np_clock.h"
#include "np_cand.h"
#include "np_detect_cfg.h"
#include "np_result.h"
#include "np_srcwin.h"
#include "np_pair.h"
#include "np_kafka.h"
#include "np_kdd_stream.h"
#include "np_logend.h"
#include "np_opts.h"
#include "np_outbox.h"
#include "np_pane.h"
#include "np_partial.h"
#include "np_proc.h"
#include "np_rate.h"
#include "np_record.h"
#include "np_slots.h"
#include "np_store.h"

#define MAX_PARTITIONS 4096
#define BATCH_MAX 1024

static const np_opt_t worker_opts[] = {
    NP_OPTS_COMMON,
    NP_OPTS_KAFKA,
    NP_OPTS_ZMQ,
    NP_OPTS_WORKER_INPUT,
    {"dlq.topic", NP_OPT_STR, "network-traffic-dlq", 1, 0, NULL,
     "Dead-letter topic for records that cannot be used (with the reason in headers)"},
    {"dlq.max.per.second", NP_OPT_INT, "1000", 0, 100000000, NULL,
     "Dead letters produced per second at most (a burst of as many, then this rate); the rest of a flood "
     "is counted by reason (netpulse_worker_dlq_sampled_out_total), not produced; 0 = no limit"},
    {"kdd.model", NP_OPT_STR, "", 0, 0, NULL,
     "NSL-KDD intrusion model file (models/kdd-rf.model); empty = no intrusion classification"},
    NP_OPT_KDD_TOPIC,
    NP_OPT_KDD_MAX_DESTS_PER_PANE("1024", "per connection partition and pane"),
    {"worker.id", NP_OPT_STR, NULL, 0, 0, NULL, "Worker id (default: hostname-pid)"},
    {"coordinator", NP_OPT_STR, "tcp://127.0.0.1:5555", 1, 0, NULL, "Coordinator ZeroMQ endpoint"},
    NP_OPT_PANE_MS,
    NP_OPT_LATENESS_MS,
    {"idle.ms", NP_OPT_INT, "10000", 100, 3600000, NULL,
     "A caught-up partition without records this long stops holding back global progress"},
    NP_OPT_MAX_OPEN_PANES("4", 4096, "per partition (its ring of panes)"),
    NP_OPT_MAX_SOURCES_PER_PANE("65536", 16777216, "per partition and pane"),
    NP_OPT_MAX_DESTS_PER_PANE("65536", 0, 16777216, "per partition and pane (0 = none)"),
    NP_OPTS_VIEWS("4096"),
    {"max.record.bytes", NP_OPT_INT, "65536", 64, 10485760, NULL,
     "Records larger than this are rejected as oversized"},
    {"max.future.ms", NP_OPT_INT, "300000", 0, 31536000000, NULL,
     "Records with event time further than this ahead of the wall clock are rejected (out_of_range; 0 = no bound)"},
    {"max.watermark.jump.ms", NP_OPT_INT, "0", 0, 31536000000, NULL,
     "Records further than this (plus lateness.ms) ahead of the partition's and the global watermark "
     "are dead-lettered (watermark_jump) instead of moving the watermark; 0 = no bound (default: a "
     "stream may legitimately jump, e.g. a replay followed by live data; use it for replays of history)"},
    {"progress.ms", NP_OPT_INT, "200", 10, 60000, NULL, "How often progress is reported, ms"},
    {"commit.ms", NP_OPT_INT, "1000", 100, 600000, NULL, "How often safe offsets are committed, ms"},
    NP_OPTS_REDIS("6379", "checkpoints, fleet registry",
                  "no checkpoints (a restart re-reads from the last safe Kafka offset)"),
    {"checkpoint.ms", NP_OPT_INT, "1000", 50, 600000, NULL,
     "Checkpoint interval, ms (also on every pane close, revocation and SIGTERM)"},
    {"checkpoint.full.every", NP_OPT_INT, "30", 1, 1000000, NULL,
     "Every Nth checkpoint of a partition rewrites all of it; the others write only what changed (1 = always full)"},
    NP_OPT_OUTBOX_MAX("10000", 10, 10000000, "partials (sent to the coordinator), all partitions together"),
    NP_OPT_HLL_POOL_BLOCKS("65536"),
    NP_OPTS_FANIN,
    {"resend.max.ms", NP_OPT_INT, "5000", 100, 600000, NULL, "Longest back-off between re-sends of a partial"},
    {"partial.top.sources", NP_OPT_INT, "100", 0, 1000000, NULL,
     "Bounded partials: send only this many top sources by bytes (>= 10) plus the sources the "
     "per-source detectors may flag, and the exact distinct count (0 = whole source tables; "
     "ARCHITECTURE.md, Bounded partials). Give workers the coordinator's window.ms and detect.* values"},
    NP_OPT_WINDOW_MS("with bounded partials each partition's window of sources is computed here (give the "
                     "coordinator's value)"),
    {"partial.max.candidates", NP_OPT_INT, "1024", 0, 1000000, NULL,
     "Bounded partials: per-source detector candidates sent per pane at most (more are counted)"},
    {"partial.pair.panes", NP_OPT_INT, "4", 1, 4096, NULL,
     "Bounded partials with re-keying: closed panes an input partition keeps beyond its window for "
     "its repartition partner to merge with (np_pair; a partner further behind sends unmerged, counted)"},
    /* The per-source thresholds of the coordinator's detectors, which bounded partials must
     * not cut below: the same keys, to be set to the same values. */
    NP_OPTS_DETECT,
};

/* Dead-letter reasons: the decoder's (np_record_reason_t) and, in slot 0 (NP_REC_OK is
 * never one), late records; after them, connection records (kdd.topic) that do not decode. */
#define DLQ_REASONS (NP_REC__COUNT + 1)
#define DLQ_LATE    0
#define DLQ_CONNECTION_INVALID NP_REC__COUNT
static const char *dlq_reason_name(int why) {
    return why == DLQ_LATE ? "late" : why == DLQ_CONNECTION_INVALID ? "connection_invalid" : np_record_reason_name(why);
}

typedef struct worker {
    np_proc_t proc;
    char id[128];
    char session[33];      /* random per process: part of every ownership claim (np_owner.h) */
    const char *topic;
    const char *rtopic;    /* repartition topic, NULL when off */
    int32_t nin;           /* input partitions; slot = partition, or nin + partition for rtopic */
    const char *dlq_topic;
    np_rate_t dlq_rate;    /* dlq.max.per.second */
    np_viewset_t views;     /* operator views (pcfg and rcfg point here) */
    np_pane_config_t pcfg;  /* input partitions */
    np_pane_config_t rcfg;  /* repartition partitions: external watermark, growing ring */
    const char *ktopic;    /* connection topic (kdd.model set), NULL when off */
    int32_t kbase, nconn;  /* its partitions are slots kbase + partition (np_kdd_stream.h) */
    np_pane_config_t kcfg;  /* connection partitions: class counts only */
    np_record_limits_t lim;
    int64_t idle_ms;
    int64_t max_jump_ms;   /* max.watermark.jump.ms */
    rd_kafka_t *rk;        /* consumer */
    rd_kafka_t *dlq;       /* producer: dead letters and re-keyed records */
    rd_kafka_t *dlq_reader; /* consumer without a group: reads a partition's dead letters on restore */
    int32_t ndlq;          /* partitions of dlq.topic */
    np_dlqseen_t *dseen;   /* by slot: records an earlier owner dead-lettered (np_dlqseen) */
    np_logend_t *logend;   /* log ends of every slot's partition, for idleness (np_idle) */
    rd_kafka_topic_partition_list_t *logend_parts; /* those partitions, by slot; its thread's */
    uint64_t produced_since_flush;
    _Atomic int produce_failed; /* a dead letter or re-keyed record was not delivered */
    void *zctx, *zsock;
    np_zsock_cfg_t zc;
    np_store_t *store;
    np_partial_enc_t enc;
    np_cand_config_t cand;  /* bounded partials (cand.top > 0) */
    const np_srcagg_t **cand_sel;
    const np_srcagg_t **win_sel;  /* the partition window's top sources */
    np_vhll_t *fanin;             /* bounded partials: scratch pool for a partial's fan-in */
    np_pair_t *pair;        /* bounded partials with re-keying: repartition partials merged with
                               their input partition's (NULL: off) */
    np_counter_t *m_unpaired, *m_pair_shared;
    np_counter_t *m_cand_dropped;
    int64_t global_wm;
    int64_t batch_mono, batch_wall; /* clocks read when the current batch of records began */
    np_slots_t *sl;        /* owned partitions, by slot (set up with Kafka) */
    np_ckpt_policy_t ckpt_policy;
    size_t outbox_max;
    int64_t resend_max_ms;
    bool paused;
    np_log_rl_t rl_bad, rl_late;
    /* metrics */
    np_counter_t *m_consumed, *m_consumed_rep, *m_bytes_in, *m_late, *m_partials, *m_partial_bytes, *m_dlq,
        *m_dlq_err, *m_evicted, *m_rebalances, *m_kafka_err, *m_dlq_already, *m_dlq_scan_err;
    np_counter_t *m_bad[NP_REC__COUNT];
    np_counter_t *m_dlq_out[DLQ_REASONS]; /* dead letters not produced (rate limit), by reason */
    np_counter_t *m_forwarded, *m_fwd_dups, *m_markers;
    np_counter_t *m_window_unknown; /* partials without window results: the window's history is lost */
    np_counter_t *m_quarantined;
    np_counter_t *m_ckpt_full, *m_pane_frames_full, *m_pane_frames_delta;
    np_counter_t *m_ckpt, *m_ckpt_err, *m_ckpt_bytes, *m_fenced, *m_restored, *m_resent, *m_acked, *m_pauses;
    np_counter_t *m_claims_overtaken;
    np_gauge_t *m_outbox, *m_hll_blocks;
    np_counter_t *m_hll_exhausted;
    np_counter_t *m_logend_rounds, *m_logend_failed;
    np_gauge_t *m_assigned_rep, *m_assigned_conn, *m_assigned, *m_open_panes, *m_state_bytes, *m_gwm, *m_idle_parts;
    np_histogram_t *m_ckpt_s;
    np_gauge_t *m_lag[MAX_PARTITIONS];  /* per owned slot; unpublished when it goes */
    int64_t lag_total;                  /* over owned slots, for the fleet registry */
    uint64_t hb_consumed;               /* input records consumed at the last heartbeat */
    int64_t hb_mono;
    _Atomic int healthy_kafka;
    bool cooperative; /* the group's rebalance protocol, as last seen (np_kafka_rebalance_apply) */
} worker_t;

static worker_t W; /* one per process; large arrays, so not on the stack */
static np_kdd_stream_t *KDD; /* intrusion classification (kdd.model), or NULL */

/* A repartition slot's watermark: the minimum of its inputs' markers, and, with bounded
 * partials, never past the panes its input partner on this worker has closed, so the
 * partner's pane is kept (np_srcwin) when this slot merges with it (np_pair). Markers
 * alone could run ahead of it after a restore: a marker re-read from before the crash
 * names panes the restored partner has not closed again yet. */
static int64_t rep_watermark(const worker_t *w, int32_t slot, const np_slot_t *s) {
    int64_t rw = np_rekey_watermark(s->rekey);
    const np_partstate_t *in = w->pair ? w->sl->s[slot - w->nin].ps : NULL;
    if (!in || rw == NP_TS_NONE) return rw;
    if (in->closed_through == NP_TS_NONE) return NP_TS_NONE;
    return in->closed_through < rw ? in->closed_through : rw;
}

/* Repartition partitions take their watermark from their inputs' markers (rcfg). */
static const np_pane_config_t *slot_cfg(const worker_t *w, int32_t slot) {
    return slot >= w->kbase ? &w->kcfg : slot < w->nin ? &w->pcfg : &w->rcfg;
}

/* Connection-topic slots (kdd.model) come after both (np_slots); they keep their own watermark. */
static bool is_rep(const worker_t *w, int32_t slot) { return np_slots_rekeyed(w->sl, slot); }
static const char *slot_topic(const worker_t *w, int32_t slot) { return np_slots_topic(w->sl, slot); }
static int32_t slot_partition(const worker_t *w, int32_t slot) { return np_slots_partition(w->sl, slot); }

static void announce_watermark(worker_t *w, int32_t p, int64_t wm);

/* ---- sending to the coordinator ---------------------------------------------------- */

static int zsend(worker_t *w, const uint8_t *buf, size_t len) {
    for (;;) {
        if (zmq_send(w->zsock, buf, len, 0) >= 0) return 0;
        if (errno == EINTR && !np_proc_stopping()) continue;
        np_error("zmq_send_failed", "error=\"%s\"", zmq_strerror(errno));
        return -1;
    }
}

static void emit_partial(void *ctx, np_partstate_t *ps, const np_pane_t *pane, uint64_t late) {
    worker_t *w = ctx;
    const uint8_t *buf;
    size_t len;
    np_partial_bounded_t b = {0}, *bp = NULL;
    bool flows = ps->partition < w->kbase; /* connection slots (NSL-KDD) carry no sources */
    bool learning = w->cand.top && flows && np_cand_learning(&w->cand, ps->panes_emitted);
    ps->emit_whole = !w->cand.top || learning; /* kept with the pane for the repartition partner */
    if (w->fanin && flows && pane->records) { /* learning or not: the fan-in is not per source */
        bp = &b;
        b.fanin = w->fanin;
    }
    /* Bounded partials, once the coordinator has learnt every source of this partition. */
    if (w->cand.top && flows && !learning) {
        bp = &b;
        b.sel = w->cand_sel;
        if (pane->records)
            b.nsel = np_cand_select(&w->cand, pane->sources, pane->bytes, pane->packets, w->cand_sel,
                                    w->cand.top + w->cand.max_candidates, &b.dropped);
    }
    if (w->cand.top && flows && ps->win && np_srcwin_ms(ps->win) > w->pcfg.pane_ms) {
        /* The partition's sliding window ending with this pane (whole tables or not: the
         * coordinator then needs no window of per-source tables). */
        bp = &b;
        if (np_srcwin_covers(ps->win, pane->start_ms))
            np_cand_window(&b, ps->win, pane->start_ms, pane->records ? pane->sources : NULL, pane == &ps->empty,
                           w->cand.top, w->win_sel);
        else { /* panes of the window lost (restarted after a quarantined checkpoint): no
                * window results (window_ms 0), so the coordinator marks it sources_lower_bound */
            b.window_only = pane == &ps->empty;
            np_counter_inc(w->m_window_unknown);
        }
    }
    if (w->pair && flows) {
        bp = &b;
        b.window_only = pane == &ps->empty;
        if (ps->partition < w->nin) b.pair = NP_PAIR_KEPT;
        else if (np_pair_bounded(w->pair, &w->cand, w->sl->s[ps->partition - w->nin].ps, ps, pane, &b) ==
                 NP_PAIR_UNPAIRED)
            np_counter_inc(w->m_unpaired);
        else if (pane->records)
            np_counter_add(w->m_pair_shared, np_srcmap_count(pane->sources) - b.pair_sources);
    }
    if (b.dropped) np_counter_add(w->m_cand_dropped, b.dropped);
    if (np_partial_encode_sel(&w->enc, w->id, ps->partition, pane, w->pcfg.pane_ms, late, bp, &buf, &len) < 0) {
        np_error("partial_encode_failed", "partition=%d pane=%" PRId64, ps->partition, pane->start_ms);
        return;
    }
    uint64_t ev = np_srcmap_evicted(pane->sources);
    if (ev) np_counter_add(w->m_evicted, ev);
    /* Into the outbox first: it is checkpointed with the state that no longer holds the
     * pane, and re-sent until the coordinator acknowledges it. */
    if (np_slots_push_partial(w->sl, ps->partition, pane->start_ms, pane->min_offset, buf, len) < 0) {
        np_error("out_of_memory", "what=outbox partition=%d", ps->partition);
        abort(); /* dropping it would lose data; a restart restores from the checkpoint */
    }
    np_outbox_t *ob = &w->sl->s[ps->partition].outbox;
    if (zsend(w, buf, len) == 0) {
        np_counter_inc(w->m_partials);
        np_counter_add(w->m_partial_bytes, len);
    }
    for (size_t i = 0; i < ob->n; i++)
        if (ob->items[i].pane_start == pane->start_ms) np_outbox_sent(&ob->items[i], np_clock_mono_ms(), w->resend_max_ms);
    np_debug("pane_closed", "partition=%d pane_start=%" PRId64 " records=%" PRIu64 " sources=%zu late=%" PRIu64,
             ps->partition, pane->start_ms, pane->records, np_srcmap_count(pane->sources), late);
}

/* How often an idle partition's log end is asked again (np_idle_should_ask, np_logend's
 * rounds), how long an answer keeps it idle, and how long one round may take (on the
 * np_logend thread: the consumer thread never waits for it). A partition whose answer went
 * stale (the broker too slow to answer) stops being idle: it then holds the global
 * watermark back, which delays results but never makes records late. */
static int64_t idle_every_ms(const worker_t *w) { return w->idle_ms / 2 > 1000 ? 1000 : w->idle_ms / 2; }
static int64_t idle_query_timeout_ms(const worker_t *w) { return w->idle_ms < 1000 ? w->idle_ms : 1000; }
static int64_t idle_fresh_ms(const worker_t *w) { return 2 * idle_every_ms(w) + idle_query_timeout_ms(w); }

/* np_logend's ask function, on its thread: the log end of every slot's partition, asked on
 * the producer's connections (on the consumer's, each request would wait behind the
 * long-polling Fetch: np_logend.h). */
static int ask_log_ends(void *ctx, int64_t *ends, size_t n, int timeout_ms) {
    worker_t *w = ctx;
    if ((size_t)w->logend_parts->cnt != n) return -1;
    return np_kafka_log_ends(w->dlq, w->logend_parts, ends, timeout_ms);
}

/* Idle only on evidence: the log end, asked after idle.ms without a record, is at the
 * position consumed here (np_idle.h). A partition-EOF event, a fetch not yet answered or a
 * consumer that was not scheduled are no evidence. The log end comes from np_logend's
 * thread; here nothing waits for a broker. */
static bool slot_idle(worker_t *w, int32_t p, int64_t now) {
    np_idle_t *s = &w->sl->s[p].idle;
    int64_t end, asked, lo = -1, hi = -1;
    if (np_logend_get(w->logend, (size_t)p, &end, &asked)) np_idle_end(s, end, asked);
    if (np_idle_should_ask(s, now, w->idle_ms, idle_every_ms(w))) np_logend_want(w->logend);
    if (!np_slots_idle(w->sl, p, now, w->idle_ms, idle_fresh_ms(w))) return false;
    /* The fetcher's cached end (from its last fetch response) may already know more. */
    return !(rd_kafka_get_watermark_offsets(w->rk, slot_topic(w, p), slot_partition(w, p), &lo, &hi) ==
                 RD_KAFKA_RESP_ERR_NO_ERROR &&
             hi > s->position);
}

/* Progress reports, per owned slot, how far its panes are closed, never past a pane whose
 * partial the coordinator has not acknowledged (np_slots_reportable_closed), otherwise a
 * partial it refused (Redis down) could be overtaken by progress, and the pane published
 * without it. It goes out at once, instead of at the next progress.ms tick, when some slot
 * can report more than its last progress said (np_slots_progress_moved): the coordinator
 * publishes a pane only when every slot has reported it, and an input slot's report also
 * carries its watermark marker to the repartition slots. */
static void send_progress(worker_t *w, int64_t now) {
    size_t idle = 0;
    for (int32_t p = 0; p < w->sl->total; p++) {
        np_partstate_t *ps = w->sl->s[p].ps;
        if (!ps) continue;
        bool is_idle = slot_idle(w, p, now);
        /* Repartition partitions never follow: their watermark is their inputs' (markers);
         * being idle only stops them from holding the global watermark back. */
        if (is_idle && !is_rep(w, p) && w->global_wm != NP_TS_NONE) {
            /* An idle partition follows the global watermark, so its open panes close
             * together with everyone else's and it stops holding the others back. */
            np_partstate_follow(ps, w->global_wm);
        }
        if (is_rep(w, p) && w->pair && w->sl->s[p].rekey) {
            /* The input partner may have closed more since the last marker (rep_watermark). */
            int64_t rw = rep_watermark(w, p, &w->sl->s[p]);
            if (rw != NP_TS_NONE) np_partstate_follow(ps, rw);
        }
        np_partstate_advance(ps, emit_partial, w);
        if (w->rtopic && p < w->nin) {
            int64_t wm = np_partstate_watermark(ps);
            if (np_slots_marker_due(w->sl, p, wm, w->pcfg.pane_ms)) announce_watermark(w, p, wm);
        }
        np_slots_progress_add(w->sl, p, is_idle);
        idle += is_idle && p < w->nin; /* input partitions: the ones operators watch */
    }
    np_gauge_set(w->m_idle_parts, (int64_t)idle);
    np_gauge_set(w->m_hll_blocks, (int64_t)np_hll_pool_blocks_used(w->pcfg.pool));
    np_counter_set_max(w->m_hll_exhausted, np_hll_pool_exhausted(w->pcfg.pool));
    np_logend_stats_t les = np_logend_stats(w->logend);
    np_counter_set_max(w->m_logend_rounds, les.rounds);
    np_counter_set_max(w->m_logend_failed, les.failed);
    const uint8_t *buf;
    size_t len;
    if (np_slots_progress_encode(w->sl, &w->enc, w->id, w->session, &buf, &len) == 1) zsend(w, buf, len);
}

static void recv_coordinator(worker_t *w) {
    for (;;) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, w->zsock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return;
        }
        Netpulse__CoordMsg *m = netpulse__coord_msg__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
        zmq_msg_close(&msg);
        if (!m) continue;
        if (m->global_watermark_ms != NP_TS_NONE &&
            (m->global_watermark_ms > w->global_wm || w->global_wm == NP_TS_NONE)) {
            w->global_wm = m->global_watermark_ms;
            np_gauge_set(w->m_gwm, w->global_wm);
        }
        for (size_t i = 0; i < m->n_acks; i++)
            if (np_slots_ack(w->sl, m->acks[i]->partition, m->acks[i]->pane_start_ms)) np_counter_inc(w->m_acked);
        netpulse__coord_msg__free_unpacked(m, NULL);
    }
}

/* Re-sends partials whose acknowledgement is overdue (back-off per item). */
static void resend_due(worker_t *w, int64_t now) {
    for (int32_t p = 0; p < w->sl->total; p++) {
        np_outbox_t *ob = &w->sl->s[p].outbox;
        if (!w->sl->s[p].ps) continue;
        for (size_t i = 0; i < ob->n; i++) {
            np_outbox_item_t *it = &ob->items[i];
            if (it->next_send > now) continue;
            if (zsend(w, it->data, it->len) == 0 && it->attempts) np_counter_inc(w->m_resent);
            np_outbox_sent(it, now, w->resend_max_ms);
        }
    }
}

/* ---- checkpoints ------------------------------------------------------------------- */

/* Announces an input partition's watermark into every repartition partition, in band:
 * it travels behind every record this partition forwarded before it, so a repartition
 * partition that has the marker has those records too (Flink-style watermark propagation
 * across a shuffle, over Kafka). */
static void announce_watermark(worker_t *w, int32_t p, int64_t wm) {
    char src[16], val[24];
    snprintf(src, sizeof(src), "%d", p);
    snprintf(val, sizeof(val), "%" PRId64, wm);
    for (int32_t r = 0; r < w->nin; r++) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(2);
        rd_kafka_header_add(h, "netpulse.marker.source", -1, src, -1);
        rd_kafka_header_add(h, "netpulse.marker.watermark", -1, val, -1);
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_producev(w->dlq, RD_KAFKA_V_TOPIC(w->rtopic), RD_KAFKA_V_PARTITION(r),
                                        RD_KAFKA_V_VALUE(NULL, 0), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(w->dlq, 50);
        if (err) {
            rd_kafka_headers_destroy(h);
            w->produce_failed = 1;
            return;
        }
        np_counter_inc(w->m_markers);
    }
    w->sl->s[p].marker_wm = wm;
}

static void ckpt_keys(const worker_t *w, int32_t p, char *epoch_key, char *key, size_t len) {
    /* One hash tag per partition keeps these keys in one slot of a Redis Cluster. */
    const char *g = np_config_str(w->proc.cfg, "group.id");
    snprintf(epoch_key, len, "netpulse:epoch:{%s/%s/%d}", g, slot_topic(w, p), slot_partition(w, p));
    snprintf(key, len, "netpulse:ckpt:{%s/%s/%d}", g, slot_topic(w, p), slot_partition(w, p));
}

static void owner_key(const worker_t *w, int32_t p, char *key, size_t len) {
    const char *g = np_config_str(w->proc.cfg, "group.id");
    snprintf(key, len, "netpulse:owner:{%s/%s/%d}", g, slot_topic(w, p), slot_partition(w, p));
}

/* What restore (and quarantine) did with a partition handed to this worker: np_claim's
 * outcomes, as np_claim_take passes them on. */
enum { RESTORE_OK = NP_CLAIM_OK, RESTORE_FENCED = NP_CLAIM_FENCED, RESTORE_FAILED = NP_CLAIM_FAILED };

static void drop_partition(worker_t *w, int32_t p) {
    np_slots_drop(w->sl, p);
    if (w->m_lag[p]) np_metrics_unpublish(w->proc.metrics, w->m_lag[p]);
}

/* Writes slot p's checkpoint under its epoch: what changed since the last one, or all of
 * it (np_ckpt_writer), head and parts in one fenced Lua call. Returns 0, 1 when fenced
 * (the partition was dropped), -1 on error (the next one is a full one). */
static int checkpoint(worker_t *w, int32_t p) {
    np_slot_t *s = np_slots_get(w->sl, p);
    if (!w->store || !s) return 0;
    char ek[256], key[256], err[256];
    double t0 = np_clock_mono_s();
    np_ckpt_writer_t *cw = &s->ckpt;
    s->ps->dlq_from = np_dlqseen_ckpt_from(&w->dseen[p], s->ps->next_offset);
    if (np_ckpt_writer_plan(cw, s->ps, slot_topic(w, p), s->epoch, &s->outbox, s->rekey ? s->rekey->hwm : NULL,
                            s->rekey ? s->rekey->wm : NULL, s->rekey ? (size_t)w->nin : 0, np_clock_wall_ms(NULL),
                            &w->ckpt_policy) < 0) {
        np_counter_inc(w->m_ckpt_err);
        return -1;
    }
    ckpt_keys(w, p, ek, key, sizeof(ek));
    int rc = np_ckpt_store_write(w->store, ek, key, s->epoch, cw, err, sizeof(err));
    if (rc == 0) {
        s->dirty = false;
        np_histogram_observe(w->m_ckpt_s, np_clock_mono_s() - t0);
        np_counter_inc(w->m_ckpt);
        np_counter_add(w->m_ckpt_bytes, cw->batch_bytes);
        if (cw->batch_full) np_counter_inc(w->m_ckpt_full);
        np_counter_add(w->m_pane_frames_full, cw->panes_full);
        np_counter_add(w->m_pane_frames_delta, cw->panes_delta);
    }
    np_ckpt_writer_done(cw, rc == 0);
    if (rc == 1) {
        /* Someone else owns the partition now: we are a zombie for it. */
        np_counter_inc(w->m_fenced);
        np_warn("checkpoint_fenced", "partition=%d epoch=%lld", p, (long long)s->epoch);
        drop_partition(w, p);
    } else if (rc < 0) {
        static np_log_rl_t rl = NP_LOG_RL_INIT;
        np_counter_inc(w->m_ckpt_err);
        np_log_rl(&rl, NP_LOG_ERROR, "checkpoint_failed", "partition=%d error=\"%s\"", p, err);
    }
    return rc;
}

/* Dead letters and re-keyed records must be in Kafka before a checkpoint or a commit moves
 * past their input offsets. Returns 0 when nothing is outstanding, -1 when something is
 * not delivered yet or was refused (produce_failed: the loop exits and a restart redoes
 * it from the last checkpoint, which must not be past it). */
static bool deliveries_pending(const worker_t *w) { return w->produced_since_flush > 0 || w->produce_failed; }

static int flush_produced(worker_t *w) {
    if (!deliveries_pending(w)) return 0;
    if (w->produce_failed) return -1;
    rd_kafka_flush(w->dlq, 5000);
    if (rd_kafka_outq_len(w->dlq) > 0 || w->produce_failed) return -1;
    w->produced_since_flush = 0;
    return 0;
}

static void checkpoint_all(worker_t *w, bool only_dirty) {
    if (flush_produced(w) < 0) return; /* retried next round */
    for (int32_t p = 0; p < w->sl->total; p++)
        if (w->sl->s[p].ps && (!only_dirty || w->sl->s[p].dirty)) checkpoint(w, p);
}

/* The panes before the partition's resume point are unknown to it: its window results
 * are lower bounds until it has closed a whole window, and its repartition partner must
 * not take those panes for empty (np_pair). */
static void forget_window_history(np_partstate_t *ps) {
    if (ps && ps->win) np_srcwin_set_known_from(ps->win, NP_SRCWIN_KNOWN_FROM_NEXT);
}

/* A damaged checkpoint is moved aside with its parts (np_ckpt_store_quarantine: kept for
 * operators under NAME:quarantine:EPOCH), logged and counted, and the partition starts
 * empty from the group's committed offsets, which never pass a record whose pane the
 * coordinator has not acknowledged (np_slots_commit_offset): every record after them is read
 * again, none is lost, and no worker loops on the damaged value. The move is fenced: when
 * another worker claimed the partition since, nothing is moved (it is theirs). Returns
 * RESTORE_OK with *out, RESTORE_FENCED, or RESTORE_FAILED when Redis cannot be used. */
static int quarantine(worker_t *w, int32_t p, const char *epoch_key, const char *key, const char *why,
                      np_partstate_t **out) {
    char qkey[400], err[256];
    size_t nparts = 0;
    int rc = np_ckpt_store_quarantine(w->store, epoch_key, key, w->sl->s[p].epoch, qkey, sizeof(qkey), &nparts, err,
                                      sizeof(err));
    if (rc < 0) {
        np_error("checkpoint_quarantine_failed", "partition=%d error=\"%s\"", p, err);
        return RESTORE_FAILED;
    }
    if (rc == 1) {
        np_counter_inc(w->m_fenced);
        np_warn("checkpoint_quarantine_fenced", "partition=%d epoch=%lld", p, (long long)w->sl->s[p].epoch);
        return RESTORE_FENCED;
    }
    np_counter_inc(w->m_quarantined);
    np_error("checkpoint_quarantined", "partition=%d reason=\"%s\" moved_to=%s parts=%zu resume=committed_offsets", p,
             why, qkey, nparts);
    np_outbox_init(&w->sl->s[p].outbox);
    np_partstate_t *ps = np_partstate_new(p, slot_cfg(w, p));
    forget_window_history(ps); /* its kept panes are lost */
    *out = ps;
    return RESTORE_OK;
}

/* A partition resumed from the group's committed offsets, not from a checkpoint offset
 * (no head, or one written before any record), does not know the panes before them: when
 * an earlier owner's acknowledged panes lie there, its window results and its repartition
 * partner's pairing must not take those panes for empty. Unknown counts as skipped (the
 * cost: the first windows marked lower bounds). */
static bool resume_skips_history(worker_t *w, int32_t p) {
    int r = np_kafka_resume_skips_history(w->rk, slot_topic(w, p), slot_partition(w, p), 5000);
    if (r < 0) np_warn("committed_offset_unknown", "partition=%d assume=history_lost", p);
    return r != 0;
}

/* Restores partition p's checkpoint under epoch (np_claim_take's restore). Sets *offset
 * to the resume offset, or leaves it when there is no checkpoint. Returns RESTORE_OK with
 * the state for np_slots_adopt in *out (NULL: out of memory), RESTORE_FENCED when another
 * worker took the partition meanwhile (a fenced quarantine), or RESTORE_FAILED when Redis
 * cannot be used (the caller must not consume the partition with empty state). */
static int restore(worker_t *w, int32_t p, int64_t epoch, int64_t *offset, np_partstate_t **out) {
    char ek[256], key[256], err[256];
    ckpt_keys(w, p, ek, key, sizeof(ek));
    uint8_t *buf = NULL;
    size_t len = 0;
    np_slot_t *s = &w->sl->s[p];
    *out = NULL;
    s->epoch = epoch;
    int rc = np_store_get(w->store, key, &buf, &len, err, sizeof(err));
    if (rc < 0) {
        np_error("checkpoint_restore_failed", "partition=%d error=\"%s\"", p, err);
        return RESTORE_FAILED;
    }
    if (np_slots_prepare(w->sl, p) < 0) {
        free(buf);
        return RESTORE_FAILED;
    }
    if (rc == 1) {
        int lost = np_ckpt_store_lost(w->store, key, err, sizeof(err));
        if (lost < 0) {
            np_error("checkpoint_restore_failed", "partition=%d error=\"%s\"", p, err);
            return RESTORE_FAILED;
        }
        np_partstate_t *ps = np_partstate_new(p, slot_cfg(w, p));
        /* Quarantined, and this owner died before its first checkpoint: the mark comes from
         * Redis. Otherwise it comes from Kafka (resume_skips_history). */
        if (!lost) lost = resume_skips_history(w, p);
        np_info("partition_fresh", "partition=%d epoch=%lld lost_history=%d", p, (long long)s->epoch, lost);
        if (lost) forget_window_history(ps);
        *out = ps;
        return RESTORE_OK;
    }
    int64_t old_epoch = 0;
    np_partstate_t *ps = NULL;
    np_ckpt_store_reader_t r = {.st = w->store, .key = key};
    int drc = np_ckpt_decode_parts(buf, len, np_ckpt_store_get_part, &r, slot_cfg(w, p), slot_topic(w, p), p, &ps, &s->outbox,
                                   &old_epoch, s->rekey ? s->rekey->hwm : NULL, s->rekey ? s->rekey->wm : NULL,
                                   s->rekey ? (size_t)w->nin : 0, &s->ckpt, err, sizeof(err));
    free(buf);
    if (drc == NP_CKPT_CORRUPT) return quarantine(w, p, ek, key, err, out);
    if (drc == NP_CKPT_IO) np_error("checkpoint_part_unreadable", "partition=%d error=\"%s\"", p, r.errstr);
    if (drc < 0) {
        np_error("checkpoint_unusable", "partition=%d error=\"%s\"", p, err);
        return RESTORE_FAILED;
    }
    if (ps->next_offset >= 0)
        *offset = ps->next_offset;
    else if (ps->win && resume_skips_history(w, p)) /* a head written before any record */
        forget_window_history(ps);
    np_counter_inc(w->m_restored);
    np_info("partition_restored", "partition=%d epoch=%lld previous_epoch=%lld offset=%lld open_panes=%zu outbox=%zu",
            p, (long long)s->epoch, (long long)old_epoch, (long long)ps->next_offset, np_partstate_open_panes(ps),
            s->outbox.n);
    *out = ps;
    return RESTORE_OK;
}

/* np_claim_take's view of restore: the assigned partition, and what a discarded attempt
 * must put back. */
typedef struct claim_ctx {
    worker_t *w;
    int32_t p;
    int64_t *offset, offset0; /* the assignment's offset, before any attempt set it */
    np_partstate_t *ps;
} claim_ctx_t;

static int claim_restore(void *ctx, int64_t epoch) {
    claim_ctx_t *c = ctx;
    return restore(c->w, c->p, epoch, c->offset, &c->ps);
}

static void claim_discard(void *ctx) {
    claim_ctx_t *c = ctx;
    np_partstate_destroy(&c->ps);
    np_slots_drop(c->w->sl, c->p); /* the outbox, re-keying and writer state the restore read */
    *c->offset = c->offset0;
}

/* Takes ownership of partition p: a new epoch (fencing out any previous owner), then its
 * state (restore), once more when another worker's claim overtook ours (np_claim).
 * Returns what restore does; RESTORE_FENCED also when the second claim was overtaken. */
static int take_partition(worker_t *w, int32_t p, int64_t *offset, np_partstate_t **out) {
    char ek[256], key[256], ok[256], err[256];
    ckpt_keys(w, p, ek, key, sizeof(ek));
    owner_key(w, p, ok, sizeof(ok));
    claim_ctx_t c = {.w = w, .p = p, .offset = offset, .offset0 = *offset};
    np_claim_keys_t k = {.epoch_key = ek, .owner_key = ok, .session = w->session, .slot = p};
    np_claim_ops_t ops = {.restore = claim_restore, .discard = claim_discard, .ctx = &c};
    int64_t epoch = 0;
    int overtaken = 0;
    int rc = np_claim_take(w->store, &k, &ops, &epoch, &overtaken, err, sizeof(err));
    np_counter_add(w->m_claims_overtaken, overtaken);
    if (rc == RESTORE_FAILED) np_error("claim_failed", "partition=%d error=\"%s\"", p, err);
    if (overtaken) /* a zombie's late claim: retried once (np_claim.c) */
        np_warn("claim_overtaken", "partition=%d epoch=%lld overtaken=%d kept=%d", p, (long long)epoch, overtaken,
                rc == RESTORE_OK);
    *out = c.ps;
    return rc;
}

/* How long a restore may read the dead-letter topic: a failure costs duplicates, not the
 * partition, and the rebalance callback must not hold the group for long. */
#define DLQ_SCAN_TIMEOUT_MS 5000

/* Which records from the resume offset on an earlier owner already dead-lettered
 * (np_dlqseen): its checkpoint says from where in the DLQ partition to read them. A read
 * that fails is counted and logged, and those records may be dead-lettered again (at
 * least once, as before). */
static void read_dead_letters(worker_t *w, int32_t p, const np_partstate_t *ps, int64_t offset) {
    np_dlqseen_t *d = &w->dseen[p];
    int32_t sp = slot_partition(w, p), dp = np_dlqseen_partition(sp, w->ndlq);
    np_dlqseen_reset(d, w->store && ps && dp >= 0 ? ps->dlq_from : -1);
    if (dp < 0 || !w->dlq_reader) return;
    char err[256] = "";
    double t0 = np_clock_mono_s();
    int n = np_kafka_dlq_scan(w->dlq_reader, w->dlq_topic, dp, d->from, slot_topic(w, p), sp, offset >= 0 ? offset : 0, d,
                              DLQ_SCAN_TIMEOUT_MS, err, sizeof(err));
    if (n < 0 || d->overflow) {
        np_counter_inc(w->m_dlq_scan_err);
        np_warn("dlq_scan_failed", "partition=%d dlq_partition=%d from=%lld found=%zu error=\"%s\"", p, dp,
                (long long)d->from, d->n, d->overflow ? "too many dead letters since the checkpoint" : err);
    } else if (d->from >= 0) {
        np_info("dlq_scanned", "partition=%d dlq_partition=%d from=%lld end=%lld read=%d already=%zu ms=%.0f", p, dp,
                (long long)d->from, (long long)d->next, n, d->n, (np_clock_mono_s() - t0) * 1000);
    }
}

/* Pauses consumption while too many partials wait for acknowledgement. */
static void backpressure(worker_t *w) {
    /* Pause at the limit; resume once half of it has drained (hysteresis). */
    bool want = w->sl->outbox_items >= (w->paused ? w->outbox_max / 2 : w->outbox_max);
    if (want == w->paused) return;
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(w->rk, &l) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (want) {
        rd_kafka_pause_partitions(w->rk, l);
        np_counter_inc(w->m_pauses);
        np_warn("consumption_paused", "outbox=%zu max=%zu", w->sl->outbox_items, w->outbox_max);
    } else {
        rd_kafka_resume_partitions(w->rk, l);
        np_info("consumption_resumed", "outbox=%zu", w->sl->outbox_items);
    }
    w->paused = want;
    rd_kafka_topic_partition_list_destroy(l);
}

/* ---- offsets ----------------------------------------------------------------------- */

/* How long a commit waits for the group coordinator. Offsets are only the fallback where
 * a partition has no checkpoint, so a commit that cannot be answered is given up rather
 * than holding a revocation or a SIGTERM for librdkafka's ~10 s per call. */
#define COMMIT_WAIT_MS 3000

/* Stores every owned partition's commit offset (np_slots_commit_offset: never past a
 * record in an open pane or in a partial not yet acknowledged); librdkafka's auto-commit
 * sends them, or, with sync_commit, one commit now, waited for at most COMMIT_WAIT_MS.
 * Nothing is stored while a dead letter or re-keyed record is not known delivered: its
 * offset may be below them (the caller flushes first: flush_produced). */
static void store_safe_offsets(worker_t *w, bool sync_commit) {
    if (deliveries_pending(w)) return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int32_t p = 0; p < w->sl->total; p++) {
        if (!w->sl->s[p].ps) continue;
        int64_t off = np_slots_commit_offset(w->sl, p);
        if (off >= 0) rd_kafka_topic_partition_list_add(l, slot_topic(w, p), slot_partition(w, p))->offset = off;
    }
    if (l->cnt > 0) {
        rd_kafka_resp_err_t err = rd_kafka_offsets_store(w->rk, l);
        if (err) np_warn("offsets_store_failed", "error=\"%s\"", rd_kafka_err2str(err));
        if (sync_commit) {
            err = np_kafka_commit_bounded(w->rk, l, COMMIT_WAIT_MS);
            if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
                np_warn("commit_failed", "error=\"%s\"", rd_kafka_err2str(err));
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* ---- consumer lag ------------------------------------------------------------------ */

/* Registers (or shows again) slot p's lag series. */
static void publish_lag(worker_t *w, int32_t p) {
    char l[320];
    snprintf(l, sizeof(l), "topic=\"%s\",partition=\"%d\"", slot_topic(w, p), slot_partition(w, p));
    w->m_lag[p] = np_metrics_gauge(w->proc.metrics, "netpulse_worker_consumer_lag_records",
                                   "Records behind the high watermark, per owned partition", l);
    w->sl->s[p].lag = -1;
}

/* Refreshes every owned slot's lag from librdkafka's cached watermarks (no request), or,
 * while consumption is paused and fetches stop refreshing them, from the broker. */
static void refresh_lag(worker_t *w) {
    int64_t total = 0;
    for (int32_t p = 0; p < w->sl->total; p++) {
        np_slot_t *s = np_slots_get(w->sl, p);
        if (!s) continue;
        int64_t lag = np_kafka_consumer_lag(w->rk, slot_topic(w, p), slot_partition(w, p), s->ps->next_offset,
                                            w->paused ? 200 : 0);
        if (lag >= 0) {
            s->lag = lag;
            np_gauge_set(w->m_lag[p], lag);
        }
        if (s->lag > 0) total += s->lag;
    }
    w->lag_total = total;
}

/* ---- rebalancing ------------------------------------------------------------------- */

static void update_gauges(worker_t *w) {
    int64_t assigned = 0, assigned_rep = 0, assigned_conn = 0, open = 0, bytes = 0;
    for (int32_t p = 0; p < w->sl->total; p++) {
        const np_partstate_t *ps = w->sl->s[p].ps;
        if (!ps) continue;
        if (p < w->nin)
            assigned++;
        else if (is_rep(w, p))
            assigned_rep++;
        else
            assigned_conn++;
        open += (int64_t)np_partstate_open_panes(ps);
        bytes += (int64_t)np_partstate_memory_bytes(ps);
    }
    np_gauge_set(w->m_assigned, assigned);
    np_gauge_set(w->m_assigned_rep, assigned_rep);
    np_gauge_set(w->m_assigned_conn, assigned_conn);
    np_gauge_set(w->m_open_panes, open);
    np_gauge_set(w->m_state_bytes, bytes);
}

/* Hands parts to the consumer (add) or takes them back (np_kafka_rebalance_apply; also
 * during rd_kafka_consumer_close, when librdkafka no longer names the protocol). */
static void apply_assignment(worker_t *w, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts, bool add) {
    char err[256];
    if (np_kafka_rebalance_apply(rk, parts, add, &w->cooperative, err, sizeof(err)) < 0)
        np_error("assignment_failed", "add=%d error=\"%s\"", add, err);
}

/* Either protocol: a revoked partition is checkpointed, an assigned one restored. */
static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque) {
    worker_t *w = opaque;
    np_counter_inc(w->m_rebalances);
    int64_t now = np_clock_mono_ms();
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            int32_t p = np_slots_of(w->sl, parts->elems[i].topic, parts->elems[i].partition);
            if (p < 0 || w->sl->s[p].ps) continue;
            np_partstate_t *ps = NULL;
            if (w->store) {
                int rrc = take_partition(w, p, &parts->elems[i].offset, &ps);
                if (rrc == RESTORE_FAILED) {
                    /* Consuming without the partition's state would double-count or
                     * lose records; exit and let the supervisor retry. */
                    np_error("fatal", "reason=cannot_restore partition=%d", p);
                    exit(1);
                }
                if (rrc == RESTORE_FENCED) { /* overtaken twice (np_claim): the other claimant keeps it */
                    drop_partition(w, p);
                    continue;
                }
            } else if (np_slots_prepare(w->sl, p) == 0) {
                ps = np_partstate_new(p, slot_cfg(w, p));
            }
            if (!ps) {
                np_error("out_of_memory", "what=partition_state partition=%d", p);
                abort(); /* cannot own a partition we cannot hold */
            }
            read_dead_letters(w, p, ps, parts->elems[i].offset);
            np_slots_adopt(w->sl, p, ps, now);
            publish_lag(w, p);
            np_info("partition_assigned", "topic=%s partition=%d slot=%d", parts->elems[i].topic,
                    parts->elems[i].partition, p);
        }
        w->paused = false; /* new partitions start consuming; back-pressure re-pauses all */
        apply_assignment(w, rk, parts, true);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        /* Commit what is safe before giving the partitions up, so the next owner starts
         * where every pane of ours not acknowledged yet began and re-reads them in full.
         * With dead letters or re-keyed records not delivered, neither offsets nor
         * checkpoints move past them: the next owner redoes them from the last checkpoint.
         * On SIGTERM the stop path has just flushed (5 s at most, with Kafka gone) and
         * committed the same offsets (nothing is consumed since), and
         * rd_kafka_consumer_close commits what is stored: no second wait for either here. */
        bool flushed = np_proc_stopping() ? !deliveries_pending(w) : flush_produced(w) == 0;
        if (!flushed) np_warn("revoke_unflushed", "partitions=%d", parts->cnt);
        store_safe_offsets(w, !np_proc_stopping());
        for (int i = 0; i < parts->cnt; i++) {
            int32_t p = np_slots_of(w->sl, parts->elems[i].topic, parts->elems[i].partition);
            if (p < 0) continue;
            if (flushed) checkpoint(w, p);
            drop_partition(w, p);
            np_info("partition_revoked", "topic=%s partition=%d slot=%d", parts->elems[i].topic,
                    parts->elems[i].partition, p);
        }
        apply_assignment(w, rk, parts, false);
    } else {
        np_error("rebalance_error", "error=\"%s\"", rd_kafka_err2str(err));
        rd_kafka_assign(rk, NULL);
    }
    update_gauges(w);
}

/* ---- records ----------------------------------------------------------------------- */

/* Under a flood of bad records the dead-letter topic gets at most dlq.max.per.second of
 * them (np_rate); the others are counted by reason and skipped, so the DLQ stays bounded
 * and the exact counts stay in the metrics (records_invalid_total + records_late_total =
 * dlq_records_total + dlq_sampled_out_total + dlq_errors_total + dlq_already_total: records read
 * again after a restart that an earlier owner's dead letter holds, np_dlqseen). An oversized value is
 * dead-lettered cut to max.record.bytes (header netpulse.value.bytes: its real size): a
 * 10 MB record must not become a 10 MB dead letter, which the producer would refuse
 * (message.max.bytes) and the worker would then exit on, again after every restart. */
static void dead_letter(worker_t *w, const rd_kafka_message_t *m, int why, const char *detail, int64_t pane) {
    const char *topic = rd_kafka_topic_name(m->rkt);
    int32_t p = np_slots_of(w->sl, topic, m->partition);
    if (p >= 0 && np_dlqseen_has(&w->dseen[p], m->offset)) { /* an earlier owner's, before a kill -9 */
        np_counter_inc(w->m_dlq_already);
        return;
    }
    if (!np_rate_take(&w->dlq_rate, w->batch_mono)) {
        np_counter_inc(w->m_dlq_out[why]);
        return;
    }
    np_dlq_info_t info = {dlq_reason_name(why), detail, topic, m->partition, m->offset, pane, 0,
                          np_dlqseen_partition(m->partition, w->ndlq), (void *)(intptr_t)(p + 1)};
    size_t len = m->len;
    if (len > w->lim.max_bytes) {
        info.value_bytes = (int64_t)m->len;
        len = w->lim.max_bytes;
    }
    rd_kafka_resp_err_t err;
    while ((err = np_dlq_produce(w->dlq, w->dlq_topic, m->key, m->key_len, m->payload, len, &info)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(w->dlq, 50); /* back-pressure: never drop a dead letter */
    if (err) {
        np_counter_inc(w->m_dlq_err);
        np_log_rl(&w->rl_bad, NP_LOG_ERROR, "dlq_produce_failed", "error=\"%s\"", rd_kafka_err2str(err));
        w->produce_failed = 1;
    } else {
        np_counter_inc(w->m_dlq);
        w->produced_since_flush++;
    }
}

/* Re-keys a record by its source through the repartition topic. The headers say where
 * it came from, so that the repartition partition can drop a copy re-sent after a crash. */
static void forward(worker_t *w, const rd_kafka_message_t *m, const np_record_t *r, const char *key, size_t keylen) {
    char part[16], off[24];
    snprintf(part, sizeof(part), "%d", m->partition);
    snprintf(off, sizeof(off), "%" PRId64, m->offset);
    rd_kafka_headers_t *h = rd_kafka_headers_new(2);
    rd_kafka_header_add(h, "netpulse.source.partition", -1, part, -1);
    rd_kafka_header_add(h, "netpulse.source.offset", -1, off, -1);
    rd_kafka_resp_err_t err;
    /* The event time travels as the message timestamp: CSV records have no other. */
    while ((err = rd_kafka_producev(w->dlq, RD_KAFKA_V_TOPIC(w->rtopic), RD_KAFKA_V_KEY(key, keylen),
                                    RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_TIMESTAMP(r->ts_ms), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(w->dlq, 50);
    if (err) {
        rd_kafka_headers_destroy(h);
        np_error("forward_failed", "partition=%d offset=%" PRId64 " error=\"%s\"", m->partition, m->offset,
                 rd_kafka_err2str(err));
        w->produce_failed = 1;
        return;
    }
    w->produced_since_flush++;
    np_counter_inc(w->m_forwarded);
}

/* The input offset a re-keyed record came from (headers), or -1. */
static int64_t header_int(const rd_kafka_message_t *m, const char *name) {
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t len;
    char buf[24];
    if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, name, &v, &len) || len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return strtoll(buf, NULL, 10);
}

/* A connection record: classified and counted in its pane (np_kdd_stream); one that does
 * not decode, or whose pane is closed, is dead-lettered like a flow record. */
static void handle_connection(worker_t *w, const rd_kafka_message_t *m, np_partstate_t *ps) {
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype), pane = INT64_MIN;
    if (tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) ts = w->batch_wall;
    char detail[160];
    int r = np_kdd_stream_add(KDD, ps, m->payload, m->len, m->key, m->key_len, ts, m->offset, emit_partial, w, &pane,
                              detail, sizeof(detail));
    if (r < 0) dead_letter(w, m, DLQ_CONNECTION_INVALID, detail, INT64_MIN);
    if (r == NP_PANE_LATE) {
        snprintf(detail, sizeof(detail), "event time %" PRId64 " is in pane %" PRId64 " closed at watermark %" PRId64, ts,
                 pane, np_partstate_watermark(ps));
        dead_letter(w, m, DLQ_LATE, detail, pane);
    }
}

static void handle_record(worker_t *w, const rd_kafka_message_t *m) {
    int32_t p = np_slots_of(w->sl, rd_kafka_topic_name(m->rkt), m->partition);
    np_slot_t *s = np_slots_get(w->sl, p);
    if (!s) return; /* not ours (any more) */
    np_partstate_t *ps = s->ps;
    int64_t now = w->batch_mono;
    if (is_rep(w, p)) {
        int64_t src = header_int(m, "netpulse.marker.source");
        if (src >= 0 && src < w->nin && s->rekey) {
            np_rekey_marker(s->rekey, (int32_t)src, header_int(m, "netpulse.marker.watermark"));
            int64_t rw = rep_watermark(w, p, s);
            if (rw != NP_TS_NONE) {
                np_partstate_follow(ps, rw);
                np_partstate_advance(ps, emit_partial, w);
            }
            ps->next_offset = m->offset + 1;
            np_idle_consumed(&s->idle, m->offset); /* a marker moves the position, is no record */
            return;
        }
    }
    np_idle_record(&s->idle, m->offset, now);
    if (p >= w->kbase) {
        handle_connection(w, m, ps);
        return;
    }
    np_counter_inc(p < w->nin ? w->m_consumed : w->m_consumed_rep); /* by topic; markers are not records */
    np_counter_add(w->m_bytes_in, m->len);

    rd_kafka_timestamp_type_t tstype;
    int64_t kts = rd_kafka_message_timestamp(m, &tstype);
    np_record_t r;
    char detail[160];
    np_record_reason_t why = np_record_decode(m->payload, m->len, tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : kts,
                                              w->batch_wall, &w->lim, &r, detail, sizeof(detail));
    if (why == NP_REC_OK && p < w->nin && np_partstate_too_far_ahead(ps, r.ts_ms, w->global_wm, w->max_jump_ms)) {
        why = NP_REC_WATERMARK_JUMP;
        snprintf(detail, sizeof(detail), "event time %" PRId64 " is more than %" PRId64 " ms ahead of watermark %" PRId64,
                 r.ts_ms, w->max_jump_ms, np_partstate_watermark(ps));
    }
    if (why != NP_REC_OK) {
        ps->next_offset = m->offset + 1; /* consumed, and accounted for in the DLQ */
        np_counter_inc(w->m_bad[why]);
        np_log_rl(&w->rl_bad, NP_LOG_WARN, "record_rejected", "reason=%s partition=%d offset=%" PRId64 " detail=\"%s\"",
                  np_record_reason_name(why), p, m->offset, detail);
        dead_letter(w, m, why, detail, INT64_MIN);
        return;
    }
    if (w->rtopic && p < w->nin) {
        char key[64];
        size_t keylen = np_ip_format(&r.src, key, sizeof(key));
        /* With bounded partials a keyed record must also be in its source's partition (as
         * murmur2, the repartition topic's partitioner, puts it), or its source could reach
         * two input partitions, or an input and a repartition partition on two workers. */
        /* A record already late here is dead-lettered here (below), with its own
         * coordinates: forwarded, it would be judged by the repartition slot's markers
         * instead, and its dead letter would name the repartition topic's offset. */
        if ((m->key_len != keylen || memcmp(m->key, key, keylen) != 0 ||
             (w->pair && rd_kafka_msg_partitioner_murmur2(m->rkt, key, keylen, w->nin, NULL, NULL) != m->partition)) &&
            !np_partstate_is_late(ps, r.ts_ms)) {
            forward(w, m, &r, key, keylen);
            np_partstate_observe(ps, r.ts_ms, m->offset, emit_partial, w);
            return;
        }
    } else if (p >= w->nin) {
        int64_t sp = header_int(m, "netpulse.source.partition"), so = header_int(m, "netpulse.source.offset");
        if (sp >= 0 && sp < w->nin && s->rekey && np_rekey_seen(s->rekey, (int32_t)sp, so)) {
            /* re-forwarded after a crash: taken already */
            ps->next_offset = m->offset + 1;
            np_counter_inc(w->m_fwd_dups);
            return;
        }
    }
    int64_t pane;
    if (np_partstate_add(ps, &r, m->offset, emit_partial, w, &pane) == NP_PANE_LATE) {
        np_counter_inc(w->m_late);
        snprintf(detail, sizeof(detail), "event time %" PRId64 " is in pane %" PRId64 " closed at watermark %" PRId64,
                 r.ts_ms, pane, np_partstate_watermark(ps));
        np_log_rl(&w->rl_late, NP_LOG_INFO, "record_late", "partition=%d offset=%" PRId64 " %s", p, m->offset, detail);
        dead_letter(w, m, DLQ_LATE, detail, pane);
    }
}

/* ---- set-up ------------------------------------------------------------------------ */

static int health(void *ctx, char *buf, size_t len) {
    worker_t *w = ctx;
    if (!w->healthy_kafka) {
        snprintf(buf, len, "kafka: not connected");
        return 1;
    }
    return 0;
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    worker_t *w = opaque;
    (void)rk;
    np_counter_inc(w->m_kafka_err);
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) w->healthy_kafka = 0;
    np_warn("kafka_error", "error=%s reason=\"%s\"", rd_kafka_err2name(err), reason);
}

static void register_metrics(worker_t *w) {
    np_metrics_t *m = w->proc.metrics;
    char tl[320];
    snprintf(tl, sizeof(tl), "topic=\"%s\"", w->topic);
    w->m_consumed = np_metrics_counter(m, "netpulse_worker_records_consumed_total",
                                       "Records consumed, by topic (a re-keyed record counts in both; markers in neither)", tl);
    if (w->rtopic) {
        snprintf(tl, sizeof(tl), "topic=\"%s\"", w->rtopic);
        w->m_consumed_rep = np_metrics_counter(m, "netpulse_worker_records_consumed_total",
                                               "Records consumed, by topic (a re-keyed record counts in both; markers in neither)", tl);
    }
    w->m_ckpt_s = np_metrics_histogram(m, "netpulse_worker_checkpoint_duration_seconds",
                                       "Time to encode and write one partition checkpoint", NULL, np_metrics_buckets_fast,
                                       np_metrics_buckets_fast_n);
    w->m_bytes_in = np_metrics_counter(m, "netpulse_worker_consumed_bytes_total", "Bytes of record values consumed", NULL);
    w->m_late = np_metrics_counter(m, "netpulse_worker_records_late_total", "Records whose pane was already closed", NULL);
    for (int i = 1; i < NP_REC__COUNT; i++) {
        char l[64];
        snprintf(l, sizeof(l), "reason=\"%s\"", np_record_reason_name((np_record_reason_t)i));
        w->m_bad[i] = np_metrics_counter(m, "netpulse_worker_records_invalid_total", "Records rejected by the decoder, by reason", l);
    }
    w->m_partials = np_metrics_counter(m, "netpulse_worker_partials_sent_total", "Partials sent to the coordinator", NULL);
    w->m_partial_bytes = np_metrics_counter(m, "netpulse_worker_partial_bytes_total", "Encoded partial bytes sent", NULL);
    w->m_dlq = np_metrics_counter(m, "netpulse_worker_dlq_records_total", "Records sent to the dead-letter topic", NULL);
    w->m_dlq_err = np_metrics_counter(m, "netpulse_worker_dlq_errors_total", "Dead-letter produce failures", NULL);
    w->m_dlq_already = np_metrics_counter(m, "netpulse_worker_dlq_already_total",
                                          "Bad or late records read again after a restart and not dead-lettered again: an earlier owner's dead letter holds them", NULL);
    w->m_dlq_scan_err = np_metrics_counter(m, "netpulse_worker_dlq_scan_errors_total",
                                           "Restores that could not read the partition's earlier dead letters (those records may be dead-lettered twice)", NULL);
    w->m_cand_dropped = np_metrics_counter(m, "netpulse_worker_partial_candidates_dropped_total",
                                           "Bounded partials: per-source detector candidates over partial.max.candidates, not sent", NULL);
    for (int i = 0; i < DLQ_REASONS; i++) {
        char l[64];
        snprintf(l, sizeof(l), "reason=\"%s\"", dlq_reason_name(i));
        w->m_dlq_out[i] = np_metrics_counter(m, "netpulse_worker_dlq_sampled_out_total",
                                             "Bad or late records not dead-lettered because of dlq.max.per.second, by reason", l);
    }
    w->m_evicted = np_metrics_counter(m, "netpulse_worker_source_evictions_total", "Sources folded into 'other' because a pane's source table was full", NULL);
    w->m_rebalances = np_metrics_counter(m, "netpulse_worker_rebalances_total", "Rebalance callbacks", NULL);
    w->m_kafka_err = np_metrics_counter(m, "netpulse_worker_kafka_errors_total", "librdkafka error events", NULL);
    w->m_markers = np_metrics_counter(m, "netpulse_worker_watermark_markers_total", "Watermark markers sent to the repartition topic", NULL);
    w->m_forwarded = np_metrics_counter(m, "netpulse_worker_records_rekeyed_total", "Records not keyed by source, forwarded through the repartition topic", NULL);
    w->m_window_unknown = np_metrics_counter(m, "netpulse_worker_partial_windows_unknown_total",
                                             "Bounded partials sent without their sliding window's results because "
                                             "panes of that window were lost (restart after a quarantined checkpoint)",
                                             NULL);
    w->m_fwd_dups = np_metrics_counter(m, "netpulse_worker_rekeyed_duplicates_total", "Re-keyed records dropped as copies re-sent after a crash", NULL);
    w->m_unpaired = np_metrics_counter(m, "netpulse_worker_partials_unpaired_total",
                                       "Bounded repartition partials not merged with their input partition's pane "
                                       "(partner on another worker, or too far ahead): shared sources counted twice", NULL);
    w->m_pair_shared = np_metrics_counter(m, "netpulse_worker_pair_shared_sources_total",
                                          "Sources of a repartition partition's pane also in its input partner's "
                                          "(keyed and re-keyed), merged and counted once (bounded partials)", NULL);
    w->m_ckpt = np_metrics_counter(m, "netpulse_worker_checkpoints_total", "Partition checkpoints written to Redis", NULL);
    w->m_ckpt_err = np_metrics_counter(m, "netpulse_worker_checkpoint_errors_total", "Checkpoints that failed (retried)", NULL);
    w->m_quarantined = np_metrics_counter(m, "netpulse_worker_checkpoints_quarantined_total",
                                          "Damaged checkpoints moved aside (the partition restarted from committed offsets)", NULL);
    w->m_ckpt_bytes = np_metrics_counter(m, "netpulse_worker_checkpoint_bytes_total", "Bytes of checkpoints written", NULL);
    w->m_ckpt_full = np_metrics_counter(m, "netpulse_worker_checkpoints_full_total",
                                        "Checkpoints that rewrote every part (periodic, or after a restore or a failed write)", NULL);
    w->m_pane_frames_full = np_metrics_counter(m, "netpulse_worker_checkpoint_pane_frames_total",
                                               "Pane frames written to checkpoints, by kind (full: every entry; delta: entries changed)",
                                               "kind=\"full\"");
    w->m_pane_frames_delta = np_metrics_counter(m, "netpulse_worker_checkpoint_pane_frames_total",
                                                "Pane frames written to checkpoints, by kind (full: every entry; delta: entries changed)",
                                                "kind=\"delta\"");
    w->m_fenced = np_metrics_counter(m, "netpulse_worker_checkpoints_fenced_total", "Checkpoints refused because another worker owns the partition", NULL);
    w->m_claims_overtaken = np_metrics_counter(m, "netpulse_worker_claims_overtaken_total",
                                               "Claims at assignment that another worker's claim overtook before the restore ended (retried once)", NULL);
    w->m_restored = np_metrics_counter(m, "netpulse_worker_partitions_restored_total", "Partitions resumed from a checkpoint", NULL);
    w->m_resent = np_metrics_counter(m, "netpulse_worker_partials_resent_total", "Partials re-sent for lack of acknowledgement", NULL);
    w->m_acked = np_metrics_counter(m, "netpulse_worker_partials_acked_total", "Partials acknowledged by the coordinator", NULL);
    w->m_pauses = np_metrics_counter(m, "netpulse_worker_backpressure_pauses_total", "Times consumption paused for a full outbox", NULL);
    w->m_hll_blocks = np_metrics_gauge(m, "netpulse_worker_sketch_blocks", "Distinct-count sketch blocks in use", NULL);
    w->m_hll_exhausted = np_metrics_counter(m, "netpulse_worker_sketch_pool_exhausted_total", "Sketch promotions refused: pool full (counts become lower bounds)", NULL);
    w->m_logend_rounds = np_metrics_counter(m, "netpulse_worker_log_end_queries_total",
                                            "Rounds of log-end queries for idleness (one request per broker)", NULL);
    w->m_logend_failed = np_metrics_counter(m, "netpulse_worker_log_end_queries_failed_total",
                                            "Rounds of log-end queries that failed (no partition can turn idle on them)", NULL);
    w->m_outbox = np_metrics_gauge(m, "netpulse_worker_outbox_partials", "Partials awaiting acknowledgement", NULL);
    w->m_assigned_rep = np_metrics_gauge(m, "netpulse_worker_assigned_repartition_partitions", "Partitions of the repartition topic owned now", NULL);
    w->m_assigned_conn = np_metrics_gauge(m, "netpulse_worker_assigned_connection_partitions", "Partitions of the connection topic (kdd.topic) owned now", NULL);
    w->m_assigned = np_metrics_gauge(m, "netpulse_worker_assigned_partitions", "Partitions owned now", NULL);
    w->m_open_panes = np_metrics_gauge(m, "netpulse_worker_open_panes", "Open panes over owned partitions", NULL);
    w->m_state_bytes = np_metrics_gauge(m, "netpulse_worker_state_bytes", "Memory held by pane state", NULL);
    w->m_gwm = np_metrics_gauge_milli(m, "netpulse_worker_global_watermark_seconds", "Global watermark last received (event time, seconds since the epoch)", NULL);
    w->m_idle_parts = np_metrics_gauge(m, "netpulse_worker_idle_partitions", "Owned partitions that are idle", NULL);
}

/* The consumer that reads dead letters back on restore: no group (assign only), the
 * connection settings of the others. */
static int setup_dlq_reader(worker_t *w, char *err, size_t errlen) {
    /* librdkafka (2.0) refuses assign() without a group.id ("Unknown group"); this one is
     * never joined (no subscribe) and nothing is committed under it. */
    char id[160], group[320];
    snprintf(id, sizeof(id), "%s-dlq-reader", w->id);
    snprintf(group, sizeof(group), "%s-dlq-reader", np_config_str(w->proc.cfg, "group.id"));
    const char *const defaults[] = {"group.id", group, "enable.partition.eof", "true", "enable.auto.commit", "false",
                                    "enable.auto.offset.store", "false",
                                    /* A fetch at the partition's end long-polls this long, and the
                                     * next restore's assign() waits for it: 500 ms per partition
                                     * with librdkafka's default. */
                                    "fetch.wait.max.ms", "10", NULL};
    rd_kafka_conf_t *conf = np_kafka_conf_new_with(w->proc.cfg, id, defaults, err, errlen);
    if (!conf) return -1;
    /* No error_cb: the reader's errors say nothing about the worker's health (a failed
     * read is counted where it happens). */
    if (!(w->dlq_reader = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen))) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    return 0;
}

/* Partition count of a topic, or -1 with err naming it. */
static int32_t topic_partitions(worker_t *w, const char *topic, char *err, size_t errlen) {
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *t = rd_kafka_topic_new(w->rk, topic, NULL);
    rd_kafka_resp_err_t e = rd_kafka_metadata(w->rk, 0, t, &md, 15000);
    rd_kafka_topic_destroy(t);
    if (e || md->topic_cnt < 1 || md->topics[0].err || md->topics[0].partition_cnt < 1) {
        snprintf(err, errlen, "topic %s: %s", topic,
                 e ? rd_kafka_err2str(e) : md->topics[0].err ? rd_kafka_err2str(md->topics[0].err) : "no partitions");
        if (!e) rd_kafka_metadata_destroy(md);
        return -1;
    }
    int32_t n = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    return n;
}

/* Delivery of dead letters and re-keyed records. One that Kafka finally refused must not
 * be skipped by a checkpoint: the loop exits, and a restart redoes it from the last one. */
static void produce_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    worker_t *w = opaque;
    (void)rk;
    if (m->err) {
        np_error("produce_undelivered", "topic=%s error=\"%s\"", rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
        w->produce_failed = 1;
    } else if (m->_private) { /* a dead letter of slot _private - 1: where the next owner looks */
        np_dlqseen_delivered(&w->dseen[(intptr_t)m->_private - 1], m->offset);
    }
}

static int setup_kafka(worker_t *w) {
    char err[512];
    np_config_t *c = w->proc.cfg;
    static const char *const defaults[] = {
        "group.id", NULL, /* filled below */
        /* range balances each topic on its own: every worker gets its share of the input
         * partitions (cooperative-sticky balances the total over both topics and could give
         * one worker every input partition and another only repartition partitions). */
        "partition.assignment.strategy", "range",
        "enable.auto.offset.store", "false",
        "auto.offset.reset", "earliest",
        "enable.partition.eof", "true",
        /* A dead worker's partitions move on within seconds, not librdkafka's 45 s. */
        "session.timeout.ms", "10000",
        "heartbeat.interval.ms", "1000",
        /* librdkafka (2.0) stops fetching once the consumer queue holds queued.min.messages
         * (default 100,000) and waits before it looks again; a consumer that does real work
         * per record then idles with the queue empty: 140k -> 400k records/s in
         * bench/run.sh. The byte cap (queued.max.messages.kbytes) still bounds memory. */
        "queued.min.messages", "300000",
        NULL};
    const char *d[sizeof(defaults) / sizeof(defaults[0])];
    memcpy(d, defaults, sizeof(defaults));
    d[1] = np_config_str(c, "group.id");
    rd_kafka_conf_t *conf = np_kafka_conf_new_with(c, w->id, d, err, sizeof(err));
    if (!conf) goto fail;
    rd_kafka_conf_set_opaque(conf, w);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_t *pconf = rd_kafka_conf_dup(conf);
    w->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!w->rk) {
        rd_kafka_conf_destroy(pconf);
        goto fail_conf;
    }
    /* The dead-letter producer shares the connection settings (security etc.), not the
     * consumer-only ones, which librdkafka ignores for a producer with a warning. */
    rd_kafka_conf_set_rebalance_cb(pconf, NULL);
    rd_kafka_conf_set_dr_msg_cb(pconf, produce_dr_cb);
    np_kafka_conf_set(pconf, "enable.idempotence", "true", err, sizeof(err));
    /* Re-keyed records must land where any Java producer keyed by source would put them. */
    np_kafka_conf_set(pconf, "partitioner", "murmur2_random", err, sizeof(err));
    w->dlq = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof(err));
    if (!w->dlq) goto fail;
    if (setup_dlq_reader(w, err, sizeof(err)) < 0) goto fail;
    rd_kafka_poll_set_consumer(w->rk);

    rd_kafka_resp_err_t e;
    if ((w->nin = topic_partitions(w, w->topic, err, sizeof(err))) < 0) goto fail;
    /* Dead letters go to the DLQ partition of their source partition (np_dlqseen), so a
     * restore knows where to read them; without the count, where librdkafka puts them. */
    if ((w->ndlq = topic_partitions(w, w->dlq_topic, err, sizeof(err))) < 0)
        np_warn("dlq_topic_unknown", "error=\"%s\" effect=dead_letters_at_least_once", err);
    if (w->rtopic) {
        int32_t nr = topic_partitions(w, w->rtopic, err, sizeof(err));
        if (nr < 0) goto fail;
        if (nr != w->nin) {
            snprintf(err, sizeof(err), "repartition.topic: %s has %d partitions, %s has %d; they must be equal",
                     w->rtopic, nr, w->topic, w->nin);
            goto fail;
        }
    }
    if (w->nin * (w->rtopic ? 2 : 1) > MAX_PARTITIONS) {
        snprintf(err, sizeof(err), "topic %s: %d partitions, at most %d supported", w->topic, w->nin,
                 MAX_PARTITIONS / (w->rtopic ? 2 : 1));
        goto fail;
    }
    w->kbase = w->nin * (w->rtopic ? 2 : 1);
    if (w->ktopic) {
        if ((w->nconn = topic_partitions(w, w->ktopic, err, sizeof(err))) < 0) goto fail;
        if (w->kbase + w->nconn > MAX_PARTITIONS) {
            snprintf(err, sizeof(err), "kdd.topic %s: %d partitions, at most %d supported here", w->ktopic, w->nconn,
                     MAX_PARTITIONS - w->kbase);
            goto fail;
        }
    }
    if (!(w->sl = np_slots_new(w->topic, w->rtopic, w->nin, w->ktopic, w->nconn)) ||
        !(w->dseen = calloc((size_t)w->sl->total, sizeof(*w->dseen)))) {
        snprintf(err, sizeof(err), "out of memory for %d partitions", w->nin);
        goto fail;
    }
    for (int32_t p = 0; p < w->sl->total; p++) np_dlqseen_reset(&w->dseen[p], -1);
    w->logend_parts = rd_kafka_topic_partition_list_new(w->sl->total);
    for (int32_t p = 0; p < w->sl->total; p++)
        rd_kafka_topic_partition_list_add(w->logend_parts, slot_topic(w, p), slot_partition(w, p));
    if (!(w->logend = np_logend_new((size_t)w->sl->total, ask_log_ends, w, idle_every_ms(w),
                                    (int)idle_query_timeout_ms(w)))) {
        snprintf(err, sizeof(err), "cannot start the log-end thread");
        goto fail;
    }
    w->healthy_kafka = 1;

    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(3);
    rd_kafka_topic_partition_list_add(sub, w->topic, RD_KAFKA_PARTITION_UA);
    if (w->rtopic) rd_kafka_topic_partition_list_add(sub, w->rtopic, RD_KAFKA_PARTITION_UA);
    if (w->ktopic) rd_kafka_topic_partition_list_add(sub, w->ktopic, RD_KAFKA_PARTITION_UA);
    e = rd_kafka_subscribe(w->rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (e) {
        snprintf(err, sizeof(err), "subscribe %s: %s", w->topic, rd_kafka_err2str(e));
        goto fail;
    }
    np_info("kafka_ready", "topic=%s partitions=%d group=%s", w->topic, w->sl->total,
            np_config_str(c, "group.id"));
    return 0;
fail_conf:
    rd_kafka_conf_destroy(conf);
fail:
    np_error("kafka_setup_failed", "error=\"%s\"", err);
    return -1;
}

static int setup_zmq(worker_t *w) {
    w->zctx = zmq_ctx_new();
    w->zsock = zmq_socket(w->zctx, ZMQ_DEALER);
    int linger = 2000, hwm = 100000;
    zmq_setsockopt(w->zsock, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(w->zsock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(w->zsock, ZMQ_ROUTING_ID, w->id, strlen(w->id));
    const char *ep = np_config_str(w->proc.cfg, "coordinator");
    char zerr[256];
    if (np_zsock_setup(&w->zc, w->zsock, false, ep, zerr, sizeof(zerr)) < 0) {
        np_proc_fatal_config(zerr);
        return -1;
    }
    if (zmq_connect(w->zsock, ep) != 0) {
        char why[256];
        snprintf(why, sizeof(why), "coordinator: cannot connect to '%s': %s", ep, zmq_strerror(errno));
        np_proc_fatal_config(why);
        return -1;
    }
    return 0;
}

static void heartbeat(worker_t *w) {
    if (!w->store) return;
    char key[192], val[1024], err[256];
    int64_t now = np_clock_mono_ms();
    uint64_t consumed = np_counter_get(w->m_consumed);
    double rate = w->hb_mono && now > w->hb_mono ? (double)(consumed - w->hb_consumed) * 1000.0 / (double)(now - w->hb_mono) : 0;
    w->hb_consumed = consumed;
    w->hb_mono = now;
    int n = snprintf(val, sizeof(val), "{\"id\":\"%s\",\"pid\":%d,\"lag\":%" PRId64 ",\"records_per_s\":%.0f,\"partitions\":[",
                     w->id, (int)getpid(), w->lag_total, rate);
    int first = 1;
    for (int32_t p = 0; p < w->sl->total && n < (int)sizeof(val) - 16; p++)
        if (w->sl->s[p].ps) {
            n += snprintf(val + n, sizeof(val) - (size_t)n, first ? "%d" : ",%d", p);
            first = 0;
        }
    snprintf(val + n, sizeof(val) - (size_t)n, "]}");
    snprintf(key, sizeof(key), "netpulse:workers:%s", w->id);
    static np_log_rl_t rl = NP_LOG_RL_INIT;
    if (np_store_set_ttl(w->store, key, val, 10000, err, sizeof(err)) < 0)
        np_log_rl(&rl, NP_LOG_WARN, "redis_heartbeat_failed", "error=\"%s\"", err);
}

/* A random token for this process's ownership claims: another peer cannot guess it. */
static int new_session(worker_t *w) {
    uint8_t r[16];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) return -1;
    for (size_t i = 0; i < sizeof(r); i++) snprintf(w->session + 2 * i, 3, "%02x", r[i]);
    return 0;
}

/* Bounded partials: partial.top.sources and the detectors' per-source keys. */
static int load_cand(worker_t *w, const np_config_t *c) {
    size_t top = (size_t)np_config_int(c, "partial.top.sources");
    if (top == 0) return 0;
    if (top < NP_RESULT_TOP_SOURCES) {
        np_proc_fatal_config("partial.top.sources must be 0 or at least 10 (the published top_sources)");
        return -1;
    }
    np_detect_config_t dc;
    char err[320];
    if (np_detect_config_load(&dc, c, w->pcfg.pane_ms, err, sizeof(err)) < 0) {
        np_proc_fatal_config(err);
        return -1;
    }
    np_cand_config_from_detect(&w->cand, &dc, top, (size_t)np_config_int(c, "partial.max.candidates"));
    w->cand_sel = calloc(w->cand.top + w->cand.max_candidates, sizeof(*w->cand_sel));
    w->win_sel = calloc(w->cand.top, sizeof(*w->win_sel));
    size_t fm;
    unsigned fs;
    if (np_fanin_config_load(c, &fm, &fs, err, sizeof(err)) < 0) {
        np_proc_fatal_config(err);
        return -1;
    }
    if (w->pcfg.max_dests && !(w->fanin = np_vhll_new(fm, fs, NULL, 0))) {
        np_error("out_of_memory", "what=fanin");
        return -1;
    }
    if (!w->cand_sel || !w->win_sel) {
        np_error("out_of_memory", "what=candidates");
        return -1;
    }
    /* The partitions' sliding windows: the coordinator's window.ms, so that it publishes
     * exact windows from bounded partials. */
    int64_t wms = np_config_int(c, "window.ms");
    if (wms % w->pcfg.pane_ms) {
        np_proc_fatal_config("window.ms must be a multiple of pane.ms");
        return -1;
    }
    if (wms > w->pcfg.pane_ms) w->pcfg.window_ms = wms;
    np_info("bounded_partials", "top=%zu max_candidates=%zu learn_panes=%d window_ms=%" PRId64, w->cand.top,
            w->cand.max_candidates, w->cand.learn_panes, wms);
    return 0;
}

int main(int argc, char **argv) {
    worker_t *w = &W;
    int rc = np_proc_init(&w->proc, "netpulse-worker",
                          "Consumes flow records, keeps event-time panes per partition and sends "
                          "partial aggregates to the coordinator.",
                          worker_opts, sizeof(worker_opts) / sizeof(worker_opts[0]), argc, argv);
    if (rc) return rc == 1 ? 0 : 2;
    np_config_t *c = w->proc.cfg;
    w->topic = np_config_str(c, "topic");
    w->rtopic = np_config_str(c, "repartition.topic");
    if (w->rtopic && !*w->rtopic) w->rtopic = NULL;
    w->dlq_topic = np_config_str(c, "dlq.topic");
    w->idle_ms = np_config_int(c, "idle.ms");
    w->global_wm = NP_TS_NONE;
    w->pcfg.pane_ms = np_config_int(c, "pane.ms");
    w->pcfg.lateness_ms = np_config_int(c, "lateness.ms");
    w->pcfg.max_open_panes = (size_t)np_config_int(c, "max.open.panes");
    w->pcfg.max_sources = (size_t)np_config_int(c, "max.sources.per.pane");
    w->pcfg.max_dests = (size_t)np_config_int(c, "max.dests.per.pane");
    char verr[320];
    if (np_views_config_load(&w->views, c, verr, sizeof(verr)) < 0) {
        np_proc_fatal_config(verr);
        return 2;
    }
    w->pcfg.views = &w->views;
    w->pcfg.max_groups = (size_t)np_config_int(c, "views.max.groups");
    w->pcfg.pool = np_hll_pool_new(NP_HLL_P_DEFAULT, (size_t)np_config_int(c, "hll.pool.blocks"));
    if (!w->pcfg.pool) {
        np_error("out_of_memory", "what=hll_pool");
        return 1;
    }
    if (load_cand(w, c) < 0) return 2;
    if (w->cand.top && w->rtopic) {
        /* A source keyed in input partition p and re-keyed into N + p: merged here (np_pair). */
        w->pcfg.keep_panes = (size_t)np_config_int(c, "partial.pair.panes");
        int64_t wp = w->pcfg.window_ms > w->pcfg.pane_ms ? w->pcfg.window_ms / w->pcfg.pane_ms : 1;
        w->pair = np_pair_new(w->pcfg.max_sources, (size_t)wp, w->cand.top, w->cand.max_candidates, w->pcfg.pool);
        if (!w->pair) {
            np_error("out_of_memory", "what=pair");
            return 1;
        }
    }
    w->rcfg = w->pcfg;
    w->rcfg.keep_panes = 0;
    w->rcfg.external_wm = true;
    w->kcfg = w->pcfg;
    w->kcfg.max_sources = 1;
    w->kcfg.max_dests = 0;
    w->kcfg.views = NULL;
    w->kcfg.max_class_dests = (size_t)np_config_int(c, "kdd.max.dests.per.pane");
    w->kcfg.window_ms = 0; /* no sources, so no window of them */
    const char *bad = np_pane_config_check(&w->pcfg);
    if (bad) {
        np_proc_fatal_config(bad);
        return 2;
    }
    if (np_zsock_cfg_load(&w->zc, c, verr, sizeof(verr)) < 0 ||
        np_zsock_check(&w->zc, false, np_config_str(c, "coordinator"), verr, sizeof(verr)) < 0) {
        np_proc_fatal_config(verr);
        return 2;
    }
    np_record_limits_default(&w->lim);
    w->lim.max_bytes = (size_t)np_config_int(c, "max.record.bytes");
    w->lim.max_future_ms = np_config_int(c, "max.future.ms");
    w->max_jump_ms = np_config_int(c, "max.watermark.jump.ms");
    np_rate_init(&w->dlq_rate, np_config_int(c, "dlq.max.per.second"), np_config_int(c, "dlq.max.per.second"));
    const char *wid = np_config_str(c, "worker.id");
    if (wid && *wid) {
        snprintf(w->id, sizeof(w->id), "%s", wid);
    } else {
        char host[64] = "worker";
        gethostname(host, sizeof(host) - 1);
        snprintf(w->id, sizeof(w->id), "%s-%d", host, (int)getpid());
    }
    if (new_session(w) < 0) {
        np_error("no_randomness", "what=session");
        return 1;
    }
    w->outbox_max = (size_t)np_config_int(c, "outbox.max");
    /* A pane part is also rewritten at 32 frames (or when its deltas outweigh its first
     * frame): a restore then reads at most about twice the pane. */
    w->ckpt_policy = (np_ckpt_policy_t){(uint32_t)np_config_int(c, "checkpoint.full.every"), 32};
    w->resend_max_ms = np_config_int(c, "resend.max.ms");
    np_partial_enc_init(&w->enc);
    register_metrics(w);
    const char *kdd_model = np_config_str(c, "kdd.model");
    if (kdd_model && *kdd_model && !(KDD = np_kdd_stream_new(kdd_model, w->proc.metrics, verr, sizeof(verr)))) {
        np_proc_fatal_config(verr);
        return 2;
    }
    if (KDD) w->ktopic = np_config_str(c, "kdd.topic");

    if (np_proc_http_start(&w->proc, health, NULL, w) < 0) return 1;
    if (np_config_int(c, "redis.port") > 0) {
        char err[256];
        w->store = np_store_connect_config(c, err, sizeof(err));
        if (!w->store) { /* checkpoints are the source of truth: no Redis, no start */
            np_error("redis_unavailable", "error=\"%s\"", err);
            return 1;
        }
    }
    if (setup_zmq(w) < 0 || setup_kafka(w) < 0) return 1;
    np_info("started", "worker_id=%s pane_ms=%" PRId64 " lateness_ms=%" PRId64 " idle_ms=%" PRId64, w->id,
            w->pcfg.pane_ms, w->pcfg.lateness_ms, w->idle_ms);

    int64_t progress_ms = np_config_int(c, "progress.ms"), commit_ms = np_config_int(c, "commit.ms");
    int64_t ckpt_ms = np_config_int(c, "checkpoint.ms");
    int64_t next_progress = 0, next_commit = np_clock_mono_ms() + commit_ms, next_hb = 0;
    int64_t next_ckpt = np_clock_mono_ms() + ckpt_ms, next_lag = 0;
    while (!np_proc_stopping()) {
        /* Drain up to a batch, blocking only for the first message. */
        int taken = 0;
        for (int i = 0; i < BATCH_MAX; i++) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(w->rk, i == 0 ? 50 : 0);
            if (!m) break;
            taken++;
            if (i == 0) { /* the clocks once per batch, not twice per record */
                w->batch_mono = np_clock_mono_ms();
                w->batch_wall = np_clock_wall_ms(NULL);
            }
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                int32_t slot = np_slots_of(w->sl, rd_kafka_topic_name(m->rkt), m->partition);
                if (np_slots_get(w->sl, slot)) np_idle_eof(&w->sl->s[slot].idle, m->offset);
            } else if (m->err) {
                np_counter_inc(w->m_kafka_err);
                np_warn("consume_error", "error=\"%s\"", rd_kafka_message_errstr(m));
            } else {
                w->healthy_kafka = 1;
                handle_record(w, m);
            }
            rd_kafka_message_destroy(m);
        }
        if (taken) { /* records taken late in the batch count as taken at its end (np_idle_settle) */
            int64_t end = np_clock_mono_ms();
            for (int32_t p = 0; p < w->sl->total; p++)
                if (np_slots_get(w->sl, p)) np_idle_settle(&w->sl->s[p].idle, w->batch_mono, end);
        }
        if (KDD) np_kdd_stream_tick(KDD);
        rd_kafka_poll(w->dlq, 0);
        if (w->produce_failed) {
            np_error("fatal", "reason=produce_undelivered action=exit_for_restart_from_checkpoint");
            exit(1);
        }
        recv_coordinator(w);
        int64_t now = np_clock_mono_ms();
        np_log_rl_flush(&w->rl_bad, NP_LOG_WARN, "record_rejected");
        checkpoint_all(w, true); /* every pane close */
        if (now >= next_ckpt) {
            checkpoint_all(w, false);
            next_ckpt = now + ckpt_ms;
        }
        resend_due(w, now);
        backpressure(w);
        np_gauge_set(w->m_outbox, (int64_t)w->sl->outbox_items);
        if (now >= next_progress || np_slots_progress_moved(w->sl)) {
            send_progress(w, now);
            update_gauges(w);
            next_progress = now + progress_ms;
        }
        if (now >= next_commit) {
            store_safe_offsets(w, false);
            next_commit = now + commit_ms;
        }
        if (now >= next_lag) { /* before the heartbeat, which reports the total */
            refresh_lag(w);
            next_lag = now + 2000;
        }
        if (now >= next_hb) {
            heartbeat(w);
            next_hb = now + 2000;
        }
    }

    np_info("stopping", "reason=signal");
    np_logend_stop(w->logend); /* no new round; the one in flight ends by the destroy below */
    send_progress(w, np_clock_mono_ms());
    checkpoint_all(w, false);
    store_safe_offsets(w, true);
    rd_kafka_consumer_close(w->rk); /* with the coordinator gone: up to session.timeout.ms */
    rd_kafka_destroy(w->rk);
    np_kdd_stream_destroy(&KDD);
    np_logend_destroy(&w->logend); /* it asks on w->dlq */
    rd_kafka_topic_partition_list_destroy(w->logend_parts);
    /* Whatever is still undelivered was already waited for (checkpoint_all above), and no
     * checkpoint or commit moved past it: the next owner produces it again. */
    rd_kafka_flush(w->dlq, 2000);
    rd_kafka_destroy(w->dlq);
    rd_kafka_destroy(w->dlq_reader);
    for (int32_t p = 0; p < w->sl->total; p++) drop_partition(w, p);
    for (int32_t p = 0; p < w->sl->total; p++) np_dlqseen_free(&w->dseen[p]);
    free(w->dseen);
    np_slots_destroy(&w->sl);
    np_pair_destroy(&w->pair); /* its tables' sketches are the pool's */
    np_hll_pool_destroy(&w->pcfg.pool);
    np_vhll_destroy(&w->fanin);
    if (w->store) {
        char key[192], err[256];
        snprintf(key, sizeof(key), "netpulse:workers:%s", w->id);
        np_store_del(w->store, key, err, sizeof(err));
        np_store_destroy(&w->store);
    }
    zmq_close(w->zsock);
    zmq_ctx_term(w->zctx);
    np_zsock_cfg_free(&w->zc);
    np_partial_enc_free(&w->enc);
    np_info("stopped", "worker_id=%s", w->id);
    np_proc_fini(&w->proc);
    return 0;
}
