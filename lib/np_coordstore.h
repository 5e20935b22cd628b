/*
 * np_coordstore: the coordinator's state in Redis, so that a restarted (or reloaded)
 * coordinator goes on where the last one stopped, with the same result ids. It owns the
 * key layout and the frames; the coordinator decides when to write and what to restore.
 *
 *   netpulse:coord:{NAME}:panes        SET of pane starts that have persisted partials
 *   netpulse:coord:{NAME}:pane:START   HASH partition -> the WorkerMsg{Partial} as received,
 *                                      framed (np_crc32, "NPP" v1) so damage is found on restore
 *   netpulse:coord:{NAME}:pane:quarantine  HASH "START/PARTITION" -> a damaged stored partial
 *   netpulse:coord:{NAME}:meta         HASH next_emit -> first pane not yet published;
 *                                      window_first -> the sliding window's first pane
 *   netpulse:coord:{NAME}:outbox       HASH result id -> Result not yet acknowledged by the gateway
 *   netpulse:coord:{NAME}:final:START  STRING a final pane, kept while a sliding window covers it
 *   netpulse:coord:{NAME}:detect       STRING detector state (DetectState) after next_emit - 1
 *   netpulse:coord:{NAME}:known        HASH 16-byte source address -> "share_pm,hosts,ports" learnt
 * One hash tag, so every transaction stays within one Redis Cluster slot.
 *
 * Accepted partials are group-committed: the coordinator stages the partials it drained
 * from its socket (np_coordstore_stage_partial) and stores them in one MULTI/EXEC
 * (np_coordstore_flush_partials: one SADD of their panes, one HSET per pane with every
 * staged partition of it), sent in one round trip, before it merges and acknowledges any.
 * A finalize round is one MULTI/EXEC: np_coordstore_begin, the np_coordstore_add_* /
 * drop / keep / set calls, np_coordstore_commit. Not for the in-memory result ring
 * (np_resultbox) nor the workers' checkpoints (np_ckpt). Borrows the np_store_t; not
 * thread-safe (the coordinator's loop).
 */
#ifndef NP_COORDSTORE_H
#define NP_COORDSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netpulse.pb-c.h"
#include "np_detect.h"
#include "np_store.h"

typedef struct np_coordstore np_coordstore_t;

/* State named name (the state.name option) in store, which the caller keeps open for the
 * coordstore's life. NULL when out of memory. */
np_coordstore_t *np_coordstore_new(np_store_t *store, const char *name);
void np_coordstore_destroy(np_coordstore_t **cs);

/* ---- writes outside a finalize round ---- */

/* The bytes the stage of a group commit of up to max partials takes besides their framed
 * bytes: entries and transaction argv, grown by doubling (so up to twice what is used). */
uint64_t np_coordstore_stage_bound_bytes(size_t max);

/* Stages one accepted partial (raw: the WorkerMsg as received; copied, framed) for the
 * next np_coordstore_flush_partials. A partition staged twice for a pane is stored once,
 * the later copy. Returns 0, or -1 (out of memory) with errstr: then it is not staged. */
int np_coordstore_stage_partial(np_coordstore_t *cs, int64_t pane_start, int32_t partition, const uint8_t *raw,
                                size_t len, char *errstr, size_t errlen);
/* Partials staged, and their framed bytes. */
size_t np_coordstore_staged(const np_coordstore_t *cs);
size_t np_coordstore_staged_bytes(const np_coordstore_t *cs);
/* Stores every staged partial under its pane, and the panes in the pane set, in one
 * transaction, and empties the stage (also on failure). Returns 0 when Redis applied all
 * of it (nothing staged: 0 without a round trip), -1 with errstr otherwise: then none of
 * them may be taken as stored (none acknowledged; the workers re-send them). */
int np_coordstore_flush_partials(np_coordstore_t *cs, char *errstr, size_t errlen);
/* The same in two steps, so that the coordinator decodes the next partials while Redis
 * applies these (np_store_txn_send): np_coordstore_send_partials sends the transaction
 * and empties the stage (1: sent; 0: nothing staged, nothing sent; -1 with errstr: not
 * sent, none stored), np_coordstore_wait_partials reads its outcome (as
 * np_coordstore_flush_partials's) once, after a send that returned 1. Other calls on the
 * store in between are fine (they read the outcome first and keep it). np_coordstore_fd:
 * the Redis socket, to poll for the outcome (-1: none). */
