/* webhook: at-least-once HTTP sink for results. See webhook.h. */
#include "webhook.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "np_clock.h"
#include "np_kafka.h"

#define TYPES_MAX 8

struct webhook {
    pthread_t thread;
    atomic_int stop;
    rd_kafka_t *rk;
    CURL *curl;
    struct curl_slist *headers; /* fixed headers; Idempotency-Key is added per POST */
    const char *url;
    char types[TYPES_MAX][16];
    size_t ntypes;
    long timeout_ms;
    int64_t backoff_max_ms;
    np_counter_t *m_delivered, *m_failures, *m_rejected, *m_skipped;
    np_gauge_t *m_last;
};

/* The value's "type" (our results begin {"type":"...") is one of the chosen types. */
static bool wanted(const webhook_t *w, const char *v, size_t len) {
    static const char pre[] = "{\"type\":\"";
    if (len < sizeof(pre) || memcmp(v, pre, sizeof(pre) - 1) != 0) return false;
    const char *t = v + sizeof(pre) - 1, *q = memchr(t, '"', len - (sizeof(pre) - 1));
    if (!q) return false;
    for (size_t i = 0; i < w->ntypes; i++)
        if (strlen(w->types[i]) == (size_t)(q - t) && memcmp(w->types[i], t, (size_t)(q - t)) == 0) return true;
    return false;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx) {
    (void)p, (void)ctx;
    return size * n;
}

typedef enum { POST_OK, POST_RETRY, POST_REJECTED } post_result_t;

static post_result_t post(webhook_t *w, const rd_kafka_message_t *m, long *status, char *err, size_t errlen) {
    char idem[160];
    snprintf(idem, sizeof(idem), "Idempotency-Key: %.*s", (int)(m->key_len < 120 ? m->key_len : 120),
             m->key ? (const char *)m->key : "");
    struct curl_slist *h = curl_slist_append(NULL, idem);
    for (struct curl_slist *s = w->headers; s && h; s = s->next) h = curl_slist_append(h, s->data);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return POST_RETRY;
    }
    curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, (const char *)m->payload);
    curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)m->len);
    CURLcode rc = curl_easy_perform(w->curl);
    curl_slist_free_all(h);
    *status = 0;
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", curl_easy_strerror(rc));
        return POST_RETRY;
    }
    curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, status);
    snprintf(err, errlen, "HTTP %ld", *status);
    if (*status >= 200 && *status < 300) return POST_OK;
    /* Other 4xx: the receiver refuses this body; retrying would block the sink for good. */
    if (*status >= 400 && *status < 500 && *status != 408 && *status != 429) return POST_REJECTED;
    return POST_RETRY;
}

