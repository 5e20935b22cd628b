/*
 * libFuzzer target for what the coordinator takes from the network and from Redis: a
 * WorkerMsg (partial or progress) decoded into the group commit's arena as the coordinator
 * decodes it (np_pbatch_unpack; under ASan what it gives back is poisoned) and merged
 * (np_merge with every bound on: slot
 * limit, wall clock, views), the ownership check (np_owner) on its claims, a stored final
 * pane (np_partial_decode_gpane), and a ResultBatch as the gateway reads it. Must never
 * crash, leak or trip a sanitizer; np_merge's counters must add up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netpulse.pb-c.h"
#include "np_merge.h"
#include "np_owner.h"
#include "np_partial.h"
#include "np_pane.h"
#include "np_pbatch.h"

static np_merge_t *M;
static np_hll_pool_t *POOL;
static np_owner_t *OWN;
static np_viewset_t VS;
static np_gpane_t G;
static np_pbatch_t *B;

static void init(void) {
    char err[128];
    POOL = np_hll_pool_new(NP_HLL_P_DEFAULT, 64);
    if (np_viewset_parse(&VS, "web: proto=tcp and dport=80,443 by dst/24; dns: proto=udp by src/16,proto", err,
                         sizeof err) < 0)
        abort();
    np_merge_config_t mc = {.pane_ms = 5000, .max_panes = 8, .max_sources = 256, .max_dests = 256,
                            .max_empty_run = 4, .pool = POOL, .views = &VS, .max_groups = 64,
                            .max_partitions = 64, .max_future_ms = 300000, .max_class_dests = 8,
                            .fanin_registers = 1024, .fanin_s = 16}; /* pools merged too */
    M = np_merge_new(&mc);
    OWN = np_owner_new(64);
    G.seen = calloc(1, NP_MERGE_MAX_PARTITIONS / 8);
    G.sources = np_srcmap_new(256, POOL);
    B = np_pbatch_new(4, 1 << 20);
    if (!M || !OWN || !G.seen || !G.sources || !B) abort();
}

static void sink(void *ctx, const np_gpane_t *gp) {
    (void)ctx;
    if (gp->start_ms % 5000 != 0) abort(); /* only aligned panes are ever emitted */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!M) init();
    np_merge_set_wall_clock(M, 1700000000000);
    Netpulse__WorkerMsg *m = np_pbatch_unpack(B, data, size);
    if (m && m->body_case == NETPULSE__WORKER_MSG__BODY_PARTIAL) {
        np_merge_result_t want = np_merge_check_partial(M, m->partial);
        /* accepted ones wait in the batch, as the coordinator's do, until it is full */
        if (want == NP_MERGE_OK) np_pbatch_add(B, (const uint8_t *)"p", 1, m, size);
        if (np_merge_add_partial(M, m->partial) != want) abort();
    } else if (m && m->body_case == NETPULSE__WORKER_MSG__BODY_PROGRESS) {
        for (size_t i = 0; i < m->progress->n_partitions; i++) {
            const Netpulse__PartitionProgress *pp = m->progress->partitions[i];
            if (np_owner_claim(OWN, pp->partition, (const uint8_t *)"p", 1, pp->epoch, m->session, (int64_t)i) ==
                NP_OWNER_LOOKUP)
                np_owner_confirm(OWN, pp->partition, (const uint8_t *)"p", 1, pp->epoch, m->session, m->worker_id,
                                 strlen(m->worker_id));
            np_merge_progress(M, pp, 0);
        }
        np_merge_set_partitions(M, m->progress->partitions_total);
        if (np_merge_partitions(M) > 64) abort();
    }
    np_pbatch_release(B); /* what the batch did not take */
    if (np_pbatch_full(B)) np_pbatch_clear(B);
    np_merge_global_watermark(M, 0);
    np_merge_finalize(M, 4, sink, NULL);
    np_merge_stats_t st;
    np_merge_get_stats(M, &st);
    if (st.open_panes > 8) abort();

    np_srcmap_clear(G.sources);
    np_partial_decode_gpane(data, size, &G, POOL);
    Netpulse__ResultBatch *b = netpulse__result_batch__unpack(NULL, size, data);
    if (b) netpulse__result_batch__free_unpacked(b, NULL);
    return 0;
}
