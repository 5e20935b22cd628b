/* np_view: operator-defined views and their group tables. See np_view.h. */
#include "np_view.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parsing ----------------------------------------------------------------------- */

typedef struct parser {
    const char *s;   /* the view's text, NUL-terminated */
    size_t pos;
    np_view_t *v;
    char *err;
    size_t errlen;
    int failed;
} parser_t;

static int fail(parser_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parser_t *p, const char *fmt, ...) {
    if (p->failed) return -1;
    p->failed = 1;
    int n = snprintf(p->err, p->errlen, "view '%s': ", p->v->name);
    if (n < 0 || (size_t)n >= p->errlen) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static void skip_ws(parser_t *p) {
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n') p->pos++;
}

/* True (and consumed) when the next word is kw. */
static int accept_word(parser_t *p, const char *kw) {
    skip_ws(p);
    size_t n = strlen(kw);
    if (strncmp(p->s + p->pos, kw, n) != 0) return 0;
    char c = p->s[p->pos + n];
    if (isalnum((unsigned char)c) || c == '_') return 0;
    p->pos += n;
    return 1;
}

static int peek_word(parser_t *p, const char *kw) {
    size_t save = p->pos;
    int r = accept_word(p, kw);
    p->pos = save;
    return r;
}

static int new_node(parser_t *p, np_vnop_t op, int a, int b) {
    if (p->v->nnodes >= NP_VIEW_MAX_NODES) return fail(p, "more than %d terms and operators", NP_VIEW_MAX_NODES);
    np_vnode_t *n = &p->v->node[p->v->nnodes];
    memset(n, 0, sizeof(*n));
    n->op = (uint8_t)op;
    n->a = (int16_t)a;
    n->b = (int16_t)b;
    return p->v->nnodes++;
}

static const struct {
    const char *name;
    np_vfield_t f;
} fields[] = {{"proto", NP_VF_PROTO}, {"sport", NP_VF_SPORT}, {"dport", NP_VF_DPORT}, {"port", NP_VF_PORT},
              {"src", NP_VF_SRC},     {"dst", NP_VF_DST},     {"bytes", NP_VF_BYTES}, {"packets", NP_VF_PACKETS}};

static const struct {
    const char *name;
    uint8_t num;
} protos[] = {{"tcp", NP_PROTO_TCP}, {"udp", NP_PROTO_UDP}, {"icmp", NP_PROTO_ICMP}, {"icmpv6", NP_PROTO_ICMPV6}};

static int parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out) {
    if (len == 0 || len > 20) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (v > max) return -1;
    *out = v;
    return 0;
}

/* One value of a term into n's value slot k. */
static int parse_value(parser_t *p, np_vnode_t *n, int k, const char *s, size_t len, const char *op) {
    const char *fname = fields[0].name;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (fields[i].f == n->field) fname = fields[i].name;
    if (n->field == NP_VF_SRC || n->field == NP_VF_DST) {
        if (np_cidr_parse(s, len, &n->v.cidr[k]) < 0) return fail(p, "%s: '%.*s' is not an address or CIDR", fname, (int)len, s);
        return 0;
    }
    uint64_t max = n->field == NP_VF_PROTO ? 255 : (n->field == NP_VF_BYTES || n->field == NP_VF_PACKETS) ? UINT64_MAX : 65535;
    uint64_t lo, hi;
    if (n->field == NP_VF_PROTO) {
        for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
            if (strlen(protos[i].name) == len && strncmp(protos[i].name, s, len) == 0) {
                n->v.range[k].lo = n->v.range[k].hi = protos[i].num;
                return 0;
            }
    }
    const char *dash = memchr(s, '-', len);
    if (dash && op[0] == '=') {
        if (parse_u64(s, (size_t)(dash - s), max, &lo) < 0 || parse_u64(dash + 1, len - (size_t)(dash - s) - 1, max, &hi) < 0 || lo > hi)
            return fail(p, "%s: '%.*s' is not a range lo-hi within 0..%llu", fname, (int)len, s, (unsigned long long)max);
    } else if (parse_u64(s, len, max, &lo) < 0) {
        return fail(p, "%s: '%.*s' is not %s 0..%llu", fname, (int)len, s,
                    n->field == NP_VF_PROTO ? "tcp, udp, icmp, icmpv6 or a number" : "a number", (unsigned long long)max);
    } else {
        hi = lo;
    }
    if (strcmp(op, "<") == 0) {
        if (lo == 0) return fail(p, "%s < 0 matches nothing", fname);
        hi = lo - 1, lo = 0;
    } else if (strcmp(op, "<=") == 0) {
        hi = lo, lo = 0;
    } else if (strcmp(op, ">") == 0) {
        if (lo == max) return fail(p, "%s > %llu matches nothing", fname, (unsigned long long)max);
        lo = lo + 1, hi = max;
    } else if (strcmp(op, ">=") == 0) {
        hi = max;
    }
    n->v.range[k].lo = lo;
    n->v.range[k].hi = hi;
    return 0;
}

