/*
 * np_ckpt_store: a partition's checkpoint in Redis (np_store), the I/O half of np_ckpt and
 * np_ckpt_writer: writing a planned batch (the head and its parts, one fenced Lua call),
 * reading parts back for np_ckpt_decode_parts, and moving a damaged checkpoint aside.
 * Every key is the head's key or the head's key + ':' + a part suffix, so they share the
 * partition's hash tag. Not thread-safe: the store's connection is the caller's.
 */
#ifndef NP_CKPT_STORE_H
#define NP_CKPT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "np_ckpt_writer.h"
#include "np_store.h"

/* Writes w's planned batch under key if epoch_key still holds epoch. Returns 0 written, 1
 * fenced (nothing written), -1 error (nothing written, or unknown: errstr says). The
 * caller reports the outcome with np_ckpt_writer_done. */
int np_ckpt_store_write(np_store_t *st, const char *epoch_key, const char *key, int64_t epoch,
                        const np_ckpt_writer_t *w, char *errstr, size_t errlen);

/* Context for np_ckpt_store_get_part (np_ckpt_get_part_fn): the store and the head's key. */
typedef struct np_ckpt_store_reader {
    np_store_t *st;
    const char *key;
    char errstr[256]; /* the last read error */
} np_ckpt_store_reader_t;
int np_ckpt_store_get_part(void *reader, const char *suffix, uint8_t **data, size_t *len);

/* Renames every part of the head (KEY:pane:*, KEY:out:*, KEY:win:*, found by SCAN: the
 * head may be what is damaged) and the head key to NAME:quarantine:EPOCH, and sets KEY:lost,
 * all in one Lua call fenced like the writes: only if epoch_key still holds epoch, so a
 * zombie (an owner that lost the partition) never moves a newer owner's checkpoint aside.
 * *qkey gets the head's new name, *nparts the parts moved. Returns 0, 1 fenced (nothing
 * moved), -1 error (nothing moved, or unknown: errstr says). */
int np_ckpt_store_quarantine(np_store_t *st, const char *epoch_key, const char *key, int64_t epoch, char *qkey,
                             size_t qlen, size_t *nparts, char *errstr, size_t errlen);

/* 1 when KEY was quarantined (KEY:lost exists): a partition with no head that had history
 * it no longer knows; 0 not; -1 Redis error. Never deleted: it matters only while there is
 * no head, i.e. until this partition's next checkpoint (which carries the mark itself). */
#define NP_CKPT_LOST_SUFFIX ":lost"
int np_ckpt_store_lost(np_store_t *st, const char *key, char *errstr, size_t errlen);

#endif
