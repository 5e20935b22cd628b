/* np_http: /metrics and /healthz over libmicrohttpd. See np_http.h. */
#include "np_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct np_http {
    struct MHD_Daemon *d;
    np_metrics_t *metrics;
    np_http_health_fn health;
    np_http_route_fn route;
    void *ctx;
    int port;
};

static enum MHD_Result reply(struct MHD_Connection *conn, int status, const char *ctype,
                             const char *body, size_t len) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls) {
    np_http_t *h = cls;
    (void)version;
    (void)upload;
    (void)upload_size;
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) return reply(conn, 405, "text/plain", "GET only\n", 9);
    if (*con_cls == NULL) { /* first call for this request: headers only */
        *con_cls = h;
        return MHD_YES;
    }
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    enum MHD_Result rc;
    if (!strcmp(url, "/metrics")) {
        np_metrics_render(h->metrics, &sb);
        rc = reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", sb.buf ? sb.buf : "", sb.len);
    } else if (!strcmp(url, "/healthz")) {
        char why[256] = "";
        int bad = h->health ? h->health(h->ctx, why, sizeof(why)) : 0;
        np_strbuf_printf(&sb, "%s\n", bad ? why : "ok");
        rc = reply(conn, bad ? 503 : 200, "text/plain", sb.buf, sb.len);
    } else {
        const char *ctype = "text/plain";
        const char *query = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "since");
        int status = h->route ? h->route(h->ctx, url, query, &sb, &ctype) : 0;
        if (status == 0)
            rc = reply(conn, 404, "text/plain", "not found\n", 10);
        else
            rc = reply(conn, status, ctype, sb.buf ? sb.buf : "", sb.len);
    }
    np_strbuf_free(&sb);
    return rc;
}

np_http_t *np_http_start(const char *bind_addr, int port, np_metrics_t *metrics,
                         np_http_health_fn health, np_http_route_fn route, void *ctx,
                         char *errstr, size_t errlen) {
    np_http_t *h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    h->metrics = metrics;
    h->health = health;
    h->route = route;
    h->ctx = ctx;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1) {
        snprintf(errstr, errlen, "http.bind: '%s' is not an IPv4 address", bind_addr);
        free(h);
        return NULL;
    }
    h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL,
                            NULL, handler, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_CONNECTION_LIMIT, NP_HTTP_MAX_CONNECTIONS,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, NP_HTTP_MAX_PER_CLIENT,
                            MHD_OPTION_CONNECTION_TIMEOUT, NP_HTTP_TIMEOUT_S,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)NP_HTTP_MEMORY_PER_CONNECTION,
                            MHD_OPTION_END);
    if (!h->d) {
        snprintf(errstr, errlen, "http.port: cannot listen on %s:%d (in use?)", bind_addr, port);
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : port;
    return h;
}

int np_http_port(const np_http_t *h) { return h->port; }

void np_http_stop(np_http_t **hp) {
    if (!hp || !*hp) return;
    MHD_stop_daemon((*hp)->d);
    free(*hp);
    *hp = NULL;
}
