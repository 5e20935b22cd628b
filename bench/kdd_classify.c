/*
 * np-bench-kdd: CPU time per record of the worker's intrusion classification, split into
 * decoding (np_kdd_conn_parse of the CSV text), encoding + prediction (np_kdd_model_classify)
 * and the sum, over every record of an NSL-KDD file held in memory, repeated.
 *
 *     np-bench-kdd MODEL FILE [ROUNDS [REFERENCE_MODEL]]   (bench/README.md has the numbers)
 *
 * With REFERENCE_MODEL, encode + predict is also timed with it, interleaved round by round
 * with MODEL in the same run, and the ratio printed: on a shared machine the ratio moves
 * much less than either time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "np_kdd_model.h"

/* CPU time of this thread: on a shared machine, wall time would count other processes. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char **read_lines(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 16;
    char **v   = malloc(cap * sizeof *v), line[4096];
    *n         = 0;
    while (v && fgets(line, sizeof line, f)) {
        if (*n == cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
        if (v)
            v[(*n)++] = strdup(line);
    }
    fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: np-bench-kdd MODEL FILE [ROUNDS]\n");
        return 2;
    }
    int             rounds = argc > 3 ? atoi(argv[3]) : 20;
    char            err[512];
    np_kdd_model_t *m = NULL;
    size_t          n = 0;
    char          **lines = read_lines(argv[2], &n);
    if (np_kdd_model_load(argv[1], &m, err, sizeof err) != 0 || !lines || !n) {
        fprintf(stderr, "np-bench-kdd: %s\n", lines ? err : "cannot read the records");
        return 1;
    }
    np_kdd_conn_t *recs = malloc(n * sizeof *recs);
    double         t0 = now(), sink = 0;
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < n; i++)
            if (np_kdd_conn_parse(lines[i], strlen(lines[i]), &recs[i], err, sizeof err) != 0)
                return fprintf(stderr, "record %zu: %s\n", i + 1, err), 1;
    double t1 = now();
    long   hist[NP_KDD_NCLASSES] = {0};
    np_kdd_model_t *ref = NULL;
    if (argc > 4 && np_kdd_model_load(argv[4], &ref, err, sizeof err) != 0) {
        fprintf(stderr, "np-bench-kdd: %s\n", err);
        return 1;
    }
    double t_model = 0, t_ref = 0;
    for (int r = 0; r < rounds; r++) {
        double a = now();
        for (size_t i = 0; i < n; i++) {
            double conf;
            hist[np_kdd_model_classify(m, &recs[i], &conf)]++;
            sink += conf;
        }
        double b = now();
        t_model += b - a;
        for (size_t i = 0; ref && i < n; i++) {
            double conf;
            sink += np_kdd_model_classify(ref, &recs[i], &conf) + conf;
        }
        t_ref += now() - b;
    }
    double t2 = now();
    float  x[NP_KDD_MODEL_MAX_INPUTS];
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < n; i++) {
            np_kdd_model_encode(m, &recs[i], x);
            sink += x[i % np_kdd_model_ninputs(m)];
        }
    double t3 = now(), total = (double)n * rounds;
    printf("model %s: %zu trees, %zu nodes, %zu inputs\n", np_kdd_model_version(m),
           np_kdd_model_ntrees(m), np_kdd_model_nnodes(m), np_kdd_model_ninputs(m));
    printf("%zu records x %d rounds\n", n, rounds);
    printf("parse CSV:          %7.1f ns/record\n", (t1 - t0) / total * 1e9);
    printf("encode + predict:   %7.1f ns/record\n", t_model / total * 1e9);
    printf("  of which encode:  %7.1f ns/record\n", (t3 - t2) / total * 1e9);
    printf("parse + classify:   %7.1f ns/record\n", (t1 - t0 + t_model) / total * 1e9);
    if (ref)
        printf("reference %s (%zu trees): encode + predict %7.1f ns/record; ratio %.3f\n",
               np_kdd_model_version(ref), np_kdd_model_ntrees(ref), t_ref / total * 1e9, t_model / t_ref);
    printf("(checksum %.3f, normal %ld)\n", sink, hist[0]);
    np_kdd_model_destroy(&m);
    np_kdd_model_destroy(&ref);
    return 0;
}
