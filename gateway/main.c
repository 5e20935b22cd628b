/*
 * netpulse-gateway: publishes the coordinator's results to the Kafka topic
 * `processed-data` (key = result id, value = the JSON) with librdkafka's idempotent
 * producer, acknowledges each result to the coordinator once Kafka has it, and serves
 * Prometheus /metrics and /healthz.
 *
 * Repeats: the coordinator re-sends results it has no acknowledgement for; the gateway
 * remembers the ids it published (bounded set, oldest forgotten first) and acknowledges a
 * repeat without publishing it again.
 *
 * Threads: the main loop owns ZeroMQ and the producer (delivery reports run inside
 * rd_kafka_poll on this thread); libmicrohttpd serves HTTP from atomics.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "netpulse.pb-c.h"
#include "np_clock.h"
#include "np_kafka.h"
#include "np_partial.h"
#include "np_proc.h"

#define ID_MAX 64
#define PEER_MAX 256

static const np_opt_t gw_opts[] = {
    NP_OPTS_COMMON,
    NP_OPTS_KAFKA,
    {"bind", NP_OPT_STR, "tcp://127.0.0.1:5556", 0, 0, NULL, "ZeroMQ endpoint the coordinator connects to"},
    {"output.topic", NP_OPT_STR, "processed-data", 0, 0, NULL, "Topic results are published to"},
    {"dedup.ids", NP_OPT_INT, "65536", 1024, 16777216, NULL,
     "Published result ids remembered to drop repeats (bounded; oldest forgotten first)"},
};

/* One result in flight: who to acknowledge once Kafka has it. */
typedef struct inflight {
    char id[ID_MAX];
    uint8_t peer[PEER_MAX];
    size_t peer_len;
    char type[16];
} inflight_t;

typedef struct gateway {
    np_proc_t proc;
    const char *topic;
    rd_kafka_t *rk;
    void *zctx, *zsock;
    /* Recently published ids: open-addressing set + FIFO ring for eviction. */
    size_t *slot_of;      /* ring position -> set slot */
    char (*set)[ID_MAX];
    size_t ids_cap, set_cap, ring_head, ring_len;
    np_counter_t *m_published, *m_dups, *m_errors, *m_received, *m_decode_err, *m_pub_bytes;
    np_gauge_t *m_inflight, *m_last_publish;
    int64_t inflight;
    _Atomic int kafka_ok;
} gateway_t;

static gateway_t G;

/* ---- published-id set -------------------------------------------------------------- */

