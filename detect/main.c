/*
 * netpulse-detect: the live detectors, offline.
 *
 *   --csv FILE      a time series (timestamp,value per row, one row per interval): writes
 *                   timestamp,value,anomaly_score,expected,forecast,event,alert,z (np_series:
 *                   a calibrated score in [0,1]; forecast: the live forecast's method;
 *                   alert 1 where an alert opens, 2 while it stays open (csv.threshold,
 *                   csv.single.score, csv.rearm.*; none opens in the first csv.hold.ms, 2 days);
 *                   z the residual in robust scales).
 *   --records FILE  recorded flow records (one JSON or CSV record per line, as
 *                   netpulse-generator --output writes them), as one partition;
 *   --topic NAME    a Kafka topic from the beginning (or --from-ms) to its end when started:
 *                   the anomalies (and with --forecasts the forecasts) the live pipeline
 *                   raises on the same records, as the same JSON lines.
 *
 * Records go through the same cores as in the cluster: np_pane per partition (same pane.ms
 * and lateness.ms), np_partial + np_merge into global panes, np_detect. Progress on stderr.
 */
#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_clock.h"
#include "np_detect_cfg.h"
#include "np_kafka.h"
#include "np_merge.h"
#include "np_opts.h"
#include "np_pane.h"
#include "np_partial.h"
#include "np_proc.h"
#include "np_result.h"
#include "np_season.h"
#include "np_series.h"

static const np_opt_t det_opts[] = {
    NP_OPTS_COMMON,
    NP_OPTS_KAFKA,
    {"csv", NP_OPT_STR, NULL, 0, 0, NULL, "Score a CSV time series (timestamp,value)"},
    {"max.future.ms", NP_OPT_INT, "300000", 0, 31536000000, NULL,
     "Records further than this ahead of the wall clock are rejected, as the workers do (set it like theirs; 0 = no bound)"},
    {"csv.interval.ms", NP_OPT_INT, "0", 0, INT64_MAX, NULL,
     "--csv: the series' interval (0 = the median time step)"},
    {"csv.direction", NP_OPT_STR, "both", 0, 0, NULL,
     "--csv: score increases (up), decreases (down) or both"},
    {"csv.transform", NP_OPT_STR, "none", 0, 0, NULL,
     "--csv: model log(offset + x) (log), x (none), or log when no value is negative (auto)"},
    {"csv.tail.q", NP_OPT_STR, "0", 0, 0, NULL,
     "--csv: calibrate scores at this quantile of the series' own |z| (0 = off)"},
    {"csv.tail.max", NP_OPT_STR, "1", 0, 0, NULL, "--csv: the calibration raises z at most by this factor"},
    {"csv.threshold", NP_OPT_STR, "0.94", 0, 0, NULL, "--csv: a score this high opens an alert (the alert column) ..."},
    {"csv.single.score", NP_OPT_STR, "0.97", 0, 0, NULL,
     "--csv: ... at one point only from this score; below it the second of two points in a row >= csv.threshold opens it (<= csv.threshold: any point)"},
    {"csv.rearm.ms", NP_OPT_INT, "21600000", 0, INT64_MAX, NULL,
     "--csv: an open alert ends once the score stayed below csv.rearm.score this long (0: at once)"},
    {"csv.rearm.score", NP_OPT_STR, "0.9", 0, 0, NULL, "--csv: see csv.rearm.ms"},
    {"csv.hold.ms", NP_OPT_INT, "172800000", 0, INT64_MAX, NULL,
     "--csv: no alert opens before the series has run this long, by default until the daily profile is in use (scores are written all along; 0 = off)"},
    {"csv.explain.only", NP_OPT_BOOL, "true", 0, 0, NULL,
     "--csv: the profiles may only lower a score (the smaller residual of level + profiles and level alone)"},
    {"csv.explain.bins", NP_OPT_INT, "0", 0, 12, NULL,
     "--csv: with csv.explain.only, the daily profile this many bins either side may explain a value too (0 = the bin itself)"},
    {"csv.bin.scale", NP_OPT_STR, "0.5", 0, 0, NULL,
     "--csv: the scale is at least this times the spread of the profile bin in use (0 = off)"},
    {"csv.floor.frac", NP_OPT_STR, "0.35", 0, 0, NULL,
     "--csv: the scale is at least this times the spread implied by the long-run mean |residual| (0 = off)"},
    {"csv.floor.ms", NP_OPT_INT, "604800000", 1, INT64_MAX, NULL,
     "--csv: the long-run mean |residual| of csv.floor.frac averages over about this long"},
    {"csv.runs", NP_OPT_INT, "0", 0, 16, NULL,
     "--csv: also score runs of up to this many points beyond a level together (multi-scale; 0 = off)"},
    {"records", NP_OPT_STR, NULL, 0, 0, NULL, "Detect on recorded flow records (one per line)"},
    {"topic", NP_OPT_STR, NULL, 0, 0, NULL, "Detect on a Kafka topic, up to its end when started"},
    {"from.ms", NP_OPT_INT, "0", 0, INT64_MAX, NULL, "--topic: start at this record timestamp (0 = beginning)"},
    {"output", NP_OPT_STR, "-", 0, 0, NULL, "Write results here (- = stdout)"},
    {"forecasts", NP_OPT_BOOL, "false", 0, 0, NULL, "Also write the forecasts"},
    NP_OPT_PANE_MS,
    NP_OPT_LATENESS_MS,
    NP_OPT_MAX_SOURCES_PER_PANE("1048576", 67108864, "per pane (as the coordinator's global panes)"),
    NP_OPT_MAX_DESTS_PER_PANE("1048576", 1, 67108864, "per pane (as the coordinator's global panes)"),
    NP_OPT_MAX_EMPTY_RUN,
    NP_OPT_HLL_POOL_BLOCKS("262144"),
    NP_OPTS_DETECT,
    NP_OPTS_VIEWS("16384"),
};

