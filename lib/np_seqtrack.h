/*
 * np_seqtrack: per-exporter export sequence tracking, to count what was lost between an
 * exporter and the collector. Keyed by (exporter address, version, domain): NetFlow v9 and
 * sFlow number datagrams (+1 each), NetFlow v5 and IPFIX number flows (+records each), so
 * the caller passes how far this datagram moves the sequence. Exporters that count a
 * datagram's own records in its sequence number (softflowd's IPFIX) are recognised.
 *
 * Bounded: at most `cap` streams; when full the least recently seen is forgotten (counted).
 * I/O-free, no allocation after np_seqtrack_new. Not thread-safe: one per receive thread.
 */
#ifndef NP_SEQTRACK_H
#define NP_SEQTRACK_H

#include <stddef.h>
#include <stdint.h>

#include "np_record.h"

typedef struct np_seqtrack np_seqtrack_t;

typedef enum np_seq_result {
    NP_SEQ_FIRST = 0, /* first datagram of a stream (or after it was forgotten) */
    NP_SEQ_OK,        /* exactly the expected sequence number */
    NP_SEQ_LOST,      /* ahead of the expected one: *lost units went missing */
    NP_SEQ_REORDER,   /* behind it (late, duplicate, or the exporter restarted) */
} np_seq_result_t;

np_seqtrack_t *np_seqtrack_new(size_t cap);
void np_seqtrack_destroy(np_seqtrack_t **t);

/* Observes seq of stream (exporter, version, domain); advance: how many units this
 * datagram covers (1 for per-datagram sequences, its records for per-flow ones).
 * Gaps above max_gap are treated as a restart (NP_SEQ_REORDER), not as loss. */
np_seq_result_t np_seqtrack_observe(np_seqtrack_t *t, const np_ip_t *exporter, uint16_t version, uint32_t domain,
                                    uint32_t seq, uint32_t advance, uint32_t *lost);

/* Streams tracked now; streams forgotten because the table was full. */
size_t np_seqtrack_streams(const np_seqtrack_t *t);
uint64_t np_seqtrack_evictions(const np_seqtrack_t *t);

#endif
