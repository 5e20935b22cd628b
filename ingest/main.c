/*
 * netpulse-ingest: a flow collector. Receives NetFlow v5, NetFlow v9, IPFIX and sFlow v5
 * over UDP, decodes them with the I/O-free decoders in lib/ (np_nf5, np_nf9, np_sflow) and
 * produces one netpulse JSON record per flow to `network-traffic`, keyed by source IP, with
 * the generator's producer settings. Or, with --pcap, replays a capture as flows (replay.c).
 *
 * Threads: `threads` receive threads, each with its own SO_REUSEPORT socket per port (the
 * kernel keeps an exporter on one socket, so each thread's template cache and sequence
 * tracking see all of that exporter's datagrams), its own decoders and rate limiters; they
 * share the librdkafka producer and the metrics (atomics). The protocol is recognised from
 * the datagram, so either port takes any of them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ingest.h"
#include "np_clock.h"
#include "np_kafka.h"
#include "np_nf5.h"
#include "np_nf9.h"
#include "np_seqtrack.h"
#include "np_sflow.h"

static const np_opt_t ingest_opts[] = {
    NP_OPTS_COMMON,
    NP_OPTS_KAFKA,
    {"topic", NP_OPT_STR, "network-traffic", 0, 0, NULL, "Topic to produce flow records to"},
    {"counters.topic", NP_OPT_STR, "", 0, 0, NULL,
     "Topic for sFlow interface counter records (empty = only counted in metrics)"},
    {"listen", NP_OPT_STR, "0.0.0.0", 0, 0, NULL, "Address the UDP sockets bind to"},
    {"netflow.port", NP_OPT_INT, "2055", -1, 65535, NULL,
     "UDP port for NetFlow v5/v9 and IPFIX (0 = pick a free one, -1 = off)"},
    {"sflow.port", NP_OPT_INT, "6343", -1, 65535, NULL, "UDP port for sFlow v5 (0 = pick a free one, -1 = off)"},
    {"port.file", NP_OPT_STR, NULL, 0, 0, NULL,
     "Write the UDP ports bound (netflow sflow, one line; -1 = off) to this file (for scripts)"},
    {"rcvbuf", NP_OPT_INT, "8388608", 0, 1073741824, NULL, "Socket receive buffer, bytes (SO_RCVBUF; 0 = system default)"},
    {"threads", NP_OPT_INT, "1", 1, 64, NULL, "Receive threads, each with its own SO_REUSEPORT sockets"},
    {"template.timeout.s", NP_OPT_INT, "1800", 0, 86400, NULL,
     "A v9/IPFIX template not re-sent for this long is forgotten (0 = never)"},
    {"max.templates", NP_OPT_INT, "4096", 1, 1000000, NULL, "Templates (and domains) cached per receive thread"},
    {"max.exporters", NP_OPT_INT, "4096", 1, 1000000, NULL, "Export streams whose sequence is tracked, per thread"},
    {"pcap", NP_OPT_STR, NULL, 0, 0, NULL, "Replay this pcap/pcapng file as flows instead of listening"},
    {"replay.speedup", NP_OPT_INT, "1", 0, 1000000, NULL,
     "pcap replay: 1 = original speed, N = N times faster, 0 = as fast as possible"},
    {"active.timeout.s", NP_OPT_INT, "60", 1, 86400, NULL, "pcap replay: a flow is cut after this long"},
    {"inactive.timeout.s", NP_OPT_INT, "15", 1, 86400, NULL, "pcap replay: a flow ends after this long idle"},
    {"max.flows", NP_OPT_INT, "1000000", 1, 100000000, NULL, "pcap replay: open flows at most"},
};

enum { P_NF5, P_NF9, P_IPFIX, P_SFLOW, P_UNKNOWN, P__COUNT };
static const char *const proto_names[P__COUNT] = {"netflow5", "netflow9", "ipfix", "sflow", "unknown"};

struct ingest {
    np_proc_t proc;
    rd_kafka_t *rk;
    const char *topic, *ctopic;
    np_counter_t *m_pkts[P__COUNT], *m_flows[P__COUNT], *m_lost_pkts[P__COUNT], *m_lost_flows[P__COUNT];
    np_counter_t *m_malformed[NP_FDEC__COUNT];
    np_counter_t *m_tmiss, *m_tlearnt, *m_reorder, *m_counters, *m_produce_err, *m_delivered, *m_delivery_err;
    np_counter_t *m_recv_err, *m_replay_pkts, *m_replay_skipped;
    np_gauge_t *m_templates, *m_exporters;
    _Atomic int healthy;
};

/* One receive thread's state. */
typedef struct rx {
    ingest_t *ing;
    int fd[2];
    np_nf9_t *nf9;
    np_seqtrack_t *seq;
    np_log_rl_t rl_bad, rl_seq;
    pthread_t tid;
} rx_t;

