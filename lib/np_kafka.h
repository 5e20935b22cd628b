/*
 * np_kafka: librdkafka set-up shared by the processes: a configuration built from
 * np_config (bootstrap servers + every -X pass-through property, validated by librdkafka
 * with the property named in the error), librdkafka logs routed into np_log, and the
 * dead-letter producer that carries rejected input with its reason.
 */
#ifndef NP_KAFKA_H
#define NP_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np_config.h"

/* A new conf with bootstrap.servers = brokers, client.id = client_id, librdkafka logs
 * going to np_log, then the pass-through properties (which may override anything).
 * Returns NULL with errstr naming the failing property. */
rd_kafka_conf_t *np_kafka_conf_new(const np_config_t *cfg, const char *client_id, char *errstr,
                                   size_t errlen);

/* Like np_kafka_conf_new, with the process's own settings applied before the
 * pass-through properties (so an operator's -X still wins): defaults is a NULL-terminated
 * list of key, value, key, value, ... */
rd_kafka_conf_t *np_kafka_conf_new_with(const np_config_t *cfg, const char *client_id,
                                        const char *const *defaults, char *errstr, size_t errlen);

/* Sets one property, with an error that names it. Returns 0 or -1. */
int np_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *val, char *errstr,
                      size_t errlen);

/* Dead-letter record: the original key and value, and headers
 *   netpulse.reason, netpulse.detail, netpulse.source.topic, netpulse.source.partition,
 *   netpulse.source.offset (and netpulse.pane.start for late records, netpulse.value.bytes
 *   when val is the first val_len bytes of a longer value).
 * Produced asynchronously on `rk` (a producer); returns 0 or a librdkafka error code. */
typedef struct np_dlq_info {
    const char *reason;
    const char *detail;
    const char *src_topic;
    int32_t src_partition;
    int64_t src_offset;
    int64_t pane_start_ms; /* INT64_MIN when not applicable */
    int64_t value_bytes;   /* the whole value's size when val is cut short, else 0 */
    int32_t dlq_partition; /* the DLQ partition (np_dlqseen_partition; RD_KAFKA_PARTITION_UA: the partitioner's) */
    void *opaque;          /* the delivery report's msg_opaque */
} np_dlq_info_t;

rd_kafka_resp_err_t np_dlq_produce(rd_kafka_t *rk, const char *dlq_topic, const void *key,
                                   size_t key_len, const void *val, size_t val_len,
                                   const np_dlq_info_t *info);

/* Reads partition dlq_partition of dlq_topic from offset `from` to its end with consumer
 * rk (no group: assigned, and unassigned again before returning), adding to seen every
 * dead letter of (src_topic, src_partition) at a source offset >= min_offset
 * (np_dlqseen_add), then seals seen with the end read (np_dlqseen_seal; -1 when the end
 * was not reached within timeout_ms or a read failed). Returns the number of dead letters
 * read, or -1 with errstr. */
struct np_dlqseen;
int np_kafka_dlq_scan(rd_kafka_t *rk, const char *dlq_topic, int32_t dlq_partition, int64_t from,
                      const char *src_topic, int32_t src_partition, int64_t min_offset, struct np_dlqseen *seen,
                      int timeout_ms, char *errstr, size_t errlen);

/* Records behind the high watermark: hi - position, where the position is the consumer's
 * (the offset after the last message polled), else next_offset (the caller's own resume
 * offset, e.g. from a checkpoint; -1 when none), else the low watermark. Never negative;
 * -1 when hi is unknown (< 0). I/O-free. */
int64_t np_kafka_lag(int64_t hi, int64_t lo, int64_t position, int64_t next_offset);

/* The log ends (high watermarks) of the partitions in parts, asked of their leaders in one
 * ListOffsets request per broker (offsets_for_times with "latest"), blocking up to
 * timeout_ms: ends[i] for parts->elems[i], -1 where unknown. parts' offsets are
 * overwritten. Ask on a handle whose connections carry no long-polling Fetch (a producer):
 * on a consumer's the request waits behind it (np_logend.h). Returns 0 or -1. */
int np_kafka_log_ends(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts, int64_t *ends, int timeout_ms);

/* The lag of one assigned partition of consumer rk. With query_timeout_ms = 0 the
 * watermarks are librdkafka's cached ones (refreshed by every fetch response: free, but
 * stale while the partition is paused); otherwise they are asked of the broker (blocks up
 * to that long). Returns -1 when unknown. */
int64_t np_kafka_consumer_lag(rd_kafka_t *rk, const char *topic, int32_t partition, int64_t next_offset,
                              int query_timeout_ms);

/* Commits offsets for consumer rk and waits for the group coordinator's answer at most
 * timeout_ms (rd_kafka_commit waits as long as librdkafka looks for an unreachable
 * coordinator, ~10 s per call). Returns the commit's error, RD_KAFKA_RESP_ERR__TIMED_OUT
 * when no answer came in time (the request may still complete later), or
 * RD_KAFKA_RESP_ERR__NO_OFFSET when there was nothing to commit. */
rd_kafka_resp_err_t np_kafka_commit_bounded(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *offsets,
                                            int timeout_ms);

/* Whether consumer rk, resuming topic/partition from its group's committed offset, skips
 * records of the partition's log: 1 when a committed offset exists past the log start (an
 * earlier owner's panes before it were acknowledged and are not read again), 0 when there
 * is none or it is at the log start, -1 when either could not be learnt within timeout_ms
 * each (two requests). */
int np_kafka_resume_skips_history(rd_kafka_t *rk, const char *topic, int32_t partition, int timeout_ms);

/* For a rebalance callback: hands parts to consumer rk (add) or takes them back, in the
 * group's protocol: cooperative (incremental) moves just these partitions, eager replaces
 * the whole assignment (parts being all of it; a revocation unassigns everything).
 * rd_kafka_rebalance_protocol() answers NULL once the group handle has terminated, which
 * happens for the revocation that rd_kafka_consumer_close serves after the broker dropped
 * the member ("Unknown member"); *cooperative (the caller's, false at first) keeps the
 * protocol last seen and is used then. Returns 0, or -1 with errstr. */
int np_kafka_rebalance_apply(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *parts, bool add,
                             bool *cooperative, char *errstr, size_t errlen);

#endif
