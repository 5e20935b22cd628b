/* np_owner: the coordinator's table of partition owners. See np_owner.h. */
#include "np_owner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    uint8_t peer[256];
    size_t plen;              /* 0: no owner known */
    int64_t epoch;
    char session[NP_OWNER_SESSION_MAX];
    int64_t last_lookup;      /* monotonic ms; INT64_MIN never */
} slot_t;

struct np_owner {
    slot_t *slots;
    int32_t n;
    int64_t window_start;     /* monotonic ms: the current one-second look-up budget */
    int32_t lookups;          /* look-ups in it */
};

size_t np_owner_bound_bytes(int32_t max_slots) { return sizeof(np_owner_t) + (size_t)max_slots * sizeof(slot_t); }

np_owner_t *np_owner_new(int32_t max_slots) {
    np_owner_t *o = calloc(1, sizeof(*o));
    if (!o || !(o->slots = calloc((size_t)max_slots, sizeof(*o->slots)))) {
        free(o);
        return NULL;
    }
    o->n = max_slots;
    o->window_start = INT64_MIN / 2;
    for (int32_t i = 0; i < max_slots; i++) o->slots[i].last_lookup = INT64_MIN;
    return o;
}

void np_owner_destroy(np_owner_t **o) {
    if (!o || !*o) return;
    free((*o)->slots);
    free(*o);
    *o = NULL;
}

int np_owner_value(char *buf, size_t len, int64_t epoch, const char *session, int32_t slot) {
    int n = snprintf(buf, len, "%lld %s %d", (long long)epoch, session, (int)slot);
    return n < 0 || (size_t)n >= len ? -1 : n;
}

static bool same_peer(const slot_t *s, const uint8_t *peer, size_t plen) {
    return s->plen == plen && memcmp(s->peer, peer, plen) == 0;
}

static bool session_ok(const char *session) {
    size_t n = session ? strlen(session) : 0;
    if (n == 0 || n >= NP_OWNER_SESSION_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (session[i] == ' ' || (unsigned char)session[i] < 0x21 || (unsigned char)session[i] > 0x7e) return false;
    return true;
}

np_owner_verdict_t np_owner_claim(np_owner_t *o, int32_t slot, const uint8_t *peer, size_t plen, int64_t epoch,
                                  const char *session, int64_t now_ms) {
    if (slot < 0 || slot >= o->n || plen == 0 || plen > sizeof(o->slots[0].peer) || epoch <= 0 ||
        !session_ok(session))
        return NP_OWNER_REFUSED;
    slot_t *s = &o->slots[slot];
    if (s->plen) {
        if (epoch < s->epoch) return NP_OWNER_REFUSED; /* a zombie: someone took it since */
        if (epoch == s->epoch && same_peer(s, peer, plen) && strcmp(s->session, session) == 0) return NP_OWNER_OK;
    }
    if (s->last_lookup != INT64_MIN && now_ms - s->last_lookup < NP_OWNER_LOOKUP_MS) return NP_OWNER_REFUSED;
    /* One forged message naming thousands of slots must not become thousands of reads. */
    if (now_ms - o->window_start >= 1000 || now_ms < o->window_start) {
        o->window_start = now_ms;
        o->lookups = 0;
    }
    if (o->lookups >= NP_OWNER_LOOKUPS_PER_S) return NP_OWNER_REFUSED;
    o->lookups++;
    s->last_lookup = now_ms;
    return NP_OWNER_LOOKUP;
}

bool np_owner_confirm(np_owner_t *o, int32_t slot, const uint8_t *peer, size_t plen, int64_t epoch,
                      const char *session, const char *stored, size_t slen) {
    char want[128];
    if (!stored || slot < 0 || slot >= o->n || plen == 0 || plen > sizeof(o->slots[0].peer) || !session_ok(session))
        return false;
    int n = np_owner_value(want, sizeof(want), epoch, session, slot);
    if (n < 0 || (size_t)n != slen || memcmp(want, stored, slen) != 0) return false;
    slot_t *s = &o->slots[slot];
    memcpy(s->peer, peer, plen);
    s->plen = plen;
    s->epoch = epoch;
    snprintf(s->session, sizeof(s->session), "%s", session);
    return true;
}

bool np_owner_holds(const np_owner_t *o, int32_t slot, const uint8_t *peer, size_t plen) {
    return slot >= 0 && slot < o->n && o->slots[slot].plen && same_peer(&o->slots[slot], peer, plen);
}
