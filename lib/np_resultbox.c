/* np_resultbox: results awaiting the gateway's acknowledgement. See np_resultbox.h. */
#include "np_resultbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct np_resultbox {
    np_resultbox_item_t *items;
    size_t cap, head, len;
};

size_t np_resultbox_bound_bytes(size_t cap, size_t json_max) {
    return sizeof(np_resultbox_t) + cap * (sizeof(np_resultbox_item_t) + json_max);
}

np_resultbox_t *np_resultbox_new(size_t cap) {
    if (cap == 0) return NULL;
    np_resultbox_t *b = calloc(1, sizeof(*b));
    if (!b) return NULL;
    b->items = calloc(cap, sizeof(*b->items));
    if (!b->items) {
        free(b);
        return NULL;
    }
    b->cap = cap;
    return b;
}

void np_resultbox_destroy(np_resultbox_t **bp) {
    if (!bp || !*bp) return;
    np_resultbox_clear(*bp);
    free((*bp)->items);
    free(*bp);
    *bp = NULL;
}

size_t np_resultbox_len(const np_resultbox_t *b) { return b->len; }
size_t np_resultbox_cap(const np_resultbox_t *b) { return b->cap; }

np_resultbox_item_t *np_resultbox_at(np_resultbox_t *b, size_t k) { return &b->items[(b->head + k) % b->cap]; }

np_resultbox_item_t *np_resultbox_push(np_resultbox_t *b, const char *id, const char *type, int64_t start,
                                       int64_t end, const uint8_t *json, size_t len) {
    if (b->len == b->cap) return NULL;
    np_resultbox_item_t *p = np_resultbox_at(b, b->len);
    p->json = malloc(len ? len : 1);
    if (!p->json) return NULL;
    if (len) memcpy(p->json, json, len);
    p->len = len;
    snprintf(p->id, sizeof(p->id), "%s", id);
    snprintf(p->type, sizeof(p->type), "%s", type);
    p->start = start;
    p->end = end;
    p->sent_mono = 0;
    b->len++;
    return p;
}

bool np_resultbox_ack(np_resultbox_t *b, const char *id) {
    bool found = false;
    for (size_t k = 0; k < b->len; k++) {
        np_resultbox_item_t *p = np_resultbox_at(b, k);
        if (p->json && strcmp(p->id, id) == 0) {
            free(p->json);
            p->json = NULL;
            found = true;
            break;
        }
    }
    while (b->len && b->items[b->head].json == NULL) {
        b->head = (b->head + 1) % b->cap;
        b->len--;
    }
    return found;
}

void np_resultbox_clear(np_resultbox_t *b) {
    for (size_t k = 0; k < b->len; k++) {
        np_resultbox_item_t *p = np_resultbox_at(b, k);
        free(p->json);
        p->json = NULL;
    }
    b->head = b->len = 0;
}

static int cmp_item(const void *a, const void *b) {
    const np_resultbox_item_t *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

void np_resultbox_sort(np_resultbox_t *b) {
    if (b->head + b->len > b->cap) { /* wrapped: rotate to index 0 first */
        np_resultbox_item_t *tmp = malloc(b->len * sizeof(*tmp));
        if (!tmp) return; /* left in emission order: only the re-send order differs */
        for (size_t k = 0; k < b->len; k++) tmp[k] = *np_resultbox_at(b, k);
        memcpy(b->items, tmp, b->len * sizeof(*tmp));
        free(tmp);
        b->head = 0;
    }
    qsort(b->items + b->head, b->len, sizeof(*b->items), cmp_item);
}

size_t np_resultbox_due(np_resultbox_t *b, int64_t now, int64_t resend_ms, size_t *first) {
    size_t f = SIZE_MAX, count = 0;
    for (size_t k = 0; k < b->len; k++) {
        const np_resultbox_item_t *p = np_resultbox_at(b, k);
        bool due = p->json && now - p->sent_mono >= resend_ms;
        if (due && f == SIZE_MAX) f = k;
        if (!due && f != SIZE_MAX) break;
        if (due) count++;
    }
    *first = count ? f : 0;
    return count;
}
