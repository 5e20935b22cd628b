/*
 * live: the gateway's web page and its read-only JSON API (GET only), served by np_http
 * next to /metrics: `/` (the page, assets embedded at build time from gateway/web/),
 * `/api/windows?since=MS`, `/api/anomalies`, `/api/groups`, `/api/fleet`, `/api/status`
 * and `/api/events` (Server-Sent Events, at most live.sse.clients at once). The state is
 * np_live's, bounded (np_live.h); the main loop feeds it every result once Kafka accepted
 * its produce (before the transaction commits: a result whose transaction aborts is
 * re-sent by the coordinator and replaces itself, same id). A thread reads the worker
 * registry (netpulse:workers:* in Redis, redis.host / redis.port) every fleet.interval.ms.
 * One per process (the HTTP callbacks reach it through a module pointer).
 */
#ifndef NP_GATEWAY_LIVE_H
#define NP_GATEWAY_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "np_opts.h"
#include "np_proc.h"

#define LIVE_OPTS                                                                                        \
    NP_OPTS_REDIS("0", "the worker registry: the live page's fleet", "no fleet on the live page"),        \
    {"live.windows", NP_OPT_INT, "240", 1, 100000, NULL,                                                 \
     "Pane windows (and forecasts) the live page and /api/windows keep"},                                \
    {"live.anomalies", NP_OPT_INT, "100", 1, 100000, NULL, "Anomalies /api/anomalies keeps, newest first"}, \
    {"live.events", NP_OPT_INT, "512", 16, 1000000, NULL,                                                \
     "Events kept for /api/events clients that fall behind (they then refetch)"},                        \
    {"live.sse.clients", NP_OPT_INT, "16", 1, 48, NULL, "Most /api/events clients at once"},             \
    {"fleet.interval.ms", NP_OPT_INT, "2000", 200, 600000, NULL, "How often the worker registry is read, ms"}

/* One embedded file of gateway/web/ (generated web_assets.c). */
typedef struct live_asset {
    const char *path, *content_type;
    const unsigned char *data;
    size_t len;
} live_asset_t;
extern const live_asset_t live_assets[];
extern const size_t live_assets_count;

typedef struct live live_t;

/* Creates the state and starts the fleet thread; sets proc->http_stream. Call before
 * np_proc_http_start(..., live_route, ...). Returns 0, or -1 with err. */
int live_start(live_t **out, np_proc_t *proc, char *err, size_t errlen);

/* np_http route for the page and the API (ctx unused). */
int live_route(void *ctx, const char *path, const char *query, np_strbuf_t *body, const char **content_type);

/* Feeds one result the gateway publishes (main loop). */
void live_result(live_t *l, const char *type, int64_t start_ms, int64_t end_ms, const void *json, size_t len);

/* Ends the streams, stops the fleet thread and HTTP (bounded: about a second), frees. */
void live_stop(live_t **l);

#endif
