/*
 * bench/ckpt_cost: checkpoint cost versus state size.
 *
 * Builds one partition's state as the worker does (np_partstate_add: a pane with N distinct
 * sources talking to N/4 destinations), then times what the worker does per checkpoint:
 * np_ckpt_encode and the fenced write to a real Redis (np_store_fenced_set), and the
 * restore path (GET + np_ckpt_decode). Median of several rounds per size, JSON lines out.
 *
 * Then a stream per size, as a live partition sees it: 30 s of event time, 5 s panes
 * (lateness 2 s), every one of the N sources sending 2 records per pane at random times
 * (2N/5 records/s), a checkpoint every second and at every pane close, the closed pane's
 * partial acknowledged right after the checkpoint that holds it. Once with full
 * checkpoints (version 1, one value, as before incremental checkpoints), once with
 * np_ckpt_writer (version 2, checkpoint.full.every 30). Per second of the stream: bytes
 * written to Redis, this process's CPU in encoding and writing, and Redis's CPU (INFO
 * cpu, before and after); then one restore of what is stored. Only the checkpoints are
 * timed, not adding the records.
 *
 * Usage: np-bench-ckpt REDIS_PORT [N ...]   (default 1000 10000 100000)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "bench_record.h"
#include "np_ckpt.h"
#include "np_ckpt_writer.h"
#include "np_partial.h"
#include "np_store.h"

#define ROUNDS 9

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v) {
    qsort(v, ROUNDS, sizeof(double), cmp_d);
    return v[ROUNDS / 2];
}

static int run(np_store_t *st, size_t n) {
    np_hll_pool_t *pool = np_hll_pool_new(NP_HLL_P_DEFAULT, 65536);
    np_pane_config_t cfg = {.pane_ms = 5000, .lateness_ms = 2000, .max_open_panes = 4, .max_sources = n + 1,
                            .max_dests = n + 1, .pool = pool};
    np_partstate_t *ps = np_partstate_new(0, &cfg);
    if (!pool || !ps) return -1;
    np_record_t r;
    bench_record_init(&r, 1500, 3);
    r.src.b[12] = 10;
    r.dst.b[12] = 192;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t d = i / 4;
        memcpy(&r.src.b[13], &i, 3);
        memcpy(&r.dst.b[13], &d, 3);
        r.dst_port = (uint16_t)(443 + i % 3);
        np_partstate_add(ps, &r, i, NULL, NULL, NULL);
    }
    double enc[ROUNDS], put[ROUNDS], get[ROUNDS], dec[ROUNDS];
    size_t len = 0;
    char err[256];
    const char *ek = "netpulse:bench:epoch", *key = "netpulse:bench:ckpt";
    int64_t epoch = 0;
    if (np_store_incr(st, ek, &epoch, err, sizeof(err)) < 0) goto fail;
    for (int k = 0; k < ROUNDS; k++) {
        uint8_t *buf, *back;
        size_t blen;
        double t0 = now_ms();
        if (np_ckpt_encode(ps, "bench", epoch, NULL, NULL, NULL, 0, 0, &buf, &len) < 0) goto fail;
        double t1 = now_ms();
        int rc = np_store_fenced_set(st, ek, key, epoch, buf, len, err, sizeof(err));
        double t2 = now_ms();
        free(buf);
        if (rc != 0 || np_store_get(st, key, &back, &blen, err, sizeof(err)) != 0) goto fail;
        double t3 = now_ms();
        np_partstate_t *ps2 = NULL;
        np_outbox_t ob;
        int64_t e2;
        np_outbox_init(&ob);
        if (np_ckpt_decode(back, blen, &cfg, "bench", 0, &ps2, &ob, &e2, NULL, NULL, 0, err, sizeof(err)) < 0) goto fail;
        double t4 = now_ms();
        free(back);
        np_partstate_destroy(&ps2);
        np_outbox_free(&ob);
        enc[k] = t1 - t0;
        put[k] = t2 - t1;
        get[k] = t3 - t2;
        dec[k] = t4 - t3;
    }
    double me = median(enc), mp = median(put);
    printf("{\"sources\":%zu,\"bytes\":%zu,\"encode_ms\":%.3f,\"redis_set_ms\":%.3f,\"checkpoint_ms\":%.3f,"
           "\"checkpoint_us_per_source\":%.3f,\"redis_get_ms\":%.3f,\"decode_ms\":%.3f}\n",
           n, len, me, mp, me + mp, (me + mp) * 1e3 / (double)n, median(get), median(dec));
    np_store_del(st, key, err, sizeof(err));
    np_store_del(st, ek, err, sizeof(err));
    np_partstate_destroy(&ps);
    np_hll_pool_destroy(&pool);
    return 0;
fail:
    fprintf(stderr, "np-bench-ckpt: %s\n", err);
    return -1;
}

/* ---- the stream ------------------------------------------------------------------- */

