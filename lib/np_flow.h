/*
 * np_flow: the flow record every ingest decoder (NetFlow v5, v9/IPFIX, sFlow, pcap flows)
 * produces, and its netpulse JSON form (the value produced to `network-traffic`).
 *
 * The JSON is the netpulse layout (ARCHITECTURE.md "Input records") followed by extra keys
 * the record decoder ignores: exporter, in_if, out_if, sampling. Counters in an np_flow_t
 * are already scaled by the sampling rate.
 *
 * I/O-free, no allocation. Not for: decoding records back (np_record).
 */
#ifndef NP_FLOW_H
#define NP_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "np_record.h"

typedef struct np_flow {
    int64_t ts_ms;     /* event time: flow end (NetFlow/IPFIX, pcap), sample time (sFlow) */
    np_ip_t src, dst;
    np_ip_t exporter;  /* the address the export datagram came from (or the sFlow agent) */
    uint16_t src_port, dst_port;
    uint8_t proto;
    uint64_t bytes, packets; /* scaled by sampling */
    uint32_t in_if, out_if;
    uint32_t sampling;       /* 1 = unsampled */
} np_flow_t;

/* Called once per decoded flow; the flow is only valid during the call. */
typedef void (*np_flow_cb)(void *ctx, const np_flow_t *f);

/* Interface counters (sFlow counter samples), passed to an np_ifcount_cb. */
typedef struct np_ifcount {
    np_ip_t agent;
    uint32_t ifindex;
    uint64_t in_octets, out_octets;
    uint32_t in_pkts, out_pkts; /* unicast packets */
    uint32_t in_errors, out_errors;
    uint64_t speed;
} np_ifcount_t;
typedef void (*np_ifcount_cb)(void *ctx, const np_ifcount_t *c);

/* Why an export datagram (or part of it) could not be decoded. Stable names
 * (np_fdec_err_name) are the `reason` label of the collector's malformed counter. */
typedef enum np_fdec_err {
    NP_FDEC_OK = 0,
    NP_FDEC_TRUNCATED,   /* shorter than its header or its counts say */
    NP_FDEC_VERSION,     /* not a version this decoder handles */
    NP_FDEC_MALFORMED,   /* a length or count that cannot be right */
    NP_FDEC__COUNT
} np_fdec_err_t;
const char *np_fdec_err_name(np_fdec_err_t e);

/* What one datagram held, for sequence tracking and health metrics. */
typedef struct np_fdec_info {
    uint16_t version;        /* 5, 9, 10 (IPFIX) or 5 for sFlow v5 (see proto) */
    uint32_t domain;         /* v9 source id, IPFIX observation domain, sFlow sub-agent */
    uint32_t seq;            /* the header's sequence number */
    uint32_t records;        /* flow records in the datagram (decoded or not) */
    uint32_t flows;          /* flows passed to the callback */
    uint32_t template_misses;/* data sets whose template is unknown (or expired) */
    uint32_t templates;      /* templates learnt or refreshed */
    uint32_t counters;       /* counter samples */
} np_fdec_info_t;

/* The netpulse JSON of f into buf (>= 320 bytes is always enough). Returns its length, or 0
 * if buf is too small. */
size_t np_flow_format(const np_flow_t *f, char *buf, size_t len);

/* Reads a big-endian integer of n bytes (1..8) at p. */
uint64_t np_flow_be(const uint8_t *p, size_t n);

/* An IPv4 address (4 bytes, network order) or IPv6 address (16 bytes) as np_ip_t. */
void np_flow_ip4(np_ip_t *ip, const uint8_t *p);
void np_flow_ip6(np_ip_t *ip, const uint8_t *p);

#endif