int np_coordstore_send_partials(np_coordstore_t *cs, char *errstr, size_t errlen);
int np_coordstore_wait_partials(np_coordstore_t *cs, char *errstr, size_t errlen);
int np_coordstore_fd(const np_coordstore_t *cs);
/* Stages one partial and flushes (it and whatever was staged before). 0 or -1 with errstr. */
int np_coordstore_put_partial(np_coordstore_t *cs, int64_t pane_start, int32_t partition, const uint8_t *raw,
                              size_t len, char *errstr, size_t errlen);
/* The gateway acknowledged result id: forget it. Returns 0 or -1 with errstr. */
int np_coordstore_ack(np_coordstore_t *cs, const char *id, char *errstr, size_t errlen);

/* ---- a finalize round: one transaction ---- */

void np_coordstore_begin(np_coordstore_t *cs);
/* A result to keep until acknowledged. */
void np_coordstore_add_result(np_coordstore_t *cs, const char *id, const char *type, int64_t start, int64_t end,
                              const uint8_t *json, size_t len);
/* A final pane: its partials are no longer needed. */
void np_coordstore_drop_pane(np_coordstore_t *cs, int64_t start);
/* A final pane's merged aggregate (np_partial_encode_gpane), kept while a sliding window
 * covers it; the one at forget_start has left the window. */
void np_coordstore_keep_final(np_coordstore_t *cs, int64_t start, const uint8_t *buf, size_t len,
                              int64_t forget_start);
/* Known sources the detectors learnt (n of them; nothing is written for n == 0). */
void np_coordstore_add_known(np_coordstore_t *cs, const np_ip_t *ips, const np_known_t *vals, size_t n);
void np_coordstore_set_next_emit(np_coordstore_t *cs, int64_t next_emit);
void np_coordstore_set_window_first(np_coordstore_t *cs, int64_t first);
void np_coordstore_set_detect(np_coordstore_t *cs, const uint8_t *state, size_t len);
/* Returns 0 when Redis applied the whole round, -1 with errstr otherwise (then nothing
 * was applied, or the connection broke: the caller reloads). */
int np_coordstore_commit(np_coordstore_t *cs, char *errstr, size_t errlen);

/* ---- restore ---- */

typedef struct np_coordstore_meta {
    bool has_next_emit, has_window_first;
    int64_t next_emit, window_first;
} np_coordstore_meta_t;
int np_coordstore_load_meta(np_coordstore_t *cs, np_coordstore_meta_t *out, char *errstr, size_t errlen);

/* Calls fn for every stored partial, pane by pane. A damaged one (bad frame, or not a
 * WorkerMsg{Partial}) is moved to the quarantine hash, logged and counted in
 * *quarantined (not merged: its data is missing from that pane). Returns 0 or -1. */
typedef void (*np_coordstore_partial_fn)(void *ctx, const Netpulse__Partial *p);
int np_coordstore_each_partial(np_coordstore_t *cs, np_coordstore_partial_fn fn, void *ctx, size_t *quarantined,
                               char *errstr, size_t errlen);

/* The final pane kept for start into a malloc'd *buf. Returns 0 found, 1 absent, -1 error. */
int np_coordstore_get_final(np_coordstore_t *cs, int64_t start, uint8_t **buf, size_t *len, char *errstr,
                            size_t errlen);

/* Detector state: decode(ctx, buf, len) gets the stored blob when there is one (it
 * returns < 0 when it cannot read it: an error naming the key), then known(ctx, ...) each
 * known source. Returns 0 or -1. */
typedef int (*np_coordstore_blob_fn)(void *ctx, const uint8_t *buf, size_t len);
int np_coordstore_load_detect(np_coordstore_t *cs, np_coordstore_blob_fn decode, np_detect_known_fn known, void *ctx,
                              char *errstr, size_t errlen);

/* Results not yet acknowledged, in hash order (the caller sorts them). */
typedef void (*np_coordstore_result_fn)(void *ctx, const char *id, const char *type, int64_t start, int64_t end,
                                        const uint8_t *json, size_t len);
int np_coordstore_each_result(np_coordstore_t *cs, np_coordstore_result_fn fn, void *ctx, char *errstr,
                              size_t errlen);

#endif
