/* np_series: a univariate series with level, seasonal profiles, level shifts. See np_series.h. */
#include "np_series.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL
#define WEEK_MS (7 * DAY_MS)

typedef struct ring {
    double *v;
    int cap, n, pos;
} ring_t;

typedef struct profile {
    int bins;
    int64_t period_ms, bin_ms;
    double val[NP_SERIES_DAY_BINS > NP_SERIES_WEEK_BINS ? NP_SERIES_DAY_BINS : NP_SERIES_WEEK_BINS];
    uint32_t cnt[NP_SERIES_DAY_BINS > NP_SERIES_WEEK_BINS ? NP_SERIES_DAY_BINS : NP_SERIES_WEEK_BINS];
    /* spread of what each bin sees around its value (EW mean square): a bin whose days
     * disagree (a spike some nights, none on others) is trusted less, see bin_spread */
    double var[NP_SERIES_DAY_BINS > NP_SERIES_WEEK_BINS ? NP_SERIES_DAY_BINS : NP_SERIES_WEEK_BINS];
} profile_t;

#define ZBINS 128 /* |z| histogram: log-spaced, 1e-3 .. 1e5 */

struct np_series {
    np_series_config_t c;
    uint32_t zhist[ZBINS]; /* the series' own |z| so far: calibrates its tail */
    uint64_t ztotal;
    ring_t level, resid, recent, vres, old;
    double *scratch;
    profile_t day, week;
    int64_t first_ms, n;
    bool integer; /* every value so far integral */
    int run, run_sign;
    double old_level, old_scale; /* before the last level shift */
    int64_t old_until;           /* point count until which a return is checked */
    double zrun[NP_SERIES_MAX_RUN]; /* the last signed z values, newest at zrun_pos - 1 */
    int zrun_n, zrun_pos;
    double ac_xy, ac_xx, prev_r; /* lag-1 autocorrelation of the (clamped) residuals */
    bool in_alert;                /* an alert episode is open */
    bool pending;                 /* no alert open; the last point scored in [threshold, single_score) */
    int64_t quiet;                /* points in a row below rearm_score while it is */
    /* Long-run mean |residual| (EW over about floor_ms): the scale may not collapse below
     * floor_frac of it (see scale_floor). */
    double lr_abs;
};

static int clampi(int64_t v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : (int)v; }

void np_series_config_derive(np_series_config_t *c) {
    int64_t iv = c->interval_ms > 0 ? c->interval_ms : 1;
    /* With profiles the level spans a day, so that it does not follow the daily cycle. */
    c->level_points = clampi((c->seasonal ? 24 : 3) * 3600000LL / iv, 12, NP_SERIES_MAX_LEVEL);
    c->resid_points = clampi(4LL * c->level_points, 48, NP_SERIES_MAX_RESID);
    c->shift_points = clampi((c->shift_ms + iv - 1) / iv, 3, NP_SERIES_MAX_SHIFT);
    c->var_points = clampi(2LL * c->shift_points, 12, NP_SERIES_MAX_SHIFT);
    c->rearm_points = c->rearm_ms > 0 ? c->rearm_ms / iv + (c->rearm_ms % iv != 0) : 1; /* ceil, no overflow */
}

void np_series_config_init(np_series_config_t *c, int64_t interval_ms) {
    memset(c, 0, sizeof(*c));
    c->interval_ms = interval_ms;
    c->seasonal = true;
    c->shift_ms = 6 * 3600000;
    c->z_shift = 6;
    c->var_factor = 3;
    c->tail_q = 0;
    c->tail_max = 1;
    c->bin_scale = 0.5;
    c->explain_only = true;
    c->explain_bins = 0; /* measured: no better, see docs/detection-eval.md */
    c->floor_frac = 0.35;
    c->floor_ms = 7 * DAY_MS;
    c->threshold = 0.94;
    c->single_score = 0.97;
    c->rearm_score = 0.9;
    c->rearm_ms = 6 * 3600000LL;
    c->hold_ms = 2 * DAY_MS; /* until the daily profile is in use (profile_get) */
    np_series_config_derive(c);
}

static int ring_init(ring_t *r, int cap) {
    r->cap = cap;
    r->n = r->pos = 0;
    r->v = calloc((size_t)cap, sizeof(double));
    return r->v ? 0 : -1;
}

