/*
 * np_store: the Redis connection of a netpulse process (hiredis, synchronous, with
 * timeouts and reconnect). In this version it keeps the fleet registry: each worker
 * writes its id, its partitions and a heartbeat under netpulse:workers:<id> with a TTL,
 * which operators and the fleet dashboard read. Checkpoints build on this module.
 * Not thread-safe: one connection per thread.
 */
#ifndef NP_STORE_H
#define NP_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct np_store np_store_t;

/* Connects to host:port with a timeout (ms). Returns NULL with errstr on failure. */
np_store_t *np_store_connect(const char *host, int port, int timeout_ms, char *errstr, size_t errlen);
void np_store_destroy(np_store_t **s);

/* PING; reconnects once on a broken connection. 0 = ok. */
int np_store_ping(np_store_t *s, char *errstr, size_t errlen);

/* SET key value PX ttl_ms (reconnecting once on failure). 0 = ok. */
int np_store_set_ttl(np_store_t *s, const char *key, const char *val, int64_t ttl_ms, char *errstr,
                     size_t errlen);

/* DEL key. 0 = ok. */
int np_store_del(np_store_t *s, const char *key, char *errstr, size_t errlen);

/* GET key (binary-safe) into a malloc'd buffer the caller frees.
 * Returns 0 found, 1 absent, -1 error. */
int np_store_get(np_store_t *s, const char *key, uint8_t **val, size_t *len, char *errstr, size_t errlen);

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

#endif
