/* np_http: /metrics and /healthz over libmicrohttpd. See np_http.h. */
#include "np_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

struct np_http {
    struct MHD_Daemon *d;
    np_metrics_t *metrics;
    np_http_health_fn health;
    np_http_route_fn route;
    const np_http_stream_t *stream;
    void *ctx;
    int port;
    char *token; /* NULL: no authentication */
    np_counter_t *m_unauth;
};

/* Constant-time equality of a (length alen) and the NUL-terminated b. */
static int same_secret(const char *a, size_t alen, const char *b) {
    size_t blen = strlen(b);
    unsigned char diff = (unsigned char)(alen != blen);
    for (size_t i = 0; i < blen; i++) diff |= (unsigned char)((i < alen ? (unsigned char)a[i] : 0) ^ (unsigned char)b[i]);
    return diff == 0;
}

static int b64val(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Standard base64 with padding into out (NUL-terminated); -1 if malformed or too long. */
static int b64decode(const char *in, char *out, size_t outlen) {
    size_t n = strlen(in), o = 0;
    if (n % 4) return -1;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            v[k] = in[i + k] == '=' && i + 4 == n && k >= 2 ? 0 : b64val((unsigned char)in[i + k]);
            if (v[k] < 0) return -1;
        }
        int pad = (in[i + 2] == '=' && i + 4 == n) + (in[i + 3] == '=' && i + 4 == n);
        if (in[i + 2] == '=' && in[i + 3] != '=') return -1;
        unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
        unsigned char b[3] = {(unsigned char)(w >> 16), (unsigned char)(w >> 8), (unsigned char)w};
        for (int k = 0; k < 3 - pad; k++) {
            if (o + 1 >= outlen) return -1;
            out[o++] = (char)b[k];
        }
    }
    out[o] = '\0';
    return (int)o;
}

int np_http_authorized(const char *token, const char *auth) {
    if (!token || !*token) return 1;
    if (!auth) return 0;
    if (!strncasecmp(auth, "Bearer ", 7)) {
        const char *t = auth + 7;
        while (*t == ' ') t++;
        size_t n = strlen(t);
        while (n && t[n - 1] == ' ') n--;
        return same_secret(t, n, token);
    }
    if (!strncasecmp(auth, "Basic ", 6)) {
        char dec[1024];
        const char *t = auth + 6;
        while (*t == ' ') t++;
        int n = b64decode(t, dec, sizeof(dec));
        if (n < 0 || memchr(dec, '\0', (size_t)n)) return 0;
        const char *colon = strchr(dec, ':');
        if (!colon) return 0;
        return same_secret(colon + 1, (size_t)n - (size_t)(colon + 1 - dec), token);
    }
    return 0;
}

int np_http_tls_supported(void) { return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES; }

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

/* One streaming response: the chunk being sent and how much of it went out. */
typedef struct stream_conn {
    const np_http_stream_t *s;
    void *state;
    np_strbuf_t chunk;
    size_t off;
} stream_conn_t;

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max) {
    stream_conn_t *sc = cls;
    (void)pos;
    while (sc->off >= sc->chunk.len) { /* an empty chunk (nothing new yet): ask again */
        np_strbuf_reset(&sc->chunk);
        sc->off = 0;
        if (sc->s->next(sc->state, &sc->chunk) < 0) return MHD_CONTENT_READER_END_OF_STREAM;
    }
    size_t n = sc->chunk.len - sc->off < max ? sc->chunk.len - sc->off : max;
    memcpy(out, sc->chunk.buf + sc->off, n);
    sc->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls) {
    stream_conn_t *sc = cls;
    sc->s->close(sc->state);
    np_strbuf_free(&sc->chunk);
    free(sc);
}

