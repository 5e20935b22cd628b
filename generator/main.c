/*
 * netpulse-generator: produces realistic flow records to Kafka (`network-traffic`), keyed
 * by source IP, with librdkafka's idempotent producer; or replays recorded flows from a
 * file. Deterministic for a given --seed: the same flags give the same records.
 *
 * Baseline traffic: --sources sources (10% IPv6) whose volumes follow a Zipf law, talking
 * to a pool of servers on common ports (HTTPS, HTTP, DNS, SSH, NTP, mail, databases),
 * log-normal flow sizes, optional diurnal shape. Event time advances by 1/--rate seconds
 * per record with a little out-of-order jitter; --speedup sets how fast event time runs
 * against the wall clock (0 = as fast as Kafka takes it).
 *
 * Shows progress every second and a summary at the end (stderr, logfmt).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "np_clock.h"
#include "np_kafka.h"
#include "np_opts.h"
#include "np_proc.h"
#include "np_record.h"
#include "kdd_replay.h"

static const np_opt_t gen_opts[] = {
    NP_OPTS_COMMON,
    NP_OPTS_KAFKA,
    {"topic", NP_OPT_STR, "network-traffic", 1, 0, NULL, "Topic to produce to"},
    {"rate", NP_OPT_INT, "10000", 1, 100000000, NULL, "Records per second of event time"},
    {"count", NP_OPT_INT, "0", 0, INT64_MAX, NULL, "Stop after this many records (0 = no limit)"},
    {"duration", NP_OPT_INT, "0", 0, 315360000, NULL, "Stop after this many seconds of event time (0 = no limit)"},
    {"speedup", NP_OPT_INT, "1", 0, 1000000, NULL,
     "Event time runs this many times faster than wall time (0 = unthrottled)"},
    {"seed", NP_OPT_INT, "1", 0, INT64_MAX, NULL, "Random seed: same seed and flags, same records"},
    {"sources", NP_OPT_INT, "1000", 1, 100000000, NULL, "Distinct source IPs in the baseline"},
    {"format", NP_OPT_STR, "json", 0, 0, "json|csv", "Record format (csv carries time in the Kafka timestamp)"},
    {"start.ms", NP_OPT_INT, "0", 0, INT64_MAX, NULL, "Event time of the first record (0 = now)"},
    {"jitter.ms", NP_OPT_INT, "500", 0, 3600000, NULL, "Records may be up to this much out of order"},
    {"diurnal", NP_OPT_INT, "0", 0, 90, NULL, "Daily swing of the rate, percent (0 = flat)"},
    {"replay", NP_OPT_STR, NULL, 0, 0, NULL,
     "Replay records from this file (one JSON or CSV record per line) instead of generating"},
    {"kdd.replay", NP_OPT_STR, NULL, 0, 0, NULL,
     "Replay an NSL-KDD file (e.g. KDDTest+.txt) to kdd.topic at --rate rows per second"},
    NP_OPT_KDD_TOPIC,
    {"kdd.hosts", NP_OPT_INT, "50", 1, 62500, NULL, "Synthetic destination addresses of the NSL-KDD replay"},
    {"log.progress.ms", NP_OPT_INT, "1000", 100, 3600000, NULL, "Progress line interval, ms"},
    {"scenario", NP_OPT_STR, "", 0, 0, NULL,
     "Labelled events on top of the baseline, comma-separated: spike, drop, ddos, host_scan, port_scan, "
     "new_source, heavy_hitter, protocol_shift, or 'mixed' (all of them, in a seeded order)"},
    {"output", NP_OPT_STR, NULL, 0, 0, NULL,
     "Write the records to this file (one per line) instead of Kafka, e.g. for netpulse-detect --records"},
    {"truth", NP_OPT_STR, NULL, 0, 0, NULL, "Write the scenario's ground truth here (JSON lines: kind, entity, start, end)"},
    {"scenario.warmup.s", NP_OPT_INT, "300", 0, 86400, NULL, "Event time of baseline before the first event, s"},
    {"scenario.event.s", NP_OPT_INT, "60", 1, 86400, NULL, "Length of each event, s"},
    {"scenario.gap.s", NP_OPT_INT, "120", 0, 86400, NULL, "Baseline between events, s"},
};

/* ---- deterministic randomness (xoshiro256**, seeded by splitmix64) ----------------- */