static void ring_push(ring_t *r, double v) {
    r->v[r->pos] = v;
    r->pos = (r->pos + 1) % r->cap;
    if (r->n < r->cap) r->n++;
}

/* The k-th oldest value still held. */
static double ring_at(const ring_t *r, int k) {
    int start = r->n < r->cap ? 0 : r->pos;
    return r->v[(start + k) % r->cap];
}

static void ring_copy(ring_t *dst, const ring_t *src) {
    dst->n = dst->pos = 0;
    int from = src->n > dst->cap ? src->n - dst->cap : 0;
    for (int k = from; k < src->n; k++) ring_push(dst, ring_at(src, k));
}

static void profile_init(profile_t *p, int64_t period_ms, int64_t interval_ms, int max_bins) {
    memset(p, 0, sizeof(*p));
    p->period_ms = period_ms;
    if (interval_ms <= 0 || interval_ms >= period_ms / 2) return; /* no profile at this cadence */
    int64_t bins = period_ms / interval_ms;
    p->bins = (int)(bins > max_bins ? max_bins : bins);
    p->bin_ms = period_ms / p->bins;
}

static int profile_bin(const profile_t *p, int64_t t) {
    int64_t m = t % p->period_ms;
    if (m < 0) m += p->period_ms;
    int b = (int)(m / p->bin_ms);
    return b < p->bins ? b : p->bins - 1;
}

/* The profile's value at t once the series has run two periods, else 0. */
static double profile_get(const np_series_t *s, const profile_t *p, int64_t t) {
    if (!s->c.seasonal || !p->bins || s->n == 0 || t - s->first_ms < 2 * p->period_ms) return 0;
    int b = profile_bin(p, t);
    if (!p->cnt[b]) return 0;
    double mean = 0; /* zero mean: the level carries the mean */
    int n = 0;
    for (int k = 0; k < p->bins; k++)
        if (p->cnt[k]) mean += p->val[k], n++;
    return p->val[b] - mean / n;
}

/* Exponentially weighted mean per bin: the first values average, then about 5 periods. */
static void profile_learn(np_series_t *s, profile_t *p, int64_t t, double target, double lim) {
    if (!s->c.seasonal || !p->bins) return;
    int b = profile_bin(p, t);
    double per_bin = (double)p->bin_ms / (double)(s->c.interval_ms > 0 ? s->c.interval_ms : 1);
    if (per_bin < 1) per_bin = 1;
    double amin = 0.2 / per_bin;
    if (p->cnt[b] < UINT32_MAX) p->cnt[b]++;
    double a = 1.0 / p->cnt[b];
    if (a < amin) a = amin;
    double step = target - p->val[b];
    if (p->cnt[b] > 1) step = step > lim ? lim : step < -lim ? -lim : step; /* one anomaly moves it little */
    if (p->cnt[b] > 1) p->var[b] += a * (step * step - p->var[b]);
    p->val[b] += a * step;
}

/* The spread of the profile bins used at t (0 while they are not used or have seen fewer
 * than 3 values): the day-to-day disagreement of a recurring pattern. */
static double bin_spread(const np_series_t *s, const profile_t *p, int64_t t) {
    if (!s->c.seasonal || !p->bins || s->n == 0 || t - s->first_ms < 2 * p->period_ms) return 0;
    int b = profile_bin(p, t);
    return p->cnt[b] >= 3 ? sqrt(p->var[b]) : 0;
}

np_series_t *np_series_new(const np_series_config_t *c) {
    np_series_t *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->c = *c;
    np_series_config_derive(&s->c);
    s->integer = true;
    if (ring_init(&s->level, s->c.level_points) || ring_init(&s->resid, s->c.resid_points) ||
        ring_init(&s->recent, s->c.shift_points) || ring_init(&s->vres, s->c.var_points) ||
        ring_init(&s->old, s->c.level_points) ||
        !(s->scratch = calloc(NP_SERIES_MAX_LEVEL + NP_SERIES_MAX_RESID, sizeof(double)))) {
        np_series_destroy(&s);
        return NULL;
    }
    profile_init(&s->day, DAY_MS, s->c.interval_ms, NP_SERIES_DAY_BINS);
    profile_init(&s->week, WEEK_MS, s->c.interval_ms, NP_SERIES_WEEK_BINS);
    return s;
}

