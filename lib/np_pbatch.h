/*
 * np_pbatch: the partials a coordinator has accepted and not yet stored, merged or
 * acknowledged: its group commit (ARCHITECTURE.md, Coordinator). The coordinator adds the
 * accepted partials of one drain of its socket (at most max of them, or until max_bytes),
 * stores them in one Redis transaction (np_coordstore_flush_partials), merges them, marks
 * the settled ones and sends each worker one acknowledgement for all of its
 * (np_pbatch_acks). Owns the decoded messages it holds. I/O-free; not thread-safe (the
 * coordinator's loop).
 */
#ifndef NP_PBATCH_H
#define NP_PBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netpulse.pb-c.h"

typedef struct np_pbatch_item {
    Netpulse__WorkerMsg *m; /* a WorkerMsg{partial}, owned */
    uint8_t peer[256];      /* the sender's ZeroMQ routing id (at most 255 bytes) */
    size_t peer_len, raw_len;
    bool repeat;            /* the same (partition, pane) came earlier in the batch: not stored twice */
    bool ack;               /* settled: to acknowledge (set by the caller) */
} np_pbatch_item_t;

typedef struct np_pbatch np_pbatch_t;

/* A batch of at most max partials (>= 1), full at max_bytes of raw messages. NULL when
 * out of memory. */
np_pbatch_t *np_pbatch_new(size_t max, size_t max_bytes);
/* Frees what it holds too. */
void np_pbatch_destroy(np_pbatch_t **b);

/* The bytes a batch of max items takes itself (its arrays; not the messages it holds). */
uint64_t np_pbatch_bound_bytes(size_t max);

/* Takes m (raw_len bytes as received) from peer; the batch owns m from now on. Returns
 * the item, or NULL when the batch is full (m not taken). */
np_pbatch_item_t *np_pbatch_add(np_pbatch_t *b, const uint8_t *peer, size_t peer_len, Netpulse__WorkerMsg *m,
                                size_t raw_len);
/* Takes the last item out again and frees its message. */
void np_pbatch_drop_last(np_pbatch_t *b);
/* True when the batch holds max partials or max_bytes: flush it now. */
bool np_pbatch_full(const np_pbatch_t *b);
size_t np_pbatch_len(const np_pbatch_t *b);
np_pbatch_item_t *np_pbatch_at(np_pbatch_t *b, size_t i);

/* Calls fn once per peer that has items with ack set, with their ids in arrival order
 * (peers in the order of their first such item). ids is valid during the call. */
typedef void (*np_pbatch_ack_fn)(void *ctx, const uint8_t *peer, size_t peer_len, Netpulse__PartialId **ids, size_t n);
void np_pbatch_acks(np_pbatch_t *b, np_pbatch_ack_fn fn, void *ctx);

/* Frees every message and empties the batch. */
void np_pbatch_clear(np_pbatch_t *b);

#endif