typedef struct rng {
    uint64_t s[4];
} rng_t;

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng_t *r) {
    uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

static double rng_unit(rng_t *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }
static uint64_t rng_below(rng_t *r, uint64_t n) { return rng_next(r) % n; }

static double rng_normal(rng_t *r) { /* Box-Muller; one value is enough */
    double u = rng_unit(r), v = rng_unit(r);
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(2 * M_PI * v);
}

/* ---- the baseline model ------------------------------------------------------------ */

typedef struct service {
    uint16_t port;
    uint8_t proto;
    double weight;
    double mu; /* log of typical flow bytes */
} service_t;

static const service_t services[] = {
    {443, NP_PROTO_TCP, 40, 9.0}, {80, NP_PROTO_TCP, 14, 8.5},  {53, NP_PROTO_UDP, 16, 4.8},
    {22, NP_PROTO_TCP, 3, 8.0},   {123, NP_PROTO_UDP, 3, 4.4},  {25, NP_PROTO_TCP, 2, 8.0},
    {993, NP_PROTO_TCP, 2, 8.0},  {3306, NP_PROTO_TCP, 2, 7.5}, {8080, NP_PROTO_TCP, 4, 8.0},
    {0, NP_PROTO_ICMP, 2, 5.0},   {0, NP_PROTO_UDP, 6, 6.5},    {0, NP_PROTO_TCP, 6, 7.0},
};
#define NSERVICES (sizeof(services) / sizeof(services[0]))
#define NSERVERS 1024

typedef enum {
    EV_SPIKE = 0, EV_DROP, EV_DDOS, EV_HOST_SCAN, EV_PORT_SCAN, EV_NEW_SOURCE, EV_HEAVY_HITTER, EV_PROTOCOL_SHIFT,
    EV__COUNT
} ev_kind_t;
static const char *const ev_names[EV__COUNT] = {"spike",     "drop",       "ddos",         "host_scan",
                                                "port_scan", "new_source", "heavy_hitter", "protocol_shift"};

/* One labelled event: a modifier of the baseline (drop, protocol_shift) or a stream of
 * its own records at `rate` per second of event time (the rest). */
typedef struct event {
    ev_kind_t kind;
    int64_t start, end;   /* event time, ms: [start, end) */
    char entity[64];      /* what a detector should name: an address, or "global" */
    char target[64];      /* ddos victim, port scan target */
    double rate;          /* records/s of its own stream; 0 for modifiers */
    double next_t;
    uint64_t seq;
    size_t src;           /* heavy hitter: its baseline source index */
} event_t;

#define MAX_EVENTS 64

typedef struct gen {
    np_proc_t proc;
    rng_t rng;
    rng_t erng;          /* events draw from their own generator: the baseline stays the same */
    event_t ev[MAX_EVENTS];
    size_t nev;
    bool *outage;        /* by Zipf rank: silent during a drop */
    double rate;
    size_t nsrc;
    double *src_cdf;     /* Zipf CDF over sources */
    double svc_cdf[NSERVICES];
    bool csv;
    int64_t jitter_ms;
    double diurnal;
} gen_t;

static void src_ip_text(size_t i, char *buf, size_t len) {
    /* Every tenth source is IPv6 (documentation prefix), the rest 10.0.0.0/8. IPv6 text is
     * written canonically (RFC 5952), as the key of a record keyed by its source must be. */
    if (i % 10 == 9) {
        char raw[64];
        np_ip_t ip;
        int n = snprintf(raw, sizeof(raw), "2001:db8:%zx::%zx", (i >> 16) & 0xffff, i & 0xffff);
        if (np_ip_parse(raw, (size_t)n, &ip) == 0)
            np_ip_format(&ip, buf, len);
        else
            snprintf(buf, len, "%s", raw);
    } else
        snprintf(buf, len, "10.%zu.%zu.%zu", (i >> 16) & 255, (i >> 8) & 255, (i & 255) ? (i & 255) : 254);
}

static void dst_ip_text(size_t i, bool v6, char *buf, size_t len) {
    if (v6)
        snprintf(buf, len, "2001:db8:ffff::%zx", i + 1);
    else
        snprintf(buf, len, "192.168.%zu.%zu", (i >> 8) & 255, (i & 255) ? (i & 255) : 1);
}

static size_t pick_cdf(const double *cdf, size_t n, double u) {
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int gen_init(gen_t *g, uint64_t seed, size_t nsrc) {
    rng_seed(&g->rng, seed);
    g->nsrc = nsrc;
    g->src_cdf = malloc(nsrc * sizeof(double));
    if (!g->src_cdf) return -1;
    double sum = 0;
    for (size_t i = 0; i < nsrc; i++) sum += 1.0 / pow((double)(i + 1), 1.1);
    double acc = 0;
    for (size_t i = 0; i < nsrc; i++) {
        acc += 1.0 / pow((double)(i + 1), 1.1) / sum;
        g->src_cdf[i] = acc;
    }
    g->src_cdf[nsrc - 1] = 1.0;
    double wsum = 0, wacc = 0;
    for (size_t i = 0; i < NSERVICES; i++) wsum += services[i].weight;
    for (size_t i = 0; i < NSERVICES; i++) {
        wacc += services[i].weight / wsum;
        g->svc_cdf[i] = wacc;
    }
    g->svc_cdf[NSERVICES - 1] = 1.0;
    return 0;
}

/* Formats one flow record (JSON or CSV) into buf. */
static size_t format_flow(const gen_t *g, int64_t ts, const char *src, const char *dst, uint16_t sport, uint16_t dport,
                          uint8_t proto, uint64_t bytes, uint64_t packets, char *buf, size_t buflen) {
    int n;
    if (g->csv) {
        n = snprintf(buf, buflen, "%s,%s,%" PRIu64, src, dst, bytes);
    } else {
        const char *p = proto == NP_PROTO_TCP ? "tcp" : proto == NP_PROTO_UDP ? "udp" : "icmp";
        n = snprintf(buf, buflen,
                     "{\"ts\":%" PRId64 ",\"src_ip\":\"%s\",\"dst_ip\":\"%s\",\"src_port\":%u,\"dst_port\":%u,"
                     "\"proto\":\"%s\",\"bytes\":%" PRIu64 ",\"packets\":%" PRIu64 "}",
                     ts, src, dst, sport, dport, p, bytes, packets);
    }
    return n < 0 ? 0 : (size_t)n;
}

static uint64_t lognormal_bytes(rng_t *r, double mu, double sigma) {
    double b = exp(mu + sigma * rng_normal(r));
    return b < 40 ? 40 : b > 5e7 ? 50000000 : (uint64_t)b;
}

static bool event_active(const gen_t *g, ev_kind_t kind, int64_t ts) {
    for (size_t i = 0; i < g->nev; i++)
        if (g->ev[i].kind == kind && ts >= g->ev[i].start && ts < g->ev[i].end) return true;
    return false;
}

/* Writes one baseline record's text into buf and its key (source IP text) into key.
 * Returns 0 when the record falls silent (its source is in an outage). */
static size_t gen_record(gen_t *g, int64_t ts, char *key, size_t keylen, char *buf, size_t buflen) {
    /* Rank by Zipf, then scatter ranks over addresses so heavy sources are not adjacent. */
    size_t rank = pick_cdf(g->src_cdf, g->nsrc, rng_unit(&g->rng));
    size_t si = (rank * 2654435761u) % g->nsrc;
    const service_t *s = &services[pick_cdf(g->svc_cdf, NSERVICES, rng_unit(&g->rng))];
    char dst[64];
    dst_ip_text(rng_below(&g->rng, NSERVERS), si % 10 == 9, dst, sizeof(dst));
    uint16_t dport = s->port ? s->port : (uint16_t)(1024 + rng_below(&g->rng, 64512));
    uint16_t sport = s->proto == NP_PROTO_ICMP ? 0 : (uint16_t)(32768 + rng_below(&g->rng, 28232));
    uint8_t proto = s->proto;
    uint64_t bytes = lognormal_bytes(&g->rng, s->mu, 1.2);
    uint64_t packets = 1 + bytes / (uint64_t)(400 + rng_below(&g->rng, 1100));
    if (g->nev) {
        if (g->outage[rank] && event_active(g, EV_DROP, ts)) return 0;
        /* A protocol shift turns half of the flows into ICMP. */
        if (event_active(g, EV_PROTOCOL_SHIFT, ts) && rng_unit(&g->erng) < 0.5) proto = NP_PROTO_ICMP;
    }
    if (proto == NP_PROTO_ICMP) dport = sport = 0;
    src_ip_text(si, key, keylen);
    return format_flow(g, ts, key, dst, sport, dport, proto, bytes, packets, buf, buflen);
}

/* One record of an event's own stream. */
static size_t gen_event_record(gen_t *g, event_t *e, int64_t ts, char *key, size_t keylen, char *buf, size_t buflen) {
    rng_t *r = &g->erng;
    char dst[64];
    uint64_t seq = e->seq++;
    switch (e->kind) {
    case EV_SPIKE: /* more of the same traffic */
        return gen_record(g, ts, key, keylen, buf, buflen);
    case EV_DDOS: { /* spoofed sources from 198.18.0.0/15 flood one server */
        uint64_t x = rng_next(r);
        snprintf(key, keylen, "198.%u.%u.%u", 18 + (unsigned)(x & 1), (unsigned)((x >> 8) & 255),
                 1 + (unsigned)((x >> 16) % 254));
        return format_flow(g, ts, key, e->target, (uint16_t)(1024 + rng_below(r, 60000)), 53, NP_PROTO_UDP,
                           60 + rng_below(r, 60), 1, buf, buflen);
    }
    case EV_HOST_SCAN: /* one source, port 22 of host after host */
        snprintf(key, keylen, "%s", e->entity);
        snprintf(dst, sizeof(dst), "172.16.%u.%u", (unsigned)((seq >> 8) & 255), (unsigned)(seq & 255));
        return format_flow(g, ts, key, dst, (uint16_t)(40000 + rng_below(r, 20000)), 22, NP_PROTO_TCP, 60, 1, buf, buflen);
    case EV_PORT_SCAN: /* one source, port after port of one host */
        snprintf(key, keylen, "%s", e->entity);
        return format_flow(g, ts, key, e->target, (uint16_t)(40000 + rng_below(r, 20000)), (uint16_t)(1 + seq % 65535),
                           NP_PROTO_TCP, 60, 1, buf, buflen);
    case EV_NEW_SOURCE:
    case EV_HEAVY_HITTER: { /* big transfers from one source */
        snprintf(key, keylen, "%s", e->entity);
        dst_ip_text(rng_below(r, NSERVERS), strchr(key, ':') != NULL, dst, sizeof(dst));
        uint64_t bytes = lognormal_bytes(r, 13.0, 0.5);
        return format_flow(g, ts, key, dst, (uint16_t)(32768 + rng_below(r, 28232)), 443, NP_PROTO_TCP, bytes,
                           1 + bytes / 1400, buf, buflen);
    }
    default: return 0;
    }
}

/* Plans the events of --scenario and writes the ground truth. Returns 0 or -1. */
static int plan_scenario(gen_t *g, const char *spec, int64_t start, int64_t warmup_ms, int64_t event_ms,
                         int64_t gap_ms, const char *truth, char *why, size_t whylen) {
    ev_kind_t kinds[MAX_EVENTS];
    size_t n = 0;
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", spec);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (!strcmp(tok, "mixed")) {
            for (int k = 0; k < EV__COUNT && n < MAX_EVENTS; k++) kinds[n++] = (ev_kind_t)k;
            continue;
        }
        int k = 0;
        while (k < EV__COUNT && strcmp(ev_names[k], tok)) k++;
        if (k == EV__COUNT) {
            snprintf(why, whylen, "scenario: unknown event '%s' (spike, drop, ddos, host_scan, port_scan, new_source, "
                     "heavy_hitter, protocol_shift, mixed)", tok);
            return -1;
        }
        if (n < MAX_EVENTS) kinds[n++] = (ev_kind_t)k;
    }
    /* A seeded order, so that a seed also decides which event follows which. */
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_below(&g->erng, i);
        ev_kind_t t = kinds[i - 1];
        kinds[i - 1] = kinds[j];
        kinds[j] = t;
    }
    /* The drop's outage: sources in a seeded order until they carry half of the traffic. */
    g->outage = calloc(g->nsrc, sizeof(bool));
    if (!g->outage) return -1;
    double acc = 0;
    for (size_t tries = 0; acc < 0.5 && tries < 4 * g->nsrc; tries++) {
        size_t rank = rng_below(&g->erng, g->nsrc);
        if (g->outage[rank]) continue;
        g->outage[rank] = true;
        acc += g->src_cdf[rank] - (rank ? g->src_cdf[rank - 1] : 0);
    }
    FILE *f = truth && *truth ? fopen(truth, "w") : NULL;
    if (truth && *truth && !f) {
        snprintf(why, whylen, "truth: cannot open %s: %s", truth, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        event_t *e = &g->ev[g->nev++];
        memset(e, 0, sizeof(*e));
        e->kind = kinds[i];
        /* Not aligned to panes: events start anywhere in one. */
        e->start = start + warmup_ms + (int64_t)i * (event_ms + gap_ms) + (int64_t)rng_below(&g->erng, 5000);
        e->end = e->start + event_ms;
        e->next_t = (double)e->start;
        snprintf(e->entity, sizeof(e->entity), "global");
        size_t server = rng_below(&g->erng, NSERVERS);
        switch (e->kind) {
        case EV_SPIKE: e->rate = 2.0 * g->rate; break;
        case EV_DDOS:
            e->rate = 0.5 * g->rate;
            dst_ip_text(server, false, e->target, sizeof(e->target));
            memcpy(e->entity, e->target, sizeof(e->entity));
            break;
        case EV_HOST_SCAN:
            e->rate = 40;
            snprintf(e->entity, sizeof(e->entity), "203.0.113.%u", 1 + (unsigned)rng_below(&g->erng, 120));
            break;
        case EV_PORT_SCAN:
            e->rate = 40;
            snprintf(e->entity, sizeof(e->entity), "203.0.113.%u", 130 + (unsigned)rng_below(&g->erng, 120));
            dst_ip_text(server, false, e->target, sizeof(e->target));
            break;
        case EV_NEW_SOURCE:
            e->rate = g->rate / 20 > 10 ? g->rate / 20 : 10; /* big transfers, about half of the bytes */
            snprintf(e->entity, sizeof(e->entity), "100.64.%u.%u", (unsigned)rng_below(&g->erng, 256),
                     1 + (unsigned)rng_below(&g->erng, 254));
            break;
        case EV_HEAVY_HITTER: {
            /* An ordinary source (Zipf rank 20-59: seen during any baseline) turns heavy. */
            size_t rank = 20 + rng_below(&g->erng, 40);
            if (rank >= g->nsrc) rank = g->nsrc - 1;
            e->src = (rank * 2654435761u) % g->nsrc;
            e->rate = g->rate / 20 > 10 ? g->rate / 20 : 10;
            src_ip_text(e->src, e->entity, sizeof(e->entity));
            break;
        }
        default: break;
        }
        if (f)
            fprintf(f, "{\"kind\":\"%s\",\"entity\":\"%s\",\"start\":%" PRId64 ",\"end\":%" PRId64 "}\n",
                    ev_names[e->kind], e->entity, e->start, e->end);
        np_info("scenario_event", "kind=%s entity=%s start=%" PRId64 " end=%" PRId64, ev_names[e->kind], e->entity,
                e->start, e->end);
    }
    /* The run itself, so that an evaluation knows how long the baseline lasted. */
    if (f)
        fprintf(f, "{\"kind\":\"run\",\"entity\":\"global\",\"start\":%" PRId64 ",\"end\":%" PRId64 "}\n", start,
                start + warmup_ms + (int64_t)n * (event_ms + gap_ms) + 5000);
    if (f && fclose(f) != 0) {
        snprintf(why, whylen, "truth: cannot write %s: %s", truth, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- producing --------------------------------------------------------------------- */

typedef struct stats {
    uint64_t produced, delivered, failed, bytes;
    int64_t first_ts, last_ts;
} stats_t;

static stats_t S;
static FILE *out_file; /* --output: records go here instead of Kafka */

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    static np_log_rl_t rl = NP_LOG_RL_INIT;
    (void)rk;
    (void)opaque;
    if (m->err) {
        S.failed++;
        np_log_rl(&rl, NP_LOG_ERROR, "delivery_failed", "error=\"%s\"", rd_kafka_err2str(m->err));
    } else {
        S.delivered++;
    }
}

static int produce(rd_kafka_t *rk, const char *topic, const char *key, size_t keylen, const char *val,
                   size_t len, int64_t ts) {
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (out_file) {
        if (fwrite(val, 1, len, out_file) != len || fputc('\n', out_file) == EOF) {
            np_error("write_failed", "error=\"%s\"", strerror(errno));
            return -1;
        }
        S.delivered++;
    }
    while (!out_file && (err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, keylen),
                                    RD_KAFKA_V_VALUE((void *)val, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(rk, 10);
    if (err) {
        np_error("produce_failed", "error=\"%s\"", rd_kafka_err2str(err));
        return -1;
    }
    S.produced++;
    S.bytes += len;
    if (S.first_ts == 0 || ts < S.first_ts) S.first_ts = ts;
    if (ts > S.last_ts) S.last_ts = ts;
    return 0;
}

static void progress(int64_t started, const char *what) {
    double secs = (double)(np_clock_mono_ms() - started) / 1000.0;
    np_info(what, "produced=%" PRIu64 " delivered=%" PRIu64 " failed=%" PRIu64 " bytes=%" PRIu64
            " elapsed_s=%.1f rate_per_s=%.0f event_time_from=%" PRId64 " event_time_to=%" PRId64,
            S.produced, S.delivered, S.failed, S.bytes, secs, secs > 0 ? (double)S.produced / secs : 0.0,
            S.first_ts, S.last_ts);
}

static void sleep_ms(int64_t ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !np_proc_stopping()) {}
}

static int run_replay(rd_kafka_t *rk, const char *topic, const char *path, int64_t progress_ms) {
    FILE *f = fopen(path, "r");
    if (!f) {
        char why[512];
        snprintf(why, sizeof(why), "replay: cannot open %s: %s", path, strerror(errno));
        np_proc_fatal_config(why);
        return 2;
    }
    np_record_limits_t lim;
    np_record_limits_default(&lim);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int64_t started = np_clock_mono_ms(), next_progress = started + progress_ms;
    uint64_t lineno = 0, skipped = 0;
    static np_log_rl_t rl = NP_LOG_RL_INIT;
    while (!np_proc_stopping() && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        if (n == 0) continue;
        np_record_t r;
        char detail[128], key[64];
        int64_t now = np_clock_wall_ms(NULL);
        np_record_reason_t why = np_record_decode(line, (size_t)n, now, now, &lim, &r, detail, sizeof(detail));
        if (why != NP_REC_OK) {
            /* Replayed as is: the workers count it and dead-letter it, as they would
             * any producer's bad record. The key is empty since there is no source. */
            skipped++;
            np_log_rl(&rl, NP_LOG_WARN, "replay_bad_line", "line=%" PRIu64 " reason=%s detail=\"%s\"", lineno,
                      np_record_reason_name(why), detail);
            key[0] = '\0';
            r.ts_ms = now;
        } else {
            np_ip_format(&r.src, key, sizeof(key));
        }
        if (produce(rk, topic, key, strlen(key), line, (size_t)n, r.ts_ms) < 0) break;
        if (rk) rd_kafka_poll(rk, 0);
        if (np_clock_mono_ms() >= next_progress) {
            progress(started, "progress");
            next_progress += progress_ms;
        }
    }
    free(line);
    fclose(f);
    np_info("replay_done", "lines=%" PRIu64 " undecodable=%" PRIu64, lineno, skipped);
    return 0;
}

/* The NSL-KDD replay's hooks: the generator's producer and progress line. */
typedef struct kdd_ctx {
    rd_kafka_t *rk;
    const char *topic;
    int64_t started;
} kdd_ctx_t;

static int kdd_produce(void *ctx, const char *key, size_t keylen, const char *val, size_t len, int64_t ts) {
    kdd_ctx_t *k = ctx;
    int rc = produce(k->rk, k->topic, key, keylen, val, len, ts);
    if (k->rk) rd_kafka_poll(k->rk, 0);
    return rc;
}

static void kdd_tick(void *ctx) { progress(((kdd_ctx_t *)ctx)->started, "progress"); }

static int run_kdd_replay(rd_kafka_t *rk, np_config_t *c, const char *path) {
    kdd_ctx_t k = {rk, np_config_str(c, "kdd.topic"), np_clock_mono_ms()};
    kdd_replay_opts_t o = {path, np_config_int(c, "rate"), np_config_int(c, "start.ms"),
                           np_config_int(c, "kdd.hosts"), np_config_int(c, "count")};
    if (o.start_ms == 0) o.start_ms = np_clock_wall_ms(NULL);
    char err[512];
    int rc = kdd_replay_run(&o, kdd_produce, kdd_tick, &k, err, sizeof(err));
    if (rc == 2) np_proc_fatal_config(err);
    return rc;
}

int main(int argc, char **argv) {
    static gen_t G;
    gen_t *g = &G;
    int rc = np_proc_init(&g->proc, "netpulse-generator",
                          "Produces realistic flow records (or replays recorded ones) to Kafka, "
                          "keyed by source IP.",
                          gen_opts, sizeof(gen_opts) / sizeof(gen_opts[0]), argc, argv);
    if (rc) return rc == 1 ? 0 : 2;
    np_config_t *c = g->proc.cfg;
    const char *topic = np_config_str(c, "topic");
    char err[512];
    /* murmur2 as the Java client does, so records land where any other producer's would. */
    static const char *const defaults[] = {"enable.idempotence", "true", "partitioner", "murmur2_random",
                                           "linger.ms", "20", "queue.buffering.max.messages", "1000000", NULL};
    rd_kafka_conf_t *conf = np_kafka_conf_new_with(c, "netpulse-generator", defaults, err, sizeof(err));
    if (!conf) {
        np_proc_fatal_config(err);
        return 2;
    }
    const char *outp = np_config_str(c, "output");
    if (outp && *outp && !(out_file = fopen(outp, "w"))) {
        snprintf(err, sizeof(err), "output: cannot open %s: %s", outp, strerror(errno));
        np_proc_fatal_config(err);
        return 2;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    /* With --output no client is needed: librdkafka would only try to reach the brokers. */
    rd_kafka_t *rk = out_file ? NULL : rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (out_file) rd_kafka_conf_destroy(conf);
    if (!rk && !out_file) {
        np_proc_fatal_config(err);
        return 2;
    }
    if (np_proc_http_start(&g->proc, NULL, NULL, NULL) < 0) return 1;
    int64_t progress_ms = np_config_int(c, "log.progress.ms");
    int64_t started = np_clock_mono_ms();
    const char *replay = np_config_str(c, "replay"), *kdd = np_config_str(c, "kdd.replay");
    if (kdd && *kdd) {
        rc = run_kdd_replay(rk, c, kdd);
    } else if (replay && *replay) {
        rc = run_replay(rk, topic, replay, progress_ms);
    } else {
        g->csv = !strcmp(np_config_str(c, "format"), "csv");
        g->jitter_ms = np_config_int(c, "jitter.ms");
        g->diurnal = (double)np_config_int(c, "diurnal") / 100.0;
        if (gen_init(g, (uint64_t)np_config_int(c, "seed"), (size_t)np_config_int(c, "sources")) < 0) {
            np_error("out_of_memory", "what=sources");
            return 1;
        }
        int64_t rate = np_config_int(c, "rate"), count = np_config_int(c, "count");
        int64_t duration = np_config_int(c, "duration") * 1000, speedup = np_config_int(c, "speedup");
        int64_t start = np_config_int(c, "start.ms");
        if (start == 0) start = np_clock_wall_ms(NULL);
        g->rate = (double)rate;
        rng_seed(&g->erng, (uint64_t)np_config_int(c, "seed") ^ 0x5ce7a210u);
        const char *scen = np_config_str(c, "scenario");
        if (scen && *scen) {
            char why[512];
            int64_t warm = np_config_int(c, "scenario.warmup.s") * 1000, evl = np_config_int(c, "scenario.event.s") * 1000,
                    gap = np_config_int(c, "scenario.gap.s") * 1000;
            if (plan_scenario(g, scen, start, warm, evl, gap, np_config_str(c, "truth"), why, sizeof(why)) < 0) {
                np_proc_fatal_config(why);
                return 2;
            }
            /* Without --duration, run until a gap after the last event. */
            if (!duration && !count) duration = warm + (int64_t)g->nev * (evl + gap) + 5000;
        }
        np_info("started", "topic=%s rate=%" PRId64 " count=%" PRId64 " duration_ms=%" PRId64 " speedup=%" PRId64
                " seed=%" PRId64 " sources=%zu format=%s start_ms=%" PRId64 " events=%zu",
                topic, rate, count, duration, speedup, np_config_int(c, "seed"), g->nsrc,
                g->csv ? "csv" : "json", start, g->nev);
        double t = (double)start; /* event time of the next baseline record, ms */
        int64_t next_progress = started + progress_ms;
        char key[64], val[512];
        for (int64_t i = 0; !np_proc_stopping(); i++) {
            if (count && i >= count) break;
            /* The stream whose next record comes first: the baseline or an event's. */
            event_t *src = NULL;
            double now_t = t;
            for (size_t k = 0; k < g->nev; k++) {
                event_t *e = &g->ev[k];
                if (e->rate > 0 && e->next_t < (double)e->end && e->next_t < now_t) {
                    src = e;
                    now_t = e->next_t;
                }
            }
            if (duration && now_t >= (double)(start + duration)) break;
            int64_t ts = (int64_t)now_t;
            if (g->jitter_ms) ts -= (int64_t)rng_below(src ? &g->erng : &g->rng, (uint64_t)g->jitter_ms + 1);
            if (src && ts < src->start) ts = src->start; /* an event's records do not precede it */
            size_t len = src ? gen_event_record(g, src, ts, key, sizeof(key), val, sizeof(val))
                             : gen_record(g, ts, key, sizeof(key), val, sizeof(val));
            if (len && produce(rk, topic, key, strlen(key), val, len, ts) < 0) break;
            if (src) {
                src->next_t += 1000.0 / src->rate;
            } else {
                double r = (double)rate;
                if (g->diurnal > 0) r *= 1.0 + g->diurnal * sin(2 * M_PI * fmod(t, 86400000.0) / 86400000.0);
                t += 1000.0 / r;
            }
            if ((i & 63) == 0) {
                if (rk) rd_kafka_poll(rk, 0);
                int64_t now = np_clock_mono_ms();
                /* Hold event time to speedup x wall time. */
                int64_t due = speedup > 0 ? started + (int64_t)((now_t - (double)start) / (double)speedup) : now;
                while (due > now && !np_proc_stopping()) {
                    sleep_ms(due - now > 100 ? 100 : due - now);
                    now = np_clock_mono_ms();
                    if (now >= next_progress) break;
                }
                if (now >= next_progress) {
                    progress(started, "progress");
                    next_progress = now + progress_ms;
                }
            }
        }
        rc = 0;
    }
    if (rk) {
        np_info("flushing", "outstanding=%d", rd_kafka_outq_len(rk));
        rd_kafka_flush(rk, 60000);
    }
    progress(started, "summary");
    if ((rk && rd_kafka_outq_len(rk) > 0) || S.failed) {
        np_error("not_all_delivered", "outstanding=%d failed=%" PRIu64, rk ? rd_kafka_outq_len(rk) : 0, S.failed);
        rc = 1;
    }
    if (rk) rd_kafka_destroy(rk);
    if (out_file && fclose(out_file) != 0) {
        np_error("write_failed", "error=\"%s\"", strerror(errno));
        rc = 1;
    }
    free(g->src_cdf);
    free(g->outage);
    np_proc_fini(&g->proc);
    return rc;
}
