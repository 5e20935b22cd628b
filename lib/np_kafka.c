/* np_kafka: librdkafka configuration and the dead-letter producer. See np_kafka.h. */
#include "np_kafka.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "np_clock.h"
#include "np_dlqseen.h"
#include "np_log.h"

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    np_log_level_t l = level <= 3 ? NP_LOG_ERROR : level <= 4 ? NP_LOG_WARN : level <= 6 ? NP_LOG_INFO : NP_LOG_DEBUG;
    np_log(l, "librdkafka", "facility=%s msg=\"%s\"", fac, buf);
}

int np_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *val, char *errstr,
                      size_t errlen) {
    char why[256];
    if (rd_kafka_conf_set(conf, key, val, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, errlen, "librdkafka property %s: %s", key, why);
        return -1;
    }
    return 0;
}

rd_kafka_conf_t *np_kafka_conf_new(const np_config_t *cfg, const char *client_id, char *errstr,
                                   size_t errlen) {
    return np_kafka_conf_new_with(cfg, client_id, NULL, errstr, errlen);
}

rd_kafka_conf_t *np_kafka_conf_new_with(const np_config_t *cfg, const char *client_id,
                                        const char *const *defaults, char *errstr, size_t errlen) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, log_cb);
    if (np_kafka_conf_set(conf, "bootstrap.servers", np_config_str(cfg, "brokers"), errstr, errlen) < 0 ||
        np_kafka_conf_set(conf, "client.id", client_id, errstr, errlen) < 0)
        goto err;
    for (size_t i = 0; defaults && defaults[i] && defaults[i + 1]; i += 2)
        if (np_kafka_conf_set(conf, defaults[i], defaults[i + 1], errstr, errlen) < 0) goto err;
    for (size_t i = 0; i < np_config_kafka_count(cfg); i++) {
        const char *k, *v;
        np_config_kafka_get(cfg, i, &k, &v);
        if (np_kafka_conf_set(conf, k, v, errstr, errlen) < 0) goto err;
    }
    return conf;
err:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

rd_kafka_resp_err_t np_dlq_produce(rd_kafka_t *rk, const char *dlq_topic, const void *key,
                                   size_t key_len, const void *val, size_t val_len,
                                   const np_dlq_info_t *info) {
    char part[16], off[24], pane[24], vbytes[24];
    snprintf(part, sizeof(part), "%" PRId32, info->src_partition);
    snprintf(off, sizeof(off), "%" PRId64, info->src_offset);
    rd_kafka_headers_t *h = rd_kafka_headers_new(7);
    rd_kafka_header_add(h, "netpulse.reason", -1, info->reason, -1);
    rd_kafka_header_add(h, "netpulse.detail", -1, info->detail ? info->detail : "", -1);
    rd_kafka_header_add(h, "netpulse.source.topic", -1, info->src_topic, -1);
    rd_kafka_header_add(h, "netpulse.source.partition", -1, part, -1);
    rd_kafka_header_add(h, "netpulse.source.offset", -1, off, -1);
    if (info->pane_start_ms != INT64_MIN) {
        snprintf(pane, sizeof(pane), "%" PRId64, info->pane_start_ms);
        rd_kafka_header_add(h, "netpulse.pane.start", -1, pane, -1);
    }
    if (info->value_bytes > 0) {
        snprintf(vbytes, sizeof(vbytes), "%" PRId64, info->value_bytes);
        rd_kafka_header_add(h, "netpulse.value.bytes", -1, vbytes, -1);
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(dlq_topic), RD_KAFKA_V_PARTITION(info->dlq_partition), RD_KAFKA_V_OPAQUE(info->opaque),
        RD_KAFKA_V_KEY(key, key_len),
        RD_KAFKA_V_VALUE((void *)val, val_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
    if (err) rd_kafka_headers_destroy(h); /* ownership passes to librdkafka only on success */
    return err;
}

/* A header's value, or NULL with *len 0. */
static const char *header(rd_kafka_headers_t *h, const char *name, size_t *len) {
    const void *v = NULL;
    if (!h || rd_kafka_header_get_last(h, name, &v, len) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        *len = 0;
        return NULL;
    }
    return v;
}

/* Polls rk until the message before `end` was read; returns the dead letters read or -1. */
static int dlq_read(rd_kafka_t *rk, int64_t end, const char *src_topic, int32_t src_partition, int64_t min_offset,
                    np_dlqseen_t *seen, int64_t deadline, char *errstr, size_t errlen) {
    int got = 0;
    for (int64_t last = -1; last < end - 1;) {
        int64_t left = deadline - np_clock_mono_ms();
        if (left <= 0) {
            snprintf(errstr, errlen, "timed out at DLQ offset %lld of %lld", (long long)last + 1, (long long)end);
            return -1;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, (int)(left < 100 ? left : 100));
        if (!m) continue;
        if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            snprintf(errstr, errlen, "%s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            return -1;
        }
        if (m->err) { /* PARTITION_EOF: m->offset is the end then */
            if (m->offset >= end) last = end - 1;
        } else {
            rd_kafka_headers_t *h = NULL;
            rd_kafka_message_headers(m, &h);
            size_t tl, pl, ol;
            const char *t = header(h, "netpulse.source.topic", &tl), *p = header(h, "netpulse.source.partition", &pl),
                       *o = header(h, "netpulse.source.offset", &ol);
            np_dlqseen_add(seen, src_topic, src_partition, min_offset, t, tl, p, pl, o, ol);
            got++;
            last = m->offset;
        }
        rd_kafka_message_destroy(m);
    }
    return got;
}

int np_kafka_dlq_scan(rd_kafka_t *rk, const char *dlq_topic, int32_t dlq_partition, int64_t from,
                      const char *src_topic, int32_t src_partition, int64_t min_offset, np_dlqseen_t *seen,
                      int timeout_ms, char *errstr, size_t errlen) {
    int64_t deadline = np_clock_mono_ms() + timeout_ms, lo = -1, end = -1;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, dlq_topic, dlq_partition, &lo, &end, timeout_ms);
    if (e) {
        snprintf(errstr, errlen, "DLQ end: %s", rd_kafka_err2str(e));
        np_dlqseen_seal(seen, -1);
        return -1;
    }
    if (from < lo) from = lo; /* deleted by retention: nothing to find there */
    int got = 0;
    if (seen->from >= 0 && from < end) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, dlq_topic, dlq_partition)->offset = from;
        e = rd_kafka_assign(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        if (e) {
            snprintf(errstr, errlen, "assign: %s", rd_kafka_err2str(e));
            got = -1;
        } else {
            got = dlq_read(rk, end, src_topic, src_partition, min_offset, seen, deadline, errstr, errlen);
        }
        rd_kafka_assign(rk, NULL);
    }
    np_dlqseen_seal(seen, got < 0 ? -1 : end);
    return got;
}

