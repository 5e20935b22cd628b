/*
 * np_live: the gateway's bounded live state behind its web page and JSON API: the last N
 * pane windows, the latest sliding window, the last N forecasts, the last M anomalies, the
 * latest window's top groups of every view, the worker fleet, and a ring of the last K
 * events for Server-Sent Events. Holds the results' JSON as published (copies), so the API
 * serves exactly what is in `processed-data`. No I/O: the gateway feeds it, HTTP reads it.
 *
 * Thread-safety: every function takes the object's mutex. The gateway's main loop writes
 * (np_live_add), its fleet thread sets the fleet, libmicrohttpd's threads read
 * (np_live_*_json) and block in np_live_events (a condition variable, bounded wait).
 *
 * Memory: bounded by np_live_memory_bound(): every kept JSON is at most NP_LIVE_JSON_MAX
 * bytes (longer results are not kept, and counted), and every table has a fixed count:
 * (2 N + M + K + NP_LIVE_VIEWS_MAX x NP_LIVE_GROUPS_MAX + 1) entries + the fleet
 * (NP_LIVE_FLEET_MAX). With the defaults (N 240, M 100, K 512) that is at most 13.5 MB;
 * typical results are 0.3-2 KiB, so about 2 MiB in practice.
 */
#ifndef NP_LIVE_H
#define NP_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np_strbuf.h"

#define NP_LIVE_JSON_MAX 8192    /* longest result kept, bytes */
#define NP_LIVE_VIEWS_MAX 16     /* views whose latest groups are kept (as np_view's cap) */
#define NP_LIVE_GROUPS_MAX 32    /* groups kept per view (ranks 1..32) */
#define NP_LIVE_FLEET_MAX 65536  /* longest fleet JSON, bytes (workers beyond it are left out) */
#define NP_LIVE_WORKERS_MAX 256  /* workers listed */

typedef struct np_live np_live_t;

typedef struct np_live_limits {
    size_t windows;   /* N: pane windows (and forecasts) kept */
    size_t anomalies; /* M: anomalies kept, newest first */
    size_t events;    /* K: events kept for SSE clients that fall behind */
} np_live_limits_t;

/* Largest number of bytes the state can hold with these limits (the memory bound). */
size_t np_live_memory_bound(const np_live_limits_t *lim);

/* Limits of 0 are raised to 1. Returns NULL when out of memory. */
np_live_t *np_live_new(const np_live_limits_t *lim);
void np_live_destroy(np_live_t **l);

/*
 * Feeds one published result: its type ("window", "anomaly", "forecast", "group"), window
 * bounds and JSON (one line). Pane windows are the shortest windows seen (window_end -
 * window_start); longer ones are sliding windows. A repeat (same window, anomaly id,
 * forecast or group rank) replaces the one kept. Returns 1 when kept, 0 when ignored
 * (unknown type, too long, older than everything kept, or a view beyond the cap).
 */
int np_live_add(np_live_t *l, const char *type, int64_t start_ms, int64_t end_ms, const char *json,
                size_t len);

/* One worker's registry entry: its Redis key, its heartbeat JSON and its age. */
typedef struct np_live_worker {
    const char *key;
    const char *json;
    size_t len;
    int64_t age_ms;
} np_live_worker_t;

/*
 * Replaces the fleet. status: "ok", "not configured" or "unavailable" (with error, may be
 * NULL). A heartbeat that is not valid JSON is listed with "heartbeat":null. A worker is
 * healthy when its heartbeat is at most stale_ms old. Adds a `fleet` event.
 */
void np_live_set_fleet(np_live_t *l, int64_t now_ms, const char *status, const char *error,
                       const np_live_worker_t *w, size_t n, int64_t stale_ms);

/* API bodies (JSON objects), appended to out. */
/* {"pane_ms":P,"windows":[pane windows with window_end > since_ms, oldest first],
 *  "forecasts":[...oldest first],"sliding":{latest sliding window}|null} */
void np_live_windows_json(np_live_t *l, int64_t since_ms, np_strbuf_t *out);
/* {"anomalies":[newest window first]} */
void np_live_anomalies_json(np_live_t *l, np_strbuf_t *out);
/* {"views":[{"view":"web","window_start":T,"groups":[rank 1 first]}]} */
void np_live_groups_json(np_live_t *l, np_strbuf_t *out);
/* {"redis":"ok",...,"workers":[{"key":..,"age_ms":..,"healthy":..,"heartbeat":{..}}]} */
void np_live_fleet_json(np_live_t *l, np_strbuf_t *out);
/* {"results_kept":..,"results_ignored":..,"bytes":..,"memory_bound_bytes":..,"limits":{..},"clients":..} */
void np_live_status_json(np_live_t *l, np_strbuf_t *out);

/*
 * Server-Sent Events. A client starts with np_live_cursor() and calls np_live_events in a
 * loop: it appends the events after *cursor ("id: S\nevent: TYPE\ndata: JSON\n\n") to out,
 * at most about max_bytes, and advances *cursor; when none is pending it waits up to
 * wait_ms for one. A client that fell behind the ring gets one `reset` event (refetch the
 * API). Returns the number of events appended (0 after the wait), -1 once closed.
 */
uint64_t np_live_cursor(np_live_t *l);
int np_live_events(np_live_t *l, uint64_t *cursor, int wait_ms, size_t max_bytes, np_strbuf_t *out);

/* Takes one of max SSE client slots: true when taken. np_live_client_leave gives it back. */
bool np_live_client_enter(np_live_t *l, int max);
void np_live_client_leave(np_live_t *l);

/* Wakes every waiting client; np_live_events returns -1 from then on (for shutdown). */
void np_live_close(np_live_t *l);

/* True when [json, json+len) is one valid JSON value (RFC 8259; nesting up to 32). */
bool np_live_json_valid(const char *json, size_t len);

#endif
