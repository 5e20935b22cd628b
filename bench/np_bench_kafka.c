/*
 * bench/np_bench_kafka: the Kafka side of the benchmark harness (bench/run.sh). Each
 * subcommand prints one JSON object on stdout and logs to stderr.
 *
 *   topics   -b BROKERS NAME:PARTITIONS...   create topics (idempotent), wait for leaders
 *   consume  -b BROKERS -t TOPIC             the raw ceiling: a minimal librdkafka consumer
 *            reading every partition from the beginning to its end, doing nothing with the
 *            records (same rd_kafka_consumer_poll loop and defaults as netpulse-worker)
 *   produce  -b BROKERS -t TOPIC -f FILE     a raw librdkafka producer: the records of FILE
 *            (netpulse-generator --output), keyed and timestamped as the generator does, with
 *            the generator's producer settings; all of it decoded into memory before timing
 *   watch    -p HTTP_PORT... -m METRIC -n TARGET [-g PARTITIONS]   polls workers' /metrics
 *            until METRIC, summed over them, reaches TARGET; the rate is measured from the
 *            first poll that saw it move (with -g: and saw the group settled, i.e. every
 *            worker owning input partitions and PARTITIONS of them owned in all)
 *   latency  -b BROKERS -t TOPIC -s SECONDS -l LATENESS_MS [-a SINCE_MS] [-u UNTIL_MS]
 *            reads results (read_committed) from the end for SECONDS and reports, per kind
 *            (pane windows, sliding windows, anomalies), how long after its pane closed
 *            (window_end + lateness, the earliest moment event time lets any system close
 *            it) each result became visible; only results of windows ending in [SINCE, UNTIL]
 *
 * Not part of any netpulse process; never run by the test suite.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "np_record.h"

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "np-bench-kafka: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static int64_t mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct opts {
    const char *brokers, *topic, *file, *metric;
    int ports[16]; /* watch: the metric is summed over these processes */
    int nports;
    int settled_parts; /* watch -g */
    int64_t target, seconds, lateness_ms, since_ms, until_ms;
    const char *props[32]; /* -X key=value */
    int nprops;
} opts_t;

static rd_kafka_conf_t *conf_new(const opts_t *o, const char *const *defaults) {
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "bootstrap.servers", o->brokers, err, sizeof(err)) != RD_KAFKA_CONF_OK) die("%s", err);
    for (size_t i = 0; defaults && defaults[i]; i += 2)
        if (rd_kafka_conf_set(c, defaults[i], defaults[i + 1], err, sizeof(err)) != RD_KAFKA_CONF_OK) die("%s", err);
    for (int i = 0; i < o->nprops; i++) {
        char kv[512];
        snprintf(kv, sizeof(kv), "%s", o->props[i]);
        char *eq = strchr(kv, '=');
        if (!eq) die("-X %s: expected key=value", kv);
        *eq = '\0';
        if (rd_kafka_conf_set(c, kv, eq + 1, err, sizeof(err)) != RD_KAFKA_CONF_OK) die("%s", err);
    }
    return c;
}

/* Partition count of topic, waiting up to 30 s for it to exist with leaders. */
static int topic_partitions(rd_kafka_t *rk, const char *topic) {
    for (int tries = 0; tries < 300; tries++) {
        const struct rd_kafka_metadata *md;
        rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
        rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, 5000);
        rd_kafka_topic_destroy(t);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            int n = 0, ok = md->topic_cnt == 1 && !md->topics[0].err;
            if (ok) {
                n = md->topics[0].partition_cnt;
                for (int i = 0; i < n; i++) ok &= md->topics[0].partitions[i].leader >= 0;
            }
            rd_kafka_metadata_destroy(md);
            if (ok && n > 0) return n;
        }
        usleep(100000);
    }
    die("topic %s: no usable metadata", topic);
    return -1;
}

/* ---- topics ------------------------------------------------------------------------ */

