/*
 * np_ckpt: a partition's checkpoint — its event-time state (np_pane), the offset to
 * resume from, and its outbox of unacknowledged partials — as one versioned protobuf
 * value (PartitionCheckpoint in proto/netpulse.proto). I/O-free: bytes in, state out.
 * Storing it atomically with fencing is np_store's job.
 *
 * Format evolution: proto3 field rules plus a `version` field; a reader refuses a newer
 * major version and a checkpoint written with a different pane length (the panes would
 * not line up), and says why.
 */
#ifndef NP_CKPT_H
#define NP_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "np_outbox.h"
#include "np_pane.h"

#define NP_CKPT_VERSION 1
/* Stored values are framed (np_crc32): "NPC", frame version, CRC-32, protobuf. Unframed
 * values (written before the frame existed) are still read. */
#define NP_CKPT_MAGIC "NPC"
#define NP_CKPT_FRAME_VERSION 1

/* np_ckpt_decode's failures */
#define NP_CKPT_REFUSED (-1) /* usable by a worker configured otherwise (pane.ms, newer version) */
#define NP_CKPT_CORRUPT (-2) /* damaged: bad checksum, undecodable, inconsistent; quarantine it */

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

#endif
