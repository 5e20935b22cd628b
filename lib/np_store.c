/* np_store: hiredis connection with reconnect. See np_store.h. */
#include "np_store.h"

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct np_store {
    redisContext *c;
    int txn_cmds;   /* commands appended since np_store_txn_begin, -1 = broken */
    char *host;
    int port;
    int timeout_ms;
    char *password; /* NULL or "": no AUTH */
};

/* AUTH with the password (never logged). 0 = authenticated. */
static int auth(redisContext *c, const char *host, int port, const char *password, char *errstr, size_t errlen) {
    redisReply *r = redisCommand(c, "AUTH %s", password);
    if (!r || r->type == REDIS_REPLY_ERROR) {
        snprintf(errstr, errlen, "redis %s:%d: AUTH failed: %s", host, port, r ? r->str : c->errstr);
        if (r) freeReplyObject(r);
        return -1;
    }
    freeReplyObject(r);
    return 0;
}

static redisContext *dial(const np_store_t *s, char *errstr, size_t errlen) {
    struct timeval tv = {s->timeout_ms / 1000, (s->timeout_ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(s->host, s->port, tv);
    if (!c || c->err) {
        snprintf(errstr, errlen, "redis %s:%d: %s", s->host, s->port, c ? c->errstr : "out of memory");
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    if (s->password && *s->password && auth(c, s->host, s->port, s->password, errstr, errlen) < 0) {
        redisFree(c);
        return NULL;
    }
    return c;
}

np_store_t *np_store_connect(const char *host, int port, int timeout_ms, char *errstr, size_t errlen) {
    return np_store_connect_auth(host, port, NULL, timeout_ms, errstr, errlen);
}

np_store_t *np_store_connect_auth(const char *host, int port, const char *password, int timeout_ms,
                                  char *errstr, size_t errlen) {
    np_store_t *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    s->host = strdup(host);
    s->port = port;
    s->timeout_ms = timeout_ms;
    s->password = password && *password ? strdup(password) : NULL;
    s->c = s->host ? dial(s, errstr, errlen) : NULL;
    if (!s->c) {
        if (!s->host) snprintf(errstr, errlen, "out of memory");
        np_store_destroy(&s);
        return NULL;
    }
    return s;
}

void np_store_destroy(np_store_t **sp) {
    if (!sp || !*sp) return;
    if ((*sp)->c) redisFree((*sp)->c);
    free((*sp)->host);
    free((*sp)->password);
    free(*sp);
    *sp = NULL;
}

/* Runs a command; on a connection error reconnects once and retries. Returns the reply
 * (caller frees) or NULL with errstr. */
static redisReply *command(np_store_t *s, char *errstr, size_t errlen, const char *fmt, ...) {
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!s->c) {
            s->c = dial(s, errstr, errlen);
            if (!s->c) return NULL;
        }
        va_list ap;
        va_start(ap, fmt);
        redisReply *r = redisvCommand(s->c, fmt, ap);
        va_end(ap);
        if (r) {
            if (r->type == REDIS_REPLY_ERROR) {
                snprintf(errstr, errlen, "redis: %s", r->str);
                freeReplyObject(r);
                return NULL;
            }
            return r;
        }
        snprintf(errstr, errlen, "redis %s:%d: %s", s->host, s->port, s->c->errstr);
        redisFree(s->c);
        s->c = NULL;
    }
    return NULL;
}


int np_store_set_ttl(np_store_t *s, const char *key, const char *val, int64_t ttl_ms, char *errstr,
                     size_t errlen) {
    redisReply *r = command(s, errstr, errlen, "SET %s %s PX %lld", key, val, (long long)ttl_ms);
    if (!r) return -1;
    freeReplyObject(r);
    return 0;
}

int np_store_del(np_store_t *s, const char *key, char *errstr, size_t errlen) {
    redisReply *r = command(s, errstr, errlen, "DEL %s", key);
    if (!r) return -1;
    freeReplyObject(r);
    return 0;
}

int np_store_get(np_store_t *s, const char *key, uint8_t **val, size_t *len, char *errstr, size_t errlen) {
    redisReply *r = command(s, errstr, errlen, "GET %s", key);
    if (!r) return -1;
    int rc = 1;
    *val = NULL;
    *len = 0;
    if (r->type == REDIS_REPLY_STRING) {
        *val = malloc(r->len ? r->len : 1);
        if (!*val) {
            snprintf(errstr, errlen, "out of memory");
            rc = -1;
        } else {
            memcpy(*val, r->str, r->len);
            *len = r->len;
            rc = 0;
        }
    }
    freeReplyObject(r);
    return rc;
}

int np_store_incr(np_store_t *s, const char *key, int64_t *out, char *errstr, size_t errlen) {
    redisReply *r = command(s, errstr, errlen, "INCR %s", key);
    if (!r) return -1;
    int rc = r->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (rc == 0)
        *out = r->integer;
    else
        snprintf(errstr, errlen, "redis: INCR %s: unexpected reply", key);
    freeReplyObject(r);
    return rc;
}

/* The epoch check and the write happen inside Redis, so no other owner can slip in
 * between them. */
static const char FENCED_SET_LUA[] =
    "local e = redis.call('GET', KEYS[1]) "
    "if e ~= ARGV[1] then return 0 end "
    "redis.call('SET', KEYS[2], ARGV[2]) "
    "return 1";

int np_store_fenced_set(np_store_t *s, const char *epoch_key, const char *key, int64_t epoch,
                        const uint8_t *val, size_t len, char *errstr, size_t errlen) {
    char ep[24];
    snprintf(ep, sizeof(ep), "%lld", (long long)epoch);
    redisReply *r = command(s, errstr, errlen, "EVAL %s 2 %s %s %s %b", FENCED_SET_LUA, epoch_key, key, ep,
                            val, len);
    if (!r) return -1;
    int rc = r->type == REDIS_REPLY_INTEGER ? (r->integer == 1 ? 0 : 1) : -1;
    if (rc < 0) snprintf(errstr, errlen, "redis: fenced set %s: unexpected reply", key);
    freeReplyObject(r);
    return rc;
}

int np_store_run(np_store_t *s, int argc, const char **argv, const size_t *lens, char *errstr,
                 size_t errlen) {
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!s->c && !(s->c = dial(s, errstr, errlen))) return -1;
        redisReply *r = redisCommandArgv(s->c, argc, argv, lens);
        if (r) {
            int rc = r->type == REDIS_REPLY_ERROR ? -1 : 0;
            if (rc) snprintf(errstr, errlen, "redis: %s", r->str);
            freeReplyObject(r);
            return rc;
        }
        snprintf(errstr, errlen, "redis %s:%d: %s", s->host, s->port, s->c->errstr);
        redisFree(s->c);
        s->c = NULL;
    }
    return -1;
}

