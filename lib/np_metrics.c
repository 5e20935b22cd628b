/* np_metrics: registry and text exposition. See np_metrics.h. */
#include "np_metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef enum { KIND_COUNTER, KIND_GAUGE } kind_t;

typedef struct series {
    kind_t kind;
    char *name;
    char *help;
    char *labels;
    union {
        np_counter_t c;
        np_gauge_t g;
    } u;
    struct series *next;
} series_t;

struct np_metrics {
    pthread_mutex_t lock;
    series_t *head, *tail;
    np_gauge_t *rss;
};

np_metrics_t *np_metrics_new(void) {
    np_metrics_t *m = calloc(1, sizeof(*m));
    if (m) pthread_mutex_init(&m->lock, NULL);
    return m;
}

void np_metrics_destroy(np_metrics_t **mp) {
    if (!mp || !*mp) return;
    series_t *s = (*mp)->head;
    while (s) {
        series_t *n = s->next;
        free(s->name);
        free(s->help);
        free(s->labels);
        free(s);
        s = n;
    }
    pthread_mutex_destroy(&(*mp)->lock);
    free(*mp);
    *mp = NULL;
}

static series_t *reg(np_metrics_t *m, kind_t kind, const char *name, const char *help, const char *labels) {
    pthread_mutex_lock(&m->lock);
    series_t *s;
    for (s = m->head; s; s = s->next)
        if (!strcmp(s->name, name) && !strcmp(s->labels, labels ? labels : "")) break;
    if (!s && (s = calloc(1, sizeof(*s)))) {
        s->kind = kind;
        s->name = strdup(name);
        s->help = strdup(help);
        s->labels = strdup(labels ? labels : "");
        if (m->tail)
            m->tail->next = s;
        else
            m->head = s;
        m->tail = s;
    }
    pthread_mutex_unlock(&m->lock);
    if (!s) abort(); /* start-up allocation failure: nothing sensible to do */
    return s;
}

np_counter_t *np_metrics_counter(np_metrics_t *m, const char *name, const char *help, const char *labels) {
    return &reg(m, KIND_COUNTER, name, help, labels)->u.c;
}

np_gauge_t *np_metrics_gauge(np_metrics_t *m, const char *name, const char *help, const char *labels) {
    return &reg(m, KIND_GAUGE, name, help, labels)->u.g;
}

static int64_t read_rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    fclose(f);
    return (int64_t)rss * sysconf(_SC_PAGESIZE);
}

void np_metrics_render(np_metrics_t *m, np_strbuf_t *out) {
    if (m->rss) np_gauge_set(m->rss, read_rss_bytes());
    pthread_mutex_lock(&m->lock);
    for (series_t *s = m->head; s; s = s->next) {
        /* HELP/TYPE once per name, then every series of that name. */
        int first = 1;
        for (series_t *p = m->head; p != s; p = p->next)
            if (!strcmp(p->name, s->name)) first = 0;
        if (!first) continue;
        np_strbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", s->name, s->help, s->name,
                         s->kind == KIND_COUNTER ? "counter" : "gauge");
        for (series_t *p = s; p; p = p->next) {
            if (strcmp(p->name, s->name)) continue;
            np_strbuf_puts(out, p->name);
            if (*p->labels) np_strbuf_printf(out, "{%s}", p->labels);
            np_strbuf_putc(out, ' ');
            if (p->kind == KIND_COUNTER)
                np_strbuf_u64(out, np_counter_get(&p->u.c));
            else
                np_strbuf_i64(out, np_gauge_get(&p->u.g));
            np_strbuf_putc(out, '\n');
        }
    }
    pthread_mutex_unlock(&m->lock);
}

void np_metrics_register_process(np_metrics_t *m, const char *proc) {
    char labels[128];
    snprintf(labels, sizeof(labels), "proc=\"%s\",version=\"%s\"", proc, NP_VERSION);
    np_gauge_set(np_metrics_gauge(m, "netpulse_build_info", "Build information (always 1)", labels), 1);
    np_gauge_set(np_metrics_gauge(m, "process_start_time_seconds", "Start time since the epoch", NULL),
                 (int64_t)time(NULL));
    m->rss = np_metrics_gauge(m, "process_resident_memory_bytes", "Resident memory size", NULL);
}
