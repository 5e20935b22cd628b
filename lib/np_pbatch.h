/*
 * np_pbatch: the partials a coordinator has accepted and not yet stored, merged or
 * acknowledged: its group commit (ARCHITECTURE.md, Coordinator). The coordinator decodes
 * every message of one drain of its socket into the batch's arena (np_pbatch_unpack: no
 * malloc or free per message or field in a steady state), adds the accepted partials (at
 * most max of them, or until max_bytes), stores them in one Redis transaction
 * (np_coordstore_flush_partials: the bytes as received), merges them, marks the settled
 * ones and sends each worker one acknowledgement for all of its (np_pbatch_acks), then
 * clears the batch, which gives back every decoded message at once. Repeats and peers are
 * found through hash tables, so a batch of n costs O(n). I/O-free; not thread-safe (the
 * coordinator's loop).
 */
#ifndef NP_PBATCH_H
#define NP_PBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netpulse.pb-c.h"
#include "np_arena.h"

typedef struct np_pbatch_item {
    Netpulse__WorkerMsg *m; /* a WorkerMsg{partial} in the batch's arena */
    uint8_t peer[256];      /* the sender's ZeroMQ routing id (at most 255 bytes) */
    size_t peer_len, raw_len;
    bool repeat;            /* the same (partition, pane) came earlier in the batch: not stored twice */
    bool ack;               /* settled: to acknowledge (set by the caller) */
    np_arena_mark_t mark;   /* the arena before m: np_pbatch_drop_last */
    uint32_t key_slot;      /* its (partition, pane) in the repeat table; UINT32_MAX: a repeat */
} np_pbatch_item_t;

typedef struct np_pbatch np_pbatch_t;

/* The arena's block: decoded messages of a drain share blocks of this size. */
#define NP_PBATCH_ARENA_BLOCK (1u << 20)

/* A batch of at most max partials (>= 1, <= 2^30), full at max_bytes of raw messages.
 * NULL when out of memory. */
np_pbatch_t *np_pbatch_new(size_t max, size_t max_bytes);
/* Frees what it holds too. */
void np_pbatch_destroy(np_pbatch_t **b);

/* The bytes a batch of max items takes itself (its arrays and tables; not the arena, see
 * np_arena_bound_bytes, nor the messages). */
uint64_t np_pbatch_bound_bytes(size_t max);

/* Decodes a WorkerMsg (len bytes) into the batch's arena (np_wmsg_decode: protobuf-c's
 * semantics, bytes fields pointing into the arena's copy of buf, so buf may go at once). The message lives until
 * np_pbatch_release (when it is not added) or np_pbatch_clear: the caller passes it to
 * np_pbatch_add, or calls np_pbatch_release before the next unpack. NULL when the bytes are
 * not a WorkerMsg (or memory is short); nothing is kept then. */
Netpulse__WorkerMsg *np_pbatch_unpack(np_pbatch_t *b, const uint8_t *buf, size_t len);
/* Gives back the last unpacked message unless np_pbatch_add took it. */
void np_pbatch_release(np_pbatch_t *b);

/* Takes m, the last np_pbatch_unpack's message (raw_len bytes as received) from peer.
 * Returns the item, or NULL when the batch is full (m not taken: np_pbatch_release). */
np_pbatch_item_t *np_pbatch_add(np_pbatch_t *b, const uint8_t *peer, size_t peer_len, Netpulse__WorkerMsg *m,
                                size_t raw_len);
/* Takes the last item out again and gives back its message. */
void np_pbatch_drop_last(np_pbatch_t *b);
/* True when the batch holds max partials or max_bytes: flush it now. */
bool np_pbatch_full(const np_pbatch_t *b);
size_t np_pbatch_len(const np_pbatch_t *b);
np_pbatch_item_t *np_pbatch_at(np_pbatch_t *b, size_t i);

/* Calls fn once per peer that has items with ack set, with their ids in arrival order
 * (peers in the order of their first such item). ids is valid during the call. */
typedef void (*np_pbatch_ack_fn)(void *ctx, const uint8_t *peer, size_t peer_len, Netpulse__PartialId **ids, size_t n);
void np_pbatch_acks(np_pbatch_t *b, np_pbatch_ack_fn fn, void *ctx);

/* Empties the batch and gives back every message decoded since the last clear (also one
 * unpacked and not yet added or released). */
void np_pbatch_clear(np_pbatch_t *b);

/* The arena's use and what it holds (bytes), and its blocks malloc'd so far. */
size_t np_pbatch_arena_used(const np_pbatch_t *b);
size_t np_pbatch_arena_held(const np_pbatch_t *b);
uint64_t np_pbatch_arena_mallocs(const np_pbatch_t *b);

#endif
