/* np_pbatch: partials awaiting the coordinator's group commit. See np_pbatch.h. */
#include "np_pbatch.h"
#include "np_wmsg.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

typedef struct group { /* np_pbatch_acks: one peer's acknowledged items */
    uint32_t head, tail, slot;
    size_t n;
} group_t;

struct np_pbatch {
    np_pbatch_item_t *items;
    size_t n, max, bytes, max_bytes;
    np_arena_t *arena;
    np_arena_mark_t unpacked;  /* the arena before the last unpack */
    bool pending;              /* the last unpacked message is neither added nor released */
    uint32_t *keys;            /* (partition, pane) -> item + 1; nslots, linear probing */
    uint32_t *peers;           /* np_pbatch_acks: peer -> group + 1; nslots */
    size_t mask;               /* nslots - 1 (nslots: a power of two >= 2 max) */
    group_t *groups;           /* max each: */
    uint32_t *next;            /* an item's next in its group */
    Netpulse__PartialId *ids, **ptrs;
};

static size_t nslots_for(size_t max) {
    size_t n = 2;
    while (n < 2 * max) n <<= 1;
    return n;
}

np_pbatch_t *np_pbatch_new(size_t max, size_t max_bytes) {
    if (max < 1 || max > (1u << 30)) return NULL;
    np_pbatch_t *b = calloc(1, sizeof(*b));
    if (!b) return NULL;
    b->max = max;
    b->max_bytes = max_bytes;
    size_t ns = nslots_for(max);
    b->mask = ns - 1;
    b->items = calloc(max, sizeof(*b->items));
    b->keys = calloc(ns, sizeof(*b->keys));
    b->peers = calloc(ns, sizeof(*b->peers));
    b->groups = calloc(max, sizeof(*b->groups));
    b->next = calloc(max, sizeof(*b->next));
    b->ids = calloc(max, sizeof(*b->ids));
    b->ptrs = calloc(max, sizeof(*b->ptrs));
    b->arena = np_arena_new(NP_PBATCH_ARENA_BLOCK);
    if (!b->items || !b->keys || !b->peers || !b->groups || !b->next || !b->ids || !b->ptrs || !b->arena)
        np_pbatch_destroy(&b);
    return b;
}

uint64_t np_pbatch_bound_bytes(size_t max) {
    const np_pbatch_t *b = NULL;
    return sizeof(*b) + (uint64_t)nslots_for(max) * (sizeof(*b->keys) + sizeof(*b->peers)) +
           (uint64_t)max * (sizeof(*b->items) + sizeof(*b->groups) + sizeof(*b->next) + sizeof(*b->ids) +
                            sizeof(*b->ptrs));
}

void np_pbatch_destroy(np_pbatch_t **b) {
    if (!b || !*b) return;
    free((*b)->items);
    free((*b)->keys);
    free((*b)->peers);
    free((*b)->groups);
    free((*b)->next);
    free((*b)->ids);
    free((*b)->ptrs);
    np_arena_destroy(&(*b)->arena);
    free(*b);
    *b = NULL;
}

Netpulse__WorkerMsg *np_pbatch_unpack(np_pbatch_t *b, const uint8_t *buf, size_t len) {
    np_pbatch_release(b);
    b->unpacked = np_arena_mark(b->arena);
    Netpulse__WorkerMsg *m = np_wmsg_decode(b->arena, buf, len, NULL);
    if (!m) np_arena_rewind(b->arena, b->unpacked); /* what the failed unpack took */
    b->pending = m != NULL;
    return m;
}

void np_pbatch_release(np_pbatch_t *b) {
    if (b->pending) np_arena_rewind(b->arena, b->unpacked);
    b->pending = false;
}

static size_t key_hash(int32_t partition, int64_t pane) {
    uint64_t h = (uint64_t)pane * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uint32_t)partition * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ (h >> 31));
}

static size_t peer_hash(const uint8_t *p, size_t len) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return (size_t)(h ^ (h >> 29));
}

