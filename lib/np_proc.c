/* np_proc: shared process scaffolding. See np_proc.h. */
#include "np_proc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;
static unsigned g_shutdown_s;      /* shutdown.timeout.ms in whole seconds, 0 = none */
static char g_timeout_line[256];   /* written as is from the SIGALRM handler */
static size_t g_timeout_len;

/* The clean stop took longer than shutdown.timeout.ms: say so and exit. Only
 * async-signal-safe calls (write, _exit); the line is formatted at start-up. */
static void on_alarm(int sig) {
    (void)sig;
    ssize_t w = write(STDERR_FILENO, g_timeout_line, g_timeout_len);
    (void)w;
    _exit(1);
}

/* The first SIGTERM/SIGINT asks the loop to stop and starts the shutdown bound. */
static void on_signal(int sig) {
    (void)sig;
    if (!g_stop && g_shutdown_s) alarm(g_shutdown_s);
    g_stop = 1;
}

/* A clean stop may wait on peers that are gone (Kafka offset commits, producer flushes to an
 * unreachable broker: librdkafka would wait out message.timeout.ms, minutes): past the bound
 * the process exits anyway, which is as safe as kill -9 (every process restarts exactly from
 * its durable state). */
static void arm_shutdown_bound(const char *name, int64_t ms) {
    g_shutdown_s = ms > 0 ? (unsigned)((ms + 999) / 1000) : 0;
    int n = snprintf(g_timeout_line, sizeof(g_timeout_line),
                     "level=error proc=%s event=shutdown_timeout timeout_ms=%lld action=exit status=1\n", name,
                     (long long)ms);
    g_timeout_len = n > 0 && (size_t)n < sizeof(g_timeout_line) ? (size_t)n : 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
}

bool np_proc_stopping(void) { return g_stop != 0; }

void np_proc_fatal_config(const char *why) {
    fprintf(stderr, "configuration error: %s\n", why);
    np_log(NP_LOG_ERROR, "config_error", "error=\"%s\"", why);
}

/* A PEM file named by option key, whole (at most 1 MiB), or NULL with errstr naming the key. */
static char *read_pem(const np_config_t *c, const char *key, char *errstr, size_t errlen) {
    const char *path = np_config_str(c, key);
    FILE *f = fopen(path, "rb");
    char *buf = f ? malloc((1u << 20) + 1) : NULL;
    size_t n = buf ? fread(buf, 1, 1u << 20, f) : 0;
    int bad = !buf || ferror(f) || n == 0 || n == 1u << 20;
    if (f) fclose(f);
    if (bad) {
        snprintf(errstr, errlen, "%s: cannot read '%s' (a PEM file, at most 1 MiB)", key, path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (!strstr(buf, "-----BEGIN ")) {
        snprintf(errstr, errlen, "%s: '%s' is not PEM", key, path);
        free(buf);
        return NULL;
    }
    return buf;
}

/* http.tls.*: both or neither, readable, and a libmicrohttpd with TLS; 0 or -1 with errstr. */
static int load_http_tls(np_proc_t *p, char *errstr, size_t errlen) {
    const char *cert = np_config_str(p->cfg, "http.tls.cert.file"), *key = np_config_str(p->cfg, "http.tls.key.file");
    int has_cert = cert && *cert, has_key = key && *key;
    if (!has_cert && !has_key) return 0;
    if (!has_cert || !has_key) {
        snprintf(errstr, errlen, "%s: HTTPS needs both http.tls.cert.file and http.tls.key.file",
                 has_cert ? "http.tls.key.file" : "http.tls.cert.file");
        return -1;
    }
    if (!np_http_tls_supported()) {
        snprintf(errstr, errlen, "http.tls.cert.file: this libmicrohttpd was built without TLS");
        return -1;
    }
    if (!(p->tls_cert = read_pem(p->cfg, "http.tls.cert.file", errstr, errlen)) ||
        !(p->tls_key = read_pem(p->cfg, "http.tls.key.file", errstr, errlen)))
        return -1;
    return 0;
}

int np_proc_init(np_proc_t *p, const char *name, const char *summary, const np_opt_t *opts,
                 size_t nopts, int argc, char **argv) {
    memset(p, 0, sizeof(*p));
    p->name = name;
    np_log_init(name, NP_LOG_INFO);
    p->cfg = np_config_new(name, summary, opts, nopts);
    if (!p->cfg) return 2;
    char err[512];
    int rc = np_config_load(p->cfg, argc, argv, err, sizeof(err));
    if (rc == 1) return 1;
    if (rc < 0) {
        np_proc_fatal_config(err);
        return 2;
    }
    np_log_init(name, (np_log_level_t)np_log_level_parse(np_config_str(p->cfg, "log.level")));
    if (load_http_tls(p, err, sizeof(err)) < 0) {
        np_proc_fatal_config(err);
        return 2;
    }
    arm_shutdown_bound(name, np_config_int(p->cfg, "shutdown.timeout.ms"));
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    p->metrics = np_metrics_new();
    np_metrics_register_process(p->metrics, name);
    return 0;
}

int np_proc_http_start(np_proc_t *p, np_http_health_fn health, np_http_route_fn route, void *ctx) {
    char err[256];
    np_http_security_t sec = {np_config_str(p->cfg, "http.token"), p->tls_cert, p->tls_key};
    p->http = np_http_start(np_config_str(p->cfg, "http.bind"), (int)np_config_int(p->cfg, "http.port"),
                            p->metrics, health, route, p->http_stream, &sec, ctx, err, sizeof(err));
    if (!p->http) {
        np_error("http_failed", "error=\"%s\"", err);
        return -1;
    }
    int port = np_http_port(p->http);
    const char *pf = np_config_str(p->cfg, "http.port.file");
    if (pf && *pf) {
        /* Written to a temp name and renamed so a script never reads half a number. */
        char tmp[1024];
        snprintf(tmp, sizeof(tmp), "%s.tmp", pf);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, pf) != 0) {
            np_error("http_port_file_failed", "file=%s", pf);
            return -1;
        }
    }
    np_info("http_listening", "addr=%s port=%d", np_config_str(p->cfg, "http.bind"), port);
    return 0;
}

void np_proc_fini(np_proc_t *p) {
    np_http_stop(&p->http);
    free(p->tls_cert);
    free(p->tls_key);
    p->tls_cert = p->tls_key = NULL;
    np_metrics_destroy(&p->metrics);
    np_config_destroy(&p->cfg);
}
