/*
 * np_slots: the partitions a worker owns, as slots. Input partition p is slot p,
 * repartition partition p is slot nin + p (ARCHITECTURE.md "Re-keying") and connection
 * topic partition p (kdd.model) slot kbase + p, after both; partials,
 * progress and checkpoints all speak in slots. Per owned slot it holds the event-time
 * state (np_pane), the outbox of unacknowledged partials, the fencing epoch, a repartition
 * slot's memory of its inputs (np_rekey), what the last progress reported, idleness, lag
 * and the incremental checkpoint writer's memory (np_ckpt_writer).
 *
 * I/O-free: the worker's loop does Kafka, ZeroMQ and Redis around it. Not thread-safe:
 * one owner, the worker's consumer thread (the rebalance callback runs on it too).
 */
#ifndef NP_SLOTS_H
#define NP_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np_ckpt_writer.h"
#include "np_idle.h"
#include "np_outbox.h"
#include "np_pane.h"
#include "np_partial.h"
#include "np_rekey.h"

typedef struct np_slot {
    np_partstate_t *ps;       /* NULL: not owned */
    np_outbox_t outbox;       /* partials sent, not yet acknowledged */
    int64_t epoch;            /* fencing epoch held for the slot's checkpoint */
    np_rekey_t *rekey;        /* repartition slots: memory of the inputs; else NULL */
    int64_t marker_wm;        /* input slots: watermark last announced to the repartition topic */
    int64_t sent_closed;      /* closed_through in the last progress sent */
    bool dirty;               /* a pane closed since the last checkpoint */
    np_idle_t idle;           /* evidence of idleness: position, log end, last record */
    int64_t lag;              /* records behind the high watermark, -1: unknown */
    np_ckpt_writer_t ckpt;    /* which checkpoint parts are in Redis */
} np_slot_t;

typedef struct np_slots {
    const char *topic;        /* borrowed */
    const char *rtopic;       /* borrowed; NULL when re-keying is off */
    const char *ktopic;       /* borrowed; connection topic, NULL when off */
    int32_t nin;              /* input partitions */
    int32_t kbase;            /* first connection-topic slot: nin, or 2 * nin with re-keying */
    int32_t total;            /* slots: kbase + the connection topic's partitions */
    np_slot_t *s;             /* total entries */
    size_t outbox_items;      /* over every owned slot */
    /* Scratch for one progress message, filled by np_slots_progress_add. */
    size_t nprog;
    np_partstate_t **prog_parts;
    uint8_t *prog_idle;
    int64_t *prog_closed;
    np_progress_claim_t *prog_claims;
} np_slots_t;

/* Slots for nin input partitions (and as many repartition ones when rtopic is not NULL,
 * then nconn of the connection topic when ktopic is not NULL); the topic names are
 * borrowed. NULL on allocation failure. */
np_slots_t *np_slots_new(const char *topic, const char *rtopic, int32_t nin, const char *ktopic, int32_t nconn);
/* Drops every owned slot and frees the table. */
void np_slots_destroy(np_slots_t **sl);

/* The slot of a topic partition, or -1 when it is not one of ours. */
int32_t np_slots_of(const np_slots_t *sl, const char *topic, int32_t partition);
const char *np_slots_topic(const np_slots_t *sl, int32_t slot);
int32_t np_slots_partition(const np_slots_t *sl, int32_t slot);
static inline bool np_slots_rekeyed(const np_slots_t *sl, int32_t slot) { return slot >= sl->nin && slot < sl->kbase; }
/* The owned slot, or NULL (not owned, or out of range). */
np_slot_t *np_slots_get(np_slots_t *sl, int32_t slot);

/* Prepares an unowned slot to be filled (empty outbox; a repartition slot's np_rekey).
 * Returns 0, -1 on allocation failure. */
int np_slots_prepare(np_slots_t *sl, int32_t slot);
/* Makes the prepared slot owned with state ps (taken) and whatever its outbox holds now
 * (a restored checkpoint's), as freshly active at monotonic time now. */
void np_slots_adopt(np_slots_t *sl, int32_t slot, np_partstate_t *ps, int64_t now);
/* Forgets the slot: state, outbox, re-keying memory, checkpoint writer; also a prepared
 * slot never adopted (a restore given up). */
void np_slots_drop(np_slots_t *sl, int32_t slot);

/* Queues a closed pane's partial (copied) for acknowledgement and marks the slot for a
 * checkpoint. min_offset: the smallest offset among the pane's records (np_pane_t's; -1
 * when it took none). Returns 0, -1 on allocation failure. */
int np_slots_push_partial(np_slots_t *sl, int32_t slot, int64_t pane_start, int64_t min_offset, const uint8_t *buf,
                          size_t len);
/* The coordinator acknowledged (slot, pane): true when it was waiting. */
bool np_slots_ack(np_slots_t *sl, int32_t slot, int64_t pane_start);

/* The offset the group may commit for the owned slot: never past a record of an open pane
 * (np_partstate_safe_offset) or of a closed pane whose partial the coordinator has not
 * acknowledged, so an owner that starts there without a checkpoint loses no record
 * (ARCHITECTURE.md "Committed offsets"). -1: nothing may be committed (nothing consumed,
 * or a partial restored from a checkpoint, whose records' offsets are not known, waits). */
int64_t np_slots_commit_offset(const np_slots_t *sl, int32_t slot);
/* How far the slot may claim its panes closed: never past a pane whose partial the
 * coordinator has not acknowledged. */
int64_t np_slots_reportable_closed(const np_slots_t *sl, int32_t slot);
/* True when some owned slot can report more than its last progress said. */
bool np_slots_progress_moved(const np_slots_t *sl);
/* Idle on evidence (np_idle_is): the log end, asked idle_ms or more after the last record
 * and at most fresh_ms before now, was at the position consumed. */
bool np_slots_idle(const np_slots_t *sl, int32_t slot, int64_t now, int64_t idle_ms, int64_t fresh_ms);
/* True when an input slot's watermark wm crossed a pane boundary since its last marker. */
bool np_slots_marker_due(const np_slots_t *sl, int32_t slot, int64_t wm, int64_t pane_ms);

/* Adds the owned slot to the progress being built (its reportable closed_through, which
 * becomes sent_closed, its idleness and its claim). */
void np_slots_progress_add(np_slots_t *sl, int32_t slot, bool idle);
/* Encodes the progress built since the last call (np_progress_encode) and starts a new
 * one. Returns 1 with *out set, 0 when no slot was added, -1 on allocation failure. */
int np_slots_progress_encode(np_slots_t *sl, np_partial_enc_t *enc, const char *worker_id, const char *session,
                             const uint8_t **out, size_t *out_len);

#endif
