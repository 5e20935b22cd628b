/* np_detect: detectors over final panes. See np_detect.h. */
#include "np_detect.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netpulse.pb-c.h"
#include "np_season.h"
#include "np_series.h"

static const char *const kind_names[NP_AN__COUNT] = {
    "spike", "drop", "ddos", "port_scan", "host_scan", "new_source", "heavy_hitter", "entropy",
    "protocol_shift", "forecast_threshold", "threshold", "level_shift", "intrusion"};

const char *np_anomaly_kind_name(np_anomaly_kind_t k) { return k < NP_AN__COUNT ? kind_names[k] : "unknown"; }

const char *np_severity_name(np_severity_t s) {
    return s == NP_SEV_CRITICAL ? "critical" : s == NP_SEV_WARNING ? "warning" : "info";
}

/* ---- configuration ----------------------------------------------------------------- */

void np_detect_config_default(np_detect_config_t *c, int64_t pane_ms) {
    memset(c, 0, sizeof(*c));
    c->pane_ms = pane_ms;
    c->warmup_panes = 24;
    c->learn_panes = 24;
    c->baseline_panes = 60;
    c->z_enter = 6.0;
    c->z_exit = 3.0;
    c->min_rel = 0.15;
    c->cooldown_panes = 3;
    c->shift_ms = 6 * 3600000LL;
    c->seasonal = true;
    c->shift_min = 0.1;
    c->entropy_min = 0.1;
    c->new_min_share = 0.1;
    c->new_min_bytes = 100000;
    c->hh_share = 0.3;
    c->hh_factor = 3.0;
    c->hh_min_records = 3;
    c->scan_hosts = 30;
    c->scan_ports = 30;
    c->scan_fanout = 0.5;
    c->scan_flow_bytes = 1500;
    c->ddos_sources = 100;
    c->ddos_share = 0.05;
    c->forecast_alpha = 1.0; /* measured: the last pane beats alpha 0.5 / beta 0.1 (docs/detection-eval.md) */
    c->forecast_beta = 0.0;
    c->forecast_phi = 0.9;
    c->forecast_alert_packets = 0;
    c->max_known = 1000000;
    c->max_alerts = 64;
    c->intrusion_min = 20;
    c->intrusion_share = 0.2;
}

const char *np_detect_config_check(const np_detect_config_t *c) {
    if (c->pane_ms <= 0) return "pane.ms must be > 0";
    if (c->baseline_panes < 5 || c->baseline_panes > 1024) return "detect.baseline.panes must be 5..1024";
    if (c->warmup_panes < 5) return "detect.warmup.panes must be >= 5 (the baseline needs values)";
    if (c->learn_panes < 1) return "detect.learn.panes must be >= 1";
    if (!(c->z_enter > 0) || !(c->z_exit > 0) || c->z_exit > c->z_enter)
        return "detect.z.exit must be > 0 and <= detect.z.enter";
    if (!(c->min_rel >= 0)) return "detect.min.rel must be >= 0";
    if (c->cooldown_panes < 1) return "detect.cooldown.panes must be >= 1";
    if (c->shift_ms <= 0) return "detect.shift.ms must be > 0";
    if (!(c->shift_min > 0 && c->shift_min <= 1)) return "detect.shift.min must be in (0, 1]";
    if (!(c->entropy_min > 0 && c->entropy_min <= 1)) return "detect.entropy.min must be in (0, 1]";
    if (!(c->new_min_share >= 0 && c->new_min_share <= 1)) return "detect.new.min.share must be in [0, 1]";
    if (!(c->hh_share > 0 && c->hh_share <= 1)) return "detect.hh.share must be in (0, 1]";
    if (!(c->hh_factor >= 1)) return "detect.hh.factor must be >= 1";
    if (!(c->scan_fanout > 0 && c->scan_fanout <= 1)) return "detect.scan.fanout must be in (0, 1]";
    if (c->scan_hosts < 2 || c->scan_ports < 2) return "detect.scan.hosts and detect.scan.ports must be >= 2";
    if (c->ddos_sources < 2) return "detect.ddos.sources must be >= 2";
    if (!(c->ddos_share >= 0 && c->ddos_share <= 1)) return "detect.ddos.share must be in [0, 1]";
    if (!(c->forecast_alpha > 0 && c->forecast_alpha <= 1) || !(c->forecast_beta >= 0 && c->forecast_beta <= 1) ||
        !(c->forecast_phi > 0 && c->forecast_phi <= 1))
        return "detect.forecast.alpha/beta/phi must be in (0, 1]";
    if (!(c->forecast_alert_packets >= 0)) return "detect.forecast.alert.packets must be >= 0";
    if (c->max_known < 1) return "detect.max.known.sources must be >= 1";
    if (c->max_alerts < 1 || c->max_alerts > 4096) return "detect.max.alerts must be 1..4096";
    if (c->intrusion_min < 1) return "detect.intrusion.min must be >= 1";
    if (!(c->intrusion_share >= 0 && c->intrusion_share <= 1)) return "detect.intrusion.share must be in [0, 1]";
    return NULL;
}

/* ---- state ------------------------------------------------------------------------- */

enum {
    S_RECORDS = 0, S_BYTES, S_PACKETS, S_TCP, S_UDP, S_ICMP, S_OTHER, /* volume */
    S_SH_TCP, S_SH_UDP, S_SH_ICMP, S_SH_OTHER,                         /* protocol shares */
    S_ENTROPY, S_PORT_ENTROPY,
    S__COUNT
};
static const char *const series_names[S__COUNT] = {"records", "bytes",     "packets",    "tcp_records",
                                                   "udp_records", "icmp_records", "other_records", "tcp_share",
                                                   "udp_share", "icmp_share", "other_share", "dst_entropy",
                                                   "dst_port_entropy"};

/* Scale floors per series (see zscore): counts, heavy-tailed volumes, bounded values. */
typedef enum { FLOOR_COUNT, FLOOR_REL, FLOOR_ABS } floor_t;
static const floor_t series_floor[S__COUNT] = {FLOOR_COUNT, FLOOR_REL,   FLOOR_REL,   FLOOR_COUNT,
                                               FLOOR_COUNT, FLOOR_COUNT, FLOOR_COUNT, FLOOR_ABS,
                                               FLOOR_ABS,   FLOOR_ABS,   FLOOR_ABS,   FLOOR_ABS,
                                               FLOOR_ABS};

/* Profiles: records (also the per-protocol records), bytes, packets (also the forecast). */
enum { P_RECORDS = 0, P_BYTES, P_PACKETS, NSEASON };
static int profile_of(int si) { return si == S_BYTES ? P_BYTES : si == S_PACKETS ? P_PACKETS : P_RECORDS; }

typedef struct series {
    double *ring; /* cfg.baseline_panes */
    int n, pos;   /* values held, next write */
} series_t;

#define MAX_EPISODES 4096

typedef struct episode {
    uint8_t used;
    uint8_t kind;
    int16_t bits;     /* CIDR rules; 0 otherwise */
    np_ip_t ip;       /* all zero with kind of a global detector */
    int64_t start_ms, last_ms;
} episode_t;

/* An intrusion alert in waiting: which destination, which class, how many connections. */
struct intrusion_cand {
    const np_ip_t *ip;
    const np_classcount_t *c;
    int cls;
};

typedef struct known {
    np_ip_t ip;
    np_known_t v;
    uint8_t used;
} known_t;

struct np_detect {
    np_detect_config_t cfg;
    series_t s[S__COUNT];
    series_t ds[S_OTHER + 1]; /* volumes / seasonal factor (np_season): the profile's baseline */
    series_t *vs;   /* one per view: its records */
    size_t nviews;
    double *scratch;
    int64_t panes, next_pane;
    np_sforecast_t fcm;        /* packets: plain and seasonal Holt, the better one used */
    np_season_t season[NSEASON];
    int season_stage[NSEASON]; /* the np_season_stage each profile's ds rings are deseasonalised with */
    bool fc_has;
    int64_t fc_start;
    double fc_predicted;
    episode_t ep[MAX_EPISODES];
    known_t *known;
    size_t known_cap, known_n;
    known_t *changed;
    size_t changed_n, changed_cap;
    np_detect_stats_t st;
    /* per pane */
    np_anomaly_t *out;
    size_t nout;
    struct intrusion_cand *icand; /* max_alerts slots: the pane's largest intrusions */
};

/* Smallest power of two >= min with n * 2 <= it (the tables' load <= 1/2). */
static size_t half_load_slots(size_t n, size_t min) {
    size_t s = min;
    while (n * 2 > s) s *= 2;
    return s;
}

