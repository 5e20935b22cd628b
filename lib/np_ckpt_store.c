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
#define QKEY_MAX (KEY_MAX + 40)
static void quarantine_name(const char *from, int64_t epoch, char *to, size_t tolen) {
    snprintf(to, tolen, "%s:quarantine:%lld", from, (long long)epoch);
}

static void lost_key(const char *key, char *buf, size_t len) { snprintf(buf, len, "%s" NP_CKPT_LOST_SUFFIX, key); }

/* The parts in l and the head moved aside and KEY:lost set, all in one fenced script: with
 * no head, the next owner starts fresh, and KEY:lost tells it that the partition had
 * history it no longer knows (np_ckpt_store_lost), even if this worker dies before its
 * first checkpoint. Returns as np_ckpt_store_quarantine. */
static int move_aside(np_store_t *st, const char *epoch_key, const char *key, int64_t epoch, const keylist_t *l,
                      char *errstr, size_t errlen) {
    size_t n = l->n + 1; /* the parts, then the head */
    const char **from = malloc(n * sizeof(*from)), **to = malloc(n * sizeof(*to));
    char(*names)[QKEY_MAX] = malloc(n * sizeof(*names));
    char lost[KEY_MAX + 8];
    size_t moved;
    int rc = -1;
    if (!from || !to || !names) {
        snprintf(errstr, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        from[i] = i < l->n ? l->k[i] : key;
        quarantine_name(from[i], epoch, names[i], QKEY_MAX);
        to[i] = names[i];
    }
    lost_key(key, lost, sizeof(lost));
    rc = np_store_fenced_rename(st, epoch_key, epoch, lost, from, to, n, &moved, errstr, errlen);
out:
    free(from);
    free(to);
    free(names);
    return rc;
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

int np_ckpt_store_quarantine(np_store_t *st, const char *epoch_key, const char *key, int64_t epoch, char *qkey,
                             size_t qlen, size_t *nparts, char *errstr, size_t errlen) {
    char esc[2 * KEY_MAX], pat[2 * KEY_MAX + 16];
    keylist_t l = {0};
    *nparts = 0;
    /* The key is escaped: a group or topic name with * ? [ must not match other partitions. */
    if (np_store_glob_escape(key, esc, sizeof(esc)) != 0) {
        snprintf(errstr, errlen, "checkpoint key too long");
        return -1;
    }
    /* SCAN cannot run inside the script (and the head may be what is damaged, so its list
     * of parts is no guide): the parts are listed first, then moved with the head in one
     * fenced call. A part written after the SCAN can only come from a newer owner, which
     * holds a newer epoch, so the call then moves nothing. */
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
    keylist_unique(&l); /* SCAN may return a key twice */
    if (rc == 0) rc = move_aside(st, epoch_key, key, epoch, &l, errstr, errlen);
    if (rc == 0) {
        quarantine_name(key, epoch, qkey, qlen);
        *nparts = l.n; /* under our epoch nobody else deletes one between the SCAN and the move */
    }
    free(l.k);
    return rc;
}
