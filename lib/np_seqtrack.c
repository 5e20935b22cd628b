/*
 * np_seqtrack: export sequence tracking (see np_seqtrack.h). A small open-addressing table;
 * eviction picks the stalest entry of the probe window, so no deletion is ever needed.
 */
#include "np_seqtrack.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PROBE 8
#define MAX_GAP 1000000u

typedef struct stream {
    np_ip_t exporter;
    uint32_t domain;
    uint16_t version;
    bool used;
    bool inclusive;     /* the exporter counts this datagram's own records in its sequence */
    uint32_t last_seq, last_advance;
    uint64_t last_seen; /* observation counter: recency without a clock */
} stream_t;

struct np_seqtrack {
    stream_t *s;
    size_t cap; /* power of two */
    size_t used;
    uint64_t tick, evictions;
};

np_seqtrack_t *np_seqtrack_new(size_t cap)
{
    np_seqtrack_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cap = 16;
    while (t->cap < cap)
        t->cap *= 2;
    if (!(t->s = calloc(t->cap, sizeof *t->s))) {
        free(t);
        return NULL;
    }
    return t;
}

void np_seqtrack_destroy(np_seqtrack_t **t)
{
    if (!*t)
        return;
    free((*t)->s);
    free(*t);
    *t = NULL;
}

size_t np_seqtrack_streams(const np_seqtrack_t *t) { return t->used; }
uint64_t np_seqtrack_evictions(const np_seqtrack_t *t) { return t->evictions; }

static size_t hash(const np_ip_t *ip, uint16_t version, uint32_t domain)
{
    uint64_t h = 1469598103934665603ULL ^ version ^ ((uint64_t)domain << 16);
    for (int i = 0; i < 16; i++)
        h = (h ^ ip->b[i]) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 31));
}

/* The stream's entry; *fresh when it was just (re)created. */
static stream_t *lookup(np_seqtrack_t *t, const np_ip_t *ip, uint16_t version, uint32_t domain, bool *fresh)
{
    size_t mask = t->cap - 1, h = hash(ip, version, domain);
    stream_t *victim = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        stream_t *s = &t->s[(h + i) & mask];
        if (s->used && s->version == version && s->domain == domain && !memcmp(&s->exporter, ip, sizeof *ip)) {
            *fresh = false;
            return s;
        }
        if (!s->used) {
            if (!victim || victim->used)
                victim = s;
        } else if (!victim || (victim->used && s->last_seen < victim->last_seen)) {
            victim = s;
        }
    }
    if (victim->used)
        t->evictions++;
    else
        t->used++;
    victim->used = true;
    victim->exporter = *ip;
    victim->version = version;
    victim->domain = domain;
    *fresh = true;
    return victim;
}

np_seq_result_t np_seqtrack_observe(np_seqtrack_t *t, const np_ip_t *exporter, uint16_t version, uint32_t domain,
                                    uint32_t seq, uint32_t advance, uint32_t *lost)
{
    bool fresh;
    stream_t *s = lookup(t, exporter, version, domain, &fresh);
    s->last_seen = ++t->tick;
    *lost = 0;
    np_seq_result_t r;
    uint32_t expected = s->last_seq + (s->inclusive ? advance : s->last_advance);
    uint32_t gap = seq - expected; /* modulo 2^32: sequences wrap */
    if (fresh)
        r = NP_SEQ_FIRST;
    else if (gap == 0)
        r = NP_SEQ_OK;
    else if (!s->inclusive && seq == s->last_seq + advance && advance != s->last_advance) {
        /* softflowd's IPFIX sequence includes the message's own records (RFC 7011 says
         * the records before it): learn that once instead of reporting loss forever. */
        s->inclusive = true;
        r = NP_SEQ_OK;
    }
    else if (gap <= MAX_GAP) {
        r = NP_SEQ_LOST;
        *lost = gap;
    } else {
        r = NP_SEQ_REORDER;
    }
    /* A late datagram must not move the expectation back. */
    if (r != NP_SEQ_REORDER || (uint32_t)(expected - seq) > MAX_GAP) {
        s->last_seq = seq;
        s->last_advance = advance;
    }
    return r;
}
