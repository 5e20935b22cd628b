/* np_coordstore: the coordinator's state in Redis. See np_coordstore.h. */
#include "np_coordstore.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_crc32.h"
#include "np_log.h"
#include "np_strbuf.h"

#define NP_PARTIAL_MAGIC "NPP" /* a stored partial: "NPP", frame version 1, CRC-32, WorkerMsg */
#define MAX_STARTS 65536       /* pane starts read back at once (max.open.panes is at most this) */

/* A staged partial: its framed bytes at buf[off, off + len). */
typedef struct staged {
    int64_t pane;
    int32_t partition;
    size_t seq, off, len;
    char start[24], part[16], key[200]; /* the argv strings of its SADD and HSET */
} staged_t;

struct np_coordstore {
    np_store_t *store; /* borrowed */
    char k_panes[160], k_meta[160], k_outbox[160], k_pane_prefix[160], k_final_prefix[160], k_detect[160],
        k_known[160];
    /* The stage of np_coordstore_stage_partial; grow-only, reused flush after flush. */
    staged_t *st;
    size_t nst, cap_st;
    uint8_t *buf;
    size_t buf_len, buf_cap;
    const char **argv;
    size_t *lens, cap_argv, cap_lens;
};

np_coordstore_t *np_coordstore_new(np_store_t *store, const char *name) {
    np_coordstore_t *cs = calloc(1, sizeof(*cs));
    if (!cs) return NULL;
    cs->store = store;
    snprintf(cs->k_panes, sizeof(cs->k_panes), "netpulse:coord:{%s}:panes", name);
    snprintf(cs->k_meta, sizeof(cs->k_meta), "netpulse:coord:{%s}:meta", name);
    snprintf(cs->k_outbox, sizeof(cs->k_outbox), "netpulse:coord:{%s}:outbox", name);
    snprintf(cs->k_pane_prefix, sizeof(cs->k_pane_prefix), "netpulse:coord:{%s}:pane:", name);
    snprintf(cs->k_final_prefix, sizeof(cs->k_final_prefix), "netpulse:coord:{%s}:final:", name);
    snprintf(cs->k_detect, sizeof(cs->k_detect), "netpulse:coord:{%s}:detect", name);
    snprintf(cs->k_known, sizeof(cs->k_known), "netpulse:coord:{%s}:known", name);
    return cs;
}

void np_coordstore_destroy(np_coordstore_t **cs) {
    if (!cs || !*cs) return;
    free((*cs)->st);
    free((*cs)->buf);
    free((*cs)->argv);
    free((*cs)->lens);
    free(*cs);
    *cs = NULL;
}

static void pane_key(const np_coordstore_t *cs, int64_t start, char *buf, size_t len) {
    snprintf(buf, len, "%s%lld", cs->k_pane_prefix, (long long)start);
}

static void final_key(const np_coordstore_t *cs, int64_t start, char *buf, size_t len) {
    snprintf(buf, len, "%s%lld", cs->k_final_prefix, (long long)start);
}

/* ---- writes --------------------------------------------------------------------------- */

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t n = *cap ? *cap : 16;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q) return false;
    *p = q;
    *cap = n;
    return true;
}

uint64_t np_coordstore_stage_bound_bytes(size_t max) {
    /* grow() doubles from 16; a flush's argv holds 2 + 2 per partial (SADD + one HSET per
     * pane, at most one per partial). */
    uint64_t n = 16;
    while (n < max) n *= 2;
    uint64_t na = 16;
    while (na < 2 + 2 * (uint64_t)max) na *= 2;
    return n * sizeof(staged_t) + na * (sizeof(const char *) + sizeof(size_t));
}