size_t np_detect_bound_bytes(const np_detect_config_t *cfg, size_t max_sources) {
    size_t nviews = cfg->views ? cfg->views->n : 0;
    size_t ring = (size_t)cfg->baseline_panes * sizeof(double);
    size_t rings = (S__COUNT + S_OTHER + 1 + nviews + 1) * ring + nviews * sizeof(series_t);
    size_t known = half_load_slots(cfg->max_known, 1024);
    /* A source is put at most twice per pane (learnt, then new); the list doubles from 256. */
    size_t changed = half_load_slots(max_sources, 256);
    /* np_detect_state_encode: series, episodes and seasons unpacked, then packed. */
    size_t encode = (S__COUNT + nviews + S_OTHER + 1) * (ring + sizeof(Netpulse__SeriesState) + 8) +
                    MAX_EPISODES * (2 * sizeof(Netpulse__Episode) + 8) +
                    NSEASON * (NP_SEASON_DAY_BINS + NP_SEASON_WEEK_BINS) * 2 * sizeof(double);
    return sizeof(np_detect_t) + rings + (known + known / 2) * sizeof(known_t) + (changed + changed / 2) * sizeof(known_t) +
           cfg->max_alerts * sizeof(struct intrusion_cand) + encode;
}

np_detect_t *np_detect_new(const np_detect_config_t *cfg) {
    if (np_detect_config_check(cfg)) return NULL;
    np_detect_t *d = calloc(1, sizeof(*d));
    if (!d) return NULL;
    d->cfg = *cfg;
    d->next_pane = INT64_MIN;
    for (int i = 0; i < S__COUNT; i++)
        if (!(d->s[i].ring = calloc((size_t)cfg->baseline_panes, sizeof(double)))) goto err;
    for (int i = 0; i <= S_OTHER; i++)
        if (!(d->ds[i].ring = calloc((size_t)cfg->baseline_panes, sizeof(double)))) goto err;
    d->nviews = cfg->views ? cfg->views->n : 0;
    if (d->nviews && !(d->vs = calloc(d->nviews, sizeof(*d->vs)))) goto err;
    for (size_t i = 0; i < d->nviews; i++)
        if (!(d->vs[i].ring = calloc((size_t)cfg->baseline_panes, sizeof(double)))) goto err;
    if (!(d->scratch = calloc((size_t)cfg->baseline_panes, sizeof(double)))) goto err;
    for (int p = 0; p < NSEASON; p++) np_season_init(&d->season[p], cfg->pane_ms);
    d->known_cap = 1024;
    if (!(d->known = calloc(d->known_cap, sizeof(*d->known)))) goto err;
    if (!(d->icand = calloc(cfg->max_alerts, sizeof(*d->icand)))) goto err;
    return d;
err:
    np_detect_destroy(&d);
    return NULL;
}

void np_detect_destroy(np_detect_t **dp) {
    if (!dp || !*dp) return;
    np_detect_t *d = *dp;
    for (int i = 0; i < S__COUNT; i++) free(d->s[i].ring);
    for (int i = 0; i <= S_OTHER; i++) free(d->ds[i].ring);
    for (size_t i = 0; d->vs && i < d->nviews; i++) free(d->vs[i].ring);
    free(d->vs);
    free(d->scratch);
    free(d->icand);
    free(d->known);
    free(d->changed);
    free(d);
    *dp = NULL;
}

void np_detect_get_stats(const np_detect_t *d, np_detect_stats_t *out) {
    *out = d->st;
    out->known = d->known_n;
}

/* ---- robust baseline --------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_of(double *v, int n) {
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Median and MAD-based scale of a series' ring. */
static void baseline(np_detect_t *d, const series_t *s, double *med, double *scale) {
    if (s->n == 0) {
        *med = *scale = 0;
        return;
    }
    memcpy(d->scratch, s->ring, (size_t)s->n * sizeof(double));
    *med = median_of(d->scratch, s->n);
    for (int i = 0; i < s->n; i++) d->scratch[i] = fabs(s->ring[i] - *med);
    *scale = 1.4826 * median_of(d->scratch, s->n);
}

static void series_push(np_detect_t *d, series_t *s, double v) {
    s->ring[s->pos] = v;
    s->pos = (s->pos + 1) % d->cfg.baseline_panes;
    if (s->n < d->cfg.baseline_panes) s->n++;
}

/* z of v against the series; scale floored so that a flat history does not make every
 * small wobble an anomaly: counts (Poisson), continuous values (a share of the median)
 * and bounded values (an absolute floor). */
static double zscore(np_detect_t *d, const series_t *s, double v, floor_t fl, double *med_out) {
    double med, scale;
    baseline(d, s, &med, &scale);
    double floor = fl == FLOOR_COUNT ? sqrt(med > 1 ? med : 1) : fl == FLOOR_REL ? 0.02 * med : 0.01;
    if (scale < floor) scale = floor;
    if (scale <= 0) scale = 1e-9;
    *med_out = med;
    return (v - med) / scale;
}

/* Learns v, clamped to the median +- z_enter scales so an anomaly does not become normal
 * at once (a lasting change still moves the median within half the ring). */
static void learn(np_detect_t *d, series_t *s, double v, floor_t fl) {
    if (s->n >= 5) {
        double med;
        double z = zscore(d, s, v, fl, &med);
        if (fabs(z) > d->cfg.z_enter) {
            double scale = (v - med) / z;
            v = med + (z > 0 ? d->cfg.z_enter : -d->cfg.z_enter) * scale;
        }
    }
    series_push(d, s, v);
}

/* ---- seasonality ------------------------------------------------------------------- */

/* The profiles' view of one pane, per volume series: the factors within a bin of its start
 * [lo, hi] and at it (f); `on` when a profile is in use. */
typedef struct season_pane {
    bool on;
    double lo[S_OTHER + 1], hi[S_OTHER + 1], f[S_OTHER + 1];
} season_pane_t;

/* z of v against the deseasonalised ring ds: the expectation is its median times the factor
 * in [lo, hi] that explains v best (a recurring change a bin early or late is no anomaly).
 * *fc: that factor. */
static double zscore_season(np_detect_t *d, const series_t *ds, double v, floor_t fl, double lo, double hi,
                            double *med_out, double *fc) {
    double med, scale;
    baseline(d, ds, &med, &scale);
    double f = med > 0 ? v / med : hi;
    f = f < lo ? lo : f > hi ? hi : f;
    double e = med * f;
    scale *= f;
    double floor = fl == FLOOR_COUNT ? sqrt(e > 1 ? e : 1) : 0.02 * e;
    if (scale < floor) scale = floor;
    if (scale <= 0) scale = 1e-9;
    *med_out = e;
    *fc = f;
    return (v - e) / scale;
}

/* Learns v into the deseasonalised ring: clamped as in learn, divided by the factor. */
static void learn_season(np_detect_t *d, series_t *ds, double v, floor_t fl, double lo, double hi) {
    double med, f = 1;
    if (ds->n >= 5) {
        double z = zscore_season(d, ds, v, fl, lo, hi, &med, &f);
        if (fabs(z) > d->cfg.z_enter) {
            double scale = (v - med) / z;
            v = med + (z > 0 ? d->cfg.z_enter : -d->cfg.z_enter) * scale;
        }
    } else {
        f = 1 < lo ? lo : 1 > hi ? hi : 1;
    }
    series_push(d, ds, v / f);
}

/* The volume z of series si: against the plain ring, and, with a profile in use, against
 * the deseasonalised one; the smaller |z| counts. So the profile explains recurring changes
 * away (a nightly job, the morning rise) but raises no alert of its own: a quiet holiday is
 * judged like any pane. */
static double volume_z(np_detect_t *d, series_t *s, series_t *ds, const season_pane_t *sp, int si, double v,
                       double *med_out) {
    double z = zscore(d, &s[si], v, series_floor[si], med_out);
    if (!ds || !sp || !sp->on || ds[si].n < 5) return z;
    double med, fc;
    double zs = zscore_season(d, &ds[si], v, series_floor[si], sp->lo[si], sp->hi[si], &med, &fc);
    if (fabs(zs) < fabs(z)) {
        z = zs;
        *med_out = med;
    }
    return z;
}

/* ---- episodes ---------------------------------------------------------------------- */

static bool ep_match(const episode_t *e, int kind, const np_ip_t *ip, int bits) {
    return e->used && e->kind == kind && e->bits == bits && memcmp(e->ip.b, ip->b, 16) == 0;
}

static episode_t *ep_find(np_detect_t *d, int kind, const np_ip_t *ip, int bits, int64_t now) {
    for (size_t i = 0; i < MAX_EPISODES; i++) {
        episode_t *e = &d->ep[i];
        if (!ep_match(e, kind, ip, bits)) continue;
        if (now - e->last_ms > (int64_t)d->cfg.cooldown_panes * d->cfg.pane_ms) {
            e->used = 0; /* over */
            return NULL;
        }
        return e;
    }
    return NULL;
}