static int parse_term(parser_t *p) {
    skip_ws(p);
    const char *w = p->s + p->pos;
    size_t wl = 0;
    while (isalpha((unsigned char)w[wl])) wl++;
    int fi = -1;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (strlen(fields[i].name) == wl && strncmp(fields[i].name, w, wl) == 0) fi = (int)i;
    if (fi < 0) {
        if (!*w) return fail(p, "a term is missing at the end");
        return fail(p, "unknown field '%.*s' (proto, sport, dport, port, src, dst, bytes, packets)",
                    (int)(wl ? wl : 1), w);
    }
    p->pos += wl;
    skip_ws(p);
    char op[3] = {0};
    const char *o = p->s + p->pos;
    if ((o[0] == '!' || o[0] == '<' || o[0] == '>') && o[1] == '=') {
        op[0] = o[0], op[1] = '=';
    } else if (o[0] == '=' || o[0] == '<' || o[0] == '>') {
        op[0] = o[0];
    } else {
        return fail(p, "%s: expected = != < <= > or >=", fields[fi].name);
    }
    p->pos += strlen(op);
    bool addr = fields[fi].f == NP_VF_SRC || fields[fi].f == NP_VF_DST;
    bool ordered = op[0] == '<' || op[0] == '>';
    if (addr && ordered) return fail(p, "%s: addresses take = or != only", fields[fi].name);
    if (fields[fi].f == NP_VF_PROTO && ordered) return fail(p, "proto takes = or != only");
    int idx = new_node(p, NP_VN_TERM, -1, -1);
    if (idx < 0) return -1;
    np_vnode_t *n = &p->v->node[idx];
    n->field = (uint8_t)fields[fi].f;
    n->negate = op[0] == '!';
    skip_ws(p);
    const char *vals = p->s + p->pos;
    size_t vl = 0;
    while (vals[vl] && vals[vl] != ' ' && vals[vl] != '\t' && vals[vl] != ')' && vals[vl] != '\n') vl++;
    if (vl == 0) return fail(p, "%s: a value is missing", fields[fi].name);
    p->pos += vl;
    size_t i = 0;
    while (i <= vl) {
        size_t j = i;
        while (j < vl && vals[j] != ',') j++;
        if (n->nvals >= NP_VIEW_MAX_VALUES) return fail(p, "%s: more than %d values", fields[fi].name, NP_VIEW_MAX_VALUES);
        if (ordered && n->nvals) return fail(p, "%s %s takes one value", fields[fi].name, op);
        if (parse_value(p, n, n->nvals, vals + i, j - i, op) < 0) return -1;
        n->nvals++;
        i = j + 1;
    }
    return idx;
}

static int parse_or(parser_t *p);

static int parse_not(parser_t *p) {
    if (accept_word(p, "not")) {
        int a = parse_not(p);
        return a < 0 ? -1 : new_node(p, NP_VN_NOT, a, -1);
    }
    skip_ws(p);
    if (p->s[p->pos] == '(') {
        p->pos++;
        int a = parse_or(p);
        if (a < 0) return -1;
        skip_ws(p);
        if (p->s[p->pos] != ')') return fail(p, "')' expected at '%.20s'", p->s + p->pos);
        p->pos++;
        return a;
    }
    return parse_term(p);
}

static int parse_and(parser_t *p) {
    int a = parse_not(p);
    while (a >= 0 && accept_word(p, "and")) {
        int b = parse_not(p);
        a = b < 0 ? -1 : new_node(p, NP_VN_AND, a, b);
    }
    return a;
}

static int parse_or(parser_t *p) {
    int a = parse_and(p);
    while (a >= 0 && accept_word(p, "or")) {
        int b = parse_and(p);
        a = b < 0 ? -1 : new_node(p, NP_VN_OR, a, b);
    }
    return a;
}

