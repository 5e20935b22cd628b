/* np_store: hiredis connection with reconnect. See np_store.h. */
#include "np_store.h"

#include "np_config.h"

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct np_store {
    redisContext *c;
    int txn_cmds;   /* commands appended since np_store_txn_begin, -1 = broken */
    int sent_replies; /* replies of a transaction sent and not read yet (np_store_txn_send), 0: none */
    int sent_rc;      /* its outcome once read (sent_replies -1: read, awaiting np_store_txn_wait) */
    char sent_err[256];
    char *host;
    int port;
    int timeout_ms;
    char *password; /* NULL or "": no AUTH */
    char *user;     /* NULL: AUTH password (the default user); else AUTH user password (ACL) */
    int db;         /* SELECT on every connect when > 0 */
};

/* AUTH with the password (never logged). 0 = authenticated. */
static int auth(redisContext *c, const char *host, int port, const char *user, const char *password, char *errstr,
                size_t errlen) {
    redisReply *r = user ? redisCommand(c, "AUTH %s %s", user, password) : redisCommand(c, "AUTH %s", password);
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
    if (s->password && *s->password && auth(c, s->host, s->port, s->user, s->password, errstr, errlen) < 0) {
        redisFree(c);
        return NULL;
    }
    if (s->db > 0) {
        redisReply *r = redisCommand(c, "SELECT %d", s->db);
        int bad = !r || r->type == REDIS_REPLY_ERROR;
        if (bad) snprintf(errstr, errlen, "redis %s:%d: SELECT %d failed: %s", s->host, s->port, s->db, r ? r->str : c->errstr);
        if (r) freeReplyObject(r);
        if (bad) {
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

np_store_t *np_store_connect(const char *host, int port, int timeout_ms, char *errstr, size_t errlen) {
    return np_store_connect_auth(host, port, NULL, timeout_ms, errstr, errlen);
}

np_store_t *np_store_connect_auth(const char *host, int port, const char *password, int timeout_ms,
                                  char *errstr, size_t errlen) {
    np_store_opts_t o = {.host = host, .port = port, .password = password, .timeout_ms = timeout_ms};
    return np_store_connect_opts(&o, errstr, errlen);
}

np_store_t *np_store_connect_opts(const np_store_opts_t *o, char *errstr, size_t errlen) {
    np_store_t *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    s->host = strdup(o->host);
    s->port = o->port;
    s->timeout_ms = o->timeout_ms;
    s->password = o->password && *o->password ? strdup(o->password) : NULL;
    s->user = o->user && *o->user ? strdup(o->user) : NULL;
    s->db = o->db;
    s->c = s->host ? dial(s, errstr, errlen) : NULL;
    if (!s->c) {
        if (!s->host) snprintf(errstr, errlen, "out of memory");
        np_store_destroy(&s);
        return NULL;
    }
    return s;
}

np_store_t *np_store_connect_config(const np_config_t *cfg, char *errstr, size_t errlen) {
    np_store_opts_t o = {.host = np_config_str(cfg, "redis.host"),
                         .port = (int)np_config_int(cfg, "redis.port"),
                         .user = np_config_str(cfg, "redis.user"),
                         .password = np_config_str(cfg, "redis.password"),
                         .db = (int)np_config_int(cfg, "redis.db"),
                         .timeout_ms = 2000};
    return np_store_connect_opts(&o, errstr, errlen);
}

void np_store_destroy(np_store_t **sp) {
    if (!sp || !*sp) return;
    if ((*sp)->c) redisFree((*sp)->c);
    free((*sp)->host);
    free((*sp)->password);
    free((*sp)->user);
    free(*sp);
    *sp = NULL;
}

static int read_txn_replies(np_store_t *s, int n, char *errstr, size_t errlen);

/* Reads a sent transaction's replies before anything else uses the connection (they come
 * first), keeping the outcome for np_store_txn_wait. */
static void settle_sent(np_store_t *s) {
    if (s->sent_replies <= 0) return;
    s->sent_rc = read_txn_replies(s, s->sent_replies, s->sent_err, sizeof(s->sent_err));
    s->sent_replies = -1;
}

/* Runs a command; on a connection error reconnects once and retries. Returns the reply
 * (caller frees) or NULL with errstr. */
static redisReply *command(np_store_t *s, char *errstr, size_t errlen, const char *fmt, ...) {
    settle_sent(s);
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

/* A new epoch and the owner record that names it, in one step (np_owner.h). */
static const char CLAIM_LUA[] =
    "local e = redis.call('INCR', KEYS[1]) "
    "redis.call('SET', KEYS[2], e .. ' ' .. ARGV[1] .. ' ' .. ARGV[2]) "
    "return e";

int np_store_claim(np_store_t *s, const char *epoch_key, const char *owner_key, const char *session, int32_t slot,
                   int64_t *epoch_out, char *errstr, size_t errlen) {
    char sl[16];
    snprintf(sl, sizeof(sl), "%d", (int)slot);
    redisReply *r = command(s, errstr, errlen, "EVAL %s 2 %s %s %s %s", CLAIM_LUA, epoch_key, owner_key, session, sl);
    if (!r) return -1;
    int rc = r->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (rc == 0)
        *epoch_out = r->integer;
    else
        snprintf(errstr, errlen, "redis: claim %s: unexpected reply", epoch_key);
    freeReplyObject(r);
    return rc;
}

int np_store_epoch_check(np_store_t *s, const char *epoch_key, int64_t epoch, char *errstr, size_t errlen) {
    redisReply *r = command(s, errstr, errlen, "GET %s", epoch_key);
    if (!r) return -1;
    char ep[24];
    snprintf(ep, sizeof(ep), "%lld", (long long)epoch);
    int rc = r->type == REDIS_REPLY_STRING && strcmp(r->str, ep) == 0 ? 0 : 1;
    if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL) {
        snprintf(errstr, errlen, "redis: GET %s: unexpected reply", epoch_key);
        rc = -1;
    }
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

/* command() for a binary-safe argv: reconnects once on a connection error. Returns the
 * reply (caller frees), or NULL with errstr (an error reply included). */
static redisReply *command_argv(np_store_t *s, int argc, const char **argv, const size_t *lens, char *errstr,
                                size_t errlen) {
    settle_sent(s);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!s->c && !(s->c = dial(s, errstr, errlen))) return NULL;
        redisReply *r = redisCommandArgv(s->c, argc, argv, lens);
        if (r) {
            if (r->type != REDIS_REPLY_ERROR) return r;
            snprintf(errstr, errlen, "redis: %s", r->str);
            freeReplyObject(r);
            return NULL;
        }
        snprintf(errstr, errlen, "redis %s:%d: %s", s->host, s->port, s->c->errstr);
        redisFree(s->c);
        s->c = NULL;
    }
    return NULL;
}

/* All checks before any write, so a refused call changes nothing. ARGV: epoch, head, then
 * per part (KEYS[3..]) its op, expected length and value. */
static const char FENCED_WRITE_LUA[] =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end "
    "for i = 3, #KEYS do "
    "  local b = 3 * i - 6 "
    "  if ARGV[b] == 'A' and redis.call('STRLEN', KEYS[i]) ~= tonumber(ARGV[b + 1]) then return -(i - 2) end "
    "end "
    "redis.call('SET', KEYS[2], ARGV[2]) "
    "for i = 3, #KEYS do "
    "  local b = 3 * i - 6 "
    "  if ARGV[b] == 'S' then redis.call('SET', KEYS[i], ARGV[b + 2]) "
    "  elseif ARGV[b] == 'A' then redis.call('APPEND', KEYS[i], ARGV[b + 2]) "
    "  else redis.call('DEL', KEYS[i]) end "
    "end "
    "return 1";

int np_store_fenced_write(np_store_t *s, const char *epoch_key, int64_t epoch, const char *key, const uint8_t *val,
                          size_t len, const np_store_part_t *parts, size_t nparts, char *errstr, size_t errlen) {
    size_t argc = 7 + 4 * nparts; /* EVAL script numkeys epoch_key key + parts; epoch head + 3 per part */
    const char **argv = malloc(argc * sizeof(*argv));
    size_t *lens = malloc(argc * sizeof(*lens));
    char *nums = malloc((nparts + 2) * 24);
    int rc = -1;
    if (!argv || !lens || !nums) {
        snprintf(errstr, errlen, "out of memory");
        goto out;
    }
    size_t a = 0;
#define ARG(p, l) (argv[a] = (const char *)(p), lens[a++] = (l))
    char *nk = nums, *ep = nums + 24;
    snprintf(nk, 24, "%zu", nparts + 2);
    snprintf(ep, 24, "%lld", (long long)epoch);
    ARG("EVAL", 4);
    ARG(FENCED_WRITE_LUA, sizeof(FENCED_WRITE_LUA) - 1);
    ARG(nk, strlen(nk));
    ARG(epoch_key, strlen(epoch_key));
    ARG(key, strlen(key));
    for (size_t i = 0; i < nparts; i++) ARG(parts[i].key, strlen(parts[i].key));
    ARG(ep, strlen(ep));
    ARG(val, len);
    for (size_t i = 0; i < nparts; i++) {
        char *ex = nums + 24 * (i + 2);
        snprintf(ex, 24, "%llu", (unsigned long long)parts[i].expect);
        ARG(&parts[i].op, 1);
        ARG(ex, strlen(ex));
        ARG(parts[i].val ? (const char *)parts[i].val : "", parts[i].val ? parts[i].len : 0);
    }
#undef ARG
    /* Re-sent once on a connection error: a part applied already fails its length check. */
    redisReply *r = command_argv(s, (int)a, argv, lens, errstr, errlen);
    if (!r) goto out;
    if (r->type == REDIS_REPLY_INTEGER && r->integer == 1)
        rc = 0;
    else if (r->type == REDIS_REPLY_INTEGER && r->integer == 0)
        rc = 1;
    else if (r->type == REDIS_REPLY_INTEGER && r->integer < 0 && (size_t)-r->integer <= nparts)
        snprintf(errstr, errlen, "redis: fenced write %s: part %s is not the length expected", key,
                 parts[-r->integer - 1].key);
    else
        snprintf(errstr, errlen, "redis: fenced write %s: unexpected reply", key);
    freeReplyObject(r);
out:
    free(argv);
    free(lens);
    free(nums);
    return rc;
}

int np_store_run(np_store_t *s, int argc, const char **argv, const size_t *lens, char *errstr,
                 size_t errlen) {
    redisReply *r = command_argv(s, argc, argv, lens, errstr, errlen);
    if (!r) return -1;
    freeReplyObject(r);
    return 0;
}

/* Checks first, so a zombie's call moves nothing. KEYS: epoch, mark, then from/to pairs;
 * ARGV: epoch. A source that is gone (a re-sent call that was applied) is skipped. */
static const char FENCED_RENAME_LUA[] =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end "
    "local n = 0 "
    "for i = 3, #KEYS - 1, 2 do "
    "  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('RENAME', KEYS[i], KEYS[i + 1]) n = n + 1 end "
    "end "
    "redis.call('SET', KEYS[2], '1') "
    "return n";

int np_store_fenced_rename(np_store_t *s, const char *epoch_key, int64_t epoch, const char *mark_key,
                           const char *const *from, const char *const *to, size_t n, size_t *moved, char *errstr,
                           size_t errlen) {
    size_t argc = 6 + 2 * n; /* EVAL script numkeys epoch_key mark_key, the pairs, epoch */
    const char **argv = malloc(argc * sizeof(*argv));
    size_t *lens = malloc(argc * sizeof(*lens));
    char nk[24], ep[24];
    int rc = -1;
    *moved = 0;
    if (!argv || !lens) {
        snprintf(errstr, errlen, "out of memory");
        goto out;
    }
    snprintf(nk, sizeof(nk), "%zu", 2 + 2 * n);
    snprintf(ep, sizeof(ep), "%lld", (long long)epoch);
    size_t a = 0;
#define ARG(p) (argv[a] = (p), lens[a] = strlen(argv[a]), a++)
    ARG("EVAL");
    ARG(FENCED_RENAME_LUA);
    ARG(nk);
    ARG(epoch_key);
    ARG(mark_key);
    for (size_t i = 0; i < n; i++) {
        ARG(from[i]);
        ARG(to[i]);
    }
    ARG(ep);
#undef ARG
    redisReply *r = command_argv(s, (int)a, argv, lens, errstr, errlen);
    if (!r) goto out;
    if (r->type == REDIS_REPLY_INTEGER && r->integer >= 0) {
        *moved = (size_t)r->integer;
        rc = 0;
    } else if (r->type == REDIS_REPLY_INTEGER) {
        rc = 1;
    } else {
        snprintf(errstr, errlen, "redis: fenced rename %s: unexpected reply", mark_key);
    }
    freeReplyObject(r);
out:
    free(argv);
    free(lens);
    return rc;
}

void np_store_txn_begin(np_store_t *s) {
    char err[128];
    settle_sent(s);
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

/* Appends EXEC and writes the whole transaction out. Returns the number of replies to
 * read, or -1 with errstr (the connection dropped, and whatever was appended with it). */
static int send_txn(np_store_t *s, char *errstr, size_t errlen) {
    if (s->txn_cmds < 0 || redisAppendCommand(s->c, "EXEC") != REDIS_OK) {
        /* Whatever was appended (MULTI, some commands) must never reach Redis with a later
         * command: drop the connection and its output buffer with it. */
        snprintf(errstr, errlen, "redis %s:%d: %s", s->host, s->port,
                 s->c ? "transaction could not be buffered (out of memory)" : "not connected");
        if (s->c) {
            redisFree(s->c);
            s->c = NULL;
        }
        return -1;
    }
    return s->txn_cmds + 2;
}

/* Replies: +OK for MULTI, +QUEUED per command, then EXEC's array (nil if aborted). */
static int read_txn_replies(np_store_t *s, int n, char *errstr, size_t errlen) {
    int rc = 0;
    for (int i = 0; i < n; i++) {
        redisReply *r = NULL;
        if (!s->c || redisGetReply(s->c, (void **)&r) != REDIS_OK || !r) {
            snprintf(errstr, errlen, "redis %s:%d: %s", s->host, s->port, s->c ? s->c->errstr : "not connected");
            if (s->c) redisFree(s->c);
            s->c = NULL;
            return -1;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            snprintf(errstr, errlen, "redis: %s", r->str);
            rc = -1;
        } else if (i == n - 1 && r->type != REDIS_REPLY_ARRAY) {
            snprintf(errstr, errlen, "redis: transaction aborted");
            rc = -1;
        } else if (i == n - 1) {
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

int np_store_txn_commit(np_store_t *s, char *errstr, size_t errlen) {
    int n = send_txn(s, errstr, errlen);
    return n < 0 ? -1 : read_txn_replies(s, n, errstr, errlen);
}

int np_store_txn_send(np_store_t *s, char *errstr, size_t errlen) {
    settle_sent(s);
    if (s->sent_replies < 0) { /* an earlier one nobody waited for: its outcome goes */
        s->sent_replies = 0;
    }
    int n = send_txn(s, errstr, errlen);
    if (n < 0) return -1;
    for (int done = 0; !done;)
        if (redisBufferWrite(s->c, &done) != REDIS_OK) {
            snprintf(errstr, errlen, "redis %s:%d: %s", s->host, s->port, s->c->errstr);
            redisFree(s->c);
            s->c = NULL;
            return -1;
        }
    s->sent_replies = n;
    return 0;
}

bool np_store_txn_sent(const np_store_t *s) { return s->sent_replies != 0; }

int np_store_txn_wait(np_store_t *s, char *errstr, size_t errlen) {
    if (!s->sent_replies) {
        snprintf(errstr, errlen, "no transaction sent");
        return -1;
    }
    settle_sent(s);
    s->sent_replies = 0;
    if (s->sent_rc < 0) snprintf(errstr, errlen, "%s", s->sent_err);
    return s->sent_rc;
}

int np_store_fd(const np_store_t *s) { return s->c ? s->c->fd : -1; }

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

int np_store_glob_escape(const char *s, char *out, size_t outlen) {
    size_t o = 0;
    for (; *s; s++) {
        int meta = strchr("*?[]\\", *s) != NULL;
        if (o + (size_t)meta + 1 >= outlen) return -1;
        if (meta) out[o++] = '\\';
        out[o++] = *s;
    }
    if (o >= outlen) return -1;
    out[o] = '\0';
    return 0;
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
