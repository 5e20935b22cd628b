/*
 * np_owner: which worker may speak for which partition (slot), as the coordinator sees
 * it. A worker that takes a partition INCRs its fencing epoch and, in the same Lua call,
 * stores "<epoch> <session> <slot>" under netpulse:owner:{GROUP/TOPIC/P} (np_store_claim).
 * Its progress messages carry the same claim; the coordinator reads the stored value
 * when a claim is new to it and from then on takes partials and progress for the slot
 * only from that ZeroMQ peer. A zombie (older epoch) and a forger (no valid session) are
 * refused. Stronger origin authentication is CURVE (np_zsock); this is fencing.
 *
 * I/O-free: the caller reads Redis when told to (NP_OWNER_LOOKUP). Not thread-safe.
 */
#ifndef NP_OWNER_H
#define NP_OWNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NP_OWNER_SESSION_MAX 64
#define NP_OWNER_LOOKUP_MS 100       /* at most one store read per slot this often */
#define NP_OWNER_LOOKUPS_PER_S 512   /* and at most this many in all per second */

typedef enum {
    NP_OWNER_OK = 0,   /* the peer holds the slot under this claim */
    NP_OWNER_REFUSED,  /* an older epoch, a bad slot or session, or a look-up too soon */
    NP_OWNER_LOOKUP    /* read the stored value and call np_owner_confirm */
} np_owner_verdict_t;

typedef struct np_owner np_owner_t;

np_owner_t *np_owner_new(int32_t max_slots);
/* What np_owner_new(max_slots) allocates (all of it, up front). For np_budget. */
size_t np_owner_bound_bytes(int32_t max_slots);
void np_owner_destroy(np_owner_t **o);

/* Formats the value a worker stores with its epoch. Returns its length, or -1. */
int np_owner_value(char *buf, size_t len, int64_t epoch, const char *session, int32_t slot);

/* Judges a claim (slot, epoch, session) arriving from peer at now_ms (monotonic). */
np_owner_verdict_t np_owner_claim(np_owner_t *o, int32_t slot, const uint8_t *peer, size_t plen, int64_t epoch,
                                  const char *session, int64_t now_ms);

/* After NP_OWNER_LOOKUP: stored is the value read (NULL when absent). Records peer as the
 * slot's owner and returns true when the value is exactly this claim. */
bool np_owner_confirm(np_owner_t *o, int32_t slot, const uint8_t *peer, size_t plen, int64_t epoch,
                      const char *session, const char *stored, size_t slen);

/* True when peer holds slot (for partials, which carry no claim of their own). */
bool np_owner_holds(const np_owner_t *o, int32_t slot, const uint8_t *peer, size_t plen);

#endif
