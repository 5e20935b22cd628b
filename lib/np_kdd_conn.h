/*
 * np_kdd_conn: one connection record in the NSL-KDD feature set (the 41 features of
 * KDD Cup 99 / NSL-KDD), decoded from the text forms the `network-connections` topic
 * accepts:
 *   - CSV in NSL-KDD column order: the 41 features, optionally followed by the label and
 *     the difficulty (the files as distributed; both are ignored as inputs, the label is
 *     kept so tests can score predictions);
 *   - a flat JSON object keyed by the column names ("duration", "protocol_type", ...,
 *     "dst_host_srv_rerror_rate"), numbers as JSON numbers (or numeric strings), the three
 *     symbolic columns as strings, optionally "label".
 *
 * Numbers are parsed with strtod (correctly rounded, like Python's float()), so a value
 * decoded here is bit-identical to the one the training tool (tools/kdd/train.py) saw.
 * That is what makes the C classifier agree with the tool on every row.
 *
 * Not for: the flow records of `network-traffic` (np_record), classification (np_kdd_model).
 * I/O-free, no allocation, no globals; thread-safe on distinct records.
 */
#ifndef NP_KDD_CONN_H
#define NP_KDD_CONN_H

#include <stddef.h>

#define NP_KDD_NCOLS    41 /* feature columns */
#define NP_KDD_SYM_MAX  32 /* longest symbolic value kept, NUL included */
#define NP_KDD_NCLASSES 5

/* The five classes, in the order the model file lists them. */
enum { NP_KDD_NORMAL = 0, NP_KDD_DOS, NP_KDD_PROBE, NP_KDD_R2L, NP_KDD_U2R };

typedef struct np_kdd_conn {
    double num[NP_KDD_NCOLS];                /* numeric columns; 0 for symbolic ones */
    char   sym[3][NP_KDD_SYM_MAX];              /* columns 1, 2, 3: sym[col - 1] */
    int    label;                            /* class of the label if present, else -1 */
} np_kdd_conn_t;

/* Column 0..40 names in NSL-KDD order. */
const char *np_kdd_col_name(int col);
/* 1 if column col (0-based) is symbolic (protocol_type, service, flag). */
int np_kdd_col_is_symbolic(int col);
/* Class name ("normal", "DoS", "Probe", "R2L", "U2R") or NULL. */
const char *np_kdd_class_name(int cls);
/* Class index of an NSL-KDD label (attack name or "normal"), -1 when unknown. */
int np_kdd_label_class(const char *label);

/* Decodes CSV or JSON (chosen by the first non-blank byte). 0 or -1 with errstr. */
int np_kdd_conn_parse(const char *buf, size_t len, np_kdd_conn_t *out, char *errstr,
                      size_t errlen);
int np_kdd_conn_parse_csv(const char *buf, size_t len, np_kdd_conn_t *out, char *errstr,
                          size_t errlen);
int np_kdd_conn_parse_json(const char *buf, size_t len, np_kdd_conn_t *out, char *errstr,
                           size_t errlen);

/* The common case of a numeric field, without strtod: t[0..len) is [-]DIGITS[.DIGITS] with
 * at most 15 digits in all. 0 and *out = the same double strtod gives (correctly rounded),
 * or -1 when it has another form (the caller falls back to strtod). */
int np_kdd_decimal(const char *t, size_t len, double *out);

#endif
