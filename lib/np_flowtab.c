/*
 * np_flowtab: a NetFlow-style flow cache (see np_flowtab.h). Linear probing with
 * backward-shift deletion; timeouts are checked by a sweep once per second of packet time.
 */
#include "np_flowtab.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct fkey {
    np_ip_t src, dst;
    uint16_t sport, dport;
    uint8_t proto;
    uint8_t pad[3];
} fkey_t;

typedef struct fent {
    fkey_t k;
    bool used;
    int64_t first_ms, last_ms;
    uint64_t bytes, packets;
} fent_t;

struct np_flowtab {
    fent_t *e;
    size_t cap, mask, used, max;
    int64_t active_ms, inactive_ms, next_sweep_ms;
    uint64_t forced;
};

np_flowtab_t *np_flowtab_new(size_t cap, int64_t active_ms, int64_t inactive_ms)
{
    np_flowtab_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->max = cap ? cap : 1;
    t->cap = 16;
    while (t->cap < 2 * t->max)
        t->cap *= 2;
    t->mask = t->cap - 1;
    if (!(t->e = calloc(t->cap, sizeof *t->e))) {
        free(t);
        return NULL;
    }
    t->active_ms = active_ms;
    t->inactive_ms = inactive_ms;
    return t;
}

void np_flowtab_destroy(np_flowtab_t **t)
{
    if (!*t)
        return;
    free((*t)->e);
    free(*t);
    *t = NULL;
}

size_t np_flowtab_open(const np_flowtab_t *t) { return t->used; }
uint64_t np_flowtab_forced(const np_flowtab_t *t) { return t->forced; }

static size_t khash(const fkey_t *k)
{
    uint64_t h = 1469598103934665603ULL;
    const uint8_t *p = (const uint8_t *)k;
    for (size_t i = 0; i < sizeof *k; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 32));
}

static void emit(const fent_t *e, np_flow_cb cb, void *ctx)
{
    np_flow_t f;
    memset(&f, 0, sizeof f);
    f.ts_ms = e->last_ms;
    f.src = e->k.src;
    f.dst = e->k.dst;
    f.src_port = e->k.sport;
    f.dst_port = e->k.dport;
    f.proto = e->k.proto;
    f.bytes = e->bytes;
    f.packets = e->packets;
    f.sampling = 1;
    cb(ctx, &f);
}

/* Removes slot i, shifting later members of its cluster back (no tombstones). */
static void remove_at(np_flowtab_t *t, size_t i)
{
    size_t j = i;
    t->e[i].used = false;
    t->used--;
    for (;;) {
        j = (j + 1) & t->mask;
        if (!t->e[j].used)
            return;
        size_t home = khash(&t->e[j].k) & t->mask;
        /* j may move to i if its home is not cyclically within (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
            t->e[i] = t->e[j];
            t->e[j].used = false;
            i = j;
        }
    }
}

static bool expired(const np_flowtab_t *t, const fent_t *e, int64_t now)
{
    return now - e->last_ms >= t->inactive_ms || now - e->first_ms >= t->active_ms;
}

static void sweep(np_flowtab_t *t, int64_t now, bool all, np_flow_cb cb, void *ctx)
{
    for (size_t i = 0; i < t->cap;) {
        if (t->e[i].used && (all || expired(t, &t->e[i], now))) {
            emit(&t->e[i], cb, ctx);
            remove_at(t, i); /* slot i may now hold another entry: look again */
        } else {
            i++;
        }
    }
}

void np_flowtab_flush(np_flowtab_t *t, np_flow_cb cb, void *ctx) { sweep(t, 0, true, cb, ctx); }

void np_flowtab_add(np_flowtab_t *t, int64_t ts_ms, const np_pkt_t *pk, np_flow_cb cb, void *ctx)
{
    if (ts_ms >= t->next_sweep_ms) {
        sweep(t, ts_ms, false, cb, ctx);
        t->next_sweep_ms = ts_ms + 1000;
    }
    fkey_t k;
    memset(&k, 0, sizeof k);
    k.src = pk->src;
    k.dst = pk->dst;
    k.sport = pk->src_port;
    k.dport = pk->dst_port;
    k.proto = pk->proto;
    size_t i = khash(&k) & t->mask;
    while (t->e[i].used && memcmp(&t->e[i].k, &k, sizeof k))
        i = (i + 1) & t->mask;
    fent_t *e = &t->e[i];
    if (e->used && expired(t, e, ts_ms)) { /* a timeout the sweep has not reached yet */
        emit(e, cb, ctx);
        e->first_ms = ts_ms;
        e->bytes = e->packets = 0;
    }
    if (!e->used) {
        if (t->used >= t->max) {
            t->forced += t->used;
            sweep(t, ts_ms, true, cb, ctx);
            np_flowtab_add(t, ts_ms, pk, cb, ctx);
            return;
        }
        memset(e, 0, sizeof *e);
        e->k = k;
        e->used = true;
        e->first_ms = ts_ms;
        t->used++;
    }
    e->last_ms = ts_ms;
    e->bytes += pk->ip_len;
    e->packets++;
    if (pk->proto == NP_PROTO_TCP && (pk->tcp_flags & (NP_TCP_FIN | NP_TCP_RST))) {
        emit(e, cb, ctx);
        remove_at(t, i);
    }
}
