/* np_srcmap: bounded per-source counters. See np_srcmap.h. */
#include "np_srcmap.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/*
 * Layout: the entries are dense (insertion order, grown by realloc, so pages past the last
 * entry are never touched), and an open-addressing index of 8-byte slots points at them.
 * A stored source costs its 120-byte entry plus 16-32 bytes of index, instead of 240-480
 * bytes when the entries themselves were the hash slots. The index has the slot count and
 * probe sequence the entry slots had, so iteration (np_srcmap_slot) visits sources in the
 * same order as before.
 */
struct np_srcmap {
    np_hll_pool_t *pool;
    uint64_t *index;      /* 0 = empty, else (hash >> 32) << 32 | (entry number + 1) */
    size_t mask;          /* index slots - 1 */
    np_srcagg_t *entries; /* count used, cap allocated */
    size_t count, cap;
    size_t max_sources;
    uint64_t *changed;    /* one bit per entry: updated since np_srcmap_changes_clear */
    uint64_t evicted;
    np_srcagg_t other;
};

#define SRCMAP_MIN_SLOTS 64
#define SLOT_ENTRY(v) ((size_t)((v) & 0xffffffffu) - 1)
#define SLOT_TAG(h) ((h) >> 32 << 32)
#define CHANGED_WORDS(n) (((n) + 63) / 64)

/* Marks an entry for the next incremental checkpoint: one bit, set on every update. */
static inline void mark(np_srcmap_t *m, const np_srcagg_t *s) {
    size_t i = (size_t)(s - m->entries);
    m->changed[i / 64] |= 1ull << (i % 64);
}

