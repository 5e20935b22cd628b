/* np_claim: claim, restore, check, and once more when overtaken. See np_claim.h. */
#include "np_claim.h"

#include <stdio.h>

/*
 * Why one more claim and not a loop. A zombie claims a partition once per late
 * assignment (its own restore), so after our second claim it has nothing left to claim
 * with: its writes are fenced and it drops the partition at its first checkpoint. A
 * second overtaking claim is not that race: two workers each hold an assignment of the
 * partition, and Redis cannot tell which one Kafka's newest generation made (the
 * epoch only says who claimed last). Claiming until we win would make them fence each
 * other in turn, each round a full restore inside the rebalance callback, which holds
 * the consumer's poll and can cost the group another rebalance; yielding leaves the
 * partition to the other claimant, and with it the next rebalance decides.
 */
int np_claim_take(np_store_t *st, const np_claim_keys_t *k, const np_claim_ops_t *ops, int64_t *epoch,
                  int *overtaken, char *errstr, size_t errlen) {
    int rc = NP_CLAIM_FENCED;
    if (overtaken) *overtaken = 0;
    for (int attempt = 0; attempt < NP_CLAIM_ATTEMPTS && rc == NP_CLAIM_FENCED; attempt++) {
        if (np_store_claim(st, k->epoch_key, k->owner_key, k->session, k->slot, epoch, errstr, errlen) < 0)
            return NP_CLAIM_FAILED;
        rc = ops->restore(ops->ctx, *epoch);
        if (rc == NP_CLAIM_OK) {
            /* Every write is fenced by the epoch, so while it is still ours nobody else
             * wrote what we read: the state is the partition's latest. */
            int held = np_store_epoch_check(st, k->epoch_key, *epoch, errstr, errlen);
            if (held != 0) ops->discard(ops->ctx);
            if (held < 0) return NP_CLAIM_FAILED;
            if (held == 1) rc = NP_CLAIM_FENCED;
        } else if (rc != NP_CLAIM_FENCED) {
            snprintf(errstr, errlen, "restore under epoch %lld failed", (long long)*epoch);
            return NP_CLAIM_FAILED;
        }
        if (rc == NP_CLAIM_FENCED && overtaken) (*overtaken)++;
    }
    return rc;
}