/* ---- producing --------------------------------------------------------------------- */

static void produce(ingest_t *ing, const char *topic, const char *key, size_t klen, const char *val, size_t vlen,
                    int64_t ts)
{
    static _Thread_local np_log_rl_t rl = NP_LOG_RL_INIT; /* a limiter per thread */
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_producev(ing->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, klen),
                                    RD_KAFKA_V_VALUE((void *)val, vlen), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL &&
           !np_proc_stopping())
        rd_kafka_poll(ing->rk, 10);
    if (err) {
        np_counter_inc(ing->m_produce_err);
        np_log_rl(&rl, NP_LOG_ERROR, "produce_failed", "error=\"%s\"", rd_kafka_err2str(err));
    }
}

void ingest_produce_flow(void *ctx, const np_flow_t *f)
{
    ingest_t *ing = ctx;
    char key[48], val[384];
    size_t klen = np_ip_format(&f->src, key, sizeof key);
    size_t vlen = np_flow_format(f, val, sizeof val);
    produce(ing, ing->topic, key, klen, val, vlen, f->ts_ms);
}

static void produce_ifcount(void *ctx, const np_ifcount_t *c)
{
    ingest_t *ing = ctx;
    np_counter_inc(ing->m_counters);
    if (!*ing->ctopic)
        return;
    char agent[48], val[384];
    size_t alen = np_ip_format(&c->agent, agent, sizeof agent);
    int64_t now = np_clock_wall_ms(NULL);
    int n = snprintf(val, sizeof val,
                     "{\"ts\":%" PRId64 ",\"agent\":\"%s\",\"ifindex\":%" PRIu32 ",\"speed\":%" PRIu64
                     ",\"in_octets\":%" PRIu64 ",\"out_octets\":%" PRIu64 ",\"in_pkts\":%" PRIu32 ",\"out_pkts\":%" PRIu32
                     ",\"in_errors\":%" PRIu32 ",\"out_errors\":%" PRIu32 "}",
                     now, agent, c->ifindex, c->speed, c->in_octets, c->out_octets, c->in_pkts, c->out_pkts,
                     c->in_errors, c->out_errors);
    produce(ing, ing->ctopic, agent, alen, val, (size_t)n, now);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    static _Thread_local np_log_rl_t rl = NP_LOG_RL_INIT; /* any thread that polls runs this */
    ingest_t *ing = opaque;
    (void)rk;
    if (m->err) {
        np_counter_inc(ing->m_delivery_err);
        np_log_rl(&rl, NP_LOG_ERROR, "delivery_failed", "error=\"%s\"", rd_kafka_err2str(m->err));
    } else {
        np_counter_inc(ing->m_delivered);
    }
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    ingest_t *ing = opaque;
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        ing->healthy = 0;
    np_warn("kafka_error", "error=%s reason=\"%s\"", rd_kafka_err2name(err), reason);
}

/* ---- decoding ---------------------------------------------------------------------- */