/* Hysteresis. `holds`: the condition is met well enough to keep an open episode going in
 * pane `now`; `strong`: well enough to open one. Returns true when this opens a new
 * episode: raise an alert. An episode ends after cooldown_panes panes without `holds`. */
static bool episode(np_detect_t *d, int kind, const np_ip_t *ip, int bits, int64_t now, bool holds, bool strong) {
    if (!holds && !strong) return false;
    episode_t *e = ep_find(d, kind, ip, bits, now);
    if (e) {
        e->last_ms = now;
        return false;
    }
    if (!strong) return false;
    episode_t *slot = NULL;
    for (size_t i = 0; i < MAX_EPISODES && !slot; i++)
        if (!d->ep[i].used) slot = &d->ep[i];
    if (!slot) { /* full: the one quiet the longest goes */
        slot = &d->ep[0];
        for (size_t i = 1; i < MAX_EPISODES; i++)
            if (d->ep[i].last_ms < slot->last_ms) slot = &d->ep[i];
    }
    memset(slot, 0, sizeof(*slot));
    slot->used = 1;
    slot->kind = (uint8_t)kind;
    slot->bits = (int16_t)bits;
    slot->ip = *ip;
    slot->start_ms = slot->last_ms = now;
    return true;
}

/* The entity of global detectors' episodes (spike, drop, protocol_shift, ...). */
static const np_ip_t GLOBAL_IP;

/* ---- known sources ----------------------------------------------------------------- */

static known_t *known_slot(known_t *t, size_t cap, const np_ip_t *ip) {
    size_t i = (size_t)np_ip_hash(ip) & (cap - 1);
    while (t[i].used && memcmp(t[i].ip.b, ip->b, 16) != 0) i = (i + 1) & (cap - 1);
    return &t[i];
}

static known_t *known_get(const np_detect_t *d, const np_ip_t *ip) {
    known_t *k = known_slot(d->known, d->known_cap, ip);
    return k->used ? k : NULL;
}

/* Creates, or raises the maxima of, ip's entry; false when the table is at max_known (counted). */
static bool known_put(np_detect_t *d, const np_ip_t *ip, const np_known_t *v, bool record_change) {
    known_t *k = known_slot(d->known, d->known_cap, ip);
    if (!k->used) {
        if (d->known_n >= d->cfg.max_known) {
            d->st.known_full++;
            return false;
        }
        if ((d->known_n + 1) * 2 > d->known_cap) {
            size_t nc = d->known_cap * 2;
            known_t *nt = calloc(nc, sizeof(*nt));
            if (!nt) {
                d->st.known_full++;
                return false;
            }
            for (size_t i = 0; i < d->known_cap; i++)
                if (d->known[i].used) *known_slot(nt, nc, &d->known[i].ip) = d->known[i];
            free(d->known);
            d->known = nt;
            d->known_cap = nc;
            k = known_slot(d->known, d->known_cap, ip);
        }
        k->used = 1;
        k->ip = *ip;
        d->known_n++;
    } else if (k->v.share_pm >= v->share_pm && k->v.hosts >= v->hosts && k->v.ports >= v->ports) {
        return true;
    }
    if (v->share_pm > k->v.share_pm) k->v.share_pm = v->share_pm;
    if (v->hosts > k->v.hosts) k->v.hosts = v->hosts;
    if (v->ports > k->v.ports) k->v.ports = v->ports;
    if (record_change) {
        if (d->changed_n == d->changed_cap) {
            size_t nc = d->changed_cap ? d->changed_cap * 2 : 256;
            known_t *n = realloc(d->changed, nc * sizeof(*n));
            if (!n) return true; /* persisted with the next change of this source */
            d->changed = n;
            d->changed_cap = nc;
        }
        d->changed[d->changed_n++] = *k;
    }
    return true;
}

void np_detect_known_set(np_detect_t *d, const np_ip_t *ip, const np_known_t *v) { known_put(d, ip, v, false); }

size_t np_detect_known_changed(const np_detect_t *d, np_detect_known_fn fn, void *ctx) {
    for (size_t i = 0; fn && i < d->changed_n; i++) fn(ctx, &d->changed[i].ip, &d->changed[i].v);
    return d->changed_n;
}

/* ---- alerts ------------------------------------------------------------------------ */

static bool whitelisted(const np_detect_t *d, const np_ip_t *ip, int bits) {
    for (size_t i = 0; i < d->cfg.nwhitelist; i++) {
        const np_cidr_t *w = &d->cfg.whitelist[i];
        if (bits >= w->bits && np_cidr_contains(w, ip)) return true;
    }
    return false;
}

/* Scores in [0, 1]. z-based detectors (volume, entropy): 1 - P(|T_2| >= |z|), the tail
 * probability under np_series' residual model. Rule-based detectors (no probability model):
 * 1 - 0.5 / (observed / threshold), 0.5 at the threshold. */
static double ratio_score(double ratio) {
    return ratio > 1 ? 1 - 0.5 / ratio : 0.5 * (ratio > 0 ? ratio : 0);
}

static np_severity_t severity_of(double ratio) {
    return ratio >= 3 ? NP_SEV_CRITICAL : ratio >= 1.5 ? NP_SEV_WARNING : NP_SEV_INFO;
}

/* Appends an anomaly unless the pane's budget is spent or the entity is whitelisted.
 * ratio = how far past its threshold (for severity). */
static np_anomaly_t *raise(np_detect_t *d, const np_gpane_t *gp, np_anomaly_kind_t kind, const np_ip_t *ip,
                           const np_cidr_t *cidr, const char *metric, double observed, double expected,
                           double score, double ratio) {
    if (ip && whitelisted(d, ip, 128)) {
        d->st.whitelisted++;
        return NULL;
    }
    if (cidr && whitelisted(d, &cidr->net, cidr->bits)) {
        d->st.whitelisted++;
        return NULL;
    }
    if (d->nout >= d->cfg.max_alerts) {
        d->st.suppressed++;
        return NULL;
    }
    np_anomaly_t *a = &d->out[d->nout++];
    memset(a, 0, sizeof(*a));
    a->kind = kind;
    if (cidr)
        np_cidr_format(cidr, a->entity, sizeof(a->entity));
    else if (ip)
        np_ip_format(ip, a->entity, sizeof(a->entity));
    else
        snprintf(a->entity, sizeof(a->entity), "global");
    snprintf(a->metric, sizeof(a->metric), "%s", metric);
    a->window_start = gp->start_ms;
    a->window_end = gp->start_ms + d->cfg.pane_ms;
    a->observed = observed;
    a->expected = expected;
    a->score = round(score * 10000) / 10000;
    a->severity = severity_of(ratio);
    d->st.alerts++;
    d->st.by_kind[kind]++;
    return a;
}

static const char *fmt_num(double v, char *buf, size_t len) {
    double a = fabs(v);
    if (a >= 1e9)
        snprintf(buf, len, "%.1fG", v / 1e9);
    else if (a >= 1e6)
        snprintf(buf, len, "%.1fM", v / 1e6);
    else if (a >= 1e4)
        snprintf(buf, len, "%.1fk", v / 1e3);
    else if (a == floor(a))
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%.2f", v);
    return buf;
}

/* ---- detectors --------------------------------------------------------------------- */

static double pane_entropy(const np_gpane_t *gp) {
    if (!gp->dests || np_srcmap_count(gp->dests) < 2) return 0;
    double total = 0, h = 0;
    for (size_t i = 0; i < np_srcmap_slots(gp->dests); i++) {
        const np_srcagg_t *e = np_srcmap_slot(gp->dests, i);
        if (e) total += (double)e->records;
    }
    for (size_t i = 0; i < np_srcmap_slots(gp->dests); i++) {
        const np_srcagg_t *e = np_srcmap_slot(gp->dests, i);
        if (!e) continue;
        double p = (double)e->records / total;
        h -= p * log2(p);
    }
    return h / log2((double)np_srcmap_count(gp->dests));
}

/* The profiles' factors for the pane starting at t (none without `seasonal`). When a
 * profile's stage changes (daily, then weekly switched on), its deseasonalised rings, held
 * as value / the old factor, are rebased to the new one (the forecast rebases its own). */
