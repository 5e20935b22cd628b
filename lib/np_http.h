/*
 * np_http: the small HTTP endpoint every netpulse process serves: /metrics (Prometheus
 * text format), /healthz (200 "ok" or 503 with the reason), /livez (200 "ok" while the
 * process answers at all: a liveness probe that needs no token), and optional extra routes
 * (the gateway's web page) and optional streaming routes (its Server-Sent Events). Runs on
 * libmicrohttpd's own thread (one thread per connection when a stream is configured, so a
 * stream may block): handlers must be thread-safe (metrics are atomics; the health
 * callback reads atomics too).
 */
#ifndef NP_HTTP_H
#define NP_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Limits (SECURITY.md): one client (IP address) holds at most NP_HTTP_MAX_PER_CLIENT
 * connections, so slow or trickling clients cannot take every slot from /healthz probes
 * and scrapers coming from elsewhere; an idle connection is closed after
 * NP_HTTP_TIMEOUT_S; each connection's buffers are capped. */
#define NP_HTTP_MAX_CONNECTIONS 256u
#define NP_HTTP_MAX_PER_CLIENT 8u
#define NP_HTTP_TIMEOUT_S 10u
#define NP_HTTP_MEMORY_PER_CONNECTION (32u * 1024u)

#include "np_metrics.h"
#include "np_strbuf.h"

typedef struct np_http np_http_t;

/* Optional protection of the endpoint (SECURITY.md, "HTTP"). */
typedef struct np_http_security {
    /* Non-empty: every path but /healthz and /livez needs "Authorization: Bearer TOKEN", or HTTP Basic
     * with TOKEN as the password (any user name: what a browser prompts for, so the live
     * page works too); otherwise 401. Copied by np_http_start. */
    const char *token;
    /* Both set: HTTPS only (libmicrohttpd with GnuTLS), PEM text (not file names). */
    const char *tls_cert_pem;
    const char *tls_key_pem;
} np_http_security_t;

/* 1 if an Authorization header value (NULL when absent) carries token, as above. The
 * comparison takes the same time wherever the first difference is. I/O-free. */
int np_http_authorized(const char *token, const char *authorization);

/* 1 when this libmicrohttpd can serve HTTPS. */
int np_http_tls_supported(void);

/* Returns 0 when healthy; otherwise writes the reason into buf and returns non-zero. */
typedef int (*np_http_health_fn)(void *ctx, char *buf, size_t buflen);

/* Handles one GET on a path the endpoint does not know. Returns the HTTP status and fills
 * body + content_type, or returns 0 to let the endpoint answer 404. */
typedef int (*np_http_route_fn)(void *ctx, const char *path, const char *query, np_strbuf_t *body,
                                const char **content_type);

/*
 * A streaming response of unknown length (Server-Sent Events), on its connection's thread.
 * open: for a GET of path, returns the stream's state, or NULL with *status 0 (not a
 * stream: the route answers) or an HTTP status (e.g. 503, too many clients). next: appends
 * the next chunk to `chunk`, blocking at most about a second; returns 0 to go on (an empty
 * chunk is allowed), -1 to end the stream. close: frees the state (the client left or the
 * stream ended). Every call gets the ctx given to np_http_start.
 */
typedef struct np_http_stream {
    const char *content_type;
    void *(*open)(void *ctx, const char *path, int *status);
    int (*next)(void *state, np_strbuf_t *chunk);
    void (*close)(void *state);
} np_http_stream_t;

/* port 0 picks a free port; stream and sec may be NULL. Returns NULL with errstr filled on
 * failure. */
np_http_t *np_http_start(const char *bind_addr, int port, np_metrics_t *metrics,
                         np_http_health_fn health, np_http_route_fn route,
                         const np_http_stream_t *stream, const np_http_security_t *sec, void *ctx,
                         char *errstr, size_t errlen);
int np_http_port(const np_http_t *h);
void np_http_stop(np_http_t **h);

#endif
