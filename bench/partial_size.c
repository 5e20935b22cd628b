/*
 * bench/partial_size: bytes per partial and the coordinator's merge-and-finalize time per
 * pane, whole source tables against bounded partials (np_cand, np_srcwin), as the number of
 * sources grows.
 *
 * 12 partitions; every source (sharded by address) sends 2 flows per pane to 2 of 1000
 * destinations, for 13 panes: each partition's partials encoded (bytes), decoded and
 * merged into the coordinator's panes, then the panes finalised into pane windows and 60 s
 * sliding windows with their JSON (time per pane). Bounded partials carry
 * the top 10 by bytes, the detector candidates (none pass here: ordinary sources) and the
 * partition's 60 s window results; learning is over (the steady state). Three modes per
 * size: whole tables, bounded with a distinct-source sketch per destination (as before
 * np_vhll), and bounded with the destinations' fan-in in one np_vhll pool (the default
 * fanin.pool.registers / fanin.registers.per.dest) and counters-only destinations.
 * Finalising includes reading every destination's fan-in (what the DDoS detector does).
 *
 * Usage: np-bench-partial [SOURCES...]   (default 10000 100000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "np_cand.h"
#include "np_partial.h"
#include "np_result.h"
#include "np_srcwin.h"
#include "np_strbuf.h"
#include "np_window.h"

#define NPARTS 12
#define PANE 5000
#define WINDOW 60000
#define PANES 13

typedef struct bench {
    bool bounded;
    np_vhll_t *fanin; /* bounded partials' scratch pool (NULL: per-destination sketches) */
    np_cand_config_t cand;
    np_partial_enc_t enc;
    const np_srcagg_t **sel, *wsel[10];
    np_merge_t *merge;
    size_t bytes, partials;
    double merge_s;
} bench_t;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void emit(void *ctx, np_partstate_t *ps, const np_pane_t *pane, uint64_t late) {
    bench_t *b = ctx;
    if (!b->bounded && !pane->records) return;
    np_partial_bounded_t pb = {0};
    if (b->bounded) {
        pb.sel = b->sel;
        pb.nsel = np_cand_select(&b->cand, pane->sources, pane->bytes, pane->packets, b->sel,
                                 b->cand.top + b->cand.max_candidates, &pb.dropped);
        const np_srcmap_t *u = np_srcwin_union(ps->win, pane->start_ms, pane->sources);
        pb.window_ms = WINDOW;
        pb.window_only = pane == &ps->empty;
        pb.window_sources = np_srcmap_count(u);
        pb.win_top = b->wsel;
        pb.nwin_top = np_cand_top(u, 10, b->wsel);
        pb.fanin = b->fanin;
    }
    const uint8_t *buf;
    size_t len;
    if (np_partial_encode_sel(&b->enc, "bench", ps->partition, pane, PANE, late, b->bounded ? &pb : NULL, &buf, &len) < 0)
        abort();
    b->bytes += len;
    b->partials++;
    double t0 = now_s();
    Netpulse__WorkerMsg *m = netpulse__worker_msg__unpack(NULL, len, buf);
    if (!m || np_merge_add_partial(b->merge, m->partial) != NP_MERGE_OK) abort();
    netpulse__worker_msg__free_unpacked(m, NULL);
    b->merge_s += now_s() - t0;
}

typedef struct fin {
    np_window_t *win;
    np_strbuf_t sb;
    uint64_t fanin_sum; /* keeps the reads */
} fin_t;

static void on_final(void *ctx, const np_gpane_t *gp) {
    fin_t *f = ctx;
    char id[64];
    /* Every destination's fan-in, as detect_dests reads it. */
    const np_vhll_t *pool = gp->fanin && np_vhll_used(gp->fanin) ? gp->fanin : NULL;
    double noise = pool ? np_vhll_noise(pool) : 0;
    for (size_t i = 0; gp->dests && i < np_srcmap_slots(gp->dests); i++) {
        const np_srcagg_t *e = np_srcmap_slot(gp->dests, i);
        if (e) f->fanin_sum += np_hll_estimate(&e->dst_ips) + (pool ? np_vhll_estimate(pool, &e->ip, noise) : 0);
    }
    np_result_window_json(&f->sb, gp, PANE, id, sizeof(id));
    const np_gpane_t *w = np_window_push(f->win, gp);
    if (w) np_result_window_json(&f->sb, w, WINDOW, id, sizeof(id));
}

