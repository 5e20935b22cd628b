/* np_wmsg: a WorkerMsg decoder for this schema, protobuf-c's semantics. See np_wmsg.h. */
#include "np_wmsg.h"

#include <stdbool.h>
#include <string.h>

enum { WT_VARINT = 0, WT_64 = 1, WT_LP = 2, WT_32 = 5 };

/* Every field number of the decoded messages is below this (Partial's highest is 29). */
#define MAX_FIELD 32

typedef struct fld {
    uint32_t num;
    unsigned wt;
    const uint8_t *raw; /* the value after the tag, a length prefix included (bools read it) */
    size_t raw_len;
    const uint8_t *data; /* WT_LP: the payload */
    size_t len;
    uint64_t u; /* WT_VARINT: the value, truncated to 64 bits as protobuf-c does */
} fld_t;

typedef struct dec {
    np_arena_t *a;
    np_wmsg_err_t err;
} dec_t;

static bool fail(dec_t *d, np_wmsg_err_t e) {
    if (!d->err) d->err = e;
    return false;
}

/* n elements of size bytes from the arena; NULL for none, or on failure (d->err set). */
static void *alloc_n(dec_t *d, size_t n, size_t size) {
    if (!n) return NULL;
    void *p = n > SIZE_MAX / size ? NULL : np_arena_alloc(d->a, n * size);
    if (!p) fail(d, NP_WMSG_NOMEM);
    return p;
}

/* ---- the wire format ------------------------------------------------------------------ */

