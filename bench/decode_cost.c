/*
 * bench/decode_cost: np-bench-decode, the coordinator's decoding of worker messages,
 * protobuf-c's generic unpacker into the arena (what np_pbatch_unpack did before np_wmsg)
 * against np_wmsg_decode, side by side in one process on the same real partials.
 *
 * Reads every file given (or every *.wmsg file of a directory given): one WorkerMsg each,
 * e.g. written by `np-bench-sim --dump DIR` (bench/README.md). First checks that both
 * decoders accept every message and agree (both re-encoded by protobuf-c, byte for byte),
 * then decodes all of them RUNS times with each, alternating, into an arena reset every
 * 256 messages (a group commit's batch), and prints the best and median time per message.
 *
 * Usage: np-bench-decode [--runs N] FILE|DIR...
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "netpulse.pb-c.h"
#include "np_arena.h"
#include "np_clock.h"
#include "np_wmsg.h"

#define BATCH 256

typedef struct msg {
    uint8_t *b;
    size_t n;
} msg_t;

static msg_t *msgs;
static size_t nmsgs, cap, total_bytes;

static void load_file(const char *path) {
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        fprintf(stderr, "np-bench-decode: cannot read %s\n", path);
        exit(1);
    }
    if (nmsgs == cap && !(msgs = realloc(msgs, (cap = cap ? 2 * cap : 1024) * sizeof(*msgs)))) exit(1);
    msg_t *m = &msgs[nmsgs++];
    m->n = (size_t)st.st_size;
    if (!(m->b = malloc(m->n ? m->n : 1)) || fread(m->b, 1, m->n, f) != m->n) exit(1);
    fclose(f);
    total_bytes += m->n;
}

static void load(const char *path) {
    DIR *d = opendir(path);
    if (!d) {
        load_file(path);
        return;
    }
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 5, ".wmsg") != 0) continue;
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
        load_file(p);
    }
    closedir(d);
}

static Netpulse__WorkerMsg *decode(np_arena_t *a, bool mine, const msg_t *m) {
    return mine ? np_wmsg_decode(a, m->b, m->n, NULL)
                : netpulse__worker_msg__unpack(np_arena_protobuf(a), m->n, m->b);
}

/* Both decoders accept every message and re-encode it to the same bytes. */
static void check(np_arena_t *a) {
    for (size_t i = 0; i < nmsgs; i++) {
        Netpulse__WorkerMsg *x = decode(a, true, &msgs[i]), *y = decode(a, false, &msgs[i]);
        if (!x || !y) {
            fprintf(stderr, "np-bench-decode: message %zu refused (np_wmsg %d, protobuf-c %d)\n", i, !x, !y);
            exit(1);
        }
        size_t nx = netpulse__worker_msg__get_packed_size(x), ny = netpulse__worker_msg__get_packed_size(y);
        uint8_t *bx = malloc(nx + 1), *by = malloc(ny + 1);
        if (!bx || !by || nx != ny || netpulse__worker_msg__pack(x, bx) != nx ||
            netpulse__worker_msg__pack(y, by) != ny || memcmp(bx, by, nx) != 0) {
            fprintf(stderr, "np-bench-decode: message %zu decoded differently\n", i);
            exit(1);
        }
        free(bx);
        free(by);
        np_arena_reset(a);
    }
}

/* Seconds to decode every message once. */
static double run(np_arena_t *a, bool mine) {
    double t0 = np_clock_mono_s();
    for (size_t i = 0; i < nmsgs; i++) {
        if (!decode(a, mine, &msgs[i])) exit(1);
        if (i % BATCH == BATCH - 1) np_arena_reset(a);
    }
    np_arena_reset(a);
    return np_clock_mono_s() - t0;
}

static int cmp_d(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv) {
    int runs = 9, i = 1;
    if (argc > 2 && strcmp(argv[1], "--runs") == 0) {
        runs = atoi(argv[2]);
        i = 3;
    }
    if (i >= argc || runs < 1 || runs > 1000) {
        fprintf(stderr, "usage: np-bench-decode [--runs N] FILE|DIR...\n");
        return 2;
    }
    for (; i < argc; i++)
        load(argv[i]);
    np_arena_t *a = np_arena_new(1 << 20);
    double *pc = calloc((size_t)runs, sizeof(double)), *mw = calloc((size_t)runs, sizeof(double));
    if (!nmsgs || !a || !pc || !mw) return 1;
    check(a);
    run(a, false); /* warm-up: the arena's block, caches */
    run(a, true);
    for (int r = 0; r < runs; r++) { /* alternating which goes first */
        if (r % 2) mw[r] = run(a, true);
        pc[r] = run(a, false);
        if (!(r % 2)) mw[r] = run(a, true);
    }
    qsort(pc, (size_t)runs, sizeof(double), cmp_d);
    qsort(mw, (size_t)runs, sizeof(double), cmp_d);
    double n = (double)nmsgs;
    printf("%zu messages, %.0f bytes mean; %d runs each, alternating\n", nmsgs, (double)total_bytes / n,
           runs);
    printf("protobuf-c unpack (arena): best %.2f us/message (%.0f MB/s), median %.2f\n", 1e6 * pc[0] / n,
           (double)total_bytes / pc[0] / 1e6, 1e6 * pc[runs / 2] / n);
    printf("np_wmsg_decode:            best %.2f us/message (%.0f MB/s), median %.2f\n", 1e6 * mw[0] / n,
           (double)total_bytes / mw[0] / 1e6, 1e6 * mw[runs / 2] / n);
    printf("speed-up: %.2fx (best), %.2fx (median)\n", pc[0] / mw[0], pc[runs / 2] / mw[runs / 2]);
    np_arena_destroy(&a);
    for (size_t j = 0; j < nmsgs; j++)
        free(msgs[j].b);
    free(msgs);
    free(pc);
    free(mw);
    return 0;
}