void np_series_destroy(np_series_t **sp) {
    if (!sp || !*sp) return;
    np_series_t *s = *sp;
    free(s->level.v);
    free(s->resid.v);
    free(s->recent.v);
    free(s->vres.v);
    free(s->old.v);
    free(s->scratch);
    free(s);
    *sp = NULL;
}

/* ---- robust statistics ----------------------------------------------------------- */

static double select_k(double *a, int n, int k) {
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        double piv = a[(lo + hi) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] < piv) i++;
            while (a[j] > piv) j--;
            if (i <= j) {
                double t = a[i];
                a[i++] = a[j];
                a[j--] = t;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return a[k];
    }
    return a[k];
}

static double median_in(double *a, int n) {
    if (n <= 0) return 0;
    double hi = select_k(a, n, n / 2);
    if (n % 2) return hi;
    double lo = a[0];
    for (int i = 1; i < n / 2; i++)
        if (a[i] > lo) lo = a[i];
    return 0.5 * (lo + hi);
}

static double ring_median(const np_series_t *s, const ring_t *r) {
    for (int k = 0; k < r->n; k++) s->scratch[k] = r->v[k];
    return median_in(s->scratch, r->n);
}

/* Robust spread of a ring around its median (unfloored). */
static double ring_spread(const np_series_t *s, const ring_t *r) {
    if (r->n == 0) return 0;
    double med = ring_median(s, r), mean_ad = 0;
    for (int k = 0; k < r->n; k++) {
        s->scratch[k] = fabs(r->v[k] - med);
        mean_ad += s->scratch[k];
    }
    mean_ad /= r->n;
    double mad = 1.4826 * median_in(s->scratch, r->n);
    double alt = 1.2533 * mean_ad; /* when more than half the residuals are 0 */
    return mad > 0 ? mad : alt;
}

static double to_model(const np_series_t *s, double v) {
    if (s->c.log_offset <= 0) return v;
    return log(s->c.log_offset + (v > 0 ? v : 0));
}

static double from_model(const np_series_t *s, double y) {
    return s->c.log_offset > 0 ? exp(y) - s->c.log_offset : y;
}

/* The smallest scale believed. Besides the resolution terms (sqrt(level) / 2 for counts,
 * 0.1 % of the level else), a fraction of the long-run mean |residual| (x 1.2533, the
 * spread it implies): the window's spread can collapse where it should not. On a
 * zero-inflated series (mostly 0, a value now and then) more than half the residuals are 0,
 * the scale is the mean |residual|, and the rare values enter the window clamped at z_shift
 * scales: when fewer than 1 in 7.5 points are non-zero each pass shrinks the scale, down to
 * the old 1e-9 floor, and every ordinary non-zero value then scored |z| ~ 1e4. */
static double scale_floor(const np_series_t *s, double level) {
    double lr = s->c.floor_frac * 1.2533 * s->lr_abs, f;
    if (s->c.log_offset > 0) {
        double raw = from_model(s, level);
        if (raw < 1) raw = 1;
        f = s->integer ? 0.5 * sqrt(raw) / (raw + s->c.log_offset) : 1e-3;
        if (f < 1e-3) f = 1e-3;
    } else if (s->integer) {
        f = 0.5 * sqrt(fabs(level) > 1 ? fabs(level) : 1);
    } else {
        f = 1e-3 * fabs(level);
        if (f < 1e-9) f = 1e-9;
    }
    return lr > f ? lr : f;
}

static int zbin(double a) {
    if (!(a > 1e-3)) return 0;
    int b = (int)(log10(a / 1e-3) * ZBINS / 8.0);
    return b >= ZBINS ? ZBINS - 1 : b;
}

static double zbin_upper(int b) { return 1e-3 * pow(10.0, 8.0 * (b + 1) / ZBINS); }

static void zhist_add(np_series_t *s, double a) {
    if (s->ztotal >= (1u << 20)) { /* keep it bounded and recent: halve */
        s->ztotal = 0;
        for (int b = 0; b < ZBINS; b++) s->ztotal += (s->zhist[b] /= 2);
    }
    s->zhist[zbin(a)]++;
    s->ztotal++;
}

