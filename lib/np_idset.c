/* np_idset: a bounded set of recent ids. See np_idset.h. */
#include "np_idset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_result.h"

#define ID_MAX NP_RESULT_ID_MAX

struct np_idset {
    size_t *slot_of;  /* ring position -> set slot */
    size_t *pos_of;   /* set slot -> ring position (O(1) eviction) */
    char (*set)[ID_MAX];
    size_t ids_cap, set_cap, ring_head, ring_len;
    uint64_t evicted;
};

static size_t pow2_at_least(size_t n) {
    size_t p = 1;
    while (p < n) p <<= 1;
    return p;
}

np_idset_t *np_idset_new(size_t cap) {
    if (cap == 0) return NULL;
    np_idset_t *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->ids_cap = cap;
    s->set_cap = pow2_at_least(cap * 2); /* load at most 1/2: short probe runs */
    s->slot_of = calloc(s->ids_cap, sizeof(*s->slot_of));
    s->set = calloc(s->set_cap, ID_MAX);
    s->pos_of = calloc(s->set_cap, sizeof(*s->pos_of));
    if (!s->slot_of || !s->set || !s->pos_of) np_idset_destroy(&s);
    return s;
}

void np_idset_destroy(np_idset_t **sp) {
    if (!sp || !*sp) return;
    free((*sp)->slot_of);
    free((*sp)->set);
    free((*sp)->pos_of);
    free(*sp);
    *sp = NULL;
}

static uint64_t str_hash(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a: ids are short */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

static size_t set_find(const np_idset_t *s, const char *id) {
    size_t i = (size_t)str_hash(id) & (s->set_cap - 1);
    while (s->set[i][0] && strcmp(s->set[i], id) != 0) i = (i + 1) & (s->set_cap - 1);
    return i;
}

bool np_idset_has(const np_idset_t *s, const char *id) { return s->set[set_find(s, id)][0] != '\0'; }

/* Removes slot i from the linear-probing set, re-placing the cluster after it. */
static void set_remove_slot(np_idset_t *s, size_t i) {
    s->set[i][0] = '\0';
    size_t j = (i + 1) & (s->set_cap - 1);
    while (s->set[j][0]) {
        char tmp[ID_MAX];
        memcpy(tmp, s->set[j], ID_MAX);
        s->set[j][0] = '\0';
        size_t k = set_find(s, tmp);
        memcpy(s->set[k], tmp, ID_MAX);
        s->pos_of[k] = s->pos_of[j]; /* keep the ring's slot index current */
        s->slot_of[s->pos_of[k]] = k;
        j = (j + 1) & (s->set_cap - 1);
    }
}

void np_idset_add(np_idset_t *s, const char *id) {
    if (np_idset_has(s, id)) return;
    if (s->ring_len == s->ids_cap) { /* forget the oldest */
        set_remove_slot(s, s->slot_of[s->ring_head]);
        s->ring_head = (s->ring_head + 1) % s->ids_cap;
        s->ring_len--;
        s->evicted++;
    }
    size_t k = set_find(s, id), pos = (s->ring_head + s->ring_len) % s->ids_cap;
    snprintf(s->set[k], ID_MAX, "%s", id);
    s->slot_of[pos] = k;
    s->pos_of[k] = pos;
    s->ring_len++;
}

size_t np_idset_len(const np_idset_t *s) { return s->ring_len; }
size_t np_idset_cap(const np_idset_t *s) { return s->ids_cap; }
uint64_t np_idset_evicted(const np_idset_t *s) { return s->evicted; }
