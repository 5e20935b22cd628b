/*
 * np_kdd_stream: the worker's consumer of connection records, classified and counted.
 * See np_kdd_stream.h.
 */
#include "np_kdd_stream.h"

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_kafka.h"
#include "np_log.h"

static volatile sig_atomic_t reload_requested;

static void on_sighup(int sig)
{
    (void)sig;
    reload_requested = 1;
}

struct np_kdd_stream {
    char            *path;
    np_kdd_model_t  *model;
    rd_kafka_t      *rk;
    uint64_t         counts[NP_KDD_NCLASSES];
    np_counter_t    *m_class[NP_KDD_NCLASSES], *m_invalid, *m_reload_ok, *m_reload_err;
    np_infoset_t    *m_info;
    np_log_rl_t      rl;
};

static void publish_version(np_kdd_stream_t *s)
{
    if (!s->m_info)
        return;
    const char *names[] = {"version"}, *values[] = {np_kdd_model_version(s->model)};
    np_infoset_set(s->m_info, 0, names, values, 1, 1000);
}

static void register_metrics(np_kdd_stream_t *s, np_metrics_t *reg)
{
    if (!reg)
        return;
    for (int c = 0; c < NP_KDD_NCLASSES; c++) {
        char l[64];
        snprintf(l, sizeof l, "class=\"%s\"", np_kdd_class_name(c));
        s->m_class[c] = np_metrics_counter(reg, "netpulse_worker_connections_classified_total",
                                           "Connection records classified, by class", l);
    }
    s->m_invalid = np_metrics_counter(reg, "netpulse_worker_connections_invalid_total",
                                      "Connection records that could not be decoded", NULL);
    s->m_reload_ok = np_metrics_counter(reg, "netpulse_worker_kdd_model_reloads_total",
                                        "Model reloads (SIGHUP), by result", "result=\"ok\"");
    s->m_reload_err = np_metrics_counter(reg, "netpulse_worker_kdd_model_reloads_total",
                                         "Model reloads (SIGHUP), by result", "result=\"error\"");
    s->m_info = np_metrics_infoset(reg, "netpulse_worker_kdd_model_info",
                                   "The loaded intrusion model (value 1)", 1);
}

np_kdd_stream_t *np_kdd_stream_new(const char *model_path, np_metrics_t *reg, char *errstr,
                                   size_t errlen)
{
    np_kdd_stream_t *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(model_path))) {
        free(s);
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    if (np_kdd_model_load(model_path, &s->model, errstr, errlen) != 0) {
        np_kdd_stream_destroy(&s);
        return NULL;
    }
    register_metrics(s, reg);
    publish_version(s);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sighup;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    return s;
}

int np_kdd_stream_subscribe(np_kdd_stream_t *s, const np_config_t *cfg, const char *topic,
                            const char *group, char *errstr, size_t errlen)
{
    char g[256];
    snprintf(g, sizeof g, "%s-connections", group);
    const char *const defaults[] = {"group.id", g, "auto.offset.reset", "earliest",
                                    "enable.auto.commit", "true", NULL};
    rd_kafka_conf_t *conf = np_kafka_conf_new_with(cfg, "netpulse-worker-kdd", defaults, errstr,
                                                   errlen);
    if (!conf)
        return -1;
    if (!(s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errlen))) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_poll_set_consumer(s->rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(s->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err) {
        snprintf(errstr, errlen, "subscribe %s: %s", topic, rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

int np_kdd_stream_handle(np_kdd_stream_t *s, const char *val, size_t len)
{
    np_kdd_conn_t c;
    char          err[128];
    if (np_kdd_conn_parse(val, len, &c, err, sizeof err) != 0) {
        if (s->m_invalid)
            np_counter_inc(s->m_invalid);
        np_log_rl(&s->rl, NP_LOG_WARN, "connection_invalid", "detail=\"%s\"", err);
        return -1;
    }
    int cls = np_kdd_model_classify(s->model, &c, NULL);
    s->counts[cls]++;
    if (s->m_class[cls])
        np_counter_inc(s->m_class[cls]);
    return cls;
}

int np_kdd_stream_reload(np_kdd_stream_t *s, char *errstr, size_t errlen)
{
    np_kdd_model_t *m = NULL;
    if (np_kdd_model_load(s->path, &m, errstr, errlen) != 0) {
        if (s->m_reload_err)
            np_counter_inc(s->m_reload_err);
        np_error("kdd_model_reload_failed", "error=\"%s\" kept=%s", errstr,
                 np_kdd_model_version(s->model));
        return -1;
    }
    np_info("kdd_model_reloaded", "path=%s old=%s new=%s", s->path,
            np_kdd_model_version(s->model), np_kdd_model_version(m));
    np_kdd_model_destroy(&s->model);
    s->model = m;
    publish_version(s);
    if (s->m_reload_ok)
        np_counter_inc(s->m_reload_ok);
    return 0;
}

int np_kdd_stream_poll(np_kdd_stream_t *s, int max)
{
    if (reload_requested) {
        reload_requested = 0;
        char err[512];
        np_kdd_stream_reload(s, err, sizeof err);
    }
    int n = 0;
    while (s->rk && n < max) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, 0);
        if (!m)
            break;
        if (!m->err) {
            np_kdd_stream_handle(s, m->payload, m->len);
            n++;
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            np_log_rl(&s->rl, NP_LOG_WARN, "connections_consume_error", "error=\"%s\"",
                      rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
    return n;
}

const uint64_t *np_kdd_stream_counts(const np_kdd_stream_t *s) { return s->counts; }

const char *np_kdd_stream_model_version(const np_kdd_stream_t *s)
{
    return np_kdd_model_version(s->model);
}

void np_kdd_stream_destroy(np_kdd_stream_t **sp)
{
    if (!sp || !*sp)
        return;
    np_kdd_stream_t *s = *sp;
    if (s->rk) {
        rd_kafka_consumer_close(s->rk);
        rd_kafka_destroy(s->rk);
    }
    np_kdd_model_destroy(&s->model);
    free(s->path);
    free(s);
    *sp = NULL;
}
