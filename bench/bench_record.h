/*
 * bench/bench_record.h: the synthetic flow record the in-process benchmarks feed to pane
 * state (IPv4 source and destination, TCP), whose addresses they then vary.
 */
#ifndef BENCH_RECORD_H
#define BENCH_RECORD_H

#include <string.h>

#include "np_record.h"

static inline void bench_record_init(np_record_t *r, uint64_t bytes, uint64_t packets) {
    memset(r, 0, sizeof(*r));
    r->ts_ms = 1000;
    r->proto = NP_PROTO_TCP;
    r->bytes = bytes;
    r->packets = packets;
    r->src.b[10] = r->src.b[11] = r->dst.b[10] = r->dst.b[11] = 0xff; /* IPv4-mapped */
}

#endif
