/*
 * np_detect_cfg: the detectors' configuration keys (shared by the coordinator and
 * netpulse-detect, so that both run the same detectors with the same parameters) and their
 * loading and validation from np_config.
 */
#ifndef NP_DETECT_CFG_H
#define NP_DETECT_CFG_H

#include "np_config.h"
#include "np_detect.h"
#include "np_view.h"

#define NP_OPTS_DETECT                                                                                      \
    {"detect.enabled", NP_OPT_BOOL, "true", 0, 0, NULL, "Run the detectors on every final pane"},          \
    {"detect.warmup.panes", NP_OPT_INT, "24", 5, 1000000, NULL, "Panes before any alert (baseline warm-up)"}, \
    {"detect.learn.panes", NP_OPT_INT, "24", 1, 100000000, NULL,                                            \
     "Panes during which sources are learnt as known (new_source, heavy_hitter baselines)"},                \
    {"detect.baseline.panes", NP_OPT_INT, "60", 5, 1024, NULL, "Panes in the robust baseline (median, MAD)"}, \
    {"detect.z.enter", NP_OPT_STR, "6", 0, 0, NULL, "Robust z-score that opens a volume/entropy alert"},     \
    {"detect.z.exit", NP_OPT_STR, "3", 0, 0, NULL, "Robust z-score below which an episode calms down"},     \
    {"detect.min.rel", NP_OPT_STR, "0.15", 0, 0, NULL, "Volume alerts also need this relative change"},      \
    {"detect.cooldown.panes", NP_OPT_INT, "3", 1, 100000, NULL,                                             \
     "An alert episode ends after this many panes without its condition"},                                  \
    {"detect.shift.ms", NP_OPT_INT, "21600000", 1, INT64_MAX, NULL,                                           \
     "A sustained change of level is reported once (level_shift) and is the new baseline after this long"}, \
    {"detect.seasonal", NP_OPT_BOOL, "true", 0, 0, NULL, "Learn daily and day-of-week profiles: the volume detectors, the forecast and --csv use them once learnt"}, \
    {"detect.shift.min", NP_OPT_STR, "0.1", 0, 0, NULL, "Protocol mix shift (total variation) to alert"},  \
    {"detect.entropy.min", NP_OPT_STR, "0.1", 0, 0, NULL, "Change of normalised destination entropy to alert"}, \
    {"detect.new.min.share", NP_OPT_STR, "0.1", 0, 0, NULL, "New source: minimum share of the pane's bytes"}, \
    {"detect.new.min.bytes", NP_OPT_INT, "100000", 0, INT64_MAX, NULL, "New source: minimum bytes in a pane"}, \
    {"detect.hh.share", NP_OPT_STR, "0.3", 0, 0, NULL, "Heavy hitter: minimum share of bytes or packets"},  \
    {"detect.hh.factor", NP_OPT_STR, "3", 0, 0, NULL, "Heavy hitter, scans: times the source's own baseline (share, hosts, ports)"}, \
    {"detect.hh.min.records", NP_OPT_INT, "3", 1, 1000000000, NULL, "Heavy hitter and new source: minimum flows in the pane"}, \
    {"detect.scan.hosts", NP_OPT_INT, "30", 2, 100000000, NULL, "Host scan: distinct destinations in a pane"}, \
    {"detect.scan.ports", NP_OPT_INT, "30", 2, 65536, NULL, "Port scan: distinct ports in a pane"},        \
    {"detect.scan.fanout", NP_OPT_STR, "0.5", 0, 0, NULL, "Scans: distinct targets per flow of the source"}, \
    {"detect.scan.flow.bytes", NP_OPT_INT, "1500", 1, INT64_MAX, NULL, "Scans: mean bytes per flow at most"}, \
    {"detect.ddos.sources", NP_OPT_INT, "100", 2, 100000000, NULL, "DDoS: distinct sources of one destination"}, \
    {"detect.ddos.share", NP_OPT_STR, "0.05", 0, 0, NULL, "DDoS: the destination's minimum share of flows"}, \
    {"detect.intrusion.min", NP_OPT_INT, "20", 1, INT64_MAX, NULL,                                          \
     "Intrusion: connections of one NSL-KDD attack class to a destination in a pane"},                      \
    {"detect.intrusion.share", NP_OPT_STR, "0.2", 0, 0, NULL,                                               \
     "Intrusion: the class's minimum share of the destination's connections"},                             \
    {"detect.forecast.alpha", NP_OPT_STR, "1", 0, 0, NULL, "Forecast (Holt, damped): level smoothing (1 with beta 0: the last pane)"},  \
    {"detect.forecast.beta", NP_OPT_STR, "0", 0, 0, NULL, "Forecast: trend smoothing"},                  \
    {"detect.forecast.phi", NP_OPT_STR, "0.9", 0, 0, NULL, "Forecast: trend damping"},                     \
    {"detect.forecast.alert.packets", NP_OPT_STR, "0", 0, 0, NULL,                                          \
     "Alert when the next window's forecast packets exceed this (0 = off)"},                                \
    {"detect.max.known.sources", NP_OPT_INT, "1000000", 1, 100000000, NULL, "Known sources kept (bounded)"}, \
    {"detect.max.alerts", NP_OPT_INT, "64", 1, 4096, NULL, "Anomalies per pane at most (more are counted)"}, \
    {"detect.thresholds", NP_OPT_STR, "", 0, 0, NULL,                                                       \
     "Static limits per destination CIDR: 'CIDR pps=N bps=N flows=N; CIDR ...' (per second)"},              \
    {"detect.whitelist", NP_OPT_STR, "", 0, 0, NULL, "CIDRs whose alerts are suppressed, comma-separated"}

/* Views (np_view.h), the same in workers, the coordinator and netpulse-detect. The
 * per-pane group bound differs: MAXG is its default. */
#define NP_OPTS_VIEWS(MAXG)                                                                                 \
    {"views", NP_OPT_STR, "", 0, 0, NULL,                                                                   \
     "Operator views: 'NAME: FILTER by KEYS; ...' (see ARCHITECTURE.md, Views), the same in every process"}, \
    {"views.max.groups", NP_OPT_INT, MAXG, 1, 16777216, NULL,                                               \
     "Groups kept per view and pane; more are folded into the view's 'other' (counted)"}

/* Parses the `views` key into vs. Returns 0, or -1 with a message naming the key in err. */
int np_views_config_load(np_viewset_t *vs, const np_config_t *c, char *err, size_t errlen);

/* Fills out from c. Returns 0, or -1 with a message naming the key in err. */
int np_detect_config_load(np_detect_config_t *out, const np_config_t *c, int64_t pane_ms, char *err, size_t errlen);

/* The DDoS detector's fan-in pool (NP_OPTS_FANIN, np_vhll) of bounded partials: its size and
 * registers per destination. Returns 0, or -1 with err naming the bad key (exit 2). */
int np_fanin_config_load(const np_config_t *c, size_t *m, unsigned *s, char *err, size_t errlen);

#endif
