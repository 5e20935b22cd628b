/*
 * np_srcmap: a bounded hash table of per-source-IP counters (records, bytes, packets).
 *
 * Dense entries behind an open-addressing index (linear probing, power-of-two sizes, load
 * <= 1/2): a stored source costs its entry (120 bytes), an 8-byte estimate and 16-32 bytes
 * of index. It grows by doubling up to `max_sources` entries. Past that, the table keeps
 * the heaviest sources by Space-Saving (weighted by max(records, packets) per addition): a
 * new source takes the entry with the smallest estimate, whose counters are folded into
 * one `other` aggregate and counted in `evicted`. So a spoofed-source flood cannot push
 * heavy hitters and scanners out, as "keep the first sources seen" did.
 *
 * What is exact and what is bounded, with W = the weight added since the last clear and
 * k = max_sources (np_srcmap_error_bound = W / k):
 *   - exact: the sum over entries plus `other` of records, bytes and packets (totals);
 *     every counter of a source that was never evicted (always, while the table never
 *     filled);
 *   - bounded: a stored source's records and packets are lower bounds that lack at most
 *     np_srcmap_upper - its weight since insertion <= W / k each (it may have been evicted
 *     before, its earlier counters are in `other`); its true records and packets are at
 *     most np_srcmap_upper. Every source that added more than W / k is stored;
 *   - not bounded: its bytes (each missed addition may carry any bytes) and its
 *     distinct-count sketches (they restart at insertion).
 * The heap that finds the smallest estimate is built the first time the table overflows
 * (one allocation of 8 bytes per entry, kept); a table that never fills pays one add per
 * record for the estimate. Clearing keeps the memory, so a table reused pane after pane
 * stops allocating once warm.
 *
 * Not thread-safe: one owner. I/O-free.
 */
#ifndef NP_SRCMAP_H
#define NP_SRCMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np_hll.h"
#include "np_record.h"

/* 64-bit hash of an address for open-addressing tables (np_srcmap, np_detect). */
uint64_t np_ip_hash(const np_ip_t *ip);

/* Protocol mix buckets (records per protocol). */
enum { NP_PMIX_TCP = 0, NP_PMIX_UDP, NP_PMIX_ICMP, NP_PMIX_OTHER, NP_PMIX__COUNT };
/* The bucket of an IANA protocol number. */
int np_pmix_bucket(uint8_t proto);

/* Destination ports of TCP and UDP records, hashed into this many buckets per pane: a fixed,
 * small histogram whose entropy follows the port distribution (port scans spread it). */
#define NP_PORT_BUCKETS 256
static inline unsigned np_port_bucket(uint16_t port) { return (unsigned)((port * 2654435761u) >> 24); }

typedef struct np_srcagg {
    np_ip_t ip;
    uint64_t records; /* 0 marks an empty slot: every stored source has >= 1 record */
    uint64_t bytes;
    uint64_t packets;
    uint32_t pmix[NP_PMIX__COUNT]; /* records by protocol */
    np_hll_t dst_ips;              /* distinct destination addresses */
    np_hll_t dst_ports;            /* distinct destination ports */
} np_srcagg_t;

typedef struct np_srcmap np_srcmap_t;

/* max_sources >= 1. pool (borrowed, may be shared, may be NULL) backs the distinct-count
 * sketches once they outgrow their inline form; with NULL, sketches stay inline (exact up
 * to NP_HLL_INLINE values, then lower bounds). Returns NULL on allocation failure. */
np_srcmap_t *np_srcmap_new(size_t max_sources, np_hll_pool_t *pool);
void np_srcmap_destroy(np_srcmap_t **m);

/* Adds counters to ip's entry (creating it). Returns 0, or 1 when the table was full and
 * the entry of least estimate was evicted into `other` to make room (an eviction; also
 * when memory for the eviction heap ran out: the counters then went to `other`).
 * records must be >= 1. */
int np_srcmap_add(np_srcmap_t *m, const np_ip_t *ip, uint64_t records, uint64_t bytes,
                  uint64_t packets);

/* Adds one flow record: counters, protocol mix, destination address and port sketches.
 * Same return as np_srcmap_add. The worker's hot path: no allocation once the table is
 * warm (sketch promotion takes a block from the pool). */
int np_srcmap_add_record(np_srcmap_t *m, const np_record_t *r);

/* The same keyed by the record's destination (a table of destinations): `dst_ips` then
 * counts distinct *source* addresses of the destination, `dst_ports` its distinct ports. */