#define STREAM_S 30
#define PANE_MS 5000

static double cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Redis's own CPU so far (used_cpu_sys + used_cpu_user), ms. */
static double redis_cpu_ms(int port) {
    redisContext *c = redisConnect("127.0.0.1", port);
    double ms = -1;
    redisReply *r = c && !c->err ? redisCommand(c, "INFO cpu") : NULL;
    if (r && r->type == REDIS_REPLY_STRING) {
        const char *a = strstr(r->str, "used_cpu_sys:"), *b = strstr(r->str, "used_cpu_user:");
        if (a && b) ms = (atof(a + 13) + atof(b + 14)) * 1e3;
    }
    if (r) freeReplyObject(r);
    if (c) redisFree(c);
    return ms;
}

typedef struct stream {
    np_store_t *st;
    bool incremental;
    np_partstate_t *ps;
    np_outbox_t ob;
    np_partial_enc_t enc;
    np_ckpt_writer_t w;
    bool closed;      /* a pane closed since the last checkpoint */
    uint64_t bytes, checkpoints, full, deltas, fenced_errors;
    double cpu, wall;
} stream_t;

static void on_close(void *ctx, np_partstate_t *ps, const np_pane_t *pane, uint64_t late) {
    stream_t *x = ctx;
    const uint8_t *buf;
    size_t len;
    if (np_partial_encode(&x->enc, "bench", ps->partition, pane, PANE_MS, late, &buf, &len) == 0)
        np_outbox_push(&x->ob, pane->start_ms, pane->min_offset, buf, len);
    x->closed = true;
}

static const char *EK = "netpulse:epoch:{bench/bench/0}", *KEY = "netpulse:ckpt:{bench/bench/0}";

