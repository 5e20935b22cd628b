/*
 * np_flowtab: packets to flows, the way a NetFlow meter builds them, for pcap replay.
 *
 * A flow is a unidirectional 5-tuple (source, destination, ports, protocol). It ends, and
 * is passed to the callback, when a TCP FIN or RST is seen in it, when no packet came for
 * `inactive_ms`, when it has lasted `active_ms` (a long flow is cut into several), or at
 * np_flowtab_flush. Its event time is its last packet's; bytes are IP lengths.
 * Time is the packets' own (capture time): expiry happens as that time moves on.
 *
 * Bounded: at most `cap` open flows; a packet of a new flow when the table is full ends
 * every open flow first (counted in np_flowtab_forced). I/O-free; not thread-safe.
 */
#ifndef NP_FLOWTAB_H
#define NP_FLOWTAB_H

#include "np_flow.h"
#include "np_pkt.h"

typedef struct np_flowtab np_flowtab_t;

np_flowtab_t *np_flowtab_new(size_t cap, int64_t active_ms, int64_t inactive_ms);
void np_flowtab_destroy(np_flowtab_t **t);

/* Adds one packet seen at ts_ms. Flows that end (this one, or others whose timeouts
 * passed) go to cb. */
void np_flowtab_add(np_flowtab_t *t, int64_t ts_ms, const np_pkt_t *pk, np_flow_cb cb, void *ctx);

/* Ends every open flow. */
void np_flowtab_flush(np_flowtab_t *t, np_flow_cb cb, void *ctx);

size_t np_flowtab_open(const np_flowtab_t *t);
uint64_t np_flowtab_forced(const np_flowtab_t *t);

#endif
