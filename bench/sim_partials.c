/*
 * bench/sim_partials: np-bench-sim, a coordinator load simulation (issue 16).
 *
 * Replays N partitions' partials into a real netpulse-coordinator over ZeroMQ. The tool is
 * the coordinator's whole world: W workers (DEALER sockets) that claim their slots in Redis
 * exactly as netpulse-worker does (np_store_claim: fencing epoch + owner record), send
 * progress with those claims and one partial per partition and pane; and the gateway (a
 * ROUTER bound where the coordinator connects) that receives the results and acknowledges
 * them. The partials are built the worker's way, so they follow the library's partial
 * format whatever it becomes: records into a partition's pane state (np_partstate_add),
 * the pane closed by its watermark, encoded by np_partial_encode_sel.
 *
 * Per pane, phases do not overlap: (1) build every partition's partial (not timed), (2)
 * send them all and wait for every acknowledgement, (3) send progress closing the pane for
 * every slot and wait for the pane's window result. It reports per pane: the coordinator's
 * own busy time (the sums of its merge and finalize histograms, read from /metrics before
 * and after: persist + merge of each partial, then detectors, results and the Redis
 * transaction), the wall time of (2)+(3) as the tool sees it, the coordinator's CPU time
 * (/proc/PID/stat), bytes per partial; and the coordinator's RSS at the end.
 *
 * Sources: S per pane in all (IPv4 10.0.0.0/8 upwards; source i lives in partition i mod N,
 * as source-IP sharding puts it), R records each, to D destinations, mixed protocols and
 * ports, bytes and packets drawn per record. Deterministic (splitmix64 of pane, source,
 * record). The worker-side tables hold every source (no eviction in the partial): today's
 * worst case, the one the bounded partials remove.
 *
 * --bounded K sends bounded partials as netpulse-worker does with partial.top.sources = K
 * (its emit_partial: np_cand's candidates once the partition has emitted --learn-panes
 * panes, whole tables before; the partition's sliding window of --window-ms through
 * np_srcwin, kept across panes as the worker keeps it). The coordinator must be given the
 * same detect.learn.panes and window.ms (bench/sim.sh does); warm-up panes are at least
 * the learning panes, so the measured panes are the steady state. Each partition's pane
 * state lives across panes, as in a worker.
 *
 * Memory (bench/sim.sh --only memory): --open-panes K sends K consecutive panes' partials
 * before closing any (a "pane" of the report is then a round of K), so K global panes are
 * open at once; --shift-sources gives every pane its own sources (a sliding window then
 * unites distinct ones). With S and D above the coordinator's caps, every table it holds
 * fills; the report adds its VmHWM and its netpulse_coordinator_memory_bound_bytes.
 *
 * Usage: np-bench-sim --coordinator EP --gateway EP --redis-port P --metrics-port P
 *                     --coord-pid PID [--partitions N] [--workers W] [--sources S]
 *                     [--records R] [--dests D] [--panes P] [--warmup K] [--pane-ms MS]
 *                     [--group G] [--topic T] [--label TEXT] [--open-panes K] [--shift-sources]
 *                     [--bounded K [--learn-panes L] [--window-ms MS] [--no-fanin]]
 * With --bounded the destinations' fan-in travels as one np_vhll pool (the default
 * fanin.pool.registers / fanin.registers.per.dest), as netpulse-worker sends it; --no-fanin
 * sends a distinct-source sketch per destination instead (bounded partials before np_vhll).
 * Prints one JSON object on stdout; progress on stderr.
 *
 * np-bench-sim --dump DIR [the options above but the endpoints, ports and PID] builds the
 * same partials for every pane (warm-up included) and writes each WorkerMsg as sent to
 * DIR/PANE-PARTITION.wmsg, with no Redis, coordinator or socket: real partials for
 * np-bench-decode (bench/decode_cost.c) and fuzz seeds.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_record.h"
#include "netpulse.pb-c.h"
#include "np_cand.h"
#include "np_clock.h"
#include "np_owner.h"
#include "np_pane.h"
#include "np_partial.h"
#include "np_srcwin.h"
#include "np_store.h"

typedef struct opts {
    const char *coord, *gateway, *group, *topic, *label;
    int redis_port, metrics_port, coord_pid;
    int32_t partitions;
    int workers;
    uint64_t sources;
    int records, dests, panes, warmup;
    int64_t pane_ms;
    int open_panes;  /* panes sent before any is closed */
    int shift;       /* every pane its own sources */
    int bounded, learn_panes; /* bounded: partial.top.sources (0: whole tables) */
    int no_fanin;             /* bounded: per-destination sketches instead of the np_vhll pool */
    int64_t window_ms;
    const char *dump;         /* --dump DIR: write the partials there, send nothing */
} opts_t;

