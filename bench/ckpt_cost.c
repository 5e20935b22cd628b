/*
 * bench/ckpt_cost: checkpoint cost versus state size.
 *
 * Builds one partition's state as the worker does (np_partstate_add: a pane with N distinct
 * sources talking to N/4 destinations), then times what the worker does per checkpoint:
 * np_ckpt_encode and the fenced write to a real Redis (np_store_fenced_set), and the
 * restore path (GET + np_ckpt_decode). Median of several rounds per size, JSON lines out.
 *
 * Usage: np-bench-ckpt REDIS_PORT [N ...]   (default 1000 10000 100000)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_record.h"
#include "np_ckpt.h"
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
    np_store_destroy(&st);
    return rc ? 1 : 0;
}
