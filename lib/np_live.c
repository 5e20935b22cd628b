/* np_live: the gateway's bounded live state for the web page. See np_live.h. */
#include "np_live.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ID_MAX 160   /* as NP_RESULT_ID_MAX */
#define VIEW_NAME_MAX 64
#define TYPE_MAX 16

/* One kept result: its JSON (malloc'd, NUL-terminated) and what it is ordered by. */
typedef struct entry {
    char *json;
    size_t len;
    int64_t start, end;
    int rank;         /* groups */
    char id[ID_MAX];  /* anomalies */
} entry_t;

/* A table of entries ordered by (end, arrival); the oldest is dropped when full. */
typedef struct table {
    entry_t *e;
    size_t n, cap;
} table_t;

typedef struct view_groups {
    char name[VIEW_NAME_MAX];
    int64_t start;
    table_t groups; /* by rank */
} view_groups_t;

typedef struct event {
    uint64_t seq;
    char type[TYPE_MAX];
    char *data;
    size_t len;
} event_t;

struct np_live {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    np_live_limits_t lim;
    int64_t pane_ms; /* shortest window length seen; 0 = none yet */
    table_t windows, forecasts, anomalies;
    entry_t sliding;
    view_groups_t views[NP_LIVE_VIEWS_MAX];
    size_t nviews;
    np_strbuf_t fleet;
    event_t *events; /* ring of lim.events */
    uint64_t seq;    /* last event's sequence number; events hold seq-K+1 .. seq */
    size_t bytes;    /* JSON bytes held (entries + events + fleet) */
    uint64_t kept, ignored;
    int clients;
    bool closed;
};

/* ---- helpers ----------------------------------------------------------------------- */

size_t np_live_memory_bound(const np_live_limits_t *lim) {
    size_t entries = 2 * lim->windows + lim->anomalies + NP_LIVE_VIEWS_MAX * NP_LIVE_GROUPS_MAX + 1;
    return sizeof(np_live_t) + entries * (sizeof(entry_t) + NP_LIVE_JSON_MAX + 1) +
           lim->events * (sizeof(event_t) + NP_LIVE_JSON_MAX + 1) + NP_LIVE_FLEET_MAX;
}

static int table_init(table_t *t, size_t cap) {
    t->cap = cap;
    t->n = 0;
    t->e = calloc(cap, sizeof(*t->e));
    return t->e ? 0 : -1;
}

static void entry_clear(np_live_t *l, entry_t *e) {
    if (e->json) l->bytes -= e->len + 1;
    free(e->json);
    memset(e, 0, sizeof(*e));
}

static void table_clear(np_live_t *l, table_t *t) {
    for (size_t i = 0; i < t->n; i++) entry_clear(l, &t->e[i]);
    t->n = 0;
}

static void table_free(np_live_t *l, table_t *t) {
    table_clear(l, t);
    free(t->e);
    t->e = NULL;
}

/* Copies json into a new string, newlines turned into spaces (SSE data is one line). */
static char *dup_line(np_live_t *l, const char *json, size_t len) {
    char *s = malloc(len + 1);
    if (!s) return NULL;
    for (size_t i = 0; i < len; i++) s[i] = (json[i] == '\n' || json[i] == '\r') ? ' ' : json[i];
    s[len] = '\0';
    l->bytes += len + 1;
    return s;
}

/* The string value of "name":"..." in our own JSON (no escapes in ids and view names). */
static bool str_field(const char *json, size_t len, const char *name, char *out, size_t outlen) {
    char pat[48];
    size_t pl = (size_t)snprintf(pat, sizeof(pat), "\"%s\":\"", name);
    const char *p = memmem(json, len, pat, pl);
    if (!p) return false;
    p += pl;
    const char *q = memchr(p, '"', len - (size_t)(p - json));
    if (!q || (size_t)(q - p) >= outlen) return false;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = '\0';
    return true;
}

static long int_field(const char *json, size_t len, const char *name) {
    char pat[48];
    size_t pl = (size_t)snprintf(pat, sizeof(pat), "\"%s\":", name);
    const char *p = memmem(json, len, pat, pl);
    return p ? strtol(p + pl, NULL, 10) : 0;
}