typedef struct sim {
    opts_t o;
    void *zctx, **dealers, *gw;
    char (*sessions)[32];
    np_store_t *store;
    int64_t *epoch, *closed;
    np_partstate_t **prog_ps; /* per slot: carries the watermark and has_data of progress */
    uint8_t **partial;        /* per open pane and slot: the encoded WorkerMsg{partial} */
    size_t *partial_len;
    uint8_t *acked;           /* per open pane and slot */
    np_partial_enc_t enc;
    np_hll_pool_t *pool;
    np_partstate_t **parts;   /* per partition, kept across panes (the worker's) */
    np_cand_config_t cand;    /* --bounded */
    const np_srcagg_t **cand_sel, **win_sel;
    np_vhll_t *fanin;         /* --bounded without --no-fanin */
    size_t cur;               /* partial being built: open pane x partitions + partition */
} sim_t;

static double now_s(void) { return np_clock_mono_s(); }

/* ---- the coordinator's /metrics and /proc --------------------------------------------- */

typedef struct cstat {
    double merge_sum, fin_sum, merge_n, fin_n;
    double cpu_s;
} cstat_t;

static double metric_value(const char *text, const char *name) {
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, name, n) == 0 && p[n] == ' ') return strtod(p + n + 1, NULL);
    return -1;
}

/* GET /metrics over HTTP/1.0; the whole body into a static buffer. */
static const char *fetch_metrics(int port) {
    static char buf[1 << 20];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(0x7f000001)};
    size_t have = 0;
    buf[0] = '\0';
    if (fd < 0) return buf;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
        const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        if (write(fd, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1)) {
            ssize_t r;
            while (have < sizeof(buf) - 1 && (r = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) have += (size_t)r;
        }
    }
    close(fd);
    buf[have] = '\0';
    char *body = strstr(buf, "\r\n\r\n");
    return body ? body + 4 : buf;
}

