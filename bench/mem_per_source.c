/*
 * bench/mem_per_source: memory per active source per pane in the worker's pane state.
 *
 * Feeds N distinct sources (each with R records to D destinations) into one partition's
 * open pane, exactly as the worker does (np_partstate_add), and reports the resident
 * memory growth divided by N, next to what np_partstate_memory_bytes accounts for.
 * Usage: np-bench-mem [--json] [N ...]   (default 100000 1000000; --json: one JSON object a
 * line, for bench/run.sh)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_record.h"
#include "np_pane.h"

static long rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
        fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

static int json;

static void run(size_t n, int records_per_source, int dsts) {
    np_hll_pool_t *pool = np_hll_pool_new(NP_HLL_P_DEFAULT, 65536);
    np_pane_config_t cfg = {.pane_ms = 5000, .lateness_ms = 2000, .max_open_panes = 4, .max_sources = n + 1, .pool = pool};
    long before = rss_bytes();
    np_partstate_t *ps = np_partstate_new(0, &cfg);
    np_record_t r;
    bench_record_init(&r, 100, 1);
    int64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(&r.src.b[12], &i, 4);
        for (int k = 0; k < records_per_source; k++) {
            r.dst.b[15] = (uint8_t)(k % dsts);
            r.dst_port = (uint16_t)(443 + k % dsts);
            np_partstate_add(ps, &r, off++, NULL, NULL, NULL);
        }
    }
    long after = rss_bytes();
    if (json)
        printf("{\"sources\":%zu,\"records_per_source\":%d,\"rss_growth_per_source\":%.1f,"
               "\"accounted_per_source\":%.1f,\"table_slots\":%zu}\n",
               n, records_per_source, (double)(after - before) / (double)n,
               (double)np_partstate_memory_bytes(ps) / (double)n, np_srcmap_capacity(ps->ring[0].sources));
    else
        printf("sources=%zu records/source=%d dsts/source=%d rss_growth_per_source=%.1f B accounted_per_source=%.1f B "
           "sketch_blocks=%zu\n",
           n, records_per_source, dsts, (double)(after - before) / (double)n,
           (double)np_partstate_memory_bytes(ps) / (double)n, np_hll_pool_blocks_used(pool));
    np_partstate_destroy(&ps);
    np_hll_pool_destroy(&pool);
}

int main(int argc, char **argv) {
    size_t def[] = {100000, 1000000};
    if (argc > 1 && strcmp(argv[1], "--json") == 0) {
        json = 1;
        argc--;
        argv++;
    }
    size_t nn = argc > 1 ? (size_t)(argc - 1) : 2;
    for (size_t i = 0; i < nn; i++) {
        size_t n = argc > 1 ? strtoull(argv[i + 1], NULL, 10) : def[i];
        run(n, 1, 1);
        run(n, 3, 3);
    }
    return 0;
}
