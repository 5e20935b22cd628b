/* np_proc: shared process scaffolding. See np_proc.h. */
#include "np_proc.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

bool np_proc_stopping(void) { return g_stop != 0; }

void np_proc_fatal_config(const char *why) {
    fprintf(stderr, "configuration error: %s\n", why);
    np_log(NP_LOG_ERROR, "config_error", "error=\"%s\"", why);
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
    p->http = np_http_start(np_config_str(p->cfg, "http.bind"), (int)np_config_int(p->cfg, "http.port"),
                            p->metrics, health, route, p->http_stream, ctx, err, sizeof(err));
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
    np_metrics_destroy(&p->metrics);
    np_config_destroy(&p->cfg);
}