/* A varint of at most max bytes (bits past 64 dropped). 0: unterminated. */
static size_t read_varint_max(const uint8_t *p, size_t rem, size_t max, uint64_t *v) {
    uint64_t x = 0;
    if (rem < max) max = rem;
    for (size_t i = 0; i < max; i++) {
        x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

static size_t read_varint(const uint8_t *p, size_t rem, uint64_t *v) {
    return read_varint_max(p, rem, 10, v);
}

/* A field's tag as protobuf-c reads it: at most 5 bytes (so 32 bits of number); a first
 * byte with neither number bits nor a continuation (field 0 in one byte) is refused, a
 * longer encoding of 0 is an unknown field. 0: malformed. */
static size_t read_tag(const uint8_t *p, size_t rem, uint32_t *num, unsigned *wt) {
    uint64_t v = 0;
    size_t n = (p[0] & 0xf8) ? read_varint_max(p, rem, 5, &v) : 0;
    *num = (uint32_t)(v >> 3);
    *wt = (unsigned)(v & 7);
    return n;
}

/* A length prefix: at most 5 bytes, 32 bits kept (protobuf-c's scan_length_prefixed_data). */
static size_t read_len(const uint8_t *p, size_t rem, uint32_t *len) {
    uint64_t v = 0;
    size_t n = read_varint_max(p, rem, 5, &v);
    *len = (uint32_t)v;
    return n;
}

/* The value of a length-delimited field at p (rem bytes left); 0 on failure. */
static size_t read_lp(dec_t *d, const uint8_t *p, size_t rem, fld_t *f) {
    uint32_t v;
    size_t h = read_len(p, rem, &v);
    if (!h) return fail(d, NP_WMSG_TRUNCATED), 0;
    if ((uint64_t)h + v > UINT32_MAX) return fail(d, NP_WMSG_LENGTH), 0;
    if (v > rem - h) return fail(d, NP_WMSG_TRUNCATED), 0;
    f->data = p + h;
    f->len = v;
    return h + v;
}

/* The next field from *pp (before end) into f: 1, 0 at the end, -1 when malformed.
 * Inline, with one-byte tags and varints first: this loop is the decoder's hot path. */
static inline __attribute__((always_inline)) int next(dec_t *d, const uint8_t **pp, const uint8_t *end,
                                                      fld_t *f) {
    const uint8_t *p = *pp;
    if (p == end) return 0;
    size_t rem = (size_t)(end - p), n;
    if (p[0] >= 0x08 && p[0] < 0x80) { /* a one-byte tag of a field number > 0 */
        f->num = p[0] >> 3;
        f->wt = p[0] & 7;
        n = 1;
    } else if (!(n = read_tag(p, rem, &f->num, &f->wt))) {
        return fail(d, NP_WMSG_TAG), -1;
    }
    p += n;
    rem -= n;
    switch (f->wt) {
    case WT_VARINT:
        if (rem && p[0] < 0x80) {
            f->u = p[0];
            n = 1;
        } else if (!(n = read_varint(p, rem, &f->u))) {
            return fail(d, NP_WMSG_TRUNCATED), -1;
        }
        break;
    case WT_64:
    case WT_32:
        n = f->wt == WT_64 ? 8 : 4;
        if (rem < n) return fail(d, NP_WMSG_TRUNCATED), -1;
        break;
    case WT_LP:
        if (!(n = read_lp(d, p, rem, f))) return -1;
        break;
    default: return fail(d, NP_WMSG_WIRE), -1; /* groups (3, 4), 6, 7 */
    }
    f->raw = p;
    f->raw_len = n;
    *pp = p + n;
    return 1;
}

/* ---- field values ----------------------------------------------------------------------- */

static bool is_lp(dec_t *d, const fld_t *f) {
    return f->wt == WT_LP || fail(d, NP_WMSG_WIRE);
}
static bool is_varint(dec_t *d, const fld_t *f) {
    return f->wt == WT_VARINT || fail(d, NP_WMSG_WIRE);
}

/* Integers: a varint's value, 32-bit ones its low 32 bits (as protobuf-c's parse_uint32). */
static bool get_u64(dec_t *d, const fld_t *f, uint64_t *out) {
    return is_varint(d, f) && (*out = f->u, true);
}
static bool get_i64(dec_t *d, const fld_t *f, int64_t *out) {
    return is_varint(d, f) && (*out = (int64_t)f->u, true);
}
static bool get_u32(dec_t *d, const fld_t *f, uint32_t *out) {
    return is_varint(d, f) && (*out = (uint32_t)f->u, true);
}
static bool get_i32(dec_t *d, const fld_t *f, int32_t *out) {
    return is_varint(d, f) && (*out = (int32_t)(uint32_t)f->u, true);
}

/* protobuf-c reads a bool from whatever wire type it came with: true when any byte of the
 * value (a length prefix included) has a payload bit. */
static bool get_bool(const fld_t *f, protobuf_c_boolean *out) {
    *out = 0;
    for (size_t i = 0; i < f->raw_len; i++)
        if (f->raw[i] & 0x7f) *out = 1;
    return true;
}

/* Bytes point into the arena's copy of the frame (np_wmsg_decode decodes from it).
 * Empty bytes decode to {0, NULL}, as protobuf-c's do. */
static bool get_bytes(dec_t *d, const fld_t *f, ProtobufCBinaryData *out) {
    if (!is_lp(d, f)) return false;
    out->data = f->len ? (uint8_t *)f->data : NULL;
    out->len = f->len;
    return true;
}

static bool get_str(dec_t *d, const fld_t *f, char **out) {
    if (!is_lp(d, f)) return false;
    char *s = alloc_n(d, f->len + 1, 1);
    if (!s) return false;
    memcpy(s, f->data, f->len);
    s[f->len] = 0;
    *out = s;
    return true;
}

/* Elements of a repeated field an occurrence f adds: the packed ones (one per byte that
 * ends a varint), else 1. */
static size_t rep_count(const fld_t *f, bool packable) {
    if (!packable || f->wt != WT_LP) return 1;
    size_t n = 0;
    for (size_t i = 0; i < f->len; i++)
        n += !(f->data[i] & 0x80);
    return n;
}

/* Counts every field's elements (cnt[num], num < MAX_FIELD; packable: a bit per field
 * number whose LP occurrences are packed scalars), and checks the message's framing. */
static bool count_fields(dec_t *d, const fld_t *in, size_t cnt[MAX_FIELD], uint32_t packable) {
    const uint8_t *p = in->data, *end = p + in->len;
    fld_t f;
    int r;
    memset(cnt, 0, MAX_FIELD * sizeof(*cnt));
    while ((r = next(d, &p, end, &f)) > 0)
        if (f.num < MAX_FIELD) cnt[f.num] += rep_count(&f, packable >> f.num & 1);
    return r == 0;
}

/* The next value of a packed run from *off: false at its end, or on a cut varint (d->err
 * set). Values are not read into the array: a run without a varint's end has no room. */
static inline __attribute__((always_inline)) bool packed_next(dec_t *d, const fld_t *f, size_t *off,
                                                              uint64_t *v) {
    if (*off >= f->len) return false;
    size_t k = 1;
    *v = f->data[*off];
    if (*v >= 0x80 && !(k = read_varint(f->data + *off, f->len - *off, v))) return fail(d, NP_WMSG_TRUNCATED);
    *off += k;
    return true;
}

/* An occurrence of a repeated varint field: one value, or packed ones. arr holds what
 * count_fields counted: a packed run writes one value per byte that ends a varint. */
static bool rep_u64(dec_t *d, const fld_t *f, uint64_t *arr, size_t *n) {
    if (f->wt == WT_VARINT) {
        arr[(*n)++] = f->u;
        return true;
    }
    uint64_t v;
    for (size_t off = 0; is_lp(d, f) && packed_next(d, f, &off, &v);)
        arr[(*n)++] = v;
    return !d->err;
}

static bool rep_u32(dec_t *d, const fld_t *f, uint32_t *arr, size_t *n) {
    if (f->wt == WT_VARINT) {
        arr[(*n)++] = (uint32_t)f->u;
        return true;
    }
    uint64_t v;
    for (size_t off = 0; is_lp(d, f) && packed_next(d, f, &off, &v);)
        arr[(*n)++] = (uint32_t)v;
    return !d->err;
}

/* Iterates the fields of in (an LP value) into f; r ends 0 at its end, -1 when malformed. */
#define EACH_FIELD(d, in, f, r)                                                                              \
    for (const uint8_t *p_ = (in)->data, *e_ = p_ + (in)->len; ((r) = next((d), &p_, e_, &(f))) > 0;)

/* One message's fields: each decoded into m (unknown ones skipped, returning true). */
typedef bool (*field_fn)(dec_t *d, const fld_t *f, void *m);

/* Each field of in (an LP value) through fn: false when one fails or the framing is bad. */
static bool each_field(dec_t *d, const fld_t *in, field_fn fn, void *m) {
    fld_t f;
    int r;
    EACH_FIELD(d, in, f, r) if (!fn(d, &f, m)) return false;
    return r == 0;
}

/* ---- merging a singular sub-message given twice (protobuf-c's merge_messages) ---------- */

/* The later occurrence's repeated field: the earlier one's elements, then its own. */
static void *concat(dec_t *d, void *e, size_t ne, void *l, size_t *nl, size_t size) {
    if (!ne) return l;
    if (!*nl) {
        *nl = ne;
        return e;
    }
    uint8_t *p = alloc_n(d, ne + *nl, size);
    if (!p) return NULL;
    memcpy(p, e, ne * size);
    memcpy(p + ne * size, l, *nl * size);
    *nl += ne;
    return p;
}

static void merge_bytes(const ProtobufCBinaryData *e, ProtobufCBinaryData *l) {
    if (e->data && !l->data) *l = *e;
}

static bool merge_source(dec_t *d, Netpulse__SourceAgg *e, Netpulse__SourceAgg *l) {
    merge_bytes(&e->ip, &l->ip);
    merge_bytes(&e->dst_ips, &l->dst_ips);
    merge_bytes(&e->dst_ports, &l->dst_ports);
    l->protocol_records = concat(d, e->protocol_records, e->n_protocol_records, l->protocol_records,
                                 &l->n_protocol_records, sizeof(*l->protocol_records));
    return !d->err;
}

static bool merge_group(Netpulse__GroupAgg *e, Netpulse__GroupAgg *l) {
    merge_bytes(&e->key, &l->key);
    return true;
}

static bool merge_class(dec_t *d, Netpulse__ClassAgg *e, Netpulse__ClassAgg *l) {
    merge_bytes(&e->ip, &l->ip);
    l->counts = concat(d, e->counts, e->n_counts, l->counts, &l->n_counts, sizeof(*l->counts));
    l->confidence =
        concat(d, e->confidence, e->n_confidence, l->confidence, &l->n_confidence, sizeof(*l->confidence));
    return !d->err;
}

/* A singular ClassAgg field: the later one, the earlier merged into it. */
static bool merge_class_field(dec_t *d, Netpulse__ClassAgg *e, Netpulse__ClassAgg **l) {
    if (!e) return true;
    if (!*l) {
        *l = e;
        return true;
    }
    return merge_class(d, e, *l);
}

static bool merge_table(dec_t *d, Netpulse__ClassTable *e, Netpulse__ClassTable *l) {
    if (!merge_class_field(d, e->total, &l->total) || !merge_class_field(d, e->other, &l->other))
        return false;
    l->dests = concat(d, e->dests, e->n_dests, l->dests, &l->n_dests, sizeof(*l->dests));
    return !d->err;
}

/* ---- the messages ----------------------------------------------------------------------- */

/* One pass over a SourceAgg: 1, 0 on failure, -1 when protocol_records comes more than
 * once and cnt (count_fields') is NULL: its array was sized by its first occurrence. */
static int source_pass(dec_t *d, const fld_t *in, Netpulse__SourceAgg *m, const size_t *cnt) {
    *m = (Netpulse__SourceAgg)NETPULSE__SOURCE_AGG__INIT;
    if (cnt && !(m->protocol_records = alloc_n(d, cnt[5], sizeof(*m->protocol_records))) && cnt[5]) return 0;
    bool seen = false;
    fld_t f;
    int r;
    EACH_FIELD(d, in, f, r) {
        bool ok = true;
        switch (f.num) {
        case 1: ok = get_bytes(d, &f, &m->ip); break;
        case 2: ok = get_u64(d, &f, &m->records); break;
        case 3: ok = get_u64(d, &f, &m->bytes); break;
        case 4: ok = get_u64(d, &f, &m->packets); break;
        case 5:
            if (!cnt) {
                size_t k = rep_count(&f, true);
                if (seen) return -1;
                seen = true;
                if (!(m->protocol_records = alloc_n(d, k, sizeof(*m->protocol_records))) && k) return 0;
            }
            ok = rep_u32(d, &f, m->protocol_records, &m->n_protocol_records);
            break;
        case 6: ok = get_bytes(d, &f, &m->dst_ips); break;
        case 7: ok = get_bytes(d, &f, &m->dst_ports); break;
        }
        if (!ok) return 0;
    }
    return r == 0;
}

/* A SourceAgg in one pass as workers send it (protocol_records packed once); with a
 * counting pass first when a peer sends it otherwise (what the first pass took is given
 * back). */
static bool source_agg(dec_t *d, const fld_t *in, Netpulse__SourceAgg *m) {
    if (!is_lp(d, in)) return false;
    np_arena_mark_t mark = np_arena_mark(d->a);
    int r = source_pass(d, in, m, NULL);
    if (r >= 0) return r;
    size_t cnt[MAX_FIELD];
    np_arena_rewind(d->a, mark);
    return count_fields(d, in, cnt, 1u << 5) && source_pass(d, in, m, cnt) == 1;
}

/* A SourceAgg appended to a repeated field (arr holds what count_fields counted). */
static bool add_source(dec_t *d, const fld_t *f, Netpulse__SourceAgg **arr, size_t *n) {
    Netpulse__SourceAgg *s = alloc_n(d, 1, sizeof(*s));
    if (!s || !source_agg(d, f, s)) return false;
    arr[(*n)++] = s;
    return true;
}

/* A singular SourceAgg field: a later occurrence has the earlier merged into it. */
static bool one_source(dec_t *d, const fld_t *f, Netpulse__SourceAgg **slot) {
    Netpulse__SourceAgg *s = alloc_n(d, 1, sizeof(*s));
    if (!s || !source_agg(d, f, s) || (*slot && !merge_source(d, *slot, s))) return false;
    *slot = s;
    return true;
}

static bool group_field(dec_t *d, const fld_t *f, void *mv) {
    Netpulse__GroupAgg *m = mv;
    switch (f->num) {
    case 1: return get_bytes(d, f, &m->key);
    case 2: return get_u64(d, f, &m->records);
    case 3: return get_u64(d, f, &m->bytes);
    case 4: return get_u64(d, f, &m->packets);
    default: return true;
    }
}

static bool group_agg(dec_t *d, const fld_t *in, Netpulse__GroupAgg *m) {
    *m = (Netpulse__GroupAgg)NETPULSE__GROUP_AGG__INIT;
    return is_lp(d, in) && each_field(d, in, group_field, m);
}

static bool view_group(dec_t *d, const fld_t *f, Netpulse__ViewAgg *v, bool other) {
    Netpulse__GroupAgg *g = alloc_n(d, 1, sizeof(*g));
    if (!g || !group_agg(d, f, g)) return false;
    if (!other) {
        v->groups[v->n_groups++] = g;
        return true;
    }
    if (v->other) merge_group(v->other, g);
    v->other = g;
    return true;
}

static bool view_field(dec_t *d, const fld_t *f, void *mv) {
    Netpulse__ViewAgg *m = mv;
    switch (f->num) {
    case 1: return get_str(d, f, &m->name);
    case 2: return view_group(d, f, m, false);
    case 3: return get_u64(d, f, &m->groups_evicted);
    case 4: return view_group(d, f, m, true);
    default: return true;
    }
}

/* Room for a repeated message field of cnt elements (NULL for none; false: no memory). */
#define ROOM(d, arr, cnt) (((arr) = alloc_n((d), (cnt), sizeof(*(arr)))) || !(cnt))

static bool view_agg(dec_t *d, const fld_t *in, Netpulse__ViewAgg *m) {
    size_t cnt[MAX_FIELD];
    *m = (Netpulse__ViewAgg)NETPULSE__VIEW_AGG__INIT;
    return is_lp(d, in) && count_fields(d, in, cnt, 0) && ROOM(d, m->groups, cnt[2]) &&
           each_field(d, in, view_field, m);
}

static bool class_field(dec_t *d, const fld_t *f, void *mv) {
    Netpulse__ClassAgg *m = mv;
    switch (f->num) {
    case 1: return get_bytes(d, f, &m->ip);
    case 2: return rep_u64(d, f, m->counts, &m->n_counts);
    case 3: return rep_u64(d, f, m->confidence, &m->n_confidence);
    default: return true;
    }
}

static bool class_agg(dec_t *d, const fld_t *in, Netpulse__ClassAgg *m) {
    size_t cnt[MAX_FIELD];
    *m = (Netpulse__ClassAgg)NETPULSE__CLASS_AGG__INIT;
    return is_lp(d, in) && count_fields(d, in, cnt, 1u << 2 | 1u << 3) && ROOM(d, m->counts, cnt[2]) &&
           ROOM(d, m->confidence, cnt[3]) && each_field(d, in, class_field, m);
}

/* A ClassAgg of a table: appended (slot NULL) or a singular field (merged). */
static bool table_class(dec_t *d, const fld_t *f, Netpulse__ClassTable *t, Netpulse__ClassAgg **slot) {
    Netpulse__ClassAgg *c = alloc_n(d, 1, sizeof(*c));
    if (!c || !class_agg(d, f, c)) return false;
    if (!slot) {
        t->dests[t->n_dests++] = c;
        return true;
    }
    if (*slot && !merge_class(d, *slot, c)) return false;
    *slot = c;
    return true;
}

static bool table_field(dec_t *d, const fld_t *f, void *mv) {
    Netpulse__ClassTable *m = mv;
    switch (f->num) {
    case 1: return table_class(d, f, m, &m->total);
    case 2: return table_class(d, f, m, NULL);
    case 3: return get_u64(d, f, &m->dests_evicted);
    case 4: return table_class(d, f, m, &m->other);
    default: return true;
    }
}

static bool class_table(dec_t *d, const fld_t *in, Netpulse__ClassTable *m) {
    size_t cnt[MAX_FIELD];
    *m = (Netpulse__ClassTable)NETPULSE__CLASS_TABLE__INIT;
    return is_lp(d, in) && count_fields(d, in, cnt, 0) && ROOM(d, m->dests, cnt[2]) &&
           each_field(d, in, table_field, m);
}

static bool one_table(dec_t *d, const fld_t *f, Netpulse__ClassTable **slot) {
    Netpulse__ClassTable *t = alloc_n(d, 1, sizeof(*t));
    if (!t || !class_table(d, f, t) || (*slot && !merge_table(d, *slot, t))) return false;
    *slot = t;
    return true;
}

static bool add_view(dec_t *d, const fld_t *f, Netpulse__Partial *m) {
    Netpulse__ViewAgg *v = alloc_n(d, 1, sizeof(*v));
    if (!v || !view_agg(d, f, v)) return false;
    m->views[m->n_views++] = v;
    return true;
}

static bool partial_field(dec_t *d, const fld_t *f, void *mv) {
    Netpulse__Partial *m = mv;
    switch (f->num) {
    case 1: return get_i32(d, f, &m->partition);
    case 2: return get_i64(d, f, &m->pane_start_ms);
    case 3: return get_i64(d, f, &m->pane_ms);
    case 4: return get_u64(d, f, &m->records);
    case 5: return get_u64(d, f, &m->bytes);
    case 6: return get_u64(d, f, &m->packets);
    case 7: return get_u64(d, f, &m->late_records);
    case 8: return add_source(d, f, m->sources, &m->n_sources);
    case 9: return get_u64(d, f, &m->sources_evicted);
    case 10: return one_source(d, f, &m->other);
    case 11: return get_u32(d, f, &m->partitions);
    case 12: return get_bytes(d, f, &m->seen);
    case 13: return rep_u64(d, f, m->protocol_records, &m->n_protocol_records);
    case 14: return add_source(d, f, m->dests, &m->n_dests);
    case 15: return get_u64(d, f, &m->dests_evicted);
    case 16: return one_source(d, f, &m->dest_other);
    case 17: return add_view(d, f, m);
    case 18: return rep_u32(d, f, m->dst_port_hist, &m->n_dst_port_hist);
    case 19: return one_table(d, f, &m->classes);
    case 21: return get_u64(d, f, &m->sources_total);
    case 22: return get_bool(f, &m->sources_bounded);
    case 23: return get_u64(d, f, &m->candidates_dropped);
    case 24: return get_i64(d, f, &m->window_ms);
    case 25: return get_u64(d, f, &m->window_sources);
    case 26: return add_source(d, f, m->window_top, &m->n_window_top);
    case 27: return get_bool(f, &m->window_only);
    case 28: return get_u32(d, f, &m->pair);
    case 29: return get_bytes(d, f, &m->fanin);
    case 30: return get_i64(d, f, &m->close_offset);
    case 31: return get_i64(d, f, &m->records_end_offset);
    default: return true; /* unknown: skipped */
    }
}

static bool partial(dec_t *d, const fld_t *in, Netpulse__Partial *m) {
    size_t c[MAX_FIELD];
    *m = (Netpulse__Partial)NETPULSE__PARTIAL__INIT;
    return is_lp(d, in) && count_fields(d, in, c, 1u << 13 | 1u << 18) && ROOM(d, m->sources, c[8]) &&
           ROOM(d, m->protocol_records, c[13]) && ROOM(d, m->dests, c[14]) && ROOM(d, m->views, c[17]) &&
           ROOM(d, m->dst_port_hist, c[18]) && ROOM(d, m->window_top, c[26]) &&
           each_field(d, in, partial_field, m);
}

static bool pprogress_field(dec_t *d, const fld_t *f, void *mv) {
    Netpulse__PartitionProgress *m = mv;
    switch (f->num) {
    case 1: return get_i32(d, f, &m->partition);
    case 2: return get_i64(d, f, &m->closed_through_ms);
    case 3: return get_i64(d, f, &m->watermark_ms);
    case 4: return get_bool(f, &m->idle);
    case 5: return get_bool(f, &m->has_data);
    case 6: return get_i64(d, f, &m->epoch);
    case 7: return get_str(d, f, &m->topic);
    case 8: return get_i32(d, f, &m->topic_partition);
    default: return true;
    }
}

static bool partition_progress(dec_t *d, const fld_t *in, Netpulse__PartitionProgress *m) {
    *m = (Netpulse__PartitionProgress)NETPULSE__PARTITION_PROGRESS__INIT;
    return is_lp(d, in) && each_field(d, in, pprogress_field, m);
}

static bool add_progress(dec_t *d, const fld_t *f, Netpulse__Progress *m) {
    Netpulse__PartitionProgress *pp = alloc_n(d, 1, sizeof(*pp));
    if (!pp || !partition_progress(d, f, pp)) return false;
    m->partitions[m->n_partitions++] = pp;
    return true;
}

static bool progress_field(dec_t *d, const fld_t *f, void *mv) {
    Netpulse__Progress *m = mv;
    switch (f->num) {
    case 1: return add_progress(d, f, m);
    case 2: return get_i32(d, f, &m->partitions_total);
    default: return true;
    }
}

static bool progress(dec_t *d, const fld_t *in, Netpulse__Progress *m) {
    size_t cnt[MAX_FIELD];
    *m = (Netpulse__Progress)NETPULSE__PROGRESS__INIT;
    return is_lp(d, in) && count_fields(d, in, cnt, 0) && ROOM(d, m->partitions, cnt[1]) &&
           each_field(d, in, progress_field, m);
}

/* The oneof body: a member replaces the one before it whole (protobuf-c merges nothing). */
static bool body(dec_t *d, const fld_t *f, Netpulse__WorkerMsg *m) {
    if (f->num == NETPULSE__WORKER_MSG__BODY_PARTIAL) {
        Netpulse__Partial *p = alloc_n(d, 1, sizeof(*p));
        if (!p || !partial(d, f, p)) return false;
        m->partial = p;
    } else {
        Netpulse__Progress *p = alloc_n(d, 1, sizeof(*p));
        if (!p || !progress(d, f, p)) return false;
        m->progress = p;
    }
    m->body_case = (Netpulse__WorkerMsg__BodyCase)f->num;
    return true;
}

static bool worker_field(dec_t *d, const fld_t *f, void *mv) {
    Netpulse__WorkerMsg *m = mv;
    switch (f->num) {
    case 1: return get_u32(d, f, &m->version);
    case 2: return get_str(d, f, &m->worker_id);
    case 3: return get_str(d, f, &m->session);
    case 10:
    case 11: return body(d, f, m);
    default: return true;
    }
}

Netpulse__WorkerMsg *np_wmsg_decode(np_arena_t *a, const uint8_t *buf, size_t len, np_wmsg_err_t *why) {
    dec_t d = {.a = a, .err = NP_WMSG_OK};
    Netpulse__WorkerMsg *m = alloc_n(&d, 1, sizeof(*m));
    uint8_t *copy = alloc_n(&d, len, 1);
    static const uint8_t empty[1];
    fld_t in = {.wt = WT_LP, .data = len ? copy : empty, .len = len}; /* no arithmetic on NULL */
    bool ok = m && (copy || !len);
    if (ok) {
        if (len) memcpy(copy, buf, len);
        *m = (Netpulse__WorkerMsg)NETPULSE__WORKER_MSG__INIT;
        ok = each_field(&d, &in, worker_field, m);
    }
    if (why) *why = d.err;
    return ok ? m : NULL;
}

const char *np_wmsg_err_str(np_wmsg_err_t e) {
    switch (e) {
    case NP_WMSG_OK: return "ok";
    case NP_WMSG_TRUNCATED: return "truncated";
    case NP_WMSG_TAG: return "tag";
    case NP_WMSG_WIRE: return "wire type";
    case NP_WMSG_LENGTH: return "length";
    case NP_WMSG_NOMEM: return "out of memory";
    }
    return "?";
}
