/*
 * np_proc: the start-up and shut-down every netpulse process shares: configuration
 * (np_config), logging (np_log), the metrics registry and the HTTP endpoint (np_http),
 * and SIGTERM/SIGINT handling. The process's own loop polls np_proc_stopping().
 */
#ifndef NP_PROC_H
#define NP_PROC_H

#include <stdbool.h>
#include <stddef.h>

#include "np_config.h"
#include "np_http.h"
#include "np_log.h"
#include "np_metrics.h"

typedef struct np_proc {
    const char *name;
    np_config_t *cfg;
    np_metrics_t *metrics;
    np_http_t *http;
    const np_http_stream_t *http_stream; /* set before np_proc_http_start for streaming routes */
    char *tls_cert, *tls_key;            /* http.tls.*.file contents, read at init */
} np_proc_t;

/*
 * Loads configuration and sets up logging and signals. Returns 0 to run, 1 when --help or
 * --version was handled (exit 0), 2 on a configuration error (already printed; exit 2).
 */
int np_proc_init(np_proc_t *p, const char *name, const char *summary, const np_opt_t *opts,
                 size_t nopts, int argc, char **argv);

/* Starts /metrics and /healthz as configured (http.bind, http.port, http.port.file,
 * http.token, http.tls.cert.file + http.tls.key.file).
 * Returns 0, or -1 after logging why. */
int np_proc_http_start(np_proc_t *p, np_http_health_fn health, np_http_route_fn route, void *ctx);

/* True once SIGTERM or SIGINT arrived. Async-signal-safe flag underneath. */
bool np_proc_stopping(void);

/* Stops HTTP and frees what np_proc_init made. */
void np_proc_fini(np_proc_t *p);

/* Logs a fatal start-up error in the one format operators grep for. */
void np_proc_fatal_config(const char *why);

#endif