static int cmd_topics(const opts_t *o, int argc, char **argv) {
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf_new(o, NULL), err, sizeof(err));
    if (!rk) die("%s", err);
    rd_kafka_NewTopic_t *nt[64];
    static char names[64][256];
    int n = 0;
    for (int i = 0; i < argc && n < 64; i++) {
        char *name = names[n];
        snprintf(name, sizeof(names[n]), "%s", argv[i]);
        char *colon = strrchr(name, ':');
        if (!colon) die("%s: expected NAME:PARTITIONS", argv[i]);
        *colon = '\0';
        if (!(nt[n++] = rd_kafka_NewTopic_new(name, atoi(colon + 1), 1, err, sizeof(err)))) die("%s", err);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, nt, (size_t)n, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 60000);
    if (!ev) die("CreateTopics: no answer in 60 s");
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    size_t cnt = 0;
    const rd_kafka_topic_result_t **tr = res ? rd_kafka_CreateTopics_result_topics(res, &cnt) : NULL;
    for (size_t i = 0; i < cnt; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            die("create %s: %s", rd_kafka_topic_result_name(tr[i]), rd_kafka_err2str(e));
    }
    rd_kafka_event_destroy(ev);
    printf("{\"topics\":[");
    for (int i = 0; i < n; i++) {
        const char *name = names[i];
        printf("%s{\"name\":\"%s\",\"partitions\":%d}", i ? "," : "", name, topic_partitions(rk, name));
    }
    printf("]}\n");
    for (int i = 0; i < n; i++) rd_kafka_NewTopic_destroy(nt[i]);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return 0;
}

/* ---- consume ----------------------------------------------------------------------- */

/* A consumer assigned every partition of o->topic at `offset` (no group coordination);
 * *np gets the partition count. */
static rd_kafka_t *consumer_new(const opts_t *o, const char *const *defaults, int64_t offset, int *np) {
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf_new(o, defaults), err, sizeof(err));
    if (!rk) die("%s", err);
    rd_kafka_poll_set_consumer(rk);
    *np = topic_partitions(rk, o->topic);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(*np);
    for (int p = 0; p < *np; p++) rd_kafka_topic_partition_list_add(l, o->topic, p)->offset = offset;
    if (rd_kafka_assign(rk, l)) die("assign failed");
    rd_kafka_topic_partition_list_destroy(l);
    return rk;
}

static int cmd_consume(const opts_t *o) {
    static const char *const defaults[] = {"group.id", "np-bench-raw", "enable.partition.eof", "true",
                                           "enable.auto.commit", "false", NULL};
    int np;
    rd_kafka_t *rk = consumer_new(o, defaults, RD_KAFKA_OFFSET_BEGINNING, &np);
    uint64_t n = 0, bytes = 0;
    int eofs = 0;
    int64_t first = 0, last = 0, deadline = mono_us() + 600 * 1000000LL;
    uint8_t *at_eof = calloc((size_t)np, 1);
    while (eofs < np && mono_us() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (!at_eof[m->partition]) {
                at_eof[m->partition] = 1;
                eofs++;
            }
        } else if (m->err) {
            fprintf(stderr, "np-bench-kafka: consume: %s\n", rd_kafka_message_errstr(m));
        } else {
            if (n++ == 0) first = mono_us();
            bytes += m->len;
            last = mono_us();
        }
        rd_kafka_message_destroy(m);
    }
    double secs = (double)(last - first) / 1e6;
    printf("{\"records\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"seconds\":%.3f,\"records_per_s\":%.0f}\n", n, bytes, secs,
           secs > 0 ? (double)n / secs : 0.0);
    free(at_eof);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return eofs == np ? 0 : 1;
}

/* ---- produce ----------------------------------------------------------------------- */

typedef struct rec {
    char key[48];
    uint8_t keylen;
    int64_t ts;
    size_t off, len; /* value in the file buffer */
} rec_t;

static uint64_t delivered, failed;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err)
        failed++;
    else
        delivered++;
}

