/* np_detect_cfg: detector configuration. See np_detect_cfg.h. */
#include "np_detect_cfg.h"
#include "np_vhll.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int get_double(const np_config_t *c, const char *key, double *out, char *err, size_t errlen) {
    const char *v = np_config_str(c, key);
    char *end;
    errno = 0;
    double d = v ? strtod(v, &end) : NAN;
    if (!v || end == v || *end || errno || !isfinite(d)) {
        snprintf(err, errlen, "%s: '%s' is not a number", key, v ? v : "");
        return -1;
    }
    *out = d;
    return 0;
}

/* "CIDR pps=N bps=N flows=N; ..." */
static int parse_rules(np_detect_config_t *o, const char *s, char *err, size_t errlen) {
    const char *key = "detect.thresholds";
    while (s && *s) {
        const char *semi = strchr(s, ';');
        size_t len = semi ? (size_t)(semi - s) : strlen(s);
        char rule[256];
        if (len >= sizeof(rule)) {
            snprintf(err, errlen, "%s: rule too long", key);
            return -1;
        }
        memcpy(rule, s, len);
        rule[len] = '\0';
        s = semi ? semi + 1 : NULL;
        char *save = NULL, *tok = strtok_r(rule, " \t", &save);
        if (!tok) continue;
        if (o->nrules == NP_DETECT_MAX_RULES) {
            snprintf(err, errlen, "%s: more than %d rules", key, NP_DETECT_MAX_RULES);
            return -1;
        }
        np_threshold_rule_t *r = &o->rules[o->nrules];
        memset(r, 0, sizeof(*r));
        if (np_cidr_parse(tok, strlen(tok), &r->cidr) < 0) {
            snprintf(err, errlen, "%s: '%s' is not a CIDR (like 192.0.2.0/24 or 2001:db8::/32)", key, tok);
            return -1;
        }
        int limits = 0;
        while ((tok = strtok_r(NULL, " \t", &save))) {
            char *eq = strchr(tok, '='), *end;
            double v = eq ? strtod(eq + 1, &end) : 0;
            if (!eq || end == eq + 1 || *end || !(v > 0)) {
                snprintf(err, errlen, "%s: '%s' must be pps=N, bps=N or flows=N with N > 0", key, tok);
                return -1;
            }
            *eq = '\0';
            if (!strcmp(tok, "pps")) r->pps = v;
            else if (!strcmp(tok, "bps")) r->bps = v;
            else if (!strcmp(tok, "flows")) r->flows = v;
            else {
                snprintf(err, errlen, "%s: unknown limit '%s' (pps, bps or flows)", key, tok);
                return -1;
            }
            limits++;
        }
        if (!limits) {
            snprintf(err, errlen, "%s: rule for %s has no limit", key, rule);
            return -1;
        }
        o->nrules++;
    }
    return 0;
}

static int parse_whitelist(np_detect_config_t *o, const char *s, char *err, size_t errlen) {
    while (s && *s) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        size_t k = 0;
        while (k < len && (s[k] == ' ' || s[k] == '\t')) k++;
        if (k < len) {
            if (o->nwhitelist == NP_DETECT_MAX_RULES) {
                snprintf(err, errlen, "detect.whitelist: more than %d entries", NP_DETECT_MAX_RULES);
                return -1;
            }
            if (np_cidr_parse(s, len, &o->whitelist[o->nwhitelist]) < 0) {
                snprintf(err, errlen, "detect.whitelist: '%.*s' is not a CIDR", (int)len, s);
                return -1;
            }
            o->nwhitelist++;
        }
        s = comma ? comma + 1 : NULL;
    }
    return 0;
}

int np_detect_config_load(np_detect_config_t *o, const np_config_t *c, int64_t pane_ms, char *err, size_t errlen) {
    np_detect_config_default(o, pane_ms);
    o->warmup_panes = (int)np_config_int(c, "detect.warmup.panes");
    o->learn_panes = (int)np_config_int(c, "detect.learn.panes");
    o->baseline_panes = (int)np_config_int(c, "detect.baseline.panes");
    o->cooldown_panes = (int)np_config_int(c, "detect.cooldown.panes");
    o->shift_ms = np_config_int(c, "detect.shift.ms");
    o->seasonal = np_config_bool(c, "detect.seasonal");
    o->new_min_bytes = (uint64_t)np_config_int(c, "detect.new.min.bytes");
    o->hh_min_records = (uint64_t)np_config_int(c, "detect.hh.min.records");
    o->scan_hosts = (uint64_t)np_config_int(c, "detect.scan.hosts");
    o->scan_ports = (uint64_t)np_config_int(c, "detect.scan.ports");
    o->scan_flow_bytes = (uint64_t)np_config_int(c, "detect.scan.flow.bytes");
    o->ddos_sources = (uint64_t)np_config_int(c, "detect.ddos.sources");
    o->max_known = (size_t)np_config_int(c, "detect.max.known.sources");
    o->max_alerts = (size_t)np_config_int(c, "detect.max.alerts");
    o->intrusion_min = (uint64_t)np_config_int(c, "detect.intrusion.min");
    struct {
        const char *key;
        double *dst;
    } dbl[] = {{"detect.z.enter", &o->z_enter},
               {"detect.z.exit", &o->z_exit},
               {"detect.min.rel", &o->min_rel},
               {"detect.shift.min", &o->shift_min},
               {"detect.entropy.min", &o->entropy_min},
               {"detect.new.min.share", &o->new_min_share},
               {"detect.hh.share", &o->hh_share},
               {"detect.hh.factor", &o->hh_factor},
               {"detect.scan.fanout", &o->scan_fanout},
               {"detect.ddos.share", &o->ddos_share},
               {"detect.intrusion.share", &o->intrusion_share},
               {"detect.forecast.alpha", &o->forecast_alpha},
               {"detect.forecast.beta", &o->forecast_beta},
               {"detect.forecast.phi", &o->forecast_phi},
               {"detect.forecast.alert.packets", &o->forecast_alert_packets}};
    for (size_t i = 0; i < sizeof(dbl) / sizeof(dbl[0]); i++)
        if (get_double(c, dbl[i].key, dbl[i].dst, err, errlen) < 0) return -1;
    if (parse_rules(o, np_config_str(c, "detect.thresholds"), err, errlen) < 0) return -1;
    if (parse_whitelist(o, np_config_str(c, "detect.whitelist"), err, errlen) < 0) return -1;
    const char *bad = np_detect_config_check(o);
    if (bad) {
        snprintf(err, errlen, "%s", bad);
        return -1;
    }
    return 0;
}

int np_views_config_load(np_viewset_t *vs, const np_config_t *c, char *err, size_t errlen) {
    char why[256];
    if (np_viewset_parse(vs, np_config_str(c, "views"), why, sizeof(why)) == 0) return 0;
    snprintf(err, errlen, "views: %s", why);
    return -1;
}

int np_fanin_config_load(const np_config_t *c, size_t *m, unsigned *s, char *err, size_t errlen) {
    char why[160];
    *m = (size_t)np_config_int(c, "fanin.pool.registers");
    *s = (unsigned)np_config_int(c, "fanin.registers.per.dest");
    int bad = np_vhll_check(*m, *s, why, sizeof(why));
    if (!bad) return 0;
    snprintf(err, errlen, "%s: %s", bad == 1 ? "fanin.pool.registers" : "fanin.registers.per.dest", why);
    return -1;
}
