/* np_slots: a worker's owned partitions. See np_slots.h. */
#include "np_slots.h"

#include <stdlib.h>
#include <string.h>

static void slot_reset(np_slot_t *s) {
    memset(s, 0, sizeof(*s));
    s->marker_wm = s->sent_closed = NP_TS_NONE;
    s->lag = -1;
    np_ckpt_writer_init(&s->ckpt);
}

np_slots_t *np_slots_new(const char *topic, const char *rtopic, int32_t nin, const char *ktopic, int32_t nconn) {
    np_slots_t *sl = calloc(1, sizeof(*sl));
    if (!sl) return NULL;
    sl->topic = topic;
    sl->rtopic = rtopic;
    sl->ktopic = ktopic;
    sl->nin = nin;
    sl->kbase = nin * (rtopic ? 2 : 1);
    sl->total = sl->kbase + (ktopic ? nconn : 0);
    size_t n = (size_t)(sl->total > 0 ? sl->total : 1);
    sl->s = calloc(n, sizeof(*sl->s));
    sl->prog_parts = calloc(n, sizeof(*sl->prog_parts));
    sl->prog_idle = calloc(n, sizeof(*sl->prog_idle));
    sl->prog_closed = calloc(n, sizeof(*sl->prog_closed));
    sl->prog_claims = calloc(n, sizeof(*sl->prog_claims));
    if (!sl->s || !sl->prog_parts || !sl->prog_idle || !sl->prog_closed || !sl->prog_claims) {
        np_slots_destroy(&sl);
        return NULL;
    }
    for (int32_t i = 0; i < sl->total; i++) slot_reset(&sl->s[i]);
    return sl;
}

void np_slots_destroy(np_slots_t **slp) {
    if (!slp || !*slp) return;
    np_slots_t *sl = *slp;
    for (int32_t i = 0; sl->s && i < sl->total; i++) np_slots_drop(sl, i);
    free(sl->s);
    free(sl->prog_parts);
    free(sl->prog_idle);
    free(sl->prog_closed);
    free(sl->prog_claims);
    free(sl);
    *slp = NULL;
}

int32_t np_slots_of(const np_slots_t *sl, const char *topic, int32_t partition) {
    if (sl->ktopic && strcmp(topic, sl->ktopic) == 0)
        return partition >= 0 && partition < sl->total - sl->kbase ? sl->kbase + partition : -1;
    if (partition < 0 || partition >= sl->nin) return -1;
    if (strcmp(topic, sl->topic) == 0) return partition;
    if (sl->rtopic && strcmp(topic, sl->rtopic) == 0) return sl->nin + partition;
    return -1;
}

const char *np_slots_topic(const np_slots_t *sl, int32_t slot) {
    return slot >= sl->kbase ? sl->ktopic : slot < sl->nin ? sl->topic : sl->rtopic;
}

int32_t np_slots_partition(const np_slots_t *sl, int32_t slot) {
    return slot >= sl->kbase ? slot - sl->kbase : slot < sl->nin ? slot : slot - sl->nin;
}

np_slot_t *np_slots_get(np_slots_t *sl, int32_t slot) {
    if (slot < 0 || slot >= sl->total || !sl->s[slot].ps) return NULL;
    return &sl->s[slot];
}

int np_slots_prepare(np_slots_t *sl, int32_t slot) {
    np_slot_t *s = &sl->s[slot];
    np_outbox_init(&s->outbox);
    if (np_slots_rekeyed(sl, slot) && !s->rekey && !(s->rekey = np_rekey_new(sl->nin))) return -1;
    return 0;
}

void np_slots_adopt(np_slots_t *sl, int32_t slot, np_partstate_t *ps, int64_t now) {
    np_slot_t *s = &sl->s[slot];
    s->ps = ps;
    sl->outbox_items += s->outbox.n;
    np_idle_reset(&s->idle, now); /* idle only after a fetch answered (np_idle.h) */
}

