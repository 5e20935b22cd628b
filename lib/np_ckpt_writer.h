/*
 * np_ckpt_writer: incremental checkpoints of one partition (format: np_ckpt.h, version
 * 2). It remembers which parts the last stored checkpoint consists of and plans the next
 * one as a head plus operations on parts:
 *
 *   - an open pane never written, or due for a rewrite: its part is SET to one full frame;
 *   - an open pane that took records since: one delta frame (only the entries changed,
 *     np_srcmap's change marks) is APPENDed, Redis checking the part's length first;
 *   - an open pane that took nothing: nothing;
 *   - a pane that closed, an acknowledged partial: its part is DELeted;
 *   - a partial not yet stored: SET once (partials never change);
 *   - a kept pane (np_srcwin) not yet stored: SET once (it does not change while kept);
 *     one that left the ring: DELeted.
 *
 * Every policy.full_every-th checkpoint (and the first after a restore or a failed write,
 * when what Redis holds is unknown) rewrites every part in full: the periodic full
 * snapshot. A pane whose tables evicted a source since its last frame (np_srcmap's
 * Space-Saving gives the entry to another source) is rewritten too: the evicted source's
 * values in older frames must not come back on restore. A pane part is also rewritten
 * once it holds policy.max_frames frames or its
 * deltas outweigh two full frames of the pane as it is now (estimated from the first
 * frame's bytes per entry), so a restore reads at most about three times the pane.
 *
 * The caller stores the batch (head + parts) with one fenced Lua call
 * (np_store_fenced_write) and reports the outcome with np_ckpt_writer_done. I/O-free; one
 * owner (the worker's loop).
 */
#ifndef NP_CKPT_WRITER_H
#define NP_CKPT_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np_ckpt.h"
#include "np_partial.h"

/* A part the writer believes is stored. */
typedef struct np_ckpt_stored {
    int64_t start;     /* pane start */
    uint64_t adds;     /* pane parts: the pane's adds (np_pane_t) when last written;
                          kept pane parts: its slot's np_srcwin_slot_gen */
    uint64_t base;     /* pane parts: bytes of the first frame */
    uint64_t base_entries; /* pane parts: source and destination entries in it */
    uint64_t evicted;  /* pane parts: evictions in its tables when last written */
    uint64_t bytes;    /* the part's length */
    uint32_t frames;   /* pane parts: frames in it */
    uint8_t kind;      /* NP_CKPT_PART_PANE, _OUT or _WIN */
    bool known;        /* false: content unknown (after a restore or a failed write) */
} np_ckpt_stored_t;

/* One operation on a part, under the head's key + ':' + suffix. */
typedef struct np_ckpt_part {
    char suffix[40];
    char op;           /* 'S' set, 'A' append, 'D' delete */
    uint64_t expect;   /* 'A': the part's length before, checked by the store */
    uint8_t *data;     /* owned; NULL for 'D' */
    size_t len;
} np_ckpt_part_t;

typedef struct np_ckpt_policy {
    uint32_t full_every; /* every Nth checkpoint rewrites every part; 1: always; 0: only when needed */
    uint32_t max_frames; /* a pane part with this many frames is rewritten (>= 1) */
} np_ckpt_policy_t;

typedef struct np_ckpt_writer {
    np_ckpt_stored_t *stored, *next; /* sorted by (pane, start) */
    size_t nstored, cap_stored, nnext, cap_next;
    bool full_next;
    uint32_t since_full;             /* checkpoints stored since the last full one */
    np_partial_enc_t *enc;           /* reused frame buffers */
    /* The planned batch, valid until np_ckpt_writer_done. */
    uint8_t *head;
    size_t head_len;
    np_ckpt_part_t *parts;
    size_t nparts, cap_parts;
    bool batch_full;
    size_t batch_bytes;              /* head + every part's data */
    uint32_t panes_full, panes_delta; /* pane frames in the batch */
} np_ckpt_writer_t;

void np_ckpt_writer_init(np_ckpt_writer_t *w);
void np_ckpt_writer_free(np_ckpt_writer_t *w);

/* Records a part found in a restored checkpoint: stored, content unknown, so the next
 * checkpoint is a full one and deletes it unless it is still current. */
void np_ckpt_writer_adopt(np_ckpt_writer_t *w, int kind, int64_t start);

/* Plans the next checkpoint of ps (whose change marks it clears) with outbox ob and the
 * re-keying memory (arrays of n_sources, or NULL). Returns 0 with w->head and w->parts
 * set, or -1 on allocation failure (then a full checkpoint follows). */
int np_ckpt_writer_plan(np_ckpt_writer_t *w, np_partstate_t *ps, const char *topic, int64_t epoch,
                        const np_outbox_t *ob, const int64_t *source_offsets, const int64_t *source_watermarks,
                        size_t n_sources, int64_t wall_ms, const np_ckpt_policy_t *pol);

/* The planned batch was stored (true) or not (false: Redis may hold it, part of it under
 * another owner's fence, or nothing; the next checkpoint rewrites every part). Frees it. */
void np_ckpt_writer_done(np_ckpt_writer_t *w, bool stored);

#endif
