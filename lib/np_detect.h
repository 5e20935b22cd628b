/*
 * np_detect: the detectors, run on each final global pane (coordinator, and netpulse-detect
 * offline on the same panes). I/O-free and clock-free: the pane is the only input and its
 * start the only time, so the same panes always give the same anomalies.
 *
 * Detectors (parameters in np_detect_config_t; ARCHITECTURE.md lists them all):
 *   volume      records, bytes, packets and records per protocol against a robust baseline
 *               (median and MAD of the last `baseline_panes` panes): spike / drop, one alert
 *               per episode (enter at z >= z_enter, end after `cooldown_panes` below z_exit);
 *               an episode that lasts min(shift_ms, baseline_panes / 2 panes) is a lasting
 *               change: level_shift, reported once, and the rings restart at the new level.
 *   protocol    total-variation distance of the protocol mix from its baseline: protocol_shift.
 *   entropy     normalised Shannon entropy of the destination-address distribution and of the
 *               destination-port histogram: entropy (metric names which).
 *   new source  a source never seen during the first `learn_panes` panes, with at least
 *               `new_min_share` of the pane's bytes: new_source.
 *   heavy       a source with >= `hh_share` of the pane's bytes (or packets) and `hh_factor`
 *               times its own largest share during learning: heavy_hitter.
 *   scans       a source reaching >= `scan_hosts` destination addresses (host_scan) or
 *               >= `scan_ports` ports (port_scan), most of its flows going somewhere new,
 *               and `hh_factor` times more than it reached in any learning pane.
 *   ddos        a destination reached by >= `ddos_sources` distinct sources (HyperLogLog
 *               unions across partitions) with >= `ddos_share` of the pane's records: ddos.
 *   thresholds  static per-destination-CIDR limits on packets/s, bits/s and flows/s: threshold.
 *   views       the volume detector on each operator view's records, bytes and packets
 *               (entity "view:<name>").
 *   intrusion   a destination whose most frequent NSL-KDD attack class (DoS, Probe, R2L, U2R)
 *               in the pane has >= `intrusion_min` connections and >= `intrusion_share` of
 *               its connections (gp->classes, the workers' classifications): intrusion, one
 *               per destination and pane, the largest counts first when the pane's alert
 *               budget runs out.
 *   forecast    Holt's damped linear model predicts the next pane's packets; forecast_threshold
 *               when the prediction exceeds `forecast_alert_packets`.
 *   seasonality with `seasonal`, daily and day-of-week profiles (np_season) of records, bytes
 *               and packets, learnt online from the clamped values; once learnt (3 days, 2
 *               weeks) the volume rings hold deseasonalised values (value / factor, per-protocol
 *               records by the records profile), expectations are median x factor, and the
 *               forecast is Holt on deseasonalised packets times the next pane's factor.
 * Entity alerts keep an episode per (kind, entity): one alert until the condition has been
 * false for `cooldown_panes`. A whitelist of CIDRs suppresses alerts on matching entities.
 *
 * State: the series rings, the profiles, the forecast model, open episodes (np_detect_state_encode, ~25 KiB)
 * and the known-source table (bounded by `max_known`; changed entries are reported after
 * each pane so that they can be persisted incrementally).
 */
#ifndef NP_DETECT_H
#define NP_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np_merge.h"

typedef enum {
    NP_AN_SPIKE = 0,
    NP_AN_DROP,
    NP_AN_DDOS,
    NP_AN_PORT_SCAN,
    NP_AN_HOST_SCAN,
    NP_AN_NEW_SOURCE,
    NP_AN_HEAVY_HITTER,
    NP_AN_ENTROPY,
    NP_AN_PROTOCOL_SHIFT,
    NP_AN_FORECAST_THRESHOLD,
    NP_AN_THRESHOLD,
    NP_AN_LEVEL_SHIFT,  /* appended: state saved with 11 kinds still restores */
    NP_AN_INTRUSION,    /* appended likewise (12 kinds before it) */
    NP_AN__COUNT
} np_anomaly_kind_t;

const char *np_anomaly_kind_name(np_anomaly_kind_t k);

typedef enum { NP_SEV_INFO = 0, NP_SEV_WARNING, NP_SEV_CRITICAL } np_severity_t;
const char *np_severity_name(np_severity_t s);

typedef struct np_anomaly {
    np_anomaly_kind_t kind;
    char entity[64];        /* address, CIDR, or "global" */
    char metric[24];        /* what was measured: "records", "dst_sources", ... */
    int64_t window_start, window_end;
    double observed, expected, score;
    np_severity_t severity;
    char explanation[256];
    /* intrusion only: the NSL-KDD class, the destination's connections per class in the
     * pane, and the mean confidence of the class's connections */
    int cls;
    uint64_t class_counts[NP_KDD_NCLASSES];
    double confidence;
} np_anomaly_t;