/* The factor that maps this series' |z| quantile `tail_q` onto the t2 model's: a series
 * whose residuals are heavier-tailed than the model scores lower, so one threshold means
 * the same rarity on every series. 1 until 100 points have been seen. */
static double tail_factor(const np_series_t *s) {
    if (s->c.tail_q <= 0 || s->ztotal < 100) return 1;
    uint64_t want = (uint64_t)ceil(s->c.tail_q * (double)s->ztotal), acc = 0;
    int b = 0;
    for (; b < ZBINS - 1; b++)
        if ((acc += s->zhist[b]) >= want) break;
    double q = zbin_upper(b), tq = s->c.tail_q;
    double ref = sqrt(2.0) * tq / sqrt(1 - tq * tq); /* the t2 quantile of |z| */
    double f = ref / q;
    return f < s->c.tail_max ? f : s->c.tail_max;
}

/* Multi-scale: k points in a row all beyond a (same side) happen with probability
 * 2 (P(T_2 >= a))^k under the model, so a run of moderate residuals (a small level change,
 * a slow drift, a wider spread) is as rare as one large one. The smallest such p over
 * k = 2..runs, times the number of scales tried (Bonferroni), against the point's own. */

/* Only residuals of at least 3 scales make a run: smaller ones in a row are the level's
 * ordinary lag (runs of any size gave 13 false alerts per series-week on Cloud Monitoring). */
#define RUN_ZMIN 3
static double run_score(const np_series_t *s, double z, double score) {
    int K = s->c.runs < NP_SERIES_MAX_RUN ? s->c.runs : NP_SERIES_MAX_RUN;
    if (K < 2) return score;
    double p = 1 - score, best = 1, a = fabs(z);
    for (int k = 2; k <= K && k - 1 <= s->zrun_n; k++) {
        double zk = s->zrun[(s->zrun_pos - (k - 1) + NP_SERIES_MAX_RUN) % NP_SERIES_MAX_RUN];
        if ((zk > 0) != (z > 0) || fabs(zk) < RUN_ZMIN) break;
        if (fabs(zk) < a) a = fabs(zk);
        double one = 0.5 * (1 - a / sqrt(a * a + 2)); /* P(T_2 >= a) */
        /* Correlated residuals make runs likelier: k points count as k (1 - rho) / (1 + rho). */
        double rho = s->ac_xx > 0 ? s->ac_xy / s->ac_xx : 0;
        rho = rho < 0 ? 0 : rho > 0.95 ? 0.95 : rho;
        double keff = k * (1 - rho) / (1 + rho);
        if (keff < 1) keff = 1;
        double pk = 2 * pow(one, keff) * (K - 1);
        if (pk < best) best = pk;
    }
    return best < p ? 1 - best : score;
}

double np_series_score(double z) {
    double a = fabs(z);
    if (!isfinite(a)) return isnan(a) ? 0 : 1;
    return a / sqrt(a * a + 2.0);
}

/* ---- the model ------------------------------------------------------------------- */

static double seasonal(const np_series_t *s, int64_t t) {
    return profile_get(s, &s->day, t) + profile_get(s, &s->week, t);
}

double np_series_expect(const np_series_t *s, int64_t t_ms) {
    np_series_t *m = (np_series_t *)s; /* scratch only */
    return from_model(s, ring_median(m, &s->level) + seasonal(s, t_ms));
}

static void fill_ring(ring_t *r, const ring_t *src) {
    r->n = r->pos = 0;
    for (int k = 0; k < src->n; k++) ring_push(r, ring_at(src, k));
}

/* Level shift confirmed: the level is rebuilt from the recent points; the old one is kept
 * for a while so that a return to it is recognised. */
static void level_shift(np_series_t *s, double level, double scale) {
    ring_copy(&s->old, &s->level);
    s->old_level = level;
    s->old_scale = scale;
    s->old_until = s->n + 4LL * s->c.shift_points;
    fill_ring(&s->level, &s->recent);
    /* The spread comes along with the new level: the run's own residuals (if they vary at
     * all; else the old ones are kept). */
    double med = ring_median(s, &s->recent);
    ring_t tmp = {s->scratch + NP_SERIES_MAX_LEVEL, s->recent.cap, 0, 0};
    for (int k = 0; k < s->recent.n; k++) ring_push(&tmp, ring_at(&s->recent, k) - med);
    if (ring_spread(s, &tmp) > 0) fill_ring(&s->resid, &tmp);
    s->run = 0;
}

