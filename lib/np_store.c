/* np_store: hiredis connection with reconnect. See np_store.h. */
#include "np_store.h"

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct np_store {
    redisContext *c;
    char *host;
    int port;
    int timeout_ms;
};

static redisContext *dial(const char *host, int port, int timeout_ms, char *errstr, size_t errlen) {
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(host, port, tv);
    if (!c || c->err) {
        snprintf(errstr, errlen, "redis %s:%d: %s", host, port, c ? c->errstr : "out of memory");
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    return c;
}

np_store_t *np_store_connect(const char *host, int port, int timeout_ms, char *errstr, size_t errlen) {
    redisContext *c = dial(host, port, timeout_ms, errstr, errlen);
    if (!c) return NULL;
    np_store_t *s = calloc(1, sizeof(*s));
    if (!s) {
        redisFree(c);
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    s->c = c;
    s->host = strdup(host);
    s->port = port;
    s->timeout_ms = timeout_ms;
    return s;
}

void np_store_destroy(np_store_t **sp) {
    if (!sp || !*sp) return;
    if ((*sp)->c) redisFree((*sp)->c);
    free((*sp)->host);
    free(*sp);
    *sp = NULL;
}

/* Runs a command; on a connection error reconnects once and retries. Returns the reply
 * (caller frees) or NULL with errstr. */
static redisReply *command(np_store_t *s, char *errstr, size_t errlen, const char *fmt, ...) {
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!s->c) {
            s->c = dial(s->host, s->port, s->timeout_ms, errstr, errlen);
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

int np_store_ping(np_store_t *s, char *errstr, size_t errlen) {
    redisReply *r = command(s, errstr, errlen, "PING");
    if (!r) return -1;
    freeReplyObject(r);
    return 0;
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
