/* np_result: JSON for processed-data. See np_result.h. */
#include "np_result.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

size_t np_result_window_id(int64_t start_ms, int64_t end_ms, char *buf, size_t buflen) {
    int n = snprintf(buf, buflen, "window:%" PRId64 ":%" PRId64, start_ms, end_ms);
    return n < 0 ? 0 : (size_t)n;
}

static void agg_fields(np_strbuf_t *sb, uint64_t records, uint64_t bytes, uint64_t packets) {
    np_strbuf_puts(sb, "\"records\":");
    np_strbuf_u64(sb, records);
    np_strbuf_puts(sb, ",\"bytes\":");
    np_strbuf_u64(sb, bytes);
    np_strbuf_puts(sb, ",\"packets\":");
    np_strbuf_u64(sb, packets);
}

/* {"normal":N,"DoS":N,"Probe":N,"R2L":N,"U2R":N} */
static void put_classes(np_strbuf_t *sb, const uint64_t *n) {
    for (int k = 0; k < NP_KDD_NCLASSES; k++) {
        np_strbuf_puts(sb, k ? ",\"" : "{\"");
        np_strbuf_puts(sb, np_kdd_class_name(k));
        np_strbuf_puts(sb, "\":");
        np_strbuf_u64(sb, n[k]);
    }
    np_strbuf_putc(sb, '}');
}

void np_result_window_json(np_strbuf_t *sb, const np_gpane_t *gp, int64_t pane_ms,
                           char *id_out, size_t id_len) {
    int64_t end = gp->start_ms + pane_ms;
    size_t idn = np_result_window_id(gp->start_ms, end, id_out, id_len);
    np_strbuf_puts(sb, "{\"type\":\"window\",\"id\":");
    np_strbuf_json_str(sb, id_out, idn);
    np_strbuf_puts(sb, ",\"window_start\":");
    np_strbuf_i64(sb, gp->start_ms);
    np_strbuf_puts(sb, ",\"window_end\":");
    np_strbuf_i64(sb, end);
    np_strbuf_puts(sb, ",\"window_ms\":");
    np_strbuf_i64(sb, pane_ms);
    np_strbuf_putc(sb, ',');
    agg_fields(sb, gp->records, gp->bytes, gp->packets);
    np_strbuf_puts(sb, ",\"protocols\":{\"tcp\":");
    np_strbuf_u64(sb, gp->pmix[NP_PMIX_TCP]);
    np_strbuf_puts(sb, ",\"udp\":");
    np_strbuf_u64(sb, gp->pmix[NP_PMIX_UDP]);
    np_strbuf_puts(sb, ",\"icmp\":");
    np_strbuf_u64(sb, gp->pmix[NP_PMIX_ICMP]);
    np_strbuf_puts(sb, ",\"other\":");
    np_strbuf_u64(sb, gp->pmix[NP_PMIX_OTHER]);
    np_strbuf_puts(sb, "},\"sources\":");
    uint64_t nsrc = gp->sources ? np_srcmap_count(gp->sources) : 0;
    /* Bounded partials: the table holds candidates, the exact count came with them. */
    if (gp->bounded && gp->nsources > nsrc) nsrc = gp->nsources;
    np_strbuf_u64(sb, nsrc);
    np_strbuf_puts(sb, ",\"top_sources\":[");
    if (gp->sources) {
        np_srcagg_t top[NP_RESULT_TOP_SOURCES];
        size_t n = np_srcmap_top_bytes(gp->sources, top, NP_RESULT_TOP_SOURCES);
        for (size_t i = 0; i < n; i++) {
            char ip[64];
            size_t ipn = np_ip_format(&top[i].ip, ip, sizeof(ip));
            np_strbuf_puts(sb, i ? ",{\"ip\":" : "{\"ip\":");
            np_strbuf_json_str(sb, ip, ipn);
            np_strbuf_putc(sb, ',');
            agg_fields(sb, top[i].records, top[i].bytes, top[i].packets);
            /* Distinct counts: exact up to 6, then HyperLogLog estimates (~3% error). */
            np_strbuf_puts(sb, ",\"dst_ips\":");
            np_strbuf_u64(sb, np_hll_estimate(&top[i].dst_ips));
            np_strbuf_puts(sb, ",\"dst_ports\":");
            np_strbuf_u64(sb, np_hll_estimate(&top[i].dst_ports));
            np_strbuf_putc(sb, '}');
        }
    }
    np_strbuf_puts(sb, "],\"partitions\":");
    np_strbuf_u64(sb, gp->partitions);
    np_strbuf_puts(sb, ",\"late_records\":");
    np_strbuf_u64(sb, gp->late_records);
    if (gp->sources_evicted) {
        /* Only present when the per-pane source table overflowed: `sources` and
         * `top_sources` are then lower bounds, the totals still exact. */
        np_strbuf_puts(sb, ",\"sources_evicted\":");
        np_strbuf_u64(sb, gp->sources_evicted);
    }
    if (gp->sources_lower_bound) {
        /* A sliding window over bounded panes: its per-source fields are not exact. */
        np_strbuf_puts(sb, ",\"sources_lower_bound\":true");
    }
    if (np_classcount_sum(&gp->class_total)) {
        /* Only when connection records were classified in the window (NSL-KDD slots). */
        np_strbuf_puts(sb, ",\"classes\":");
        put_classes(sb, gp->class_total.n);
    }
    np_strbuf_putc(sb, '}');
}