static void season_pane(np_detect_t *d, int64_t t, season_pane_t *sp) {
    double lo[NSEASON], hi[NSEASON], f[NSEASON];
    sp->on = false;
    for (int p = 0; p < NSEASON; p++) {
        lo[p] = hi[p] = f[p] = 1;
        if (!d->cfg.seasonal) continue;
        double k = np_season_rebase(&d->season[p], t, &d->season_stage[p]);
        if (k != 1) {
            for (int si = S_RECORDS; si <= S_OTHER; si++) {
                if (profile_of(si) != p) continue;
                for (int i = 0; i < d->ds[si].n; i++) d->ds[si].ring[i] *= k;
            }
        }
        int stage = d->season_stage[p];
        f[p] = np_season_factor_stage(&d->season[p], t, stage);
        np_season_range(&d->season[p], t, stage, &lo[p], &hi[p]);
        if (stage) sp->on = true;
    }
    for (int si = S_RECORDS; si <= S_OTHER; si++) {
        int p = profile_of(si);
        sp->lo[si] = lo[p];
        sp->hi[si] = hi[p];
        sp->f[si] = f[p];
    }
}

/* Spike / drop over the volume series s[0..n) (records, bytes, packets, then per protocol:
 * the order of the S_ enum). The global series have bits 0; a view's have bits -1 - its
 * index (its episodes' key) and its name for the entity. */
/* Panes a spike / drop episode must last to be a level shift. */
static int64_t shift_panes(const np_detect_config_t *c) {
    int64_t p = (c->shift_ms + c->pane_ms - 1) / c->pane_ms, most = c->baseline_panes / 2;
    return p < 3 ? 3 : p > most ? most : p;
}

/* The open spike / drop episode of direction `kind` has lasted shift_panes: the change is
 * lasting. Reports level_shift once, closes the episode and restarts the rings at the
 * current values (the new baseline from the next pane on). */
static void level_shift(np_detect_t *d, const np_gpane_t *gp, series_t *s, series_t *ds, const season_pane_t *sp,
                        const double *vals, int n, int bits, const char *view, np_anomaly_kind_t kind,
                        double med_rec) {
    episode_t *e = ep_find(d, kind, &GLOBAL_IP, bits, gp->start_ms);
    if (!e || gp->start_ms - e->start_ms < (shift_panes(&d->cfg) - 1) * d->cfg.pane_ms) return;
    e->used = 0;
    for (int si = S_RECORDS; si < n; si++) {
        s[si].n = s[si].pos = 0;
        for (int k = 0; k < 5; k++) series_push(d, &s[si], vals[si]);
        if (!ds) continue;
        ds[si].n = ds[si].pos = 0;
        for (int k = 0; k < 5; k++) series_push(d, &ds[si], vals[si] / sp->f[si]);
    }
    double ratio = med_rec > 0 ? vals[S_RECORDS] / med_rec : 2;
    np_anomaly_t *a = raise(d, gp, NP_AN_LEVEL_SHIFT, NULL, NULL, "records", vals[S_RECORDS], med_rec,
                            ratio_score(ratio > 1 ? ratio : ratio > 0 ? 1 / ratio : 2), 1);
    if (!a) return;
    char b1[32], b2[32], where[NP_VIEW_NAME_MAX + 16] = "";
    if (view) {
        snprintf(a->entity, sizeof(a->entity), "view:%s", view);
        snprintf(where, sizeof(where), " in view %s", view);
    }
    snprintf(a->explanation, sizeof(a->explanation),
             "Lasting %s%s: %s records per window for %" PRId64
             " windows against a usual %s; this is the new baseline.",
             kind == NP_AN_SPIKE ? "increase" : "decrease", where, fmt_num(vals[S_RECORDS], b1, sizeof(b1)),
             (gp->start_ms - e->start_ms) / d->cfg.pane_ms + 1, fmt_num(med_rec, b2, sizeof(b2)));
}

/* ds, sp: the deseasonalised rings and the profiles' factors (NULL: none, as for views). */
static void volume(np_detect_t *d, const np_gpane_t *gp, bool live, series_t *s, series_t *ds,
                   const season_pane_t *sp, const double *vals, int n, int bits, const char *view) {
    double rmed, rscale; /* the records baseline: per-protocol series must matter against it */
    baseline(d, &s[S_RECORDS], &rmed, &rscale);
    double best_z[2] = {0, 0}, best_med[2] = {0, 0};
    int best_s[2] = {-1, -1};
    double maxz[2] = {0, 0};
    for (int si = S_RECORDS; si < n; si++) {
        double med, z = volume_z(d, s, ds, sp, si, vals[si], &med);
        double dev = fabs(vals[si] - med);
        int dir = z > 0 ? 0 : 1;
        /* Bytes and packets are heavy-tailed (one large transfer moves them): they also
         * need half again or half less than usual. */
        double rel = (si == S_BYTES || si == S_PACKETS) && d->cfg.min_rel < 0.5 ? 0.5 : d->cfg.min_rel;
        if (fabs(z) > maxz[dir] && dev >= rel * med) maxz[dir] = fabs(z);
        /* Per protocol only when the protocol carries a noticeable share of records. */
        if (si >= S_TCP && dev < 0.1 * rmed) continue;
        if (fabs(z) >= d->cfg.z_enter && dev >= rel * med && fabs(z) > fabs(best_z[dir])) {
            best_z[dir] = z;
            best_med[dir] = med;
            best_s[dir] = si;
        }
    }
    if (!live) return;
    for (int dir = 0; dir < 2; dir++) {
        np_anomaly_kind_t kind = dir == 0 ? NP_AN_SPIKE : NP_AN_DROP;
        bool strong = best_s[dir] >= 0, holds = maxz[dir] >= d->cfg.z_exit;
        if (!episode(d, kind, &GLOBAL_IP, bits, gp->start_ms, holds, strong)) {
            if (holds) level_shift(d, gp, s, ds, sp, vals, n, bits, view, kind, rmed);
            continue;
        }
        int si = best_s[dir];
        double v = vals[si], med = best_med[dir], z = best_z[dir];
        np_anomaly_t *a = raise(d, gp, kind, NULL, NULL, series_names[si], v, med, np_series_score(z),
                                fabs(z) / d->cfg.z_enter);
        if (!a) continue;
        char b1[32], b2[32], where[NP_VIEW_NAME_MAX + 16] = "";
        if (view) {
            snprintf(a->entity, sizeof(a->entity), "view:%s", view);
            snprintf(where, sizeof(where), " in view %s", view);
        }
        snprintf(a->explanation, sizeof(a->explanation),
                 "Traffic %s%s: %s %s in this window against a usual %s (%+.0f%%, %.1f robust deviations).",
                 dir == 0 ? "spike" : "drop", where, fmt_num(v, b1, sizeof(b1)), series_names[si],
                 fmt_num(med, b2, sizeof(b2)), med > 0 ? 100.0 * (v - med) / med : 100.0, fabs(z));
    }
}

/* A view's records in this pane (0 when the pane has no such view). */
static double view_records(const np_gpane_t *gp, size_t vi) {
    uint64_t r = 0, b, p;
    if (gp->views && vi < gp->nviews) np_gtab_totals(gp->views[vi].groups, &r, &b, &p);
    return (double)r;
}

static void detect_protocol(np_detect_t *d, const np_gpane_t *gp, bool live, const double *vals) {
    double tv = 0, shares[4], meds[4];
    for (int i = 0; i < 4; i++) {
        double sc;
        shares[i] = vals[S_SH_TCP + i];
        baseline(d, &d->s[S_SH_TCP + i], &meds[i], &sc);
        tv += fabs(shares[i] - meds[i]);
    }
    tv *= 0.5;
    if (!live || gp->records == 0) return;
    bool strong = tv >= d->cfg.shift_min;
    if (!episode(d, NP_AN_PROTOCOL_SHIFT, &GLOBAL_IP, 0, gp->start_ms, tv >= 0.5 * d->cfg.shift_min, strong)) return;
    static const char *const pn[4] = {"tcp", "udp", "icmp", "other"};
    int most = 0;
    for (int i = 1; i < 4; i++)
        if (fabs(shares[i] - meds[i]) > fabs(shares[most] - meds[most])) most = i;
    np_anomaly_t *a = raise(d, gp, NP_AN_PROTOCOL_SHIFT, NULL, NULL, "protocol_mix", tv, 0,
                            ratio_score(tv / d->cfg.shift_min), tv / d->cfg.shift_min);
    if (a)
        snprintf(a->explanation, sizeof(a->explanation),
                 "Protocol mix shifted by %.0f%% (total variation): %s went from %.0f%% to %.0f%% of records.",
                 100 * tv, pn[most], 100 * meds[most], 100 * shares[most]);
}

/* Normalised Shannon entropy of the pane's TCP/UDP destination-port histogram (over its
 * fixed number of buckets, so that it does not move with how many buckets are used). */
static double port_entropy(const np_gpane_t *gp) {
    double total = 0, h = 0;
    for (int i = 0; i < NP_PORT_BUCKETS; i++) total += (double)gp->port_hist[i];
    for (int i = 0; total > 0 && i < NP_PORT_BUCKETS; i++) {
        double p = (double)gp->port_hist[i] / total;
        if (p > 0) h -= p * log2(p);
    }
    return h / log2((double)NP_PORT_BUCKETS);
}

