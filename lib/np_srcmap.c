/* np_srcmap: bounded per-source counters. See np_srcmap.h. */
#include "np_srcmap.h"

#include <assert.h>
#include <stdbool.h>
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
    uint64_t *est;        /* per entry, Space-Saving estimate: weight since insertion + error */
    size_t count, cap;
    size_t max_sources;
    uint64_t *changed;    /* one bit per entry: updated since np_srcmap_changes_clear */
    uint64_t evicted;
    uint64_t weight;      /* weight added to entries since the last clear (the bound's W) */
    np_srcagg_t other;
    /* Min-heap of entry numbers by est, built the first time the table overflows and kept
     * while it stays full (a table that never fills pays nothing for it). */
    uint32_t *heap, *hpos; /* max_sources each, allocated once */
    bool heaped;
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
    m->est = malloc(m->cap * sizeof(*m->est));
    if (!m->index || !m->entries || !m->changed || !m->est) {
        free(m->index);
        free(m->entries);
        free(m->changed);
        free(m->est);
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
    free((*mp)->est);
    free((*mp)->heap);
    free((*mp)->hpos);
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
    uint64_t *nest = realloc(m->est, ncap * sizeof(*nest));
    if (!nest) return -1; /* entries grew, cap did not: the next call retries all */
    m->est = nest;
    m->cap = ncap;
    return 0;
}

/* ---- Space-Saving (Metwally et al., 2005), weighted ----------------------------------
 * Every entry has an estimate est >= the weight its source added since the last clear
 * (weight = max(records, packets) per addition: at least the records and the packets).
 * When the table is full, a new source takes the entry of the smallest estimate: that
 * entry's counters are folded into `other` (so totals stay exact) and the new source
 * starts with est = the evicted estimate + its weight. The estimates then sum to W, the
 * weight added, so the smallest is <= W / max_sources; a source never evicted is exact;
 * a stored source lacks at most est - (its weight since insertion) <= W / max_sources of
 * its records and of its packets, and every source that added more than W / max_sources
 * is stored. */

static uint64_t weight_of(uint64_t records, uint64_t packets) { return records > packets ? records : packets; }

static void heap_set(np_srcmap_t *m, size_t pos, uint32_t e) {
    m->heap[pos] = e;
    m->hpos[e] = (uint32_t)pos;
}

/* Restores the heap below pos after the estimate at pos grew. */
static void sift_down(np_srcmap_t *m, size_t pos) {
    uint32_t e = m->heap[pos];
    uint64_t v = m->est[e];
    for (;;) {
        size_t c = 2 * pos + 1;
        if (c >= m->count) break;
        if (c + 1 < m->count && m->est[m->heap[c + 1]] < m->est[m->heap[c]]) c++;
        if (m->est[m->heap[c]] >= v) break;
        heap_set(m, pos, m->heap[c]);
        pos = c;
    }
    heap_set(m, pos, e);
}

/* Builds the heap the first time the full table must evict. Returns -1 without memory. */
static int heap_build(np_srcmap_t *m) {
    if (!m->heap) {
        m->heap = malloc(m->max_sources * sizeof(*m->heap));
        m->hpos = malloc(m->max_sources * sizeof(*m->hpos));
        if (!m->heap || !m->hpos) {
            free(m->heap);
            free(m->hpos);
            m->heap = m->hpos = NULL;
            return -1;
        }
    }
    for (size_t i = 0; i < m->count; i++) heap_set(m, i, (uint32_t)i);
    for (size_t i = m->count / 2; i-- > 0;) sift_down(m, i);
    m->heaped = true;
    return 0;
}

/* Adds weight w to entry s's estimate. */
static void bump(np_srcmap_t *m, const np_srcagg_t *s, uint64_t w) {
    size_t e = (size_t)(s - m->entries);
    m->est[e] += w;
    m->weight += w;
    if (m->heaped) sift_down(m, m->hpos[e]);
}

/* Empties index slot i of a linear-probing table: later slots of the same probe run move
 * back into the gap (no tombstones, so probes stay short under constant eviction). */
static void index_delete(np_srcmap_t *m, size_t i) {
    for (size_t j = (i + 1) & m->mask;; j = (j + 1) & m->mask) {
        uint64_t v = m->index[j];
        if (!v) break;
        size_t home = (size_t)np_ip_hash(&m->entries[SLOT_ENTRY(v)].ip) & m->mask;
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            m->index[i] = v;
            i = j;
        }
    }
    m->index[i] = 0;
}

/* The full table's entry of least estimate, emptied for ip (hash h): its counters go to
 * `other`, its sketches back to the pool. NULL when the heap cannot be had (no memory). */
static np_srcagg_t *evict_min(np_srcmap_t *m, const np_ip_t *ip, uint64_t h, uint64_t w) {
    if (!m->heaped && heap_build(m) < 0) return NULL;
    uint32_t e = m->heap[0];
    np_srcagg_t *v = &m->entries[e];
    np_srcmap_add_other(m, v->records, v->bytes, v->packets, 1);
    np_hll_reset(&v->dst_ips, m->pool);
    np_hll_reset(&v->dst_ports, m->pool);
    index_delete(m, (size_t)(find_slot(m, m->index, m->mask, &v->ip, np_ip_hash(&v->ip)) - m->index));
    memset(v, 0, sizeof(*v));
    v->ip = *ip;
    *find_slot(m, m->index, m->mask, ip, h) = SLOT_TAG(h) | (uint64_t)(e + 1);
    m->est[e] += w; /* the evicted estimate is the newcomer's error */
    m->weight += w;
    sift_down(m, 0);
    return v;
}