/* Position of the first entry ordered after (end, key) for ascending tables. */
static size_t upper_bound(const table_t *t, int64_t end) {
    size_t i = t->n;
    while (i > 0 && t->e[i - 1].end > end) i--;
    return i;
}

/* Inserts a new entry ordered by `end` (ties: arrival order), dropping the oldest when
 * full. Returns the slot, or NULL when it is older than everything in a full table. */
static entry_t *table_insert(np_live_t *l, table_t *t, int64_t end) {
    size_t at = upper_bound(t, end);
    if (t->n == t->cap) {
        if (at == 0) return NULL;
        entry_clear(l, &t->e[0]);
        memmove(&t->e[0], &t->e[1], (t->n - 1) * sizeof(entry_t));
        t->n--;
        at--;
    }
    memmove(&t->e[at + 1], &t->e[at], (t->n - at) * sizeof(entry_t));
    memset(&t->e[at], 0, sizeof(entry_t));
    t->n++;
    return &t->e[at];
}

static entry_t *table_find_end(table_t *t, int64_t end) {
    for (size_t i = t->n; i-- > 0;)
        if (t->e[i].end == end) return &t->e[i];
    return NULL;
}

/* Puts the JSON into e (replacing what it held). Returns 1 kept, 0 out of memory. */
static int entry_set(np_live_t *l, entry_t *e, int64_t start, int64_t end, const char *json, size_t len) {
    char *s = dup_line(l, json, len);
    if (!s) return 0;
    if (e->json) l->bytes -= e->len + 1;
    free(e->json);
    e->json = s;
    e->len = len;
    e->start = start;
    e->end = end;
    return 1;
}

/* ---- events ------------------------------------------------------------------------ */

static void event_push(np_live_t *l, const char *type, const char *data, size_t len) {
    event_t *ev = &l->events[(l->seq + 1) % l->lim.events];
    char *s = dup_line(l, data, len);
    if (!s) return;
    if (ev->data) l->bytes -= ev->len + 1;
    free(ev->data);
    ev->data = s;
    ev->len = len;
    ev->seq = ++l->seq;
    snprintf(ev->type, sizeof(ev->type), "%s", type);
    pthread_cond_broadcast(&l->cv);
}

/* ---- lifecycle --------------------------------------------------------------------- */

np_live_t *np_live_new(const np_live_limits_t *lim) {
    np_live_t *l = calloc(1, sizeof(*l));
    if (!l) return NULL;
    l->lim = *lim;
    if (!l->lim.windows) l->lim.windows = 1;
    if (!l->lim.anomalies) l->lim.anomalies = 1;
    if (!l->lim.events) l->lim.events = 1;
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    np_strbuf_init(&l->fleet);
    np_strbuf_puts(&l->fleet, "{\"redis\":\"starting\",\"workers\":[]}");
    bool ok = table_init(&l->windows, l->lim.windows) == 0 && table_init(&l->forecasts, l->lim.windows) == 0 &&
              table_init(&l->anomalies, l->lim.anomalies) == 0 &&
              (l->events = calloc(l->lim.events, sizeof(event_t))) != NULL;
    for (size_t v = 0; ok && v < NP_LIVE_VIEWS_MAX; v++)
        ok = table_init(&l->views[v].groups, NP_LIVE_GROUPS_MAX) == 0;
    if (!ok) np_live_destroy(&l);
    return l;
}

void np_live_destroy(np_live_t **lp) {
    if (!lp || !*lp) return;
    np_live_t *l = *lp;
    table_free(l, &l->windows);
    table_free(l, &l->forecasts);
    table_free(l, &l->anomalies);
    for (size_t v = 0; v < NP_LIVE_VIEWS_MAX; v++) table_free(l, &l->views[v].groups);
    entry_clear(l, &l->sliding);
    if (l->events)
        for (size_t i = 0; i < l->lim.events; i++) free(l->events[i].data);
    free(l->events);
    np_strbuf_free(&l->fleet);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
    *lp = NULL;
}

/* ---- feeding ----------------------------------------------------------------------- */

