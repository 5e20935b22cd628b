/* A byte writer for hand-built export datagrams and packets (test helper, big-endian). */
#ifndef FLOWBUF_H
#define FLOWBUF_H
#include <stdint.h>
#include <string.h>

typedef struct fbuf {
    uint8_t b[4096];
    size_t n;
} fbuf_t;

/* v big-endian in len bytes (len > 8: zero bytes first). */
static inline void fb_u(fbuf_t *f, uint64_t v, size_t len) {
    for (size_t i = 0; i < len; i++) {
        size_t shift = 8 * (len - 1 - i);
        f->b[f->n + i] = shift < 64 ? (uint8_t)(v >> shift) : 0;
    }
    f->n += len;
}
static inline void fb_bytes(fbuf_t *f, const void *p, size_t len) {
    memcpy(f->b + f->n, p, len);
    f->n += len;
}
static inline void fb_ip4(fbuf_t *f, uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    uint8_t x[4] = {a, b, c, d};
    fb_bytes(f, x, 4);
}
/* Patches a 16-bit length at offset at. */
static inline void fb_patch16(fbuf_t *f, size_t at, uint16_t v) {
    f->b[at] = (uint8_t)(v >> 8);
    f->b[at + 1] = (uint8_t)v;
}

/* Collects decoded flows. */
#include "np_flow.h"
typedef struct flows {
    np_flow_t f[64];
    size_t n;
} flows_t;
static inline void collect(void *ctx, const np_flow_t *f) {
    flows_t *c = ctx;
    if (c->n < 64) c->f[c->n++] = *f;
}
static inline int ip_is(const np_ip_t *ip, const char *text) {
    np_ip_t want;
    return np_ip_parse(text, strlen(text), &want) == 0 && memcmp(&want, ip, sizeof want) == 0;
}
#endif
