/*
 * np_claim: taking a partition at assignment. A new fencing epoch and the owner record
 * (np_store_claim), then the caller's restore of the partition's checkpoint under that
 * epoch, then a check that the epoch is still the caller's: a worker running a late
 * assignment (a zombie) may claim the partition between our claim and the end of our
 * restore, which makes every later write of ours fenced and the state we read possibly
 * older than the zombie's writes. Then np_claim_take discards what the restore built,
 * claims once more (an epoch above the zombie's, which fences the zombie) and restores
 * again, reading whatever the zombie wrote before. Not for later fences: a checkpoint
 * refused after the claim stood means the other worker holds a newer assignment.
 *
 * Not thread-safe: the store's connection is the caller's.
 */
#ifndef NP_CLAIM_H
#define NP_CLAIM_H

#include <stddef.h>
#include <stdint.h>

#include "np_store.h"

/* What a claim (and a restore under it) came to. */
enum { NP_CLAIM_OK = 0, NP_CLAIM_FENCED = 1, NP_CLAIM_FAILED = -1 };

/* Claims at most this often per assignment: the first claim and one more when another
 * worker's claim overtook it (np_claim.c says why not more). */
#define NP_CLAIM_ATTEMPTS 2

/* The caller's restore and its undo. restore reads the partition's state under epoch and
 * returns NP_CLAIM_OK with it built, or NP_CLAIM_FENCED / NP_CLAIM_FAILED having kept
 * nothing the caller needs (its own fenced moves, e.g. a quarantine, say FENCED).
 * discard forgets what an NP_CLAIM_OK restore built, when the claim turned out overtaken
 * or could not be checked. */
typedef struct np_claim_ops {
    int (*restore)(void *ctx, int64_t epoch);
    void (*discard)(void *ctx);
    void *ctx;
} np_claim_ops_t;

/* The keys and the owner record of np_store_claim. */
typedef struct np_claim_keys {
    const char *epoch_key, *owner_key, *session;
    int32_t slot;
} np_claim_keys_t;

/*
 * Claims the partition and restores it, claiming and restoring once more when another
 * claim came in between (at most NP_CLAIM_ATTEMPTS claims). Returns NP_CLAIM_OK with
 * *epoch the epoch the state was restored and is held under; NP_CLAIM_FENCED when the
 * last attempt was overtaken too (drop the partition: nothing restored is kept); or
 * NP_CLAIM_FAILED with errstr when Redis could not be used or restore failed (nothing
 * kept either). *overtaken (may be NULL) counts the attempts another claim overtook.
 */
int np_claim_take(np_store_t *st, const np_claim_keys_t *k, const np_claim_ops_t *ops, int64_t *epoch,
                  int *overtaken, char *errstr, size_t errlen);

#endif
