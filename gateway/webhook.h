/*
 * webhook: the gateway's optional HTTP sink. A thread with its own Kafka consumer (group
 * webhook.group, read_committed) reads what the gateway committed to the output topic and
 * POSTs every result of the chosen types (default: anomalies) as its JSON body to
 * webhook.url, with the result id in the `Idempotency-Key` header.
 *
 * Delivery is at least once, also across a kill -9: a message's offset is stored only
 * after the receiver answered 2xx (or refused it for good with another 4xx, counted and
 * logged), and stored offsets are committed by the consumer. After a crash the receiver may
 * see a few results again, with the same Idempotency-Key. A receiver that is down holds the
 * sink back (retries with back-off up to webhook.backoff.max.ms), never the pipeline:
 * results keep going to Kafka and the consumer's lag grows. The consumer is a static
 * member (group.instance.id from transactional.id), so a restarted gateway resumes at once.
 */
#ifndef NP_GATEWAY_WEBHOOK_H
#define NP_GATEWAY_WEBHOOK_H

#include "np_proc.h"

#define WEBHOOK_OPTS                                                                                     \
    {"webhook.url", NP_OPT_STR, "", 0, 0, NULL,                                                          \
     "Secret: POST results here (http:// or https://; empty = no webhook); env, file or webhook.url.file"}, \
    {"webhook.url.file", NP_OPT_STR, NULL, 0, 0, NULL, "File holding webhook.url"},                      \
    {"webhook.types", NP_OPT_STR, "anomaly", 0, 0, NULL,                                                 \
     "Result types to POST, comma-separated (anomaly, forecast, window, group)"},                        \
    {"webhook.header", NP_OPT_STR, "", 0, 0, NULL,                                                       \
     "Secret: one extra request header, e.g. 'Authorization: Bearer TOKEN'; env, file or webhook.header.file"}, \
    {"webhook.header.file", NP_OPT_STR, NULL, 0, 0, NULL, "File holding webhook.header"},                \
    {"webhook.timeout.ms", NP_OPT_INT, "5000", 100, 600000, NULL, "Timeout of one POST, ms"},           \
    {"webhook.backoff.max.ms", NP_OPT_INT, "30000", 10, 3600000, NULL,                                  \
     "Longest wait between retries of a failing POST (doubling from 100 ms)"},                           \
    {"webhook.group", NP_OPT_STR, "netpulse-webhook", 0, 0, NULL,                                        \
     "Kafka consumer group of the webhook sink (its committed offsets say what was delivered)"},        \
    {"webhook.start", NP_OPT_STR, "earliest", 0, 0, "earliest|latest",                                   \
     "Where a new webhook group starts in the output topic"}

typedef struct webhook webhook_t;

/* Starts the sink when webhook.url is set (*out = NULL when it is not). Returns 0, or -1
 * with the reason, naming the key, in err. */
int webhook_start(webhook_t **out, np_proc_t *proc, const char *topic, char *err, size_t errlen);

/* Finishes the POST in progress, commits what was delivered, and frees the sink. */
void webhook_stop(webhook_t **w);

#endif