static int classify(const uint8_t *b, size_t n)
{
    if (n >= 4 && np_flow_be(b, 4) == 5)
        return P_SFLOW;
    uint64_t v = n >= 2 ? np_flow_be(b, 2) : 0;
    return v == 5 ? P_NF5 : v == 9 ? P_NF9 : v == 10 ? P_IPFIX : P_UNKNOWN;
}

/* Sequence accounting: v9 and sFlow number datagrams, v5 and IPFIX number flows. */
static void track(rx_t *rx, int proto, const np_ip_t *from, const np_fdec_info_t *info)
{
    ingest_t *ing = rx->ing;
    bool per_flow = proto == P_NF5 || proto == P_IPFIX;
    uint32_t lost;
    np_seq_result_t r = np_seqtrack_observe(rx->seq, from, (uint16_t)(proto + 1), info->domain, info->seq,
                                            per_flow ? info->records : 1, &lost);
    char ip[48];
    if (r == NP_SEQ_LOST) {
        np_counter_add(per_flow ? ing->m_lost_flows[proto] : ing->m_lost_pkts[proto], lost);
        np_ip_format(from, ip, sizeof ip);
        np_log_rl(&rx->rl_seq, NP_LOG_WARN, "export_lost", "exporter=%s protocol=%s domain=%" PRIu32 " lost=%" PRIu32 " unit=%s",
                  ip, proto_names[proto], info->domain, lost, per_flow ? "flows" : "packets");
    } else if (r == NP_SEQ_REORDER) {
        np_counter_inc(ing->m_reorder);
    }
}

static void handle(rx_t *rx, const uint8_t *buf, size_t len, const np_ip_t *from)
{
    ingest_t *ing = rx->ing;
    int proto = classify(buf, len);
    np_counter_inc(ing->m_pkts[proto]);
    np_fdec_info_t info = {0};
    np_fdec_err_t err = NP_FDEC_VERSION;
    np_ip_t key = *from;
    int64_t now = np_clock_wall_ms(NULL);
    if (proto == P_NF5)
        err = np_nf5_decode(buf, len, from, ingest_produce_flow, ing, &info);
    else if (proto == P_NF9 || proto == P_IPFIX)
        err = np_nf9_decode(rx->nf9, buf, len, from, now, ingest_produce_flow, ing, &info);
    else if (proto == P_SFLOW) {
        np_sflow_agent(buf, len, &key);
        err = np_sflow_decode(buf, len, now, ingest_produce_flow, produce_ifcount, ing, &info);
    }
    np_counter_add(ing->m_flows[proto], info.flows);
    np_counter_add(ing->m_tmiss, info.template_misses);
    np_counter_add(ing->m_tlearnt, info.templates);
    if (err == NP_FDEC_OK || info.flows)
        track(rx, proto, &key, &info);
    if (err != NP_FDEC_OK) {
        np_counter_inc(ing->m_malformed[err]);
        char ip[48];
        np_ip_format(from, ip, sizeof ip);
        np_log_rl(&rx->rl_bad, NP_LOG_WARN, "export_malformed", "exporter=%s protocol=%s reason=%s bytes=%zu", ip,
                  proto_names[proto], np_fdec_err_name(err), len);
    }
}

/* ---- receiving --------------------------------------------------------------------- */

#define BATCH 64
#define DGRAM 65536

static void from_addr(const struct sockaddr_storage *sa, np_ip_t *ip)
{
    if (sa->ss_family == AF_INET6)
        np_flow_ip6(ip, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
    else
        np_flow_ip4(ip, (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr);
}

static void receive_batch(rx_t *rx, int fd, uint8_t *bufs, struct mmsghdr *msgs, struct iovec *iov,
                          struct sockaddr_storage *addrs)
{
    for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){bufs + (size_t)i * DGRAM, DGRAM};
        msgs[i].msg_hdr = (struct msghdr){.msg_name = &addrs[i], .msg_namelen = sizeof addrs[i], .msg_iov = &iov[i],
                                          .msg_iovlen = 1};
    }
    int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            np_counter_inc(rx->ing->m_recv_err);
        return;
    }
    for (int i = 0; i < n; i++) {
        np_ip_t from;
        from_addr(&addrs[i], &from);
        handle(rx, iov[i].iov_base, msgs[i].msg_len, &from);
    }
}