#define NP_DETECT_MAX_RULES 64

typedef struct np_threshold_rule {
    np_cidr_t cidr;
    double pps, bps, flows;  /* per second over the pane; 0 = not checked */
} np_threshold_rule_t;

typedef struct np_detect_config {
    int64_t pane_ms;
    int warmup_panes;          /* no alert before this many panes */
    int learn_panes;           /* known sources and their shares are learnt this long */
    int baseline_panes;        /* ring length for median / MAD (<= 1024) */
    double z_enter, z_exit;
    double min_rel;            /* volume: also |x - median| >= min_rel * median */
    int cooldown_panes;
    int64_t shift_ms;          /* a spike / drop episode lasting this long (at most baseline_panes / 2
                                * panes) is a level shift: reported once, the new baseline at once */
    bool seasonal;             /* daily / weekly profiles (np_season) for volume and forecast */
    double shift_min;          /* protocol mix: total variation distance */
    double entropy_min;        /* entropy: absolute change in normalised entropy */
    double new_min_share;
    uint64_t new_min_bytes;
    double hh_share, hh_factor;
    uint64_t hh_min_records;   /* one huge flow is not a heavy hitter (nor a new source) */
    uint64_t scan_hosts, scan_ports;
    double scan_fanout;        /* distinct targets / records of the source */
    uint64_t scan_flow_bytes;  /* scans are probes: mean bytes per flow at most this */
    uint64_t ddos_sources;
    double ddos_share;
    double forecast_alpha, forecast_beta, forecast_phi;
    double forecast_alert_packets; /* 0 = off */
    size_t max_known;
    size_t max_alerts;         /* per pane; more are counted as suppressed */
    uint64_t intrusion_min;    /* intrusion: connections of one attack class to a destination in a pane */
    double intrusion_share;    /* intrusion: and at least this share of the destination's connections */
    np_threshold_rule_t rules[NP_DETECT_MAX_RULES];
    size_t nrules;
    np_cidr_t whitelist[NP_DETECT_MAX_RULES];
    size_t nwhitelist;
    const np_viewset_t *views; /* borrowed: spike / drop also run on each view's totals (NULL: none) */
} np_detect_config_t;

void np_detect_config_default(np_detect_config_t *c, int64_t pane_ms);
/* NULL when consistent, else a message naming the key. */
const char *np_detect_config_check(const np_detect_config_t *c);

typedef struct np_forecast {
    int64_t window_start, window_end; /* the pane predicted (the next one) */
    double predicted;
    bool has_previous;               /* the pane just closed had a prediction */
    int64_t prev_start;
    double prev_predicted, prev_actual;
} np_forecast_t;

typedef struct np_detect np_detect_t;

np_detect_t *np_detect_new(const np_detect_config_t *cfg);
/* The most a detector of cfg holds at once, fed panes of at most max_sources sources: its
 * rings, the known-source table at cfg->max_known (and its old slots while it doubles),
 * the per-pane list of changed known sources, and the scratch of one state encoding.
 * For np_budget. */
size_t np_detect_bound_bytes(const np_detect_config_t *cfg, size_t max_sources);
void np_detect_destroy(np_detect_t **d);

/* Runs every detector on the next final pane (panes in order; empty panes count). Writes at
 * most cfg.max_alerts anomalies into out (caller-owned, max_alerts slots) and the forecast
 * of the next pane. Returns the number of anomalies. */
size_t np_detect_pane(np_detect_t *d, const np_gpane_t *gp, np_anomaly_t *out, np_forecast_t *fc);

typedef struct np_detect_stats {
    uint64_t panes, alerts, suppressed, whitelisted, known, known_full;
    uint64_t by_kind[NP_AN__COUNT];
} np_detect_stats_t;
void np_detect_get_stats(const np_detect_t *d, np_detect_stats_t *out);

/* Small state (series, model, episodes) as one blob; known sources go separately. */
int np_detect_state_encode(const np_detect_t *d, uint8_t **out, size_t *len); /* malloc'd */
int np_detect_state_decode(np_detect_t *d, const uint8_t *buf, size_t len);

/* What the baseline learnt of a known source: its largest share of bytes or packets (per
 * mille) and the most destination hosts and ports it reached in a pane. */
typedef struct np_known {
    uint16_t share_pm;
    uint32_t hosts, ports;
} np_known_t;

/* Known sources changed by the last np_detect_pane: calls fn (if not NULL) for each and
 * returns how many there are. */
typedef void (*np_detect_known_fn)(void *ctx, const np_ip_t *ip, const np_known_t *v);
size_t np_detect_known_changed(const np_detect_t *d, np_detect_known_fn fn, void *ctx);
/* Restores one known source. */
void np_detect_known_set(np_detect_t *d, const np_ip_t *ip, const np_known_t *v);

#endif
