/*
 * np_resultbox: the coordinator's results that the gateway has not acknowledged yet, a
 * ring in emission order. Results stay here until the gateway says they are in Kafka;
 * the unacknowledged ones are re-sent after resend_ms, and when the ring is full the
 * coordinator stops finalising panes (back-pressure) rather than drop a result.
 * In memory only: the Redis copy is np_coordstore's. Not for the worker's partials
 * (np_outbox). Not thread-safe: owned by the coordinator's loop.
 */
#ifndef NP_RESULTBOX_H
#define NP_RESULTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np_result.h"

typedef struct np_resultbox_item {
    char id[NP_RESULT_ID_MAX];
    uint8_t *json; /* owned; NULL once acknowledged */
    size_t len;
    char type[16];
    int64_t start, end; /* the result's window, event time ms */
    int64_t sent_mono;  /* last sent (monotonic ms), 0 = never */
} np_resultbox_item_t;

typedef struct np_resultbox np_resultbox_t;

/* A ring of cap results (cap >= 1). NULL when out of memory. */
np_resultbox_t *np_resultbox_new(size_t cap);
/* The most a ring of cap results of at most json_max bytes each holds. For np_budget. */
size_t np_resultbox_bound_bytes(size_t cap, size_t json_max);
/* Frees every result and the ring, and NULLs *b. */
void np_resultbox_destroy(np_resultbox_t **b);

size_t np_resultbox_len(const np_resultbox_t *b);
size_t np_resultbox_cap(const np_resultbox_t *b);
/* The k-th result from the oldest (k < len); the pointer is valid until the next push,
 * ack, clear or sort. */
np_resultbox_item_t *np_resultbox_at(np_resultbox_t *b, size_t k);

/* Appends a copy of json (never sent yet). Returns the item, or NULL when the ring is
 * full or out of memory. */
np_resultbox_item_t *np_resultbox_push(np_resultbox_t *b, const char *id, const char *type, int64_t start,
                                       int64_t end, const uint8_t *json, size_t len);

/* The gateway acknowledged id: frees it and drops the acknowledged results at the head.
 * Returns true when id was waiting (acks arrive in order almost always; otherwise the
 * ring is searched). */
bool np_resultbox_ack(np_resultbox_t *b, const char *id);

/* Frees every result (before a reload from Redis). */
void np_resultbox_clear(np_resultbox_t *b);

/* Orders the results by window (start, then end): a reload from Redis returns them in
 * hash order. */
void np_resultbox_sort(np_resultbox_t *b);

/* The first run of results due for (re-)sending at now (never sent, or sent resend_ms or
 * more ago): returns how many and sets *first (an index for np_resultbox_at); 0 if none. */
size_t np_resultbox_due(np_resultbox_t *b, int64_t now, int64_t resend_ms, size_t *first);

#endif