static void *rx_main(void *arg)
{
    rx_t *rx = arg;
    uint8_t *bufs = malloc((size_t)BATCH * DGRAM);
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_storage addrs[BATCH];
    if (!bufs) {
        np_error("out_of_memory", "what=receive_buffers");
        return NULL;
    }
    struct pollfd pfd[2];
    int n = 0;
    for (int i = 0; i < 2; i++)
        if (rx->fd[i] >= 0)
            pfd[n++] = (struct pollfd){.fd = rx->fd[i], .events = POLLIN};
    while (!np_proc_stopping()) {
        if (poll(pfd, (nfds_t)n, 200) <= 0)
            continue;
        for (int i = 0; i < n; i++)
            if (pfd[i].revents & POLLIN)
                receive_batch(rx, pfd[i].fd, bufs, msgs, iov, addrs);
        np_gauge_set(rx->ing->m_templates, (int64_t)np_nf9_templates(rx->nf9));
        np_gauge_set(rx->ing->m_exporters, (int64_t)np_seqtrack_streams(rx->seq));
    }
    free(bufs);
    return NULL;
}

/* A bound UDP socket (SO_REUSEPORT so several threads can share the port). *port is
 * updated to the port bound. Returns the fd or -1 after logging why. */
static int open_udp(const char *addr, int *port, int rcvbuf)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)*port);
        sl = sizeof *s4;
    } else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)*port);
        sl = sizeof *s6;
    } else {
        np_error("bad_listen_address", "listen=%s", addr);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0), one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
        (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) < 0) ||
        bind(fd, (struct sockaddr *)&ss, sl) < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        np_error("udp_bind_failed", "listen=%s port=%d error=\"%s\"", addr, *port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int got = 0;
    socklen_t gl = sizeof got;
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl);
    if (rcvbuf > 0 && got < rcvbuf) /* the kernel halves/doubles; net.core.rmem_max caps it */
        np_warn("rcvbuf_capped", "asked=%d got=%d hint=\"raise net.core.rmem_max\"", rcvbuf, got / 2);
    *port = ntohs(ss.ss_family == AF_INET ? s4->sin_port : s6->sin6_port);
    return fd;
}

/* ---- set-up ------------------------------------------------------------------------ */

