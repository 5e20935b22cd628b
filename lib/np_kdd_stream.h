/*
 * np_kdd_stream: the worker's intrusion path. Connection records (NSL-KDD's 41 features,
 * CSV or JSON, see np_kdd_conn) from the partitions of `network-connections` are decoded,
 * classified by the loaded np_kdd_model and counted per pane, overall and per destination
 * (the record's Kafka key), in the partition's np_partstate (np_partstate_add_class).
 *
 * Exactly once: the worker consumes the connection topic in its own consumer group as
 * further *slots* (after the input and repartition slots), so these partitions have the
 * same pane state, checkpoints, fencing, outbox and progress as any other, and the
 * coordinator waits for them like for the others. This module is the per-record step and
 * the model's life cycle; the worker's main only routes a slot's records here.
 *
 * Reload: np_kdd_stream_tick checks the SIGHUP flag (between two batches of records),
 * loads the file into a new model and swaps it in only when it is valid; a bad file keeps
 * the old model, logs the error and counts it. No record is dropped or classified by a
 * half-loaded model.
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
#include "np_pane.h"

typedef struct np_kdd_stream np_kdd_stream_t;

/* Loads the model (a bad file is an error naming it) and registers the metrics in reg
 * (may be NULL). Installs the SIGHUP handler. */
np_kdd_stream_t *np_kdd_stream_new(const char *model_path, np_metrics_t *reg, char *errstr,
                                   size_t errlen);
/* Classifies one record value and counts it in /metrics. Returns the class (and its
 * confidence), or -1 (invalid, counted; errstr says why). */
int np_kdd_stream_classify(np_kdd_stream_t *s, const char *val, size_t len, double *confidence, char *errstr,
                           size_t errlen);
/* Classifies one record of a connection slot and counts it in its pane: event time ts_ms,
 * destination from the Kafka key (an address; anything else counts as unknown). Returns
 * NP_PANE_ADDED / NP_PANE_LATE (pane closed; *pane_start_out names it), or -1 when the
 * record does not decode (errstr says why). Emits closed panes through emit. */
int np_kdd_stream_add(np_kdd_stream_t *s, np_partstate_t *ps, const void *val, size_t len, const void *key,
                      size_t keylen, int64_t ts_ms, int64_t offset, np_pane_emit_fn emit, void *ctx,
                      int64_t *pane_start_out, char *errstr, size_t errlen);
/* Reloads the model on a pending SIGHUP. Call between records. */
void np_kdd_stream_tick(np_kdd_stream_t *s);
/* Loads the model file again; keeps the old model when the new one is bad (-1, errstr). */
int np_kdd_stream_reload(np_kdd_stream_t *s, char *errstr, size_t errlen);
/* Class counts so far (classes[NP_KDD_NCLASSES]); the loaded model's version. */
const uint64_t *np_kdd_stream_counts(const np_kdd_stream_t *s);
const char     *np_kdd_stream_model_version(const np_kdd_stream_t *s);
/* Frees everything; NULLs *s. */
void np_kdd_stream_destroy(np_kdd_stream_t **s);

#endif
