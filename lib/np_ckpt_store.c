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

static int rename_aside(np_store_t *st, const char *from, int64_t epoch, char *to, size_t tolen, char *errstr,
                        size_t errlen) {
    snprintf(to, tolen, "%s:quarantine:%lld", from, (long long)epoch);
    const char *argv[] = {"RENAME", from, to};
    size_t lens[] = {6, strlen(from), strlen(to)};
    return np_store_run(st, 3, argv, lens, errstr, errlen);
}

int np_ckpt_store_quarantine(np_store_t *st, const char *key, int64_t epoch, char *qkey, size_t qlen,
                             size_t *nparts, char *errstr, size_t errlen) {
    char pat[KEY_MAX + 16], qpart[KEY_MAX + 40];
    keylist_t l = {0};
    *nparts = 0;
    int rc = rename_aside(st, key, epoch, qkey, qlen, errstr, errlen);
    for (int kind = 0; kind < 2 && rc == 0; kind++) {
        snprintf(pat, sizeof(pat), "%s:%s:*", key, kind ? "out" : "pane");
        rc = np_store_scan(st, pat, 1u << 20, keylist_add, &l, errstr, errlen);
    }
    if (rc == 0 && l.oom) {
        snprintf(errstr, errlen, "out of memory");
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < l.n; i++) rc = rename_aside(st, l.k[i], epoch, qpart, sizeof(qpart), errstr, errlen);
    if (rc == 0) *nparts = l.n;
    free(l.k);
    return rc;
}