#define MAXP 1024

typedef struct det {
    np_proc_t proc;
    np_detect_config_t dcfg;
    np_viewset_t views;
    np_detect_t *d;
    np_anomaly_t *an;
    np_merge_t *merge;
    np_partstate_t *ps[MAXP];
    int32_t nparts;
    np_partial_enc_t enc;
    np_strbuf_t sb;
    FILE *out;
    bool forecasts;
    np_record_limits_t lim;
    uint64_t records, bad, late, anomalies, panes, incomplete;
    int64_t end_ms; /* at the end of the input: where it is taken to end */
    int64_t min_ts, max_ts;
} det_t;

static det_t D;

static void on_final(void *ctx, const np_gpane_t *gp) {
    det_t *x = ctx;
    np_forecast_t fc;
    /* The input ended inside (or before) this pane: it is incomplete, not quiet. Scoring it
     * would report a drop the live pipeline, which sees the rest, would not. */
    if (x->end_ms != INT64_MIN && gp->start_ms + x->dcfg.pane_ms > x->end_ms) {
        x->incomplete++;
        return;
    }
    size_t n = np_detect_pane(x->d, gp, x->an, &fc);
    char id[160];
    x->panes++;
    for (size_t i = 0; i < n; i++) {
        np_strbuf_reset(&x->sb);
        np_result_anomaly_json(&x->sb, &x->an[i], id, sizeof(id));
        fprintf(x->out, "%.*s\n", (int)x->sb.len, x->sb.buf);
        x->anomalies++;
    }
    if (x->forecasts) {
        np_strbuf_reset(&x->sb);
        np_result_forecast_json(&x->sb, &fc, id, sizeof(id));
        fprintf(x->out, "%.*s\n", (int)x->sb.len, x->sb.buf);
    }
}

static void on_pane(void *ctx, np_partstate_t *ps, const np_pane_t *pane, uint64_t late) {
    det_t *x = ctx;
    const uint8_t *buf;
    size_t len;
    if (np_partial_encode(&x->enc, "detect", ps->partition, pane, ps->cfg.pane_ms, late, &buf, &len) < 0) abort();
    Netpulse__WorkerMsg *m = netpulse__worker_msg__unpack(NULL, len, buf);
    if (!m) abort();
    np_merge_add_partial(x->merge, m->partial);
    netpulse__worker_msg__free_unpacked(m, NULL);
}

