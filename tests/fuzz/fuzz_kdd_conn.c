/*
 * libFuzzer target for np_kdd_conn: every value on `network-connections` is
 * attacker-shaped (CSV or flat JSON). The decoders must never crash, read past the input
 * or leave an unterminated error or symbolic value; what they accept must be usable by
 * the classifier as is (finite numbers, a known class or -1). The auto-detecting entry
 * point must agree with the decoder it picks.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "np_kdd_conn.h"

static void check_conn(const np_kdd_conn_t *c) {
    for (int i = 0; i < NP_KDD_NCOLS; i++)
        if (!isfinite(c->num[i])) abort();
    for (int k = 0; k < 3; k++)
        if (!memchr(c->sym[k], '\0', NP_KDD_SYM_MAX)) abort();
    if (c->label < -1 || c->label >= NP_KDD_NCLASSES) abort();
}

typedef int (*parse_fn)(const char *, size_t, np_kdd_conn_t *, char *, size_t);

static int parse_once(parse_fn f, const uint8_t *data, size_t size, np_kdd_conn_t *c) {
    char err[96];
    memset(err, 'x', sizeof err);
    int rc = f((const char *)data, size, c, err, sizeof err);
    if (rc != 0 && rc != -1) abort();
    if (rc == 0) check_conn(c);
    else if (!memchr(err, '\0', sizeof err) || err[0] == '\0') abort();
    /* No error buffer at all must be accepted too. */
    np_kdd_conn_t c2;
    if (f((const char *)data, size, &c2, NULL, 0) != rc) abort();
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    np_kdd_conn_t a, csv, json;
    memset(&a, 0, sizeof a);
    memset(&csv, 0, sizeof csv);
    memset(&json, 0, sizeof json);
    int ra = parse_once(np_kdd_conn_parse, data, size, &a);
    int rc = parse_once(np_kdd_conn_parse_csv, data, size, &csv);
    int rj = parse_once(np_kdd_conn_parse_json, data, size, &json);
    /* The entry point chose one of the two (by the first non-blank byte). */
    int same_json = ra == rj && (ra != 0 || memcmp(&a, &json, sizeof a) == 0);
    int same_csv = ra == rc && (ra != 0 || memcmp(&a, &csv, sizeof a) == 0);
    if (!same_json && !same_csv) abort();
    return 0;
}