/* Answers a stream path: 1 queued (rc set), 0 not a stream path. */
static int stream_reply(np_http_t *h, struct MHD_Connection *conn, const char *url, enum MHD_Result *rc) {
    int status = 0;
    void *state = h->stream->open(h->ctx, url, &status);
    if (!state) {
        if (status == 0) return 0;
        *rc = reply(conn, status, "text/plain", "unavailable\n", 12);
        return 1;
    }
    stream_conn_t *sc = calloc(1, sizeof(*sc));
    struct MHD_Response *r =
        sc ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, sc, stream_free) : NULL;
    if (!r) {
        free(sc);
        h->stream->close(state);
        *rc = MHD_NO;
        return 1;
    }
    sc->s = h->stream;
    sc->state = state;
    np_strbuf_init(&sc->chunk);
    MHD_add_response_header(r, "Content-Type", h->stream->content_type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    *rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return 1;
}

static enum MHD_Result unauthorized(struct MHD_Connection *conn) {
    static const char body[] = "unauthorized: send Authorization: Bearer <http.token>\n";
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain");
    MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"netpulse\"");
    MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"netpulse\"");
    enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_UNAUTHORIZED, r);
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
    enum MHD_Result rc;
    /* /healthz and /livez stay open: probes (kubelet) carry no token, and they tell
     * nothing secret. /livez: the process answers (liveness), whatever its dependencies. */
    if (!strcmp(url, "/livez")) return reply(conn, 200, "text/plain", "ok\n", 3);
    if (h->token && strcmp(url, "/healthz") &&
        !np_http_authorized(h->token, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION))) {
        np_counter_inc(h->m_unauth);
        return unauthorized(conn);
    }
    if (h->stream && !strcmp(method, "GET") && stream_reply(h, conn, url, &rc)) return rc;
    np_strbuf_t sb;
    np_strbuf_init(&sb);
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
                         np_http_health_fn health, np_http_route_fn route,
                         const np_http_stream_t *stream, const np_http_security_t *sec, void *ctx,
                         char *errstr, size_t errlen) {
    np_http_t *h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    h->metrics = metrics;
    h->health = health;
    h->route = route;
    h->stream = stream;
    h->ctx = ctx;
    if (sec && sec->token && *sec->token && !(h->token = strdup(sec->token))) {
        snprintf(errstr, errlen, "out of memory");
        free(h);
        return NULL;
    }
    h->m_unauth = np_metrics_counter(metrics, "netpulse_http_requests_unauthorized_total",
                                     "HTTP requests refused for a missing or wrong http.token", NULL);
    int tls = sec && sec->tls_cert_pem && sec->tls_key_pem;
    if (tls && !np_http_tls_supported()) {
        snprintf(errstr, errlen, "http.tls.cert.file: this libmicrohttpd has no TLS");
        free(h->token);
        free(h);
        return NULL;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1) {
        snprintf(errstr, errlen, "http.bind: '%s' is not an IPv4 address", bind_addr);
        free(h->token);
        free(h);
        return NULL;
    }
    /* A stream blocks its connection while it waits for data: then a thread per connection
     * (bounded by the connection limit), so /metrics is never held up by a stream. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (stream) flags |= MHD_USE_THREAD_PER_CONNECTION;
    if (tls) flags |= MHD_USE_TLS;
    /* The TLS options come last so that without TLS they are not passed at all. */
    h->d = MHD_start_daemon(flags, (uint16_t)port, NULL,
                            NULL, handler, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_CONNECTION_LIMIT, NP_HTTP_MAX_CONNECTIONS,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, NP_HTTP_MAX_PER_CLIENT,
                            MHD_OPTION_CONNECTION_TIMEOUT, NP_HTTP_TIMEOUT_S,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)NP_HTTP_MEMORY_PER_CONNECTION,
                            tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, tls ? sec->tls_key_pem : NULL,
                            MHD_OPTION_HTTPS_MEM_CERT, tls ? sec->tls_cert_pem : NULL, MHD_OPTION_END);
    if (!h->d) {
        snprintf(errstr, errlen, tls ? "http.port: cannot listen on %s:%d (in use? or a bad http.tls.cert.file/http.tls.key.file)"
                                     : "http.port: cannot listen on %s:%d (in use?)", bind_addr, port);
        free(h->token);
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
    free((*hp)->token);
    free(*hp);
    *hp = NULL;
}
