/*
 * netpulse-gateway: publishes the coordinator's results to the Kafka topic
 * `processed-data` (key = result id, value = the JSON), acknowledges each result to the
 * coordinator once it is in Kafka, and serves Prometheus /metrics and /healthz, where the
 * latest pane window, forecast and anomalies are gauges for dashboards (np_summary reads
 * them from the results; they are shown once committed) and a histogram times publication.
 *
 * Exactly once: a consumer of the output topic with isolation.level=read_committed sees
 * every result id once, also across a `kill -9` of the gateway.
 *  - Transactions (transactional.id): the results that arrive within commit.interval.ms
 *    (at most commit.max.results) are produced in one transaction and acknowledged only
 *    after it commits. At start, rd_kafka_init_transactions fences the previous
 *    incarnation and aborts its open transaction; the coordinator re-sends whatever was
 *    not acknowledged.
 *  - Restart dedup: results committed just before a crash, whose acknowledgements were
 *    lost, are re-sent too. So before it accepts results the gateway reads the keys of the
 *    last dedup.ids committed messages of every output partition back into its set of
 *    published ids, and acknowledges those repeats without publishing them.
 *  - While running, the same bounded set (oldest forgotten first) catches repeats.
 * With an empty transactional.id the gateway publishes with the idempotent producer alone
 * and acknowledges after each delivery report; the restart dedup still runs, but nothing
 * fences an old gateway that is still alive (paused, cut off) when its replacement starts,
 * so a message it sends after the replacement read the topic back is published twice.
 *
 * Errors follow librdkafka's transactional API: a retriable commit is retried, an
 * abortable one aborts the transaction (nothing acknowledged, the coordinator re-sends),
 * a fatal one (e.g. fenced by a newer gateway with the same transactional.id) ends the
 * process with status 1 so that a supervisor restarts it.
 *
 * Threads: the main loop owns ZeroMQ and the producer (delivery reports run inside
 * rd_kafka_poll and the commit on this thread); libmicrohttpd serves HTTP from atomics;
 * the optional webhook sink (webhook.h) has its own thread and Kafka consumer; the live page
 * (live.h) has a fleet thread and serves its state from np_live (mutex) on HTTP threads.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "netpulse.pb-c.h"
#include "np_clock.h"
#include "np_idset.h"
#include "np_kafka.h"
#include "np_partial.h"
#include "np_proc.h"
#include "np_result.h"
#include "np_summary.h"
#include "np_zsock.h"
#include "live.h"
#include "webhook.h"

#define ID_MAX NP_RESULT_ID_MAX /* ids of IPv6 entities exceed 64 */
#define PEER_MAX 256
#define ACK_RING 4096       /* acknowledgements queued (held only with test.ack.delay.ms) */
#define ACK_IDS_PER_MSG 256 /* ids per ResultAck: the coordinator reads frames up to 64 KiB */

static const np_opt_t gw_opts[] = {
    NP_OPTS_COMMON,
    NP_OPTS_ZMQ,
    NP_OPTS_KAFKA,
    {"bind", NP_OPT_STR, "tcp://127.0.0.1:5556", 1, 0, NULL, "ZeroMQ endpoint the coordinator connects to"},
    {"output.topic", NP_OPT_STR, "processed-data", 1, 0, NULL, "Topic results are published to"},
    {"dedup.ids", NP_OPT_INT, "65536", 1024, 16777216, NULL,
     "Published result ids remembered to drop repeats (bounded; oldest forgotten first); also "
     "how many of the last messages of each output partition are read back at start"},
    {"transactional.id", NP_OPT_STR, "netpulse-gateway", 0, 0, NULL,
     "Kafka transactional.id: results are published in transactions and a restart fences the "
     "previous gateway with this id (empty = idempotent producer, no transactions)"},
    {"commit.interval.ms", NP_OPT_INT, "100", 1, 60000, NULL,
     "Longest a transaction collects results before it is committed, ms"},
    {"commit.max.results", NP_OPT_INT, "500", 1, 100000, NULL, "Most results in one transaction"},
    {"dedup.load.timeout.ms", NP_OPT_INT, "60000", 1000, 3600000, NULL,
     "At start, longest time to read the published ids back from the output topic (the "
     "gateway exits with status 1 rather than run without them)"},
    NP_OPT_PANE_MS, /* windows this long are pane windows: the latest-window gauges, the latency histogram */
    {"test.ack.delay.ms", NP_OPT_INT, "0", 0, 60000, NULL,
     "Testing only: hold acknowledgements this long after results are in Kafka, to widen the "
     "crash window that the restart dedup covers"},
    WEBHOOK_OPTS,
    LIVE_OPTS,
};

/* One result: who to acknowledge once it is in Kafka. */
typedef struct inflight {
    char id[ID_MAX];
    uint8_t peer[PEER_MAX];
    size_t peer_len;
    size_t bytes;
    int64_t pane_end_ms; /* a pane window's window_end (event time), else 0 */
    int64_t due; /* acknowledgement queue: when to send it (monotonic ms) */
} inflight_t;

