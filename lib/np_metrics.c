/* np_metrics: registry and text exposition. See np_metrics.h. */
#include "np_metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_GAUGE_MILLI, KIND_HISTOGRAM, KIND_INFOSET } kind_t;

struct np_histogram {
    size_t n;                  /* bounds; buckets has n + 1 (the last is +Inf) */
    double *bounds;
    _Atomic uint64_t *buckets; /* per bucket, not cumulative: one increment per observe */
    _Atomic uint64_t sum_bits; /* the sum as the bits of a double (CAS loop) */
};

typedef struct info_slot {
    char *labels; /* rendered label text, NULL: slot empty */
    int64_t milli;
} info_slot_t;

struct np_infoset {
    np_metrics_t *m; /* slots change under the registry lock */
    size_t cap;
    info_slot_t *slots;
};

typedef struct series {
    kind_t kind;
    int hidden; /* unpublished: read and written under the registry lock */
    char *name;
    char *help;
    char *labels;
    union {
        np_counter_t c;
        np_gauge_t g;
        np_histogram_t h;
        np_infoset_t i;
    } u;
    struct series *next;
} series_t;

struct np_metrics {
    pthread_mutex_t lock;
    series_t *head, *tail;
    np_gauge_t *rss;
};

const double np_metrics_buckets_fast[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,  0.5,    1,     2.5,  5,     10};
const size_t np_metrics_buckets_fast_n = sizeof(np_metrics_buckets_fast) / sizeof(double);
const double np_metrics_buckets_slow[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120};
const size_t np_metrics_buckets_slow_n = sizeof(np_metrics_buckets_slow) / sizeof(double);

np_metrics_t *np_metrics_new(void) {
    np_metrics_t *m = calloc(1, sizeof(*m));
    if (m) pthread_mutex_init(&m->lock, NULL);
    return m;
}

static void series_free(series_t *s) {
    if (s->kind == KIND_HISTOGRAM) {
        free(s->u.h.bounds);
        free((void *)s->u.h.buckets);
    } else if (s->kind == KIND_INFOSET) {
        for (size_t i = 0; i < s->u.i.cap; i++) free(s->u.i.slots[i].labels);
        free(s->u.i.slots);
    }
    free(s->name);
    free(s->help);
    free(s->labels);
    free(s);
}

void np_metrics_destroy(np_metrics_t **mp) {
    if (!mp || !*mp) return;
    series_t *s = (*mp)->head;
    while (s) {
        series_t *n = s->next;
        series_free(s);
        s = n;
    }
    pthread_mutex_destroy(&(*mp)->lock);
    free(*mp);
    *mp = NULL;
}

/* Kind-specific storage; returns -1 when out of memory. */
static int series_init(series_t *s, np_metrics_t *m, const double *bounds, size_t n) {
    if (s->kind == KIND_HISTOGRAM) {
        s->u.h.n = n;
        s->u.h.bounds = malloc((n ? n : 1) * sizeof(double));
        s->u.h.buckets = calloc(n + 1, sizeof(*s->u.h.buckets));
        if (!s->u.h.bounds || !s->u.h.buckets) return -1;
        memcpy(s->u.h.bounds, bounds, n * sizeof(double));
    } else if (s->kind == KIND_INFOSET) {
        s->u.i.m = m;
        s->u.i.cap = n;
        s->u.i.slots = calloc(n ? n : 1, sizeof(info_slot_t));
        if (!s->u.i.slots) return -1;
    }
    return 0;
}

