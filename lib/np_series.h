/*
 * np_series: one univariate series scored point by point, for `netpulse-detect --csv`.
 * I/O-free and clock-free (each point carries its own time); bounded state (at most about
 * 37 KiB encoded), encodable as one versioned blob.
 *
 * Model: x(t) = level + daily(t) + weekly(t) + residual.
 *   level     median of the last `level_points` deseasonalised values (a day of them, or
 *             3 h without profiles); values are learnt clamped to level +- z_shift scales,
 *             and the residuals of a run beyond z_shift (see level shifts) not at all;
 *   daily     profile of up to 288 bins (one per interval when the interval is >= 5 min),
 *   weekly    profile of 7 bins (one per day of the week: a quiet weekend), each bin an
 *             exponentially weighted mean of what the level leaves (the week: of what the
 *             day leaves), zero-mean; used once the series has run 2 days (2 weeks);
 *   scale     robust spread of the last `resid_points` residuals (1.4826 MAD, or 1.2533 x
 *             the mean absolute deviation when more than half the residuals are equal),
 *             floored (sqrt(level) / 2 for integer-valued series, 0.1 % of the level else,
 *             and at least floor_frac x 1.2533 x the long-run mean |residual|, an EW mean
 *             over about floor_ms, not clamped by the scale: on a zero-inflated series the
 *             window's spread, fed values clamped at z_shift scales, collapses otherwise);
 *             for the score only, at least bin_scale x the spread of the profile bin in
 *             use (each bin keeps the mean square of what it sees around its value: where
 *             the days disagree, e.g. a spike some nights only, a deviation is less rare).
 * With explain_only (default) the profiles may only lower a score, never raise one: the
 * scored z is the smaller of the residual from level + profiles and from the level alone
 * (a profile that learnt part of an irregular spike would otherwise flag every night
 * without it). With `explain_bins` k >= 1 (off by default: measured no better) the daily
 * profile k bins either side may explain a value as well (a pattern a little late or early).
 * Every parameter that depends on the interval is derived from it (np_series_config_init).
 *
 * Score: z = residual / scale, and score = 1 - p, where p = P(|T| >= |z|) for a Student t
 * with 2 degrees of freedom (heavy tails, as real residuals have): score = |z|/sqrt(z^2+2).
 * So a threshold of 0.99 means "rarer than 1 in 100 under the model" (|z| >= 9.95), 0.999
 * |z| >= 31.6, on any series and cadence. With `direction` +1 (-1) only increases
 * (decreases) score above 0. With `runs` k >= 2 (off by default: measured worse), a run of
 * j <= k points all beyond a >= 3 scales on one side scores 1 - (k - 1) x 2 P(T_2 >= a)^j
 * when that is higher, j counted as j (1 - rho) / (1 + rho) for the residuals' lag-1
 * autocorrelation rho (runs of correlated residuals are common).
 *
 * Level shifts: `shift_points` consecutive residuals beyond z_shift scales on the same
 * side (default 6 h of points, at least 3 and at most 256) are a level shift: reported once
 * (NP_SERIES_LEVEL_SHIFT), and the level is rebuilt from those points, so the new level is
 * the baseline after a bounded time; the scale is rebuilt from their spread. For the next
 * 4 x shift_points points a return to the old level scores against the old level (a long
 * spike that ends is not a second anomaly) and restores it. Variance changes: when the
 * spread of the last `var_points` residuals is `var_factor` times larger (or smaller) than
 * the scale, NP_SERIES_VARIANCE_CHANGE is reported once and the scale rebuilt from them.
 *
 * Alerts (hysteresis): while no alert is open, a point scoring >= `single_score` (0.97)
 * opens one (out.alert, once), and so does the second of two consecutive points scoring
 * >= `threshold` (0.94; it opens at the second point, one interval late); a lone point
 * between the two opens none (at 0.94 one point in 17 scores so high under the model: an
 * hourly series has a few such points a week by chance; on Cloud Monitoring's even half
 * at 0.94 the rule cuts false alerts from 181 to 117 and alerted stretches from 109 to 105
 * of 186). The
 * alert stays open, raising no new alert, until the score has stayed below `rearm_score`
 * for `rearm_ms` (rearm_points consecutive points). Residuals are strongly
 * autocorrelated on real series: without it one disturbance that hovers around the
 * threshold raises a burst of alerts (on Cloud Monitoring, a third of all false alerts came
 * within 10 points of the previous one). Scores are not changed by it. No alert opens during
 * the series' first `hold_ms` (2 days, until the daily profile is in use): on Cloud
 * Monitoring 43 of 335 false alerts opened there, against 19 labelled stretches (18 of
 * them flagged, and still flagged: the hold changes alerts, not scores).
 */
