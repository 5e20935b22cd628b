/*
 * np_season: a multiplicative daily and weekly profile of a non-negative series (traffic
 * volumes), learnt online, for the live volume detectors and the forecast (np_detect) and
 * for the forecast column of `netpulse-detect --csv`. I/O-free and clock-free (each value
 * carries its time); fixed size (about 6 KiB), no allocation.
 *
 * Learning: values are averaged per bin (day / 288 = 5 min, or one bin per interval when
 * the interval is longer). Each closed bin's mean, divided by the mean of the bins of the
 * trailing day, updates that time of day's factor (an exponentially weighted mean: the
 * first values average, then about 5 days); each closed day's mean, divided by the mean of
 * the trailing 7 days (deseasonalised), updates that day of the week's factor (about 3
 * weeks). Relative to a trailing mean, a lasting change of level moves the daily profile
 * for a day; a day more than 50 % off the weekly profile is not learnt, and two such days
 * restart the trailing week. A step goes at most to twice (half) the factor, so one
 * anomaly moves a factor by at most 20 % (30 % for a weekday).
 *
 * Use: np_season_factor(t) = daily(t) x weekly(t), each normalised to mean 1; the daily
 * factor is interpolated between bin centres, the weekly one over the 2 h around midnight.
 * Each part is 1 until it has been learnt: the daily one from every bin seen on 2 full days
 * after the first (3 days of history), the weekly one from every day of the week seen after
 * the first full week (2 weeks).
 * np_season_stage says which parts are in use (bit 1 daily, bit 2 weekly), so that a user
 * of deseasonalised values can rebase when one switches on.
 */
#ifndef NP_SEASON_H
#define NP_SEASON_H

#include <stdbool.h>
#include <stdint.h>

#define NP_SEASON_DAY_BINS 288
#define NP_SEASON_WEEK_BINS 7

typedef struct np_season {
    int64_t interval_ms, bin_ms;
    int bins;                            /* 0: no profile at this cadence (interval >= 12 h) */
    int64_t first_ms;                    /* first value's time; INT64_MIN: none yet */
    int64_t cur_bin;                     /* absolute bin (t / bin_ms) being averaged */
    double cur_sum;
    uint32_t cur_n;
    double day[NP_SEASON_DAY_BINS];      /* factor per time of day (not normalised) */
    uint32_t day_n[NP_SEASON_DAY_BINS];
    double week[NP_SEASON_WEEK_BINS];    /* factor per day of the week (not normalised) */
    uint32_t week_n[NP_SEASON_WEEK_BINS];
    double hist[NP_SEASON_DAY_BINS];     /* trailing day of bin means (ring) */
    int hist_n, hist_pos;
    int64_t cur_day;                     /* absolute day being averaged */
    double day_sum;
    uint32_t day_cnt;
    double days[NP_SEASON_WEEK_BINS];    /* trailing week of day means / weekly factor (ring) */
    int days_n, days_pos;
    uint32_t week_off;                   /* days in a row far off the profile */
} np_season_t;

void np_season_init(np_season_t *s, int64_t interval_ms);

/* Learns v (>= 0) at t_ms (times in order). */
void np_season_learn(np_season_t *s, int64_t t_ms, double v);

/* The expected value at t_ms relative to the series' mean: 1 until a profile is in use. */
double np_season_factor(const np_season_t *s, int64_t t_ms);

/* Bit 1: the daily profile is in use at t_ms, bit 2: the weekly one. */
int np_season_stage(const np_season_t *s, int64_t t_ms);
/* The factor with only the parts of `stage` (to rebase values deseasonalised under it). */
double np_season_factor_stage(const np_season_t *s, int64_t t_ms, int stage);
/* For a user holding values deseasonalised under *stage: when the stage at t_ms differs,
 * sets *stage to it and returns what to multiply those values by (old factor / new); else 1. */
double np_season_rebase(const np_season_t *s, int64_t t_ms, int *stage);

/* The smallest and largest factor within one bin of t_ms: a recurring change that comes a
 * few minutes early or late is still the profile's. */
void np_season_range(const np_season_t *s, int64_t t_ms, int stage, double *lo, double *hi);

/* The forecast, the better of two models on each series: Holt's damped model (the
 * configured constants) on the values, and on the deseasonalised values times the next
 * point's factor (only while a profile is in use). Each one's one-step absolute error is
 * averaged over about 200 steps; the plain model is used until the seasonal one's error is
 * 10 % smaller (and back likewise), so a series whose profile does not predict it (mostly 0
 * with rare bursts) keeps the plain one. Tried and dropped: two more models with alpha 0.3
 * (smoothing noise): on the scenarios the switching cost more than it gained (R2 0.813
 * against 0.822 for the last pane; docs/detection-eval.md). */
#define NP_SFORECAST_MODELS 2
typedef struct np_sforecast_model {
    bool init;
    double lvl, tr, err, pred;
} np_sforecast_model_t;

typedef struct np_sforecast {
    bool has_pred;
    int stage;                 /* np_season_stage the seasonal models are deseasonalised with */
    int best;                  /* the model used for the last prediction */
    np_sforecast_model_t m[NP_SFORECAST_MODELS]; /* plain, seasonal */
} np_sforecast_t;

/* Learns x at t_ms (season: the series' profile, or NULL), returns the prediction for next_ms. */
double np_sforecast_step(np_sforecast_t *f, const np_season_t *season, int64_t t_ms, int64_t next_ms, double x,
                         double alpha, double beta, double phi);

/* One step of Holt's damped linear model: learns x, returns the prediction of the next
 * value. *init false: starts at x. */
double np_holt_step(double *level, double *trend, bool *init, double x, double alpha, double beta, double phi);

#endif