/* Destination addresses and ports: one entropy alert per episode, named after the series
 * that moved more. */
static void detect_entropy(np_detect_t *d, const np_gpane_t *gp, bool live, const double *vals) {
    static const int si[2] = {S_ENTROPY, S_PORT_ENTROPY};
    double med[2], z[2];
    bool strong = false, holds = false;
    int best = 0;
    for (int k = 0; k < 2; k++) {
        double h = vals[si[k]];
        z[k] = zscore(d, &d->s[si[k]], h, FLOOR_ABS, &med[k]);
        bool st = fabs(z[k]) >= d->cfg.z_enter && fabs(h - med[k]) >= d->cfg.entropy_min;
        holds = holds || (fabs(z[k]) >= d->cfg.z_exit && fabs(h - med[k]) >= 0.5 * d->cfg.entropy_min);
        if (st && (!strong || fabs(z[k]) > fabs(z[best]))) best = k;
        strong = strong || st;
    }
    if (!live || gp->records == 0) return;
    if (!episode(d, NP_AN_ENTROPY, &GLOBAL_IP, 0, gp->start_ms, holds, strong)) return;
    double h = vals[si[best]];
    np_anomaly_t *a = raise(d, gp, NP_AN_ENTROPY, NULL, NULL, series_names[si[best]], round(h * 1000) / 1000,
                            round(med[best] * 1000) / 1000, np_series_score(z[best]), fabs(z[best]) / d->cfg.z_enter);
    if (!a) return;
    if (best == 0)
        snprintf(a->explanation, sizeof(a->explanation),
                 "Destination addresses became %s: normalised entropy %.2f against a usual %.2f.",
                 h < med[0] ? "concentrated on fewer hosts" : "spread over more hosts", h, med[0]);
    else
        snprintf(a->explanation, sizeof(a->explanation),
                 "Destination ports became %s: normalised entropy %.2f against a usual %.2f.",
                 h < med[1] ? "concentrated on fewer ports" : "spread over more ports", h, med[1]);
}

/* A host or port scan by source s: one alert per episode, scored against its threshold. */
static np_anomaly_t *scan_alert(np_detect_t *d, const np_gpane_t *gp, const np_srcagg_t *s, np_anomaly_kind_t kind,
                                bool scanning, const char *metric, uint64_t targets, uint64_t threshold) {
    if (!episode(d, kind, &s->ip, 0, gp->start_ms, scanning, scanning)) return NULL;
    double ratio = (double)targets / (double)threshold;
    return raise(d, gp, kind, &s->ip, NULL, metric, (double)targets, (double)threshold, ratio_score(ratio), ratio);
}

static void detect_sources(np_detect_t *d, const np_gpane_t *gp, bool live, bool learning) {
    if (!gp->sources) return;
    const np_detect_config_t *c = &d->cfg;
    double tb = (double)gp->bytes, tp = (double)gp->packets;
    for (size_t i = 0; i < np_srcmap_slots(gp->sources); i++) {
        const np_srcagg_t *s = np_srcmap_slot(gp->sources, i);
        if (!s) continue;
        double bshare = tb > 0 ? (double)s->bytes / tb : 0, pshare = tp > 0 ? (double)s->packets / tp : 0;
        double share = bshare > pshare ? bshare : pshare;
        uint64_t hosts = np_hll_estimate(&s->dst_ips), ports = np_hll_estimate(&s->dst_ports);
        if (hosts > s->records) hosts = s->records; /* estimates, never above the flows */
        if (ports > s->records) ports = s->records;
        np_known_t kv = {(uint16_t)(share * 1000 + 0.5), (uint32_t)(hosts < UINT32_MAX ? hosts : UINT32_MAX),
                         (uint32_t)(ports < UINT32_MAX ? ports : UINT32_MAX)};
        if (learning) known_put(d, &s->ip, &kv, true);
        char b1[32], b2[32];
        if (live) {
            const known_t *k = known_get(d, &s->ip);
            bool newsrc = !k && bshare >= c->new_min_share && s->bytes >= c->new_min_bytes &&
                          s->records >= c->hh_min_records;
            if (newsrc) {
                /* Known from now on: one alert, then judged against its own baseline. */
                known_put(d, &s->ip, &kv, true);
                if (episode(d, NP_AN_NEW_SOURCE, &s->ip, 0, gp->start_ms, true, true)) {
                    np_anomaly_t *a = raise(d, gp, NP_AN_NEW_SOURCE, &s->ip, NULL, "bytes", (double)s->bytes, 0,
                                            ratio_score(bshare / c->new_min_share), bshare / c->new_min_share);
                    if (a)
                        snprintf(a->explanation, sizeof(a->explanation),
                                 "Source never seen during the baseline sent %s bytes (%.0f%% of all bytes) in %" PRIu64
                                 " flows to %" PRIu64 " hosts.",
                                 fmt_num((double)s->bytes, b1, sizeof(b1)), 100 * bshare, s->records,
                                 np_hll_estimate(&s->dst_ips));
                }
            } else if (k && share >= c->hh_share && s->records >= c->hh_min_records) {
                double base = k->v.share_pm / 1000.0;
                bool heavy = share >= c->hh_factor * base;
                if (episode(d, NP_AN_HEAVY_HITTER, &s->ip, 0, gp->start_ms, heavy, heavy)) {
                    bool by_bytes = bshare >= pshare;
                    np_anomaly_t *a = raise(d, gp, NP_AN_HEAVY_HITTER, &s->ip, NULL, by_bytes ? "byte_share" : "packet_share",
                                            round(share * 1000) / 1000, base,
                                            ratio_score(share / (c->hh_factor * (base > 0.001 ? base : 0.001))),
                                            share / c->hh_share);
                    if (a)
                        snprintf(a->explanation, sizeof(a->explanation),
                                 "Source carried %.0f%% of all %s (%s bytes, %s packets), against at most %.1f%% during the baseline.",
                                 100 * share, by_bytes ? "bytes" : "packets", fmt_num((double)s->bytes, b1, sizeof(b1)),
                                 fmt_num((double)s->packets, b2, sizeof(b2)), 100 * base);
                }
            }
            /* Scans: many distinct targets, most flows going somewhere new, and far more
             * targets than the source reached during the baseline. */
            k = known_get(d, &s->ip);
            double recs = (double)s->records, kh = k ? (double)k->v.hosts : 0, kp = k ? (double)k->v.ports : 0;
            bool small = recs > 0 && (double)s->bytes / recs <= (double)c->scan_flow_bytes; /* probes, not transfers */
            bool hscan = small && hosts >= c->scan_hosts && (double)hosts >= c->scan_fanout * recs && (double)hosts >= c->hh_factor * kh;
            bool pscan = !hscan && small && ports >= c->scan_ports && (double)ports >= c->scan_fanout * recs &&
                         (double)ports >= c->hh_factor * kp;
            np_anomaly_t *a;
            if ((a = scan_alert(d, gp, s, NP_AN_HOST_SCAN, hscan, "dst_hosts", hosts, c->scan_hosts)))
                snprintf(a->explanation, sizeof(a->explanation),
                         "Source reached %" PRIu64 " distinct hosts on %" PRIu64 " ports in %" PRIu64
                         " flows: a horizontal scan.",
                         hosts, ports, s->records);
            if ((a = scan_alert(d, gp, s, NP_AN_PORT_SCAN, pscan, "dst_ports", ports, c->scan_ports)))
                snprintf(a->explanation, sizeof(a->explanation),
                         "Source probed %" PRIu64 " distinct ports on %" PRIu64 " host(s) in %" PRIu64
                         " flows: a port scan.",
                         ports, hosts, s->records);
        }
    }
}

/* a before b: more connections of its class, then the lower address (a total order over
 * destinations, so the alerts kept do not depend on the order partials were merged in). */
static bool icand_before(const struct intrusion_cand *a, const struct intrusion_cand *b) {
    if (a->c->n[a->cls] != b->c->n[b->cls]) return a->c->n[a->cls] > b->c->n[b->cls];
    return memcmp(a->ip->b, b->ip->b, 16) < 0;
}

/* Destinations whose connections were classified as one attack class often enough. Needs
 * no baseline (the classifier is the model), so it runs from the first pane. At most the
 * pane's remaining alert budget is raised, the largest first; the rest are suppressed. */
