/* np_summary: reading back a published result's headline fields. See np_summary.h. */
#include "np_summary.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 16

typedef struct cur {
    const char *p, *e;
    const char *base;
    const char *why; /* first error, NULL: none */
} cur_t;

static int fail(cur_t *c, const char *why) {
    if (!c->why) c->why = why;
    return -1;
}

static void ws(cur_t *c) {
    while (c->p < c->e && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static int expect(cur_t *c, char ch) {
    ws(c);
    if (c->p >= c->e || *c->p != ch) return fail(c, "unexpected character");
    c->p++;
    return 0;
}

/* Appends k bytes to dst if the whole character fits (dst keeps a NUL). */
static void put(char *dst, size_t cap, size_t *n, const char *b, size_t k, int *full) {
    if (!dst || *full) return;
    if (*n + k >= cap) {
        *full = 1;
        return;
    }
    memcpy(dst + *n, b, k);
    *n += k;
    dst[*n] = '\0';
}

static int hex4(cur_t *c, unsigned *out) {
    if (c->e - c->p < 4) return fail(c, "short \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char h = c->p[i];
        v <<= 4;
        if (h >= '0' && h <= '9')
            v |= (unsigned)(h - '0');
        else if (h >= 'a' && h <= 'f')
            v |= (unsigned)(h - 'a' + 10);
        else if (h >= 'A' && h <= 'F')
            v |= (unsigned)(h - 'A' + 10);
        else
            return fail(c, "bad \\u escape");
    }
    c->p += 4;
    *out = v;
    return 0;
}

/* Code point cp as UTF-8 into b (4 bytes room); returns its length. */
static size_t utf8(unsigned cp, char *b) {
    if (cp < 0x80) {
        b[0] = (char)cp;
        return 1;
    }
    size_t n = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    static const unsigned char lead[5] = {0, 0, 0xC0, 0xE0, 0xF0};
    for (size_t i = n - 1; i > 0; i--, cp >>= 6) b[i] = (char)(0x80 | (cp & 0x3F));
    b[0] = (char)(lead[n] | cp);
    return n;
}

/* One \-escape (after the backslash) into b; returns its length, or -1. */
static int escape(cur_t *c, char *b) {
    if (c->p >= c->e) return fail(c, "unterminated string");
    char ch = *c->p++;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *f = ch ? strchr(from, ch) : NULL;
    if (f) {
        b[0] = to[f - from];
        return 1;
    }
    if (ch != 'u') return fail(c, "bad escape");
    unsigned cp, lo;
    if (hex4(c, &cp) < 0) return -1;
    if (cp >= 0xD800 && cp < 0xDC00) { /* a surrogate pair */
        if (c->e - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u') return fail(c, "lone surrogate");
        c->p += 2;
        if (hex4(c, &lo) < 0) return -1;
        if (lo < 0xDC00 || lo > 0xDFFF) return fail(c, "bad surrogate");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    return (int)utf8(cp, b);
}

/* A string literal; its text (unescaped, truncated to whole characters) into dst when set. */
static int string(cur_t *c, char *dst, size_t cap) {
    size_t n = 0;
    int full = 0;
    if (dst && cap) dst[0] = '\0';
    if (expect(c, '"') < 0) return -1;
    while (c->p < c->e && *c->p != '"') {
        char b[4];
        size_t k;
        unsigned char lead = (unsigned char)*c->p;
        if (lead == '\\') {
            c->p++;
            int e = escape(c, b);
            if (e < 0) return -1;
            put(dst, cap, &n, b, (size_t)e, &full);
            continue;
        }
        if (lead < 0x20) return fail(c, "control character in string");
        k = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if ((size_t)(c->e - c->p) < k) return fail(c, "truncated UTF-8");
        put(dst, cap, &n, c->p, k, &full);
        c->p += k;
    }
    if (c->p >= c->e) return fail(c, "unterminated string");
    c->p++;
    return 0;
}

/* A number token into buf (NUL-terminated). */
static int number(cur_t *c, char *buf, size_t cap) {
    ws(c);
    size_t n = 0;
    while (c->p < c->e && *c->p && strchr("+-.eE0123456789", *c->p)) {
        if (n + 1 >= cap) return fail(c, "number too long");
        buf[n++] = *c->p++;
    }
    buf[n] = '\0';
    return n ? 0 : fail(c, "expected a value");
}

static int skip_value(cur_t *c, int depth);

static int skip_container(cur_t *c, int depth, char open, char close) {
    if (depth > MAX_DEPTH) return fail(c, "nested too deep");
    c->p++; /* the opening bracket */
    ws(c);
    if (c->p < c->e && *c->p == close) { c->p++; return 0; }
    for (;;) {
        if (open == '{' && (string(c, NULL, 0) < 0 || expect(c, ':') < 0)) return -1;
        if (skip_value(c, depth + 1) < 0) return -1;
        ws(c);
        if (c->p < c->e && *c->p == ',') { c->p++; continue; }
        return expect(c, close);
    }
}

static int skip_value(cur_t *c, int depth) {
    char buf[64];
    ws(c);
    if (c->p >= c->e) return fail(c, "expected a value");
    switch (*c->p) {
    case '"': return string(c, NULL, 0);
    case '{': return skip_container(c, depth, '{', '}');
    case '[': return skip_container(c, depth, '[', ']');
    case 't': case 'f': case 'n': {
        const char *lit = *c->p == 't' ? "true" : *c->p == 'f' ? "false" : "null";
        size_t k = strlen(lit);
        if ((size_t)(c->e - c->p) < k || memcmp(c->p, lit, k)) return fail(c, "bad literal");
        c->p += k;
        return 0;
    }
    default: return number(c, buf, sizeof(buf));
    }
}

static int u64_field(cur_t *c, uint64_t *out) {
    char buf[64];
    if (number(c, buf, sizeof(buf)) < 0) return -1;
    char *end;
    *out = strtoull(buf, &end, 10);
    return *end || buf[0] == '-' ? fail(c, "expected an unsigned integer") : 0;
}

static int i64_field(cur_t *c, int64_t *out) {
    char buf[64];
    if (number(c, buf, sizeof(buf)) < 0) return -1;
    char *end;
    *out = strtoll(buf, &end, 10);
    return *end ? fail(c, "expected an integer") : 0;
}

static int dbl_field(cur_t *c, double *out) {
    char buf[64];
    if (number(c, buf, sizeof(buf)) < 0) return -1;
    char *end;
    *out = strtod(buf, &end);
    return *end ? fail(c, "expected a number") : 0;
}

static const char *const proto_names[NP_SUMMARY_PROTOS] = {"tcp", "udp", "icmp", "other"};

const char *np_summary_proto_name(np_summary_proto_t p) { return proto_names[p]; }

static int protocols(cur_t *c, np_summary_t *s) {
    if (expect(c, '{') < 0) return -1;
    ws(c);
    if (c->p < c->e && *c->p == '}') { c->p++; return 0; }
    for (;;) {
        char key[16];
        if (string(c, key, sizeof(key)) < 0 || expect(c, ':') < 0) return -1;
        int i = 0;
        while (i < NP_SUMMARY_PROTOS && strcmp(key, proto_names[i])) i++;
        if ((i < NP_SUMMARY_PROTOS ? u64_field(c, &s->protocols[i]) : skip_value(c, 1)) < 0) return -1;
        ws(c);
        if (c->p < c->e && *c->p == ',') { c->p++; continue; }
        return expect(c, '}');
    }
}

/* One top-level member's value: kept when it is a field we show, skipped otherwise. */
static int member(cur_t *c, const char *key, np_summary_t *s) {
    static const struct { const char *k; size_t off, cap; } strs[] = {
        {"type", offsetof(np_summary_t, type), sizeof(s->type)},
        {"kind", offsetof(np_summary_t, kind), sizeof(s->kind)},
        {"severity", offsetof(np_summary_t, severity), sizeof(s->severity)},
        {"entity", offsetof(np_summary_t, entity), sizeof(s->entity)},
        {"explanation", offsetof(np_summary_t, explanation), sizeof(s->explanation)},
    };
    static const struct { const char *k; size_t off; } u64s[] = {
        {"records", offsetof(np_summary_t, records)}, {"bytes", offsetof(np_summary_t, bytes)},
        {"packets", offsetof(np_summary_t, packets)}, {"sources", offsetof(np_summary_t, sources)},
    };
    static const struct { const char *k; size_t off; } i64s[] = {
        {"window_start", offsetof(np_summary_t, window_start)},
        {"window_end", offsetof(np_summary_t, window_end)},
        {"window_ms", offsetof(np_summary_t, window_ms)},
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (!strcmp(key, strs[i].k)) return string(c, (char *)s + strs[i].off, strs[i].cap);
    for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++)
        if (!strcmp(key, u64s[i].k)) return u64_field(c, (uint64_t *)(void *)((char *)s + u64s[i].off));
    for (size_t i = 0; i < sizeof(i64s) / sizeof(i64s[0]); i++)
        if (!strcmp(key, i64s[i].k)) return i64_field(c, (int64_t *)(void *)((char *)s + i64s[i].off));
    if (!strcmp(key, "predicted")) return dbl_field(c, &s->predicted);
    if (!strcmp(key, "protocols")) return protocols(c, s);
    return skip_value(c, 1);
}

int np_summary_parse(const char *json, size_t len, np_summary_t *out, char *errstr, size_t errlen) {
    memset(out, 0, sizeof(*out));
    cur_t c = {json, json + len, json, NULL};
    if (expect(&c, '{') < 0) goto err;
    ws(&c);
    if (c.p < c.e && *c.p == '}') {
        c.p++;
    } else {
        for (;;) {
            char key[32];
            if (string(&c, key, sizeof(key)) < 0 || expect(&c, ':') < 0 || member(&c, key, out) < 0) goto err;
            ws(&c);
            if (c.p < c.e && *c.p == ',') { c.p++; continue; }
            if (expect(&c, '}') < 0) goto err;
            break;
        }
    }
    ws(&c);
    if (c.p != c.e) {
        fail(&c, "trailing data");
        goto err;
    }
    return 0;
err:
    snprintf(errstr, errlen, "%s at byte %zu", c.why ? c.why : "malformed", (size_t)(c.p - c.base));
    return -1;
}

void np_summary_recent_push(np_summary_recent_t *r, const np_summary_t *s) {
    r->head = (r->head + NP_SUMMARY_RECENT_MAX - 1) % NP_SUMMARY_RECENT_MAX;
    r->items[r->head] = *s;
    if (r->n < NP_SUMMARY_RECENT_MAX) r->n++;
}

const np_summary_t *np_summary_recent_get(const np_summary_recent_t *r, size_t rank) {
    if (rank < 1 || rank > r->n) return NULL;
    return &r->items[(r->head + rank - 1) % NP_SUMMARY_RECENT_MAX];
}