static void run(size_t sources, bool bounded, bool fanin) {
    np_hll_pool_t *pool = np_hll_pool_new(NP_HLL_P_DEFAULT, 1 << 20);
    np_pane_config_t pc = {.pane_ms = PANE, .lateness_ms = 0, .max_open_panes = 4, .max_sources = sources,
                           .max_dests = 4096, .pool = pool, .window_ms = bounded ? WINDOW : 0};
    np_merge_config_t mc = {.pane_ms = PANE, .max_panes = 32, .max_sources = sources * 2, .max_dests = 65536,
                            .max_empty_run = 3, .pool = pool, .window_ms = WINDOW,
                            .fanin_registers = fanin ? NP_VHLL_M_DEFAULT : 0, .fanin_s = NP_VHLL_S_DEFAULT};
    bench_t b = {.bounded = bounded, .merge = np_merge_new(&mc),
                 .fanin = fanin ? np_vhll_new(NP_VHLL_M_DEFAULT, NP_VHLL_S_DEFAULT, NULL, 0) : NULL};
    np_detect_config_t dc;
    np_detect_config_default(&dc, PANE);
    np_cand_config_from_detect(&b.cand, &dc, 10, 1024);
    b.cand.learn_panes = 0;
    b.sel = calloc(b.cand.top + b.cand.max_candidates, sizeof(*b.sel));
    np_partial_enc_init(&b.enc);
    np_partstate_t *parts[NPARTS];
    for (int p = 0; p < NPARTS; p++) parts[p] = np_partstate_new(p, &pc);
    np_record_t r = {0};
    r.proto = 6;
    r.dst_port = 443;
    for (int pane = 0; pane < PANES; pane++)
        for (size_t i = 0; i < sources; i++)
            for (int f = 0; f < 2; f++) {
                uint32_t s = 0x0a000000u + (uint32_t)i, d = 0xc0a80000u + (uint32_t)((i * 7 + (size_t)f) % 1000);
                r.src.b[10] = r.src.b[11] = r.dst.b[10] = r.dst.b[11] = 0xff;
                for (int k = 0; k < 4; k++) {
                    r.src.b[12 + k] = (uint8_t)(s >> (24 - 8 * k));
                    r.dst.b[12 + k] = (uint8_t)(d >> (24 - 8 * k));
                }
                r.ts_ms = (int64_t)pane * PANE + (int64_t)(i % PANE);
                r.bytes = 100 + (i * 31 + (size_t)pane) % 5000;
                r.packets = 1 + i % 7;
                np_partstate_add(parts[i % NPARTS], &r, 0, emit, &b, NULL);
            }
    for (int p = 0; p < NPARTS; p++) {
        np_partstate_follow(parts[p], PANES * PANE);
        np_partstate_advance(parts[p], emit, &b);
        Netpulse__PartitionProgress pp = NETPULSE__PARTITION_PROGRESS__INIT;
        pp.partition = p;
        pp.closed_through_ms = pp.watermark_ms = PANES * PANE;
        pp.has_data = true;
        np_merge_progress(b.merge, &pp, 0);
    }
    fin_t f = {.win = np_window_new(PANE, WINDOW, sources * 2, pool)};
    np_strbuf_init(&f.sb);
    double t0 = now_s();
    np_merge_finalize(b.merge, 100, on_final, &f);
    double fin_s = now_s() - t0;
    printf("%-8s sources=%-8zu partial_bytes_mean=%-9zu coordinator_ms_per_pane: merge=%-8.2f finalize=%.2f\n",
           fanin ? "fanin" : bounded ? "bounded" : "whole", sources, b.partials ? b.bytes / b.partials : 0, b.merge_s * 1000 / PANES,
           fin_s * 1000 / PANES);
    np_strbuf_free(&f.sb);
    np_window_destroy(&f.win);
    for (int p = 0; p < NPARTS; p++) np_partstate_destroy(&parts[p]);
    free(b.sel);
    np_partial_enc_free(&b.enc);
    np_merge_destroy(&b.merge);
    np_vhll_destroy(&b.fanin);
    np_hll_pool_destroy(&pool);
}

int main(int argc, char **argv) {
    size_t def[] = {10000, 100000};
    int n = argc > 1 ? argc - 1 : 2;
    for (int i = 0; i < n; i++) {
        size_t s = argc > 1 ? strtoull(argv[i + 1], NULL, 10) : def[i];
        run(s, false, false);
        run(s, true, false);
        run(s, true, true);
    }
    return 0;
}