static void restore_old(np_series_t *s) {
    fill_ring(&s->level, &s->old);
    s->old_until = 0;
    s->run = 0;
}

/* Variance change: the recent residuals' spread against the scale. */
static bool variance_change(np_series_t *s, double scale, double floor) {
    if (s->vres.n < s->vres.cap || s->resid.n < s->resid.cap / 2) return false;
    double recent = ring_spread(s, &s->vres);
    bool up = recent >= s->c.var_factor * scale && recent > floor;
    bool down = recent * s->c.var_factor <= scale && scale > 2 * floor;
    if (!up && !down) return false;
    fill_ring(&s->resid, &s->vres);
    s->vres.n = s->vres.pos = 0;
    return true;
}

/* Whether a point scoring `score` opens an alert when none is open (and the hold is over):
 * at single_score or above by itself; between threshold and single_score only as the second
 * of two consecutive points >= threshold (a lone marginal point is about as common as the
 * threshold says, 1 in 17 at 0.94: a series of hourly points has several a week by chance).
 * The alert then opens at the second point, one interval late. single_score <= threshold:
 * every point >= threshold opens one. */
static bool alert_opens(np_series_t *s, double score) {
    bool was = s->pending;
    s->pending = false;
    if (score < s->c.threshold) return false;
    if (score >= s->c.single_score || was) return true;
    s->pending = true;
    return false;
}

/* Hysteresis: opens an alert (alert_opens), closes it once the score has stayed below
 * rearm_score for rearm_points points. No alert opens while the series is younger than
 * hold_ms: the scores are written from warm-up on, but until the daily profile is in use
 * (2 days) the model cannot tell the daily cycle from an anomaly. */
static void alert_step(np_series_t *s, int64_t t, np_series_out_t *o) {
    if (!s->in_alert) {
        if (!o->warm || t - s->first_ms < s->c.hold_ms) {
            s->pending = false;
        } else if (alert_opens(s, o->score)) {
            s->in_alert = true;
            s->quiet = 0;
            o->alert = true;
        }
    } else {
        /* rearm_ms 0: runs of points >= threshold, each one alert */
        double low = s->c.rearm_ms > 0 && s->c.rearm_score < s->c.threshold ? s->c.rearm_score : s->c.threshold;
        s->quiet = o->score < low ? s->quiet + 1 : 0;
        if (s->quiet >= s->c.rearm_points) s->in_alert = false;
    }
    o->in_alert = s->in_alert;
}

