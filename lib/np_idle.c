/* np_idle: evidence-based partition idleness. See np_idle.h. */
#include "np_idle.h"

void np_idle_reset(np_idle_t *s, int64_t now_ms) {
    s->active_ms = now_ms;
    s->position = -1;
    s->end = -1;
    s->end_asked_ms = INT64_MIN;
}

void np_idle_record(np_idle_t *s, int64_t offset, int64_t now_ms) {
    if (offset + 1 > s->position) s->position = offset + 1;
    if (now_ms > s->active_ms) s->active_ms = now_ms;
}

void np_idle_settle(np_idle_t *s, int64_t batch_start_ms, int64_t batch_end_ms) {
    /* active_ms only grows, and batch_start_ms is the newest time handed out, so
     * active_ms >= batch_start_ms means a record of this batch (later is only stricter). */
    if (s->active_ms >= batch_start_ms && batch_end_ms > s->active_ms) s->active_ms = batch_end_ms;
}

void np_idle_consumed(np_idle_t *s, int64_t offset) {
    if (offset + 1 > s->position) s->position = offset + 1;
}

void np_idle_eof(np_idle_t *s, int64_t next_offset) {
    if (next_offset > s->position) s->position = next_offset;
}

void np_idle_end(np_idle_t *s, int64_t end, int64_t asked_ms) {
    if (end < 0 || asked_ms < s->end_asked_ms) return;
    s->end = end;
    s->end_asked_ms = asked_ms;
}

/* The answer held says the log was quiet from the last record until it was asked. */
static bool quiet_since_active(const np_idle_t *s, int64_t idle_ms) {
    if (s->position < 0 || s->end < 0 || s->end > s->position) return false;
    if (s->end_asked_ms == INT64_MIN || s->end_asked_ms < s->active_ms) return false;
    return s->end_asked_ms - s->active_ms >= idle_ms;
}

bool np_idle_is(const np_idle_t *s, int64_t now_ms, int64_t idle_ms, int64_t fresh_ms) {
    return quiet_since_active(s, idle_ms) && now_ms - s->end_asked_ms <= fresh_ms;
}

bool np_idle_should_ask(const np_idle_t *s, int64_t now_ms, int64_t idle_ms, int64_t every_ms) {
    if (s->position < 0 || now_ms - s->active_ms < idle_ms) return false;
    /* The answer held was asked too early to prove idle_ms of quiet: ask once more. */
    if (s->end_asked_ms == INT64_MIN || s->end_asked_ms - s->active_ms < idle_ms) return true;
    return now_ms - s->end_asked_ms >= every_ms;
}