static int cmd_produce(const opts_t *o) {
    FILE *f = fopen(o->file, "rb");
    if (!f) die("%s: %s", o->file, strerror(errno));
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) die("%s: cannot read", o->file);
    fclose(f);
    size_t cap = 1 << 20, n = 0;
    rec_t *recs = malloc(cap * sizeof(*recs));
    np_record_limits_t lim;
    np_record_limits_default(&lim);
    int64_t now = wall_ms();
    for (size_t at = 0; at < (size_t)size;) {
        char *nl = memchr(buf + at, '\n', (size_t)size - at);
        size_t len = (nl ? (size_t)(nl - buf) : (size_t)size) - at;
        np_record_t r;
        if (len && np_record_decode(buf + at, len, now, now, &lim, &r, NULL, 0) == NP_REC_OK) {
            if (n == cap && !(recs = realloc(recs, (cap *= 2) * sizeof(*recs)))) die("out of memory");
            rec_t *x = &recs[n++];
            x->keylen = (uint8_t)np_ip_format(&r.src, x->key, sizeof(x->key));
            x->ts = r.ts_ms;
            x->off = at;
            x->len = len;
        }
        at += len + 1;
    }
    /* The generator's producer settings (generator/main.c), so only the record making differs. */
    static const char *const defaults[] = {"enable.idempotence", "true", "partitioner", "murmur2_random", "linger.ms",
                                           "20", "queue.buffering.max.messages", "1000000", NULL};
    rd_kafka_conf_t *conf = conf_new(o, defaults);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) die("%s", err);
    topic_partitions(rk, o->topic); /* connected and ready before the clock starts */
    int64_t t0 = mono_us();
    for (size_t i = 0; i < n; i++) {
        rec_t *x = &recs[i];
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(o->topic), RD_KAFKA_V_KEY(x->key, x->keylen),
                                      RD_KAFKA_V_VALUE(buf + x->off, x->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_TIMESTAMP(x->ts), RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        if (e) die("produce: %s", rd_kafka_err2str(e));
        if ((i & 63) == 0) rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 120000);
    double secs = (double)(mono_us() - t0) / 1e6;
    printf("{\"records\":%zu,\"delivered\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"seconds\":%.3f,\"records_per_s\":%.0f}\n",
           n, delivered, failed, secs, secs > 0 ? (double)n / secs : 0.0);
    rd_kafka_destroy(rk);
    free(recs);
    free(buf);
    return delivered == n ? 0 : 1;
}

/* ---- watch ------------------------------------------------------------------------- */

/* Sum of METRIC's series on 127.0.0.1:port/metrics, or -1 when it cannot be read. */
static double metric_value(int port, const char *metric) {
    static char resp[1 << 20];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    static const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    ssize_t r;
    while (got < sizeof(resp) - 1 && (r = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0) got += (size_t)r;
    close(fd);
    resp[got] = '\0';
    double sum = -1;
    size_t ml = strlen(metric);
    for (char *line = resp; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, metric, ml) != 0 || (line[ml] != ' ' && line[ml] != '{')) continue;
        char *sp = strchr(line, ' ');
        if (line[ml] == '{') sp = strchr(strchr(line, '}') ? strchr(line, '}') : line, ' ');
        if (sp) sum = (sum < 0 ? 0 : sum) + strtod(sp + 1, NULL);
    }
    return sum;
}

/* True when the workers' group has settled (or -g was not given). */
static bool settled(const opts_t *o) {
    if (!o->settled_parts) return true;
    double in = 0, rep = 0;
    for (int i = 0; i < o->nports; i++) {
        double x = metric_value(o->ports[i], "netpulse_worker_assigned_partitions");
        double y = metric_value(o->ports[i], "netpulse_worker_assigned_repartition_partitions");
        if (x < 0 || y < 0 || x + y <= 0) return false;
        in += x;
        rep += y;
    }
    return in == o->settled_parts && (rep == o->settled_parts || rep == 0); /* 0: no repartition topic */
}

static int cmd_watch(const opts_t *o) {
    double base = -1, v, at_first = 0;
    int64_t first = 0, deadline = mono_us() + (o->seconds ? o->seconds : 600) * 1000000LL;
    for (;;) {
        v = 0;
        for (int i = 0; i < o->nports && v >= 0; i++) {
            double x = metric_value(o->ports[i], o->metric);
            v = x < 0 ? -1 : v + x;
        }
        int64_t now = mono_us();
        if (v >= 0 && base < 0) base = v;
        if (v >= 0 && !first && v > base && settled(o)) {
            first = now;
            at_first = v;
        }
        if (v >= (double)o->target) break;
        if (now > deadline) {
            fprintf(stderr, "np-bench-kafka: watch: %s at %.0f of %" PRId64 " after the timeout\n", o->metric, v,
                    o->target);
            return 1;
        }
        usleep(20000);
    }
    if (!first) first = mono_us();
    double secs = (double)(mono_us() - first) / 1e6;
    printf("{\"metric\":\"%s\",\"value\":%.0f,\"timed_from\":%.0f,\"seconds\":%.3f,\"per_s\":%.0f}\n", o->metric, v,
           at_first, secs, secs > 0 ? (v - at_first) / secs : 0.0);
    return 0;
}

/* ---- latency ----------------------------------------------------------------------- */

enum { K_PANE, K_SLIDING, K_ANOMALY, K__COUNT };
static const char *const kind_names[K__COUNT] = {"pane_window", "sliding_window", "anomaly"};