int np_srcmap_add_record_dst(np_srcmap_t *m, const np_record_t *r);

/* Merges a whole entry (sketches united). Same return as np_srcmap_add. */
int np_srcmap_merge(np_srcmap_t *m, const np_srcagg_t *e);
/* Cache hints for a loop merging many entries (np_partial_merge_table): the table is
 * larger than the cache, so each lookup is two dependent misses (index slot, then the
 * entry whose address it compares). Called some entries ahead of the merge, stage 0 loads
 * ip's first index slot, stage 1 (later, once that slot is cached) the entry it points at.
 * Hints only: nothing is read beyond the first slot and nothing changes. */
void np_srcmap_prefetch(const np_srcmap_t *m, const np_ip_t *ip, int stage);

/* Folds counters straight into `other` (for aggregates that arrive already evicted). */
void np_srcmap_add_other(np_srcmap_t *m, uint64_t records, uint64_t bytes, uint64_t packets,
                         uint64_t evicted);

size_t np_srcmap_count(const np_srcmap_t *m);          /* distinct sources stored */
uint64_t np_srcmap_evicted(const np_srcmap_t *m);      /* entries folded into other */
const np_srcagg_t *np_srcmap_other(const np_srcmap_t *m);
size_t np_srcmap_capacity(const np_srcmap_t *m);       /* slots allocated now */
/* True when a and b were made with the same max_sources and pool, so that one can take the
 * other's place (np_window_push_lent hands tables over instead of copying them). */
bool np_srcmap_interchangeable(const np_srcmap_t *a, const np_srcmap_t *b);
size_t np_srcmap_memory_bytes(const np_srcmap_t *m);
/* The most np_srcmap_memory_bytes can reach for a table of max_sources (full, evicting:
 * index, entries, estimates, change bits and the eviction heap); with `growing`, also the
 * old index that coexists with the new one while it doubles (one table grows at a time).
 * Sketch blocks are the pool's, not counted. For memory budgets (np_budget). */
size_t np_srcmap_bound_bytes(size_t max_sources, bool growing);

/* Space-Saving bounds (see the header comment). e must be an entry of m (np_srcmap_slot,
 * np_srcmap_get): an upper bound on the records and on the packets its source added since
 * the last clear. */
uint64_t np_srcmap_upper(const np_srcmap_t *m, const np_srcagg_t *e);
/* W / max_sources: the most a stored source's records or packets can lack, and the weight
 * above which a source is certainly stored. */
uint64_t np_srcmap_error_bound(const np_srcmap_t *m);

/* Iteration: slot index from 0 to np_srcmap_slots(m); np_srcmap_slot returns NULL for empty
 * slots. Order is unspecified. */
size_t np_srcmap_slots(const np_srcmap_t *m);
const np_srcagg_t *np_srcmap_slot(const np_srcmap_t *m, size_t i);

/* Looks an address up; NULL when absent. */
const np_srcagg_t *np_srcmap_get(const np_srcmap_t *m, const np_ip_t *ip);

/* Change tracking, for incremental checkpoints (np_ckpt_writer): every entry created or
 * updated since the last np_srcmap_changes_clear (or np_srcmap_clear) is marked, one bit
 * per entry; an entry given to another source by an eviction is marked too (a changelog
 * must then drop what it holds of the evicted source: np_srcmap_evicted moved). Entries
 * are also reachable densely, in insertion order: i from 0 to np_srcmap_entries(m).
 * `other` and `evicted` are not tracked (a checkpoint always carries them). */
size_t np_srcmap_entries(const np_srcmap_t *m);
const np_srcagg_t *np_srcmap_entry(const np_srcmap_t *m, size_t i);
bool np_srcmap_changed(const np_srcmap_t *m, size_t i);
size_t np_srcmap_changed_count(const np_srcmap_t *m);
void np_srcmap_changes_clear(np_srcmap_t *m);

/* Forgets every entry (returning sketch blocks to the pool) but keeps the table. */
void np_srcmap_clear(np_srcmap_t *m);

/* 1 if a ranks before b among the largest by bytes (more bytes, then more records, then the
 * lower address): the order of top_sources. */
int np_srcagg_ranks_before(const np_srcagg_t *a, const np_srcagg_t *b);

/* Writes the n largest entries by bytes (ties: more records, then lower address) into out
 * (caller-owned, n slots), sorted descending; returns how many were written. */
size_t np_srcmap_top_bytes(const np_srcmap_t *m, np_srcagg_t *out, size_t n);

#endif