static double proc_cpu_s(int pid) {
    char path[64], line[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[n] = '\0';
    const char *p = strrchr(line, ')'); /* the command may hold spaces */
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long proc_status_kib(int pid, const char *field) {
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') v = strtol(line + n + 1, NULL, 10);
    if (f) fclose(f);
    return v;
}

static void snap(const sim_t *s, cstat_t *c) {
    const char *t = fetch_metrics(s->o.metrics_port);
    c->merge_sum = metric_value(t, "netpulse_coordinator_merge_duration_seconds_sum");
    c->merge_n = metric_value(t, "netpulse_coordinator_merge_duration_seconds_count");
    c->fin_sum = metric_value(t, "netpulse_coordinator_finalize_duration_seconds_sum");
    c->fin_n = metric_value(t, "netpulse_coordinator_finalize_duration_seconds_count");
    c->cpu_s = proc_cpu_s(s->o.coord_pid);
}

/* ---- building partials the worker's way --------------------------------------------- */

static void emit_cb(void *ctx, np_partstate_t *ps, const np_pane_t *pane, uint64_t late) {
    sim_t *s = ctx;
    const uint8_t *out;
    size_t len;
    char wid[32];
    snprintf(wid, sizeof(wid), "sim-worker-%d", (int)(s->cur % (size_t)s->o.partitions % (size_t)s->o.workers));
    /* As netpulse-worker's emit_partial. */
    np_partial_bounded_t b = {0}, *bp = NULL;
    if (s->o.bounded && !np_cand_learning(&s->cand, ps->panes_emitted)) {
        bp = &b;
        b.sel = s->cand_sel;
        if (pane->records)
            b.nsel = np_cand_select(&s->cand, pane->sources, pane->bytes, pane->packets, s->cand_sel,
                                    s->cand.top + s->cand.max_candidates, &b.dropped);
    }
    if (s->o.bounded && ps->win) {
        bp = &b;
        np_cand_window(&b, ps->win, pane->start_ms, pane->records ? pane->sources : NULL, pane == &ps->empty,
                       s->cand.top, s->win_sel);
    }
    if (s->fanin && pane->records) {
        bp = &b;
        b.fanin = s->fanin;
    }
    if (np_partial_encode_sel(&s->enc, wid, ps->partition, pane, s->o.pane_ms, late, bp, &out, &len) < 0) {
        fprintf(stderr, "np-bench-sim: partial encoding failed\n");
        exit(1);
    }
    uint8_t *copy = realloc(s->partial[s->cur], len);
    if (!copy) exit(1);
    memcpy(copy, out, len);
    s->partial[s->cur] = copy;
    s->partial_len[s->cur] = len;
}

static const uint16_t ports[] = {443, 80, 53, 22, 123, 8080, 25, 3389};

/* Partition p's partial for the pane starting at start. */
static void build_partial(sim_t *s, int32_t p, int64_t start, size_t slot) {
    const opts_t *o = &s->o;
    /* --shift-sources: pane i's sources follow pane i-1's (256 panes apart they repeat) */
    uint64_t base = o->shift ? (uint64_t)(start / o->pane_ms % 256) * o->sources : 0;
    uint64_t mine = o->sources / (uint64_t)o->partitions + ((uint64_t)p < o->sources % (uint64_t)o->partitions);
    np_pane_config_t cfg = {.pane_ms = o->pane_ms, .lateness_ms = 0, .max_open_panes = 4,
                            .max_sources = mine + 1, .max_dests = 65536, .pool = s->pool,
                            .window_ms = o->bounded && o->window_ms > o->pane_ms ? o->window_ms : 0};
    /* Bounded partials need the partition's history (learning, sliding window): its state
     * lives across panes, as in a worker; whole tables are built from a fresh one. */
    np_partstate_t *ps = o->bounded ? s->parts[p] : NULL;
    if (!ps && !(ps = np_partstate_new(p, &cfg))) exit(1);
    if (o->bounded) s->parts[p] = ps;
    np_record_t r;
    memset(&r, 0, sizeof(r));
    int64_t off = 0;
    for (uint64_t k = 0; k < mine; k++) {
        uint64_t src = (uint64_t)p + k * (uint64_t)o->partitions;
        bench_ip4(&r.src, 0x0a000000u + (uint32_t)(base + src));
        for (int j = 0; j < o->records; j++) {
            uint64_t h = bench_mix64((uint64_t)start * 1000003u ^ src * 64 ^ (uint64_t)j);
            bench_ip4(&r.dst, 0xc0a80000u + (uint32_t)(h % (uint64_t)o->dests));
            unsigned pr = (unsigned)(h >> 20) % 100;
            r.proto = pr < 80 ? NP_PROTO_TCP : pr < 95 ? NP_PROTO_UDP : NP_PROTO_ICMP;
            r.dst_port = r.proto == NP_PROTO_ICMP ? 0 : ports[(h >> 28) % 8];
            r.src_port = (uint16_t)(1024 + (h >> 32) % 60000);
            r.packets = 1 + (h >> 40) % 20;
            r.bytes = r.packets * (40 + (h >> 48) % 1460);
            r.ts_ms = start + (int64_t)((h >> 8) % (uint64_t)o->pane_ms);
            np_partstate_add(ps, &r, off++, emit_cb, s, NULL);
        }
    }
    s->cur = slot;
    free(s->partial[slot]);
    s->partial[slot] = NULL;
    s->partial_len[slot] = 0;
    np_partstate_follow(ps, start + o->pane_ms);
    np_partstate_advance(ps, emit_cb, s);
    if (!o->bounded) np_partstate_destroy(&ps);
}

/* --dump: every pane's partials into files, as they would be sent. */
static int dump_partials(sim_t *s) {
    const opts_t *o = &s->o;
    int64_t t0 = np_pane_start(np_clock_wall_ms(NULL) - 7200000, o->pane_ms);
    for (int k = 0; k < o->warmup + o->panes; k++) {
        for (int32_t p = 0; p < o->partitions; p++) {
            build_partial(s, p, t0 + (int64_t)k * o->pane_ms, (size_t)p);
            if (!s->partial_len[p]) continue; /* the pane had nothing to send */
            char path[4096];
            snprintf(path, sizeof(path), "%s/%03d-%04d.wmsg", o->dump, k, (int)p);
            FILE *f = fopen(path, "wb");
            if (!f || fwrite(s->partial[p], 1, s->partial_len[p], f) != s->partial_len[p] || fclose(f) != 0) {
                fprintf(stderr, "np-bench-sim: cannot write %s\n", path);
                return 1;
            }
        }
    }
    return 0;
}

/* ---- the workers' side of the protocol ---------------------------------------------- */

/* Progress for worker w's slots, each closed through `closed[slot]`. */
static void send_progress(sim_t *s, int w) {
    size_t n = 0;
    static np_partstate_t **parts;
    static int64_t *closed;
    static uint8_t *idle;
    static np_progress_claim_t *claims;
    if (!parts) {
        parts = calloc((size_t)s->o.partitions, sizeof(*parts));
        closed = calloc((size_t)s->o.partitions, sizeof(*closed));
        idle = calloc((size_t)s->o.partitions, sizeof(*idle));
        claims = calloc((size_t)s->o.partitions, sizeof(*claims));
        if (!parts || !closed || !idle || !claims) exit(1);
    }
    for (int32_t p = w; p < s->o.partitions; p += s->o.workers) {
        parts[n] = s->prog_ps[p];
        closed[n] = s->closed[p];
        claims[n] = (np_progress_claim_t){s->epoch[p], s->o.topic, p};
        n++;
    }
    const uint8_t *buf;
    size_t len;
    if (np_progress_encode(&s->enc, "sim", s->sessions[w], parts, closed, idle, claims, n, s->o.partitions, &buf, &len) == 0)
        zmq_send(s->dealers[w], buf, len, 0);
}

/* Reads what the coordinator sent the workers; returns acknowledgements for the open panes
 * from `start`. */
static size_t drain_acks(sim_t *s, int64_t start) {
    int64_t end = start + s->o.open_panes * s->o.pane_ms;
    size_t got = 0;
    for (int w = 0; w < s->o.workers; w++) {
        for (;;) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, s->dealers[w], ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            Netpulse__CoordMsg *cm = netpulse__coord_msg__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
            zmq_msg_close(&m);
            if (!cm) continue;
            for (size_t i = 0; i < cm->n_acks; i++) {
                int32_t p = cm->acks[i]->partition;
                int64_t ps = cm->acks[i]->pane_start_ms;
                if (ps < start || ps >= end || (ps - start) % s->o.pane_ms || p < 0 || p >= s->o.partitions) continue;
                size_t k = (size_t)((ps - start) / s->o.pane_ms) * (size_t)s->o.partitions + (size_t)p;
                if (!s->acked[k]) {
                    s->acked[k] = 1;
                    got++;
                }
            }
            netpulse__coord_msg__free_unpacked(cm, NULL);
        }
    }
    return got;
}

/* Gateway side: takes result batches, acknowledges them; true once the pane window of
 * `start` arrived. */
static int drain_results(sim_t *s, int64_t start, int *nresults) {
    int seen = 0;
    for (;;) {
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, s->gw, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&id);
            return seen;
        }
        zmq_msg_init(&body);
        if (zmq_msg_recv(&body, s->gw, 0) >= 0) {
            Netpulse__ResultBatch *b = netpulse__result_batch__unpack(NULL, zmq_msg_size(&body), zmq_msg_data(&body));
            if (b) {
                char **ids = calloc(b->n_results ? b->n_results : 1, sizeof(*ids));
                for (size_t i = 0; i < b->n_results; i++) {
                    const Netpulse__Result *r = b->results[i];
                    ids[i] = r->id;
                    if (strcmp(r->type, "window") == 0 && r->window_start_ms == start &&
                        r->window_end_ms == start + s->o.pane_ms)
                        seen = 1;
                }
                *nresults += (int)b->n_results;
                Netpulse__ResultAck a = NETPULSE__RESULT_ACK__INIT;
                a.version = NP_WIRE_VERSION;
                a.n_ids = b->n_results;
                a.ids = ids;
                size_t len = netpulse__result_ack__get_packed_size(&a);
                uint8_t *buf = malloc(len ? len : 1);
                if (buf && ids) {
                    netpulse__result_ack__pack(&a, buf);
                    zmq_send(s->gw, zmq_msg_data(&id), zmq_msg_size(&id), ZMQ_SNDMORE);
                    zmq_send(s->gw, buf, len, 0);
                }
                free(buf);
                free(ids);
                netpulse__result_batch__free_unpacked(b, NULL);
            }
        }
        zmq_msg_close(&id);
        zmq_msg_close(&body);
    }
}