typedef struct gateway {
    np_proc_t proc;
    const char *topic, *txn_id;
    rd_kafka_t *rk;
    void *zctx, *zsock;
    np_zsock_cfg_t zc;
    np_zap_t *zap;
    np_counter_t *m_refused;
    np_idset_t *ids; /* recently published ids */
    /* The open transaction: results produced in it, acknowledged once it commits. */
    bool transactional, txn_open;
    inflight_t *txn;
    size_t txn_len, txn_cap;
    int64_t txn_deadline, commit_interval_ms;
    /* Acknowledgements to send, FIFO by due time. */
    inflight_t *acks;
    size_t acks_head, acks_len;
    int64_t ack_delay_ms;
    np_counter_t *m_published, *m_dups, *m_errors, *m_received, *m_decode_err, *m_pub_bytes;
    np_counter_t *m_commits, *m_aborts, *m_commit_retries, *m_ids_loaded;
    np_gauge_t *m_inflight, *m_last_publish, *m_txn_results;
    /* What the latest published results said (gauges for Grafana), applied once they are
     * in Kafka: with transactions, kept pending until the commit. */
    int64_t pane_ms;
    np_summary_t sum;                       /* scratch: the result being published */
    bool pend_window, pend_forecast;
    np_summary_t pend_win;
    double pend_predicted;
    np_summary_recent_t pend_anomalies, recent;
    np_histogram_t *m_latency;
    np_gauge_t *m_win_records[NP_SUMMARY_PROTOS], *m_win_bytes, *m_win_packets, *m_win_sources, *m_win_end;
    np_gauge_t *m_forecast;
    np_infoset_t *m_recent;
    int64_t inflight;
    live_t *live; /* the web page's state (live.h) */
    bool fatal;   /* a fatal Kafka error: stop and exit 1 */
    _Atomic int kafka_ok, ready;
} gateway_t;

static gateway_t G;

static void show_pending(gateway_t *g);

/* ---- acknowledgements -------------------------------------------------------------- */