void np_series_push(np_series_t *s, int64_t t, double v, np_series_out_t *o) {
    memset(o, 0, sizeof(*o));
    if (!isfinite(v)) return; /* not a value: nothing scored, nothing learnt */
    if (s->n == 0) s->first_ms = t;
    if (v != floor(v) || fabs(v) > 1e15) s->integer = false;
    v = to_model(s, v);
    double seas = seasonal(s, t), y = v - seas;
    double level = s->level.n ? ring_median(s, &s->level) : y;
    double fl = scale_floor(s, level);
    double scale = ring_spread(s, &s->resid);
    if (scale < fl) scale = fl;
    /* A profile bin whose days disagree widens the scale there, for the score only: the
     * learning (clamps, level shifts, variance changes) keeps the plain scale, or a wide
     * bin would let the disagreement into the level and the profile. */
    double sscale = scale;
    if (s->c.bin_scale > 0) {
        double bs = bin_spread(s, &s->day, t), ws = bin_spread(s, &s->week, t);
        double m = (bs > ws ? bs : ws) * s->c.bin_scale;
        if (m > sscale) sscale = m;
    }
    double r = y - level, z = r / scale;
    o->expected = from_model(s, level + seas);
    o->scale = sscale;
    o->warm = s->n >= (s->c.level_points / 2 > 12 ? s->c.level_points / 2 : 12);
    /* Just after a level shift, a return to the old level is no new anomaly. */
    bool back = false, from_old = false;
    if (s->old_until > s->n) {
        double zo = (y - s->old_level) / s->old_scale;
        if (fabs(zo) < fabs(z)) {
            from_old = true;
            back = fabs(zo) < s->c.z_shift;
            z = zo;
            r = y - s->old_level;
        }
    }
    /* The profile may explain a value away, never make one anomalous by itself: the score
     * takes the residual from the plain level when that is smaller (as the live volume
     * detectors do). A profile that learnt an irregular spike expects part of it every day. */
    double zs = from_old ? z : r / sscale;
    if (s->c.explain_only && seas != 0 && !from_old) {
        double zp = (v - level) / sscale;
        if (fabs(zp) < fabs(zs)) zs = zp;
        /* A recurring pattern comes a little earlier or later from day to day (a nightly job
         * at 02:00 one day, 02:05 the next): the daily profile explain_bins either side may
         * explain it too, as the live volume detectors allow (within +-1 bin). Off by default:
         * on Cloud Monitoring it lowered recall and false alerts alike. */
        for (int d = -s->c.explain_bins; d <= s->c.explain_bins && s->day.bins; d++) {
            if (!d) continue;
            double sd = profile_get(s, &s->day, t + d * s->day.bin_ms) + profile_get(s, &s->week, t);
            double zn = (v - level - sd) / sscale;
            if (fabs(zn) < fabs(zs)) zs = zn;
        }
    }
    o->z = zs;
    double tf = tail_factor(s);
    if (o->warm) {
        double sc = run_score(s, zs * tf, np_series_score(zs * tf));
        if ((s->c.direction > 0 && zs < 0) || (s->c.direction < 0 && zs > 0)) sc = 0;
        o->score = sc;
    }
    alert_step(s, t, o);
    s->zrun[s->zrun_pos] = z * tf;
    s->zrun_pos = (s->zrun_pos + 1) % NP_SERIES_MAX_RUN;
    if (s->zrun_n < NP_SERIES_MAX_RUN) s->zrun_n++;
    /* Learn: clamped values into the level and residual rings, the raw ones for shifts. */
    zhist_add(s, fabs(z));
    ring_push(&s->recent, y);
    int sign = fabs(z) >= s->c.z_shift ? (z > 0 ? 1 : -1) : 0;
    s->run = sign && sign == s->run_sign ? s->run + 1 : sign ? 1 : 0;
    s->run_sign = sign;
    double lim = s->c.z_shift * scale, rc = r > lim ? lim : r < -lim ? -lim : r;
    if (!o->warm) { /* warming up: everything is learnt as it is */
        rc = r;
        s->run = 0;
    }
    ring_push(&s->vres, r);
    { /* long-run |residual|: averages while warming up, then about floor_ms. Unclamped by
       * the scale (clamping at z_shift scales is what collapses the window's spread on a
       * sparse series), but one point may at most double it; a run's points (a level shift
       * under way) are left out, as from the residual window. */
        double w = (double)(s->c.interval_ms > 0 ? s->c.interval_ms : 1) / (double)(s->c.floor_ms > 0 ? s->c.floor_ms : 1);
        if (w < 1.0 / (double)(s->n + 1)) w = 1.0 / (double)(s->n + 1);
        if (w > 1) w = 1;
        double a = fabs(r), amax = s->lr_abs / w;
        if (o->warm && s->lr_abs > 0 && a > amax) a = amax; /* none yet: nothing to double */
        if (!o->warm || s->run < 2) s->lr_abs += w * (a - s->lr_abs); /* as resid: a run is a change */
    }
    { /* about resid_points points */
        double w = 1.0 / s->c.resid_points;
        s->ac_xy += w * (rc * s->prev_r - s->ac_xy);
        s->ac_xx += w * (rc * rc - s->ac_xx);
        s->prev_r = rc;
    }
    if (back) {
        restore_old(s);
    } else if (o->warm && s->run >= s->c.shift_points) {
        level_shift(s, level, scale);
        o->event = NP_SERIES_LEVEL_SHIFT;
    } else {
        ring_push(&s->level, level + rc);
        if (s->run < 2) ring_push(&s->resid, rc); /* a run's residuals measure a change, not the noise */
        if (o->warm && variance_change(s, scale, fl)) o->event = NP_SERIES_VARIANCE_CHANGE;
    }
    double lv = s->level.n ? ring_median(s, &s->level) : y;
    double lim2 = s->c.z_shift * scale;
    double dd = v - profile_get(s, &s->week, t) - lv, dw = v - profile_get(s, &s->day, t) - lv;
    profile_learn(s, &s->day, t, dd, lim2);
    if (!s->day.bins || t - s->first_ms >= 2 * s->day.period_ms) /* the week: what the day leaves */
        profile_learn(s, &s->week, t, dw, lim2);
    s->n++;
}