void np_store_txn_begin(np_store_t *s) {
    char err[128];
    s->txn_cmds = 0;
    if (!s->c && !(s->c = dial(s, err, sizeof(err)))) {
        s->txn_cmds = -1;
        return;
    }
    if (redisAppendCommand(s->c, "MULTI") != REDIS_OK) s->txn_cmds = -1;
}

void np_store_txn_add(np_store_t *s, int argc, const char **argv, const size_t *lens) {
    if (s->txn_cmds < 0) return;
    if (redisAppendCommandArgv(s->c, argc, argv, lens) != REDIS_OK)
        s->txn_cmds = -1;
    else
        s->txn_cmds++;
}

int np_store_txn_commit(np_store_t *s, char *errstr, size_t errlen) {
    if (s->txn_cmds < 0 || redisAppendCommand(s->c, "EXEC") != REDIS_OK) {
        snprintf(errstr, errlen, "redis %s:%d: not connected", s->host, s->port);
        return -1;
    }
    int rc = 0;
    /* Replies: +OK for MULTI, +QUEUED per command, then EXEC's array (nil if aborted). */
    for (int i = 0; i < s->txn_cmds + 2; i++) {
        redisReply *r = NULL;
        if (redisGetReply(s->c, (void **)&r) != REDIS_OK || !r) {
            snprintf(errstr, errlen, "redis %s:%d: %s", s->host, s->port, s->c->errstr);
            redisFree(s->c);
            s->c = NULL;
            return -1;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            snprintf(errstr, errlen, "redis: %s", r->str);
            rc = -1;
        } else if (i == s->txn_cmds + 1 && r->type != REDIS_REPLY_ARRAY) {
            snprintf(errstr, errlen, "redis: transaction aborted");
            rc = -1;
        } else if (i == s->txn_cmds + 1) {
            for (size_t j = 0; j < r->elements; j++)
                if (r->element[j]->type == REDIS_REPLY_ERROR) {
                    snprintf(errstr, errlen, "redis: %s", r->element[j]->str);
                    rc = -1;
                }
        }
        freeReplyObject(r);
    }
    return rc;
}

static int walk(np_store_t *s, const char *cmd, const char *key, int pairs, np_store_kv_fn fn, void *ctx,
                char *errstr, size_t errlen) {
    redisReply *r = command(s, errstr, errlen, "%s %s", cmd, key);
    if (!r) return -1;
    int rc = 0;
    if (r->type != REDIS_REPLY_ARRAY) {
        snprintf(errstr, errlen, "redis: %s %s: unexpected reply", cmd, key);
        rc = -1;
    } else {
        size_t step = pairs ? 2 : 1;
        for (size_t i = 0; i + step <= r->elements; i += step) {
            const redisReply *k = r->element[i], *v = pairs ? r->element[i + 1] : NULL;
            fn(ctx, k->str, k->len, v ? v->str : NULL, v ? v->len : 0);
        }
    }
    freeReplyObject(r);
    return rc;
}

int np_store_hgetall(np_store_t *s, const char *key, np_store_kv_fn fn, void *ctx, char *errstr,
                     size_t errlen) {
    return walk(s, "HGETALL", key, 1, fn, ctx, errstr, errlen);
}

int np_store_smembers(np_store_t *s, const char *key, np_store_kv_fn fn, void *ctx, char *errstr,
                      size_t errlen) {
    return walk(s, "SMEMBERS", key, 0, fn, ctx, errstr, errlen);
}

int np_store_scan(np_store_t *s, const char *pattern, size_t max_keys, np_store_kv_fn fn, void *ctx,
                  char *errstr, size_t errlen) {
    char cursor[32] = "0";
    size_t seen = 0;
    do {
        redisReply *r = command(s, errstr, errlen, "SCAN %s MATCH %s COUNT 100", cursor, pattern);
        if (!r) return -1;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            snprintf(errstr, errlen, "redis: SCAN: unexpected reply");
            freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        const redisReply *keys = r->element[1];
        for (size_t i = 0; i < keys->elements && seen < max_keys; i++, seen++)
            fn(ctx, keys->element[i]->str, keys->element[i]->len, NULL, 0);
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0 && seen < max_keys);
    return 0;
}

int np_store_pttl(np_store_t *s, const char *key, int64_t *ms, char *errstr, size_t errlen) {
    redisReply *r = command(s, errstr, errlen, "PTTL %s", key);
    if (!r) return -1;
    int rc = r->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (rc == 0)
        *ms = r->integer;
    else
        snprintf(errstr, errlen, "redis: PTTL %s: unexpected reply", key);
    freeReplyObject(r);
    return rc;
}
