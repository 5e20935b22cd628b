/* np_pbatch: partials awaiting the coordinator's group commit. See np_pbatch.h. */
#include "np_pbatch.h"

#include <stdlib.h>
#include <string.h>

struct np_pbatch {
    np_pbatch_item_t *items;
    size_t n, max, bytes, max_bytes;
    Netpulse__PartialId *ids, **ptrs; /* np_pbatch_acks's scratch, max each */
    bool *sent;
};

np_pbatch_t *np_pbatch_new(size_t max, size_t max_bytes) {
    if (max < 1) return NULL;
    np_pbatch_t *b = calloc(1, sizeof(*b));
    if (!b) return NULL;
    b->max = max;
    b->max_bytes = max_bytes;
    b->items = calloc(max, sizeof(*b->items));
    b->ids = calloc(max, sizeof(*b->ids));
    b->ptrs = calloc(max, sizeof(*b->ptrs));
    b->sent = calloc(max, sizeof(*b->sent));
    if (!b->items || !b->ids || !b->ptrs || !b->sent) np_pbatch_destroy(&b);
    return b;
}

uint64_t np_pbatch_bound_bytes(size_t max) {
    const np_pbatch_t *b = NULL;
    return sizeof(*b) + (uint64_t)max * (sizeof(*b->items) + sizeof(*b->ids) + sizeof(*b->ptrs) + sizeof(*b->sent));
}

void np_pbatch_destroy(np_pbatch_t **b) {
    if (!b || !*b) return;
    if ((*b)->items) np_pbatch_clear(*b);
    free((*b)->items);
    free((*b)->ids);
    free((*b)->ptrs);
    free((*b)->sent);
    free(*b);
    *b = NULL;
}

np_pbatch_item_t *np_pbatch_add(np_pbatch_t *b, const uint8_t *peer, size_t peer_len, Netpulse__WorkerMsg *m,
                                size_t raw_len) {
    if (b->n == b->max || peer_len > sizeof(b->items[0].peer)) return NULL;
    np_pbatch_item_t *e = &b->items[b->n];
    const Netpulse__Partial *p = m->partial;
    e->repeat = false;
    for (size_t i = 0; i < b->n && !e->repeat; i++) /* a re-send within the batch */
        e->repeat = b->items[i].m->partial->partition == p->partition &&
                    b->items[i].m->partial->pane_start_ms == p->pane_start_ms;
    e->m = m;
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
    b->n--;
    netpulse__worker_msg__free_unpacked(b->items[b->n].m, NULL);
    b->items[b->n].m = NULL;
    b->bytes -= b->items[b->n].raw_len;
}

bool np_pbatch_full(const np_pbatch_t *b) { return b->n == b->max || b->bytes >= b->max_bytes; }
size_t np_pbatch_len(const np_pbatch_t *b) { return b->n; }
np_pbatch_item_t *np_pbatch_at(np_pbatch_t *b, size_t i) { return i < b->n ? &b->items[i] : NULL; }

static bool same_peer(const np_pbatch_item_t *x, const np_pbatch_item_t *y) {
    return x->peer_len == y->peer_len && memcmp(x->peer, y->peer, x->peer_len) == 0;
}

void np_pbatch_acks(np_pbatch_t *b, np_pbatch_ack_fn fn, void *ctx) {
    memset(b->sent, 0, b->n * sizeof(*b->sent));
    for (size_t i = 0; i < b->n; i++) {
        if (!b->items[i].ack || b->sent[i]) continue;
        size_t k = 0;
        for (size_t j = i; j < b->n; j++) {
            const np_pbatch_item_t *e = &b->items[j];
            if (!e->ack || b->sent[j] || !same_peer(e, &b->items[i])) continue;
            b->ids[k] = (Netpulse__PartialId)NETPULSE__PARTIAL_ID__INIT;
            b->ids[k].partition = e->m->partial->partition;
            b->ids[k].pane_start_ms = e->m->partial->pane_start_ms;
            b->ptrs[k] = &b->ids[k];
            b->sent[j] = true;
            k++;
        }
        fn(ctx, b->items[i].peer, b->items[i].peer_len, b->ptrs, k);
    }
}

void np_pbatch_clear(np_pbatch_t *b) {
    for (size_t i = 0; i < b->n; i++) {
        netpulse__worker_msg__free_unpacked(b->items[i].m, NULL);
        b->items[i].m = NULL;
    }
    b->n = b->bytes = 0;
}