/* ---- persistence ------------------------------------------------------------------ */

#define SERIES_STATE_MAGIC 0x4e505334u    /* "NPS4": NPS3 and the long-run |residual| */
#define SERIES_STATE_MAGIC_V3 0x4e505333u /* "NPS3": NPS2, the alert episode and bin spreads */
#define SERIES_STATE_MAGIC_V2 0x4e505332u /* "NPS2": NPS1 and the last z values (restores: no alert open) */

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
    bool bad;
} wbuf_t;

static void put(wbuf_t *w, const void *src, size_t n) {
    if (w->bad) return;
    if (w->len + n > w->cap) {
        size_t nc = (w->cap ? w->cap * 2 : 4096) + n;
        uint8_t *np = realloc(w->p, nc);
        if (!np) {
            w->bad = true;
            return;
        }
        w->p = np;
        w->cap = nc;
    }
    memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void put_u64(wbuf_t *w, uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    put(w, b, 8);
}

static void put_f64(wbuf_t *w, double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    put_u64(w, u);
}

static void put_ring(wbuf_t *w, const ring_t *r) {
    put_u64(w, (uint64_t)r->n);
    for (int k = 0; k < r->n; k++) put_f64(w, ring_at(r, k));
}

static void put_profile(wbuf_t *w, const profile_t *p) {
    put_u64(w, (uint64_t)p->bins);
    for (int b = 0; b < p->bins; b++) {
        put_f64(w, p->val[b]);
        put_u64(w, p->cnt[b]);
    }
}

static void put_profile_var(wbuf_t *w, const profile_t *p) {
    for (int b = 0; b < p->bins; b++) put_f64(w, p->var[b]);
}

int np_series_encode(const np_series_t *s, uint8_t **out, size_t *len) {
    wbuf_t w = {0};
    put_u64(&w, SERIES_STATE_MAGIC);
    put_u64(&w, (uint64_t)s->c.interval_ms);
    put_u64(&w, (uint64_t)s->first_ms);
    put_u64(&w, (uint64_t)s->n);
    put_u64(&w, (uint64_t)s->integer | (uint64_t)(s->run_sign + 1) << 8 | (uint64_t)s->run << 16);
    put_f64(&w, s->old_level);
    put_f64(&w, s->old_scale);
    put_u64(&w, (uint64_t)s->old_until);
    const ring_t *rings[] = {&s->level, &s->resid, &s->recent, &s->vres, &s->old};
    for (size_t i = 0; i < 5; i++) put_ring(&w, rings[i]);
    put_profile(&w, &s->day);
    put_profile(&w, &s->week);
    put_u64(&w, s->ztotal);
    for (int b = 0; b < ZBINS; b++) put_u64(&w, s->zhist[b]);
    put_u64(&w, (uint64_t)s->zrun_n | (uint64_t)s->zrun_pos << 8);
    for (int k = 0; k < NP_SERIES_MAX_RUN; k++) put_f64(&w, s->zrun[k]);
    put_u64(&w, (uint64_t)s->in_alert | (uint64_t)s->pending << 1);
    put_u64(&w, (uint64_t)s->quiet);
    put_profile_var(&w, &s->day);
    put_profile_var(&w, &s->week);
    put_f64(&w, s->lr_abs);
    if (w.bad) {
        free(w.p);
        return -1;
    }
    *out = w.p;
    *len = w.len;
    return 0;
}

typedef struct rbuf {
    const uint8_t *p;
    size_t len, off;
    bool bad;
} rbuf_t;

static uint64_t get_u64(rbuf_t *r) {
    if (r->bad || r->len - r->off < 8) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)r->p[r->off + (size_t)i] << (8 * i);
    r->off += 8;
    return v;
}

