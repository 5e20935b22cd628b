/*
 * np_store: the Redis connection of a netpulse process (hiredis, synchronous, with
 * timeouts and reconnect). In this version it keeps the fleet registry: each worker
 * writes its id, its partitions and a heartbeat under netpulse:workers:<id> with a TTL,
 * which operators and the fleet dashboard read. Checkpoints build on this module.
 * Not thread-safe: one connection per thread.
 */
#ifndef NP_STORE_H
#define NP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct np_store np_store_t;

/* Connects to host:port with a timeout (ms). Returns NULL with errstr on failure. */
np_store_t *np_store_connect(const char *host, int port, int timeout_ms, char *errstr, size_t errlen);
/* Same, and AUTH with password on every (re)connect when it is not NULL or "" (the
 * redis.password option, env NETPULSE_REDIS_PASSWORD). The password is copied. */
np_store_t *np_store_connect_auth(const char *host, int port, const char *password, int timeout_ms,
                                  char *errstr, size_t errlen);
/* Same, with an ACL user (AUTH user password; NULL or "": the default user) and a
 * database (SELECT db when > 0), both on every (re)connect. Strings are copied. */
typedef struct np_store_opts {
    const char *host;
    int port;
    const char *user, *password;
    int db;
    int timeout_ms;
} np_store_opts_t;
np_store_t *np_store_connect_opts(const np_store_opts_t *o, char *errstr, size_t errlen);
/* From the redis.host, redis.port, redis.user, redis.password and redis.db options. */
struct np_config;
np_store_t *np_store_connect_config(const struct np_config *cfg, char *errstr, size_t errlen);
void np_store_destroy(np_store_t **s);

/* SET key value PX ttl_ms (reconnecting once on failure). 0 = ok. */
int np_store_set_ttl(np_store_t *s, const char *key, const char *val, int64_t ttl_ms, char *errstr,
                     size_t errlen);

/* DEL key. 0 = ok. */
int np_store_del(np_store_t *s, const char *key, char *errstr, size_t errlen);

/* GET key (binary-safe) into a malloc'd buffer the caller frees.
 * Returns 0 found, 1 absent, -1 error. */
int np_store_get(np_store_t *s, const char *key, uint8_t **val, size_t *len, char *errstr, size_t errlen);

/* INCRs epoch_key and, atomically with it, stores "<epoch> <session> <slot>" under
 * owner_key (the coordinator's ownership check, np_owner.h). Returns 0 with *epoch_out,
 * or -1. */
int np_store_claim(np_store_t *s, const char *epoch_key, const char *owner_key, const char *session, int32_t slot,
                   int64_t *epoch_out, char *errstr, size_t errlen);

/* Whether epoch_key still holds epoch (nobody claimed since the caller did). Returns 0
 * held, 1 not (another owner's claim came since, or the key is gone), -1 error. */
int np_store_epoch_check(np_store_t *s, const char *epoch_key, int64_t epoch, char *errstr, size_t errlen);

/* INCR key: the caller's new fencing epoch. Returns 0 or -1. */
int np_store_incr(np_store_t *s, const char *key, int64_t *out, char *errstr, size_t errlen);

/*
 * Fenced write: atomically (one Lua script) sets key = val only if the value of
 * epoch_key still equals `epoch`, i.e. nobody took ownership since the caller did.
 * Returns 0 written, 1 fenced (another owner holds a newer epoch: the caller is a
 * zombie and must drop the state), -1 error.
 */
int np_store_fenced_set(np_store_t *s, const char *epoch_key, const char *key, int64_t epoch,
                        const uint8_t *val, size_t len, char *errstr, size_t errlen);

/*
 * Fenced multi-key write (incremental checkpoints, np_ckpt_writer): in one Lua script,
 * if epoch_key still holds `epoch`, checks that every 'A' part's current length is its
 * `expect`, then sets key = val and applies every part: 'S' SET, 'A' APPEND, 'D' DEL.
 * Either all of it is written or none. Every key should share key's hash tag (one Redis
 * Cluster slot). Returns 0 written, 1 fenced (nothing written), -1 error or a part that
 * is not the length expected (nothing written; errstr says which).
 */