/* Reports every partition's progress and publishes what is final. */
static void progress(det_t *x) {
    for (int32_t p = 0; p < x->nparts; p++) {
        Netpulse__PartitionProgress pp = NETPULSE__PARTITION_PROGRESS__INIT;
        pp.partition = p;
        pp.closed_through_ms = x->ps[p]->closed_through;
        pp.watermark_ms = np_partstate_watermark(x->ps[p]);
        pp.has_data = x->ps[p]->has_data;
        np_merge_progress(x->merge, &pp, 0);
    }
    while (np_merge_has_final(x->merge)) np_merge_finalize(x->merge, 1024, on_final, x);
}

static void take(det_t *x, int32_t p, const char *buf, size_t len, int64_t kafka_ts, int64_t offset) {
    np_record_t r;
    char detail[128];
    int64_t now = np_clock_wall_ms(NULL);
    np_record_reason_t why = np_record_decode(buf, len, kafka_ts, now, &x->lim, &r, detail, sizeof(detail));
    if (why != NP_REC_OK) { /* counted (summary) and logged; offline, nothing is dead-lettered */
        static np_log_rl_t rl = NP_LOG_RL_INIT;
        x->bad++;
        np_log_rl(&rl, NP_LOG_WARN, "bad_record", "partition=%d offset=%" PRId64 " reason=%s detail=\"%s\"", p, offset,
                  np_record_reason_name(why), detail);
        return;
    }
    x->records++;
    if (r.ts_ms < x->min_ts) x->min_ts = r.ts_ms;
    if (r.ts_ms > x->max_ts) x->max_ts = r.ts_ms;
    int64_t ct = x->ps[p]->closed_through;
    if (np_partstate_add(x->ps[p], &r, offset, on_pane, x, NULL) == NP_PANE_LATE) x->late++;
    if (x->ps[p]->closed_through != ct) progress(x);
}

/* End of input: every partition closes everything it holds. */
/* Once a second: how far the run has got. */
static void log_progress(const det_t *x, int64_t *next_log) {
    if (np_clock_mono_ms() < *next_log) return;
    np_info("progress", "records=%" PRIu64 " panes=%" PRIu64 " anomalies=%" PRIu64, x->records, x->panes, x->anomalies);
    *next_log += 1000;
}

static void finish(det_t *x) {
    /* The input ends after its last record plus twice the mean time between records: a
     * recording that stops on a pane boundary has its last pane complete; one that stops
     * inside a pane does not. */
    if (x->records == 0) {
        x->end_ms = INT64_MIN + 1;
    } else {
        int64_t gap = x->records > 1 ? 2 * (x->max_ts - x->min_ts) / (int64_t)(x->records - 1) : 0;
        x->end_ms = x->max_ts + 1 + gap;
    }
    for (int32_t p = 0; p < x->nparts; p++) {
        int64_t wm = np_partstate_watermark(x->ps[p]);
        if (wm == NP_TS_NONE) wm = 0;
        np_partstate_follow(x->ps[p], x->ps[p]->max_ts == NP_TS_NONE ? wm : x->ps[p]->max_ts + 3 * x->dcfg.pane_ms);
        np_partstate_advance(x->ps[p], on_pane, x);
        if (!x->ps[p]->has_data) x->ps[p]->closed_through = INT64_MAX / 2;
    }
    progress(x);
}

/* Opens the input named by option `key`; NULL after reporting the error. */
static FILE *open_input(const char *key, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        char why[512];
        snprintf(why, sizeof(why), "%s: cannot open %s: %s", key, path, strerror(errno));
        np_proc_fatal_config(why);
    }
    return f;
}

/* Strips the line end; returns the remaining length. */
static size_t chomp(char *line, ssize_t n) {
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    return (size_t)n;
}

/* One CSV row: its timestamp text, time, value (NAN = empty or not a number). */
typedef struct csv_row {
    char *ts, *val;
    int64_t t_ms;
    double v;
} csv_row_t;

/* Seconds (or milliseconds, when > 1e11) since the epoch, or an ISO-8601 date-time in UTC
 * ("2018-07-03 14:00:00", "2018-07-03T14:00:00Z"); -1 when neither. */
