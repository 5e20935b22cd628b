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

/* The IPv4-mapped address of v (host order). */
static inline void bench_ip4(np_ip_t *ip, uint32_t v) {
    memset(ip, 0, sizeof(*ip));
    ip->b[10] = ip->b[11] = 0xff;
    ip->b[12] = (uint8_t)(v >> 24);
    ip->b[13] = (uint8_t)(v >> 16);
    ip->b[14] = (uint8_t)(v >> 8);
    ip->b[15] = (uint8_t)v;
}

/* splitmix64's finaliser: deterministic pseudo-random draws from a counter. */
static inline uint64_t bench_mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

#endif