/* A window shorter than any before is the pane: what was kept as panes were sliding. */
static void new_pane_length(np_live_t *l, int64_t pane_ms) {
    if (l->windows.n) {
        entry_t *last = &l->windows.e[l->windows.n - 1];
        if (!l->sliding.json || last->end >= l->sliding.end) {
            entry_clear(l, &l->sliding);
            l->sliding = *last; /* moves the JSON */
            memset(last, 0, sizeof(*last));
        }
    }
    table_clear(l, &l->windows);
    l->pane_ms = pane_ms;
}

static int add_window(np_live_t *l, int64_t start, int64_t end, const char *json, size_t len, const char **ev) {
    int64_t ms = end - start;
    if (l->pane_ms == 0 || ms < l->pane_ms) new_pane_length(l, ms);
    if (ms > l->pane_ms) {
        *ev = "sliding";
        if (l->sliding.json && end < l->sliding.end) return 0;
        return entry_set(l, &l->sliding, start, end, json, len);
    }
    *ev = "window";
    entry_t *e = table_find_end(&l->windows, end);
    if (!e && !(e = table_insert(l, &l->windows, end))) return 0;
    return entry_set(l, e, start, end, json, len);
}

static int add_forecast(np_live_t *l, int64_t start, int64_t end, const char *json, size_t len) {
    entry_t *e = table_find_end(&l->forecasts, end);
    if (!e && !(e = table_insert(l, &l->forecasts, end))) return 0;
    return entry_set(l, e, start, end, json, len);
}

static int add_anomaly(np_live_t *l, int64_t start, int64_t end, const char *json, size_t len) {
    char id[ID_MAX];
    if (!str_field(json, len, "id", id, sizeof(id))) return 0;
    entry_t *e = NULL;
    for (size_t i = 0; i < l->anomalies.n && !e; i++)
        if (!strcmp(l->anomalies.e[i].id, id)) e = &l->anomalies.e[i];
    if (!e && !(e = table_insert(l, &l->anomalies, end))) return 0;
    memcpy(e->id, id, sizeof(id));
    return entry_set(l, e, start, end, json, len);
}

static view_groups_t *view_slot(np_live_t *l, const char *name) {
    for (size_t v = 0; v < l->nviews; v++)
        if (!strcmp(l->views[v].name, name)) return &l->views[v];
    if (l->nviews == NP_LIVE_VIEWS_MAX) return NULL;
    view_groups_t *vg = &l->views[l->nviews++];
    snprintf(vg->name, sizeof(vg->name), "%s", name);
    vg->start = INT64_MIN;
    return vg;
}

static int add_group(np_live_t *l, int64_t start, int64_t end, const char *json, size_t len) {
    char name[VIEW_NAME_MAX];
    long rank = int_field(json, len, "rank");
    view_groups_t *vg;
    if (!str_field(json, len, "view", name, sizeof(name)) || rank < 1 || rank > NP_LIVE_GROUPS_MAX ||
        !(vg = view_slot(l, name)) || start < vg->start)
        return 0;
    if (start > vg->start) { /* a newer window: its groups replace the view's */
        table_clear(l, &vg->groups);
        vg->start = start;
    }
    entry_t *e = NULL;
    for (size_t i = 0; i < vg->groups.n && !e; i++)
        if (vg->groups.e[i].rank == (int)rank) e = &vg->groups.e[i];
    if (!e && !(e = table_insert(l, &vg->groups, rank))) return 0; /* ordered by rank */
    e->rank = (int)rank;
    int kept = entry_set(l, e, start, end, json, len);
    e->end = rank; /* the table's order key */
    return kept;
}

int np_live_add(np_live_t *l, const char *type, int64_t start_ms, int64_t end_ms, const char *json,
                size_t len) {
    if (len == 0 || len > NP_LIVE_JSON_MAX || end_ms <= start_ms) {
        pthread_mutex_lock(&l->mu);
        l->ignored++;
        pthread_mutex_unlock(&l->mu);
        return 0;
    }
    pthread_mutex_lock(&l->mu);
    int kept = 0;
    const char *ev = type;
    if (!strcmp(type, "window"))
        kept = add_window(l, start_ms, end_ms, json, len, &ev);
    else if (!strcmp(type, "anomaly"))
        kept = add_anomaly(l, start_ms, end_ms, json, len);
    else if (!strcmp(type, "forecast"))
        kept = add_forecast(l, start_ms, end_ms, json, len);
    else if (!strcmp(type, "group"))
        kept = add_group(l, start_ms, end_ms, json, len);
    if (kept) {
        l->kept++;
        event_push(l, ev, json, len);
    } else {
        l->ignored++;
    }
    pthread_mutex_unlock(&l->mu);
    return kept;
}

