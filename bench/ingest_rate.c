/*
 * bench/ingest_rate: np-bench-ingest, the collector's benchmark (bench/ingest.sh). Builds
 * IPFIX datagrams in memory (one template datagram, then data datagrams of 30 IPv4 flow
 * records, 1250 bytes each, from 65536 sources) and measures, one JSON object per line:
 *
 *   decode    np_nf9_decode + np_flow_format (the JSON value and key) of every flow, no
 *             Kafka: the decoder's ceiling on one core
 *   ingest    the collector's path in process: decode, format, rd_kafka_producev (copy,
 *             key = source, timestamp = flow end) with netpulse-ingest's producer settings,
 *             timed to the last delivery report
 *   raw       a raw librdkafka producer of the very same records (keys, values and
 *             timestamps formatted before the clock starts), same settings, same timing;
 *             run before and after `ingest` (after a warm-up outside the clock)
 *   send      (with -s PORT) sends the datagrams over loopback UDP to a running collector
 *             at up to -r datagrams/s (0 = as fast as sendmmsg goes) with IPFIX sequence
 *             numbers, so the collector's own loss metrics say whether it kept up
 *
 * Usage: np-bench-ingest -b BROKERS [-t TOPIC] [-T RAW_TOPIC] [-n FLOWS] [-s PORT -r RATE]
 * Not part of any netpulse process; never run by the test suite.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "np_nf9.h"

#define RECS 30
#define REC_LEN 41

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t put(uint8_t *p, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return n;
}

/* Template 256: src4 dst4 sport dport proto octets(8) packets(8) in out flowEndMilliseconds. */
static size_t template_dgram(uint8_t *b) {
    static const uint16_t f[][2] = {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 8}, {2, 8}, {10, 2}, {14, 2}, {153, 8}};
    size_t n = 16;
    n += put(b + n, 2, 2), n += put(b + n, 4 + 4 + 10 * 4, 2);
    n += put(b + n, 256, 2), n += put(b + n, 10, 2);
    for (int i = 0; i < 10; i++) n += put(b + n, f[i][0], 2), n += put(b + n, f[i][1], 2);
    put(b, 10, 2), put(b + 2, n, 2), put(b + 4, 1700000000, 4), put(b + 8, 0, 4), put(b + 12, 1, 4);
    return n;
}

static size_t data_dgram(uint8_t *b, uint64_t first, uint32_t seq, int64_t t0) {
    size_t n = 16;
    n += put(b + n, 256, 2), n += put(b + n, 4 + RECS * REC_LEN, 2);
    for (uint64_t i = first; i < first + RECS; i++) {
        uint32_t src = 0x0a000000u | (uint32_t)(i * 2654435761u % 65536);
        n += put(b + n, src, 4);
        n += put(b + n, 0xc0a80000u | (uint32_t)(i % 1024), 4);
        n += put(b + n, 32768 + i % 28000, 2);
        n += put(b + n, (i % 3) ? 443 : 53, 2);
        n += put(b + n, (i % 3) ? 6 : 17, 1);
        n += put(b + n, 100 + i % 5000, 8);
        n += put(b + n, 1 + i % 20, 8);
        n += put(b + n, 1, 2), n += put(b + n, 2, 2);
        n += put(b + n, (uint64_t)(t0 + (int64_t)(i / 100)), 8);
    }
    put(b, 10, 2), put(b + 2, n, 2), put(b + 4, (uint64_t)(t0 / 1000), 4), put(b + 8, seq, 4), put(b + 12, 1, 4);
    return n;
}

typedef struct bench {
    rd_kafka_t *rk;
    const char *topic;
    uint64_t flows, failed;
    char *vals; /* raw: pre-formatted records */
    uint16_t *vlen;
    char (*keys)[48];
    int64_t *ts;
    int mode; /* 0 decode, 1 ingest, 2 collect into vals */
    char scratch[400];
} bench_t;

