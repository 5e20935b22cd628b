/* np_classmap: bounded per-destination NSL-KDD class counts. See np_classmap.h. */
#include "np_classmap.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "np_srcmap.h" /* np_ip_hash */

struct np_classmap {
    size_t cap, n;
    size_t mask;            /* slots - 1 */
    uint32_t *slots;        /* 0 = empty, else entry + 1 */
    np_ip_t *ips;
    np_classcount_t *counts;
    np_classcount_t total, other;
    uint64_t evicted;
};

static size_t slots_for(size_t cap) {
    size_t slots = 16;
    while (slots < cap * 2) slots *= 2; /* load factor <= 1/2 */
    return slots;
}

size_t np_classmap_bound_bytes(size_t cap) {
    return sizeof(np_classmap_t) + slots_for(cap) * sizeof(uint32_t) + cap * (sizeof(np_ip_t) + sizeof(np_classcount_t));
}

np_classmap_t *np_classmap_new(size_t cap) {
    assert(cap >= 1 && cap < UINT32_MAX / 4);
    np_classmap_t *m = calloc(1, sizeof(*m));
    if (!m) return NULL;
    size_t slots = slots_for(cap);
    m->cap = cap;
    m->mask = slots - 1;
    m->slots = calloc(slots, sizeof(*m->slots));
    m->ips = calloc(cap, sizeof(*m->ips));
    m->counts = calloc(cap, sizeof(*m->counts));
    if (!m->slots || !m->ips || !m->counts) np_classmap_destroy(&m);
    return m;
}

void np_classmap_destroy(np_classmap_t **mp) {
    if (!mp || !*mp) return;
    free((*mp)->slots);
    free((*mp)->ips);
    free((*mp)->counts);
    free(*mp);
    *mp = NULL;
}

void np_classmap_clear(np_classmap_t *m) {
    /* Clearing touches only the slots in use: a pane with few destinations is cheap to reuse. */
    for (size_t i = 0; i < m->n; i++) {
        size_t s = np_ip_hash(&m->ips[i]) & m->mask;
        while (m->slots[s]) {
            m->slots[s] = 0;
            s = (s + 1) & m->mask;
        }
    }
    memset(m->counts, 0, m->n * sizeof(*m->counts));
    m->n = 0;
    memset(&m->total, 0, sizeof(m->total));
    memset(&m->other, 0, sizeof(m->other));
    m->evicted = 0;
}

/* The entry for ip, created if there is room; NULL when the table is full. */
static np_classcount_t *lookup(np_classmap_t *m, const np_ip_t *ip) {
    size_t s = np_ip_hash(ip) & m->mask;
    for (; m->slots[s]; s = (s + 1) & m->mask)
        if (memcmp(m->ips[m->slots[s] - 1].b, ip->b, 16) == 0) return &m->counts[m->slots[s] - 1];
    if (m->n == m->cap) return NULL;
    m->ips[m->n] = *ip;
    m->slots[s] = (uint32_t)++m->n;
    return &m->counts[m->n - 1];
}

static void add_count(np_classcount_t *a, const np_classcount_t *b) {
    for (int k = 0; k < NP_KDD_NCLASSES; k++) {
        a->n[k] += b->n[k];
        a->conf[k] += b->conf[k];
    }
}

int np_classmap_add(np_classmap_t *m, const np_ip_t *dst, int cls, double confidence) {
    assert(cls >= 0 && cls < NP_KDD_NCLASSES);
    np_classcount_t one = {{0}, {0}};
    one.n[cls] = 1;
    one.conf[cls] = (uint64_t)llround((confidence < 0 ? 0 : confidence > 1 ? 1 : confidence) * 1e6);
    return np_classmap_merge(m, dst, &one);
}

int np_classmap_merge(np_classmap_t *m, const np_ip_t *dst, const np_classcount_t *c) {
    add_count(&m->total, c);
    np_classcount_t *e = dst ? lookup(m, dst) : NULL;
    if (e) {
        add_count(e, c);
        return 0;
    }
    add_count(&m->other, c);
    if (!dst) return 0;
    m->evicted++;
    return 1;
}

void np_classmap_add_evicted(np_classmap_t *m, uint64_t evicted) { m->evicted += evicted; }
const np_classcount_t *np_classmap_total(const np_classmap_t *m) { return &m->total; }
const np_classcount_t *np_classmap_other(const np_classmap_t *m) { return &m->other; }
uint64_t np_classmap_evicted(const np_classmap_t *m) { return m->evicted; }
size_t np_classmap_count(const np_classmap_t *m) { return m->n; }
size_t np_classmap_capacity(const np_classmap_t *m) { return m->cap; }
bool np_classmap_empty(const np_classmap_t *m) { return np_classcount_sum(&m->total) == 0; }

void np_classmap_entry(const np_classmap_t *m, size_t i, const np_ip_t **ip, const np_classcount_t **c) {
    assert(i < m->n);
    *ip = &m->ips[i];
    *c = &m->counts[i];
}

size_t np_classmap_memory_bytes(const np_classmap_t *m) {
    return sizeof(*m) + (m->mask + 1) * sizeof(*m->slots) + m->cap * (sizeof(*m->ips) + sizeof(*m->counts));
}

uint64_t np_classcount_sum(const np_classcount_t *c) {
    uint64_t s = 0;
    for (int k = 0; k < NP_KDD_NCLASSES; k++) s += c->n[k];
    return s;
}
