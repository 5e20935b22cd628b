/*
 * np_dlqseen: which of a partition's records an earlier owner already dead-lettered, so
 * that the next owner, reading them again after a `kill -9`, does not dead-letter them a
 * second time (ARCHITECTURE.md, "Dead letters are exactly once").
 *
 * A partition's dead letters all go to one partition of the dead-letter topic (its index
 * modulo the DLQ's partition count, np_dlqseen_partition), in the order the owner
 * produced them. Its checkpoint keeps `from` (np_dlqseen_ckpt_from): a DLQ offset at or
 * before every dead letter of a record at or after the checkpoint's resume offset. The
 * next owner reads that DLQ partition from `from` to its end (np_kafka_dlq_scan), keeps
 * the source offsets of its partition's dead letters (np_dlqseen_add) and skips them
 * (np_dlqseen_has). Until its own checkpoint passes the last of them, its checkpoints keep
 * the same `from` (a third owner must see them too); after that, the DLQ offset after its
 * own last delivered dead letter (np_dlqseen_delivered) or the end it read.
 *
 * Bounded: at most NP_DLQSEEN_MAX offsets per partition (more dead letters since one
 * checkpoint than that: the rest may be dead-lettered again, counted by the caller).
 * I/O-free; one per slot, not thread-safe.
 */
#ifndef NP_DLQSEEN_H
#define NP_DLQSEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NP_DLQSEEN_MAX 65536

typedef struct np_dlqseen {
    int64_t *off;       /* source offsets already dead-lettered, sorted after np_dlqseen_seal */
    size_t n, cap;
    bool overflow;      /* more than NP_DLQSEEN_MAX were found */
    int64_t from;       /* DLQ offset the restore read from (-1: nothing read) */
    int64_t skip_max;   /* largest offset in off[] (INT64_MAX: unknown, the read failed) */
    int64_t next;       /* DLQ offset after every dead letter of ours known delivered (-1: unknown) */
} np_dlqseen_t;

/* The DLQ partition of source partition src_partition with ndlq DLQ partitions; -1
 * (RD_KAFKA_PARTITION_UA: the partitioner's choice, nothing read back) when ndlq is unknown. */
int32_t np_dlqseen_partition(int32_t src_partition, int32_t ndlq);

/* Empties s for a new ownership read from DLQ offset from (-1: none). Keeps the buffer. */
void np_dlqseen_reset(np_dlqseen_t *s, int64_t from);

/* One dead letter read from the DLQ: its headers netpulse.source.topic / .partition /
 * .offset (NULL when absent, not NUL-terminated: the lengths say). Kept when it is for
 * (topic, partition) at an offset >= min_offset. Returns 1 kept, 0 not ours, -1 when the
 * buffer cannot grow (s->overflow set). */
int np_dlqseen_add(np_dlqseen_t *s, const char *topic, int32_t partition, int64_t min_offset, const char *h_topic,
                   size_t h_topic_len, const char *h_part, size_t h_part_len, const char *h_off, size_t h_off_len);

/* The read ended: end is the DLQ partition's end offset then (-1: the read failed, the
 * records read may be incomplete and later checkpoints keep `from`). Sorts. */
void np_dlqseen_seal(np_dlqseen_t *s, int64_t end);

/* Whether source offset off was already dead-lettered (after np_dlqseen_seal). */
bool np_dlqseen_has(const np_dlqseen_t *s, int64_t off);

/* A dead letter of ours was delivered at DLQ offset dlq_offset. */
void np_dlqseen_delivered(np_dlqseen_t *s, int64_t dlq_offset);

/* The `from` a checkpoint resuming at resume_offset stores (-1: unknown). */
int64_t np_dlqseen_ckpt_from(const np_dlqseen_t *s, int64_t resume_offset);

void np_dlqseen_free(np_dlqseen_t *s);

#endif