static void detect_intrusions(np_detect_t *d, const np_gpane_t *gp) {
    if (!gp->classes) return;
    const np_detect_config_t *c = &d->cfg;
    size_t room = c->max_alerts > d->nout ? c->max_alerts - d->nout : 0, n = 0;
    for (size_t i = 0; i < np_classmap_count(gp->classes); i++) {
        struct intrusion_cand x;
        np_classmap_entry(gp->classes, i, &x.ip, &x.c);
        /* One alert per destination and pane (its id names no class): the attack class
         * with the most connections, the first of equals. */
        x.cls = 1;
        for (int k = 2; k < NP_KDD_NCLASSES; k++)
            if (x.c->n[k] > x.c->n[x.cls]) x.cls = k;
        uint64_t k = x.c->n[x.cls], all = np_classcount_sum(x.c);
        if (k < c->intrusion_min || (double)k < c->intrusion_share * (double)all) continue;
        if (n == room && (!room || !icand_before(&x, &d->icand[n - 1]))) {
            d->st.suppressed++;
            continue;
        }
        if (n == room) d->st.suppressed++; /* the smallest kept so far gives way */
        size_t j = n < room ? n++ : n - 1;
        for (; j > 0 && icand_before(&x, &d->icand[j - 1]); j--) d->icand[j] = d->icand[j - 1];
        d->icand[j] = x;
    }
    for (size_t i = 0; i < n; i++) {
        const struct intrusion_cand *x = &d->icand[i];
        uint64_t k = x->c->n[x->cls], all = np_classcount_sum(x->c);
        double ratio = (double)k / (double)c->intrusion_min;
        np_anomaly_t *a = raise(d, gp, NP_AN_INTRUSION, x->ip, NULL, "connections", (double)k,
                                (double)c->intrusion_min, ratio_score(ratio), ratio);
        if (!a) continue;
        a->cls = x->cls;
        memcpy(a->class_counts, x->c->n, sizeof(a->class_counts));
        /* Integer sums: the same mean whatever order the partials came in. */
        a->confidence = round((double)x->c->conf[x->cls] / (double)k / 1e6 * 10000) / 10000;
        snprintf(a->explanation, sizeof(a->explanation),
                 "%" PRIu64 " of %" PRIu64 " connections to %s classified %s (mean confidence %.2f).", k, all,
                 a->entity, np_kdd_class_name(x->cls), a->confidence);
    }
}

/* A pooled fan-in estimate must clear the DDoS threshold by this many standard errors
 * (np_vhll_lower): in a busy pool the noise alone reads hundreds of sources per
 * destination (at 10M pairs, defaults: 54 % of 20-source destinations read >= 100). */
#define NP_DETECT_FANIN_Z 3.0

static void detect_dests(np_detect_t *d, const np_gpane_t *gp, bool live) {
    if (!gp->dests || !live) return;
    const np_detect_config_t *c = &d->cfg;
    double secs = (double)c->pane_ms / 1000.0;
    double rule_pkts[NP_DETECT_MAX_RULES] = {0}, rule_bytes[NP_DETECT_MAX_RULES] = {0},
           rule_flows[NP_DETECT_MAX_RULES] = {0};
    /* Bounded partials carry fan-in in one pool (np_vhll), whole ones per destination:
     * sources are partition-local, so a destination's distinct sources are the sum. */
    const np_vhll_t *pool = gp->fanin && np_vhll_used(gp->fanin) ? gp->fanin : NULL;
    double noise = -1; /* the pool's, computed at the first destination that needs it */
    for (size_t i = 0; i < np_srcmap_slots(gp->dests); i++) {
        const np_srcagg_t *e = np_srcmap_slot(gp->dests, i);
        if (!e) continue;
        for (size_t r = 0; r < c->nrules; r++)
            if (np_cidr_contains(&c->rules[r].cidr, &e->ip)) {
                rule_pkts[r] += (double)e->packets;
                rule_bytes[r] += (double)e->bytes;
                rule_flows[r] += (double)e->records;
            }
        double share = gp->records ? (double)e->records / (double)gp->records : 0;
        uint64_t srcs = 0, sure = 0; /* estimate; what the threshold is judged on */
        if (share >= c->ddos_share) { /* at most 1 / ddos.share destinations: estimate only those */
            srcs = sure = np_hll_estimate(&e->dst_ips); /* dests table: distinct sources */
            if (pool) {
                if (noise < 0) noise = np_vhll_noise(pool);
                uint64_t est = np_vhll_estimate(pool, &e->ip, noise);
                srcs += est;
                sure += np_vhll_lower(pool, est, noise, NP_DETECT_FANIN_Z); /* not the pool's noise */
            }
            if (srcs > e->records) srcs = e->records; /* an estimate, never above the flows */
        }
        bool ddos = sure >= c->ddos_sources && share >= c->ddos_share;
        if (!episode(d, NP_AN_DDOS, &e->ip, 0, gp->start_ms, ddos, ddos)) continue;
        char b1[32], b2[32];
        np_anomaly_t *a = raise(d, gp, NP_AN_DDOS, &e->ip, NULL, "dst_sources", (double)srcs, (double)c->ddos_sources,
                                ratio_score((double)srcs / (double)c->ddos_sources), (double)srcs / (double)c->ddos_sources);
        if (a)
            snprintf(a->explanation, sizeof(a->explanation),
                     "%" PRIu64 " distinct sources sent %s flows (%.0f%% of all) and %s packets to this host: a DDoS fan-in.",
                     srcs, fmt_num((double)e->records, b1, sizeof(b1)), 100 * share,
                     fmt_num((double)e->packets, b2, sizeof(b2)));
    }
    for (size_t r = 0; r < c->nrules; r++) {
        const np_threshold_rule_t *ru = &c->rules[r];
        double pps = rule_pkts[r] / secs, bps = rule_bytes[r] * 8 / secs, fps = rule_flows[r] / secs;
        const char *metric = NULL;
        double obs = 0, lim = 0;
        if (ru->pps > 0 && pps > ru->pps) metric = "pps", obs = pps, lim = ru->pps;
        else if (ru->bps > 0 && bps > ru->bps) metric = "bps", obs = bps, lim = ru->bps;
        else if (ru->flows > 0 && fps > ru->flows) metric = "flows", obs = fps, lim = ru->flows;
        if (!episode(d, NP_AN_THRESHOLD, &ru->cidr.net, ru->cidr.bits, gp->start_ms, metric != NULL, metric != NULL)) continue;
        char b1[32], b2[32];
        np_anomaly_t *a = raise(d, gp, NP_AN_THRESHOLD, NULL, &ru->cidr, metric, round(obs), lim, ratio_score(obs / lim), obs / lim);
        if (a)
            snprintf(a->explanation, sizeof(a->explanation), "Traffic to %s reached %s %s, above the configured %s.",
                     a->entity, fmt_num(obs, b1, sizeof(b1)), metric, fmt_num(lim, b2, sizeof(b2)));
    }
}

/* Holt on packets, and on packets / the seasonal factor (times the next pane's): the one
 * with the smaller recent error (np_sforecast). */
static void forecast(np_detect_t *d, const np_gpane_t *gp, bool live, np_forecast_t *fc) {
    const np_detect_config_t *c = &d->cfg;
    double x = (double)gp->packets;
    memset(fc, 0, sizeof(*fc));
    if (d->fc_has && d->fc_start == gp->start_ms) {
        fc->has_previous = true;
        fc->prev_start = gp->start_ms;
        fc->prev_predicted = d->fc_predicted;
        fc->prev_actual = x;
    }
    double pred = np_sforecast_step(&d->fcm, d->cfg.seasonal ? &d->season[P_PACKETS] : NULL, gp->start_ms,
                                    gp->start_ms + c->pane_ms, x, c->forecast_alpha, c->forecast_beta, c->forecast_phi);
    if (pred < 0) pred = 0;
    pred = round(pred * 10) / 10;
    fc->window_start = gp->start_ms + c->pane_ms;
    fc->window_end = fc->window_start + c->pane_ms;
    fc->predicted = pred;
    d->fc_has = true;
    d->fc_start = fc->window_start;
    d->fc_predicted = pred;
    if (!live || c->forecast_alert_packets <= 0) return;
    bool over = pred > c->forecast_alert_packets;
    if (!episode(d, NP_AN_FORECAST_THRESHOLD, &GLOBAL_IP, 0, gp->start_ms, over, over)) return;
    np_anomaly_t *a = raise(d, gp, NP_AN_FORECAST_THRESHOLD, NULL, NULL, "packets_forecast", pred,
                            c->forecast_alert_packets, ratio_score(pred / c->forecast_alert_packets),
                            pred / c->forecast_alert_packets);
    if (a) {
        /* The alert is about the next window. */
        a->window_start = fc->window_start;
        a->window_end = fc->window_end;
        char b1[32], b2[32];
        snprintf(a->explanation, sizeof(a->explanation),
                 "The next window is forecast to carry %s packets, above the alert level of %s.",
                 fmt_num(pred, b1, sizeof(b1)), fmt_num(c->forecast_alert_packets, b2, sizeof(b2)));
    }
}