/* A double as JSON: integers without a fraction, others with up to 4 decimals. */
static void put_num(np_strbuf_t *sb, double v) {
    if (v == (double)(int64_t)v && v > -9e15 && v < 9e15)
        np_strbuf_i64(sb, (int64_t)v);
    else
        np_strbuf_printf(sb, v >= 100 || v <= -100 ? "%.1f" : "%.4g", v);
}

/* ,"name":"value" (name given with its leading comma and quotes, e.g. ",\"kind\":"). */
static void put_str(np_strbuf_t *sb, const char *name, const char *v) {
    np_strbuf_puts(sb, name);
    np_strbuf_json_str(sb, v, strlen(v));
}

void np_result_anomaly_json(np_strbuf_t *sb, const np_anomaly_t *a, char *id_out, size_t id_len) {
    const char *kind = np_anomaly_kind_name(a->kind);
    int n = snprintf(id_out, id_len, "anomaly:%s:%s:%" PRId64, kind, a->entity, a->window_start);
    size_t idn = n < 0 ? 0 : (size_t)n >= id_len ? id_len - 1 : (size_t)n;
    np_strbuf_puts(sb, "{\"type\":\"anomaly\",\"id\":");
    np_strbuf_json_str(sb, id_out, idn);
    put_str(sb, ",\"kind\":", kind);
    put_str(sb, ",\"entity\":", a->entity);
    put_str(sb, ",\"metric\":", a->metric);
    np_strbuf_puts(sb, ",\"window_start\":");
    np_strbuf_i64(sb, a->window_start);
    np_strbuf_puts(sb, ",\"window_end\":");
    np_strbuf_i64(sb, a->window_end);
    np_strbuf_puts(sb, ",\"observed\":");
    put_num(sb, a->observed);
    np_strbuf_puts(sb, ",\"expected\":");
    put_num(sb, a->expected);
    np_strbuf_puts(sb, ",\"score\":");
    put_num(sb, a->score);
    put_str(sb, ",\"severity\":", np_severity_name(a->severity));
    put_str(sb, ",\"explanation\":", a->explanation);
    if (a->kind == NP_AN_INTRUSION) {
        put_str(sb, ",\"class\":", np_kdd_class_name(a->cls));
        np_strbuf_puts(sb, ",\"counts\":");
        put_classes(sb, a->class_counts);
        np_strbuf_puts(sb, ",\"confidence\":");
        put_num(sb, a->confidence);
    }
    np_strbuf_putc(sb, '}');
}

void np_result_forecast_json(np_strbuf_t *sb, const np_forecast_t *f, char *id_out, size_t id_len) {
    int n = snprintf(id_out, id_len, "forecast:%" PRId64 ":%" PRId64, f->window_start, f->window_end);
    size_t idn = n < 0 ? 0 : (size_t)n >= id_len ? id_len - 1 : (size_t)n;
    np_strbuf_puts(sb, "{\"type\":\"forecast\",\"id\":");
    np_strbuf_json_str(sb, id_out, idn);
    np_strbuf_puts(sb, ",\"metric\":\"packets\",\"window_start\":");
    np_strbuf_i64(sb, f->window_start);
    np_strbuf_puts(sb, ",\"window_end\":");
    np_strbuf_i64(sb, f->window_end);
    np_strbuf_puts(sb, ",\"predicted\":");
    put_num(sb, f->predicted);
    if (f->has_previous) {
        np_strbuf_puts(sb, ",\"previous\":{\"window_start\":");
        np_strbuf_i64(sb, f->prev_start);
        np_strbuf_puts(sb, ",\"predicted\":");
        put_num(sb, f->prev_predicted);
        np_strbuf_puts(sb, ",\"actual\":");
        put_num(sb, f->prev_actual);
        np_strbuf_putc(sb, '}');
    }
    np_strbuf_putc(sb, '}');
}

void np_result_group_json(np_strbuf_t *sb, const np_view_t *v, const np_gagg_t *g, int rank, uint64_t view_bytes,
                          int64_t window_start, int64_t window_ms, char *id_out, size_t id_len) {
    int n = snprintf(id_out, id_len, "group:%s:%" PRId64 ":%d", v->name, window_start, rank);
    size_t idn = n < 0 ? 0 : (size_t)n >= id_len ? id_len - 1 : (size_t)n;
    char grp[256];
    np_view_group_format(v, &g->key, grp, sizeof(grp));
    np_strbuf_puts(sb, "{\"type\":\"group\",\"id\":");
    np_strbuf_json_str(sb, id_out, idn);
    np_strbuf_puts(sb, ",\"view\":");
    np_strbuf_json_str(sb, v->name, strlen(v->name));
    np_strbuf_printf(sb, ",\"group\":{%s},\"window_start\":", grp);
    np_strbuf_i64(sb, window_start);
    np_strbuf_puts(sb, ",\"window_end\":");
    np_strbuf_i64(sb, window_start + window_ms);
    np_strbuf_puts(sb, ",\"window_ms\":");
    np_strbuf_i64(sb, window_ms);
    np_strbuf_printf(sb, ",\"rank\":%d,\"records\":", rank);
    np_strbuf_u64(sb, g->records);
    np_strbuf_puts(sb, ",\"bytes\":");
    np_strbuf_u64(sb, g->bytes);
    np_strbuf_puts(sb, ",\"packets\":");
    np_strbuf_u64(sb, g->packets);
    np_strbuf_puts(sb, ",\"share\":");
    put_num(sb, view_bytes ? round((double)g->bytes / (double)view_bytes * 10000) / 10000 : 0);
    np_strbuf_putc(sb, '}');
}