static uint64_t str_hash(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a: ids are short */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

static size_t set_find(gateway_t *g, const char *id) {
    size_t i = (size_t)str_hash(id) & (g->set_cap - 1);
    while (g->set[i][0] && strcmp(g->set[i], id) != 0) i = (i + 1) & (g->set_cap - 1);
    return i;
}

static bool seen(gateway_t *g, const char *id) { return g->set[set_find(g, id)][0] != '\0'; }

/* Removes slot i from the linear-probing set, re-placing the cluster after it. */
static void set_remove_slot(gateway_t *g, size_t i) {
    g->set[i][0] = '\0';
    size_t j = (i + 1) & (g->set_cap - 1);
    while (g->set[j][0]) {
        char tmp[ID_MAX];
        memcpy(tmp, g->set[j], ID_MAX);
        g->set[j][0] = '\0';
        size_t k = set_find(g, tmp);
        memcpy(g->set[k], tmp, ID_MAX);
        /* keep the ring's slot index current */
        for (size_t r = 0; r < g->ring_len; r++) {
            size_t pos = (g->ring_head + r) % g->ids_cap;
            if (g->slot_of[pos] == j) {
                g->slot_of[pos] = k;
                break;
            }
        }
        j = (j + 1) & (g->set_cap - 1);
    }
}

static void remember(gateway_t *g, const char *id) {
    if (seen(g, id)) return;
    if (g->ring_len == g->ids_cap) { /* forget the oldest */
        set_remove_slot(g, g->slot_of[g->ring_head]);
        g->ring_head = (g->ring_head + 1) % g->ids_cap;
        g->ring_len--;
    }
    size_t s = set_find(g, id);
    snprintf(g->set[s], ID_MAX, "%s", id);
    g->slot_of[(g->ring_head + g->ring_len) % g->ids_cap] = s;
    g->ring_len++;
}

/* ---- acknowledgements -------------------------------------------------------------- */

static void ack(gateway_t *g, const uint8_t *peer, size_t peer_len, const char *id) {
    Netpulse__ResultAck a = NETPULSE__RESULT_ACK__INIT;
    char *ids[1] = {(char *)id};
    a.version = NP_WIRE_VERSION;
    a.n_ids = 1;
    a.ids = ids;
    uint8_t buf[ID_MAX + 32];
    size_t len = netpulse__result_ack__pack(&a, buf);
    if (zmq_send(g->zsock, peer, peer_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
        zmq_send(g->zsock, buf, len, ZMQ_DONTWAIT);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    gateway_t *g = opaque;
    inflight_t *f = m->_private;
    (void)rk;
    g->inflight--;
    if (m->err) {
        /* Not acknowledged: the coordinator re-sends it. */
        np_counter_inc(g->m_errors);
        np_warn("publish_failed", "id=%s error=\"%s\"", f->id, rd_kafka_err2str(m->err));
    } else {
        remember(g, f->id);
        np_counter_inc(g->m_published);
        np_counter_add(g->m_pub_bytes, m->len);
        np_gauge_set(g->m_last_publish, np_clock_wall_ms(NULL));
        g->kafka_ok = 1;
        ack(g, f->peer, f->peer_len, f->id);
    }
    free(f);
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
    for (size_t i = 0; i < b->n_results; i++) {
        const Netpulse__Result *r = b->results[i];
        np_counter_inc(g->m_received);
        if (strlen(r->id) >= ID_MAX) {
            np_counter_inc(g->m_decode_err);
            np_log_rl(&rl, NP_LOG_ERROR, "result_id_too_long", "len=%zu", strlen(r->id));
            continue;
        }
        if (seen(g, r->id)) {
            np_counter_inc(g->m_dups);
            ack(g, peer, peer_len, r->id);
            continue;
        }
        inflight_t *f = calloc(1, sizeof(*f));
        if (!f) continue; /* not acknowledged: re-sent later */
        snprintf(f->id, sizeof(f->id), "%s", r->id);
        snprintf(f->type, sizeof(f->type), "%s", r->type);
        memcpy(f->peer, peer, peer_len);
        f->peer_len = peer_len;
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_producev(g->rk, RD_KAFKA_V_TOPIC(g->topic), RD_KAFKA_V_KEY(r->id, strlen(r->id)),
                                        RD_KAFKA_V_VALUE(r->json.data, r->json.len),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(f),
                                        RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(g->rk, 50);
        if (err) {
            np_counter_inc(g->m_errors);
            np_log_rl(&rl, NP_LOG_ERROR, "produce_failed", "id=%s error=\"%s\"", r->id, rd_kafka_err2str(err));
            free(f);
            continue;
        }
        g->inflight++;
    }
    netpulse__result_batch__free_unpacked(b, NULL);
}

static void recv_coordinator(gateway_t *g) {
    for (int n = 0; n < 1000; n++) {
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

/* ---- set-up ------------------------------------------------------------------------ */

static int health(void *ctx, char *buf, size_t len) {
    gateway_t *g = ctx;
    if (!g->kafka_ok) {
        snprintf(buf, len, "kafka: not connected");
        return 1;
    }
    return 0;
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    gateway_t *g = opaque;
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) g->kafka_ok = 0;
    np_warn("kafka_error", "error=%s reason=\"%s\"", rd_kafka_err2name(err), reason);
}

static size_t pow2_at_least(size_t n) {
    size_t p = 1;
    while (p < n) p <<= 1;
    return p;
}

int main(int argc, char **argv) {
    gateway_t *g = &G;
    int rc = np_proc_init(&g->proc, "netpulse-gateway",
                          "Publishes netpulse results to Kafka (processed-data) and serves metrics.",
                          gw_opts, sizeof(gw_opts) / sizeof(gw_opts[0]), argc, argv);
    if (rc) return rc == 1 ? 0 : 2;
    np_config_t *c = g->proc.cfg;
    g->topic = np_config_str(c, "output.topic");
    g->ids_cap = (size_t)np_config_int(c, "dedup.ids");
    g->set_cap = pow2_at_least(g->ids_cap * 2);
    g->slot_of = calloc(g->ids_cap, sizeof(*g->slot_of));
    g->set = calloc(g->set_cap, ID_MAX);
    if (!g->slot_of || !g->set) {
        np_error("out_of_memory", "what=dedup_set");
        return 1;
    }
    np_metrics_t *m = g->proc.metrics;
    g->m_received = np_metrics_counter(m, "netpulse_gateway_results_received_total", "Results received from the coordinator", NULL);
    g->m_published = np_metrics_counter(m, "netpulse_gateway_results_published_total", "Results delivered to the output topic", NULL);
    g->m_pub_bytes = np_metrics_counter(m, "netpulse_gateway_published_bytes_total", "Bytes of results delivered", NULL);
    g->m_dups = np_metrics_counter(m, "netpulse_gateway_results_duplicate_total", "Repeated results acknowledged without publishing", NULL);
    g->m_errors = np_metrics_counter(m, "netpulse_gateway_publish_errors_total", "Results Kafka did not take (re-sent by the coordinator)", NULL);
    g->m_decode_err = np_metrics_counter(m, "netpulse_gateway_messages_invalid_total", "Undecodable messages from the coordinator", NULL);
    g->m_inflight = np_metrics_gauge(m, "netpulse_gateway_inflight_results", "Results produced, not yet delivered", NULL);
    g->m_last_publish = np_metrics_gauge(m, "netpulse_gateway_last_publish_timestamp_ms", "Wall time of the last delivery", NULL);

    char err[512];
    rd_kafka_conf_t *conf = np_kafka_conf_new(c, "netpulse-gateway", err, sizeof(err));
    if (!conf || np_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err)) ||
        np_kafka_conf_set(conf, "linger.ms", "5", err, sizeof(err))) {
        np_proc_fatal_config(err);
        return 2;
    }
    for (size_t i = 0; i < np_config_kafka_count(c); i++) { /* operators' -X win */
        const char *k, *v;
        np_config_kafka_get(c, i, &k, &v);
        if (np_kafka_conf_set(conf, k, v, err, sizeof(err))) {
            np_proc_fatal_config(err);
            return 2;
        }
    }
    rd_kafka_conf_set_opaque(conf, g);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    g->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!g->rk) {
        np_proc_fatal_config(err);
        return 2;
    }
    const struct rd_kafka_metadata *md;
    if (rd_kafka_metadata(g->rk, 1, NULL, &md, 15000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        g->kafka_ok = 1;
        rd_kafka_metadata_destroy(md);
    } else {
        np_warn("kafka_unreachable", "brokers=%s", np_config_str(c, "brokers"));
    }
    if (np_proc_http_start(&g->proc, health, NULL, g) < 0) return 1;

    g->zctx = zmq_ctx_new();
    g->zsock = zmq_socket(g->zctx, ZMQ_ROUTER);
    int linger = 1000;
    zmq_setsockopt(g->zsock, ZMQ_LINGER, &linger, sizeof(linger));
    const char *bind = np_config_str(c, "bind");
    if (zmq_bind(g->zsock, bind) != 0) {
        char why[256];
        snprintf(why, sizeof(why), "bind: cannot bind '%s': %s", bind, zmq_strerror(errno));
        np_proc_fatal_config(why);
        return 2;
    }
    np_info("started", "bind=%s topic=%s", bind, g->topic);

    zmq_pollitem_t item = {g->zsock, 0, ZMQ_POLLIN, 0};
    while (!np_proc_stopping()) {
        zmq_poll(&item, 1, 20);
        recv_coordinator(g);
        rd_kafka_poll(g->rk, 0);
        np_gauge_set(g->m_inflight, g->inflight);
    }
    np_info("stopping", "inflight=%" PRId64, g->inflight);
    rd_kafka_flush(g->rk, 10000); /* delivery reports (and acks) for what is in flight */
    rd_kafka_destroy(g->rk);
    zmq_close(g->zsock);
    zmq_ctx_term(g->zctx);
    free(g->slot_of);
    free(g->set);
    np_info("stopped", "topic=%s", g->topic);
    np_proc_fini(&g->proc);
    return 0;
}
