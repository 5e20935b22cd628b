/* np_season: online daily / weekly profiles of a volume. See np_season.h. */
#include "np_season.h"

#include <math.h>
#include <string.h>

#define DAY_MS 86400000LL

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int floor_mod(int64_t a, int64_t m) { return (int)(a - floor_div(a, m) * m); }

void np_season_init(np_season_t *s, int64_t interval_ms) {
    memset(s, 0, sizeof(*s));
    s->interval_ms = interval_ms > 0 ? interval_ms : 1;
    s->first_ms = INT64_MIN;
    if (s->interval_ms < DAY_MS / 2) { /* a profile needs at least 2 values a day */
        int64_t bins = DAY_MS / s->interval_ms;
        s->bins = (int)(bins > NP_SEASON_DAY_BINS ? NP_SEASON_DAY_BINS : bins);
        s->bin_ms = DAY_MS / s->bins;
    }
}

static double mean_of(const double *v, int n) {
    double sum = 0;
    for (int i = 0; i < n; i++) sum += v[i];
    return n ? sum / n : 0;
}

/* Exponentially weighted: the first 2 values average, then weight `amin`, each step toward
 * at most twice (half) the factor: a one-off anomaly (an outage: ratio 0, a spike) moves it
 * by at most amin x 100 %, a change that recurs every period is learnt within a few. */
static void ewma(double *x, uint32_t *n, double target, double amin) {
    target = target < 0.02 ? 0.02 : target > 50 ? 50 : target;
    if (*n >= 2) target = target > 2 * *x ? 2 * *x : target < 0.5 * *x ? 0.5 * *x : target;
    if (*n < UINT32_MAX) (*n)++;
    double a = 1.0 / *n;
    if (a < amin) a = amin;
    *x += a * (target - *x);
}

/* A day's mean updates its weekday's factor relative to the trailing week (deseasonalised
 * by the factors so far). A day more than 50 % off what the profile predicts is an anomaly
 * or a change of level, not a weekday's pattern: it is not learnt, and two in a row restart
 * the trailing week at the new level, so that a lasting change does not bend the factors. */
static void close_day(np_season_t *s) {
    double dm = s->day_sum / s->day_cnt;
    int w = floor_mod(s->cur_day, NP_SEASON_WEEK_BINS);
    bool known = true;
    for (int k = 0; k < NP_SEASON_WEEK_BINS; k++)
        if (!s->week_n[k]) known = false;
    double wm = mean_of(s->week, NP_SEASON_WEEK_BINS), wn = known && wm > 0 ? s->week[w] / wm : 1;
    if (s->days_n == NP_SEASON_WEEK_BINS) {
        double ref = mean_of(s->days, s->days_n), pred = ref * wn;
        if (known && (dm > 1.5 * pred || dm * 1.5 < pred)) {
            if (++s->week_off >= 2) s->days_n = s->days_pos = 0;
        } else if (ref > 0) {
            s->week_off = 0;
            ewma(&s->week[w], &s->week_n[w], dm / ref, 0.3); /* about 3 weeks */
        }
    }
    s->days[s->days_pos] = wn > 0 ? dm / wn : dm;
    s->days_pos = (s->days_pos + 1) % NP_SEASON_WEEK_BINS;
    if (s->days_n < NP_SEASON_WEEK_BINS) s->days_n++;
    s->day_sum = 0;
    s->day_cnt = 0;
}

static void close_bin(np_season_t *s) {
    double m = s->cur_sum / s->cur_n;
    if (s->hist_n == s->bins) { /* relative to the trailing day: a level change moves it for a day only */
        double lvl = mean_of(s->hist, s->hist_n);
        int b = floor_mod(s->cur_bin, s->bins);
        if (lvl > 0) ewma(&s->day[b], &s->day_n[b], m / lvl, 0.2); /* about 5 days */
    }
    s->hist[s->hist_pos] = m;
    s->hist_pos = (s->hist_pos + 1) % s->bins;
    if (s->hist_n < s->bins) s->hist_n++;
    int64_t dk = floor_div(s->cur_bin * s->bin_ms, DAY_MS);
    if (s->day_cnt && dk != s->cur_day) close_day(s);
    s->cur_day = dk;
    s->day_sum += m;
    s->day_cnt++;
    s->cur_sum = 0;
    s->cur_n = 0;
}

void np_season_learn(np_season_t *s, int64_t t, double v) {
    if (!s->bins || !isfinite(v)) return;
    if (v < 0) v = 0;
    if (s->first_ms == INT64_MIN) s->first_ms = t;
    int64_t k = floor_div(t, s->bin_ms);
    if (s->cur_n && k != s->cur_bin) close_bin(s);
    s->cur_bin = k;
    s->cur_sum += v;
    s->cur_n++;
}