static void sleep_ms(int64_t ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* POSTs m until it is delivered or refused (true: its offset may be stored), or until the
 * sink stops (false: it is delivered again after the restart). */
static bool deliver(webhook_t *w, const rd_kafka_message_t *m) {
    static np_log_rl_t rl = NP_LOG_RL_INIT;
    int64_t backoff = 100;
    for (;;) {
        long status;
        char err[256];
        post_result_t r = post(w, m, &status, err, sizeof(err));
        if (r == POST_OK) {
            np_counter_inc(w->m_delivered);
            np_gauge_set(w->m_last, np_clock_wall_ms(NULL));
            return true;
        }
        if (r == POST_REJECTED) {
            np_counter_inc(w->m_rejected);
            np_log_rl(&rl, NP_LOG_ERROR, "webhook_rejected", "id=%.*s status=%ld", (int)m->key_len,
                      (const char *)m->key, status);
            return true;
        }
        np_counter_inc(w->m_failures);
        np_log_rl(&rl, NP_LOG_WARN, "webhook_post_failed", "id=%.*s error=\"%s\" retry_in_ms=%" PRId64,
                  (int)m->key_len, (const char *)m->key, err, backoff);
        for (int64_t waited = 0; waited < backoff; waited += 50) {
            if (atomic_load(&w->stop)) return false;
            sleep_ms(50);
        }
        backoff = backoff * 2 > w->backoff_max_ms ? w->backoff_max_ms : backoff * 2;
    }
}

static void *run(void *arg) {
    webhook_t *w = arg;
    static np_log_rl_t rl = NP_LOG_RL_INIT;
    while (!atomic_load(&w->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(w->rk, 200);
        if (!m) continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                np_log_rl(&rl, NP_LOG_WARN, "webhook_consume_error", "error=\"%s\"", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        bool done = true;
        if (m->payload && wanted(w, m->payload, m->len))
            done = deliver(w, m);
        else
            np_counter_inc(w->m_skipped);
        if (done) rd_kafka_offset_store(m->rkt, m->partition, m->offset);
        rd_kafka_message_destroy(m);
    }
    return NULL;
}

static int parse_types(webhook_t *w, const char *s, char *err, size_t errlen) {
    while (s && *s) {
        const char *c = strchr(s, ',');
        size_t n = c ? (size_t)(c - s) : strlen(s);
        while (n && *s == ' ') s++, n--;
        while (n && s[n - 1] == ' ') n--;
        if (n) {
            if (w->ntypes == TYPES_MAX || n >= sizeof(w->types[0])) {
                snprintf(err, errlen, "webhook.types: at most %d types of up to 15 characters", TYPES_MAX);
                return -1;
            }
            memcpy(w->types[w->ntypes++], s, n);
        }
        s = c ? c + 1 : NULL;
    }
    if (w->ntypes == 0) {
        snprintf(err, errlen, "webhook.types: empty");
        return -1;
    }
    return 0;
}

int webhook_start(webhook_t **out, np_proc_t *proc, const char *topic, char *err, size_t errlen) {
    np_config_t *c = proc->cfg;
    *out = NULL;
    const char *url = np_config_str(c, "webhook.url");
    if (!url || !*url) return 0;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(err, errlen, "webhook.url: '%s' is not an http:// or https:// URL", url);
        return -1;
    }
    webhook_t *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->url = url;
    w->timeout_ms = (long)np_config_int(c, "webhook.timeout.ms");
    w->backoff_max_ms = np_config_int(c, "webhook.backoff.max.ms");
    if (parse_types(w, np_config_str(c, "webhook.types"), err, errlen) < 0) goto fail;
    const char *extra = np_config_str(c, "webhook.header");
    w->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (extra && *extra) {
        if (!strchr(extra, ':') || strpbrk(extra, "\r\n")) {
            snprintf(err, errlen, "webhook.header: expected 'Name: value' on one line");
            goto fail;
        }
        w->headers = curl_slist_append(w->headers, extra);
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(w->curl = curl_easy_init()) || !w->headers) {
        snprintf(err, errlen, "webhook: libcurl could not start");
        goto fail;
    }
    curl_easy_setopt(w->curl, CURLOPT_URL, url);
    curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, w->timeout_ms);
    curl_easy_setopt(w->curl, CURLOPT_USERAGENT, "netpulse-gateway/" NP_VERSION);
    curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, discard);

    /* Offsets are stored by hand after delivery and committed by the consumer. Static
     * membership (the gateway's transactional.id names the member) lets a restarted gateway
     * take its partitions back at once instead of after the dead one's session timeout. */
    const char *txn = np_config_str(c, "transactional.id");
    char instance[256];
    snprintf(instance, sizeof(instance), "%s-%s", np_config_str(c, "webhook.group"), txn ? txn : "");
    const char *defaults[] = {"group.id", np_config_str(c, "webhook.group"),
                              "isolation.level", "read_committed",
                              "enable.auto.offset.store", "false",
                              "auto.offset.reset", np_config_str(c, "webhook.start"),
                              "enable.partition.eof", "false",
                              txn && *txn ? "group.instance.id" : NULL, instance, NULL};
    rd_kafka_conf_t *conf = np_kafka_conf_new_with(c, "netpulse-webhook", defaults, err, errlen);
    if (!conf) goto fail;
    if (!(w->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen))) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    rd_kafka_poll_set_consumer(w->rk);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(w->rk, tl);
    rd_kafka_topic_partition_list_destroy(tl);
    if (e) {
        snprintf(err, errlen, "webhook: subscribe to %s: %s", topic, rd_kafka_err2str(e));
        goto fail;
    }
    np_metrics_t *m = proc->metrics;
    w->m_delivered = np_metrics_counter(m, "netpulse_gateway_webhook_delivered_total", "Results POSTed to the webhook (2xx)", NULL);
    w->m_failures = np_metrics_counter(m, "netpulse_gateway_webhook_failures_total",
                                       "Failed POST attempts (retried: network error, 5xx, 408, 429)", NULL);
    w->m_rejected = np_metrics_counter(m, "netpulse_gateway_webhook_rejected_total",
                                       "Results the receiver refused with another 4xx (not retried, logged)", NULL);
    w->m_skipped = np_metrics_counter(m, "netpulse_gateway_webhook_skipped_total", "Results of other types (not POSTed)", NULL);
    w->m_last = np_metrics_gauge_milli(m, "netpulse_gateway_webhook_last_delivery_timestamp_seconds", "Wall time of the last delivery, seconds since the epoch", NULL);
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        snprintf(err, errlen, "webhook: cannot start its thread");
        goto fail;
    }
    np_info("webhook_started", "url=%s types=%s group=%s", url, np_config_str(c, "webhook.types"),
            np_config_str(c, "webhook.group"));
    *out = w;
    return 0;
fail:
    if (w->rk) rd_kafka_destroy(w->rk);
    if (w->curl) curl_easy_cleanup(w->curl);
    curl_slist_free_all(w->headers);
    free(w);
    return -1;
}

void webhook_stop(webhook_t **wp) {
    if (!wp || !*wp) return;
    webhook_t *w = *wp;
    atomic_store(&w->stop, 1);
    pthread_join(w->thread, NULL);
    rd_kafka_consumer_close(w->rk); /* commits the stored offsets */
    rd_kafka_destroy(w->rk);
    curl_easy_cleanup(w->curl);
    curl_slist_free_all(w->headers);
    curl_global_cleanup();
    free(w);
    *wp = NULL;
}