/* "src/24/64", "dst", "proto", ... */
static int parse_key(parser_t *p, const char *s, size_t len) {
    np_view_t *v = p->v;
    if (len == 5 && strncmp(s, "proto", 5) == 0) v->group |= NP_GK_PROTO;
    else if (len == 5 && strncmp(s, "dport", 5) == 0) v->group |= NP_GK_DPORT;
    else if (len == 5 && strncmp(s, "sport", 5) == 0) v->group |= NP_GK_SPORT;
    else if (len >= 3 && (strncmp(s, "src", 3) == 0 || strncmp(s, "dst", 3) == 0) && (len == 3 || s[3] == '/')) {
        bool src = s[0] == 's';
        uint64_t b4 = 32, b6 = 128;
        if (len > 3) {
            const char *q = s + 4, *end = s + len, *slash = memchr(q, '/', (size_t)(end - q));
            b6 = 64;
            if (parse_u64(q, (size_t)((slash ? slash : end) - q), 32, &b4) < 0 ||
                (slash && parse_u64(slash + 1, (size_t)(end - slash - 1), 128, &b6) < 0))
                return fail(p, "group key '%.*s': prefixes are /0..32 for IPv4 and /0..128 for IPv6", (int)len, s);
        }
        v->group |= src ? NP_GK_SRC : NP_GK_DST;
        *(src ? &v->src_bits4 : &v->dst_bits4) = (uint8_t)b4;
        *(src ? &v->src_bits6 : &v->dst_bits6) = (uint8_t)b6;
    } else {
        return fail(p, "unknown group key '%.*s' (proto, dport, sport, src/N, dst/N)", (int)len, s);
    }
    return 0;
}

static int parse_view(np_viewset_t *vs, char *text, char *err, size_t errlen) {
    char *colon = strchr(text, ':');
    char *name = text;
    while (*name == ' ' || *name == '\t' || *name == '\n') name++;
    if (!colon) {
        snprintf(err, errlen, "view '%.40s': expected NAME: FILTER [by KEYS]", name);
        return -1;
    }
    char *ne = colon;
    while (ne > name && (ne[-1] == ' ' || ne[-1] == '\t')) ne--;
    size_t nl = (size_t)(ne - name);
    if (nl == 0 || nl >= NP_VIEW_NAME_MAX) {
        snprintf(err, errlen, "view name '%.*s' must be 1..%d characters", (int)nl, name, NP_VIEW_NAME_MAX - 1);
        return -1;
    }
    for (size_t i = 0; i < nl; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-' && name[i] != '.') {
            snprintf(err, errlen, "view name '%.*s': use letters, digits, '_', '-' and '.'", (int)nl, name);
            return -1;
        }
    if (np_viewset_find(vs, name, nl) >= 0) {
        snprintf(err, errlen, "view '%.*s' is defined twice", (int)nl, name);
        return -1;
    }
    if (vs->n >= NP_VIEW_MAX) {
        snprintf(err, errlen, "more than %d views", NP_VIEW_MAX);
        return -1;
    }
    np_view_t *v = &vs->v[vs->n];
    memset(v, 0, sizeof(*v));
    memcpy(v->name, name, nl);
    parser_t p = {.s = colon + 1, .v = v, .err = err, .errlen = errlen};
    skip_ws(&p);
    if (p.s[p.pos] && !peek_word(&p, "by")) {
        if (parse_or(&p) < 0) return -1;
        skip_ws(&p);
        if (p.s[p.pos] && !peek_word(&p, "by")) return fail(&p, "unexpected '%.20s' (and, or, by?)", p.s + p.pos);
    }
    if (accept_word(&p, "by")) {
        const char *k = p.s + p.pos;
        for (;;) {
            while (*k == ' ' || *k == '\t' || *k == '\n') k++;
            const char *e = k;
            while (*e && *e != ',' && *e != ' ' && *e != '\t' && *e != '\n') e++;
            if (e == k) return fail(&p, "a group key is missing after 'by'");
            if (parse_key(&p, k, (size_t)(e - k)) < 0) return -1;
            while (*e == ' ' || *e == '\t' || *e == '\n') e++;
            if (!*e) break;
            if (*e != ',') return fail(&p, "group keys are separated by ',' (at '%.20s')", e);
            k = e + 1;
        }
    }
    vs->n++;
    return 0;
}

