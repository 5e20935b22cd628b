/*
 * np_kdd_model: the NSL-KDD five-class intrusion classifier trained offline by
 * tools/kdd/train.py and run here, in the worker, per connection record.
 *
 * The model is a random forest. Its file (format "netpulse-kdd-model 1", text, described
 * in docs/intrusion.md) lists the metadata, the class order, the input encoding (which
 * column each input takes, raw or as a one-hot of a symbolic value), per-class decision
 * weights, then every tree's nodes, and ends with a CRC-32 of everything before it.
 * Thresholds and leaf probabilities are written as C99 hex floats, so they are the
 * training tool's doubles bit for bit.
 *
 * Exactness: prediction does exactly what scikit-learn does: inputs are rounded to float32,
 * compared as double with `x <= threshold`; the leaves' class probabilities are summed in
 * tree order in double, divided by the number of trees, multiplied by the class weights;
 * the first maximum wins. So the class here equals the training tool's on every row
 * (tests/unit/test_kdd_model.c and tests/integration/0140-intrusion.sh check it on all of
 * KDDTest+).
 *
 * Ownership: np_kdd_model_load/_parse return a model owned by the caller, freed with
 * np_kdd_model_destroy. A loaded model is immutable: any thread may predict with it
 * concurrently. Prediction does not allocate.
 */
#ifndef NP_KDD_MODEL_H
#define NP_KDD_MODEL_H

#include <stddef.h>

#include "np_kdd_conn.h"

#define NP_KDD_MODEL_FORMAT     1
#define NP_KDD_MODEL_MAX_INPUTS 512
#define NP_KDD_MODEL_MAX_FILE   (64u << 20)
#define NP_KDD_MODEL_MAX_TREES  4096

typedef struct np_kdd_model np_kdd_model_t;

/* Reads and validates a model file. 0, or -1 with errstr naming the file and the problem
 * (missing, not a model, unsupported format version, bad checksum, line N malformed...). */
int np_kdd_model_load(const char *path, np_kdd_model_t **out, char *errstr, size_t errlen);
/* The same from memory. */
int np_kdd_model_parse(const char *buf, size_t len, np_kdd_model_t **out, char *errstr,
                       size_t errlen);
void np_kdd_model_destroy(np_kdd_model_t **m);

/* The "version" metadata (e.g. "kdd-rf-2026.12.02-1"); never NULL. */
const char *np_kdd_model_version(const np_kdd_model_t *m);
/* Any other metadata value, NULL if absent. */
const char *np_kdd_model_meta(const np_kdd_model_t *m, const char *key);
size_t      np_kdd_model_ninputs(const np_kdd_model_t *m);
size_t      np_kdd_model_ntrees(const np_kdd_model_t *m);
size_t      np_kdd_model_nnodes(const np_kdd_model_t *m);

/* Encodes a record into x[np_kdd_model_ninputs(m)] (float32, as the tool does). A symbolic
 * value the model never saw sets none of its column's one-hot inputs. */
void np_kdd_model_encode(const np_kdd_model_t *m, const np_kdd_conn_t *c, float *x);
/* Class of an encoded record; *confidence (if not NULL) gets the forest's probability of
 * that class (the share of the trees' votes, before the decision weights). */
int np_kdd_model_predict(const np_kdd_model_t *m, const float *x, double *confidence);
/* encode + predict. */
int np_kdd_model_classify(const np_kdd_model_t *m, const np_kdd_conn_t *c, double *confidence);

#endif