static void on_flow(void *ctx, const np_flow_t *f) {
    bench_t *b = ctx;
    char key[48];
    size_t klen = np_ip_format(&f->src, key, sizeof key);
    if (b->mode == 2) {
        memcpy(b->keys[b->flows], key, klen + 1);
        b->vlen[b->flows] = (uint16_t)np_flow_format(f, b->vals + b->flows * 400, 400);
        b->ts[b->flows] = f->ts_ms;
    } else {
        size_t vlen = np_flow_format(f, b->scratch, sizeof b->scratch);
        if (b->mode == 1)
            while (rd_kafka_producev(b->rk, RD_KAFKA_V_TOPIC(b->topic), RD_KAFKA_V_KEY(key, klen),
                                     RD_KAFKA_V_VALUE(b->scratch, vlen), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                     RD_KAFKA_V_TIMESTAMP(f->ts_ms), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(b->rk, 10);
    }
    b->flows++;
}

static void dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    if (m->err) ((bench_t *)opaque)->failed++;
}

static rd_kafka_t *producer(const char *brokers, bench_t *b) {
    static const char *const kv[] = {"bootstrap.servers", NULL, "enable.idempotence", "true", "partitioner",
                                     "murmur2_random", "linger.ms", "20", "queue.buffering.max.messages", "1000000", NULL};
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    for (int i = 0; kv[i]; i += 2)
        if (rd_kafka_conf_set(c, kv[i], i == 0 ? brokers : kv[i + 1], err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            exit(1);
        }
    rd_kafka_conf_set_dr_msg_cb(c, dr);
    rd_kafka_conf_set_opaque(c, b);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return rk;
}

static void run_decode(bench_t *b, uint8_t *dg, size_t *dlen, size_t nd, const char *name) {
    np_nf9_t *d = np_nf9_new(16, 0);
    np_ip_t ex = {{0}};
    np_fdec_info_t info;
    b->flows = 0;
    double t = now_s();
    for (size_t i = 0; i < nd; i++) np_nf9_decode(d, dg + i * 1500, dlen[i], &ex, 0, on_flow, b, &info);
    if (b->mode == 1) {
        rd_kafka_flush(b->rk, 120000);
    }
    double s = now_s() - t;
    printf("{\"phase\":\"%s\",\"flows\":%" PRIu64 ",\"seconds\":%.3f,\"flows_per_s\":%.0f,\"failed\":%" PRIu64 "}\n",
           name, b->flows, s, (double)b->flows / s, b->failed);
    fflush(stdout);
    np_nf9_destroy(&d);
}

static void run_raw(bench_t *b, uint64_t n) {
    double t = now_s();
    for (uint64_t i = 0; i < n; i++)
        while (rd_kafka_producev(b->rk, RD_KAFKA_V_TOPIC(b->topic), RD_KAFKA_V_KEY(b->keys[i], strlen(b->keys[i])),
                                 RD_KAFKA_V_VALUE(b->vals + i * 400, b->vlen[i]),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(b->ts[i]),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(b->rk, 10);
    rd_kafka_flush(b->rk, 120000);
    double s = now_s() - t;
    printf("{\"phase\":\"raw\",\"flows\":%" PRIu64 ",\"seconds\":%.3f,\"flows_per_s\":%.0f,\"failed\":%" PRIu64 "}\n", n,
           s, (double)n / s, b->failed);
    fflush(stdout);
}

/* Sends every datagram (template first, and again every 1000) over UDP to port. */
static void run_send(uint8_t *dg, size_t *dlen, size_t nd, int port, long rate) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
        perror("socket");
        exit(1);
    }
    double t = now_s();
    size_t sent = 0;
    for (size_t i = 0; i < nd; i += 32) {
        struct mmsghdr m[32];
        struct iovec v[32];
        size_t k = 0;
        for (; k < 32 && i + k < nd; k++) {
            v[k] = (struct iovec){dg + (i + k) * 1500, dlen[i + k]};
            m[k] = (struct mmsghdr){.msg_hdr = {.msg_iov = &v[k], .msg_iovlen = 1}};
        }
        int r = sendmmsg(fd, m, (unsigned)k, 0);
        if (r > 0) sent += (size_t)r;
        if (rate > 0) {
            double due = t + (double)(i + k) / (double)rate;
            while (now_s() < due) {}
        }
    }
    double s = now_s() - t;
    size_t flows = sent ? (sent - 1) * RECS : 0; /* the first datagram is the template */
    printf("{\"phase\":\"send\",\"datagrams\":%zu,\"flows\":%zu,\"seconds\":%.3f,\"flows_per_s\":%.0f}\n", sent,
           flows, s, (double)flows / s);
    close(fd);
}

int main(int argc, char **argv) {
    const char *brokers = "127.0.0.1:9092", *topic = "bench-ingest", *raw_topic = "bench-ingest-raw";
    uint64_t n = 2000000;
    int port = 0, opt;
    long rate = 0;
    while ((opt = getopt(argc, argv, "b:t:T:n:s:r:")) != -1) {
        switch (opt) {
        case 'b': brokers = optarg; break;
        case 't': topic = optarg; break;
        case 'T': raw_topic = optarg; break;
        case 'n': n = strtoull(optarg, NULL, 10); break;
        case 's': port = atoi(optarg); break;
        case 'r': rate = atol(optarg); break;
        default: fprintf(stderr, "usage: np-bench-ingest -b BROKERS [-t TOPIC] [-T RAW] [-n FLOWS] [-s PORT -r RATE]\n"); return 2;
        }
    }
    size_t nd = (size_t)(n / RECS) + 1;
    uint8_t *dg = malloc(nd * 1500);
    size_t *dlen = malloc(nd * sizeof *dlen);
    int64_t t0 = (int64_t)time(NULL) * 1000 - 600000;
    dlen[0] = template_dgram(dg);
    for (size_t i = 1; i < nd; i++) dlen[i] = data_dgram(dg + i * 1500, (i - 1) * RECS, (uint32_t)((i - 1) * RECS), t0);
    if (port) {
        run_send(dg, dlen, nd, port, rate);
        return 0;
    }
    static bench_t b;
    b.mode = 0;
    run_decode(&b, dg, dlen, nd, "decode");
    uint64_t flows = b.flows;
    b.vals = malloc(flows * 400);
    b.vlen = malloc(flows * sizeof *b.vlen);
    b.keys = malloc(flows * sizeof *b.keys);
    b.ts = malloc(flows * sizeof *b.ts);
    b.mode = 2;
    run_decode(&b, dg, dlen, nd, "prepare");
    b.rk = producer(brokers, &b);
    b.topic = raw_topic;
    /* Warm-up (idempotent producer id, metadata, connections) outside the clock. */
    for (int i = 0; i < 1000; i++)
        rd_kafka_producev(b.rk, RD_KAFKA_V_TOPIC(raw_topic), RD_KAFKA_V_VALUE(b.vals, b.vlen[0]),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    rd_kafka_flush(b.rk, 60000);
    /* raw, collector path, raw again: the reference is the mean of the two raw runs. */
    run_raw(&b, flows);
    b.topic = topic;
    b.mode = 1;
    run_decode(&b, dg, dlen, nd, "ingest");
    b.topic = raw_topic;
    run_raw(&b, flows);
    rd_kafka_destroy(b.rk);
    return 0;
}