typedef struct np_store_part {
    const char *key;
    char op;            /* 'S', 'A' or 'D' */
    uint64_t expect;    /* 'A': the part's length before */
    const uint8_t *val; /* 'S', 'A' */
    size_t len;
} np_store_part_t;
int np_store_fenced_write(np_store_t *s, const char *epoch_key, int64_t epoch, const char *key, const uint8_t *val,
                          size_t len, const np_store_part_t *parts, size_t nparts, char *errstr, size_t errlen);

/*
 * Fenced move (quarantine, np_ckpt_store): in one Lua script, if epoch_key still holds
 * `epoch`, renames every from[i] that exists to to[i] and sets mark_key to "1"; else does
 * nothing. Every key should share epoch_key's hash tag. Returns 0 done (*moved: the keys
 * renamed), 1 fenced (another owner holds a newer epoch: nothing changed), -1 error.
 */
int np_store_fenced_rename(np_store_t *s, const char *epoch_key, int64_t epoch, const char *mark_key,
                           const char *const *from, const char *const *to, size_t n, size_t *moved, char *errstr,
                           size_t errlen);

/* One command given as binary-safe argv; the reply is discarded unless it is an error.
 * Returns 0 or -1. */
int np_store_run(np_store_t *s, int argc, const char **argv, const size_t *lens, char *errstr,
                 size_t errlen);

/*
 * MULTI/EXEC in one round trip: np_store_txn_begin, any number of np_store_txn_add, then
 * np_store_txn_commit, which returns 0 when Redis applied every command, -1 otherwise
 * (then nothing was applied, or the connection broke: the caller treats it as not done).
 */
void np_store_txn_begin(np_store_t *s);
void np_store_txn_add(np_store_t *s, int argc, const char **argv, const size_t *lens);
int np_store_txn_commit(np_store_t *s, char *errstr, size_t errlen);

/*
 * The same transaction pipelined: np_store_txn_send writes it out and returns without
 * waiting (0, or -1 with errstr when it could not be sent: not applied), so the caller
 * can go on working while Redis applies it; np_store_txn_wait then reads its outcome (as
 * np_store_txn_commit's). At most one is in flight: any other call on the store (a
 * command, the next transaction) first reads its replies, which come first on the
 * connection, and keeps the outcome for np_store_txn_wait. np_store_txn_sent: one was sent
 * and not waited for. np_store_fd: the connection's socket (-1: none), readable once the
 * replies arrive.
 */
int np_store_txn_send(np_store_t *s, char *errstr, size_t errlen);
int np_store_txn_wait(np_store_t *s, char *errstr, size_t errlen);
bool np_store_txn_sent(const np_store_t *s);
int np_store_fd(const np_store_t *s);

/* HGETALL / SMEMBERS, calling fn for each field+value / member. Returns 0 or -1. */
typedef void (*np_store_kv_fn)(void *ctx, const char *k, size_t klen, const char *v, size_t vlen);
int np_store_hgetall(np_store_t *s, const char *key, np_store_kv_fn fn, void *ctx, char *errstr,
                     size_t errlen);
int np_store_smembers(np_store_t *s, const char *key, np_store_kv_fn fn, void *ctx, char *errstr,
                      size_t errlen);

/* Copies s into out with Redis glob metacharacters (* ? [ ] \\) escaped, so that a key used
 * as the prefix of a SCAN pattern matches only itself. Returns 0, or -1 when out is too small. */
int np_store_glob_escape(const char *s, char *out, size_t outlen);

/* SCAN for keys matching pattern, calling fn(ctx, key, klen, NULL, 0) for each, at most
 * max_keys (SCAN may repeat a key across its pages). Returns 0 or -1. */
int np_store_scan(np_store_t *s, const char *pattern, size_t max_keys, np_store_kv_fn fn, void *ctx,
                  char *errstr, size_t errlen);

/* PTTL key: ms left to live (-1 no expiry, -2 no such key). Returns 0 or -1. */
int np_store_pttl(np_store_t *s, const char *key, int64_t *ms, char *errstr, size_t errlen);

#endif