static series_t *reg(np_metrics_t *m, kind_t kind, const char *name, const char *help, const char *labels,
                     const double *bounds, size_t n) {
    pthread_mutex_lock(&m->lock);
    series_t *s;
    for (s = m->head; s; s = s->next)
        if (!strcmp(s->name, name) && !strcmp(s->labels, labels ? labels : "")) break;
    if (s) {
        s->hidden = 0;
    } else if ((s = calloc(1, sizeof(*s)))) {
        s->kind = kind;
        s->name = strdup(name);
        s->help = strdup(help);
        s->labels = strdup(labels ? labels : "");
        if (!s->name || !s->help || !s->labels || series_init(s, m, bounds, n) < 0) abort();
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
    return &reg(m, KIND_COUNTER, name, help, labels, NULL, 0)->u.c;
}

np_gauge_t *np_metrics_gauge(np_metrics_t *m, const char *name, const char *help, const char *labels) {
    return &reg(m, KIND_GAUGE, name, help, labels, NULL, 0)->u.g;
}

np_gauge_t *np_metrics_gauge_milli(np_metrics_t *m, const char *name, const char *help, const char *labels) {
    return &reg(m, KIND_GAUGE_MILLI, name, help, labels, NULL, 0)->u.g;
}

np_histogram_t *np_metrics_histogram(np_metrics_t *m, const char *name, const char *help, const char *labels,
                                     const double *bounds, size_t nbounds) {
    return &reg(m, KIND_HISTOGRAM, name, help, labels, bounds, nbounds)->u.h;
}

np_infoset_t *np_metrics_infoset(np_metrics_t *m, const char *name, const char *help, size_t cap) {
    return &reg(m, KIND_INFOSET, name, help, NULL, NULL, cap)->u.i;
}

static void series_zero(series_t *s) {
    switch (s->kind) {
    case KIND_COUNTER: atomic_store_explicit(&s->u.c.v, 0, memory_order_relaxed); break;
    case KIND_GAUGE:
    case KIND_GAUGE_MILLI: np_gauge_set(&s->u.g, 0); break;
    case KIND_HISTOGRAM:
        for (size_t i = 0; i <= s->u.h.n; i++)
            atomic_store_explicit(&s->u.h.buckets[i], 0, memory_order_relaxed);
        atomic_store_explicit(&s->u.h.sum_bits, 0, memory_order_relaxed);
        break;
    case KIND_INFOSET: break;
    }
}

void np_metrics_unpublish(np_metrics_t *m, const void *series) {
    pthread_mutex_lock(&m->lock);
    for (series_t *s = m->head; s; s = s->next)
        if ((const void *)&s->u == series) {
            s->hidden = 1;
            series_zero(s);
            break;
        }
    pthread_mutex_unlock(&m->lock);
}

/* ---- histograms --------------------------------------------------------------------- */

static double bits_to_double(uint64_t b) {
    double d;
    memcpy(&d, &b, sizeof(d));
    return d;
}

static uint64_t double_to_bits(double d) {
    uint64_t b;
    memcpy(&b, &d, sizeof(b));
    return b;
}

void np_histogram_observe(np_histogram_t *h, double v) {
    size_t i = 0;
    while (i < h->n && v > h->bounds[i]) i++; /* le: a value equal to a bound is in it */
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    uint64_t cur = atomic_load_explicit(&h->sum_bits, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&h->sum_bits, &cur, double_to_bits(bits_to_double(cur) + v),
                                                  memory_order_relaxed, memory_order_relaxed)) {}
}

uint64_t np_histogram_count(const np_histogram_t *h) {
    uint64_t n = 0;
    for (size_t i = 0; i <= h->n; i++) n += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
    return n;
}

double np_histogram_sum(const np_histogram_t *h) {
    return bits_to_double(atomic_load_explicit(&h->sum_bits, memory_order_relaxed));
}

/* ---- info sets ---------------------------------------------------------------------- */

void np_metrics_escape_label(np_strbuf_t *out, const char *v) {
    for (; *v; v++) {
        if (*v == '\\')
            np_strbuf_puts(out, "\\\\");
        else if (*v == '"')
            np_strbuf_puts(out, "\\\"");
        else if (*v == '\n')
            np_strbuf_puts(out, "\\n");
        else
            np_strbuf_putc(out, *v);
    }
}

void np_infoset_set(np_infoset_t *s, size_t i, const char *const *names, const char *const *values, size_t n,
                    int64_t milli) {
    if (i >= s->cap) return;
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    for (size_t k = 0; k < n; k++) {
        np_strbuf_printf(&sb, "%s%s=\"", k ? "," : "", names[k]);
        np_metrics_escape_label(&sb, values[k] ? values[k] : "");
        np_strbuf_putc(&sb, '"');
    }
    if (sb.oom || !sb.buf) {
        np_strbuf_free(&sb);
        return;
    }
    pthread_mutex_lock(&s->m->lock);
    free(s->slots[i].labels);
    s->slots[i].labels = sb.buf; /* ownership moves to the slot */
    s->slots[i].milli = milli;
    pthread_mutex_unlock(&s->m->lock);
}

void np_infoset_clear(np_infoset_t *s, size_t i) {
    if (i >= s->cap) return;
    pthread_mutex_lock(&s->m->lock);
    free(s->slots[i].labels);
    s->slots[i].labels = NULL;
    pthread_mutex_unlock(&s->m->lock);
}

