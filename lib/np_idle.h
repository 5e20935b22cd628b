/*
 * np_idle: when a partition may be called idle (and follow the global watermark).
 *
 * Idle means the *log* has been quiet for idle_ms, not that this process saw nothing for
 * idle_ms: a consumer that is descheduled, whose fetch has not returned yet, or whose
 * records wait in a local queue, sees nothing too, and a partition declared idle then
 * follows the global watermark and turns its own records late. So the rule needs
 * evidence, not the absence of events:
 *
 *   idle  <=>  the log end (high watermark) was asked at time t_end, answered end <= the
 *              position consumed here, and t_end - (last record, or assignment) >= idle_ms,
 *              and that answer is at most fresh_ms old.
 *
 * An answer asked before the last record (or before the assignment) proves nothing and
 * never makes the partition idle; neither does a partition-EOF event alone, which only
 * says the log ended *when that fetch was answered*. Until the first fetch result after
 * an assignment or restore the position is unknown, and the partition is not idle.
 *
 * Times are processing (monotonic) milliseconds passed in by the caller: I/O-free and
 * clock-free, one owner (the worker's consumer thread).
 */
#ifndef NP_IDLE_H
#define NP_IDLE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct np_idle {
    int64_t active_ms;  /* last record taken, or the assignment */
    int64_t position;   /* next offset to consume as far as this process knows; -1: unknown */
    int64_t end;        /* log end offset (high watermark) as answered; -1: unknown */
    int64_t end_asked_ms; /* when that answer was asked for (before sending the request) */
} np_idle_t;

/* A partition just assigned or restored: nothing consumed, nothing known. */
void np_idle_reset(np_idle_t *s, int64_t now_ms);

/* A record at `offset` was taken at now_ms. */
void np_idle_record(np_idle_t *s, int64_t offset, int64_t now_ms);

/* The batch that began at batch_start_ms (when its first record was taken, the time passed
 * to np_idle_record for all of its records: one clock read per batch) ended at
 * batch_end_ms: a partition that took a record in it counts as active until batch_end_ms.
 * Records later in a batch can have been appended after batch_start_ms (the consumer
 * descheduled mid-batch, the fetcher filling the queue meanwhile); without this, the log
 * could be quiet for less than idle_ms when the partition is called idle. */
void np_idle_settle(np_idle_t *s, int64_t batch_start_ms, int64_t batch_end_ms);

/* Something at `offset` was consumed that is not a record for idleness (a watermark marker):
 * moves the position only. */
void np_idle_consumed(np_idle_t *s, int64_t offset);

/* The consumer reached the end of the log: the next offset is `next_offset`. */
void np_idle_eof(np_idle_t *s, int64_t next_offset);

/* The log end was `end` when asked at asked_ms (an older answer than the one held is ignored). */
void np_idle_end(np_idle_t *s, int64_t end, int64_t asked_ms);

/* True when the partition is known to have been caught up with a quiet log for idle_ms,
 * by an answer at most fresh_ms old at now_ms. */
bool np_idle_is(const np_idle_t *s, int64_t now_ms, int64_t idle_ms, int64_t fresh_ms);

/* True when asking for the log end now could make (or keep) the partition idle: the
 * position is known, nothing was taken for idle_ms, and the answer held was asked too
 * early to prove idleness or is older than every_ms. Saves a round trip per tick. */
bool np_idle_should_ask(const np_idle_t *s, int64_t now_ms, int64_t idle_ms, int64_t every_ms);

#endif
