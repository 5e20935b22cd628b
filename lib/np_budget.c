/* np_budget: the coordinator's worst-case memory. See np_budget.h. */
#include "np_budget.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "np_arena.h"
#include "np_classmap.h"
#include "np_coordstore.h"
#include "np_owner.h"
#include "np_partial.h"
#include "np_pbatch.h"
#include "np_result.h"
#include "np_resultbox.h"
#include "np_srcmap.h"
#include "np_view.h"
#include "np_window.h"

static const struct {
    const char *name, *keys;
} parts[NP_BUDGET__COUNT] = {
    [NP_BUDGET_PANE_SOURCES] = {"pane_sources", "max.open.panes x max.sources.per.pane"},
    [NP_BUDGET_PANE_DESTS] = {"pane_dests", "max.open.panes x max.dests.per.pane"},
    [NP_BUDGET_PANE_WINDOW_TOP] = {"pane_window_top", "max.open.panes x max.sources.per.pane (window.ms > pane.ms)"},
    [NP_BUDGET_PANE_VIEWS] = {"pane_views", "max.open.panes x views x views.max.groups"},
    [NP_BUDGET_PANE_CLASSES] = {"pane_classes", "max.open.panes x kdd.max.dests.per.pane"},
    [NP_BUDGET_PANE_FANIN] = {"pane_fanin", "max.open.panes x fanin.pool.registers"},
    [NP_BUDGET_WINDOW] = {"window", "window.ms / pane.ms x max.sources.per.pane"},
    [NP_BUDGET_HLL_POOL] = {"hll_pool", "hll.pool.blocks"},
    [NP_BUDGET_DETECT] = {"detect", "detect.max.known.sources, max.sources.per.pane"},
    [NP_BUDGET_OUTBOX] = {"outbox", "outbox.max"},
    [NP_BUDGET_ENCODER] = {"final_pane_encoder", "max.sources.per.pane (redis.port > 0, window.ms > pane.ms)"},
    [NP_BUDGET_REDIS_TXN] = {"redis_txn", "max.sources.per.pane, views.top, detect.max.alerts (redis.port > 0)"},
    [NP_BUDGET_MESSAGE] = {"message", "zmq.max.message.bytes, persist.batch.bytes, persist.batch.max"},
    [NP_BUDGET_GROWTH] = {"growth", "the largest of max.sources.per.pane, max.dests.per.pane, views.max.groups"},
    [NP_BUDGET_FIXED] = {"fixed", "max.open.panes, max.partitions"},
};

const char *np_budget_part_name(np_budget_part_t p) { return p < NP_BUDGET__COUNT ? parts[p].name : "?"; }
const char *np_budget_part_keys(np_budget_part_t p) { return p < NP_BUDGET__COUNT ? parts[p].keys : "?"; }

/* The results one final pane can queue: two windows, the views' top groups, the
 * anomalies and a forecast (the coordinator's results_per_pane). */
static size_t results_per_pane(const np_budget_config_t *c) {
    size_t nviews = c->merge->views ? c->merge->views->n : 0;
    return 2 + nviews * c->views_top + (c->detect ? c->detect->max_alerts + 1 : 0);
}

/* Dense sketches one table can hold: two per entry, and never more than the pool has. */
static size_t dense_max(const np_budget_config_t *c, size_t entries) {
    return 2 * entries < c->hll_blocks ? 2 * entries : c->hll_blocks;
}

static void detect_part(const np_budget_config_t *c, np_budget_t *b) {
    if (!c->detect) return;
    size_t srcs = c->merge->max_sources;
    /* + the coordinator's anomaly array and its batch of changed known sources */
    b->part[NP_BUDGET_DETECT] = np_detect_bound_bytes(c->detect, srcs) + c->detect->max_alerts * sizeof(np_anomaly_t) +
                                2 * srcs * (sizeof(np_ip_t) + sizeof(np_known_t));
}