static void poll_all(sim_t *s, int ms) {
    zmq_pollitem_t it[257];
    int n = 0;
    for (int w = 0; w < s->o.workers && n < 256; w++) it[n++] = (zmq_pollitem_t){s->dealers[w], 0, ZMQ_POLLIN, 0};
    it[n++] = (zmq_pollitem_t){s->gw, 0, ZMQ_POLLIN, 0};
    zmq_poll(it, n, ms);
}

static void set_progress(sim_t *s, int64_t closed_through, int64_t wm) {
    for (int32_t p = 0; p < s->o.partitions; p++) {
        s->closed[p] = closed_through;
        np_partstate_follow(s->prog_ps[p], wm);
        s->prog_ps[p]->has_data = true;
    }
}

typedef struct pane_res {
    double busy, merge, fin, wall, wall_merge, wall_close, cpu, build;
    size_t bytes, max_bytes;
    int results;
} pane_res_t;

#define PANE_TIMEOUT_S 600

/* One pane (--open-panes K: K panes) through the coordinator; returns 0, or -1 on a
 * timeout. */
static int run_pane(sim_t *s, int64_t start, pane_res_t *res) {
    const opts_t *o = &s->o;
    size_t total = (size_t)o->open_panes * (size_t)o->partitions;
    int64_t last = start + (o->open_panes - 1) * o->pane_ms;
    double tb = now_s();
    res->bytes = res->max_bytes = 0;
    for (size_t i = 0; i < total; i++) {
        build_partial(s, (int32_t)(i % (size_t)o->partitions), start + (int64_t)(i / (size_t)o->partitions) * o->pane_ms, i);
        res->bytes += s->partial_len[i];
        if (s->partial_len[i] > res->max_bytes) res->max_bytes = s->partial_len[i];
    }
    res->bytes /= (size_t)o->open_panes;
    res->build = now_s() - tb;
    memset(s->acked, 0, total);
    cstat_t a, b;
    drain_acks(s, start);
    snap(s, &a);
    double t0 = now_s();
    for (size_t i = 0; i < total; i++)
        zmq_send(s->dealers[i % (size_t)o->partitions % (size_t)o->workers], s->partial[i], s->partial_len[i], 0);
    size_t acked = 0;
    double last_resend = now_s();
    while (acked < total) {
        poll_all(s, 20);
        acked += drain_acks(s, start);
        if (now_s() - last_resend > 1.0 && acked < total) {
            /* Not (yet) taken: the claim was not confirmed yet (the coordinator rate-limits
             * its owner look-ups), as a worker would, show the claim again and re-send. */
            for (int w = 0; w < o->workers; w++) send_progress(s, w);
            for (size_t i = 0; i < total; i++)
                if (!s->acked[i])
                    zmq_send(s->dealers[i % (size_t)o->partitions % (size_t)o->workers], s->partial[i], s->partial_len[i], 0);
            last_resend = now_s();
        }
        if (now_s() - t0 > PANE_TIMEOUT_S) return -1;
    }
    double t1 = now_s();
    set_progress(s, last + o->pane_ms, last + o->pane_ms);
    for (int w = 0; w < o->workers; w++) send_progress(s, w);
    res->results = 0;
    double last_prog = now_s();
    while (!drain_results(s, last, &res->results)) {
        poll_all(s, 20);
        drain_acks(s, start);
        if (now_s() - last_prog > 1.0) { /* a refused claim: show it again */
            for (int w = 0; w < o->workers; w++) send_progress(s, w);
            last_prog = now_s();
        }
        if (now_s() - t0 > PANE_TIMEOUT_S) return -1;
    }
    double t2 = now_s();
    /* The finalize histogram is observed after the results are handed over: wait for it. */
    for (int i = 0; i < 2000; i++) { /* up to 10 s */
        snap(s, &b);
        if (b.fin_n > a.fin_n) break;
        usleep(5000);
    }
    res->merge = b.merge_sum - a.merge_sum;
    res->fin = b.fin_sum - a.fin_sum;
    res->busy = res->merge + res->fin;
    res->wall = t2 - t0;
    res->wall_merge = t1 - t0;
    res->wall_close = t2 - t1;
    res->cpu = b.cpu_s - a.cpu_s;
    return 0;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of n values (sorted in place). */
static double pct(double *v, size_t n, double q) {
    qsort(v, n, sizeof(*v), cmp_d);
    size_t k = (size_t)(q * (double)n + 0.999999);
    return v[k ? k - 1 : 0];
}

static int claim_slots(sim_t *s) {
    char err[256], ek[256], ok[256];
    for (int32_t p = 0; p < s->o.partitions; p++) {
        snprintf(ek, sizeof(ek), "netpulse:epoch:{%s/%s/%d}", s->o.group, s->o.topic, p);
        snprintf(ok, sizeof(ok), "netpulse:owner:{%s/%s/%d}", s->o.group, s->o.topic, p);
        if (np_store_claim(s->store, ek, ok, s->sessions[p % s->o.workers], p, &s->epoch[p], err, sizeof(err)) < 0) {
            fprintf(stderr, "np-bench-sim: claim of slot %d: %s\n", p, err);
            return -1;
        }
    }
    return 0;
}

static void usage(void) {
    fprintf(stderr, "usage: np-bench-sim --coordinator EP --gateway EP --redis-port P --metrics-port P --coord-pid PID\n"
                    "       [--partitions N] [--workers W] [--sources S] [--records R] [--dests D] [--panes P]\n"
                    "       [--warmup K] [--pane-ms MS] [--group G] [--topic T] [--label TEXT]\n"
                    "       [--open-panes K] [--shift-sources] [--bounded K [--learn-panes L] [--window-ms MS]]\n");
    exit(2);
}

static void parse(int argc, char **argv, opts_t *o) {
    *o = (opts_t){.group = "netpulse-workers", .topic = "network-traffic", .label = "", .partitions = 12, .workers = 8,
                  .sources = 100000, .records = 2, .dests = 4096, .panes = 20, .warmup = 2, .pane_ms = 5000, .open_panes = 1,
                  .learn_panes = 2, .window_ms = 60000};
    static const struct option lo[] = {
        {"coordinator", 1, 0, 'c'}, {"gateway", 1, 0, 'g'}, {"redis-port", 1, 0, 'r'}, {"metrics-port", 1, 0, 'm'},
        {"coord-pid", 1, 0, 'P'},   {"partitions", 1, 0, 'n'}, {"workers", 1, 0, 'w'},  {"sources", 1, 0, 's'},
        {"records", 1, 0, 'R'},     {"dests", 1, 0, 'd'},   {"panes", 1, 0, 'p'},      {"warmup", 1, 0, 'W'},
        {"pane-ms", 1, 0, 'M'},     {"group", 1, 0, 'G'},   {"topic", 1, 0, 'T'},      {"label", 1, 0, 'L'},
        {"open-panes", 1, 0, 'K'},  {"shift-sources", 0, 0, 'S'}, {"bounded", 1, 0, 'B'},
        {"learn-panes", 1, 0, 'l'}, {"window-ms", 1, 0, 'X'}, {"no-fanin", 0, 0, 'F'}, {"dump", 1, 0, 'D'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'c': o->coord = optarg; break;
        case 'g': o->gateway = optarg; break;
        case 'r': o->redis_port = atoi(optarg); break;
        case 'm': o->metrics_port = atoi(optarg); break;
        case 'P': o->coord_pid = atoi(optarg); break;
        case 'n': o->partitions = atoi(optarg); break;
        case 'w': o->workers = atoi(optarg); break;
        case 's': o->sources = strtoull(optarg, NULL, 10); break;
        case 'R': o->records = atoi(optarg); break;
        case 'd': o->dests = atoi(optarg); break;
        case 'p': o->panes = atoi(optarg); break;
        case 'W': o->warmup = atoi(optarg); break;
        case 'M': o->pane_ms = atoll(optarg); break;
        case 'G': o->group = optarg; break;
        case 'T': o->topic = optarg; break;
        case 'L': o->label = optarg; break;
        case 'K': o->open_panes = atoi(optarg); break;
        case 'S': o->shift = 1; break;
        case 'B': o->bounded = atoi(optarg); break;
        case 'l': o->learn_panes = atoi(optarg); break;
        case 'X': o->window_ms = atoll(optarg); break;
        case 'F': o->no_fanin = 1; break;
        case 'D': o->dump = optarg; break;
        default: usage();
        }
    }
    if ((!o->dump && (!o->coord || !o->gateway || o->redis_port <= 0 || o->metrics_port <= 0 || o->coord_pid <= 0)) ||
        o->partitions < 1 || o->partitions > 4096 || o->workers < 1 || o->workers > 256 || o->records < 1 ||
        o->dests < 1 || o->panes < 1 || o->warmup < 0 || o->pane_ms < 10 || o->sources > 16000000 ||
        o->open_panes < 1 || o->open_panes > 64 || (o->bounded && o->bounded < 10) || o->learn_panes < 1 ||
        o->window_ms < o->pane_ms || o->window_ms % o->pane_ms)
        usage();
    if (o->workers > o->partitions) o->workers = o->partitions;
    if (o->bounded && o->warmup < o->learn_panes) o->warmup = o->learn_panes; /* measure the steady state */
}

/* The gateway's ROUTER and the workers' DEALERs. Returns 0 or -1. */
static int open_sockets(sim_t *s) {
    const opts_t *o = &s->o;
    s->zctx = zmq_ctx_new();
    s->gw = zmq_socket(s->zctx, ZMQ_ROUTER);
    if (zmq_bind(s->gw, o->gateway) != 0) {
        fprintf(stderr, "np-bench-sim: bind %s: %s\n", o->gateway, zmq_strerror(errno));
        return -1;
    }
    for (int w = 0; w < o->workers; w++) {
        s->dealers[w] = zmq_socket(s->zctx, ZMQ_DEALER);
        int hwm = 0, linger = 0; /* no high-water mark: a pane's partials all go out at once */
        zmq_setsockopt(s->dealers[w], ZMQ_SNDHWM, &hwm, sizeof(hwm));
        zmq_setsockopt(s->dealers[w], ZMQ_LINGER, &linger, sizeof(linger));
        if (zmq_connect(s->dealers[w], o->coord) != 0) {
            fprintf(stderr, "np-bench-sim: connect %s: %s\n", o->coord, zmq_strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* The JSON line of the measured panes m[0..o->panes). */
static void report(const sim_t *s, const pane_res_t *m, double *v) {
    const opts_t *o = &s->o;
    size_t n = (size_t)o->partitions;
    size_t np = (size_t)o->panes;
    double cpu = 0, bytes = 0, maxb = 0;
    for (size_t i = 0; i < np; i++) {
        cpu += m[i].cpu;
        bytes += (double)m[i].bytes;
        if ((double)m[i].max_bytes > maxb) maxb = (double)m[i].max_bytes;
    }
#define PCTS(field, out50, out99)                                   \
    do {                                                            \
        for (size_t i = 0; i < np; i++) v[i] = m[i].field;          \
        out50 = pct(v, np, 0.50);                                   \
        out99 = pct(v, np, 0.99);                                   \
    } while (0)
    double b50, b99, w50, w99, c50, c99, g50, g99, f50, f99;
    PCTS(busy, b50, b99);
    PCTS(wall, w50, w99);
    PCTS(wall_close, c50, c99);
    PCTS(merge, g50, g99);
    PCTS(fin, f50, f99);
    printf("{\"label\":\"%s\",\"fanin_pool\":%d,\"bounded\":%d,\"partitions\":%d,\"workers\":%d,\"sources\":%" PRIu64 ",\"records_per_source\":%d,"
           "\"dests\":%d,\"panes\":%d,\"warmup\":%d,\"busy_ms_p50\":%.2f,\"busy_ms_p99\":%.2f,\"merge_ms_p50\":%.2f,"
           "\"merge_ms_p99\":%.2f,\"finalize_ms_p50\":%.2f,\"finalize_ms_p99\":%.2f,\"wall_ms_p50\":%.2f,"
           "\"wall_ms_p99\":%.2f,\"close_ms_p50\":%.2f,\"close_ms_p99\":%.2f,\"cpu_ms_per_pane\":%.1f,"
           "\"bytes_per_partial\":%.0f,\"max_bytes_per_partial\":%.0f,\"bytes_per_source\":%.1f,"
           "\"coord_rss_kib\":%ld,\"coord_hwm_kib\":%ld,\"open_panes\":%d,\"shift_sources\":%d,"
           "\"coord_bound_bytes\":%.0f}\n",
           o->label, o->bounded && !o->no_fanin, o->bounded, o->partitions, o->workers, o->sources, o->records, o->dests, o->panes, o->warmup, 1e3 * b50,
           1e3 * b99, 1e3 * g50, 1e3 * g99, 1e3 * f50, 1e3 * f99, 1e3 * w50, 1e3 * w99, 1e3 * c50, 1e3 * c99,
           1e3 * cpu / (double)np, bytes / (double)np / (double)n, maxb,
           o->sources ? bytes / (double)np / (double)o->sources : 0, proc_status_kib(o->coord_pid, "VmRSS"),
           proc_status_kib(o->coord_pid, "VmHWM"), o->open_panes, o->shift,
           metric_value(fetch_metrics(o->metrics_port), "netpulse_coordinator_memory_bound_bytes"));
}

int main(int argc, char **argv) {
    sim_t s = {0};
    parse(argc, argv, &s.o);
    const opts_t *o = &s.o;
    size_t n = (size_t)o->partitions;
    char err[256];
    if (!o->dump) s.store = np_store_connect("127.0.0.1", o->redis_port, 5000, err, sizeof(err));
    s.pool = np_hll_pool_new(NP_HLL_P_DEFAULT, 2 * (size_t)o->dests + 4096);
    s.dealers = calloc((size_t)o->workers, sizeof(*s.dealers));
    s.sessions = calloc((size_t)o->workers, sizeof(*s.sessions));
    s.epoch = calloc(n, sizeof(*s.epoch));
    s.closed = calloc(n, sizeof(*s.closed));
    s.prog_ps = calloc(n, sizeof(*s.prog_ps));
    size_t nk = n * (size_t)o->open_panes;
    s.partial = calloc(nk, sizeof(*s.partial));
    s.partial_len = calloc(nk, sizeof(*s.partial_len));
    s.acked = calloc(nk, 1);
    s.parts = calloc(n, sizeof(*s.parts));
    if (o->bounded) {
        np_detect_config_t dc;
        np_detect_config_default(&dc, o->pane_ms); /* the coordinator's defaults */
        np_cand_config_from_detect(&s.cand, &dc, (size_t)o->bounded, 1024);
        s.cand.learn_panes = o->learn_panes;
        s.cand_sel = calloc(s.cand.top + s.cand.max_candidates, sizeof(*s.cand_sel));
        s.win_sel = calloc(s.cand.top, sizeof(*s.win_sel));
        if (!s.cand_sel || !s.win_sel) return 1;
        if (!o->no_fanin && !(s.fanin = np_vhll_new(NP_VHLL_M_DEFAULT, NP_VHLL_S_DEFAULT, NULL, 0))) return 1;
    }
    if (!s.parts || (!s.store && !o->dump) || !s.pool || !s.dealers || !s.sessions || !s.epoch || !s.closed || !s.prog_ps ||
        !s.partial || !s.partial_len || !s.acked) {
        fprintf(stderr, "np-bench-sim: set-up failed: %s\n", s.store ? "out of memory" : err);
        return 1;
    }
    np_partial_enc_init(&s.enc);
    for (int w = 0; w < o->workers; w++) snprintf(s.sessions[w], sizeof(s.sessions[w]), "sim-%d-%d", (int)getpid(), w);
    if (o->dump) return dump_partials(&s);
    if (claim_slots(&s) < 0) return 1;
    np_pane_config_t pc = {.pane_ms = o->pane_ms, .lateness_ms = 0, .max_open_panes = 2, .max_sources = 1};
    for (size_t p = 0; p < n; p++)
        if (!(s.prog_ps[p] = np_partstate_new((int32_t)p, &pc))) return 1;

    if (open_sockets(&s) < 0) return 1;
    /* Event time two hours ago, pane-aligned: the panes lie in the past, as in the tests. */
    int64_t t0 = np_pane_start(np_clock_wall_ms(NULL) - 7200000, o->pane_ms);
    set_progress(&s, t0, t0);
    /* Show every claim before the first partial: the coordinator confirms at most
     * NP_OWNER_LOOKUPS_PER_S claims a second against Redis. */
    for (int i = 0; i <= o->partitions / NP_OWNER_LOOKUPS_PER_S + 2; i++) {
        for (int w = 0; w < o->workers; w++) send_progress(&s, w);
        poll_all(&s, 1000);
        drain_acks(&s, t0);
    }

    int total = o->warmup + o->panes;
    pane_res_t *res = calloc((size_t)total, sizeof(*res));
    double *v = calloc((size_t)o->panes, sizeof(*v));
    if (!res || !v) return 1;
    for (int k = 0; k < total; k++) {
        if (run_pane(&s, t0 + (int64_t)k * o->open_panes * o->pane_ms, &res[k]) < 0) {
            fprintf(stderr, "np-bench-sim: pane %d timed out\n", k);
            return 1;
        }
        fprintf(stderr, "np-bench-sim: pane %d/%d%s: build %.2f s, busy %.1f ms (merge %.1f + finalize %.1f), wall %.1f ms, "
                        "cpu %.0f ms, %zu B in %zu partials, %d results\n",
                k + 1, total, k < o->warmup ? " (warm-up)" : "", res[k].build, 1e3 * res[k].busy, 1e3 * res[k].merge,
                1e3 * res[k].fin, 1e3 * res[k].wall, 1e3 * res[k].cpu, res[k].bytes, n, res[k].results);
    }
    report(&s, res + o->warmup, v);
    for (int w = 0; w < o->workers; w++) zmq_close(s.dealers[w]);
    zmq_close(s.gw);
    zmq_ctx_term(s.zctx);
    for (size_t p = 0; p < n; p++) {
        np_partstate_destroy(&s.prog_ps[p]);
        np_partstate_destroy(&s.parts[p]);
    }
    for (size_t i = 0; i < nk; i++) free(s.partial[i]);
    np_partial_enc_free(&s.enc);
    np_hll_pool_destroy(&s.pool);
    np_store_destroy(&s.store);
    free(s.parts);
    free(s.cand_sel);
    free(s.win_sel);
    free(res);
    free(v);
    return 0;
}