static int64_t parse_time(const char *s) {
    char *end;
    while (*s == '"' || *s == ' ') s++;
    double num = strtod(s, &end);
    if (end != s && (*end == '\0' || *end == '"')) return (int64_t)(num > 1e11 ? num : num * 1000.0);
    int Y, M, Dd, h = 0, m = 0;
    double sec = 0;
    if (sscanf(s, "%d-%d-%d%*[T ]%d:%d:%lf", &Y, &M, &Dd, &h, &m, &sec) < 3) return -1;
    /* days from civil (H. Hinnant) */
    Y -= M <= 2;
    int64_t era = (Y >= 0 ? Y : Y - 399) / 400;
    int64_t yoe = Y - era * 400, doy = (153 * (M + (M > 2 ? -3 : 9)) + 2) / 5 + Dd - 1;
    int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    return ((days * 24 + h) * 60 + m) * 60000 + (int64_t)(sec * 1000.0);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The series' interval: the median of the time steps (rows in time order). */
static int64_t infer_interval(const csv_row_t *rows, size_t n) {
    size_t k = 0;
    int64_t *d = malloc((n ? n : 1) * sizeof(*d));
    if (!d) return 0;
    for (size_t i = 1; i < n; i++)
        if (rows[i].t_ms >= 0 && rows[i - 1].t_ms >= 0 && rows[i].t_ms > rows[i - 1].t_ms)
            d[k++] = rows[i].t_ms - rows[i - 1].t_ms;
    qsort(d, k, sizeof(*d), cmp_i64);
    int64_t iv = k ? d[k / 2] : 0;
    free(d);
    return iv;
}

/* Reads timestamp,value[,...] rows; a first row whose value is not a number is a header.
 * Rows whose value is empty or not a number are kept (v = NAN). */
static csv_row_t *read_csv(FILE *f, size_t *nrows, uint64_t *bad_time) {
    char *line = NULL;
    size_t cap = 0, n = 0, rcap = 0;
    ssize_t len;
    csv_row_t *rows = NULL;
    bool first = true;
    while ((len = getline(&line, &cap, f)) >= 0) {
        chomp(line, len);
        char *comma = strchr(line, ',');
        if (!comma) continue;
        *comma = '\0';
        char *val = comma + 1, *more = strchr(val, ',');
        if (more) *more = '\0';
        size_t vl = strlen(val); /* a quoted value ("12.5", as some exports write) is a number too */
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        char *end;
        double v = strtod(val, &end);
        bool num = end != val && *end == '\0';
        if (first && !num && *val) { /* header */
            first = false;
            continue;
        }
        first = false;
        if (n == rcap) {
            rcap = rcap ? 2 * rcap : 4096;
            csv_row_t *nr = realloc(rows, rcap * sizeof(*rows));
            if (!nr) break;
            rows = nr;
        }
        csv_row_t *r = &rows[n++];
        r->ts = strdup(line);
        r->val = strdup(val);
        r->v = num && isfinite(v) ? v : NAN;
        r->t_ms = parse_time(line);
        if (r->t_ms < 0) (*bad_time)++;
    }
    free(line);
    *nrows = n;
    return rows;
}

static bool all_nonneg(const csv_row_t *rows, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (rows[i].v < 0) return false;
    return true;
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The log transform's offset: a tenth of the median of the first `k` values (at least 1e-9
 * of their largest), so that values near 0 do not dominate. */
static double log_offset(const csv_row_t *rows, size_t n, int k) {
    double v[1024];
    size_t m = 0;
    for (size_t i = 0; i < n && m < (size_t)k && m < 1024; i++)
        if (!isnan(rows[i].v)) v[m++] = fabs(rows[i].v);
    if (!m) return 1;
    qsort(v, m, sizeof(double), cmp_dbl);
    double off = 0.1 * v[m / 2];
    if (off <= 1e-9 * v[m - 1] || off <= 0) off = v[m - 1] > 0 ? 0.1 * v[m - 1] : 1;
    return off;
}

static const char *const csv_events[] = {"", "level_shift", "variance_change"};

/* Scores a CSV series with np_series. Output: timestamp,value,anomaly_score,expected,forecast,event,alert,z
 * (forecast: the live forecast's method, made before the value);
 * a row whose value is missing keeps its place with empty score and event "missing". */
static int run_csv(det_t *x, const char *path) {
    FILE *f = open_input("csv", path);
    if (!f) return 2;
    size_t n = 0;
    uint64_t bad_time = 0, missing = 0, alerts = 0, events = 0;
    csv_row_t *rows = read_csv(f, &n, &bad_time);
    fclose(f);
    np_config_t *c = x->proc.cfg;
    np_series_config_t sc;
    int64_t iv = np_config_int(c, "csv.interval.ms");
    if (!iv) iv = infer_interval(rows, n);
    if (iv <= 0) iv = 1000; /* no usable times: points are seconds apart */
    np_series_config_init(&sc, iv);
    sc.shift_ms = np_config_int(c, "detect.shift.ms");
    const char *dir = np_config_str(c, "csv.direction");
    if (strcmp(dir, "up") && strcmp(dir, "down") && strcmp(dir, "both")) {
        np_proc_fatal_config("csv.direction must be up, down or both");
        return 2;
    }
    sc.direction = !strcmp(dir, "up") ? 1 : !strcmp(dir, "down") ? -1 : 0;
    sc.seasonal = np_config_bool(c, "detect.seasonal");
    sc.runs = (int)np_config_int(c, "csv.runs");
    sc.tail_q = strtod(np_config_str(c, "csv.tail.q"), NULL);
    sc.tail_max = strtod(np_config_str(c, "csv.tail.max"), NULL);
    sc.threshold = strtod(np_config_str(c, "csv.threshold"), NULL);
    sc.single_score = strtod(np_config_str(c, "csv.single.score"), NULL);
    sc.rearm_score = strtod(np_config_str(c, "csv.rearm.score"), NULL);
    sc.rearm_ms = np_config_int(c, "csv.rearm.ms");
    sc.hold_ms = np_config_int(c, "csv.hold.ms");
    sc.bin_scale = strtod(np_config_str(c, "csv.bin.scale"), NULL);
    sc.explain_only = np_config_bool(c, "csv.explain.only");
    sc.explain_bins = (int)np_config_int(c, "csv.explain.bins");
    sc.floor_frac = strtod(np_config_str(c, "csv.floor.frac"), NULL);
    sc.floor_ms = np_config_int(c, "csv.floor.ms");
    if (!(sc.floor_frac >= 0 && sc.floor_frac <= 10)) {
        np_proc_fatal_config("csv.floor.frac must be in [0, 10]");
        return 2;
    }
    if (!(sc.threshold > 0 && sc.threshold <= 1) || !(sc.rearm_score >= 0 && sc.rearm_score <= 1) ||
        !(sc.single_score >= 0 && sc.single_score <= 1)) {
        np_proc_fatal_config("csv.threshold must be in (0, 1], csv.rearm.score and csv.single.score in [0, 1]");
        return 2;
    }
    const char *tr = np_config_str(c, "csv.transform");
    if (!strcmp(tr, "log") || (!strcmp(tr, "auto") && all_nonneg(rows, n)))
        sc.log_offset = log_offset(rows, n, sc.level_points);
    np_series_t *s = np_series_new(&sc);
    if (!s) return 1;
    fprintf(x->out, "timestamp,value,anomaly_score,expected,forecast,event,alert,z\n");
    /* The live forecast's method on this series (np_sforecast: Holt, detect.forecast.*, plain
     * or on value / the seasonal factor, whichever has been better), for the next interval. */
    const np_detect_config_t *dc = &x->dcfg;
    np_season_t *season = calloc(1, sizeof(*season));
    if (!season) return 1;
    np_season_init(season, iv);
    np_sforecast_t fcm;
    memset(&fcm, 0, sizeof(fcm));
    double fc_next = NAN;
    int64_t prev_t = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        csv_row_t *r = &rows[i];
        int64_t t = r->t_ms >= 0 ? r->t_ms : (int64_t)i * iv;
        if (isnan(r->v)) {
            missing++;
            if (missing <= 10)
                np_warn("missing_value", "row=%zu timestamp=\"%s\" value=\"%s\"", i + 1, r->ts, r->val);
            fprintf(x->out, "%s,%s,,,,missing,,\n", r->ts, r->val);
            continue;
        }
        np_series_out_t o;
        np_series_push(s, t, r->v, &o);
        if (o.alert) alerts++;
        if (o.event) events++;
        fprintf(x->out, "%s,%s,%.6f,%.6g,", r->ts, r->val, o.score, o.expected);
        if (isfinite(fc_next) && prev_t != INT64_MIN && t - prev_t == iv) fprintf(x->out, "%.6g", fc_next);
        fprintf(x->out, ",%s,%d,%.4f\n", csv_events[o.event], o.alert ? 1 : o.in_alert ? 2 : 0, o.warm ? o.z : 0.0);
        fc_next = np_sforecast_step(&fcm, sc.seasonal ? season : NULL, t, t + iv, r->v, dc->forecast_alpha,
                                    dc->forecast_beta, dc->forecast_phi);
        prev_t = t;
        if (sc.seasonal) np_season_learn(season, t, r->v);
    }
    np_info("done", "rows=%zu missing=%" PRIu64 " unparsed_times=%" PRIu64 " interval_ms=%" PRId64
            " alerts=%" PRIu64 " threshold=%g events=%" PRIu64,
            n, missing, bad_time, iv, alerts, sc.threshold, events);
    for (size_t i = 0; i < n; i++) {
        free(rows[i].ts);
        free(rows[i].val);
    }
    free(rows);
    free(season);
    np_series_destroy(&s);
    return 0;
}