/* ---- fleet ------------------------------------------------------------------------- */

static int cmp_worker(const void *a, const void *b) {
    return strcmp(((const np_live_worker_t *)a)->key, ((const np_live_worker_t *)b)->key);
}

static void fleet_worker_json(np_strbuf_t *sb, const np_live_worker_t *w, int64_t stale_ms) {
    np_strbuf_puts(sb, "{\"key\":");
    np_strbuf_json_str(sb, w->key, strlen(w->key));
    np_strbuf_printf(sb, ",\"age_ms\":%lld,\"healthy\":%s,\"heartbeat\":", (long long)w->age_ms,
                     w->age_ms <= stale_ms ? "true" : "false");
    if (np_live_json_valid(w->json, w->len))
        np_strbuf_append(sb, w->json, w->len);
    else
        np_strbuf_puts(sb, "null");
    np_strbuf_putc(sb, '}');
}

void np_live_set_fleet(np_live_t *l, int64_t now_ms, const char *status, const char *error,
                       const np_live_worker_t *w, size_t n, int64_t stale_ms) {
    np_live_worker_t *sorted = n ? malloc(n * sizeof(*sorted)) : NULL;
    if (n && !sorted) return;
    if (n) memcpy(sorted, w, n * sizeof(*sorted));
    if (n > 1) qsort(sorted, n, sizeof(*sorted), cmp_worker);
    np_strbuf_t sb;
    np_strbuf_init(&sb);
    np_strbuf_puts(&sb, "{\"redis\":");
    np_strbuf_json_str(&sb, status, strlen(status));
    if (error) {
        np_strbuf_puts(&sb, ",\"error\":");
        np_strbuf_json_str(&sb, error, strlen(error));
    }
    np_strbuf_printf(&sb, ",\"updated_ms\":%lld,\"stale_ms\":%lld,\"workers\":[", (long long)now_ms,
                     (long long)stale_ms);
    size_t listed = 0;
    for (size_t i = 0; i < n && listed < NP_LIVE_WORKERS_MAX; i++) {
        size_t mark = sb.len;
        if (listed) np_strbuf_putc(&sb, ',');
        fleet_worker_json(&sb, &sorted[i], stale_ms);
        if (sb.len + 64 > NP_LIVE_FLEET_MAX) { /* keep the bound: leave the rest out */
            sb.len = mark;
            break;
        }
        listed++;
    }
    np_strbuf_printf(&sb, "],\"workers_total\":%zu}", n);
    free(sorted);
    pthread_mutex_lock(&l->mu);
    if (!sb.oom) {
        l->bytes -= l->fleet.len;
        np_strbuf_t old = l->fleet;
        l->fleet = sb;
        l->bytes += sb.len;
        sb = old;
        char ev[64];
        int evl = snprintf(ev, sizeof(ev), "{\"updated_ms\":%lld}", (long long)now_ms);
        event_push(l, "fleet", ev, (size_t)evl);
    }
    pthread_mutex_unlock(&l->mu);
    np_strbuf_free(&sb);
}

/* ---- API bodies -------------------------------------------------------------------- */

static void array_json(np_strbuf_t *out, const table_t *t, size_t from, bool reverse) {
    np_strbuf_putc(out, '[');
    for (size_t k = from; k < t->n; k++) {
        const entry_t *e = &t->e[reverse ? t->n - 1 - (k - from) : k];
        if (k > from) np_strbuf_putc(out, ',');
        np_strbuf_append(out, e->json, e->len);
    }
    np_strbuf_putc(out, ']');
}

