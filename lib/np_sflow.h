/*
 * np_sflow: sFlow version 5 datagrams (sflow.org "sFlow Version 5") to flows and
 * interface counters. I/O-free, stateless, no allocation; fuzzed by tests/fuzz/fuzz_sflow.c.
 *
 * Flow samples (standard and expanded) whose raw packet header record (Ethernet, IPv4 or
 * IPv6) parses to an IP packet become one flow each: bytes = frame length x sampling rate,
 * packets = sampling rate, event time = now_ms (sFlow carries no wall-clock time; the
 * caller passes the receive time). Other flow record types are skipped. Counter samples'
 * generic interface counters go to the counter callback.
 * Sequence: the datagram sequence number per (agent, sub-agent), +1 per datagram.
 */
#ifndef NP_SFLOW_H
#define NP_SFLOW_H

#include "np_flow.h"

/* Decodes one datagram. cb and ccb may be NULL. info->records counts flow samples,
 * info->flows those emitted, info->counters the interface counter records; info->domain is
 * the sub-agent id. Returns NP_FDEC_OK, or why the rest was dropped (flows decoded before
 * the error have been emitted). */
np_fdec_err_t np_sflow_decode(const uint8_t *buf, size_t len, int64_t now_ms, np_flow_cb cb, np_ifcount_cb ccb,
                              void *ctx, np_fdec_info_t *info);

/* The agent address of a datagram (for keying sequence tracking). 0, or -1 if none. */
int np_sflow_agent(const uint8_t *buf, size_t len, np_ip_t *agent);

#endif
