/*
 * libFuzzer target for the NetFlow decoders: np_nf9 (v9 and IPFIX: templates, options
 * templates, data) and np_nf5. One input is several datagrams separated by the 4 bytes
 * "NPNP", all decoded by one fresh decoder with a small template cache (2 entries, 60 s
 * expiry, the clock advancing 20 s per datagram), so templates learnt from one datagram
 * are used, evicted and expired by the next. Besides crashes and sanitizer reports it
 * aborts when the flows passed to the callback disagree with info.flows, when a flow's
 * sampling is 0, or when the cache grows past its bound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "np_nf5.h"
#include "np_nf9.h"

static void count(void *ctx, const np_flow_t *f) {
    if (f->sampling == 0) abort();
    (*(uint32_t *)ctx)++;
}

static void one(np_nf9_t *d, const uint8_t *p, size_t n, int64_t now) {
    np_ip_t ex = {{0}};
    np_fdec_info_t info;
    uint32_t seen = 0;
    np_nf9_decode(d, p, n, &ex, now, count, &seen, &info);
    if (seen != info.flows || np_nf9_templates(d) > 2) abort();
    seen = 0;
    np_nf5_decode(p, n, &ex, count, &seen, &info);
    if (seen != info.flows) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    np_nf9_t *d = np_nf9_new(2, 60000);
    if (!d) return 0;
    int64_t now = 0;
    const uint8_t *p = data, *end = data + size;
    while (p <= end) {
        const uint8_t *q = p;
        while (q + 4 <= end && memcmp(q, "NPNP", 4) != 0) q++;
        if (q + 4 > end) q = end;
        /* a copy of exactly the datagram, so ASan sees any read past it */
        size_t n = (size_t)(q - p);
        uint8_t *copy = malloc(n ? n : 1);
        if (!copy) break;
        memcpy(copy, p, n);
        one(d, copy, n, now);
        free(copy);
        now += 20000;
        p = q + 4;
    }
    np_nf9_destroy(&d);
    return 0;
}
