/*
 * np_ckpt: a partition's checkpoint — its event-time state (np_pane), the offset to
 * resume from, and its outbox of unacknowledged partials — as one versioned protobuf
 * value (PartitionCheckpoint in proto/netpulse.proto). I/O-free: bytes in, state out.
 * Storing it atomically with fencing is np_store's job.
 *
 * Format evolution: proto3 field rules plus a `version` field; a reader refuses a newer
 * major version and a checkpoint written with a different pane length (the panes would
 * not line up), and says why.
 *
 * Version 1 is one value holding everything (np_ckpt_encode). Version 2 is incremental:
 * a small head (np_ckpt_encode_head) lists the partition's parts, each its own key under
 * the same hash tag: an open pane as a changelog of frames (np_ckpt_encode_pane: the
 * first with every entry, each later one with the entries changed since), and each
 * unacknowledged partial (np_ckpt_encode_out). Version 3 is version 2 whose kept panes
 * (np_srcwin: bounded partials' sliding window and np_pair) are parts too
 * (np_ckpt_encode_win), written once each instead of in every head. np_ckpt_writer decides
 * what to write; np_ckpt_decode_parts reads every version.
 */
#ifndef NP_CKPT_H
#define NP_CKPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np_outbox.h"
#include "np_pane.h"

#define NP_CKPT_VERSION 3       /* the newest this code reads and writes (np_ckpt_encode_head with kept panes) */
#define NP_CKPT_VERSION_PARTS 2 /* np_ckpt_encode_head without kept panes */
#define NP_CKPT_VERSION_FULL 1 /* one value, everything inline (np_ckpt_encode) */
/* Stored values are framed (np_crc32): "NPC", frame version, CRC-32, protobuf. Unframed
 * values (written before the frame existed) are still read. */
#define NP_CKPT_MAGIC "NPC"
#define NP_CKPT_FRAME_VERSION 1
#define NP_CKPT_PANE_MAGIC "NPF" /* a frame of a pane part */
#define NP_CKPT_OUT_MAGIC "NPO"  /* an outbox part */
#define NP_CKPT_WIN_MAGIC "NPW"  /* a kept pane's part (np_srcwin) */

/* The kinds of version-2 parts. */
enum { NP_CKPT_PART_OUT = 0, NP_CKPT_PART_PANE = 1, NP_CKPT_PART_WIN = 2 };

/* np_ckpt_decode's failures */
#define NP_CKPT_REFUSED (-1) /* usable by a worker configured otherwise (pane.ms, newer version) */
#define NP_CKPT_CORRUPT (-2) /* damaged: bad checksum, undecodable, inconsistent; quarantine it */
#define NP_CKPT_IO (-3)      /* a part could not be read (the store failed): try again later */

struct np_ckpt_writer;
struct np_partial_enc;

/* Encodes into a malloc'd buffer the caller frees. Returns 0, or -1 on allocation failure. */
/* source_offsets and source_watermarks (n_sources entries each, or NULL): a repartition
 * partition's memory of its input partitions. */
int np_ckpt_encode(const np_partstate_t *ps, const char *topic, int64_t epoch, const np_outbox_t *ob,
                   const int64_t *source_offsets, const int64_t *source_watermarks, size_t n_sources,
                   int64_t wall_ms, uint8_t **out, size_t *out_len);

/* Decodes a checkpoint for (topic, partition). On success *ps_out is a new partition
 * state built with cfg (the caller owns it) and ob (initialised, empty) holds the
 * outbox. Returns 0, or NP_CKPT_REFUSED / NP_CKPT_CORRUPT with errstr saying why the
 * checkpoint cannot be used. Safe on any bytes (fuzzed). */
/* source_offsets / source_watermarks (n_sources entries each, may be NULL) receive the
 * stored ones; entries the checkpoint does not hold are set to -1 / NP_TS_NONE. */
int np_ckpt_decode(const uint8_t *buf, size_t len, const np_pane_config_t *cfg, const char *topic,
                   int32_t partition, np_partstate_t **ps_out, np_outbox_t *ob, int64_t *epoch_out,
                   int64_t *source_offsets, int64_t *source_watermarks, size_t n_sources, char *errstr,
                   size_t errlen);

/* Version 2. A part's key is the head's key, ':' and the suffix this writes into buf
 * (at least 32 bytes): "pane:<start>", "out:<start>" or "win:<start>" (kind: NP_CKPT_PART_*). */
void np_ckpt_part_suffix(char *buf, size_t len, int kind, int64_t start);

/* An open pane's part as the head lists it. */
typedef struct np_ckpt_pane_ref {
    int64_t start;
    uint64_t bytes;  /* the part's length */
    uint32_t frames;
} np_ckpt_pane_ref_t;

/* Encodes a version-2 head: the partition's scalars and re-keying memory (as
 * np_ckpt_encode), the pane parts, the outbox parts and the kept panes' parts (pane
 * starts) it consists of. Framed like version 1. malloc'd; returns 0 or -1. */
int np_ckpt_encode_head(const np_partstate_t *ps, const char *topic, int64_t epoch, const int64_t *source_offsets,
                        const int64_t *source_watermarks, size_t n_sources, int64_t wall_ms,
                        const np_ckpt_pane_ref_t *panes, size_t npanes, const int64_t *outs, size_t nouts,
                        const int64_t *wins, size_t nwins, uint8_t **out, size_t *out_len);

/* Encodes slot i of ps's kept panes (np_srcwin_slot: a pane start, not NP_SRCWIN_NONE) as
 * its part: an NPW frame of a PaneState. malloc'd; returns 0 or -1. */
int np_ckpt_encode_win(const np_partstate_t *ps, size_t i, uint8_t **out, size_t *out_len);

/* Encodes one frame of pane p's part (4-byte little-endian length, then an NPF frame of a
 * PaneState): every entry, or (delta) only those changed since the last frame, with the
 * pane's totals, `other`, evictions and views in full either way. Clears the change
 * marks of p's tables. enc's buffers are reused. malloc'd; returns 0 or -1. */
int np_ckpt_encode_pane(struct np_partial_enc *enc, np_pane_t *p, bool delta, uint8_t **out, size_t *out_len);

/* Frames an outbox partial as its part. malloc'd; returns 0 or -1. */
int np_ckpt_encode_out(const uint8_t *partial, size_t len, uint8_t **out, size_t *out_len);

/* Gets the part stored under the head's key + ':' + suffix: 0 with *data (malloc'd, the
 * decoder frees it) and *len, 1 when there is none, -1 when it cannot be read now. */
typedef int (*np_ckpt_get_part_fn)(void *ctx, const char *suffix, uint8_t **data, size_t *len);

/* np_ckpt_decode for either version: a version-2 head's parts come from get_part (NULL:
 * a head that has parts is refused as corrupt). A part the head lists that is missing,
 * damaged or not the length the head says makes the checkpoint NP_CKPT_CORRUPT; a part
 * that cannot be read, NP_CKPT_IO. On success w (may be NULL) learns which parts are
 * stored, so that the next checkpoint replaces or deletes them. */
int np_ckpt_decode_parts(const uint8_t *buf, size_t len, np_ckpt_get_part_fn get_part, void *ctx,
                         const np_pane_config_t *cfg, const char *topic, int32_t partition, np_partstate_t **ps_out,
                         np_outbox_t *ob, int64_t *epoch_out, int64_t *source_offsets, int64_t *source_watermarks,
                         size_t n_sources, struct np_ckpt_writer *w, char *errstr, size_t errlen);

#endif