static double get_f64(rbuf_t *r) {
    uint64_t u = get_u64(r);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static void get_ring(rbuf_t *r, ring_t *g) {
    uint64_t n = get_u64(r);
    if (n > (uint64_t)g->cap) {
        r->bad = true;
        return;
    }
    g->n = g->pos = 0;
    for (uint64_t k = 0; k < n && !r->bad; k++) {
        double v = get_f64(r);
        if (!isfinite(v)) r->bad = true;
        ring_push(g, v);
    }
}

static void get_profile(rbuf_t *r, profile_t *p) {
    if (get_u64(r) != (uint64_t)p->bins) {
        r->bad = true;
        return;
    }
    for (int b = 0; b < p->bins && !r->bad; b++) {
        p->val[b] = get_f64(r);
        if (!isfinite(p->val[b])) r->bad = true;
        p->cnt[b] = (uint32_t)get_u64(r);
    }
}

int np_series_decode(np_series_t *s, const uint8_t *buf, size_t len) {
    rbuf_t r = {buf, len, 0, false};
    uint64_t magic = get_u64(&r);
    if ((magic != SERIES_STATE_MAGIC && magic != SERIES_STATE_MAGIC_V3 && magic != SERIES_STATE_MAGIC_V2) ||
        get_u64(&r) != (uint64_t)s->c.interval_ms)
        return -1;
    s->first_ms = (int64_t)get_u64(&r);
    s->n = (int64_t)get_u64(&r);
    uint64_t flags = get_u64(&r);
    s->integer = flags & 1;
    s->run_sign = (int)((flags >> 8) & 0xff) - 1;
    s->run = (int)(flags >> 16);
    s->old_level = get_f64(&r);
    s->old_scale = get_f64(&r);
    if (!isfinite(s->old_level) || !isfinite(s->old_scale) || s->run < 0 || s->run > NP_SERIES_MAX_SHIFT)
        return -1;
    s->old_until = (int64_t)get_u64(&r);
    ring_t *rings[] = {&s->level, &s->resid, &s->recent, &s->vres, &s->old};
    for (size_t i = 0; i < 5; i++) get_ring(&r, rings[i]);
    get_profile(&r, &s->day);
    get_profile(&r, &s->week);
    s->ztotal = get_u64(&r);
    for (int b = 0; b < ZBINS; b++) s->zhist[b] = (uint32_t)get_u64(&r);
    uint64_t zr = get_u64(&r);
    s->zrun_n = (int)(zr & 0xff);
    s->zrun_pos = (int)((zr >> 8) & 0xff);
    if (s->zrun_n > NP_SERIES_MAX_RUN || s->zrun_pos >= NP_SERIES_MAX_RUN) return -1;
    for (int k = 0; k < NP_SERIES_MAX_RUN; k++) s->zrun[k] = get_f64(&r);
    s->in_alert = s->pending = false;
    s->quiet = 0;
    if (magic != SERIES_STATE_MAGIC_V2) {
        /* bit 0: an alert is open; bit 1: a point awaits its second (older blobs: 0) */
        uint64_t open = get_u64(&r), quiet = get_u64(&r);
        if (open > 2 || quiet > (uint64_t)INT64_MAX) return -1;
        s->in_alert = open & 1;
        s->pending = open >> 1;
        s->quiet = (int64_t)quiet;
        profile_t *ps[] = {&s->day, &s->week};
        for (int i = 0; i < 2; i++)
            for (int b = 0; b < ps[i]->bins && !r.bad; b++) {
                ps[i]->var[b] = get_f64(&r);
                if (!isfinite(ps[i]->var[b]) || ps[i]->var[b] < 0) return -1;
            }
    } else { /* NPS2: no bin spreads yet; they are learnt from here on */
        memset(s->day.var, 0, sizeof(s->day.var));
        memset(s->week.var, 0, sizeof(s->week.var));
    }
    if (magic == SERIES_STATE_MAGIC) {
        s->lr_abs = get_f64(&r);
        if (!isfinite(s->lr_abs) || s->lr_abs < 0) return -1;
    } else { /* older blobs: the long-run |residual| starts from the window's */
        double sum = 0;
        for (int k = 0; k < s->resid.n; k++) sum += fabs(s->resid.v[k]);
        s->lr_abs = s->resid.n ? sum / s->resid.n : 0;
    }
    return r.bad || r.off != len ? -1 : 0;
}