void np_live_windows_json(np_live_t *l, int64_t since_ms, np_strbuf_t *out) {
    pthread_mutex_lock(&l->mu);
    np_strbuf_printf(out, "{\"pane_ms\":%lld,\"windows\":", (long long)l->pane_ms);
    array_json(out, &l->windows, upper_bound(&l->windows, since_ms), false);
    np_strbuf_puts(out, ",\"forecasts\":");
    array_json(out, &l->forecasts, upper_bound(&l->forecasts, since_ms), false);
    np_strbuf_puts(out, ",\"sliding\":");
    if (l->sliding.json)
        np_strbuf_append(out, l->sliding.json, l->sliding.len);
    else
        np_strbuf_puts(out, "null");
    np_strbuf_putc(out, '}');
    pthread_mutex_unlock(&l->mu);
}

void np_live_anomalies_json(np_live_t *l, np_strbuf_t *out) {
    pthread_mutex_lock(&l->mu);
    np_strbuf_puts(out, "{\"anomalies\":");
    array_json(out, &l->anomalies, 0, true);
    np_strbuf_putc(out, '}');
    pthread_mutex_unlock(&l->mu);
}

void np_live_groups_json(np_live_t *l, np_strbuf_t *out) {
    pthread_mutex_lock(&l->mu);
    np_strbuf_puts(out, "{\"views\":[");
    for (size_t v = 0; v < l->nviews; v++) {
        const view_groups_t *vg = &l->views[v];
        if (v) np_strbuf_putc(out, ',');
        np_strbuf_puts(out, "{\"view\":");
        np_strbuf_json_str(out, vg->name, strlen(vg->name));
        np_strbuf_printf(out, ",\"window_start\":%lld,\"groups\":", (long long)vg->start);
        array_json(out, &vg->groups, 0, false);
        np_strbuf_putc(out, '}');
    }
    np_strbuf_puts(out, "]}");
    pthread_mutex_unlock(&l->mu);
}

void np_live_fleet_json(np_live_t *l, np_strbuf_t *out) {
    pthread_mutex_lock(&l->mu);
    np_strbuf_append(out, l->fleet.buf, l->fleet.len);
    pthread_mutex_unlock(&l->mu);
}

void np_live_status_json(np_live_t *l, np_strbuf_t *out) {
    pthread_mutex_lock(&l->mu);
    np_strbuf_printf(out,
                     "{\"results_kept\":%llu,\"results_ignored\":%llu,\"bytes\":%zu,\"memory_bound_bytes\":%zu,"
                     "\"limits\":{\"windows\":%zu,\"anomalies\":%zu,\"events\":%zu,\"json_max\":%d,"
                     "\"views\":%d,\"groups_per_view\":%d},\"sse_clients\":%d,\"last_event\":%llu}",
                     (unsigned long long)l->kept, (unsigned long long)l->ignored, l->bytes,
                     np_live_memory_bound(&l->lim), l->lim.windows, l->lim.anomalies, l->lim.events,
                     NP_LIVE_JSON_MAX, NP_LIVE_VIEWS_MAX, NP_LIVE_GROUPS_MAX, l->clients,
                     (unsigned long long)l->seq);
    pthread_mutex_unlock(&l->mu);
}

/* ---- Server-Sent Events ------------------------------------------------------------ */

uint64_t np_live_cursor(np_live_t *l) {
    pthread_mutex_lock(&l->mu);
    uint64_t s = l->seq;
    pthread_mutex_unlock(&l->mu);
    return s;
}

static void wait_ms_locked(np_live_t *l, int wait_ms) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += wait_ms / 1000;
    ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&l->cv, &l->mu, &ts);
}