int np_viewset_parse(np_viewset_t *vs, const char *spec, char *err, size_t errlen) {
    vs->n = 0;
    if (!spec) return 0;
    char *copy = strdup(spec);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, ";", &save); t && rc == 0; t = strtok_r(NULL, ";", &save)) {
        bool blank = true;
        for (const char *c = t; *c; c++) blank = blank && isspace((unsigned char)*c);
        if (!blank) rc = parse_view(vs, t, err, errlen);
    }
    free(copy);
    return rc;
}

int np_viewset_find(const np_viewset_t *vs, const char *name, size_t len) {
    for (size_t i = 0; i < vs->n; i++)
        if (strlen(vs->v[i].name) == len && memcmp(vs->v[i].name, name, len) == 0) return (int)i;
    return -1;
}

/* ---- matching ---------------------------------------------------------------------- */

static bool in_ranges(const np_vnode_t *n, uint64_t x) {
    for (int i = 0; i < n->nvals; i++)
        if (x >= n->v.range[i].lo && x <= n->v.range[i].hi) return true;
    return false;
}

static bool in_cidrs(const np_vnode_t *n, const np_ip_t *ip) {
    for (int i = 0; i < n->nvals; i++)
        if (np_cidr_contains(&n->v.cidr[i], ip)) return true;
    return false;
}

static bool term(const np_vnode_t *n, const np_record_t *r) {
    bool m;
    switch (n->field) {
    case NP_VF_PROTO: m = in_ranges(n, r->proto); break;
    case NP_VF_SPORT: m = in_ranges(n, r->src_port); break;
    case NP_VF_DPORT: m = in_ranges(n, r->dst_port); break;
    case NP_VF_PORT: m = in_ranges(n, r->src_port) || in_ranges(n, r->dst_port); break;
    case NP_VF_SRC: m = in_cidrs(n, &r->src); break;
    case NP_VF_DST: m = in_cidrs(n, &r->dst); break;
    case NP_VF_BYTES: m = in_ranges(n, r->bytes); break;
    default: m = in_ranges(n, r->packets); break;
    }
    return m != (bool)n->negate;
}

static bool eval(const np_view_t *v, int i, const np_record_t *r) {
    const np_vnode_t *n = &v->node[i];
    switch (n->op) {
    case NP_VN_TERM: return term(n, r);
    case NP_VN_AND: return eval(v, n->a, r) && eval(v, n->b, r);
    case NP_VN_OR: return eval(v, n->a, r) || eval(v, n->b, r);
    default: return !eval(v, n->a, r);
    }
}

bool np_view_match(const np_view_t *v, const np_record_t *r) { return v->nnodes == 0 || eval(v, v->nnodes - 1, r); }

/* ---- group keys -------------------------------------------------------------------- */

