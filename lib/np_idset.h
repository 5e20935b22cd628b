/*
 * np_idset: the gateway's set of recently published result ids, so that a result the
 * coordinator re-sends (its acknowledgement was lost, or the gateway restarted after the
 * commit) is acknowledged without being published twice. Bounded: at most cap ids, the
 * oldest forgotten first (a FIFO ring beside an open-addressing set, O(1) per id, so
 * that loading the last dedup.ids messages of every partition at start stays fast).
 * Ids longer than NP_RESULT_ID_MAX - 1 are cut to it. Not thread-safe: the gateway's loop.
 */
#ifndef NP_IDSET_H
#define NP_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct np_idset np_idset_t;

/* A set of at most cap ids (cap >= 1). NULL when out of memory. */
np_idset_t *np_idset_new(size_t cap);
void np_idset_destroy(np_idset_t **s);

bool np_idset_has(const np_idset_t *s, const char *id);
/* Remembers id (nothing when it is there already), forgetting the oldest when full. */
void np_idset_add(np_idset_t *s, const char *id);

size_t np_idset_len(const np_idset_t *s);
size_t np_idset_cap(const np_idset_t *s);
/* Ids forgotten to make room, since creation. */
uint64_t np_idset_evicted(const np_idset_t *s);

#endif
