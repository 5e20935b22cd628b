/* live: the gateway's web page, JSON API and fleet reader. See live.h. */
#include "live.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "np_clock.h"
#include "np_live.h"
#include "np_store.h"

/* The worker writes netpulse:workers:<id> every 2 s with a 10 s TTL (worker/main.c,
 * heartbeat()): its heartbeat's age is 10 s minus what is left of the TTL. */
#define HEARTBEAT_TTL_MS 10000
#define HEARTBEAT_STALE_MS 5000
#define SSE_KEEPALIVE_MS 5000
#define SSE_CHUNK_MAX 65536

struct live {
    np_proc_t *proc;
    np_live_t *state;
    int sse_max;
    /* fleet thread */
    pthread_t fleet;
    bool fleet_running;
    atomic_bool stop;
    const char *redis_host;
    const char *redis_password;
    int redis_port;
    int64_t fleet_interval_ms;
};

static live_t *L; /* the process's one live page: np_http's callbacks reach it here */

/* ---- fleet ------------------------------------------------------------------------- */

typedef struct keys {
    char *k[NP_LIVE_WORKERS_MAX];
    size_t n;
} keys_t;

static void collect_key(void *ctx, const char *k, size_t klen, const char *v, size_t vlen) {
    keys_t *ks = ctx;
    (void)v;
    (void)vlen;
    for (size_t i = 0; i < ks->n; i++)
        if (strlen(ks->k[i]) == klen && !memcmp(ks->k[i], k, klen)) return; /* SCAN repeats */
    if (ks->n < NP_LIVE_WORKERS_MAX && (ks->k[ks->n] = strndup(k, klen))) ks->n++;
}

/* One read of the registry into the live state. Returns 0, or -1 with err. */
static int fleet_read(live_t *l, np_store_t *s, char *err, size_t errlen) {
    keys_t ks = {.n = 0};
    np_live_worker_t w[NP_LIVE_WORKERS_MAX];
    uint8_t *vals[NP_LIVE_WORKERS_MAX];
    size_t n = 0;
    int rc = np_store_scan(s, "netpulse:workers:*", NP_LIVE_WORKERS_MAX, collect_key, &ks, err, errlen);
    for (size_t i = 0; rc == 0 && i < ks.n; i++) {
        size_t len;
        int64_t pttl = -2;
        int got = np_store_get(s, ks.k[i], &vals[n], &len, err, errlen);
        if (got < 0 || (got == 0 && np_store_pttl(s, ks.k[i], &pttl, err, errlen) < 0)) rc = -1;
        if (got != 0) continue; /* expired between SCAN and GET, or an error */
        w[n] = (np_live_worker_t){ks.k[i], (const char *)vals[n], len, pttl >= 0 ? HEARTBEAT_TTL_MS - pttl : -1};
        n++;
    }
    if (rc == 0) np_live_set_fleet(l->state, np_clock_wall_ms(NULL), "ok", NULL, w, n, HEARTBEAT_STALE_MS);
    for (size_t i = 0; i < n; i++) free(vals[i]);
    for (size_t i = 0; i < ks.n; i++) free(ks.k[i]);
    return rc;
}

