/*
 * np_budget: the coordinator's worst-case memory, computed from its effective
 * configuration, so that "every map is bounded" adds up to one stated figure that an
 * operator can hold against a budget (memory.budget.mb) before the process takes traffic.
 *
 * The figure is the sum of components, one per table or buffer the coordinator holds,
 * each at its cap: the open panes' tables (sources, destinations, the partitions' window
 * tops, views, NSL-KDD classes), the sliding window's panes, the sketch pool, the
 * detectors' known sources, the result outbox, the encoder of final panes, one message
 * being decoded, and the fixed part (progress per partition, owners, the process itself).
 * Bytes per entry come from the modules that own the layouts (np_srcmap_bound_bytes,
 * np_merge_bound, ...), not from guesses here. Whole source tables and bounded partials
 * cost the same here: the coordinator cannot know the workers' partial.top.sources, so
 * max.sources.per.pane is the cap it enforces while merging (evictions are counted) and
 * the one budgeted; with bounded partials it can be set to partitions x (partial.top.sources
 * + partial.max.candidates) and the figure shrinks with it.
 *
 * Not counted (see ARCHITECTURE.md, Memory budget): ZeroMQ's receive queues beyond the
 * message in hand (zmq.rcvhwm messages per connected worker) and Redis replies while
 * restoring state.
 *
 * I/O-free, no allocation; thread-safe (pure functions).
 */
#ifndef NP_BUDGET_H
#define NP_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np_detect.h"
#include "np_merge.h"

/* libc, libzmq, libmicrohttpd and hiredis, thread stacks and malloc's own use: an
 * allowance (an idle coordinator measured 2 MiB VmHWM; ZeroMQ adds buffers per peer). */
#define NP_BUDGET_PROCESS_BYTES ((uint64_t)16 << 20)

/* A decoded (unpacked) protobuf message takes at most this many times its wire size in
 * the arena the coordinator decodes into (np_pbatch, np_arena: no malloc chunk headers):
 * the densest partial a worker sends (one record per source) takes 5.25x with empty
 * sketches and 6.39x without (bounded partials' destinations; 7.5x through malloc;
 * tests/unit/test_budget.c measures them). Not a bound for a crafted
 * message of empty entries (2 bytes on the wire, a whole struct unpacked), which is
 * decoded before the owner check: against those, CURVE and zmq.max.message.bytes. */
#define NP_BUDGET_UNPACK_FACTOR 7

/* Panes one finalize round emits at most: its Redis transaction holds every one of them
 * (results, known sources and, with a sliding window, the encoded pane), so this bounds
 * it; a backlog (after a restart) drains over several rounds. */
#define NP_BUDGET_FINALIZE_PANES 16

typedef enum {
    NP_BUDGET_PANE_SOURCES = 0, /* open panes x source table */
    NP_BUDGET_PANE_DESTS,       /* open panes x destination table */
    NP_BUDGET_PANE_WINDOW_TOP,  /* open panes x the partitions' sliding-window tops */
    NP_BUDGET_PANE_VIEWS,       /* open panes x views x groups */
    NP_BUDGET_PANE_CLASSES,     /* open panes x NSL-KDD class table */
    NP_BUDGET_PANE_FANIN,       /* open panes x bounded partials' fan-in pool (np_vhll) */
    NP_BUDGET_WINDOW,           /* the sliding window's final panes and its output */
    NP_BUDGET_HLL_POOL,         /* dense sketch blocks, shared by every table */
    NP_BUDGET_DETECT,           /* detectors: rings, known sources, per-pane changes */
    NP_BUDGET_OUTBOX,           /* results awaiting the gateway's acknowledgement */
    NP_BUDGET_ENCODER,          /* a final pane encoded for Redis, and the restore scratch */
    NP_BUDGET_REDIS_TXN,        /* one finalize round's Redis transaction, as hiredis buffers it */
    NP_BUDGET_MESSAGE,          /* one received message, packed and unpacked */
    NP_BUDGET_GROWTH,           /* the largest table doubling (old and new slots at once) */
    NP_BUDGET_FIXED,            /* progress per partition, pane headers, owners, the process */
    NP_BUDGET__COUNT
} np_budget_part_t;

/* The coordinator's effective configuration, as far as memory goes. */
typedef struct np_budget_config {
    const np_merge_config_t *merge;   /* open panes and their caps (views, window_ms inside) */
    const np_detect_config_t *detect; /* NULL: detection off */
    size_t hll_blocks;                /* hll.pool.blocks */
    unsigned hll_p;                   /* the pool's precision */
    size_t outbox_max;                /* outbox.max */
    size_t views_top;                 /* views.top: group results per view and pane */
    bool persist;                     /* Redis on: final panes are encoded and restored */
    bool owners;                      /* owner.check on */
    size_t max_message_bytes;         /* zmq.max.message.bytes */
    size_t rcvhwm;                    /* zmq.rcvhwm */
    size_t batch_max, batch_bytes;    /* persist.batch.max, .bytes: one group commit (0: none) */
} np_budget_config_t;

typedef struct np_budget {
    uint64_t part[NP_BUDGET__COUNT];
    uint64_t total;
    /* Not in total: what libzmq may queue for each connected worker (zmq.rcvhwm messages of
     * up to zmq.max.message.bytes), a queue that is libzmq's, with no cap on the peers. */
    uint64_t zmq_queue_per_peer;
} np_budget_t;

/* Fills b with every component at its cap and their sum. */
void np_budget_compute(const np_budget_config_t *c, np_budget_t *b);

/* A component's short name ("pane_sources"): the `component` label of its gauge. */
const char *np_budget_part_name(np_budget_part_t p);
/* The configuration keys that set it ("max.open.panes x max.sources.per.pane"). */
const char *np_budget_part_keys(np_budget_part_t p);

/* 0 when budget_bytes is 0 (report only) or b->total fits; otherwise -1 with errstr
 * naming memory.budget.mb, the computed figure and the keys of the largest components. */
int np_budget_check(const np_budget_t *b, uint64_t budget_bytes, char *errstr, size_t errlen);

/* "pane_sources=123 pane_dests=456 ... total=789 zmq_queue_per_worker=12" (bytes), for the
 * start-up log line.
 * Returns the length snprintf would have written. */
size_t np_budget_format(const np_budget_t *b, char *buf, size_t len);

#endif
