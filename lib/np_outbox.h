/*
 * np_outbox: the partials a worker has sent for one partition but the coordinator has not
 * acknowledged yet. They are re-sent with exponential back-off until acknowledged, and
 * they are part of the partition's checkpoint, so a worker that dies after closing a pane
 * still delivers it after restart. Bounded: when the worker's outboxes together hold too
 * much, it pauses consumption (back-pressure) instead of dropping anything.
 * Not thread-safe: owned by the worker's loop.
 */
#ifndef NP_OUTBOX_H
#define NP_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* np_outbox_item_t.min_offset when not known: a partial restored from a checkpoint, whose
 * format keeps the partial, not the offsets of its pane's records. */
#define NP_OUTBOX_OFFSET_UNKNOWN (-1)
/* np_outbox_item_t.min_offset of a pane that took no record (a window-only partial). */
#define NP_OUTBOX_NO_RECORDS INT64_MAX

typedef struct np_outbox_item {
    int64_t pane_start;
    int64_t min_offset; /* smallest Kafka offset among the pane's records (np_slots_commit_offset) */
    uint8_t *data;      /* encoded WorkerMsg{Partial}, owned */
    size_t len;
    int64_t next_send;  /* monotonic ms */
    uint32_t attempts;
} np_outbox_item_t;

typedef struct np_outbox {
    np_outbox_item_t *items;
    size_t n, cap;
} np_outbox_t;

void np_outbox_init(np_outbox_t *ob);
void np_outbox_free(np_outbox_t *ob);

/* Copies data; the item is due immediately. min_offset: the smallest offset among the
 * pane's records, NP_OUTBOX_NO_RECORDS or NP_OUTBOX_OFFSET_UNKNOWN. Returns 0, -1 on
 * allocation failure. */
int np_outbox_push(np_outbox_t *ob, int64_t pane_start, int64_t min_offset, const uint8_t *data, size_t len);

/* Removes the item for pane_start; returns true if there was one. */
bool np_outbox_ack(np_outbox_t *ob, int64_t pane_start);

/* Back-off after a send: 250 ms doubling per attempt, capped at max_ms. */
void np_outbox_sent(np_outbox_item_t *it, int64_t now_ms, int64_t max_ms);

#endif
