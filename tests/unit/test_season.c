/* Unit tests for np_season: a daily cycle and a quiet weekend are learnt (factors close to
 * the truth, used only once learnt), a one-off anomaly moves the profile little, a lasting
 * change of level (day 20 of 42) leaves its shape alone, the range spans one bin either side, and Holt's
 * step with alpha 1, beta 0 repeats the last value; the forecast keeps the better model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "np_season.h"

#define MIN 60000LL
#define DAY (1440 * MIN)

static double truth(int64_t t) {
    double d = 1 + 0.5 * sin(2 * M_PI * (double)(t % DAY) / (double)DAY);
    int dow = (int)((t / DAY) % 7);
    return d * (dow >= 5 ? 0.5 : 1.0) / (5.0 / 7 + 2 * 0.5 / 7); /* weekend at half; mean 1 */
}

static void test_daily_and_weekly(void **st) {
    (void)st;
    np_season_t s;
    np_season_init(&s, 5 * MIN);
    assert_int_equal(s.bins, 288);
    double level = 400;
    for (int64_t t = 0; t < 42 * DAY; t += 5 * MIN) {
        if (t == 2 * DAY) assert_int_equal(np_season_stage(&s, t), 0); /* 2 days: not yet */
        if (t == 3 * DAY + 5 * MIN) assert_int_equal(np_season_stage(&s, t), 1);
        if (t == 10 * DAY) assert_int_equal(np_season_stage(&s, t) & 2, 0);
        if (t < 3 * DAY) assert_true(np_season_factor(&s, t) == 1);
        if (t == 20 * DAY) level = 1200; /* a lasting change of level */
        np_season_learn(&s, t, level * truth(t));
    }
    assert_int_equal(np_season_stage(&s, 42 * DAY), 3);
    /* Shape: the factor follows the cycle relative to the day's own mean (within 10 %). */
    double worst = 0;
    for (int64_t t = 42 * DAY; t < 49 * DAY; t += 30 * MIN) {
        double want = truth(t), got = np_season_factor(&s, t);
        if (t % DAY < 60 * MIN || t % DAY >= DAY - 60 * MIN) continue; /* the weekday's step is smoothed */
        double err = fabs(got / want - 1);
        if (err > worst) worst = err;
    }
    assert_true(worst < 0.1);
    /* Weekend: Saturday noon at about half of Wednesday noon. */
    double sat = np_season_factor(&s, 47 * DAY + DAY / 2), wed = np_season_factor(&s, 44 * DAY + DAY / 2);
    assert_true(sat / wed > 0.4 && sat / wed < 0.6);
}

static void test_anomaly_moves_little(void **st) {
    (void)st;
    np_season_t s;
    np_season_init(&s, MIN);
    for (int64_t t = 0; t < 6 * DAY; t += MIN) np_season_learn(&s, t, 1000);
    double before = np_season_factor(&s, 6 * DAY + 12 * 60 * MIN);
    assert_true(fabs(before - 1) < 1e-9);
    /* An hour at 20 times the usual, once. */
    for (int64_t t = 6 * DAY; t < 7 * DAY; t += MIN) {
        int64_t tod = t % DAY;
        np_season_learn(&s, t, tod >= 720 * MIN && tod < 780 * MIN ? 20000 : 1000);
    }
    double after = np_season_factor(&s, 7 * DAY + 12 * 60 * MIN + 30 * MIN);
    assert_true(after > 1 && after < 1.25);
    double lo, hi;
    np_season_range(&s, 7 * DAY + 12 * 60 * MIN, np_season_stage(&s, 7 * DAY), &lo, &hi);
    assert_true(lo < hi && lo <= np_season_factor(&s, 7 * DAY + 12 * 60 * MIN));
}

static void test_coarse_cadence_and_holt(void **st) {
    (void)st;
    np_season_t s;
    np_season_init(&s, DAY);
    assert_int_equal(s.bins, 0); /* no profile for daily values */
    np_season_learn(&s, 0, 5);
    assert_true(np_season_factor(&s, 10 * DAY) == 1);
    np_season_init(&s, 3600000);
    assert_int_equal(s.bins, 24);
    double lvl = 0, tr = 0;
    bool init = false;
    assert_true(np_holt_step(&lvl, &tr, &init, 10, 1, 0, 0.9) == 10);
    assert_true(np_holt_step(&lvl, &tr, &init, 30, 1, 0, 0.9) == 30);
    double p = np_holt_step(&lvl, &tr, &init, 50, 0.5, 0.5, 1);
    assert_true(p > 40 && p < 60);
}

/* The forecast: on an hourly daily cycle the seasonal model takes over and beats the last
 * value; on a series that is 0 but for rare bursts the plain model stays in use. */
static void test_forecast_keeps_the_better(void **st) {
    (void)st;
    np_season_t s;
    np_sforecast_t f;
    np_season_init(&s, 3600000);
    memset(&f, 0, sizeof(f));
    double pred = NAN, err_f = 0, err_last = 0, last = NAN;
    for (int64_t t = 0; t < 30 * DAY; t += 3600000) {
        double v = 1000 * (1 + 0.6 * sin(2 * M_PI * (double)(t % DAY) / (double)DAY));
        if (t >= 20 * DAY) {
            err_f += fabs(v - pred);
            err_last += fabs(v - last);
        }
        pred = np_sforecast_step(&f, &s, t, t + 3600000, v, 1, 0, 0.9);
        np_season_learn(&s, t, v);
        last = v;
    }
    assert_int_equal(f.best, 1);
    assert_true(err_f < 0.5 * err_last);
    np_season_init(&s, 3600000);
    memset(&f, 0, sizeof(f));
    for (int64_t t = 0; t < 30 * DAY; t += 3600000) {
        double v = (t / 3600000) % 37 == 0 ? 500 : 0;
        np_sforecast_step(&f, &s, t, t + 3600000, v, 1, 0, 0.9);
        np_season_learn(&s, t, v);
    }
    assert_int_equal(f.best, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daily_and_weekly),
        cmocka_unit_test(test_anomaly_moves_little),
        cmocka_unit_test(test_coarse_cadence_and_holt),
        cmocka_unit_test(test_forecast_keeps_the_better),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