static void ack_send(gateway_t *g, const uint8_t *peer, size_t peer_len, char **ids, size_t n) {
    Netpulse__ResultAck a = NETPULSE__RESULT_ACK__INIT;
    a.version = NP_WIRE_VERSION;
    a.n_ids = n;
    a.ids = ids;
    uint8_t buf[ACK_IDS_PER_MSG * (ID_MAX + 2) + 16];
    size_t len = netpulse__result_ack__pack(&a, buf);
    /* Not sent (peer gone, queue full): the coordinator re-sends, and the repeat is acked. */
    if (zmq_send(g->zsock, peer, peer_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
        zmq_send(g->zsock, buf, len, ZMQ_DONTWAIT);
}

static void ack_one(gateway_t *g, const uint8_t *peer, size_t peer_len, const char *id) {
    char *ids[1] = {(char *)id};
    ack_send(g, peer, peer_len, ids, 1);
}

/* Sends the queued acknowledgements that are due (all of them when `all`), one ResultAck
 * per run of the same peer. */
static void acks_send_due(gateway_t *g, int64_t now, bool all) {
    char *ids[ACK_IDS_PER_MSG];
    while (g->acks_len) {
        const inflight_t *first = &g->acks[g->acks_head];
        if (!all && first->due > now) return;
        size_t n = 0;
        while (n < g->acks_len && n < ACK_IDS_PER_MSG) {
            inflight_t *a = &g->acks[(g->acks_head + n) % ACK_RING];
            if ((!all && a->due > now) || a->peer_len != first->peer_len ||
                memcmp(a->peer, first->peer, a->peer_len) != 0)
                break;
            ids[n++] = a->id;
        }
        ack_send(g, first->peer, first->peer_len, ids, n);
        g->acks_head = (g->acks_head + n) % ACK_RING;
        g->acks_len -= n;
    }
}

/* `f` is in Kafka (committed, or delivered without transactions): remember its id and
 * queue its acknowledgement. */
static void published(gateway_t *g, const inflight_t *f, int64_t now) {
    np_idset_add(g->ids, f->id);
    if (f->pane_end_ms) np_histogram_observe(g->m_latency, (double)(np_clock_wall_ms(NULL) - f->pane_end_ms) / 1000.0);
    np_counter_inc(g->m_published);
    np_counter_add(g->m_pub_bytes, f->bytes);
    if (g->acks_len == ACK_RING) acks_send_due(g, now, true); /* bounded: send early */
    inflight_t *a = &g->acks[(g->acks_head + g->acks_len) % ACK_RING];
    *a = *f;
    a->due = now + g->ack_delay_ms;
    g->acks_len++;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    static np_log_rl_t rl = NP_LOG_RL_INIT;
    gateway_t *g = opaque;
    inflight_t *f = m->_private; /* NULL for transactional messages: the commit acks them */
    (void)rk;
    g->inflight--;
    if (m->err) {
        /* Not acknowledged: the coordinator re-sends it. With transactions the commit fails
         * and the transaction is aborted; purged messages are that abort's doing. */
        if (m->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE && m->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
            np_counter_inc(g->m_errors);
            np_log_rl(&rl, NP_LOG_WARN, "publish_failed", "id=%.*s error=\"%s\"", (int)m->key_len,
                      (const char *)m->key, rd_kafka_err2str(m->err));
        }
    } else if (f) {
        published(g, f, np_clock_mono_ms());
        np_gauge_set(g->m_last_publish, np_clock_wall_ms(NULL));
        g->kafka_ok = 1;
    }
    free(f);
}

/* ---- transactions ------------------------------------------------------------------ */

/* Logs a transactional error that ends the process, and consumes `e`. */
static void txn_fatal(gateway_t *g, const char *op, rd_kafka_error_t *e) {
    np_error("transaction_failed", "op=%s error=%s fatal=%d reason=\"%s\"", op, rd_kafka_error_name(e),
             rd_kafka_error_is_fatal(e), rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    g->fatal = true;
}

/* Fences any previous producer with our transactional.id and aborts its open transaction.
 * Retries while the error is retriable (coordinator loading, previous transaction still
 * completing, timeouts). Returns 0, or -1 (fatal, or stopping). */
static int txn_init(gateway_t *g) {
    int64_t t0 = np_clock_mono_ms();
    for (int attempt = 1; !np_proc_stopping(); attempt++) {
        rd_kafka_error_t *e = rd_kafka_init_transactions(g->rk, 5000); /* resumable */
        if (!e) {
            g->kafka_ok = 1;
            np_info("transactions_ready", "transactional_id=%s ms=%" PRId64, g->txn_id, np_clock_mono_ms() - t0);
            return 0;
        }
        if (!rd_kafka_error_is_retriable(e)) {
            txn_fatal(g, "init", e);
            return -1;
        }
        np_warn("transactions_init_retry", "attempt=%d error=%s reason=\"%s\"", attempt, rd_kafka_error_name(e),
                rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    return -1;
}

static void txn_reset(gateway_t *g) {
    g->txn_open = false;
    g->txn_len = 0;
    g->pend_window = g->pend_forecast = false;
    memset(&g->pend_anomalies, 0, sizeof(g->pend_anomalies));
    np_gauge_set(g->m_txn_results, 0);
}

/* Aborts the open transaction. Its results are not acknowledged, so the coordinator
 * re-sends them. Returns 0, or -1 on a fatal error. */
static int txn_abort(gateway_t *g, const char *why) {
    for (int attempt = 1;; attempt++) {
        rd_kafka_error_t *e = rd_kafka_abort_transaction(g->rk, -1);
        if (!e) break;
        if (!rd_kafka_error_is_retriable(e) || attempt >= 3) {
            txn_fatal(g, "abort", e);
            return -1;
        }
        np_warn("transaction_abort_retry", "attempt=%d error=%s", attempt, rd_kafka_error_name(e));
        rd_kafka_error_destroy(e);
    }
    np_counter_inc(g->m_aborts);
    np_warn("transaction_aborted", "results=%zu reason=\"%s\"", g->txn_len, why);
    txn_reset(g);
    return 0;
}

/* Commits the open transaction, then acknowledges its results. Returns 0 when committed
 * (or nothing was open), 1 when it had to be aborted, -1 on a fatal error. */
static int txn_commit(gateway_t *g) {
    static np_log_rl_t rl = NP_LOG_RL_INIT;
    if (!g->txn_open) return 0;
    for (int attempt = 1;; attempt++) {
        rd_kafka_error_t *e = rd_kafka_commit_transaction(g->rk, -1);
        if (!e) break;
        if (rd_kafka_error_txn_requires_abort(e)) {
            char why[256];
            snprintf(why, sizeof(why), "%s: %s", rd_kafka_error_name(e), rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            return txn_abort(g, why) < 0 ? -1 : 1;
        }
        /* Retriable (e.g. timed out: the commit goes on in the background and calling
         * again resumes it). When asked to stop, give up after a few: not acknowledged,
         * so the next gateway aborts it and the coordinator re-sends. */
        if (!rd_kafka_error_is_retriable(e) || (np_proc_stopping() && attempt >= 3)) {
            txn_fatal(g, "commit", e);
            return -1;
        }
        np_counter_inc(g->m_commit_retries);
        np_log_rl(&rl, NP_LOG_WARN, "transaction_commit_retry", "attempt=%d results=%zu error=%s reason=\"%s\"",
                  attempt, g->txn_len, rd_kafka_error_name(e), rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    int64_t now = np_clock_mono_ms();
    for (size_t i = 0; i < g->txn_len; i++) published(g, &g->txn[i], now);
    show_pending(g);
    np_counter_inc(g->m_commits);
    np_gauge_set(g->m_last_publish, np_clock_wall_ms(NULL));
    g->kafka_ok = 1;
    np_debug("transaction_committed", "results=%zu", g->txn_len);
    txn_reset(g);
    acks_send_due(g, now, false);
    return 0;
}

static bool in_txn(const gateway_t *g, const char *id) {
    for (size_t i = 0; i < g->txn_len; i++)
        if (strcmp(g->txn[i].id, id) == 0) return true;
    return false;
}

/* ---- what the latest results said (metrics) ---------------------------------------- */

/* Reads the headline fields of a window, anomaly or forecast into the pending state and
 * marks a pane window for the latency histogram. Returns true when something is pending. */
static bool note_result(gateway_t *g, const Netpulse__Result *r, inflight_t *f) {
    static np_log_rl_t rl = NP_LOG_RL_INIT;
    f->pane_end_ms = 0;
    bool window = !strcmp(r->type, "window"), anomaly = !strcmp(r->type, "anomaly");
    if (!window && !anomaly && strcmp(r->type, "forecast")) return false; /* groups: nothing shown */
    char err[128];
    if (np_summary_parse((const char *)r->json.data, r->json.len, &g->sum, err, sizeof(err)) < 0) {
        np_counter_inc(g->m_decode_err);
        np_log_rl(&rl, NP_LOG_WARN, "result_unreadable", "id=%s error=\"%s\"", r->id, err);
        return false;
    }
    if (window) {
        if (g->sum.window_ms != g->pane_ms) return false; /* a sliding window */
        f->pane_end_ms = g->sum.window_end;
        if (!g->pend_window || g->sum.window_end >= g->pend_win.window_end) g->pend_win = g->sum;
        g->pend_window = true;
    } else if (anomaly) {
        np_summary_recent_push(&g->pend_anomalies, &g->sum);
    } else {
        g->pend_predicted = g->sum.predicted;
        g->pend_forecast = true;
    }
    return true;
}

static void show_recent(gateway_t *g) {
    static const char *const names[] = {"rank", "kind", "severity", "entity", "explanation"};
    for (size_t rank = 1; rank <= NP_SUMMARY_RECENT_MAX; rank++) {
        const np_summary_t *a = np_summary_recent_get(&g->recent, rank);
        if (!a) {
            np_infoset_clear(g->m_recent, rank - 1);
            continue;
        }
        char rk[8];
        snprintf(rk, sizeof(rk), "%zu", rank);
        const char *values[] = {rk, a->kind, a->severity, a->entity, a->explanation};
        np_infoset_set(g->m_recent, rank - 1, names, values, 5, a->window_end); /* ms: seconds shown */
    }
}

/* The pending results are in Kafka: show them. */
static void show_pending(gateway_t *g) {
    if (g->pend_window) {
        const np_summary_t *w = &g->pend_win;
        for (int p = 0; p < NP_SUMMARY_PROTOS; p++) np_gauge_set(g->m_win_records[p], (int64_t)w->protocols[p]);
        np_gauge_set(g->m_win_bytes, (int64_t)w->bytes);
        np_gauge_set(g->m_win_packets, (int64_t)w->packets);
        np_gauge_set(g->m_win_sources, (int64_t)w->sources);
        np_gauge_set(g->m_win_end, w->window_end);
    }
    if (g->pend_forecast) np_gauge_set(g->m_forecast, (int64_t)(g->pend_predicted * 1000.0 + 0.5));
    if (g->pend_anomalies.n) {
        for (size_t rank = g->pend_anomalies.n; rank >= 1; rank--) /* oldest first */
            np_summary_recent_push(&g->recent, np_summary_recent_get(&g->pend_anomalies, rank));
        show_recent(g);
    }
    g->pend_window = g->pend_forecast = false;
    memset(&g->pend_anomalies, 0, sizeof(g->pend_anomalies));
}

/* ---- publishing -------------------------------------------------------------------- */

static void publish(gateway_t *g, const Netpulse__Result *r, const uint8_t *peer, size_t peer_len) {
    static np_log_rl_t rl = NP_LOG_RL_INIT;
    inflight_t *f;
    if (g->transactional) {
        if (g->txn_open && g->txn_len == g->txn_cap && txn_commit(g) < 0) return;
        if (!g->txn_open) {
            rd_kafka_error_t *e = rd_kafka_begin_transaction(g->rk);
            if (e) {
                txn_fatal(g, "begin", e);
                return;
            }
            g->txn_open = true;
            g->txn_deadline = np_clock_mono_ms() + g->commit_interval_ms;
        }
        f = &g->txn[g->txn_len];
    } else if (!(f = calloc(1, sizeof(*f)))) {
        return; /* not acknowledged: re-sent later */
    }
    snprintf(f->id, sizeof(f->id), "%s", r->id);
    memcpy(f->peer, peer, peer_len);
    f->peer_len = peer_len;
    f->bytes = r->json.len;
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_producev(g->rk, RD_KAFKA_V_TOPIC(g->topic), RD_KAFKA_V_KEY(r->id, strlen(r->id)),
                                    RD_KAFKA_V_VALUE(r->json.data, r->json.len),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_OPAQUE(g->transactional ? NULL : f), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(g->rk, 50);
    if (err) {
        /* Not acknowledged: re-sent later. With transactions this also happens when the
         * transaction has failed; its commit then reports that and aborts it. */
        np_counter_inc(g->m_errors);
        np_log_rl(&rl, NP_LOG_ERROR, "produce_failed", "id=%s error=\"%s\"", r->id, rd_kafka_err2str(err));
        if (err == RD_KAFKA_RESP_ERR__FATAL) g->fatal = true;
        if (!g->transactional) free(f);
        return;
    }
    g->inflight++;
    if (note_result(g, r, f) && !g->transactional) show_pending(g); /* no commit to wait for */
    live_result(g->live, r->type, r->window_start_ms, r->window_end_ms, r->json.data, r->json.len);
    if (g->transactional) np_gauge_set(g->m_txn_results, (int64_t)++g->txn_len);
}

static void on_batch(gateway_t *g, const uint8_t *peer, size_t peer_len, const uint8_t *buf, size_t len) {
    static np_log_rl_t rl = NP_LOG_RL_INIT;
    Netpulse__ResultBatch *b = netpulse__result_batch__unpack(NULL, len, buf);
    if (!b || peer_len > PEER_MAX) {
        np_counter_inc(g->m_decode_err);
        np_log_rl(&rl, NP_LOG_WARN, "bad_result_batch", "bytes=%zu", len);
        if (b) netpulse__result_batch__free_unpacked(b, NULL);
        return;
    }
    for (size_t i = 0; i < b->n_results && !g->fatal; i++) {
        const Netpulse__Result *r = b->results[i];
        np_counter_inc(g->m_received);
        if (strlen(r->id) >= ID_MAX) {
            np_counter_inc(g->m_decode_err);
            np_log_rl(&rl, NP_LOG_ERROR, "result_id_too_long", "len=%zu", strlen(r->id));
            continue;
        }
        if (np_idset_has(g->ids, r->id)) {
            np_counter_inc(g->m_dups);
            ack_one(g, peer, peer_len, r->id);
            continue;
        }
        if (in_txn(g, r->id)) { /* re-sent while its transaction is open: acked at commit */
            np_counter_inc(g->m_dups);
            continue;
        }
        publish(g, r, peer, peer_len);
    }
    netpulse__result_batch__free_unpacked(b, NULL);
}

static void recv_coordinator(gateway_t *g) {
    for (int n = 0; n < 1000 && !g->fatal; n++) {
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, g->zsock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&id);
            return;
        }
        zmq_msg_init(&body);
        if (zmq_msg_more(&id) && zmq_msg_recv(&body, g->zsock, 0) >= 0)
            on_batch(g, zmq_msg_data(&id), zmq_msg_size(&id), zmq_msg_data(&body), zmq_msg_size(&body));
        while (zmq_msg_more(&body) && zmq_msg_recv(&body, g->zsock, 0) >= 0) {}
        zmq_msg_close(&id);
        zmq_msg_close(&body);
    }
}

/* ---- restart dedup ----------------------------------------------------------------- */

/*
 * Reads back the keys (result ids) of the last dedup.ids messages of every partition of
 * the output topic into the published-id set, with isolation.level=read_committed: from
 * max(low, high - dedup.ids) up to the end a read_committed consumer sees (the last
 * stable offset). Runs after txn_init, so the previous gateway's open transaction is
 * already aborted (or its commit completed) and the end is where it stopped.
 * Returns the number of ids loaded, or -1 with errstr set.
 */
static int64_t load_published(gateway_t *g, char *errstr, size_t errlen) {
    np_config_t *c = g->proc.cfg;
    int64_t t0 = np_clock_mono_ms(), deadline = t0 + np_config_int(c, "dedup.load.timeout.ms");
    int64_t loaded = 0, repeats = 0, msgs = 0;
    int nparts = 0, pending = 0;
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_t *rkt = NULL;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *assign = NULL;
    bool *eof = NULL;
    rd_kafka_conf_t *conf = np_kafka_conf_new(c, "netpulse-gateway-dedup", errstr, errlen);
    if (!conf) return -1;
    /* Ours win over pass-through properties: only committed data counts. The group is
     * never joined nor committed to (partitions are assigned); librdkafka wants one. */
    if (np_kafka_conf_set(conf, "isolation.level", "read_committed", errstr, errlen) ||
        np_kafka_conf_set(conf, "group.id", "netpulse-gateway-dedup", errstr, errlen) ||
        np_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, errlen) ||
        np_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, errlen) ||
        np_kafka_conf_set(conf, "enable.auto.offset.store", "false", errstr, errlen) ||
        np_kafka_conf_set(conf, "fetch.wait.max.ms", "50", errstr, errlen)) { /* start-up time */
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    if (!(rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errlen))) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_poll_set_consumer(rk);
    rkt = rd_kafka_topic_new(rk, g->topic, NULL);
    rd_kafka_resp_err_t err;
    /* Short steps, so that SIGTERM and the deadline are noticed while Kafka is away. */
    while ((err = rd_kafka_metadata(rk, 0, rkt, &md, 1000)) && np_clock_mono_ms() < deadline && !np_proc_stopping()) {}
    if (err) {
        snprintf(errstr, errlen, "metadata of %s: %s", g->topic, rd_kafka_err2str(err));
        goto err;
    }
    if (md->topic_cnt != 1 || md->topics[0].err) {
        if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            np_warn("output_topic_missing", "topic=%s", g->topic); /* nothing published yet */
            goto out;
        }
        snprintf(errstr, errlen, "metadata of %s: %s", g->topic,
                 rd_kafka_err2str(md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
        goto err;
    }
    nparts = md->topics[0].partition_cnt;
    eof = calloc((size_t)nparts + 1, sizeof(*eof));
    assign = rd_kafka_topic_partition_list_new(nparts);
    if (!eof || !assign) {
        snprintf(errstr, errlen, "out of memory");
        goto err;
    }
    for (int i = 0; i < nparts; i++) {
        int32_t p = md->topics[0].partitions[i].id;
        int64_t lo, hi;
        while ((err = rd_kafka_query_watermark_offsets(rk, g->topic, p, &lo, &hi, 1000)) &&
               np_clock_mono_ms() < deadline && !np_proc_stopping()) {}
        if (err) {
            snprintf(errstr, errlen, "offsets of %s [%" PRId32 "]: %s", g->topic, p, rd_kafka_err2str(err));
            goto err;
        }
        int64_t from = hi - (int64_t)np_idset_cap(g->ids) > lo ? hi - (int64_t)np_idset_cap(g->ids) : lo;
        if (from >= hi) continue; /* empty */
        rd_kafka_topic_partition_list_add(assign, g->topic, p)->offset = from;
        pending++;
    }
    if (pending && (err = rd_kafka_assign(rk, assign))) {
        snprintf(errstr, errlen, "assign: %s", rd_kafka_err2str(err));
        goto err;
    }
    while (pending > 0) {
        if (np_clock_mono_ms() >= deadline || np_proc_stopping()) {
            snprintf(errstr, errlen, "%d partition(s) of %s not read to the end within dedup.load.timeout.ms",
                     pending, g->topic);
            goto err;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->partition >= 0 && m->partition < nparts && !eof[m->partition]) {
                eof[m->partition] = true;
                pending--;
            }
        } else if (m->err) {
            snprintf(errstr, errlen, "reading %s: %s", g->topic, rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            goto err;
        } else if (m->key && m->key_len > 0 && m->key_len < ID_MAX) {
            char id[ID_MAX];
            memcpy(id, m->key, m->key_len);
            id[m->key_len] = '\0';
            msgs++;
            if (np_idset_has(g->ids, id)) {
                repeats++; /* already twice in the topic: a duplicate from before */
            } else {
                np_idset_add(g->ids, id);
                loaded++;
            }
        }
        rd_kafka_message_destroy(m);
    }
out:
    np_counter_add(g->m_ids_loaded, (uint64_t)loaded);
    np_info("published_ids_loaded", "ids=%" PRId64 " messages=%" PRId64 " repeated=%" PRId64
            " partitions=%d topic=%s ms=%" PRId64,
            loaded, msgs, repeats, nparts, g->topic, np_clock_mono_ms() - t0);
    if (repeats) np_warn("output_topic_has_repeats", "ids=%" PRId64 " topic=%s", repeats, g->topic);
    goto done;
err:
    loaded = -1;
done:
    if (assign) rd_kafka_topic_partition_list_destroy(assign);
    free(eof);
    if (md) rd_kafka_metadata_destroy(md);
    if (rkt) rd_kafka_topic_destroy(rkt);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return loaded;
}

/* ---- set-up ------------------------------------------------------------------------ */

static int health(void *ctx, char *buf, size_t len) {
    gateway_t *g = ctx;
    if (!g->ready) {
        snprintf(buf, len, "starting: fencing the previous gateway, loading published ids");
        return 1;
    }
    if (!g->kafka_ok) {
        snprintf(buf, len, "kafka: not connected");
        return 1;
    }
    return 0;
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    gateway_t *g = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) { /* e.g. fenced by a newer gateway */
        char why[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, why, sizeof(why));
        np_error("kafka_fatal", "error=%s reason=\"%s\"", rd_kafka_err2name(orig), why);
        g->fatal = true;
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) g->kafka_ok = 0;
    np_warn("kafka_error", "error=%s reason=\"%s\"", rd_kafka_err2name(err), reason);
}

static void register_metrics(gateway_t *g) {
    np_metrics_t *m = g->proc.metrics;
    g->m_refused = np_metrics_counter(m, "netpulse_gateway_zmq_peers_refused_total",
                                      "ZeroMQ peers refused: CURVE key not on the allow-list (the coordinator's)", NULL);
    g->m_received = np_metrics_counter(m, "netpulse_gateway_results_received_total", "Results received from the coordinator", NULL);
    g->m_published = np_metrics_counter(m, "netpulse_gateway_results_published_total",
                                        "Results in the output topic (committed, or delivered without transactions)", NULL);
    g->m_pub_bytes = np_metrics_counter(m, "netpulse_gateway_published_bytes_total", "Bytes of results published", NULL);
    g->m_dups = np_metrics_counter(m, "netpulse_gateway_results_duplicate_total", "Repeated results acknowledged without publishing", NULL);
    g->m_errors = np_metrics_counter(m, "netpulse_gateway_publish_errors_total", "Results Kafka did not take (re-sent by the coordinator)", NULL);
    g->m_decode_err = np_metrics_counter(m, "netpulse_gateway_messages_invalid_total", "Undecodable messages from the coordinator", NULL);
    g->m_commits = np_metrics_counter(m, "netpulse_gateway_transactions_committed_total", "Transactions committed", NULL);
    g->m_aborts = np_metrics_counter(m, "netpulse_gateway_transactions_aborted_total",
                                     "Transactions aborted (their results are re-sent by the coordinator)", NULL);
    g->m_commit_retries = np_metrics_counter(m, "netpulse_gateway_transaction_commit_retries_total", "Commits retried after a retriable error", NULL);
    g->m_ids_loaded = np_metrics_counter(m, "netpulse_gateway_published_ids_loaded_total",
                                         "Published ids read back from the output topic at start", NULL);
    g->m_inflight = np_metrics_gauge(m, "netpulse_gateway_inflight_results", "Results produced, not yet delivered", NULL);
    g->m_txn_results = np_metrics_gauge(m, "netpulse_gateway_transaction_open_results", "Results in the open transaction", NULL);
    g->m_last_publish = np_metrics_gauge_milli(m, "netpulse_gateway_last_publish_timestamp_seconds", "Wall time of the last publish, seconds since the epoch", NULL);
    g->m_latency = np_metrics_histogram(m, "netpulse_gateway_publish_latency_seconds",
                                        "Wall time of a pane window's publication (Kafka commit) minus its window_end",
                                        NULL, np_metrics_buckets_slow, np_metrics_buckets_slow_n);
    for (int p = 0; p < NP_SUMMARY_PROTOS; p++) {
        char l[32];
        snprintf(l, sizeof(l), "protocol=\"%s\"", np_summary_proto_name((np_summary_proto_t)p));
        g->m_win_records[p] = np_metrics_gauge(m, "netpulse_gateway_window_records", "The latest published pane window's records, by protocol", l);
    }
    g->m_win_bytes = np_metrics_gauge(m, "netpulse_gateway_window_bytes", "The latest published pane window's bytes", NULL);
    g->m_win_packets = np_metrics_gauge(m, "netpulse_gateway_window_packets", "The latest published pane window's packets", NULL);
    g->m_win_sources = np_metrics_gauge(m, "netpulse_gateway_window_sources", "The latest published pane window's distinct sources", NULL);
    g->m_win_end = np_metrics_gauge_milli(m, "netpulse_gateway_window_end_timestamp_seconds",
                                          "The latest published pane window's end (event time, seconds since the epoch)", NULL);
    g->m_forecast = np_metrics_gauge_milli(m, "netpulse_gateway_forecast_packets", "The latest forecast of the next pane's packets", NULL);
    g->m_recent = np_metrics_infoset(m, "netpulse_gateway_recent_anomaly_info",
                                     "The 10 most recent anomalies published (rank 1 = newest); value = window_end, seconds since the epoch",
                                     NP_SUMMARY_RECENT_MAX);
}

static rd_kafka_t *producer_new(gateway_t *g, char *err, size_t errlen) {
    np_config_t *c = g->proc.cfg;
    /* A dead gateway's open transaction holds read_committed consumers back until the
     * broker aborts it; ours last commit.interval.ms, so 10 s is ample. */
    const char *defaults[] = {"enable.idempotence", "true", "linger.ms", "5",
                              /* without a transactional id the list ends here */
                              g->transactional ? "transactional.id" : NULL, g->txn_id,
                              "transaction.timeout.ms", "10000", NULL};
    rd_kafka_conf_t *conf = np_kafka_conf_new_with(c, "netpulse-gateway", defaults, err, errlen);
    if (!conf) return NULL;
    rd_kafka_conf_set_opaque(conf, g);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
    if (!rk) rd_kafka_conf_destroy(conf); /* rd_kafka_new frees it only on success */
    return rk;
}

int main(int argc, char **argv) {
    gateway_t *g = &G;
    webhook_t *hook = NULL;
    int rc = np_proc_init(&g->proc, "netpulse-gateway",
                          "Publishes netpulse results to Kafka (processed-data) and serves metrics.",
                          gw_opts, sizeof(gw_opts) / sizeof(gw_opts[0]), argc, argv);
    if (rc) return rc == 1 ? 0 : 2;
    np_config_t *c = g->proc.cfg;
    {
        char zerr[320];
        if (np_zsock_cfg_load(&g->zc, c, zerr, sizeof(zerr)) < 0 ||
            np_zsock_check(&g->zc, true, np_config_str(c, "bind"), zerr, sizeof(zerr)) < 0) {
            np_proc_fatal_config(zerr);
            return 2;
        }
    }
    g->topic = np_config_str(c, "output.topic");
    g->txn_id = np_config_str(c, "transactional.id");
    g->transactional = g->txn_id && g->txn_id[0];
    g->commit_interval_ms = np_config_int(c, "commit.interval.ms");
    g->txn_cap = (size_t)np_config_int(c, "commit.max.results");
    g->ack_delay_ms = np_config_int(c, "test.ack.delay.ms");
    g->pane_ms = np_config_int(c, "pane.ms");
    g->ids = np_idset_new((size_t)np_config_int(c, "dedup.ids"));
    g->txn = calloc(g->txn_cap, sizeof(*g->txn));
    g->acks = calloc(ACK_RING, sizeof(*g->acks));
    if (!g->ids || !g->txn || !g->acks) {
        np_error("out_of_memory", "what=gateway_state");
        return 1;
    }
    register_metrics(g);

    char err[512];
    if (webhook_start(&hook, &g->proc, g->topic, err, sizeof(err)) < 0) {
        np_proc_fatal_config(err);
        return 2;
    }
    if (!(g->rk = producer_new(g, err, sizeof(err)))) {
        np_proc_fatal_config(err);
        webhook_stop(&hook);
        return 2;
    }
    if (live_start(&g->live, &g->proc, err, sizeof(err)) < 0) {
        np_proc_fatal_config(err);
        webhook_stop(&hook);
        return 2;
    }
    if (np_proc_http_start(&g->proc, health, live_route, g) < 0) return 1;
    rc = 1;
    if (g->transactional && txn_init(g) < 0) goto out;
    /* Only after the ids already in Kafka are known may results be accepted. */
    if (load_published(g, err, sizeof(err)) < 0) {
        if (!np_proc_stopping()) np_error("published_ids_load_failed", "error=\"%s\"", err);
        goto out;
    }
    g->kafka_ok = 1;
    g->ready = 1;

    g->zctx = zmq_ctx_new();
    g->zsock = zmq_socket(g->zctx, ZMQ_ROUTER);
    int linger = 1000;
    zmq_setsockopt(g->zsock, ZMQ_LINGER, &linger, sizeof(linger));
    const char *bind = np_config_str(c, "bind");
    {
        char zerr[320];
        if ((g->zc.curve && !(g->zap = np_zsock_zap_start(g->zctx, &g->zc, g->m_refused, zerr, sizeof(zerr)))) ||
            np_zsock_setup(&g->zc, g->zsock, true, bind, zerr, sizeof(zerr)) < 0) {
            np_proc_fatal_config(zerr);
            rc = 2;
            goto out;
        }
    }
    if (zmq_bind(g->zsock, bind) != 0) {
        char why[256];
        snprintf(why, sizeof(why), "bind: cannot bind '%s': %s", bind, zmq_strerror(errno));
        np_proc_fatal_config(why);
        rc = 2;
        goto out;
    }
    np_info("started", "bind=%s topic=%s transactional_id=%s", bind, g->topic, g->transactional ? g->txn_id : "");

    zmq_pollitem_t item = {g->zsock, 0, ZMQ_POLLIN, 0};
    while (!np_proc_stopping() && !g->fatal) {
        int64_t now = np_clock_mono_ms(), wait = 20;
        if (g->txn_open && g->txn_deadline - now < wait) wait = g->txn_deadline - now;
        if (g->acks_len && g->acks[g->acks_head].due - now < wait) wait = g->acks[g->acks_head].due - now;
        zmq_poll(&item, 1, wait > 0 ? (long)wait : 0);
        recv_coordinator(g);
        rd_kafka_poll(g->rk, 0);
        now = np_clock_mono_ms();
        if (g->txn_open && now >= g->txn_deadline) txn_commit(g);
        acks_send_due(g, now, false);
        np_gauge_set(g->m_inflight, g->inflight);
    }
    np_info("stopping", "inflight=%" PRId64 " open_transaction_results=%zu fatal=%d", g->inflight,
            g->txn_open ? g->txn_len : 0, g->fatal);
    if (!g->fatal) {
        if (g->transactional)
            txn_commit(g);
        else
            rd_kafka_flush(g->rk, 10000); /* delivery reports (and acks) for what is in flight */
    }
    acks_send_due(g, 0, true); /* what is in Kafka is acknowledged, also after a fatal error */
    rc = g->fatal ? 1 : 0;
out:
    live_stop(&g->live);
    webhook_stop(&hook);
    if (rc == 1 && !g->fatal && np_proc_stopping()) rc = 0; /* asked to stop while starting */
    rd_kafka_destroy(g->rk);
    if (g->zsock) zmq_close(g->zsock);
    np_zsock_zap_stop(&g->zap);
    if (g->zctx) zmq_ctx_term(g->zctx);
    np_zsock_cfg_free(&g->zc);
    np_idset_destroy(&g->ids);
    free(g->txn);
    free(g->acks);
    np_info("stopped", "topic=%s status=%d", g->topic, rc);
    np_proc_fini(&g->proc);
    return rc;
}