size_t np_detect_pane(np_detect_t *d, const np_gpane_t *gp, np_anomaly_t *out, np_forecast_t *fc) {
    d->out = out;
    d->nout = 0;
    d->changed_n = 0;
    d->st.panes++;
    bool learning = d->panes < d->cfg.learn_panes;
    bool live = d->panes >= d->cfg.warmup_panes;
    double vals[S__COUNT];
    vals[S_RECORDS] = (double)gp->records;
    vals[S_BYTES] = (double)gp->bytes;
    vals[S_PACKETS] = (double)gp->packets;
    for (int i = 0; i < 4; i++) {
        vals[S_TCP + i] = (double)gp->pmix[i];
        vals[S_SH_TCP + i] = gp->records ? (double)gp->pmix[i] / (double)gp->records : 0;
    }
    vals[S_ENTROPY] = pane_entropy(gp);
    vals[S_PORT_ENTROPY] = port_entropy(gp);

    season_pane_t sp;
    season_pane(d, gp->start_ms, &sp);
    volume(d, gp, live, d->s, d->ds, &sp, vals, S_OTHER + 1, 0, NULL);
    for (size_t vi = 0; vi < d->nviews; vi++) {
        /* A view's flows only: a small view's bytes are carried by a few heavy-tailed flows
         * (one large flow would be a spike); global volume and heavy hitters watch bytes. */
        double vr = view_records(gp, vi); /* views: no profile (bounded state) */
        volume(d, gp, live, &d->vs[vi], NULL, NULL, &vr, 1, -1 - (int)vi, d->cfg.views->v[vi].name);
        learn(d, &d->vs[vi], vr, series_floor[S_RECORDS]);
    }
    detect_protocol(d, gp, live, vals);
    detect_entropy(d, gp, live, vals);
    detect_sources(d, gp, live, learning);
    detect_dests(d, gp, live);
    detect_intrusions(d, gp);
    forecast(d, gp, live, fc);

    for (int si = 0; si < S__COUNT; si++) {
        if (si >= S_SH_TCP && gp->records == 0) continue; /* no mix in an empty pane */
        if (si <= S_OTHER && d->cfg.seasonal)
            learn_season(d, &d->ds[si], vals[si], series_floor[si], sp.lo[si], sp.hi[si]);
        learn(d, &d->s[si], vals[si], series_floor[si]);
        /* Profiles learn the values as they are (a recurring job must be learnt whole);
         * np_season bounds what one anomaly can do to them. */
        if (d->cfg.seasonal && si <= S_PACKETS) np_season_learn(&d->season[profile_of(si)], gp->start_ms, vals[si]);
    }
    d->panes++;
    d->next_pane = gp->start_ms + d->cfg.pane_ms;
    return d->nout;
}

/* ---- persistence ------------------------------------------------------------------- */

#define DETECT_STATE_VERSION 1

/* A ring (cap slots, n held, next write pos) oldest first into out. */
static void ring_out(const double *ring, int cap, int n, int pos, double *out) {
    int start = n < cap ? 0 : pos;
    for (int k = 0; k < n; k++) out[k] = ring[(start + k) % cap];
}

/* A series as a SeriesState, oldest first; ring (baseline_panes slots) holds the values. */
static void series_save(const np_detect_t *d, const series_t *s, Netpulse__SeriesState *ss, double *ring) {
    netpulse__series_state__init(ss);
    ring_out(s->ring, d->cfg.baseline_panes, s->n, s->pos, ring);
    ss->ring = ring;
    ss->n_ring = (size_t)s->n;
}

static void series_load(np_detect_t *d, series_t *s, const Netpulse__SeriesState *ss) {
    s->n = s->pos = 0;
    size_t n = ss->n_ring;
    size_t from = n > (size_t)d->cfg.baseline_panes ? n - (size_t)d->cfg.baseline_panes : 0;
    for (size_t k = from; k < n; k++) series_push(d, s, ss->ring[k]);
}

/* buf: NP_SEASON_DAY_BINS + NP_SEASON_WEEK_BINS doubles for the trailing rings. */
static void season_save(const np_season_t *p, Netpulse__SeasonState *ss, double *buf) {
    netpulse__season_state__init(ss);
    ss->first_ms = p->first_ms;
    ss->cur_bin = p->cur_bin;
    ss->cur_sum = p->cur_sum;
    ss->cur_n = p->cur_n;
    ss->bin_ms = p->bin_ms;
    ss->n_day = ss->n_day_n = (size_t)p->bins;
    ss->day = (double *)p->day;
    ss->day_n = (uint32_t *)p->day_n;
    ss->n_week = ss->n_week_n = NP_SEASON_WEEK_BINS;
    ss->week = (double *)p->week;
    ss->week_n = (uint32_t *)p->week_n;
    ring_out(p->hist, p->bins, p->hist_n, p->hist_pos, buf);
    ss->hist = buf;
    ss->n_hist = (size_t)p->hist_n;
    ring_out(p->days, NP_SEASON_WEEK_BINS, p->days_n, p->days_pos, buf + NP_SEASON_DAY_BINS);
    ss->days = buf + NP_SEASON_DAY_BINS;
    ss->n_days = (size_t)p->days_n;
    ss->cur_day = p->cur_day;
    ss->day_sum = p->day_sum;
    ss->day_cnt = p->day_cnt;
    ss->week_off = p->week_off;
}

/* False (the profile left fresh) when the saved one does not fit this cadence. */
static bool season_load(np_season_t *p, const Netpulse__SeasonState *ss) {
    if (ss->bin_ms != p->bin_ms || ss->n_day != (size_t)p->bins || ss->n_day_n != ss->n_day ||
        ss->n_week != NP_SEASON_WEEK_BINS || ss->n_week_n != NP_SEASON_WEEK_BINS || ss->n_hist > (size_t)p->bins ||
        ss->n_days > NP_SEASON_WEEK_BINS)
        return false;
    for (size_t i = 0; i < ss->n_day; i++)
        if (!isfinite(ss->day[i])) return false;
    p->first_ms = ss->first_ms;
    p->cur_bin = ss->cur_bin;
    p->cur_sum = ss->cur_sum;
    p->cur_n = ss->cur_n;
    if (ss->n_day) memcpy(p->day, ss->day, ss->n_day * sizeof(double));
    if (ss->n_day_n) memcpy(p->day_n, ss->day_n, ss->n_day * sizeof(uint32_t));
    memcpy(p->week, ss->week, sizeof(p->week));
    memcpy(p->week_n, ss->week_n, sizeof(p->week_n));
    if (ss->n_hist) memcpy(p->hist, ss->hist, ss->n_hist * sizeof(double));
    p->hist_n = (int)ss->n_hist;
    p->hist_pos = p->hist_n % p->bins;
    if (ss->n_days) memcpy(p->days, ss->days, ss->n_days * sizeof(double));
    p->days_n = (int)ss->n_days;
    p->days_pos = p->days_n % NP_SEASON_WEEK_BINS;
    p->cur_day = ss->cur_day;
    p->day_sum = ss->day_sum;
    p->day_cnt = ss->day_cnt;
    p->week_off = ss->week_off;
    return true;
}

