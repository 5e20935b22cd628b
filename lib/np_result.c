/* np_result: JSON for processed-data. See np_result.h. */
#include "np_result.h"

#include <inttypes.h>
#include <stdio.h>

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
    np_strbuf_u64(sb, gp->sources ? np_srcmap_count(gp->sources) : 0);
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
    np_strbuf_putc(sb, '}');
}