static int stream_ckpt(stream_t *x, int64_t epoch) {
    char err[256];
    double c0 = cpu_ms(), t0 = now_ms();
    int rc;
    if (!x->incremental) {
        uint8_t *buf;
        size_t len;
        if (np_ckpt_encode(x->ps, "bench", epoch, &x->ob, NULL, NULL, 0, 0, &buf, &len) < 0) return -1;
        rc = np_store_fenced_set(x->st, EK, KEY, epoch, buf, len, err, sizeof(err));
        free(buf);
        x->bytes += len;
        x->full++;
    } else {
        static const np_ckpt_policy_t pol = {.full_every = 30, .max_frames = 32};
        np_ckpt_writer_t *w = &x->w;
        if (np_ckpt_writer_plan(w, x->ps, "bench", epoch, &x->ob, NULL, NULL, 0, 0, &pol) < 0) return -1;
        np_store_part_t parts[64];
        char keys[64][128];
        if (w->nparts > 64) return -1;
        for (size_t i = 0; i < w->nparts; i++) {
            snprintf(keys[i], sizeof(keys[i]), "%s:%s", KEY, w->parts[i].suffix);
            parts[i] = (np_store_part_t){keys[i], w->parts[i].op, w->parts[i].expect, w->parts[i].data, w->parts[i].len};
        }
        rc = np_store_fenced_write(x->st, EK, epoch, KEY, w->head, w->head_len, parts, w->nparts, err, sizeof(err));
        x->bytes += w->batch_bytes;
        x->full += w->batch_full;
        x->deltas += w->panes_delta;
        np_ckpt_writer_done(w, rc == 0);
    }
    x->cpu += cpu_ms() - c0;
    x->wall += now_ms() - t0;
    x->checkpoints++;
    if (rc != 0) fprintf(stderr, "np-bench-ckpt: checkpoint: %s\n", err);
    /* The coordinator acknowledges what the checkpoint holds. */
    np_outbox_free(&x->ob);
    np_outbox_init(&x->ob);
    x->closed = false;
    return rc;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int get_part(void *ctx, const char *suffix, uint8_t **data, size_t *len) {
    char k[160], err[256];
    snprintf(k, sizeof(k), "%s:%s", KEY, suffix);
    return np_store_get(ctx, k, data, len, err, sizeof(err));
}

static int stream(np_store_t *st, int port, size_t n, bool incremental) {
    np_hll_pool_t *pool = np_hll_pool_new(NP_HLL_P_DEFAULT, 1 << 20);
    np_pane_config_t cfg = {.pane_ms = PANE_MS, .lateness_ms = 2000, .max_open_panes = 4, .max_sources = n + 1,
                            .max_dests = n + 1, .pool = pool};
    stream_t x = {.st = st, .incremental = incremental, .ps = np_partstate_new(0, &cfg)};
    np_outbox_init(&x.ob);
    np_partial_enc_init(&x.enc);
    np_ckpt_writer_init(&x.w);
    /* Per pane, 2 records per source at random times: (ms in pane << 32 | source), sorted. */
    size_t per_pane = 2 * n;
    uint64_t *ev = malloc(per_pane * sizeof(*ev));
    char err[256];
    int64_t epoch = 0;
    if (!pool || !x.ps || !ev || np_store_incr(st, EK, &epoch, err, sizeof(err)) < 0) return -1;
    np_record_t r;
    bench_record_init(&r, 1500, 3);
    r.src.b[12] = 10;
    r.dst.b[12] = 192;
    srand(42);
    double rcpu0 = redis_cpu_ms(port);
    int64_t offset = 0, next_ckpt = 1000;
    for (int64_t pane = 0; pane < STREAM_S * 1000; pane += PANE_MS) {
        for (size_t i = 0; i < per_pane; i++) ev[i] = (uint64_t)(rand() % PANE_MS) << 32 | (uint64_t)(i % n);
        qsort(ev, per_pane, sizeof(*ev), cmp_u64);
        for (size_t i = 0; i < per_pane; i++) {
            uint32_t src = (uint32_t)ev[i], d = src / 4;
            r.ts_ms = pane + (int64_t)(ev[i] >> 32);
            while (r.ts_ms >= next_ckpt) { /* the once-a-second checkpoint */
                if (stream_ckpt(&x, epoch) < 0) return -1;
                next_ckpt += 1000;
            }
            memcpy(&r.src.b[13], &src, 3);
            memcpy(&r.dst.b[13], &d, 3);
            r.dst_port = (uint16_t)(443 + src % 3);
            np_partstate_add(x.ps, &r, offset++, on_close, &x, NULL);
            if (x.closed && stream_ckpt(&x, epoch) < 0) return -1; /* every pane close */
        }
    }
    double rcpu = redis_cpu_ms(port) - rcpu0;
    /* Restore what is stored. */
    uint8_t *back;
    size_t blen;
    double t0 = now_ms();
    if (np_store_get(st, KEY, &back, &blen, err, sizeof(err)) != 0) return -1;
    np_partstate_t *ps2 = NULL;
    np_outbox_t ob2;
    if (np_ckpt_decode_parts(back, blen, get_part, st, &cfg, "bench", 0, &ps2, &ob2, NULL, NULL, NULL, 0, NULL, err,
                             sizeof(err)) < 0) {
        fprintf(stderr, "np-bench-ckpt: restore: %s\n", err);
        return -1;
    }
    double restore_ms = now_ms() - t0;
    printf("{\"stream\":true,\"mode\":\"%s\",\"sources\":%zu,\"records_per_s\":%zu,\"seconds\":%d,\"checkpoints\":%" PRIu64
           ",\"full_checkpoints\":%" PRIu64 ",\"pane_deltas\":%" PRIu64 ",\"bytes_per_s\":%.0f,\"cpu_ms_per_s\":%.2f,"
           "\"wall_ms_per_s\":%.2f,\"redis_cpu_ms_per_s\":%.2f,\"restore_ms\":%.2f,\"open_panes_at_end\":%zu}\n",
           incremental ? "incremental" : "full", n, per_pane / (PANE_MS / 1000), STREAM_S, x.checkpoints, x.full,
           x.deltas, (double)x.bytes / STREAM_S, x.cpu / STREAM_S, x.wall / STREAM_S, rcpu / STREAM_S, restore_ms,
           np_partstate_open_panes(ps2));
    fflush(stdout);
    free(back);
    free(ev);
    np_partstate_destroy(&ps2);
    np_outbox_free(&ob2);
    np_outbox_free(&x.ob);
    np_partial_enc_free(&x.enc);
    np_ckpt_writer_free(&x.w);
    np_partstate_destroy(&x.ps);
    np_hll_pool_destroy(&pool);
    const char *argv[] = {"DEL", EK, KEY};
    size_t lens[] = {3, strlen(EK), strlen(KEY)};
    np_store_run(st, 3, argv, lens, err, sizeof(err));
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: np-bench-ckpt REDIS_PORT [SOURCES ...]\n");
        return 2;
    }
    char err[256];
    np_store_t *st = np_store_connect("127.0.0.1", atoi(argv[1]), 5000, err, sizeof(err));
    if (!st) {
        fprintf(stderr, "np-bench-ckpt: %s\n", err);
        return 1;
    }
    size_t def[] = {1000, 10000, 100000};
    size_t nn = argc > 2 ? (size_t)(argc - 2) : 3;
    int rc = 0;
    for (size_t i = 0; i < nn && rc == 0; i++) rc = run(st, argc > 2 ? strtoull(argv[i + 2], NULL, 10) : def[i]);
    for (size_t i = 0; i < nn && rc == 0; i++) {
        size_t n = argc > 2 ? strtoull(argv[i + 2], NULL, 10) : def[i];
        rc = stream(st, atoi(argv[1]), n, false);
        if (rc == 0) rc = stream(st, atoi(argv[1]), n, true);
    }
    np_store_destroy(&st);
    return rc ? 1 : 0;
}