int np_detect_state_encode(const np_detect_t *d, uint8_t **out, size_t *len) {
    Netpulse__DetectState st = NETPULSE__DETECT_STATE__INIT;
    size_t ns = S__COUNT + d->nviews;
    Netpulse__SeriesState *ss = calloc(ns, sizeof(*ss));
    Netpulse__SeriesState **ssp = calloc(ns, sizeof(*ssp));
    double *rings = calloc(ns * (size_t)d->cfg.baseline_panes, sizeof(double));
    char **names = calloc(d->nviews + 1, sizeof(*names));
    Netpulse__Episode *eps = calloc(MAX_EPISODES, sizeof(*eps));
    Netpulse__Episode **epp = calloc(MAX_EPISODES, sizeof(*epp));
    Netpulse__SeasonState seas[NSEASON], *seap[NSEASON];
    double *sbuf = calloc(NSEASON * (NP_SEASON_DAY_BINS + NP_SEASON_WEEK_BINS), sizeof(double));
    Netpulse__SeriesState dss[S_OTHER + 1], *dssp[S_OTHER + 1];
    double *drings = calloc((S_OTHER + 1) * (size_t)d->cfg.baseline_panes, sizeof(double));
    int rc = -1;
    if (!ss || !ssp || !rings || !names || !eps || !epp || !sbuf || !drings) goto out;
    if (d->cfg.seasonal && d->season[0].bins) {
        for (int i = 0; i <= S_OTHER; i++) {
            series_save(d, &d->ds[i], &dss[i], drings + (size_t)i * (size_t)d->cfg.baseline_panes);
            dssp[i] = &dss[i];
        }
        st.season_series = dssp;
        st.n_season_series = S_OTHER + 1;
        for (int p = 0; p < NSEASON; p++) {
            season_save(&d->season[p], &seas[p], sbuf + p * (NP_SEASON_DAY_BINS + NP_SEASON_WEEK_BINS));
            seap[p] = &seas[p];
            st.season_stage |= (uint32_t)d->season_stage[p] << (2 * p);
        }
        st.seasons = seap;
        st.n_seasons = NSEASON;
    }
    st.version = DETECT_STATE_VERSION;
    st.panes = d->panes;
    st.next_pane_ms = d->next_pane;
    for (size_t i = 0; i < ns; i++) {
        const series_t *s = i < S__COUNT ? &d->s[i] : &d->vs[i - S__COUNT];
        series_save(d, s, &ss[i], rings + i * (size_t)d->cfg.baseline_panes);
        ssp[i] = &ss[i];
    }
    st.series = ssp;
    st.n_series = S__COUNT;
    st.view_series = ssp + S__COUNT;
    st.n_view_series = d->nviews;
    for (size_t i = 0; i < d->nviews; i++) names[i] = (char *)d->cfg.views->v[i].name;
    st.view_names = names;
    st.n_view_names = d->nviews;
    double fcm[5 * NP_SFORECAST_MODELS];
    for (int i = 0; i < NP_SFORECAST_MODELS; i++) {
        const np_sforecast_model_t *m = &d->fcm.m[i];
        double v[5] = {m->init, m->lvl, m->tr, m->err, m->pred};
        memcpy(fcm + 5 * i, v, sizeof(v));
    }
    st.fc_models = fcm;
    st.n_fc_models = 5 * NP_SFORECAST_MODELS;
    st.hw_init = d->fcm.m[0].init;
    st.hw_level = d->fcm.m[0].lvl;
    st.hw_trend = d->fcm.m[0].tr;
    st.fc_flags = (uint32_t)d->fcm.has_pred | (uint32_t)d->fcm.stage << 1 | (uint32_t)d->fcm.best << 3;
    st.fc_has = d->fc_has;
    st.fc_start_ms = d->fc_start;
    st.fc_predicted = d->fc_predicted;
    size_t n = 0;
    for (size_t i = 0; i < MAX_EPISODES; i++) {
        const episode_t *e = &d->ep[i];
        if (!e->used) continue;
        netpulse__episode__init(&eps[n]);
        eps[n].kind = e->kind;
        eps[n].bits = e->bits;
        if (memcmp(e->ip.b, GLOBAL_IP.b, 16) != 0 || e->bits) {
            eps[n].entity.data = (uint8_t *)e->ip.b;
            eps[n].entity.len = 16;
        }
        eps[n].start_ms = e->start_ms;
        eps[n].last_ms = e->last_ms;
        epp[n] = &eps[n];
        n++;
    }
    st.episodes = epp;
    st.n_episodes = n;
    uint64_t stats[6 + NP_AN__COUNT] = {d->st.panes, d->st.alerts, d->st.suppressed, d->st.whitelisted, 0, d->st.known_full};
    memcpy(stats + 6, d->st.by_kind, sizeof(d->st.by_kind));
    st.stats = stats;
    st.n_stats = 6 + NP_AN__COUNT;
    *len = netpulse__detect_state__get_packed_size(&st);
    *out = malloc(*len ? *len : 1);
    if (!*out) goto out;
    netpulse__detect_state__pack(&st, *out);
    rc = 0;
out:
    free(ss);
    free(ssp);
    free(rings);
    free(names);
    free(eps);
    free(epp);
    free(sbuf);
    free(drings);
    return rc;
}

int np_detect_state_decode(np_detect_t *d, const uint8_t *buf, size_t len) {
    Netpulse__DetectState *st = netpulse__detect_state__unpack(NULL, len, buf);
    if (!st) return -1;
    /* A state saved before the port-entropy series existed has one series fewer. */
    if (st->version != DETECT_STATE_VERSION || st->n_series < S_PORT_ENTROPY || st->n_series > S__COUNT) {
        netpulse__detect_state__free_unpacked(st, NULL);
        return -1;
    }
    d->panes = st->panes;
    d->next_pane = st->next_pane_ms;
    for (size_t i = 0; i < S__COUNT; i++) {
        d->s[i].n = d->s[i].pos = 0;
        if (i < st->n_series) series_load(d, &d->s[i], st->series[i]);
    }
    /* Views are matched by name: a view renamed or added since starts a fresh baseline. */
    for (size_t i = 0; i < st->n_view_names && i < st->n_view_series; i++) {
        const char *name = st->view_names[i];
        int vi = d->nviews ? np_viewset_find(d->cfg.views, name, strlen(name)) : -1;
        if (vi >= 0) series_load(d, &d->vs[vi], st->view_series[i]);
    }
    /* A state saved before the forecast had two models has the plain one: the seasonal
     * copy starts from it (errors equal: the plain one is used). */
    memset(&d->fcm, 0, sizeof(d->fcm));
    if (st->n_fc_models == 5 * NP_SFORECAST_MODELS) {
        for (int i = 0; i < NP_SFORECAST_MODELS; i++) {
            const double *v = st->fc_models + 5 * i;
            np_sforecast_model_t *m = &d->fcm.m[i];
            m->init = v[0] != 0;
            m->lvl = v[1];
            m->tr = v[2];
            m->err = v[3];
            m->pred = v[4];
        }
        d->fcm.has_pred = st->fc_flags & 1;
    } else {
        for (int i = 0; i < NP_SFORECAST_MODELS; i++) {
            d->fcm.m[i].init = st->hw_init;
            d->fcm.m[i].lvl = st->hw_level;
            d->fcm.m[i].tr = st->hw_trend;
        }
    }
    d->fcm.stage = (int)(st->fc_flags >> 1) & 3;
    d->fcm.best = (int)(st->fc_flags >> 3) % NP_SFORECAST_MODELS;
    d->fc_has = st->fc_has;
    d->fc_start = st->fc_start_ms;
    d->fc_predicted = st->fc_predicted;
    /* Profiles: a state saved before them (or at another cadence) starts them afresh; the
     * rings were then saved undeseasonalised, which is stage 0. */
    bool seasons_ok = st->n_seasons == NSEASON && st->n_season_series == S_OTHER + 1;
    for (int p = 0; p < NSEASON; p++) {
        np_season_init(&d->season[p], d->cfg.pane_ms);
        if (seasons_ok && !season_load(&d->season[p], st->seasons[p])) seasons_ok = false;
    }
    for (int p = 0; p < NSEASON; p++) {
        if (!seasons_ok) np_season_init(&d->season[p], d->cfg.pane_ms);
        d->season_stage[p] = seasons_ok ? (int)(st->season_stage >> (2 * p)) & 3 : 0;
    }
    for (int si = S_RECORDS; si <= S_OTHER; si++) { /* without profiles (stage 0) the two rings agree */
        series_t *ds = &d->ds[si];
        ds->n = ds->pos = 0;
        if (seasons_ok)
            series_load(d, ds, st->season_series[si]);
        else
            for (int k = 0; k < d->s[si].n; k++) series_push(d, ds, d->s[si].ring[k]); /* just loaded: oldest first */
    }
    if (!seasons_ok) { /* the seasonal models were deseasonalised by a profile now lost: from the plain ones */
        d->fcm.m[1] = d->fcm.m[0];
        d->fcm.stage = 0;
        d->fcm.best = 0;
    }
    memset(d->ep, 0, sizeof(d->ep));
    for (size_t i = 0; i < st->n_episodes && i < MAX_EPISODES; i++) {
        const Netpulse__Episode *e = st->episodes[i];
        episode_t *x = &d->ep[i];
        x->used = 1;
        x->kind = (uint8_t)e->kind;
        x->bits = (int16_t)e->bits;
        if (e->entity.len == 16) memcpy(x->ip.b, e->entity.data, 16);
        x->start_ms = e->start_ms;
        x->last_ms = e->last_ms;
    }
    if (st->n_stats >= 6 + NP_AN_LEVEL_SHIFT) { /* states saved before level_shift have 11 kinds */
        d->st.panes = st->stats[0];
        d->st.alerts = st->stats[1];
        d->st.suppressed = st->stats[2];
        d->st.whitelisted = st->stats[3];
        d->st.known_full = st->stats[5];
        size_t nk = st->n_stats - 6 < NP_AN__COUNT ? st->n_stats - 6 : NP_AN__COUNT;
        memset(d->st.by_kind, 0, sizeof(d->st.by_kind));
        memcpy(d->st.by_kind, st->stats + 6, nk * sizeof(uint64_t));
    }
    netpulse__detect_state__free_unpacked(st, NULL);
    return 0;
}