static void mask(np_ip_t *ip, int bits) {
    for (int i = bits; i < 128; i++) ip->b[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

static void key_addr(np_ip_t *out, const np_ip_t *ip, int b4, int b6) {
    *out = *ip;
    mask(out, np_ip_is_v4(ip) ? 96 + b4 : b6);
}

void np_view_key(const np_view_t *v, const np_record_t *r, np_gkey_t *k) {
    memset(k, 0, sizeof(*k));
    if (v->group & NP_GK_PROTO) k->proto = r->proto;
    if (v->group & NP_GK_SPORT) k->sport = r->src_port;
    if (v->group & NP_GK_DPORT) k->dport = r->dst_port;
    if (v->group & NP_GK_SRC) key_addr(&k->src, &r->src, v->src_bits4, v->src_bits6);
    if (v->group & NP_GK_DST) key_addr(&k->dst, &r->dst, v->dst_bits4, v->dst_bits6);
}

void np_gkey_encode(const np_gkey_t *k, uint8_t out[NP_GKEY_WIRE]) {
    memcpy(out, k->src.b, 16);
    memcpy(out + 16, k->dst.b, 16);
    out[32] = (uint8_t)(k->sport >> 8), out[33] = (uint8_t)k->sport;
    out[34] = (uint8_t)(k->dport >> 8), out[35] = (uint8_t)k->dport;
    out[36] = k->proto;
}

int np_gkey_decode(const uint8_t *buf, size_t len, np_gkey_t *k) {
    if (len != NP_GKEY_WIRE) return -1;
    memset(k, 0, sizeof(*k));
    memcpy(k->src.b, buf, 16);
    memcpy(k->dst.b, buf + 16, 16);
    k->sport = (uint16_t)(buf[32] << 8 | buf[33]);
    k->dport = (uint16_t)(buf[34] << 8 | buf[35]);
    k->proto = buf[36];
    return 0;
}

static size_t fmt_addr(char *buf, size_t len, const np_ip_t *ip, int b4, int b6) {
    int v4 = np_ip_is_v4(ip), bits = v4 ? b4 : b6;
    if (bits == (v4 ? 32 : 128)) return np_ip_format(ip, buf, len);
    np_cidr_t c = {*ip, v4 ? 96 + bits : bits};
    return np_cidr_format(&c, buf, len);
}

size_t np_view_group_format(const np_view_t *v, const np_gkey_t *k, char *buf, size_t len) {
    size_t n = 0;
#define PUT(...)                                                                                         \
    do {                                                                                                 \
        int w_ = snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, __VA_ARGS__);                \
        if (w_ > 0) n += (size_t)w_;                                                                     \
    } while (0)
    const char *sep = "";
    if (v->group & NP_GK_PROTO) {
        const char *pn = NULL;
        for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
            if (protos[i].num == k->proto) pn = protos[i].name;
        if (pn) PUT("\"proto\":\"%s\"", pn);
        else PUT("\"proto\":%u", k->proto);
        sep = ",";
    }
    if (v->group & NP_GK_SPORT) {
        PUT("%s\"sport\":%u", sep, k->sport);
        sep = ",";
    }
    if (v->group & NP_GK_DPORT) {
        PUT("%s\"dport\":%u", sep, k->dport);
        sep = ",";
    }
    char a[64];
    if (v->group & NP_GK_SRC) {
        fmt_addr(a, sizeof(a), &k->src, v->src_bits4, v->src_bits6);
        PUT("%s\"src\":\"%s\"", sep, a);
        sep = ",";
    }
    if (v->group & NP_GK_DST) {
        fmt_addr(a, sizeof(a), &k->dst, v->dst_bits4, v->dst_bits6);
        PUT("%s\"dst\":\"%s\"", sep, a);
    }
#undef PUT
    if (len) buf[n < len ? n : len - 1] = '\0';
    return n;
}

/* ---- group table ------------------------------------------------------------------- */

struct np_gtab {
    np_gagg_t *slots;
    size_t cap, n, max, cap_max;
    uint64_t evicted;
    np_gagg_t other;
    uint64_t records, bytes, packets;
};

static uint64_t key_hash(const np_gkey_t *k) {
    uint64_t w[5], h = 0x9e3779b97f4a7c15ull;
    memcpy(w, k, sizeof(w));
    for (int i = 0; i < 5; i++) {
        h ^= w[i];
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
    }
    return h;
}

_Static_assert(sizeof(np_gkey_t) == 40, "np_gkey_t is hashed as five words");

static size_t gtab_cap_max(size_t max_groups) {
    size_t cap = 16;
    while (cap < 2 * max_groups) cap *= 2;
    return cap;
}

size_t np_viewaggs_bound_bytes(size_t n, size_t max_groups, bool growing) {
    if (n == 0) return 0;
    size_t slots = gtab_cap_max(max_groups);
    return n * (sizeof(np_viewagg_t) + sizeof(np_gtab_t) + slots * sizeof(np_gagg_t)) +
           (growing ? slots / 2 * sizeof(np_gagg_t) : 0);
}

np_gtab_t *np_gtab_new(size_t max_groups) {
    if (max_groups < 1) return NULL;
    np_gtab_t *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    t->max = max_groups;
    t->cap_max = gtab_cap_max(max_groups);
    t->cap = 16;
    if (!(t->slots = calloc(t->cap, sizeof(*t->slots)))) {
        free(t);
        return NULL;
    }
    return t;
}

void np_gtab_destroy(np_gtab_t **tp) {
    if (!tp || !*tp) return;
    free((*tp)->slots);
    free(*tp);
    *tp = NULL;
}

void np_gtab_clear(np_gtab_t *t) {
    if (t->n) memset(t->slots, 0, t->cap * sizeof(*t->slots));
    t->n = 0;
    t->evicted = 0;
    memset(&t->other, 0, sizeof(t->other));
    t->records = t->bytes = t->packets = 0;
}

static np_gagg_t *probe(np_gagg_t *slots, size_t cap, const np_gkey_t *k) {
    size_t i = (size_t)key_hash(k) & (cap - 1);
    while (slots[i].records && memcmp(&slots[i].key, k, sizeof(*k)) != 0) i = (i + 1) & (cap - 1);
    return &slots[i];
}

static int grow(np_gtab_t *t) {
    size_t nc = t->cap * 2;
    np_gagg_t *ns = calloc(nc, sizeof(*ns));
    if (!ns) return -1;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].records) *probe(ns, nc, &t->slots[i].key) = t->slots[i];
    free(t->slots);
    t->slots = ns;
    t->cap = nc;
    return 0;
}