/* The entry for ip with weight w added to its estimate, created if needed (when the
 * table is full, in place of the entry of least estimate: *evicted is set). NULL only
 * without memory: the caller folds the counters into `other` instead. */
static np_srcagg_t *entry(np_srcmap_t *m, const np_ip_t *ip, uint64_t w, int *evicted) {
    uint64_t h = np_ip_hash(ip);
    uint64_t *slot = find_slot(m, m->index, m->mask, ip, h);
    *evicted = 0;
    if (*slot) {
        np_srcagg_t *s = &m->entries[SLOT_ENTRY(*slot)];
        bump(m, s, w);
        return s;
    }
    if (m->count >= m->max_sources) {
        *evicted = 1;
        return evict_min(m, ip, h, w);
    }
    if (m->count == m->cap && grow_entries(m) < 0) return NULL;
    if ((m->count + 1) * 2 > m->mask + 1) {
        if (grow_index(m) < 0) return NULL;
        slot = find_slot(m, m->index, m->mask, ip, h);
    }
    np_srcagg_t *s = &m->entries[m->count];
    memset(s, 0, sizeof(*s));
    s->ip = *ip;
    *slot = SLOT_TAG(h) | (uint64_t)(m->count + 1);
    m->est[m->count] = w;
    m->weight += w;
    m->count++;
    return s;
}

/* One flow into key's entry: counters, protocol mix, the peer address and port sketches. */
static int add_flow(np_srcmap_t *m, const np_ip_t *key, const np_ip_t *peer, const np_record_t *r) {
    int evicted;
    np_srcagg_t *s = entry(m, key, weight_of(1, r->packets), &evicted);
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
    return evicted;
}

int np_srcmap_add_record(np_srcmap_t *m, const np_record_t *r) { return add_flow(m, &r->src, &r->dst, r); }

int np_srcmap_add_record_dst(np_srcmap_t *m, const np_record_t *r) { return add_flow(m, &r->dst, &r->src, r); }

void np_srcmap_prefetch(const np_srcmap_t *m, const np_ip_t *ip, int stage) {
    const uint64_t *slot = &m->index[(size_t)np_ip_hash(ip) & m->mask];
    if (stage == 0) {
        __builtin_prefetch(slot);
        return;
    }
    uint64_t v = *slot;
    if (v) __builtin_prefetch(&m->entries[SLOT_ENTRY(v)]);
}

int np_srcmap_merge(np_srcmap_t *m, const np_srcagg_t *e) {
    int evicted;
    np_srcagg_t *s = entry(m, &e->ip, weight_of(e->records, e->packets), &evicted);
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
    return evicted;
}

int np_srcmap_add(np_srcmap_t *m, const np_ip_t *ip, uint64_t records, uint64_t bytes,
                  uint64_t packets) {
    assert(records >= 1);
    int evicted;
    np_srcagg_t *s = entry(m, ip, weight_of(records, packets), &evicted);
    if (!s) {
        np_srcmap_add_other(m, records, bytes, packets, 1);
        return 1;
    }
    mark(m, s);
    s->records += records;
    s->bytes += bytes;
    s->packets += packets;
    return evicted;
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
bool np_srcmap_interchangeable(const np_srcmap_t *a, const np_srcmap_t *b) {
    return a->max_sources == b->max_sources && a->pool == b->pool;
}
const np_srcagg_t *np_srcmap_other(const np_srcmap_t *m) { return &m->other; }
size_t np_srcmap_capacity(const np_srcmap_t *m) { return m->mask + 1; }
size_t np_srcmap_memory_bytes(const np_srcmap_t *m) {
    return sizeof(*m) + (m->mask + 1) * sizeof(*m->index) + m->cap * (sizeof(*m->entries) + sizeof(*m->est)) +
           CHANGED_WORDS(m->cap) * sizeof(*m->changed) +
           (m->heap ? m->max_sources * (sizeof(*m->heap) + sizeof(*m->hpos)) : 0);
}
/* The index slot count of a full table: the load stays <= 1/2 (see entry()). */
static size_t full_index_slots(size_t max_sources) {
    size_t slots = SRCMAP_MIN_SLOTS;
    while (max_sources * 2 > slots) slots *= 2;
    return slots;
}

size_t np_srcmap_bound_bytes(size_t max_sources, bool growing) {
    size_t slots = full_index_slots(max_sources);
    return sizeof(np_srcmap_t) + (slots + (growing ? slots / 2 : 0)) * sizeof(uint64_t) +
           max_sources * (sizeof(np_srcagg_t) + sizeof(uint64_t)) + CHANGED_WORDS(max_sources) * sizeof(uint64_t) +
           max_sources * 2 * sizeof(uint32_t);
}

uint64_t np_srcmap_upper(const np_srcmap_t *m, const np_srcagg_t *e) {
    assert(e >= m->entries && e < m->entries + m->count); /* an entry of m, not a copy */
    return m->est[e - m->entries];
}
uint64_t np_srcmap_error_bound(const np_srcmap_t *m) { return m->weight / m->max_sources; }
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
    m->weight = 0;
    m->heaped = false;
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

int np_srcagg_ranks_before(const np_srcagg_t *a, const np_srcagg_t *b) {
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
        if (have == n && !np_srcagg_ranks_before(s, &out[n - 1])) continue;
        size_t j = have < n ? have++ : n - 1;
        while (j > 0 && np_srcagg_ranks_before(s, &out[j - 1])) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = *s;
    }
    return have;
}