int np_season_stage(const np_season_t *s, int64_t t) {
    if (!s->bins || s->first_ms == INT64_MIN) return 0;
    int stage = 0;
    if (t - s->first_ms >= 2 * DAY_MS) {
        stage = 1;
        for (int b = 0; b < s->bins && stage; b++)
            if (s->day_n[b] < 2) stage = 0;
    }
    if (t - s->first_ms >= 14 * DAY_MS) {
        int w = 2;
        for (int d = 0; d < NP_SEASON_WEEK_BINS && w; d++)
            if (!s->week_n[d]) w = 0;
        stage |= w;
    }
    return stage;
}

double np_season_factor(const np_season_t *s, int64_t t) { return np_season_factor_stage(s, t, np_season_stage(s, t)); }

/* The daily factor interpolated between bin centres, the weekly one flat over each day but
 * for an hour either side of midnight: no step of the profile reads as a change of traffic. */
double np_season_factor_stage(const np_season_t *s, int64_t t, int stage) {
    double f = 1;
    if (!s->bins) return f;
    if (stage & 1) {
        double mean = mean_of(s->day, s->bins);
        double p = (double)floor_mod(t, DAY_MS) / (double)s->bin_ms - 0.5;
        double b0 = floor(p), frac = p - b0;
        int i0 = floor_mod((int64_t)b0, s->bins), i1 = (i0 + 1) % s->bins;
        if (mean > 0) f = ((1 - frac) * s->day[i0] + frac * s->day[i1]) / mean;
    }
    if (stage & 2) { /* flat over the day, a linear change over the hour either side of midnight */
        double mean = mean_of(s->week, NP_SEASON_WEEK_BINS);
        int64_t day = floor_div(t, DAY_MS), into = t - day * DAY_MS, hour = 3600000;
        double w = s->week[floor_mod(day, NP_SEASON_WEEK_BINS)];
        if (into < hour) {
            double frac = 0.5 + (double)into / (double)(2 * hour);
            w = frac * w + (1 - frac) * s->week[floor_mod(day - 1, NP_SEASON_WEEK_BINS)];
        } else if (into > DAY_MS - hour) {
            double frac = 0.5 + (double)(DAY_MS - into) / (double)(2 * hour);
            w = frac * w + (1 - frac) * s->week[floor_mod(day + 1, NP_SEASON_WEEK_BINS)];
        }
        if (mean > 0) f *= w / mean;
    }
    return f < 0.02 ? 0.02 : f > 50 ? 50 : f;
}

double np_season_rebase(const np_season_t *s, int64_t t, int *stage) {
    int now = np_season_stage(s, t);
    if (now == *stage) return 1;
    double k = np_season_factor_stage(s, t, *stage) / np_season_factor_stage(s, t, now);
    *stage = now;
    return k;
}

void np_season_range(const np_season_t *s, int64_t t, int stage, double *lo, double *hi) {
    *lo = *hi = np_season_factor_stage(s, t, stage);
    for (int k = -1; k <= 1; k += 2) {
        double f = np_season_factor_stage(s, t + k * (s->bin_ms ? s->bin_ms : 1), stage);
        if (f < *lo) *lo = f;
        if (f > *hi) *hi = f;
    }
}

double np_holt_step(double *level, double *trend, bool *init, double x, double alpha, double beta, double phi) {
    if (!*init) {
        *level = x;
        *trend = 0;
        *init = true;
    } else {
        double prev = *level;
        *level = alpha * x + (1 - alpha) * (prev + phi * *trend);
        *trend = beta * (*level - prev) + (1 - beta) * phi * *trend;
    }
    return *level + phi * *trend;
}

double np_sforecast_step(np_sforecast_t *f, const np_season_t *season, int64_t t, int64_t next, double x, double alpha,
                         double beta, double phi) {
    if (f->has_pred) /* about 200 steps */
        for (int i = 0; i < NP_SFORECAST_MODELS; i++) f->m[i].err += 0.005 * (fabs(x - f->m[i].pred) - f->m[i].err);
    double k = season ? np_season_rebase(season, t, &f->stage) : 1;
    double ft = season ? np_season_factor_stage(season, t, f->stage) : 1;
    double fn = season ? np_season_factor_stage(season, next, f->stage) : 1;
    if (!f->stage && (f->best & 1)) f->best = 0; /* no profile (any more): the plain models */
    int best = f->best;
    for (int i = 0; i < NP_SFORECAST_MODELS; i++) {
        np_sforecast_model_t *m = &f->m[i];
        bool seasonal = i & 1;
        if (seasonal) {
            m->lvl *= k;
            m->tr *= k;
        }
        m->pred = np_holt_step(&m->lvl, &m->tr, &m->init, seasonal ? x / ft : x, alpha, beta, phi) * (seasonal ? fn : 1);
        if ((!seasonal || f->stage) && m->err < f->m[best].err) best = i;
    }
    /* Another model takes over only when clearly better: switching back and forth on noise
     * costs more than it gains (measured on the scenarios). */
    if (f->m[best].err < 0.9 * f->m[f->best].err) f->best = best;
    f->has_pred = true;
    return f->m[f->best].pred;
}
