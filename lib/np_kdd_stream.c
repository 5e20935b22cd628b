/*
 * np_kdd_stream: the worker's consumer of connection records, classified and counted.
 * See np_kdd_stream.h.
 */
#include "np_kdd_stream.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_log.h"

static volatile sig_atomic_t reload_requested;

static void on_sighup(int sig)
{
    (void)sig;
    reload_requested = 1;
}

struct np_kdd_stream {
    char            *path;
    np_kdd_model_t  *model;
    uint64_t         counts[NP_KDD_NCLASSES];
    np_counter_t    *m_class[NP_KDD_NCLASSES], *m_invalid, *m_reload_ok, *m_reload_err, *m_late,
                    *m_evicted;
    np_infoset_t    *m_info;
};

static void publish_version(np_kdd_stream_t *s)
{
    if (!s->m_info)
        return;
    const char *names[] = {"version"}, *values[] = {np_kdd_model_version(s->model)};
    np_infoset_set(s->m_info, 0, names, values, 1, 1000);
}

static void register_metrics(np_kdd_stream_t *s, np_metrics_t *reg)
{
    if (!reg)
        return;
    for (int c = 0; c < NP_KDD_NCLASSES; c++) {
        char l[64];
        snprintf(l, sizeof l, "class=\"%s\"", np_kdd_class_name(c));
        s->m_class[c] = np_metrics_counter(reg, "netpulse_worker_connections_classified_total",
                                           "Connection records classified, by class", l);
    }
    s->m_invalid = np_metrics_counter(reg, "netpulse_worker_connections_invalid_total",
                                      "Connection records that could not be decoded", NULL);
    s->m_late = np_metrics_counter(reg, "netpulse_worker_connections_late_total",
                                   "Connection records whose pane was already closed (dead-lettered)", NULL);
    s->m_evicted = np_metrics_counter(reg, "netpulse_worker_class_dests_evicted_total",
                                      "Connections whose destination found the pane's class table full (counted in 'other')",
                                      NULL);
    s->m_reload_ok = np_metrics_counter(reg, "netpulse_worker_kdd_model_reloads_total",
                                        "Model reloads (SIGHUP), by result", "result=\"ok\"");
    s->m_reload_err = np_metrics_counter(reg, "netpulse_worker_kdd_model_reloads_total",
                                         "Model reloads (SIGHUP), by result", "result=\"error\"");
    s->m_info = np_metrics_infoset(reg, "netpulse_worker_kdd_model_info",
                                   "The loaded intrusion model (value 1)", 1);
}

np_kdd_stream_t *np_kdd_stream_new(const char *model_path, np_metrics_t *reg, char *errstr,
                                   size_t errlen)
{
    np_kdd_stream_t *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(model_path))) {
        free(s);
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    if (np_kdd_model_load(model_path, &s->model, errstr, errlen) != 0) {
        np_kdd_stream_destroy(&s);
        return NULL;
    }
    register_metrics(s, reg);
    publish_version(s);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sighup;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    return s;
}

int np_kdd_stream_classify(np_kdd_stream_t *s, const char *val, size_t len, double *confidence, char *errstr,
                           size_t errlen)
{
    np_kdd_conn_t c;
    if (np_kdd_conn_parse(val, len, &c, errstr, errlen) != 0) {
        if (s->m_invalid)
            np_counter_inc(s->m_invalid);
        return -1;
    }
    int cls = np_kdd_model_classify(s->model, &c, confidence);
    s->counts[cls]++;
    if (s->m_class[cls])
        np_counter_inc(s->m_class[cls]);
    return cls;
}

int np_kdd_stream_add(np_kdd_stream_t *s, np_partstate_t *ps, const void *val, size_t len, const void *key,
                      size_t keylen, int64_t ts_ms, int64_t offset, np_pane_emit_fn emit, void *ctx,
                      int64_t *pane_start_out, char *errstr, size_t errlen)
{
    double conf = 0;
    int cls = np_kdd_stream_classify(s, val, len, &conf, errstr, errlen);
    if (cls < 0) {
        ps->next_offset = offset + 1; /* consumed; the caller dead-letters it */
        return -1;
    }
    np_ip_t dst;
    const np_ip_t *d = key && np_ip_parse(key, keylen, &dst) == 0 ? &dst : NULL;
    np_pane_add_result_t r = np_partstate_add_class(ps, ts_ms, d, cls, conf, offset, emit, ctx, pane_start_out);
    if (r == NP_PANE_EVICTED && s->m_evicted)
        np_counter_inc(s->m_evicted);
    if (r == NP_PANE_LATE && s->m_late)
        np_counter_inc(s->m_late);
    return r == NP_PANE_LATE ? NP_PANE_LATE : NP_PANE_ADDED;
}

int np_kdd_stream_reload(np_kdd_stream_t *s, char *errstr, size_t errlen)
{
    np_kdd_model_t *m = NULL;
    if (np_kdd_model_load(s->path, &m, errstr, errlen) != 0) {
        if (s->m_reload_err)
            np_counter_inc(s->m_reload_err);
        np_error("kdd_model_reload_failed", "error=\"%s\" kept=%s", errstr,
                 np_kdd_model_version(s->model));
        return -1;
    }
    np_info("kdd_model_reloaded", "path=%s old=%s new=%s", s->path,
            np_kdd_model_version(s->model), np_kdd_model_version(m));
    np_kdd_model_destroy(&s->model);
    s->model = m;
    publish_version(s);
    if (s->m_reload_ok)
        np_counter_inc(s->m_reload_ok);
    return 0;
}

void np_kdd_stream_tick(np_kdd_stream_t *s)
{
    if (!reload_requested)
        return;
    reload_requested = 0;
    char err[512];
    np_kdd_stream_reload(s, err, sizeof err);
}

const uint64_t *np_kdd_stream_counts(const np_kdd_stream_t *s) { return s->counts; }

const char *np_kdd_stream_model_version(const np_kdd_stream_t *s)
{
    return np_kdd_model_version(s->model);
}

void np_kdd_stream_destroy(np_kdd_stream_t **sp)
{
    if (!sp || !*sp)
        return;
    np_kdd_stream_t *s = *sp;
    np_kdd_model_destroy(&s->model);
    free(s->path);
    free(s);
    *sp = NULL;
}
