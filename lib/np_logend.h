/*
 * np_logend: the log ends (high watermarks) of a fixed list of partitions, asked in a
 * thread of its own, so that the thread that wants them (the worker's consumer thread,
 * np_idle's evidence) never waits for a broker.
 *
 * Why a thread and not a synchronous query: on the consumer's own handle a ListOffsets
 * request queues behind the long-polling Fetch on the same broker connection (a broker
 * answers one request per connection at a time), so on a quiet stream each query took
 * fetch.wait.max.ms (500 ms); one per owned partition blocked the consumer for seconds
 * per round, and records and watermark markers waited unconsumed (it.0100 found every
 * repartition partition a round of markers behind). The worker's ask function uses the
 * producer's connections instead; the thread keeps even a slow or absent broker off the
 * consumer thread.
 *
 * Rounds: at most one every every_ms, and only after np_logend_want since the last one.
 * Each partition keeps its latest answer with the monotonic time the round was asked
 * (read before the request, so the answer describes the log at some moment after it).
 *
 * The ask function runs on the np_logend thread only; np_logend_want/get/stats may be
 * called from any one other thread (the owner). new and destroy belong to the owner.
 */
#ifndef NP_LOGEND_H
#define NP_LOGEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fills ends[i] with partition i's log end, or -1 where it is not known; returns 0, or -1
 * when the round failed as a whole (nothing in ends is used). Blocks at most timeout_ms. */
typedef int (*np_logend_ask_fn)(void *ctx, int64_t *ends, size_t n, int timeout_ms);

typedef struct np_logend np_logend_t;

typedef struct np_logend_stats {
    uint64_t rounds;   /* rounds asked */
    uint64_t failed;   /* rounds that failed as a whole */
} np_logend_stats_t;

/* Starts the thread for n partitions (ask(ctx, ...) does the asking; ctx is borrowed and
 * must outlive the np_logend). NULL on allocation or thread failure. */
np_logend_t *np_logend_new(size_t n, np_logend_ask_fn ask, void *ctx, int64_t every_ms, int timeout_ms);

/* Asks for a round: it starts at once, or every_ms after the previous one began. */
void np_logend_want(np_logend_t *le);

/* Partition i's latest answer: true with *end and *asked_ms (monotonic ms) set, false when
 * no round has answered for it yet. */
bool np_logend_get(np_logend_t *le, size_t i, int64_t *end, int64_t *asked_ms);

np_logend_stats_t np_logend_stats(np_logend_t *le);

/* No new round from now on; returns at once (destroy then waits only for the round in
 * flight, at most timeout_ms). */
void np_logend_stop(np_logend_t *le);

/* Stops the thread, waits for it, frees; NULLs *le. */
void np_logend_destroy(np_logend_t **le);

#endif
