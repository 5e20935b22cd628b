/*
 * np_nf5: NetFlow v5 export datagrams to flows. I/O-free, stateless, no allocation; fuzzed
 * with the v9/IPFIX decoder's target.
 *
 * Event time is the flow's end (Last, converted through the header's sysUptime and
 * unix_secs); the header's sampling interval (low 14 bits) scales bytes and packets.
 * Sequence: flow_sequence counts flows, so the collector's expected next value is
 * seq + records.
 */
#ifndef NP_NF5_H
#define NP_NF5_H

#include "np_flow.h"

/* Decodes one datagram of len bytes from exporter. Flows go to cb; *info says what the
 * datagram held. Returns NP_FDEC_OK, or why nothing was decoded (no flow is emitted then). */
np_fdec_err_t np_nf5_decode(const uint8_t *buf, size_t len, const np_ip_t *exporter, np_flow_cb cb, void *ctx,
                            np_fdec_info_t *info);

#endif