static void redis_parts(const np_budget_config_t *c, np_budget_t *b) {
    const np_merge_config_t *m = c->merge;
    bool win = m->window_ms > m->pane_ms;
    if (!c->persist) return;
    if (win) /* the encoder of final panes, and restore_window's scratch pane */
        b->part[NP_BUDGET_ENCODER] = np_partial_gpane_enc_bound_bytes(m->max_sources, dense_max(c, m->max_sources), c->hll_p) +
                                     np_srcmap_bound_bytes(m->max_sources, false) + sizeof(np_gpane_t) +
                                     NP_MERGE_MAX_PARTITIONS / 8;
    /* Every pane of the round queues its results; only panes that had data (open panes:
     * at most max.open.panes of them) carry sources to encode and known sources to save.
     * Those panes were all open at once, so their dense sketches together are at most the
     * pool's blocks. */
    uint64_t results = (uint64_t)results_per_pane(c) * (NP_RESULT_JSON_MAX + NP_RESULT_ID_MAX + 64), data = 0;
    size_t with_data = m->max_panes < NP_BUDGET_FINALIZE_PANES ? m->max_panes : NP_BUDGET_FINALIZE_PANES;
    if (win) {
        uint64_t bare = np_partial_gpane_wire_bound_bytes(m->max_sources, 0, c->hll_p);
        uint64_t per_dense = np_partial_gpane_wire_bound_bytes(m->max_sources, 1, c->hll_p) - bare;
        uint64_t dense = 2 * (uint64_t)m->max_sources * with_data;
        data += with_data * bare + per_dense * (dense < c->hll_blocks ? dense : c->hll_blocks);
    }
    if (c->detect) data += with_data * 2 * (uint64_t)m->max_sources * (sizeof(np_ip_t) + sizeof(np_known_t) + 8);
    /* hiredis formats each command (one copy) and appends it to its output buffer (the
     * other; past 1 MiB an sds grows by 1 MiB, not by doubling). */
    b->part[NP_BUDGET_REDIS_TXN] = 2 * (NP_BUDGET_FINALIZE_PANES * results + data) + ((uint64_t)1 << 20);
}

static uint64_t max3(uint64_t a, uint64_t b, uint64_t c) {
    uint64_t m = a > b ? a : b;
    return m > c ? m : c;
}