static int64_t json_int(const char *s, size_t len, const char *field) {
    char pat[64];
    int pl = snprintf(pat, sizeof(pat), "\"%s\":", field);
    const char *p = memmem(s, len, pat, (size_t)pl);
    return p ? strtoll(p + pl, NULL, 10) : INT64_MIN;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t pct(const int64_t *v, size_t n, double q) {
    if (!n) return -1;
    size_t i = (size_t)(q * (double)(n - 1) + 0.5); /* nearest rank */
    return v[i];
}

static int cmd_latency(const opts_t *o) {
    static const char *const defaults[] = {"group.id", "np-bench-latency", "isolation.level", "read_committed",
                                           "enable.auto.commit", "false", NULL};
    int np;
    rd_kafka_t *rk = consumer_new(o, defaults, RD_KAFKA_OFFSET_END, &np);
    static int64_t lat[K__COUNT][100000];
    size_t n[K__COUNT] = {0};
    int64_t pane_ms = 0;
    int64_t deadline = mono_us() + o->seconds * 1000000LL;
    while (mono_us() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        int64_t now = wall_ms();
        if (!m->err && m->key_len > 0 && m->payload) {
            const char *v = m->payload;
            int64_t end = json_int(v, m->len, "window_end"), wms = json_int(v, m->len, "window_ms");
            int kind = -1;
            if (m->key_len > 7 && memcmp(m->key, "window:", 7) == 0) {
                if (!pane_ms || wms < pane_ms) pane_ms = wms;
                kind = wms == pane_ms ? K_PANE : K_SLIDING;
            } else if (m->key_len > 8 && memcmp(m->key, "anomaly:", 8) == 0) {
                kind = K_ANOMALY;
            }
            if (kind >= 0 && end != INT64_MIN && end >= o->since_ms && (!o->until_ms || end <= o->until_ms) &&
                n[kind] < 100000)
                lat[kind][n[kind]++] = now - (end + o->lateness_ms);
        }
        rd_kafka_message_destroy(m);
    }
    printf("{\"lateness_ms\":%" PRId64, o->lateness_ms);
    for (int k = 0; k < K__COUNT; k++) {
        qsort(lat[k], n[k], sizeof(int64_t), cmp_i64);
        printf(",\"%s\":{\"n\":%zu,\"p50_ms\":%" PRId64 ",\"p99_ms\":%" PRId64 ",\"max_ms\":%" PRId64 "}", kind_names[k],
               n[k], pct(lat[k], n[k], 0.5), pct(lat[k], n[k], 0.99), n[k] ? lat[k][n[k] - 1] : -1);
    }
    printf("}\n");
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}

/* ---- main -------------------------------------------------------------------------- */

static void usage(void) {
    fprintf(stderr, "usage: np-bench-kafka topics|consume|produce|watch|latency [options] (see bench/np_bench_kafka.c)\n");
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 2) usage();
    const char *cmd = argv[1];
    opts_t o = {.brokers = "127.0.0.1:9092", .seconds = 0, .lateness_ms = 2000};
    int c;
    optind = 2;
    while ((c = getopt(argc, argv, "b:t:f:m:p:n:s:l:a:u:g:X:")) != -1) {
        switch (c) {
        case 'b': o.brokers = optarg; break;
        case 't': o.topic = optarg; break;
        case 'f': o.file = optarg; break;
        case 'm': o.metric = optarg; break;
        case 'p':
            if (o.nports < 16) o.ports[o.nports++] = atoi(optarg);
            break;
        case 'g': o.settled_parts = atoi(optarg); break;
        case 'n': o.target = strtoll(optarg, NULL, 10); break;
        case 's': o.seconds = strtoll(optarg, NULL, 10); break;
        case 'l': o.lateness_ms = strtoll(optarg, NULL, 10); break;
        case 'a': o.since_ms = strtoll(optarg, NULL, 10); break;
        case 'u': o.until_ms = strtoll(optarg, NULL, 10); break;
        case 'X':
            if (o.nprops < 32) o.props[o.nprops++] = optarg;
            break;
        default: usage();
        }
    }
    if (!strcmp(cmd, "topics")) return cmd_topics(&o, argc - optind, argv + optind);
    if (!strcmp(cmd, "consume") && o.topic) return cmd_consume(&o);
    if (!strcmp(cmd, "produce") && o.topic && o.file) return cmd_produce(&o);
    if (!strcmp(cmd, "watch") && o.nports && o.metric) return cmd_watch(&o);
    if (!strcmp(cmd, "latency") && o.topic && o.seconds > 0) return cmd_latency(&o);
    usage();
    return 2;
}
