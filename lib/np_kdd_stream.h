/*
 * np_kdd_stream: the worker's intrusion path: its own consumer of `network-connections`
 * (NSL-KDD connection records, CSV or JSON, see np_kdd_conn), each record classified by
 * the loaded np_kdd_model and counted by class in /metrics; SIGHUP reloads the model file.
 *
 * What it is not (yet): part of the windowed, exactly-once pipeline. The consumer is a
 * separate group (`<group.id>-connections`) with librdkafka's auto-commit, so after a crash
 * records since the last commit are classified again (at-least-once); counts are process
 * counters, not panes; nothing goes to the coordinator. docs/intrusion.md says what the
 * full design adds (class counts in partials, `intrusion` anomalies).
 *
 * Reload: np_kdd_stream_poll checks the SIGHUP flag between records, loads the file into a
 * new model and swaps it in only when it is valid; a bad file keeps the old model, logs the
 * error and counts it. No record is dropped or classified by a half-loaded model.
 *
 * Thread-safety: one thread (the worker's loop) calls everything; the signal handler only
 * sets a flag.
 */
#ifndef NP_KDD_STREAM_H
#define NP_KDD_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "np_config.h"
#include "np_kdd_model.h"
#include "np_metrics.h"

typedef struct np_kdd_stream np_kdd_stream_t;

/* Loads the model (a bad file is an error naming it) and registers the metrics in reg
 * (may be NULL). Installs the SIGHUP handler. */
np_kdd_stream_t *np_kdd_stream_new(const char *model_path, np_metrics_t *reg, char *errstr,
                                   size_t errlen);
/* Starts the consumer of topic in group `<group>-connections`. 0 or -1 with errstr. */
int np_kdd_stream_subscribe(np_kdd_stream_t *s, const np_config_t *cfg, const char *topic,
                            const char *group, char *errstr, size_t errlen);
/* Classifies one record value and counts it. Returns the class, or -1 (invalid, counted). */
int np_kdd_stream_handle(np_kdd_stream_t *s, const char *val, size_t len);
/* Reloads on a pending SIGHUP, then handles up to max records without blocking.
 * Returns how many records were handled. */
int np_kdd_stream_poll(np_kdd_stream_t *s, int max);
/* Loads the model file again; keeps the old model when the new one is bad (-1, errstr). */
int np_kdd_stream_reload(np_kdd_stream_t *s, char *errstr, size_t errlen);
/* Class counts so far (classes[NP_KDD_NCLASSES]); the loaded model's version. */
const uint64_t *np_kdd_stream_counts(const np_kdd_stream_t *s);
const char     *np_kdd_stream_model_version(const np_kdd_stream_t *s);
/* Commits offsets and closes the consumer; frees everything; NULLs *s. */
void np_kdd_stream_destroy(np_kdd_stream_t **s);

#endif