void np_budget_compute(const np_budget_config_t *c, np_budget_t *b) {
    const np_merge_config_t *m = c->merge;
    memset(b, 0, sizeof(*b));
    np_merge_bound_t mb;
    np_merge_bound(m, &mb);
    b->part[NP_BUDGET_PANE_SOURCES] = mb.sources;
    b->part[NP_BUDGET_PANE_DESTS] = mb.dests;
    b->part[NP_BUDGET_PANE_WINDOW_TOP] = mb.window_top;
    b->part[NP_BUDGET_PANE_VIEWS] = mb.views;
    b->part[NP_BUDGET_PANE_CLASSES] = mb.classes;
    b->part[NP_BUDGET_PANE_FANIN] = mb.fanin;
    if (m->window_ms > m->pane_ms) b->part[NP_BUDGET_WINDOW] = np_window_bound_bytes(m->pane_ms, m->window_ms, m->max_sources);
    b->part[NP_BUDGET_HLL_POOL] = (uint64_t)c->hll_blocks << c->hll_p;
    detect_part(c, b);
    /* the ring, a batch of up to 256 results being sent (unpacked and packed), the JSON
     * being built */
    b->part[NP_BUDGET_OUTBOX] = np_resultbox_bound_bytes(c->outbox_max, NP_RESULT_JSON_MAX) +
                                256 * (2 * (uint64_t)NP_RESULT_JSON_MAX + 2 * NP_RESULT_ID_MAX + 256) + NP_RESULT_JSON_MAX;
    redis_parts(c, b);
    /* The message in hand, packed (libzmq's) and decoded; and the accepted partials of one
     * group commit (np_pbatch: it closes at batch_max of them or once it reaches
     * batch_bytes, so at most batch_bytes plus one message), decoded, and with Redis on
     * three more copies: the framed bytes staged for Redis, hiredis's formatted command and
     * its output buffer while one pane's HSET is appended; plus the batch's and the stage's
     * own arrays. Decoded messages share the batch's arena, which holds at most
     * np_arena_bound_bytes of what they use. Two batches live at once: the one filling
     * and the one sent, whose transaction Redis applies meanwhile (its decoded messages
     * and arrays; its bytes have left hiredis's buffer by then, and the stage is empty). */
    uint64_t held = (uint64_t)c->batch_bytes + c->max_message_bytes, by_count = (uint64_t)c->batch_max * c->max_message_bytes;
    if (by_count < held) held = by_count;
    uint64_t decoded = (held + c->max_message_bytes) * NP_BUDGET_UNPACK_FACTOR;
    uint64_t batches = c->batch_max && c->persist ? 2 : 1; /* without Redis one is settled at once */
    b->part[NP_BUDGET_MESSAGE] = (uint64_t)c->max_message_bytes +
                                 batches * np_arena_bound_bytes(NP_PBATCH_ARENA_BLOCK, decoded) + held * (c->persist ? 3 : 0);
    if (c->batch_max)
        b->part[NP_BUDGET_MESSAGE] += batches * np_pbatch_bound_bytes(c->batch_max) +
                                      (c->persist ? np_coordstore_stage_bound_bytes(c->batch_max) : 0);
    size_t k = m->window_ms > m->pane_ms ? (size_t)(m->window_ms / m->pane_ms) : 1;
    uint64_t src_growth = np_srcmap_bound_bytes(m->max_sources * k, true) - np_srcmap_bound_bytes(m->max_sources * k, false);
    uint64_t dst_growth = m->max_dests ? np_srcmap_bound_bytes(m->max_dests, true) - np_srcmap_bound_bytes(m->max_dests, false) : 0;
    size_t nviews = m->views ? m->views->n : 0;
    uint64_t view_growth = nviews ? np_viewaggs_bound_bytes(1, m->max_groups, true) - np_viewaggs_bound_bytes(1, m->max_groups, false) : 0;
    b->part[NP_BUDGET_GROWTH] = max3(src_growth, dst_growth, view_growth);
    b->part[NP_BUDGET_FIXED] = mb.fixed + (c->owners ? np_owner_bound_bytes(NP_MERGE_MAX_PARTITIONS) : 0) +
                               NP_BUDGET_PROCESS_BYTES;
    for (int i = 0; i < NP_BUDGET__COUNT; i++) b->total += b->part[i];
    b->zmq_queue_per_peer = (uint64_t)c->rcvhwm * c->max_message_bytes;
}

int np_budget_check(const np_budget_t *b, uint64_t budget_bytes, char *errstr, size_t errlen) {
    if (budget_bytes == 0 || b->total <= budget_bytes) return 0;
    /* The three largest components: what to lower first. */
    int top[3] = {-1, -1, -1};
    for (int i = 0; i < NP_BUDGET__COUNT; i++)
        for (int k = 0; k < 3; k++)
            if (b->part[i] && (top[k] < 0 || b->part[i] > b->part[top[k]])) {
                for (int j = 2; j > k; j--) top[j] = top[j - 1];
                top[k] = i;
                break;
            }
    int n = snprintf(errstr, errlen, "memory.budget.mb: the caps add up to %" PRIu64 " MiB (%" PRIu64
                     " bytes), over the budget of %" PRIu64 " MiB; largest:",
                     (b->total + (1 << 20) - 1) >> 20, b->total, budget_bytes >> 20);
    for (int k = 0; k < 3 && top[k] >= 0 && n > 0 && (size_t)n < errlen; k++)
        n += snprintf(errstr + n, errlen - (size_t)n, "%s %s = %" PRIu64 " MiB (%s)", k ? "," : "", parts[top[k]].name,
                      (b->part[top[k]] + (1 << 20) - 1) >> 20, parts[top[k]].keys);
    return -1;
}

size_t np_budget_format(const np_budget_t *b, char *buf, size_t len) {
    size_t n = 0;
    for (int i = 0; i < NP_BUDGET__COUNT; i++) {
        int w = snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, "%s=%" PRIu64 " ", parts[i].name, b->part[i]);
        if (w > 0) n += (size_t)w;
    }
    int w = snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, "total=%" PRIu64 " zmq_queue_per_worker=%" PRIu64,
                     b->total, b->zmq_queue_per_peer);
    return w > 0 ? n + (size_t)w : n;
}
