/* np_ckpt_store: partition checkpoints in Redis. See np_ckpt_store.h. */
#include "np_ckpt_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 320

int np_ckpt_store_write(np_store_t *st, const char *epoch_key, const char *key, int64_t epoch,
                        const np_ckpt_writer_t *w, char *errstr, size_t errlen) {
    size_t n = w->nparts ? w->nparts : 1;
    np_store_part_t *parts = calloc(n, sizeof(*parts));
    char *keys = malloc(n * KEY_MAX);
    int rc = -1;
    if (parts && keys) {
        for (size_t i = 0; i < w->nparts; i++) {
            const np_ckpt_part_t *cp = &w->parts[i];
            snprintf(keys + KEY_MAX * i, KEY_MAX, "%s:%s", key, cp->suffix);
            parts[i] = (np_store_part_t){keys + KEY_MAX * i, cp->op, cp->expect, cp->data, cp->len};
        }
        rc = np_store_fenced_write(st, epoch_key, epoch, key, w->head, w->head_len, parts, w->nparts, errstr, errlen);
    } else {
        snprintf(errstr, errlen, "out of memory");
    }
    free(parts);
    free(keys);
    return rc;
}

int np_ckpt_store_get_part(void *reader, const char *suffix, uint8_t **data, size_t *len) {
    np_ckpt_store_reader_t *r = reader;
    char k[KEY_MAX];
    snprintf(k, sizeof(k), "%s:%s", r->key, suffix);
    return np_store_get(r->st, k, data, len, r->errstr, sizeof(r->errstr));
}

/* Keys found by SCAN. */
typedef struct keylist {
    char (*k)[KEY_MAX];
    size_t n, cap;
    int oom;
} keylist_t;

static void keylist_add(void *ctx, const char *k, size_t klen, const char *v, size_t vlen) {
    keylist_t *l = ctx;
    (void)v;
    (void)vlen;
    if (klen >= KEY_MAX || memmem(k, klen, ":quarantine:", 12)) return; /* moved aside before */
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        char(*nk)[KEY_MAX] = realloc(l->k, nc * sizeof(*nk));
        if (!nk) {
            l->oom = 1;
            return;
        }
        l->k = nk;
        l->cap = nc;
    }
    memcpy(l->k[l->n], k, klen);
    l->k[l->n++][klen] = '\0';
}

static int keycmp(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

/* Sorts the list and drops repeats; returns the number of distinct keys. */
static size_t keylist_unique(keylist_t *l) {
    if (l->n == 0) return 0;
    qsort(l->k, l->n, sizeof(*l->k), keycmp);
    size_t o = 1;
    for (size_t i = 1; i < l->n; i++)
        if (strcmp(l->k[i], l->k[o - 1]) != 0) memmove(l->k[o++], l->k[i], KEY_MAX);
    return l->n = o;
}

/* Where a damaged key is moved aside: NAME:quarantine:EPOCH. */
static void quarantine_name(const char *from, int64_t epoch, char *to, size_t tolen) {
    snprintf(to, tolen, "%s:quarantine:%lld", from, (long long)epoch);
}

static int rename_aside(np_store_t *st, const char *from, int64_t epoch, char *to, size_t tolen, char *errstr,
                        size_t errlen) {
    quarantine_name(from, epoch, to, tolen);
    const char *argv[] = {"RENAME", from, to};
    size_t lens[] = {6, strlen(from), strlen(to)};
    return np_store_run(st, 3, argv, lens, errstr, errlen);
}

static void lost_key(const char *key, char *buf, size_t len) { snprintf(buf, len, "%s" NP_CKPT_LOST_SUFFIX, key); }

/* The head moved aside and KEY:lost set in one transaction: with no head, the next owner
 * starts fresh, and KEY:lost tells it that the partition had history it no longer knows
 * (np_ckpt_store_lost), even if this worker dies before its first checkpoint. */
static int head_aside(np_store_t *st, const char *key, int64_t epoch, char *to, size_t tolen, char *errstr,
                      size_t errlen) {
    char lost[KEY_MAX + 8];
    quarantine_name(key, epoch, to, tolen);
    lost_key(key, lost, sizeof(lost));
    const char *set[] = {"SET", lost, "1"}, *ren[] = {"RENAME", key, to};
    size_t setl[] = {3, strlen(lost), 1}, renl[] = {6, strlen(key), strlen(to)};
    np_store_txn_begin(st);
    np_store_txn_add(st, 3, set, setl);
    np_store_txn_add(st, 3, ren, renl);
    return np_store_txn_commit(st, errstr, errlen);
}

int np_ckpt_store_lost(np_store_t *st, const char *key, char *errstr, size_t errlen) {
    char lost[KEY_MAX + 8];
    uint8_t *v = NULL;
    size_t len = 0;
    lost_key(key, lost, sizeof(lost));
    int rc = np_store_get(st, lost, &v, &len, errstr, errlen);
    free(v);
    return rc < 0 ? -1 : rc == 0;
}

int np_ckpt_store_quarantine(np_store_t *st, const char *key, int64_t epoch, char *qkey, size_t qlen,
                             size_t *nparts, char *errstr, size_t errlen) {
    char esc[2 * KEY_MAX], pat[2 * KEY_MAX + 16], qpart[KEY_MAX + 40];
    keylist_t l = {0};
    *nparts = 0;
    /* The key is escaped: a group or topic name with * ? [ must not match other partitions. */
    if (np_store_glob_escape(key, esc, sizeof(esc)) != 0) {
        snprintf(errstr, errlen, "checkpoint key too long");
        return -1;
    }
    /* Parts first, the head last: a crash in between leaves a head whose parts are gone,
     * which the next owner finds damaged and quarantines again. */
    int rc = 0;
    static const char *const kinds[] = {"pane", "out", "win"}; /* np_ckpt_part_suffix */
    for (int kind = 0; kind < 3 && rc == 0; kind++) {
        snprintf(pat, sizeof(pat), "%s:%s:*", esc, kinds[kind]);
        rc = np_store_scan(st, pat, 1u << 20, keylist_add, &l, errstr, errlen);
    }
    if (rc == 0 && l.oom) {
        snprintf(errstr, errlen, "out of memory");
        rc = -1;
    }
    size_t n = keylist_unique(&l); /* SCAN may return a key twice; RENAME of a moved key fails */
    for (size_t i = 0; rc == 0 && i < n; i++) rc = rename_aside(st, l.k[i], epoch, qpart, sizeof(qpart), errstr, errlen);
    if (rc == 0) rc = head_aside(st, key, epoch, qkey, qlen, errstr, errlen);
    if (rc == 0) *nparts = n;
    free(l.k);
    return rc;
}