#ifndef NP_SERIES_H
#define NP_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NP_SERIES_MAX_LEVEL 1024
#define NP_SERIES_MAX_RESID 1024
#define NP_SERIES_MAX_SHIFT 256
#define NP_SERIES_DAY_BINS 288
#define NP_SERIES_WEEK_BINS 7
#define NP_SERIES_MAX_RUN 16

typedef struct np_series_config {
    int64_t interval_ms;   /* cadence of the points */
    int level_points;      /* derived: clamp(1 day (3 h without profiles) / interval, 12, 1024) */
    int resid_points;      /* derived: clamp(4 x level_points, 48, 1024) */
    int shift_points;      /* derived from shift_ms: clamp(shift_ms / interval, 3, 256) */
    int var_points;        /* derived: clamp(2 x shift_points, 12, 256) */
    int64_t shift_ms;      /* a level shift is the new baseline after this long (default 6 h) */
    double z_shift;        /* residual |z| that counts towards a level shift; learning clamp (default 6) */
    double var_factor;     /* variance change factor (default 3) */
    int direction;         /* 0 both, +1 increases only, -1 decreases only */
    bool seasonal;         /* learn and use daily / weekly profiles (default true) */
    double tail_q;         /* calibrate at this quantile of the series' own |z| (0 = off; 0.99) */
    double tail_max;       /* at most this factor up (1: the calibration only lowers scores) */
    double log_offset;     /* > 0: model log(offset + x) (x >= 0; multiplicative series), 0: x */
    int runs;              /* multi-scale: also score runs of up to this many points (0/1 = off) */
    double bin_scale;      /* scoring scale >= this x the spread of the profile bin used (0.5; 0 = off) */
    bool explain_only;     /* score the smaller residual of level + profiles and level alone (default) */
    int explain_bins;      /* with explain_only, the daily profile's bins this far either side explain too (0 = off, default) */
    double floor_frac;     /* scale >= this x 1.2533 x the long-run mean |residual| (0.35; 0 = off) */
    int64_t floor_ms;      /* ... averaged over about this long (default 7 days) */
    double threshold;      /* alert when the score reaches this (default 0.94) ... */
    double single_score;   /* ... at one point only from this score, else at 2 in a row (0.97; <= threshold: off) */
    double rearm_score;    /* an open alert ends after the score stayed below this ... (default 0.9) */
    int64_t rearm_ms;      /* ... for this long (default 6 h; 0: at the first point below threshold) */
    int64_t rearm_points;  /* derived: ceil(rearm_ms / interval), at least 1 */
    int64_t hold_ms;       /* no alert opens before the series has run this long (default 2 days; 0 = off) */
} np_series_config_t;

/* Defaults for the interval, with every derived length computed. */
void np_series_config_init(np_series_config_t *c, int64_t interval_ms);
/* Recomputes the derived lengths after interval_ms or shift_ms changed. */
void np_series_config_derive(np_series_config_t *c);

typedef enum { NP_SERIES_NONE = 0, NP_SERIES_LEVEL_SHIFT, NP_SERIES_VARIANCE_CHANGE } np_series_event_t;

typedef struct np_series_out {
    double score;     /* calibrated, [0, 1]; 0 until warm */
    double z;         /* signed residual / scale */
    double expected;  /* level + seasonal profile */
    double scale;
    np_series_event_t event;
    bool warm;
    bool alert;       /* an alert starts here (the first point >= threshold of an episode) */
    bool in_alert;    /* an alert episode is open at this point (see Alerts above) */
} np_series_out_t;

typedef struct np_series np_series_t;

np_series_t *np_series_new(const np_series_config_t *c);
void np_series_destroy(np_series_t **s);

/* Scores v at time t_ms (points in time order), then learns it. */
void np_series_push(np_series_t *s, int64_t t_ms, double v, np_series_out_t *out);

/* The expected value at t_ms (level + profiles), without learning. */
double np_series_expect(const np_series_t *s, int64_t t_ms);

/* The score of a z-value: 1 - P(|T_2| >= |z|). */
double np_series_score(double z);

/* State as one blob (versioned; malloc'd) and back. Decode fails (-1) on another version or
 * on lengths that do not match the configuration. */
int np_series_encode(const np_series_t *s, uint8_t **out, size_t *len);
int np_series_decode(np_series_t *s, const uint8_t *buf, size_t len);

#endif
