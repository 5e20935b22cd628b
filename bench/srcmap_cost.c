/*
 * bench/srcmap_cost: np-bench-srcmap, the cost of one record into a source table
 * (np_srcmap_add_record, the worker's per-record path), when the table holds every source
 * and when a spoofed-source flood overflows it (issue 16: the eviction rule).
 *
 * Records are made before the clock starts; the table is warm (cleared, not freed, between
 * rounds); CPU time of the thread, best of the rounds. Prints one line per case.
 * Usage: np-bench-srcmap [ROUNDS]   (default 5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_record.h"
#include "np_srcmap.h"

static double cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* n records: a share `flood` (per mille) from distinct spoofed sources, the rest from
 * `sources` recurring sources (a few of them heavy: source i gets weight ~ 1/(i+1)). */
static np_record_t *make(size_t n, unsigned flood, uint32_t sources) {
    np_record_t *r = calloc(n, sizeof(*r));
    if (!r) exit(1);
    for (size_t i = 0; i < n; i++) {
        uint64_t h = bench_mix64(i);
        if ((h % 1000) < flood) {
            bench_ip4(&r[i].src, 0x0b000000u + (uint32_t)i); /* never repeats */
        } else {
            double u = (double)(h >> 11) / 9007199254740992.0;
            uint32_t s = (uint32_t)((double)sources * u * u * u); /* skewed towards low ids */
            bench_ip4(&r[i].src, 0x0a000000u + s);
        }
        bench_ip4(&r[i].dst, 0xc0a80000u + (uint32_t)((h >> 20) % 4096));
        r[i].proto = (h >> 40) % 10 ? 6 : 17;
        r[i].dst_port = (uint16_t)(h >> 44);
        r[i].packets = 1 + (h >> 52) % 8;
        r[i].bytes = 60 * r[i].packets;
    }
    return r;
}

static void run(const char *name, size_t max_sources, size_t n, unsigned flood, uint32_t sources, int rounds) {
    np_record_t *r = make(n, flood, sources);
    np_hll_pool_t *pool = np_hll_pool_new(NP_HLL_P_DEFAULT, 2 * max_sources + 64);
    np_srcmap_t *m = np_srcmap_new(max_sources, pool);
    double best = 1e9;
    uint64_t ev = 0;
    for (int k = 0; k < rounds; k++) {
        np_srcmap_clear(m);
        double t0 = cpu_s();
        for (size_t i = 0; i < n; i++) np_srcmap_add_record(m, &r[i]);
        double t = cpu_s() - t0;
        if (t < best) best = t;
        ev = np_srcmap_evicted(m);
    }
    printf("%-44s table %8zu  records %9zu  flood %5.1f%%  %7.1f ns/record  stored %zu  evicted %llu\n", name,
           max_sources, n, flood / 10.0, 1e9 * best / (double)n, np_srcmap_count(m), (unsigned long long)ev);
    np_srcmap_destroy(&m);
    np_hll_pool_destroy(&pool);
    free(r);
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    if (rounds < 1) rounds = 1;
    run("fits: 10k sources, table 65536", 65536, 2000000, 0, 10000, rounds);
    run("fits: 60k sources, table 65536", 65536, 2000000, 0, 60000, rounds);
    run("flood 50%: 10k real + spoofed, table 65536", 65536, 2000000, 500, 10000, rounds);
    run("flood 90%: 10k real + spoofed, table 65536", 65536, 2000000, 900, 10000, rounds);
    run("flood 90%: 10k real + spoofed, table 1024", 1024, 2000000, 900, 10000, rounds);
    return 0;
}