/* Sleeps ms in short steps so that live_stop is never held up. */
static void nap(live_t *l, int64_t ms) {
    for (int64_t until = np_clock_mono_ms() + ms; !atomic_load(&l->stop) && np_clock_mono_ms() < until;) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void *fleet_main(void *arg) {
    live_t *l = arg;
    np_store_t *s = NULL;
    np_log_rl_t rl = NP_LOG_RL_INIT;
    char err[256];
    while (!atomic_load(&l->stop)) {
        if (!s) s = np_store_connect_auth(l->redis_host, l->redis_port, l->redis_password, 1000, err, sizeof(err));
        if (!s || fleet_read(l, s, err, sizeof(err)) < 0) {
            np_live_set_fleet(l->state, np_clock_wall_ms(NULL), "unavailable", err, NULL, 0, HEARTBEAT_STALE_MS);
            np_log_rl(&rl, NP_LOG_WARN, "fleet_read_failed", "error=\"%s\"", err);
        }
        nap(l, l->fleet_interval_ms);
    }
    np_store_destroy(&s);
    return NULL;
}

/* ---- Server-Sent Events ------------------------------------------------------------ */

typedef struct sse {
    uint64_t cursor;
    int64_t last_ms;
    bool hello;
} sse_t;

static void *sse_open(void *ctx, const char *path, int *status) {
    (void)ctx;
    *status = 0;
    if (strcmp(path, "/api/events") != 0) return NULL;
    *status = 503;
    if (!L || !np_live_client_enter(L->state, L->sse_max)) return NULL;
    sse_t *s = calloc(1, sizeof(*s));
    if (!s) {
        np_live_client_leave(L->state);
        return NULL;
    }
    s->cursor = np_live_cursor(L->state);
    s->last_ms = np_clock_mono_ms();
    return s;
}

static int sse_next(void *state, np_strbuf_t *chunk) {
    sse_t *s = state;
    if (!s->hello) { /* the browser reconnects after 2 s if the stream breaks */
        s->hello = true;
        np_strbuf_printf(chunk, "retry: 2000\nevent: hello\ndata: {\"cursor\":%llu}\n\n",
                         (unsigned long long)s->cursor);
        return 0;
    }
    int n = np_live_events(L->state, &s->cursor, 1000, SSE_CHUNK_MAX, chunk);
    if (n < 0) return -1;
    int64_t now = np_clock_mono_ms();
    if (n == 0 && now - s->last_ms >= SSE_KEEPALIVE_MS) np_strbuf_puts(chunk, ": keepalive\n\n");
    if (chunk->len) s->last_ms = now;
    return 0;
}

static void sse_close(void *state) {
    free(state);
    np_live_client_leave(L->state);
}

static const np_http_stream_t SSE = {"text/event-stream", sse_open, sse_next, sse_close};

/* ---- routes ------------------------------------------------------------------------ */

static int asset(const char *path, np_strbuf_t *body, const char **ctype) {
    if (!strcmp(path, "/")) path = "/index.html";
    for (size_t i = 0; i < live_assets_count; i++)
        if (!strcmp(path + 1, live_assets[i].path)) {
            np_strbuf_append(body, (const char *)live_assets[i].data, live_assets[i].len);
            *ctype = live_assets[i].content_type;
            return 200;
        }
    return 0;
}

int live_route(void *ctx, const char *path, const char *query, np_strbuf_t *body, const char **ctype) {
    (void)ctx;
    if (!L) return 0;
    if (strncmp(path, "/api/", 5) != 0) return asset(path, body, ctype);
    *ctype = "application/json";
    if (!strcmp(path, "/api/windows")) {
        char *end = NULL;
        long long since = query && *query ? strtoll(query, &end, 10) : 0;
        if (end && *end) {
            *ctype = "text/plain";
            np_strbuf_puts(body, "since: milliseconds since the epoch\n");
            return 400;
        }
        np_live_windows_json(L->state, since, body);
    } else if (!strcmp(path, "/api/anomalies")) {
        np_live_anomalies_json(L->state, body);
    } else if (!strcmp(path, "/api/groups")) {
        np_live_groups_json(L->state, body);
    } else if (!strcmp(path, "/api/fleet")) {
        np_live_fleet_json(L->state, body);
    } else if (!strcmp(path, "/api/status")) {
        np_live_status_json(L->state, body);
    } else {
        return 0;
    }
    return 200;
}

/* ---- lifecycle --------------------------------------------------------------------- */

int live_start(live_t **out, np_proc_t *proc, char *err, size_t errlen) {
    np_config_t *c = proc->cfg;
    np_live_limits_t lim = {(size_t)np_config_int(c, "live.windows"), (size_t)np_config_int(c, "live.anomalies"),
                            (size_t)np_config_int(c, "live.events")};
    live_t *l = calloc(1, sizeof(*l));
    if (!l || !(l->state = np_live_new(&lim))) {
        free(l);
        snprintf(err, errlen, "out of memory (live page state)");
        return -1;
    }
    l->proc = proc;
    l->sse_max = (int)np_config_int(c, "live.sse.clients");
    l->redis_host = np_config_str(c, "redis.host");
    l->redis_password = np_config_str(c, "redis.password");
    l->redis_port = (int)np_config_int(c, "redis.port");
    l->fleet_interval_ms = np_config_int(c, "fleet.interval.ms");
    if (l->redis_port == 0) {
        np_live_set_fleet(l->state, np_clock_wall_ms(NULL), "not configured", "the gateway has no redis.port",
                          NULL, 0, HEARTBEAT_STALE_MS);
    } else if (pthread_create(&l->fleet, NULL, fleet_main, l) == 0) {
        l->fleet_running = true;
    } else {
        np_live_destroy(&l->state);
        free(l);
        snprintf(err, errlen, "cannot start the fleet thread");
        return -1;
    }
    proc->http_stream = &SSE;
    L = l;
    np_info("live_page",
            "windows=%zu anomalies=%zu events=%zu sse_clients=%d memory_bound_bytes=%zu redis_port=%d",
            lim.windows, lim.anomalies, lim.events, l->sse_max, np_live_memory_bound(&lim), l->redis_port);
    *out = l;
    return 0;
}

void live_result(live_t *l, const char *type, int64_t start_ms, int64_t end_ms, const void *json, size_t len) {
    if (l) np_live_add(l->state, type, start_ms, end_ms, json, len);
}

void live_stop(live_t **lp) {
    if (!lp || !*lp) return;
    live_t *l = *lp;
    np_live_close(l->state); /* streams end at once */
    atomic_store(&l->stop, true);
    if (l->fleet_running) pthread_join(l->fleet, NULL);
    np_http_stop(&l->proc->http); /* no HTTP thread may read the state once it is freed */
    L = NULL;
    np_live_destroy(&l->state);
    free(l);
    *lp = NULL;
}