int64_t np_kafka_lag(int64_t hi, int64_t lo, int64_t position, int64_t next_offset) {
    if (hi < 0) return -1;
    int64_t pos = position >= 0 ? position : next_offset >= 0 ? next_offset : lo >= 0 ? lo : 0;
    return hi > pos ? hi - pos : 0;
}

int np_kafka_log_ends(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts, int64_t *ends, int timeout_ms) {
    for (int i = 0; i < parts->cnt; i++) parts->elems[i].offset = RD_KAFKA_OFFSET_END; /* the "latest" timestamp */
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, parts, timeout_ms);
    for (int i = 0; i < parts->cnt; i++)
        ends[i] = !e && !parts->elems[i].err && parts->elems[i].offset >= 0 ? parts->elems[i].offset : -1;
    return e ? -1 : 0;
}

int64_t np_kafka_consumer_lag(rd_kafka_t *rk, const char *topic, int32_t partition, int64_t next_offset,
                              int query_timeout_ms) {
    int64_t lo = -1, hi = -1;
    rd_kafka_resp_err_t e;
    if (query_timeout_ms > 0)
        e = rd_kafka_query_watermark_offsets(rk, topic, partition, &lo, &hi, query_timeout_ms);
    else
        e = rd_kafka_get_watermark_offsets(rk, topic, partition, &lo, &hi);
    if (e) return -1;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, topic, partition);
    int64_t pos = rd_kafka_position(rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR && !tp->err ? tp->offset : -1;
    rd_kafka_topic_partition_list_destroy(l);
    return np_kafka_lag(hi, lo, pos, next_offset);
}

rd_kafka_resp_err_t np_kafka_commit_bounded(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *offsets,
                                            int timeout_ms) {
    /* The event API (no callback, no opaque): an answer arriving after the timeout is
     * purged with the queue and touches nothing of ours. */
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    if (!q) return RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE;
    rd_kafka_resp_err_t err = rd_kafka_commit_queue(rk, offsets, q, NULL, NULL);
    bool answered = false;
    int64_t deadline = np_clock_mono_ms() + timeout_ms;
    for (int64_t left = timeout_ms; !err && !answered && left > 0; left = deadline - np_clock_mono_ms()) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, (int)(left < 100 ? left : 100));
        if (ev && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_OFFSET_COMMIT) {
            err = rd_kafka_event_error(ev);
            answered = true;
        }
        if (ev) rd_kafka_event_destroy(ev);
    }
    if (!err && !answered) err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    rd_kafka_queue_destroy(q);
    return err;
}

int np_kafka_resume_skips_history(rd_kafka_t *rk, const char *topic, int32_t partition, int timeout_ms) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, topic, partition);
    rd_kafka_resp_err_t err = rd_kafka_committed(rk, l, timeout_ms);
    int64_t committed = err || tp->err ? -2 : tp->offset;
    rd_kafka_topic_partition_list_destroy(l);
    if (committed == -2) return -1;
    if (committed < 0) return 0; /* RD_KAFKA_OFFSET_INVALID: nothing committed */
    int64_t lo = -1, hi = -1;
    if (rd_kafka_query_watermark_offsets(rk, topic, partition, &lo, &hi, timeout_ms)) return -1;
    return committed > lo ? 1 : 0;
}

int np_kafka_rebalance_apply(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *parts, bool add,
                             bool *cooperative, char *errstr, size_t errlen) {
    /* NULL (group terminated) or "NONE" (no generation joined) say nothing about the
     * protocol: the last one seen still holds for the partitions it assigned. */
    const char *proto = rd_kafka_rebalance_protocol(rk);
    if (proto && strcmp(proto, "COOPERATIVE") == 0) *cooperative = true;
    else if (proto && strcmp(proto, "EAGER") == 0) *cooperative = false;
    if (*cooperative) {
        rd_kafka_error_t *e =
            add ? rd_kafka_incremental_assign(rk, parts) : rd_kafka_incremental_unassign(rk, parts);
        if (!e) return 0;
        snprintf(errstr, errlen, "%s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return -1;
    }
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, add ? parts : NULL);
    if (!e) return 0;
    snprintf(errstr, errlen, "%s", rd_kafka_err2str(e));
    return -1;
}
