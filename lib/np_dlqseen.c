/* np_dlqseen: dead letters an earlier owner already produced. See np_dlqseen.h. */
#include "np_dlqseen.h"

#include <stdlib.h>
#include <string.h>

int32_t np_dlqseen_partition(int32_t src_partition, int32_t ndlq) {
    return ndlq > 0 && src_partition >= 0 ? src_partition % ndlq : -1;
}

void np_dlqseen_reset(np_dlqseen_t *s, int64_t from) {
    s->n = 0;
    s->overflow = false;
    s->from = from;
    s->skip_max = -1;
    s->next = -1;
}

/* A non-negative decimal of exactly len bytes, else -1. */
static int64_t parse_off(const char *p, size_t len) {
    if (!p || len == 0 || len > 18) return -1;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

int np_dlqseen_add(np_dlqseen_t *s, const char *topic, int32_t partition, int64_t min_offset, const char *h_topic,
                   size_t h_topic_len, const char *h_part, size_t h_part_len, const char *h_off, size_t h_off_len) {
    if (!h_topic || h_topic_len != strlen(topic) || memcmp(h_topic, topic, h_topic_len) != 0) return 0;
    if (parse_off(h_part, h_part_len) != partition) return 0;
    int64_t off = parse_off(h_off, h_off_len);
    if (off < 0 || off < min_offset) return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        if (cap > NP_DLQSEEN_MAX) cap = NP_DLQSEEN_MAX;
        int64_t *o = cap > s->cap ? realloc(s->off, cap * sizeof(*o)) : NULL;
        if (!o) {
            s->overflow = true;
            return -1;
        }
        s->off = o;
        s->cap = cap;
    }
    s->off[s->n++] = off;
    if (off > s->skip_max) s->skip_max = off;
    return 1;
}

static int cmp_off(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void np_dlqseen_seal(np_dlqseen_t *s, int64_t end) {
    if (s->n > 1) qsort(s->off, s->n, sizeof(*s->off), cmp_off);
    if (end < 0 || s->overflow)
        s->skip_max = INT64_MAX; /* what the DLQ holds past the read is unknown: keep `from` */
    else if (end > s->next)
        s->next = end;
}

bool np_dlqseen_has(const np_dlqseen_t *s, int64_t off) {
    return s->n && off <= s->off[s->n - 1] && bsearch(&off, s->off, s->n, sizeof(*s->off), cmp_off) != NULL;
}

void np_dlqseen_delivered(np_dlqseen_t *s, int64_t dlq_offset) {
    if (dlq_offset >= 0 && dlq_offset + 1 > s->next) s->next = dlq_offset + 1;
}

int64_t np_dlqseen_ckpt_from(const np_dlqseen_t *s, int64_t resume_offset) {
    /* The earlier owner's dead letters of records from resume_offset on lie between `from`
     * and the end read: a later owner must read them again from there. */
    if (s->from >= 0 && resume_offset <= s->skip_max) return s->from;
    return s->next;
}

void np_dlqseen_free(np_dlqseen_t *s) {
    free(s->off);
    memset(s, 0, sizeof(*s));
    s->from = s->next = -1;
}