np_pbatch_item_t *np_pbatch_add(np_pbatch_t *b, const uint8_t *peer, size_t peer_len, Netpulse__WorkerMsg *m,
                                size_t raw_len) {
    if (b->n == b->max || peer_len > sizeof(b->items[0].peer)) return NULL;
    np_pbatch_item_t *e = &b->items[b->n];
    const Netpulse__Partial *p = m->partial;
    /* A re-send within the batch: the table holds at most max of 2 max slots, so a
     * probe ends at an empty slot. */
    size_t s = key_hash(p->partition, p->pane_start_ms) & b->mask;
    e->repeat = false;
    for (; b->keys[s]; s = (s + 1) & b->mask) {
        const Netpulse__Partial *q = b->items[b->keys[s] - 1].m->partial;
        if (q->partition == p->partition && q->pane_start_ms == p->pane_start_ms) {
            e->repeat = true;
            break;
        }
    }
    if (e->repeat) {
        e->key_slot = NONE;
    } else {
        b->keys[s] = (uint32_t)b->n + 1;
        e->key_slot = (uint32_t)s;
    }
    e->m = m;
    e->mark = b->unpacked;
    b->pending = false;
    memcpy(e->peer, peer, peer_len);
    e->peer_len = peer_len;
    e->raw_len = raw_len;
    e->ack = false;
    b->n++;
    b->bytes += raw_len;
    return e;
}

void np_pbatch_drop_last(np_pbatch_t *b) {
    if (!b->n) return;
    np_pbatch_item_t *e = &b->items[--b->n];
    if (e->key_slot != NONE) b->keys[e->key_slot] = 0; /* the last inserted: nothing probed past it */
    np_pbatch_release(b); /* one unpacked after it (the caller's) goes first */
    np_arena_rewind(b->arena, e->mark);
    e->m = NULL;
    b->bytes -= e->raw_len;
}

bool np_pbatch_full(const np_pbatch_t *b) { return b->n == b->max || b->bytes >= b->max_bytes; }
size_t np_pbatch_len(const np_pbatch_t *b) { return b->n; }
np_pbatch_item_t *np_pbatch_at(np_pbatch_t *b, size_t i) { return i < b->n ? &b->items[i] : NULL; }

/* The group of item i's peer, a new one (appended to order) when it has none yet. */
static uint32_t group_of(np_pbatch_t *b, uint32_t i, size_t *ngroups) {
    const np_pbatch_item_t *e = &b->items[i];
    size_t s = peer_hash(e->peer, e->peer_len) & b->mask;
    for (; b->peers[s]; s = (s + 1) & b->mask) {
        const np_pbatch_item_t *f = &b->items[b->groups[b->peers[s] - 1].head];
        if (f->peer_len == e->peer_len && memcmp(f->peer, e->peer, e->peer_len) == 0) return b->peers[s] - 1;
    }
    uint32_t g = (uint32_t)(*ngroups)++;
    b->peers[s] = g + 1;
    b->groups[g] = (group_t){.head = i, .tail = i, .slot = (uint32_t)s, .n = 0};
    return g;
}

void np_pbatch_acks(np_pbatch_t *b, np_pbatch_ack_fn fn, void *ctx) {
    size_t ng = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        if (!b->items[i].ack) continue;
        uint32_t g = group_of(b, i, &ng);
        if (b->groups[g].n++) b->next[b->groups[g].tail] = i;
        b->groups[g].tail = i;
        b->next[i] = NONE;
    }
    for (size_t g = 0; g < ng; g++) { /* in the order of each peer's first item */
        size_t k = 0;
        for (uint32_t j = b->groups[g].head; j != NONE; j = b->next[j], k++) {
            b->ids[k] = (Netpulse__PartialId)NETPULSE__PARTIAL_ID__INIT;
            b->ids[k].partition = b->items[j].m->partial->partition;
            b->ids[k].pane_start_ms = b->items[j].m->partial->pane_start_ms;
            b->ptrs[k] = &b->ids[k];
        }
        const np_pbatch_item_t *h = &b->items[b->groups[g].head];
        fn(ctx, h->peer, h->peer_len, b->ptrs, k);
        b->peers[b->groups[g].slot] = 0;
    }
}

void np_pbatch_clear(np_pbatch_t *b) {
    for (size_t i = 0; i < b->n; i++) {
        if (b->items[i].key_slot != NONE) b->keys[b->items[i].key_slot] = 0;
        b->items[i].m = NULL;
    }
    b->n = b->bytes = 0;
    b->pending = false;
    np_arena_reset(b->arena);
}

size_t np_pbatch_arena_used(const np_pbatch_t *b) { return np_arena_used(b->arena); }
size_t np_pbatch_arena_held(const np_pbatch_t *b) { return np_arena_held(b->arena); }
uint64_t np_pbatch_arena_mallocs(const np_pbatch_t *b) { return np_arena_mallocs(b->arena); }
