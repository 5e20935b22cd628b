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
#include "np_proc.h"
#include "np_record.h"

static const np_opt_t gen_opts[] = {
    NP_OPTS_COMMON,
    NP_OPTS_KAFKA,
    {"topic", NP_OPT_STR, "network-traffic", 0, 0, NULL, "Topic to produce to"},
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
    {"progress.ms", NP_OPT_INT, "1000", 100, 3600000, NULL, "Progress line interval, ms"},
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

typedef struct gen {
    np_proc_t proc;
    rng_t rng;
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

/* Writes one record's text into buf and its key (source IP text) into key. */
static size_t gen_record(gen_t *g, int64_t ts, char *key, size_t keylen, char *buf, size_t buflen) {
    /* Rank by Zipf, then scatter ranks over addresses so heavy sources are not adjacent. */
    size_t rank = pick_cdf(g->src_cdf, g->nsrc, rng_unit(&g->rng));
    size_t si = (rank * 2654435761u) % g->nsrc;
    src_ip_text(si, key, keylen);
    const service_t *s = &services[pick_cdf(g->svc_cdf, NSERVICES, rng_unit(&g->rng))];
    char dst[64];
    dst_ip_text(rng_below(&g->rng, NSERVERS), si % 10 == 9, dst, sizeof(dst));
    uint16_t dport = s->port ? s->port : (uint16_t)(1024 + rng_below(&g->rng, 64512));
    uint16_t sport = s->proto == NP_PROTO_ICMP ? 0 : (uint16_t)(32768 + rng_below(&g->rng, 28232));
    if (s->proto == NP_PROTO_ICMP) dport = 0;
    double b = exp(s->mu + 1.2 * rng_normal(&g->rng));
    uint64_t bytes = b < 40 ? 40 : b > 5e7 ? 50000000 : (uint64_t)b;
    uint64_t packets = 1 + bytes / (uint64_t)(400 + rng_below(&g->rng, 1100));
    int n;
    if (g->csv) {
        n = snprintf(buf, buflen, "%s,%s,%" PRIu64, key, dst, bytes);
    } else {
        const char *proto = s->proto == NP_PROTO_TCP ? "tcp" : s->proto == NP_PROTO_UDP ? "udp" : "icmp";
        n = snprintf(buf, buflen,
                     "{\"ts\":%" PRId64 ",\"src_ip\":\"%s\",\"dst_ip\":\"%s\",\"src_port\":%u,\"dst_port\":%u,"
                     "\"proto\":\"%s\",\"bytes\":%" PRIu64 ",\"packets\":%" PRIu64 "}",
                     ts, key, dst, sport, dport, proto, bytes, packets);
    }
    return n < 0 ? 0 : (size_t)n;
}

/* ---- producing --------------------------------------------------------------------- */

typedef struct stats {
    uint64_t produced, delivered, failed, bytes;
    int64_t first_ts, last_ts;
} stats_t;

static stats_t S;

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
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, keylen),
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
        rd_kafka_poll(rk, 0);
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
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        np_proc_fatal_config(err);
        return 2;
    }
    if (np_proc_http_start(&g->proc, NULL, NULL, NULL) < 0) return 1;
    int64_t progress_ms = np_config_int(c, "progress.ms");
    int64_t started = np_clock_mono_ms();
    const char *replay = np_config_str(c, "replay");
    if (replay && *replay) {
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
        np_info("started", "topic=%s rate=%" PRId64 " count=%" PRId64 " duration_ms=%" PRId64 " speedup=%" PRId64
                " seed=%" PRId64 " sources=%zu format=%s start_ms=%" PRId64,
                topic, rate, count, duration, speedup, np_config_int(c, "seed"), g->nsrc,
                g->csv ? "csv" : "json", start);
        double t = (double)start; /* event time of the next record, ms */
        int64_t next_progress = started + progress_ms;
        char key[64], val[512];
        for (int64_t i = 0; !np_proc_stopping(); i++) {
            if (count && i >= count) break;
            if (duration && t >= (double)(start + duration)) break;
            int64_t ts = (int64_t)t;
            if (g->jitter_ms) ts -= (int64_t)rng_below(&g->rng, (uint64_t)g->jitter_ms + 1);
            size_t len = gen_record(g, ts, key, sizeof(key), val, sizeof(val));
            if (produce(rk, topic, key, strlen(key), val, len, ts) < 0) break;
            double r = (double)rate;
            if (g->diurnal > 0) r *= 1.0 + g->diurnal * sin(2 * M_PI * fmod(t, 86400000.0) / 86400000.0);
            t += 1000.0 / r;
            if ((i & 63) == 0) {
                rd_kafka_poll(rk, 0);
                int64_t now = np_clock_mono_ms();
                /* Hold event time to speedup x wall time. */
                int64_t due = speedup > 0 ? started + (int64_t)((t - (double)start) / (double)speedup) : now;
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
    np_info("flushing", "outstanding=%d", rd_kafka_outq_len(rk));
    rd_kafka_flush(rk, 60000);
    progress(started, "summary");
    if (rd_kafka_outq_len(rk) > 0 || S.failed) {
        np_error("not_all_delivered", "outstanding=%d failed=%" PRIu64, rd_kafka_outq_len(rk), S.failed);
        rc = 1;
    }
    rd_kafka_destroy(rk);
    free(g->src_cdf);
    np_proc_fini(&g->proc);
    return rc;
}