static void register_metrics(ingest_t *ing)
{
    np_metrics_t *m = ing->proc.metrics;
    char l[64];
    for (int p = 0; p < P__COUNT; p++) {
        snprintf(l, sizeof l, "protocol=\"%s\"", proto_names[p]);
        ing->m_pkts[p] = np_metrics_counter(m, "netpulse_ingest_packets_received_total",
                                            "Export datagrams received, by protocol", l);
        ing->m_flows[p] = np_metrics_counter(m, "netpulse_ingest_flows_total", "Flows decoded and produced, by protocol", l);
        ing->m_lost_pkts[p] = np_metrics_counter(m, "netpulse_ingest_export_packets_lost_total",
                                                 "Export datagrams missing from an exporter's sequence (v9, sFlow)", l);
        ing->m_lost_flows[p] = np_metrics_counter(m, "netpulse_ingest_export_flows_lost_total",
                                                  "Flows missing from an exporter's sequence (v5, IPFIX)", l);
    }
    for (int e = 1; e < NP_FDEC__COUNT; e++) {
        snprintf(l, sizeof l, "reason=\"%s\"", np_fdec_err_name((np_fdec_err_t)e));
        ing->m_malformed[e] = np_metrics_counter(m, "netpulse_ingest_malformed_packets_total",
                                                 "Export datagrams not (fully) decoded, by reason", l);
    }
    ing->m_malformed[0] = NULL;
    ing->m_tmiss = np_metrics_counter(m, "netpulse_ingest_template_misses_total",
                                      "v9/IPFIX data sets whose template is unknown or expired", NULL);
    ing->m_tlearnt = np_metrics_counter(m, "netpulse_ingest_templates_received_total",
                                        "v9/IPFIX templates learnt or refreshed", NULL);
    ing->m_reorder = np_metrics_counter(m, "netpulse_ingest_sequence_resets_total",
                                        "Export datagrams behind their stream's sequence (late, duplicate, restart)", NULL);
    ing->m_counters = np_metrics_counter(m, "netpulse_ingest_sflow_interface_records_total",
                                    "sFlow generic interface counter records received", NULL);
    ing->m_produce_err = np_metrics_counter(m, "netpulse_ingest_produce_errors_total", "Records librdkafka refused", NULL);
    ing->m_delivered = np_metrics_counter(m, "netpulse_ingest_records_delivered_total", "Records acknowledged by Kafka", NULL);
    ing->m_delivery_err = np_metrics_counter(m, "netpulse_ingest_delivery_errors_total", "Records Kafka did not take", NULL);
    ing->m_recv_err = np_metrics_counter(m, "netpulse_ingest_receive_errors_total", "recvmmsg failures", NULL);
    ing->m_replay_pkts = np_metrics_counter(m, "netpulse_ingest_replay_packets_total", "pcap packets read", NULL);
    ing->m_replay_skipped = np_metrics_counter(m, "netpulse_ingest_replay_packets_skipped_total",
                                               "pcap packets that are not IP (or cut before the addresses)", NULL);
    ing->m_templates = np_metrics_gauge(m, "netpulse_ingest_templates", "v9/IPFIX templates cached (per thread, last)", NULL);
    ing->m_exporters = np_metrics_gauge(m, "netpulse_ingest_export_streams", "Export streams tracked (per thread, last)", NULL);
}

void ingest_poll(ingest_t *ing) { rd_kafka_poll(ing->rk, 0); }

void ingest_count_replay(ingest_t *ing, uint64_t packets, uint64_t skipped)
{
    np_counter_add(ing->m_replay_pkts, packets);
    np_counter_add(ing->m_replay_skipped, skipped);
}

static int health(void *ctx, char *buf, size_t len)
{
    ingest_t *ing = ctx;
    if (!ing->healthy) {
        snprintf(buf, len, "kafka: all brokers down");
        return 1;
    }
    return 0;
}

static rd_kafka_t *make_producer(ingest_t *ing)
{
    char err[512];
    /* The generator's producer settings: records land where any producer's would. */
    static const char *const defaults[] = {"enable.idempotence", "true", "partitioner", "murmur2_random",
                                           "linger.ms", "20", "queue.buffering.max.messages", "1000000", NULL};
    rd_kafka_conf_t *conf = np_kafka_conf_new_with(ing->proc.cfg, "netpulse-ingest", defaults, err, sizeof err);
    if (!conf) {
        np_proc_fatal_config(err);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, ing);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        np_proc_fatal_config(err);
    return rk;
}

static int write_ports(const char *path, int nf, int sf)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d %d\n", nf, sf) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        np_error("port_file_failed", "path=%s error=\"%s\"", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Opens every thread's sockets: the first binds the configured ports (0 = a free one), the
 * others join it with SO_REUSEPORT. */
static int open_sockets(ingest_t *ing, rx_t *rx, int n, int *ports)
{
    const np_config_t *c = ing->proc.cfg;
    int rcvbuf = (int)np_config_int(c, "rcvbuf");
    ports[0] = (int)np_config_int(c, "netflow.port");
    ports[1] = (int)np_config_int(c, "sflow.port");
    bool on[2] = {ports[0] >= 0, ports[1] >= 0};
    for (int t = 0; t < n; t++)
        for (int k = 0; k < 2; k++) {
            if (on[k] && (rx[t].fd[k] = open_udp(np_config_str(c, "listen"), &ports[k], rcvbuf)) < 0)
                return -1;
        }
    return 0;
}