static int run_records(det_t *x, const char *path) {
    FILE *f = open_input("records", path);
    if (!f) return 2;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int64_t off = 0, next_log = np_clock_mono_ms() + 1000;
    while (!np_proc_stopping() && (n = getline(&line, &cap, f)) >= 0) {
        size_t len = chomp(line, n);
        if (len) take(x, 0, line, len, -1, off++);
        if ((off & 4095) == 0) log_progress(x, &next_log);
    }
    free(line);
    fclose(f);
    finish(x);
    return 0;
}

static int run_topic(det_t *x, const char *topic) {
    char err[512];
    static const char *const defaults[] = {"enable.auto.commit", "false", "group.id", "netpulse-detect", NULL};
    rd_kafka_conf_t *conf = np_kafka_conf_new_with(x->proc.cfg, "netpulse-detect", defaults, err, sizeof(err));
    if (!conf) {
        np_proc_fatal_config(err);
        return 2;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk) {
        np_proc_fatal_config(err);
        return 2;
    }
    const rd_kafka_metadata_t *md;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
        md->topics[0].err) {
        np_error("no_topic", "topic=%s", topic);
        return 1;
    }
    int32_t np = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    if (np > MAXP) np = MAXP;
    int64_t hi[MAXP], from = np_config_int(x->proc.cfg, "from.ms");
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(np);
    int32_t open = 0;
    for (int32_t p = 0; p < np; p++) {
        int64_t lo;
        if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi[p], 10000)) return 1;
        rd_kafka_topic_partition_list_add(tl, topic, p)->offset = from ? from : RD_KAFKA_OFFSET_BEGINNING;
        if (hi[p] > lo) open++;
    }
    if (from && rd_kafka_offsets_for_times(rk, tl, 10000)) return 1;
    rd_kafka_assign(rk, tl);
    rd_kafka_topic_partition_list_destroy(tl);
    x->nparts = np;
    for (int32_t p = 0; p < np; p++) {
        np_pane_config_t pc = x->ps[0]->cfg;
        if (p && !(x->ps[p] = np_partstate_new(p, &pc))) return 1;
    }
    np_merge_set_partitions(x->merge, np);
    bool done[MAXP] = {0};
    for (int32_t p = 0; p < np; p++)
        if (hi[p] == 0) done[p] = true;
    int64_t next_log = np_clock_mono_ms() + 1000;
    while (open > 0 && !np_proc_stopping()) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        if (!m) continue;
        if (!m->err && m->partition < np && !done[m->partition]) {
            take(x, m->partition, m->payload, m->len, rd_kafka_message_timestamp(m, NULL), m->offset);
            if (m->offset + 1 >= hi[m->partition]) {
                done[m->partition] = true;
                open--;
            }
        } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && m->partition < np && !done[m->partition]) {
            done[m->partition] = true;
            open--;
        }
        rd_kafka_message_destroy(m);
        log_progress(x, &next_log);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    finish(x);
    return 0;
}