/* ---- rendering ---------------------------------------------------------------------- */

static int64_t read_rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    fclose(f);
    return (int64_t)rss * sysconf(_SC_PAGESIZE);
}

static void put_milli(np_strbuf_t *out, int64_t v) {
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    np_strbuf_printf(out, "%s%llu.%03llu", v < 0 ? "-" : "", (unsigned long long)(a / 1000),
                     (unsigned long long)(a % 1000));
}

static void put_help(np_strbuf_t *out, const char *help) {
    for (; *help; help++) {
        if (*help == '\\')
            np_strbuf_puts(out, "\\\\");
        else if (*help == '\n')
            np_strbuf_puts(out, "\\n");
        else
            np_strbuf_putc(out, *help);
    }
}

static void render_histogram(np_strbuf_t *out, const series_t *s) {
    const np_histogram_t *h = &s->u.h;
    const char *sep = *s->labels ? "," : "";
    uint64_t cum = 0;
    for (size_t i = 0; i <= h->n; i++) {
        cum += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        np_strbuf_printf(out, "%s_bucket{%s%sle=\"", s->name, s->labels, sep);
        if (i < h->n)
            np_strbuf_printf(out, "%g", h->bounds[i]);
        else
            np_strbuf_puts(out, "+Inf");
        np_strbuf_printf(out, "\"} %llu\n", (unsigned long long)cum);
    }
    /* _count from the same reads as the buckets, so it always equals the +Inf bucket. */
    np_strbuf_printf(out, "%s_sum%s%s%s %.9g\n", s->name, *s->labels ? "{" : "", s->labels,
                     *s->labels ? "}" : "", np_histogram_sum(h));
    np_strbuf_printf(out, "%s_count%s%s%s %llu\n", s->name, *s->labels ? "{" : "", s->labels,
                     *s->labels ? "}" : "", (unsigned long long)cum);
}

static void render_sample(np_strbuf_t *out, const series_t *p) {
    if (p->kind == KIND_HISTOGRAM) {
        render_histogram(out, p);
        return;
    }
    if (p->kind == KIND_INFOSET) {
        for (size_t i = 0; i < p->u.i.cap; i++) {
            const info_slot_t *sl = &p->u.i.slots[i];
            if (!sl->labels) continue;
            np_strbuf_printf(out, "%s{%s} ", p->name, sl->labels);
            put_milli(out, sl->milli);
            np_strbuf_putc(out, '\n');
        }
        return;
    }
    np_strbuf_puts(out, p->name);
    if (*p->labels) np_strbuf_printf(out, "{%s}", p->labels);
    np_strbuf_putc(out, ' ');
    if (p->kind == KIND_COUNTER)
        np_strbuf_u64(out, np_counter_get(&p->u.c));
    else if (p->kind == KIND_GAUGE_MILLI)
        put_milli(out, np_gauge_get(&p->u.g));
    else
        np_strbuf_i64(out, np_gauge_get(&p->u.g));
    np_strbuf_putc(out, '\n');
}

static const char *type_name(kind_t k) {
    switch (k) {
    case KIND_COUNTER: return "counter";
    case KIND_HISTOGRAM: return "histogram";
    default: return "gauge";
    }
}

/* True when the series renders at least one sample. */
static int visible(const series_t *s) {
    if (s->hidden) return 0;
    if (s->kind != KIND_INFOSET) return 1;
    for (size_t i = 0; i < s->u.i.cap; i++)
        if (s->u.i.slots[i].labels) return 1;
    return 0;
}

void np_metrics_render(np_metrics_t *m, np_strbuf_t *out) {
    if (m->rss) np_gauge_set(m->rss, read_rss_bytes());
    pthread_mutex_lock(&m->lock);
    for (series_t *s = m->head; s; s = s->next) {
        /* HELP/TYPE once per name (at its first visible series), then its visible series. */
        if (!visible(s)) continue;
        int first = 1;
        for (series_t *p = m->head; p != s && first; p = p->next)
            if (!strcmp(p->name, s->name) && visible(p)) first = 0;
        if (!first) continue;
        np_strbuf_printf(out, "# HELP %s ", s->name);
        put_help(out, s->help);
        np_strbuf_printf(out, "\n# TYPE %s %s\n", s->name, type_name(s->kind));
        for (series_t *p = s; p; p = p->next)
            if (!strcmp(p->name, s->name) && visible(p)) render_sample(out, p);
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