uint64_t np_ip_hash(const np_ip_t *ip) {
    uint64_t a, b;
    memcpy(&a, ip->b, 8);
    memcpy(&b, ip->b + 8, 8);
    /* A 128->64 multiply-xorshift mix: cheap, and good enough that IPv4-mapped
     * addresses (whose first 8 bytes are all equal) still spread. */
    uint64_t h = (a ^ 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
    h ^= b + 0x94d049bb133111ebULL + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 32;
    return h;
}

int np_pmix_bucket(uint8_t proto) {
    switch (proto) {
    case NP_PROTO_TCP: return NP_PMIX_TCP;
    case NP_PROTO_UDP: return NP_PMIX_UDP;
    case NP_PROTO_ICMP:
    case NP_PROTO_ICMPV6: return NP_PMIX_ICMP;
    default: return NP_PMIX_OTHER;
    }
}

np_srcmap_t *np_srcmap_new(size_t max_sources, np_hll_pool_t *pool) {
    assert(max_sources >= 1 && max_sources < UINT32_MAX);
    np_srcmap_t *m = calloc(1, sizeof(*m));
    if (!m) return NULL;
    m->pool = pool;
    m->index = calloc(SRCMAP_MIN_SLOTS, sizeof(*m->index));
    m->cap = SRCMAP_MIN_SLOTS / 2 < max_sources ? SRCMAP_MIN_SLOTS / 2 : max_sources;
    m->entries = malloc(m->cap * sizeof(*m->entries));
    m->changed = calloc(CHANGED_WORDS(m->cap), sizeof(*m->changed));
    if (!m->index || !m->entries || !m->changed) {
        free(m->index);
        free(m->entries);
        free(m->changed);
        free(m);
        return NULL;
    }
    m->mask = SRCMAP_MIN_SLOTS - 1;
    m->max_sources = max_sources;
    return m;
}

void np_srcmap_destroy(np_srcmap_t **mp) {
    if (!mp || !*mp) return;
    np_srcmap_clear(*mp); /* sketch blocks back to the pool */
    free((*mp)->index);
    free((*mp)->entries);
    free((*mp)->changed);
    free(*mp);
    *mp = NULL;
}

/* The index slot holding ip, or the empty slot where it would go. */
static uint64_t *find_slot(const np_srcmap_t *m, uint64_t *index, size_t mask, const np_ip_t *ip, uint64_t h) {
    size_t i = (size_t)h & mask;
    uint64_t tag = SLOT_TAG(h);
    for (;;) {
        uint64_t v = index[i];
        if (v == 0 || (SLOT_TAG(v) == tag && memcmp(m->entries[SLOT_ENTRY(v)].ip.b, ip->b, 16) == 0))
            return &index[i];
        i = (i + 1) & mask;
    }
}

/* Keeps the index load <= 1/2 so probes stay short; returns -1 if it cannot grow. The
 * slots are re-inserted in slot order, as the entries themselves used to be. */
static int grow_index(np_srcmap_t *m) {
    size_t nslots = (m->mask + 1) * 2;
    uint64_t *ni = calloc(nslots, sizeof(*ni));
    if (!ni) return -1;
    for (size_t i = 0; i <= m->mask; i++) {
        uint64_t v = m->index[i];
        if (v) *find_slot(m, ni, nslots - 1, &m->entries[SLOT_ENTRY(v)].ip, np_ip_hash(&m->entries[SLOT_ENTRY(v)].ip)) = v;
    }
    free(m->index);
    m->index = ni;
    m->mask = nslots - 1;
    return 0;
}

/* Room for one more entry: doubles the entries (never past max_sources). */
static int grow_entries(np_srcmap_t *m) {
    size_t ncap = m->cap * 2 < m->max_sources ? m->cap * 2 : m->max_sources;
    np_srcagg_t *ne = realloc(m->entries, ncap * sizeof(*ne));
    if (!ne) return -1;
    m->entries = ne;
    uint64_t *nc = realloc(m->changed, CHANGED_WORDS(ncap) * sizeof(*nc));
    if (!nc) return -1; /* entries grew, cap did not: the next call retries */
    memset(nc + CHANGED_WORDS(m->cap), 0, (CHANGED_WORDS(ncap) - CHANGED_WORDS(m->cap)) * sizeof(*nc));
    m->changed = nc;
    m->cap = ncap;
    return 0;
}

/* The entry for ip, created if needed; NULL when the table is full (an eviction). */
static np_srcagg_t *entry(np_srcmap_t *m, const np_ip_t *ip) {
    uint64_t h = np_ip_hash(ip);
    uint64_t *slot = find_slot(m, m->index, m->mask, ip, h);
    if (*slot) return &m->entries[SLOT_ENTRY(*slot)];
    if (m->count >= m->max_sources) return NULL;
    if (m->count == m->cap && grow_entries(m) < 0) return NULL;
    if ((m->count + 1) * 2 > m->mask + 1) {
        if (grow_index(m) < 0) return NULL;
        slot = find_slot(m, m->index, m->mask, ip, h);
    }
    np_srcagg_t *s = &m->entries[m->count];
    memset(s, 0, sizeof(*s));
    s->ip = *ip;
    *slot = SLOT_TAG(h) | (uint64_t)(m->count + 1);
    m->count++;
    return s;
}

/* One flow into key's entry: counters, protocol mix, the peer address and port sketches. */
static int add_flow(np_srcmap_t *m, const np_ip_t *key, const np_ip_t *peer, const np_record_t *r) {
    np_srcagg_t *s = entry(m, key);
    if (!s) {
        np_srcmap_add_other(m, 1, r->bytes, r->packets, 1);
        return 1;
    }
    mark(m, s);
    s->records++;
    s->bytes += r->bytes;
    s->packets += r->packets;
    s->pmix[np_pmix_bucket(r->proto)]++;
    np_hll_add_hash(&s->dst_ips, m->pool, np_hll_hash(peer->b, 16));
    np_hll_add_hash(&s->dst_ports, m->pool, np_hll_hash_port(r->dst_port));
    return 0;
}

int np_srcmap_add_record(np_srcmap_t *m, const np_record_t *r) { return add_flow(m, &r->src, &r->dst, r); }

int np_srcmap_add_record_dst(np_srcmap_t *m, const np_record_t *r) { return add_flow(m, &r->dst, &r->src, r); }

int np_srcmap_merge(np_srcmap_t *m, const np_srcagg_t *e) {
    np_srcagg_t *s = entry(m, &e->ip);
    if (!s) {
        np_srcmap_add_other(m, e->records, e->bytes, e->packets, 1);
        return 1;
    }
    mark(m, s);
    s->records += e->records;
    s->bytes += e->bytes;
    s->packets += e->packets;
    for (int i = 0; i < NP_PMIX__COUNT; i++) s->pmix[i] += e->pmix[i];
    np_hll_merge(&s->dst_ips, &e->dst_ips, m->pool);
    np_hll_merge(&s->dst_ports, &e->dst_ports, m->pool);
    return 0;
}

int np_srcmap_add(np_srcmap_t *m, const np_ip_t *ip, uint64_t records, uint64_t bytes,
                  uint64_t packets) {
    assert(records >= 1);
    np_srcagg_t *s = entry(m, ip);
    if (!s) {
        np_srcmap_add_other(m, records, bytes, packets, 1);
        return 1;
    }
    mark(m, s);
    s->records += records;
    s->bytes += bytes;
    s->packets += packets;
    return 0;
}

void np_srcmap_add_other(np_srcmap_t *m, uint64_t records, uint64_t bytes, uint64_t packets,
                         uint64_t evicted) {
    m->other.records += records;
    m->other.bytes += bytes;
    m->other.packets += packets;
    m->evicted += evicted;
}

size_t np_srcmap_count(const np_srcmap_t *m) { return m->count; }
uint64_t np_srcmap_evicted(const np_srcmap_t *m) { return m->evicted; }
const np_srcagg_t *np_srcmap_other(const np_srcmap_t *m) { return &m->other; }
size_t np_srcmap_capacity(const np_srcmap_t *m) { return m->mask + 1; }
size_t np_srcmap_memory_bytes(const np_srcmap_t *m) {
    return sizeof(*m) + (m->mask + 1) * sizeof(*m->index) + m->cap * sizeof(*m->entries) +
           CHANGED_WORDS(m->cap) * sizeof(*m->changed);
}
size_t np_srcmap_slots(const np_srcmap_t *m) { return m->mask + 1; }

const np_srcagg_t *np_srcmap_slot(const np_srcmap_t *m, size_t i) {
    return m->index[i] ? &m->entries[SLOT_ENTRY(m->index[i])] : NULL;
}

const np_srcagg_t *np_srcmap_get(const np_srcmap_t *m, const np_ip_t *ip) {
    const uint64_t *slot = find_slot(m, m->index, m->mask, ip, np_ip_hash(ip));
    return *slot ? &m->entries[SLOT_ENTRY(*slot)] : NULL;
}

void np_srcmap_clear(np_srcmap_t *m) {
    if (m->pool)
        for (size_t i = 0; i < m->count; i++) {
            np_hll_reset(&m->entries[i].dst_ips, m->pool);
            np_hll_reset(&m->entries[i].dst_ports, m->pool);
        }
    if (m->count) memset(m->index, 0, (m->mask + 1) * sizeof(*m->index));
    np_srcmap_changes_clear(m);
    m->count = 0;
    m->evicted = 0;
    memset(&m->other, 0, sizeof(m->other));
}

size_t np_srcmap_entries(const np_srcmap_t *m) { return m->count; }

const np_srcagg_t *np_srcmap_entry(const np_srcmap_t *m, size_t i) { return i < m->count ? &m->entries[i] : NULL; }

bool np_srcmap_changed(const np_srcmap_t *m, size_t i) {
    return i < m->count && (m->changed[i / 64] >> (i % 64) & 1);
}

size_t np_srcmap_changed_count(const np_srcmap_t *m) {
    size_t n = 0;
    for (size_t w = 0; w < CHANGED_WORDS(m->count); w++) n += (size_t)__builtin_popcountll(m->changed[w]);
    return n;
}

void np_srcmap_changes_clear(np_srcmap_t *m) {
    memset(m->changed, 0, CHANGED_WORDS(m->count) * sizeof(*m->changed));
}

/* 1 if a ranks before b. */
static int ranks_before(const np_srcagg_t *a, const np_srcagg_t *b) {
    if (a->bytes != b->bytes) return a->bytes > b->bytes;
    if (a->records != b->records) return a->records > b->records;
    return memcmp(a->ip.b, b->ip.b, 16) < 0;
}

size_t np_srcmap_top_bytes(const np_srcmap_t *m, np_srcagg_t *out, size_t n) {
    size_t have = 0;
    if (n == 0) return 0;
    /* Insertion into a small sorted array: n is a handful (top 10), the table large. */
    for (size_t i = 0; i <= m->mask; i++) {
        const np_srcagg_t *s = np_srcmap_slot(m, i);
        if (!s) continue;
        if (have == n && !ranks_before(s, &out[n - 1])) continue;
        size_t j = have < n ? have++ : n - 1;
        while (j > 0 && ranks_before(s, &out[j - 1])) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = *s;
    }
    return have;
}