void np_slots_drop(np_slots_t *sl, int32_t slot) {
    np_slot_t *s = &sl->s[slot];
    if (s->ps) sl->outbox_items -= s->outbox.n; /* counted from np_slots_adopt on */
    np_outbox_free(&s->outbox);
    np_partstate_destroy(&s->ps);
    np_rekey_destroy(&s->rekey);
    np_ckpt_writer_free(&s->ckpt);
    slot_reset(s);
}

int np_slots_push_partial(np_slots_t *sl, int32_t slot, int64_t pane_start, int64_t min_offset, const uint8_t *buf,
                          size_t len) {
    np_slot_t *s = &sl->s[slot];
    size_t before = s->outbox.n;
    if (np_outbox_push(&s->outbox, pane_start, min_offset < 0 ? NP_OUTBOX_NO_RECORDS : min_offset, buf, len) < 0)
        return -1;
    sl->outbox_items += s->outbox.n - before;
    s->dirty = true;
    return 0;
}

bool np_slots_ack(np_slots_t *sl, int32_t slot, int64_t pane_start) {
    np_slot_t *s = np_slots_get(sl, slot);
    if (!s || !np_outbox_ack(&s->outbox, pane_start)) return false;
    sl->outbox_items--;
    return true;
}

int64_t np_slots_commit_offset(const np_slots_t *sl, int32_t slot) {
    const np_slot_t *s = &sl->s[slot];
    int64_t off = np_partstate_safe_offset(s->ps);
    for (size_t k = 0; k < s->outbox.n && off >= 0; k++) {
        int64_t m = s->outbox.items[k].min_offset;
        if (m == NP_OUTBOX_OFFSET_UNKNOWN) return -1;
        if (m < off) off = m;
    }
    return off;
}

int64_t np_slots_reportable_closed(const np_slots_t *sl, int32_t slot) {
    const np_slot_t *s = &sl->s[slot];
    int64_t ct = s->ps->closed_through;
    for (size_t k = 0; k < s->outbox.n; k++)
        if (ct == NP_TS_NONE || s->outbox.items[k].pane_start < ct) ct = s->outbox.items[k].pane_start;
    return ct;
}

bool np_slots_progress_moved(const np_slots_t *sl) {
    for (int32_t p = 0; p < sl->total; p++)
        if (sl->s[p].ps && np_slots_reportable_closed(sl, p) != sl->s[p].sent_closed) return true;
    return false;
}

bool np_slots_idle(const np_slots_t *sl, int32_t slot, int64_t now, int64_t idle_ms, int64_t fresh_ms) {
    return np_idle_is(&sl->s[slot].idle, now, idle_ms, fresh_ms);
}

bool np_slots_marker_due(const np_slots_t *sl, int32_t slot, int64_t wm, int64_t pane_ms) {
    /* Panes close only at pane boundaries, so a marker is due only when the watermark
     * crosses one: N x N markers per pane, not per progress tick. */
    int64_t last = sl->s[slot].marker_wm;
    return wm != NP_TS_NONE && (last == NP_TS_NONE || np_pane_start(wm, pane_ms) > np_pane_start(last, pane_ms));
}

void np_slots_progress_add(np_slots_t *sl, int32_t slot, bool idle) {
    np_slot_t *s = &sl->s[slot];
    int64_t ct = np_slots_reportable_closed(sl, slot);
    size_t n = sl->nprog++;
    s->sent_closed = ct;
    sl->prog_closed[n] = ct;
    sl->prog_parts[n] = s->ps;
    sl->prog_idle[n] = idle;
    sl->prog_claims[n] = (np_progress_claim_t){s->epoch, np_slots_topic(sl, slot), np_slots_partition(sl, slot)};
}

int np_slots_progress_encode(np_slots_t *sl, np_partial_enc_t *enc, const char *worker_id, const char *session,
                             const uint8_t **out, size_t *out_len) {
    size_t n = sl->nprog;
    sl->nprog = 0;
    if (n == 0) return 0;
    if (np_progress_encode(enc, worker_id, session, sl->prog_parts, sl->prog_closed, sl->prog_idle, sl->prog_claims, n,
                           sl->total, out, out_len) < 0)
        return -1;
    return 1;
}