int np_coordstore_stage_partial(np_coordstore_t *cs, int64_t pane_start, int32_t partition, const uint8_t *raw,
                                size_t rawlen, char *err, size_t errlen) {
    size_t flen = NP_CRC32_FRAME_HDR + rawlen;
    if (!grow((void **)&cs->st, &cs->cap_st, cs->nst + 1, sizeof(*cs->st)) ||
        !grow((void **)&cs->buf, &cs->buf_cap, cs->buf_len + flen, 1)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    staged_t *e = &cs->st[cs->nst];
    e->pane = pane_start;
    e->partition = partition;
    e->seq = cs->nst++;
    e->off = cs->buf_len;
    e->len = flen;
    np_crc32_frame_header(cs->buf + e->off, NP_PARTIAL_MAGIC, 1, raw, rawlen);
    memcpy(cs->buf + e->off + NP_CRC32_FRAME_HDR, raw, rawlen);
    cs->buf_len += flen;
    return 0;
}

size_t np_coordstore_staged(const np_coordstore_t *cs) { return cs->nst; }
size_t np_coordstore_staged_bytes(const np_coordstore_t *cs) { return cs->buf_len; }

/* Pane, then partition, then arrival: a pane's partials are adjacent, a repeated
 * partition's later copy last. */
static int cmp_staged(const void *a, const void *b) {
    const staged_t *x = a, *y = b;
    if (x->pane != y->pane) return x->pane < y->pane ? -1 : 1;
    if (x->partition != y->partition) return x->partition < y->partition ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Builds the staged partials' transaction (np_coordstore_flush_partials) and empties the
 * stage. 0: nothing staged (no transaction); 1: ready to commit or send; -1 with err. */
static int build_partials(np_coordstore_t *cs, char *err, size_t errlen) {
    size_t n = cs->nst;
    if (!n) return 0;
    cs->nst = 0;
    cs->buf_len = 0; /* the bytes stay readable until the next stage */
    if (!grow((void **)&cs->argv, &cs->cap_argv, 2 + 2 * n, sizeof(*cs->argv)) ||
        !grow((void **)&cs->lens, &cs->cap_lens, 2 + 2 * n, sizeof(*cs->lens))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t *lens = cs->lens;
    staged_t *st = cs->st;
    qsort(st, n, sizeof(*st), cmp_staged);
    np_store_txn_begin(cs->store);
    /* One SADD of the distinct panes. */
    size_t a = 0;
    cs->argv[a] = "SADD", lens[a++] = 4;
    cs->argv[a] = cs->k_panes, lens[a++] = strlen(cs->k_panes);
    for (size_t i = 0; i < n; i++) {
        if (i && st[i].pane == st[i - 1].pane) continue;
        snprintf(st[i].start, sizeof(st[i].start), "%lld", (long long)st[i].pane);
        cs->argv[a] = st[i].start, lens[a++] = strlen(st[i].start);
    }
    np_store_txn_add(cs->store, (int)a, cs->argv, lens);
    /* Per pane one HSET with each partition's (last) partial. */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        pane_key(cs, st[i].pane, st[i].key, sizeof(st[i].key));
        a = 0;
        cs->argv[a] = "HSET", lens[a++] = 4;
        cs->argv[a] = st[i].key, lens[a++] = strlen(st[i].key);
        for (; j < n && st[j].pane == st[i].pane; j++) {
            if (j + 1 < n && st[j + 1].pane == st[j].pane && st[j + 1].partition == st[j].partition) continue;
            snprintf(st[j].part, sizeof(st[j].part), "%d", st[j].partition);
            cs->argv[a] = st[j].part, lens[a++] = strlen(st[j].part);
            cs->argv[a] = (const char *)cs->buf + st[j].off, lens[a++] = st[j].len;
        }
        np_store_txn_add(cs->store, (int)a, cs->argv, lens);
        i = j;
    }
    return 1;
}

int np_coordstore_flush_partials(np_coordstore_t *cs, char *err, size_t errlen) {
    int b = build_partials(cs, err, errlen);
    return b <= 0 ? b : np_store_txn_commit(cs->store, err, errlen);
}

int np_coordstore_send_partials(np_coordstore_t *cs, char *err, size_t errlen) {
    int b = build_partials(cs, err, errlen);
    if (b <= 0) return b;
    return np_store_txn_send(cs->store, err, errlen) < 0 ? -1 : 1;
}

int np_coordstore_wait_partials(np_coordstore_t *cs, char *err, size_t errlen) {
    return np_store_txn_wait(cs->store, err, errlen);
}

int np_coordstore_fd(const np_coordstore_t *cs) { return np_store_fd(cs->store); }

int np_coordstore_put_partial(np_coordstore_t *cs, int64_t pane_start, int32_t partition, const uint8_t *raw,
                              size_t rawlen, char *err, size_t errlen) {
    if (np_coordstore_stage_partial(cs, pane_start, partition, raw, rawlen, err, errlen) < 0) return -1;
    return np_coordstore_flush_partials(cs, err, errlen);
}

int np_coordstore_ack(np_coordstore_t *cs, const char *id, char *err, size_t errlen) {
    const char *hdel[] = {"HDEL", cs->k_outbox, id};
    size_t hdel_l[] = {4, strlen(cs->k_outbox), strlen(id)};
    return np_store_run(cs->store, 3, hdel, hdel_l, err, errlen);
}

void np_coordstore_begin(np_coordstore_t *cs) { np_store_txn_begin(cs->store); }

int np_coordstore_commit(np_coordstore_t *cs, char *err, size_t errlen) {
    return np_store_txn_commit(cs->store, err, errlen);
}

void np_coordstore_add_result(np_coordstore_t *cs, const char *id, const char *type, int64_t start, int64_t end,
                              const uint8_t *json, size_t len) {
    Netpulse__Result r = NETPULSE__RESULT__INIT;
    r.id = (char *)id;
    r.type = (char *)type;
    r.window_start_ms = start;
    r.window_end_ms = end;
    r.json.data = (uint8_t *)json;
    r.json.len = len;
    size_t rlen = netpulse__result__get_packed_size(&r);
    uint8_t *rb = malloc(rlen ? rlen : 1);
    if (!rb) abort(); /* a result missing from the transaction would be lost on restart */
    netpulse__result__pack(&r, rb);
    const char *hset[] = {"HSET", cs->k_outbox, id, (const char *)rb};
    size_t hset_l[] = {4, strlen(cs->k_outbox), strlen(id), rlen};
    np_store_txn_add(cs->store, 4, hset, hset_l);
    free(rb);
}

void np_coordstore_drop_pane(np_coordstore_t *cs, int64_t start_ms) {
    char pk[200], start[24];
    pane_key(cs, start_ms, pk, sizeof(pk));
    snprintf(start, sizeof(start), "%lld", (long long)start_ms);
    const char *srem[] = {"SREM", cs->k_panes, start};
    size_t srem_l[] = {4, strlen(cs->k_panes), strlen(start)};
    const char *del[] = {"DEL", pk};
    size_t del_l[] = {3, strlen(pk)};
    np_store_txn_add(cs->store, 3, srem, srem_l);
    np_store_txn_add(cs->store, 2, del, del_l);
}

void np_coordstore_keep_final(np_coordstore_t *cs, int64_t start, const uint8_t *buf, size_t len,
                              int64_t forget_start) {
    char fk[200], old[200];
    final_key(cs, start, fk, sizeof(fk));
    final_key(cs, forget_start, old, sizeof(old));
    const char *set[] = {"SET", fk, (const char *)buf};
    size_t set_l[] = {3, strlen(fk), len};
    const char *delold[] = {"DEL", old};
    size_t delold_l[] = {3, strlen(old)};
    np_store_txn_add(cs->store, 3, set, set_l);
    np_store_txn_add(cs->store, 2, delold, delold_l);
}

/* "share_pm,hosts,ports" into txt (at most 3 x 10 digits + 2 commas), as snprintf's
 * "%u,%u,%u" writes it: a pane changes up to max.sources.per.pane known sources, and
 * snprintf was a tenth of the finalize. */
static size_t known_text(char *txt, const np_known_t *v) {
    size_t n = np_strbuf_fmt_u64(txt, v->share_pm);
    txt[n++] = ',';
    n += np_strbuf_fmt_u64(txt + n, v->hosts);
    txt[n++] = ',';
    return n + np_strbuf_fmt_u64(txt + n, v->ports);
}

/* One HSET for all of them: the round's transaction stays short. */
void np_coordstore_add_known(np_coordstore_t *cs, const np_ip_t *ips, const np_known_t *vals, size_t n) {
    if (!n) return;
    const char **argv = malloc((2 + 2 * n) * sizeof(*argv));
    size_t *lens = malloc((2 + 2 * n) * sizeof(*lens));
    char(*txt)[40] = malloc(n * sizeof(*txt));
    if (!argv || !lens || !txt) abort();
    argv[0] = "HSET";
    lens[0] = 4;
    argv[1] = cs->k_known;
    lens[1] = strlen(cs->k_known);
    for (size_t i = 0; i < n; i++) {
        argv[2 + 2 * i] = (const char *)ips[i].b;
        lens[2 + 2 * i] = 16;
        argv[3 + 2 * i] = txt[i];
        lens[3 + 2 * i] = known_text(txt[i], &vals[i]);
    }
    np_store_txn_add(cs->store, (int)(2 + 2 * n), argv, lens);
    free(argv);
    free(lens);
    free(txt);
}

static void set_meta(np_coordstore_t *cs, const char *field, int64_t v) {
    char val[24];
    snprintf(val, sizeof(val), "%lld", (long long)v);
    const char *hset[] = {"HSET", cs->k_meta, field, val};
    size_t hset_l[] = {4, strlen(cs->k_meta), strlen(field), strlen(val)};
    np_store_txn_add(cs->store, 4, hset, hset_l);
}

void np_coordstore_set_next_emit(np_coordstore_t *cs, int64_t next_emit) { set_meta(cs, "next_emit", next_emit); }

void np_coordstore_set_window_first(np_coordstore_t *cs, int64_t first) { set_meta(cs, "window_first", first); }

void np_coordstore_set_detect(np_coordstore_t *cs, const uint8_t *state, size_t len) {
    const char *set[] = {"SET", cs->k_detect, (const char *)state};
    size_t set_l[] = {3, strlen(cs->k_detect), len};
    np_store_txn_add(cs->store, 3, set, set_l);
}

/* ---- restore -------------------------------------------------------------------------- */

/* A decimal number in a Redis value; false when it does not fit the buffer. */
static bool parse_i64(const char *v, size_t vlen, int64_t *out) {
    char buf[32];
    if (vlen >= sizeof(buf)) return false;
    memcpy(buf, v, vlen);
    buf[vlen] = '\0';
    *out = strtoll(buf, NULL, 10);
    return true;
}

static void meta_cb(void *ctx, const char *k, size_t klen, const char *v, size_t vlen) {
    np_coordstore_meta_t *m = ctx;
    if (klen == 9 && memcmp(k, "next_emit", 9) == 0 && parse_i64(v, vlen, &m->next_emit))
        m->has_next_emit = true;
    else if (klen == 12 && memcmp(k, "window_first", 12) == 0 && parse_i64(v, vlen, &m->window_first))
        m->has_window_first = true;
}

int np_coordstore_load_meta(np_coordstore_t *cs, np_coordstore_meta_t *out, char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    return np_store_hgetall(cs->store, cs->k_meta, meta_cb, out, err, errlen);
}

typedef struct starts {
    int64_t v[MAX_STARTS];
    size_t n;
} starts_t;

static void collect_start_cb(void *ctx, const char *k, size_t klen, const char *v, size_t vlen) {
    starts_t *st = ctx;
    (void)v;
    (void)vlen;
    if (st->n < MAX_STARTS && parse_i64(k, klen, &st->v[st->n])) st->n++;
}

typedef struct restoring {
    np_coordstore_t *cs;
    const char *pk; /* the pane key being read */
    np_coordstore_partial_fn fn;
    void *ctx;
    size_t quarantined;
} restoring_t;

/* A stored partial that is damaged is moved aside (hash KEY:quarantine, field
 * "<pane>/<partition>"), logged and counted; it is not merged. Its data is missing from
 * that pane (the worker had it acknowledged), which the log line says. */
static void quarantine_partial(restoring_t *r, const char *k, size_t klen, const char *v, size_t vlen,
                               const char *why) {
    np_coordstore_t *cs = r->cs;
    char qkey[200], field[96], err[256];
    snprintf(qkey, sizeof(qkey), "%squarantine", cs->k_pane_prefix);
    snprintf(field, sizeof(field), "%s/%.*s", r->pk + strlen(cs->k_pane_prefix), (int)(klen < 16 ? klen : 16), k);
    const char *hset[] = {"HSET", qkey, field, v};
    size_t hset_l[] = {4, strlen(qkey), strlen(field), vlen};
    const char *hdel[] = {"HDEL", r->pk, k};
    size_t hdel_l[] = {4, strlen(r->pk), klen};
    int moved = np_store_run(cs->store, 4, hset, hset_l, err, sizeof(err)) == 0 &&
                np_store_run(cs->store, 3, hdel, hdel_l, err, sizeof(err)) == 0;
    r->quarantined++;
    np_error("stored_partial_quarantined", "pane_partition=%s reason=\"%s\" moved_to=%s moved=%d "
             "consequence=\"this partition's data is missing from the pane\"", field, why, qkey, moved);
}

static void partial_cb(void *ctx, const char *k, size_t klen, const char *v, size_t vlen) {
    restoring_t *r = ctx;
    const uint8_t *raw = (const uint8_t *)v;
    size_t rawlen = vlen;
    char why[160];
    if (np_crc32_frame_open((const uint8_t *)v, vlen, NP_PARTIAL_MAGIC, 1, &raw, &rawlen, why, sizeof(why)) < 0) {
        quarantine_partial(r, k, klen, v, vlen, why);
        return;
    }
    Netpulse__WorkerMsg *m = netpulse__worker_msg__unpack(NULL, rawlen, raw);
    if (!m || m->body_case != NETPULSE__WORKER_MSG__BODY_PARTIAL)
        quarantine_partial(r, k, klen, v, vlen, "does not decode as a partial");
    else
        r->fn(r->ctx, m->partial);
    if (m) netpulse__worker_msg__free_unpacked(m, NULL);
}

int np_coordstore_each_partial(np_coordstore_t *cs, np_coordstore_partial_fn fn, void *ctx, size_t *quarantined,
                               char *err, size_t errlen) {
    starts_t *st = calloc(1, sizeof(*st));
    restoring_t r = {.cs = cs, .fn = fn, .ctx = ctx};
    int rc = -1;
    if (!st) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (np_store_smembers(cs->store, cs->k_panes, collect_start_cb, st, err, errlen) < 0) goto out;
    for (size_t i = 0; i < st->n; i++) {
        char pk[200];
        pane_key(cs, st->v[i], pk, sizeof(pk));
        r.pk = pk;
        if (np_store_hgetall(cs->store, pk, partial_cb, &r, err, errlen) < 0) goto out;
    }
    rc = 0;
out:
    if (quarantined) *quarantined = r.quarantined;
    free(st);
    return rc;
}

int np_coordstore_get_final(np_coordstore_t *cs, int64_t start, uint8_t **buf, size_t *len, char *err,
                            size_t errlen) {
    char fk[200];
    final_key(cs, start, fk, sizeof(fk));
    return np_store_get(cs->store, fk, buf, len, err, errlen);
}

typedef struct known_ctx {
    np_detect_known_fn fn;
    void *ctx;
} known_ctx_t;

static void known_cb(void *ctx, const char *k, size_t klen, const char *v, size_t vlen) {
    known_ctx_t *kc = ctx;
    char buf[40];
    if (klen != 16 || vlen == 0 || vlen >= sizeof(buf)) return;
    np_ip_t ip;
    memcpy(ip.b, k, 16);
    memcpy(buf, v, vlen);
    buf[vlen] = '\0';
    unsigned share = 0, hosts = 0, ports = 0;
    if (sscanf(buf, "%u,%u,%u", &share, &hosts, &ports) < 1) return;
    np_known_t kv = {(uint16_t)share, hosts, ports};
    kc->fn(kc->ctx, &ip, &kv);
}

int np_coordstore_load_detect(np_coordstore_t *cs, np_coordstore_blob_fn decode, np_detect_known_fn known, void *ctx,
                              char *err, size_t errlen) {
    uint8_t *buf = NULL;
    size_t len = 0;
    int got = np_store_get(cs->store, cs->k_detect, &buf, &len, err, errlen);
    if (got < 0) return -1;
    if (got == 0 && decode(ctx, buf, len) < 0) {
        free(buf);
        snprintf(err, errlen, "detector state in %s is unreadable (another netpulse version?)", cs->k_detect);
        return -1;
    }
    free(buf);
    known_ctx_t kc = {known, ctx};
    return np_store_hgetall(cs->store, cs->k_known, known_cb, &kc, err, errlen);
}

typedef struct result_ctx {
    np_coordstore_result_fn fn;
    void *ctx;
} result_ctx_t;

static void result_cb(void *ctx, const char *k, size_t klen, const char *v, size_t vlen) {
    result_ctx_t *rc = ctx;
    (void)k;
    (void)klen;
    Netpulse__Result *r = netpulse__result__unpack(NULL, vlen, (const uint8_t *)v);
    if (!r) return;
    rc->fn(rc->ctx, r->id, r->type, r->window_start_ms, r->window_end_ms, r->json.data, r->json.len);
    netpulse__result__free_unpacked(r, NULL);
}

int np_coordstore_each_result(np_coordstore_t *cs, np_coordstore_result_fn fn, void *ctx, char *err, size_t errlen) {
    result_ctx_t rc = {fn, ctx};
    return np_store_hgetall(cs->store, cs->k_outbox, result_cb, &rc, err, errlen);
}