static int run_collector(ingest_t *ing)
{
    const np_config_t *c = ing->proc.cfg;
    int n = (int)np_config_int(c, "threads"), ports[2], rc = 1, started = 0;
    rx_t *rx = calloc((size_t)n, sizeof *rx);
    if (!rx)
        return 1;
    for (int t = 0; t < n; t++)
        rx[t].fd[0] = rx[t].fd[1] = -1;
    if (open_sockets(ing, rx, n, ports) < 0)
        goto out;
    const char *pf = np_config_str(c, "port.file");
    if (pf && *pf && write_ports(pf, ports[0], ports[1]) < 0)
        goto out;
    np_info("listening", "listen=%s netflow_port=%d sflow_port=%d threads=%d topic=%s", np_config_str(c, "listen"),
            ports[0], ports[1], n, ing->topic);
    for (; started < n; started++) {
        rx_t *r = &rx[started];
        r->ing = ing;
        r->nf9 = np_nf9_new((size_t)np_config_int(c, "max.templates"), np_config_int(c, "template.timeout.s") * 1000);
        r->seq = np_seqtrack_new((size_t)np_config_int(c, "max.exporters"));
        if (!r->nf9 || !r->seq || pthread_create(&r->tid, NULL, rx_main, r) != 0)
            break;
    }
    while (started == n && !np_proc_stopping())
        rd_kafka_poll(ing->rk, 100);
    rc = started == n ? 0 : 1;
out:
    for (int t = 0; t < n; t++) {
        if (t < started)
            pthread_join(rx[t].tid, NULL);
        for (int k = 0; k < 2; k++)
            if (rx[t].fd[k] >= 0)
                close(rx[t].fd[k]);
        np_nf9_destroy(&rx[t].nf9);
        np_seqtrack_destroy(&rx[t].seq);
    }
    free(rx);
    return rc;
}

int main(int argc, char **argv)
{
    static ingest_t I;
    ingest_t *ing = &I;
    int rc = np_proc_init(&ing->proc, "netpulse-ingest",
                          "Collects NetFlow v5/v9, IPFIX and sFlow v5 (or replays a pcap) into Kafka as flow "
                          "records keyed by source IP.",
                          ingest_opts, sizeof ingest_opts / sizeof ingest_opts[0], argc, argv);
    if (rc)
        return rc == 1 ? 0 : 2;
    np_config_t *c = ing->proc.cfg;
    ing->topic = np_config_str(c, "topic");
    ing->ctopic = np_config_str(c, "counters.topic");
    ing->healthy = 1;
    const char *pcap = np_config_str(c, "pcap");
    bool replay = pcap && *pcap;
    if (!replay && np_config_int(c, "netflow.port") < 0 && np_config_int(c, "sflow.port") < 0) {
        np_proc_fatal_config("netflow.port and sflow.port are both -1: nothing to listen on");
        return 2;
    }
    register_metrics(ing);
    if (!(ing->rk = make_producer(ing)))
        return 2;
    if (np_proc_http_start(&ing->proc, health, NULL, ing) < 0)
        return 1;
    rc = replay ? ingest_replay(ing, c, pcap) : run_collector(ing);
    np_info("flushing", "outstanding=%d", rd_kafka_outq_len(ing->rk));
    rd_kafka_flush(ing->rk, 60000);
    if (rd_kafka_outq_len(ing->rk) > 0) {
        np_error("not_all_delivered", "outstanding=%d", rd_kafka_outq_len(ing->rk));
        rc = 1;
    }
    np_info("summary", "delivered=%" PRIu64 " produce_errors=%" PRIu64 " delivery_errors=%" PRIu64,
            np_counter_get(ing->m_delivered), np_counter_get(ing->m_produce_err), np_counter_get(ing->m_delivery_err));
    rd_kafka_destroy(ing->rk);
    np_proc_fini(&ing->proc);
    return rc;
}