int np_live_events(np_live_t *l, uint64_t *cursor, int wait_ms, size_t max_bytes, np_strbuf_t *out) {
    pthread_mutex_lock(&l->mu);
    if (!l->closed && *cursor >= l->seq && wait_ms > 0) wait_ms_locked(l, wait_ms);
    if (l->closed) {
        pthread_mutex_unlock(&l->mu);
        return -1;
    }
    int n = 0;
    uint64_t oldest = l->seq >= l->lim.events ? l->seq - l->lim.events + 1 : 1;
    if (*cursor + 1 < oldest) { /* fell behind: what it missed is gone */
        np_strbuf_printf(out, "id: %llu\nevent: reset\ndata: {}\n\n", (unsigned long long)l->seq);
        *cursor = l->seq;
        n++;
    }
    size_t start = out->len;
    while (*cursor < l->seq && out->len - start < max_bytes) {
        const event_t *ev = &l->events[(*cursor + 1) % l->lim.events];
        np_strbuf_printf(out, "id: %llu\nevent: %s\ndata: ", (unsigned long long)ev->seq, ev->type);
        np_strbuf_append(out, ev->data, ev->len);
        np_strbuf_puts(out, "\n\n");
        (*cursor)++;
        n++;
    }
    pthread_mutex_unlock(&l->mu);
    return n;
}

bool np_live_client_enter(np_live_t *l, int max) {
    pthread_mutex_lock(&l->mu);
    bool ok = !l->closed && l->clients < max;
    if (ok) l->clients++;
    pthread_mutex_unlock(&l->mu);
    return ok;
}

void np_live_client_leave(np_live_t *l) {
    pthread_mutex_lock(&l->mu);
    l->clients--;
    pthread_mutex_unlock(&l->mu);
}

void np_live_close(np_live_t *l) {
    pthread_mutex_lock(&l->mu);
    l->closed = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

/* ---- JSON validation (heartbeats come from Redis: anyone could have written them) ---- */

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static const char *skip_value(const char *p, const char *end, int depth);

static const char *skip_string(const char *p, const char *end) {
    if (p >= end || *p != '"') return NULL;
    for (p++; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c < 0x20) return NULL;
        if (c == '\\') {
            if (++p >= end) return NULL;
            if (*p == 'u') {
                for (int i = 0; i < 4; i++)
                    if (++p >= end || !strchr("0123456789abcdefABCDEF", *p)) return NULL;
            } else if (!strchr("\"\\/bfnrt", *p)) {
                return NULL;
            }
        }
    }
    return NULL;
}

static const char *skip_digits(const char *p, const char *end, bool need) {
    const char *s = p;
    while (p < end && *p >= '0' && *p <= '9') p++;
    return (need && p == s) ? NULL : p;
}

static const char *skip_number(const char *p, const char *end) {
    if (p < end && *p == '-') p++;
    if (p < end && *p == '0')
        p++;
    else if (!(p = skip_digits(p, end, true)))
        return NULL;
    if (p < end && *p == '.' && !(p = skip_digits(p + 1, end, true))) return NULL;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (!(p = skip_digits(p, end, true))) return NULL;
    }
    return p;
}

/* Object (close '}') or array (close ']') after its opening bracket. */
static const char *skip_container(const char *p, const char *end, int depth, char close) {
    p = skip_ws(p, end);
    if (p < end && *p == close) return p + 1;
    for (;;) {
        if (close == '}') {
            if (!(p = skip_string(skip_ws(p, end), end))) return NULL;
            p = skip_ws(p, end);
            if (p >= end || *p++ != ':') return NULL;
        }
        if (!(p = skip_value(p, end, depth + 1))) return NULL;
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        return (p < end && *p == close) ? p + 1 : NULL;
    }
}

static const char *skip_value(const char *p, const char *end, int depth) {
    if (depth > 32) return NULL;
    p = skip_ws(p, end);
    if (p >= end) return NULL;
    switch (*p) {
    case '{': return skip_container(p + 1, end, depth, '}');
    case '[': return skip_container(p + 1, end, depth, ']');
    case '"': return skip_string(p, end);
    case 't': return (end - p >= 4 && !memcmp(p, "true", 4)) ? p + 4 : NULL;
    case 'f': return (end - p >= 5 && !memcmp(p, "false", 5)) ? p + 5 : NULL;
    case 'n': return (end - p >= 4 && !memcmp(p, "null", 4)) ? p + 4 : NULL;
    default: return skip_number(p, end);
    }
}

bool np_live_json_valid(const char *json, size_t len) {
    if (!json) return false;
    const char *end = json + len, *p = skip_value(json, end, 0);
    return p && skip_ws(p, end) == end;
}
