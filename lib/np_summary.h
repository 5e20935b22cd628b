/*
 * np_summary: the few fields of a published result (the JSON np_result writes to
 * `processed-data`) that the gateway shows as metrics: a window's totals, an anomaly's
 * kind/severity/entity/explanation, a forecast's prediction. Reads only top-level fields
 * (and `protocols`); everything else is skipped. Also the bounded list of the most recent
 * anomalies.
 *
 * I/O-free, no allocation; not a general JSON parser (no JSON library is used elsewhere).
 */
#ifndef NP_SUMMARY_H
#define NP_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#define NP_SUMMARY_RECENT_MAX 10

typedef enum {
    NP_SUMMARY_TCP = 0,
    NP_SUMMARY_UDP,
    NP_SUMMARY_ICMP,
    NP_SUMMARY_OTHER,
    NP_SUMMARY_PROTOS
} np_summary_proto_t;

typedef struct np_summary {
    char type[16];                      /* window, anomaly, forecast, group; "" when absent */
    int64_t window_start, window_end, window_ms; /* event time, ms; 0 when absent */
    uint64_t records, bytes, packets, sources;
    uint64_t protocols[NP_SUMMARY_PROTOS]; /* records by protocol (windows) */
    double predicted;                   /* forecasts */
    char kind[32], severity[16];        /* anomalies */
    char entity[160];
    char explanation[512];              /* truncated at a UTF-8 character boundary */
} np_summary_t;

/* Parses one result value. Returns 0, or -1 with errstr saying where it is malformed.
 * *out is zeroed first. */
int np_summary_parse(const char *json, size_t len, np_summary_t *out, char *errstr, size_t errlen);

/* Protocol names in np_summary_proto_t order: "tcp", "udp", "icmp", "other". */
const char *np_summary_proto_name(np_summary_proto_t p);

/* The last NP_SUMMARY_RECENT_MAX anomalies, newest first. Zero-initialise to start. */
typedef struct np_summary_recent {
    np_summary_t items[NP_SUMMARY_RECENT_MAX];
    size_t head, n; /* items[head] is the newest */
} np_summary_recent_t;

void np_summary_recent_push(np_summary_recent_t *r, const np_summary_t *s);
/* rank 1 = newest; NULL past the number held. */
const np_summary_t *np_summary_recent_get(const np_summary_recent_t *r, size_t rank);

#endif