int main(int argc, char **argv) {
    det_t *x = &D;
    int rc = np_proc_init(&x->proc, "netpulse-detect",
                          "Runs netpulse's detectors offline: over a CSV time series, recorded flow "
                          "records, or a range of a Kafka topic.",
                          det_opts, sizeof(det_opts) / sizeof(det_opts[0]), argc, argv);
    if (rc) return rc == 1 ? 0 : 2;
    np_config_t *c = x->proc.cfg;
    char err[512];
    int64_t pane_ms = np_config_int(c, "pane.ms");
    if (np_detect_config_load(&x->dcfg, c, pane_ms, err, sizeof(err)) < 0 ||
        np_views_config_load(&x->views, c, err, sizeof(err)) < 0) {
        np_proc_fatal_config(err);
        return 2;
    }
    x->dcfg.views = &x->views;
    const char *csv = np_config_str(c, "csv"), *records = np_config_str(c, "records"), *topic = np_config_str(c, "topic");
    int modes = (csv && *csv) + (records && *records) + (topic && *topic);
    if (modes != 1) {
        np_proc_fatal_config("exactly one of csv, records or topic must be given");
        return 2;
    }
    const char *outp = np_config_str(c, "output");
    x->out = strcmp(outp, "-") ? fopen(outp, "w") : stdout;
    if (!x->out) {
        snprintf(err, sizeof(err), "output: cannot open %s: %s", outp, strerror(errno));
        np_proc_fatal_config(err);
        return 2;
    }
    x->forecasts = np_config_bool(c, "forecasts");
    x->end_ms = INT64_MIN;
    x->min_ts = INT64_MAX;
    x->max_ts = INT64_MIN;
    np_record_limits_default(&x->lim);
    x->lim.max_future_ms = np_config_int(c, "max.future.ms");
    np_hll_pool_t *pool = np_hll_pool_new(NP_HLL_P_DEFAULT, (size_t)np_config_int(c, "hll.pool.blocks"));
    np_merge_config_t mc = {.pane_ms = pane_ms,
                            .max_panes = 4096,
                            .max_sources = (size_t)np_config_int(c, "max.sources.per.pane"),
                            .max_dests = (size_t)np_config_int(c, "max.dests.per.pane"),
                            .max_empty_run = (size_t)np_config_int(c, "max.empty.run"),
                            .pool = pool,
                            .views = &x->views,
                            .max_groups = (size_t)np_config_int(c, "views.max.groups")};
    np_pane_config_t pc = {.pane_ms = pane_ms,
                           .lateness_ms = np_config_int(c, "lateness.ms"),
                           .max_sources = mc.max_sources,
                           .max_dests = mc.max_dests,
                           .pool = pool,
                           .views = mc.views,
                           .max_groups = mc.max_groups};
    pc.max_open_panes = (size_t)(pc.lateness_ms / pane_ms) + 4;
    x->d = np_detect_new(&x->dcfg);
    x->an = calloc(x->dcfg.max_alerts, sizeof(*x->an));
    x->merge = pool ? np_merge_new(&mc) : NULL;
    x->ps[0] = np_partstate_new(0, &pc);
    x->nparts = 1;
    if (!x->d || !x->an || !x->merge || !x->ps[0]) {
        np_error("out_of_memory", "what=state");
        return 1;
    }
    np_merge_set_partitions(x->merge, 1);
    np_partial_enc_init(&x->enc);
    np_strbuf_init(&x->sb);
    if (csv && *csv)
        rc = run_csv(x, csv);
    else if (records && *records)
        rc = run_records(x, records);
    else
        rc = run_topic(x, topic);
    np_info("summary",
            "records=%" PRIu64 " undecodable=%" PRIu64 " late=%" PRIu64 " panes=%" PRIu64 " anomalies=%" PRIu64
            " incomplete_panes_skipped=%" PRIu64,
            x->records, x->bad, x->late, x->panes, x->anomalies, x->incomplete);
    if (x->out != stdout) fclose(x->out);
    for (int32_t p = 0; p < x->nparts; p++) np_partstate_destroy(&x->ps[p]);
    np_merge_destroy(&x->merge);
    np_detect_destroy(&x->d);
    free(x->an);
    np_hll_pool_destroy(&pool);
    np_partial_enc_free(&x->enc);
    np_strbuf_free(&x->sb);
    np_proc_fini(&x->proc);
    return rc;
}
