/*
 * netpulse-ingest --pcap: replays a capture (pcap or pcapng, read by libpcap) as flows.
 * Packets go through np_pkt (flow key) and np_flowtab (flow cache with active/inactive
 * timeouts and FIN/RST); each flow is produced with its original event time (its last
 * packet's capture time). Pacing follows the capture's clock: speedup 1 replays at the
 * original pace, N times faster, or 0 = as fast as Kafka takes it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ingest.h"
#include "np_clock.h"
#include "np_flowtab.h"
#include "np_pkt.h"

/* Where the IP header starts for a link type, and how to read it. -1 if unsupported. */
static int link_offset(int dlt, np_pkt_link_t *link)
{
    switch (dlt) {
    case DLT_EN10MB: *link = NP_PKT_ETHERNET; return 0;
    case DLT_RAW: *link = NP_PKT_IP; return 0;
#ifdef DLT_IPV4
    case DLT_IPV4: *link = NP_PKT_IPV4; return 0;
    case DLT_IPV6: *link = NP_PKT_IPV6; return 0;
#endif
    case DLT_NULL: case DLT_LOOP: *link = NP_PKT_IP; return 4;
    case DLT_LINUX_SLL: *link = NP_PKT_IP; return 16;
    default: return -1;
    }
}

static void pace(int64_t first_ms, int64_t ts_ms, int64_t wall0, int64_t speedup)
{
    if (speedup <= 0)
        return;
    int64_t due = wall0 + (ts_ms - first_ms) / speedup;
    for (int64_t now = np_clock_mono_ms(); due > now && !np_proc_stopping(); now = np_clock_mono_ms()) {
        int64_t d = due - now > 100 ? 100 : due - now;
        struct timespec ts = {d / 1000, (d % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
}

int ingest_replay(ingest_t *ing, const np_config_t *c, const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    if (!pc) {
        char why[PCAP_ERRBUF_SIZE + 1100];
        snprintf(why, sizeof why, "pcap: cannot read %s: %s", path, err);
        np_proc_fatal_config(why);
        return 2;
    }
    np_pkt_link_t link;
    int off = link_offset(pcap_datalink(pc), &link);
    np_flowtab_t *ft = np_flowtab_new((size_t)np_config_int(c, "max.flows"), np_config_int(c, "active.timeout.s") * 1000,
                                      np_config_int(c, "inactive.timeout.s") * 1000);
    if (off < 0 || !ft) {
        np_error("pcap_unsupported", "path=%s linktype=%d", path, pcap_datalink(pc));
        pcap_close(pc);
        np_flowtab_destroy(&ft);
        return 2;
    }
    int64_t speedup = np_config_int(c, "replay.speedup"), wall0 = np_clock_mono_ms(), first = -1;
    uint64_t pkts = 0, skipped = 0;
    struct pcap_pkthdr *h;
    const u_char *data;
    int r;
    np_info("replay_start", "path=%s linktype=%s speedup=%" PRId64, path, pcap_datalink_val_to_name(pcap_datalink(pc)),
            speedup);
    while (!np_proc_stopping() && (r = pcap_next_ex(pc, &h, &data)) == 1) {
        int64_t ts = (int64_t)h->ts.tv_sec * 1000 + h->ts.tv_usec / 1000;
        if (first < 0)
            first = ts;
        pace(first, ts, wall0, speedup);
        np_pkt_t pk;
        if ((++pkts & 1023) == 0)
            ingest_poll(ing);
        if ((int)h->caplen <= off || np_pkt_parse(data + off, h->caplen - (size_t)off, link, &pk) < 0) {
            skipped++;
            continue;
        }
        np_flowtab_add(ft, ts, &pk, ingest_produce_flow, ing);
    }
    np_flowtab_flush(ft, ingest_produce_flow, ing);
    ingest_count_replay(ing, pkts, skipped);
    np_info("replay_done", "packets=%" PRIu64 " skipped=%" PRIu64 " forced=%" PRIu64 " error=\"%s\"", pkts, skipped,
            np_flowtab_forced(ft), r == -1 ? pcap_geterr(pc) : "");
    int rc = r == -1 ? 1 : 0;
    np_flowtab_destroy(&ft);
    pcap_close(pc);
    return rc;
}