void np_gtab_add_other(np_gtab_t *t, uint64_t records, uint64_t bytes, uint64_t packets, uint64_t evicted) {
    t->other.records += records;
    t->other.bytes += bytes;
    t->other.packets += packets;
    t->evicted += evicted;
    t->records += records;
    t->bytes += bytes;
    t->packets += packets;
}

int np_gtab_add(np_gtab_t *t, const np_gkey_t *k, uint64_t records, uint64_t bytes, uint64_t packets) {
    np_gagg_t *e = probe(t->slots, t->cap, k);
    if (!e->records) {
        if (t->n >= t->max || ((t->n + 1) * 2 > t->cap && (t->cap >= t->cap_max || grow(t) < 0))) {
            np_gtab_add_other(t, records, bytes, packets, 1);
            return 1;
        }
        e = probe(t->slots, t->cap, k);
        e->key = *k;
        t->n++;
    }
    e->records += records;
    e->bytes += bytes;
    e->packets += packets;
    t->records += records;
    t->bytes += bytes;
    t->packets += packets;
    return 0;
}

size_t np_gtab_count(const np_gtab_t *t) { return t->n; }
size_t np_gtab_memory_bytes(const np_gtab_t *t) { return sizeof(*t) + t->cap * sizeof(np_gagg_t); }
uint64_t np_gtab_evicted(const np_gtab_t *t) { return t->evicted; }
const np_gagg_t *np_gtab_other(const np_gtab_t *t) { return &t->other; }
size_t np_gtab_slots(const np_gtab_t *t) { return t->cap; }
const np_gagg_t *np_gtab_slot(const np_gtab_t *t, size_t i) { return t->slots[i].records ? &t->slots[i] : NULL; }

void np_gtab_totals(const np_gtab_t *t, uint64_t *records, uint64_t *bytes, uint64_t *packets) {
    *records = t->records;
    *bytes = t->bytes;
    *packets = t->packets;
}

static bool before(const np_gagg_t *a, const np_gagg_t *b) {
    if (a->bytes != b->bytes) return a->bytes > b->bytes;
    if (a->records != b->records) return a->records > b->records;
    return memcmp(&a->key, &b->key, sizeof(a->key)) < 0;
}

size_t np_gtab_top(const np_gtab_t *t, np_gagg_t *out, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < t->cap && n; i++) {
        const np_gagg_t *e = &t->slots[i];
        if (!e->records) continue;
        if (k == n && !before(e, &out[n - 1])) continue;
        size_t j = k < n ? k++ : n - 1;
        while (j > 0 && before(e, &out[j - 1])) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = *e;
    }
    return k;
}

/* ---- per-pane view tables ---------------------------------------------------------- */

np_viewagg_t *np_viewaggs_new(const np_viewset_t *vs, size_t max_groups) {
    if (!vs || vs->n == 0) return NULL;
    np_viewagg_t *a = calloc(vs->n, sizeof(*a));
    if (!a) return NULL;
    for (size_t i = 0; i < vs->n; i++) {
        a[i].view = &vs->v[i];
        if (!(a[i].groups = np_gtab_new(max_groups))) {
            np_viewaggs_destroy(&a, vs->n);
            return NULL;
        }
    }
    return a;
}

void np_viewaggs_destroy(np_viewagg_t **ap, size_t n) {
    if (!ap || !*ap) return;
    for (size_t i = 0; i < n; i++) np_gtab_destroy(&(*ap)[i].groups);
    free(*ap);
    *ap = NULL;
}

void np_viewaggs_clear(np_viewagg_t *a, size_t n) {
    for (size_t i = 0; a && i < n; i++) np_gtab_clear(a[i].groups);
}

void np_viewaggs_add(np_viewagg_t *a, const np_viewset_t *vs, const np_record_t *r) {
    for (size_t i = 0; a && i < vs->n; i++) {
        const np_view_t *v = &vs->v[i];
        if (!np_view_match(v, r)) continue;
        np_gkey_t k;
        np_view_key(v, r, &k);
        np_gtab_add(a[i].groups, &k, 1, r->bytes, r->packets);
    }
}
