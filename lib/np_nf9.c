/*
 * np_nf9: NetFlow v9 / IPFIX decoding with a bounded template cache (see np_nf9.h).
 */
#include "np_nf9.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define NF9_MAX_FIELDS 96
#define VARLEN 65535
#define NTP_UNIX_OFFSET 2208988800LL

typedef struct nf9_field {
    uint16_t id;
    uint16_t len; /* VARLEN: IPFIX variable length */
    bool enterprise;
} nf9_field_t;

/* Cache key: a template (tid >= 256) or the domain's own state (tid 0). */
typedef struct nf9_key {
    np_ip_t exporter;
    uint32_t domain;
    uint16_t tid;
    uint16_t version;
} nf9_key_t;

enum { SLOT_EMPTY = 0, SLOT_USED, SLOT_DELETED };

typedef struct nf9_slot {
    nf9_key_t key;
    uint8_t state;
    bool options;
    uint16_t nfields;
    uint16_t nscope;
    uint32_t min_len;      /* bytes of a record, variable-length fields counted as 1 */
    int64_t refreshed_ms;
    uint32_t sampling;     /* domain state: sampling interval (0 = none seen) */
    int64_t sysinit_ms;    /* domain state: IPFIX systemInitTimeMilliseconds (0 = none) */
    nf9_field_t f[NF9_MAX_FIELDS];
} nf9_slot_t;

struct np_nf9 {
    nf9_slot_t *slot;
    size_t cap, used, deleted, max;
    int64_t timeout_ms;
    uint64_t evictions;
};

/* A datagram being decoded. */
typedef struct nf9_msg {
    np_nf9_t *d;
    nf9_key_t key;          /* exporter, domain, version; tid varies */
    int64_t now_ms;
    int64_t export_ms;
    uint32_t uptime_ms;     /* v9 only */
    np_flow_cb cb;
    void *ctx;
    np_fdec_info_t *info;
} nf9_msg_t;

/* ---------------------------------------------------------------- the cache */

np_nf9_t *np_nf9_new(size_t max_templates, int64_t template_timeout_ms)
{
    np_nf9_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->max = max_templates ? max_templates : 1;
    d->cap = 16;
    while (d->cap < 2 * d->max)
        d->cap *= 2;
    d->slot = calloc(d->cap, sizeof *d->slot);
    if (!d->slot) {
        free(d);
        return NULL;
    }
    d->timeout_ms = template_timeout_ms;
    return d;
}

void np_nf9_destroy(np_nf9_t **pd)
{
    if (!*pd)
        return;
    free((*pd)->slot);
    free(*pd);
    *pd = NULL;
}

size_t np_nf9_templates(const np_nf9_t *d) { return d->used; }
uint64_t np_nf9_evictions(const np_nf9_t *d) { return d->evictions; }

static uint64_t key_hash(const nf9_key_t *k)
{
    uint64_t h = 1469598103934665603ULL;
    const uint8_t *p = (const uint8_t *)k;
    for (size_t i = 0; i < sizeof *k; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static nf9_slot_t *cache_find(np_nf9_t *d, const nf9_key_t *k)
{
    size_t mask = d->cap - 1;
    for (size_t i = key_hash(k) & mask, n = 0; n < d->cap; i = (i + 1) & mask, n++) {
        nf9_slot_t *s = &d->slot[i];
        if (s->state == SLOT_EMPTY)
            return NULL;
        if (s->state == SLOT_USED && memcmp(&s->key, k, sizeof *k) == 0)
            return s;
    }
    return NULL;
}

static void cache_remove(np_nf9_t *d, nf9_slot_t *s)
{
    s->state = SLOT_DELETED;
    d->used--;
    d->deleted++;
}

/* Evicts the least recently refreshed entry (a full cache is rare: a linear scan). */
static void cache_evict_oldest(np_nf9_t *d)
{
    nf9_slot_t *old = NULL;
    for (size_t i = 0; i < d->cap; i++)
        if (d->slot[i].state == SLOT_USED && (!old || d->slot[i].refreshed_ms < old->refreshed_ms))
            old = &d->slot[i];
    if (old) {
        cache_remove(d, old);
        d->evictions++;
    }
}

/* The entry for k, created (zeroed) if absent. Never NULL. */
static nf9_slot_t *cache_get(np_nf9_t *d, const nf9_key_t *k)
{
    nf9_slot_t *s = cache_find(d, k);
    if (s)
        return s;
    if (d->used >= d->max)
        cache_evict_oldest(d);
    size_t mask = d->cap - 1;
    for (size_t i = key_hash(k) & mask;; i = (i + 1) & mask) {
        s = &d->slot[i];
        if (s->state != SLOT_USED) { /* the key is absent: a tombstone is reused */
            if (s->state == SLOT_DELETED)
                d->deleted--;
            memset(s, 0, offsetof(nf9_slot_t, f));
            s->key = *k;
            s->state = SLOT_USED;
            d->used++;
            return s;
        }
    }
}

/* Tombstones pile up with churn; rebuild when they would slow probing down. */
static void cache_compact(np_nf9_t *d)
{
    if (d->deleted < d->cap / 4)
        return;
    nf9_slot_t *old = d->slot;
    nf9_slot_t *fresh = calloc(d->cap, sizeof *fresh);
    if (!fresh)
        return;
    d->slot = fresh;
    d->used = 0;
    d->deleted = 0;
    for (size_t i = 0; i < d->cap; i++)
        if (old[i].state == SLOT_USED)
            *cache_get(d, &old[i].key) = old[i];
    free(old);
}

/* ---------------------------------------------------------------- templates */

/* Reads one template (or options template) record at p (n bytes left). Returns the bytes
 * it used, or 0 when malformed. */
static size_t parse_template(nf9_msg_t *m, const uint8_t *p, size_t n, bool options)
{
    bool ipfix = m->key.version == 10;
    size_t hdr = options ? 6 : 4;
    if (n < hdr)
        return 0;
    uint16_t tid = (uint16_t)np_flow_be(p, 2);
    uint32_t nfields, nscope;
    if (options && !ipfix) { /* v9: scope and option lengths in bytes */
        nscope = (uint32_t)np_flow_be(p + 2, 2) / 4;
        nfields = nscope + (uint32_t)np_flow_be(p + 4, 2) / 4;
    } else {
        nfields = (uint32_t)np_flow_be(p + 2, 2);
        nscope = options ? (uint32_t)np_flow_be(p + 4, 2) : 0;
        if (ipfix && options && nfields == 0)
            hdr = 4; /* an options template withdrawal has no scope count */
    }
    if (tid < 256 || nscope > nfields)
        return 0;
    m->key.tid = tid;
    if (ipfix && nfields == 0) { /* withdrawal */
        nf9_slot_t *old = cache_find(m->d, &m->key);
        if (old)
            cache_remove(m->d, old);
        return hdr;
    }
    nf9_field_t f[NF9_MAX_FIELDS];
    size_t off = hdr;
    uint32_t min_len = 0;
    for (uint32_t i = 0; i < nfields; i++) {
        if (off + 4 > n)
            return 0;
        uint16_t id = (uint16_t)np_flow_be(p + off, 2), len = (uint16_t)np_flow_be(p + off + 2, 2);
        off += 4;
        bool ent = ipfix && (id & 0x8000);
        if (ent) {
            if (off + 4 > n)
                return 0;
            off += 4;
        }
        if (i < NF9_MAX_FIELDS)
            /* v9 scope fields are scope types, not field types: never applied */
            f[i] = (nf9_field_t){(uint16_t)(id & (ipfix ? 0x7fff : 0xffff)), len, ent || (!ipfix && i < nscope)};
        if (len == VARLEN && !ipfix)
            return 0;
        min_len += len == VARLEN ? 1 : len;
    }
    if (nfields > NF9_MAX_FIELDS || min_len == 0)
        return off; /* well-formed but more fields than we keep: skipped, data sets miss */
    nf9_slot_t *s = cache_get(m->d, &m->key);
    s->options = options;
    s->nfields = (uint16_t)nfields;
    s->nscope = (uint16_t)nscope;
    s->min_len = min_len;
    s->refreshed_ms = m->now_ms;
    memcpy(s->f, f, nfields * sizeof f[0]);
    m->info->templates++;
    return off;
}

static np_fdec_err_t parse_template_set(nf9_msg_t *m, const uint8_t *p, size_t n, bool options)
{
    while (n >= 4) {
        size_t used = parse_template(m, p, n, options);
        if (used == 0)
            return NP_FDEC_MALFORMED;
        p += used;
        n -= used;
    }
    return NP_FDEC_OK;
}

/* ---------------------------------------------------------------- data */

typedef struct nf9_rec {
    np_flow_t f;
    bool has_bytes, has_pkts;
    uint64_t total_bytes, total_pkts;
    int64_t end_ms;     /* absolute flow end, 0 = none */
    int64_t end_uptime; /* flowEndSysUpTime, -1 = none */
    uint32_t sampling;  /* from the record, 0 = none */
    uint32_t pkt_interval, pkt_space; /* PSAMP systematic count-based sampling (305, 306) */
    int64_t sysinit_ms;
} nf9_rec_t;

static int64_t ntp_ms(uint64_t v)
{
    int64_t secs = (int64_t)(v >> 32) - NTP_UNIX_OFFSET;
    return secs * 1000 + (int64_t)(((v & 0xffffffffULL) * 1000) >> 32);
}

static void apply_field(nf9_rec_t *r, const nf9_field_t *fd, const uint8_t *v, size_t len)
{
    if (fd->enterprise)
        return;
    uint64_t u = len >= 1 && len <= 8 ? np_flow_be(v, len) : 0;
    switch (fd->id) {
    case 1: r->f.bytes = u; r->has_bytes = true; break;
    case 2: r->f.packets = u; r->has_pkts = true; break;
    case 85: r->total_bytes = u; break;
    case 86: r->total_pkts = u; break;
    case 4: r->f.proto = (uint8_t)u; break;
    case 7: r->f.src_port = (uint16_t)u; break;
    case 11: r->f.dst_port = (uint16_t)u; break;
    case 32: case 139: r->f.dst_port = (uint16_t)u; break; /* ICMP type*256+code, as v5 has it */
    case 8: if (len == 4) np_flow_ip4(&r->f.src, v); break;
    case 12: if (len == 4) np_flow_ip4(&r->f.dst, v); break;
    case 27: if (len == 16) np_flow_ip6(&r->f.src, v); break;
    case 28: if (len == 16) np_flow_ip6(&r->f.dst, v); break;
    case 10: r->f.in_if = (uint32_t)u; break;
    case 14: r->f.out_if = (uint32_t)u; break;
    case 21: r->end_uptime = (int64_t)(uint32_t)u; break;
    case 151: r->end_ms = (int64_t)u * 1000; break;
    case 153: r->end_ms = (int64_t)u; break;
    case 155: case 157: if (len == 8) r->end_ms = ntp_ms(u); break;
    case 34: case 50: r->sampling = (uint32_t)u; break;
    case 305: r->pkt_interval = (uint32_t)u; break;
    case 306: r->pkt_space = (uint32_t)u; break;
    case 160: /* a plausible epoch time in ms, or ignored */
        if (len == 8 && u < 100000000000000ULL)
            r->sysinit_ms = (int64_t)u;
        break;
    default: break;
    }
}

/* Reads one record of template s at p (n bytes left). Returns bytes used, 0 if it does
 * not fit (the rest of the set is padding or truncated). */
static size_t read_record(const nf9_slot_t *s, const uint8_t *p, size_t n, nf9_rec_t *r)
{
    size_t off = 0;
    for (uint16_t i = 0; i < s->nfields; i++) {
        size_t len = s->f[i].len;
        if (len == VARLEN) {
            if (off + 1 > n)
                return 0;
            len = p[off++];
            if (len == 255) {
                if (off + 2 > n)
                    return 0;
                len = (size_t)np_flow_be(p + off, 2);
                off += 2;
            }
        }
        if (off + len > n)
            return 0;
        apply_field(r, &s->f[i], p + off, len);
        off += len;
    }
    return off;
}

/* The sampling interval a record states: 1 in N (IEs 34, 50), or `interval` packets
 * selected out of every interval + space (IEs 305, 306). 0 = none stated. */
static uint32_t record_sampling(const nf9_rec_t *r)
{
    if (r->sampling)
        return r->sampling;
    if (r->pkt_interval)
        return (uint32_t)(((uint64_t)r->pkt_interval + r->pkt_space) / r->pkt_interval);
    return 0;
}

/* flowEndSysUpTime in IPFIX is relative to systemInitTimeMilliseconds; it is 32 bits and
 * wraps (after 49.7 days, or "before" the init time: softflowd reading a capture). The
 * time meant is the candidate closest to, and not well after, the export time. */
static int64_t ipfix_uptime_ms(int64_t sysinit_ms, int64_t uptime, int64_t export_ms)
{
    const int64_t wrap = 4294967296LL, skew = 60000;
    int64_t t = sysinit_ms + uptime, base = export_ms + skew; /* both < 2^47: no overflow */
    if (t > base)
        t -= ((t - base + wrap - 1) / wrap) * wrap;
    else
        t += ((base - t) / wrap) * wrap;
    return t;
}

static void emit_flow(nf9_msg_t *m, nf9_rec_t *r, const nf9_slot_t *dom)
{
    uint32_t rate = record_sampling(r);
    if (!rate)
        rate = dom && dom->sampling ? dom->sampling : 1;
    if (!r->has_bytes)
        r->f.bytes = r->total_bytes;
    if (!r->has_pkts)
        r->f.packets = r->total_pkts;
    r->f.bytes *= rate;
    r->f.packets *= rate;
    r->f.sampling = rate;
    if (r->end_ms)
        r->f.ts_ms = r->end_ms;
    else if (r->end_uptime >= 0 && m->key.version == 9)
        r->f.ts_ms = m->export_ms - (int64_t)(uint32_t)(m->uptime_ms - (uint32_t)r->end_uptime);
    else if (r->end_uptime >= 0 && dom && dom->sysinit_ms)
        r->f.ts_ms = ipfix_uptime_ms(dom->sysinit_ms, r->end_uptime, m->export_ms);
    else
        r->f.ts_ms = m->export_ms;
    m->cb(m->ctx, &r->f);
    m->info->flows++;
}

/* An options record: the domain's sampling interval and system init time. */
static void apply_options(nf9_msg_t *m, const nf9_rec_t *r)
{
    uint32_t rate = record_sampling(r);
    if (!rate && !r->sysinit_ms)
        return;
    nf9_key_t k = m->key;
    k.tid = 0;
    nf9_slot_t *dom = cache_get(m->d, &k);
    dom->refreshed_ms = m->now_ms;
    if (rate)
        dom->sampling = rate;
    if (r->sysinit_ms)
        dom->sysinit_ms = r->sysinit_ms;
}

static void parse_data_set(nf9_msg_t *m, uint16_t tid, const uint8_t *p, size_t n)
{
    m->key.tid = tid;
    nf9_slot_t *s = cache_find(m->d, &m->key);
    if (s && m->d->timeout_ms > 0 && m->now_ms - s->refreshed_ms > m->d->timeout_ms) {
        cache_remove(m->d, s);
        s = NULL;
    }
    if (!s) {
        m->info->template_misses++;
        return;
    }
    nf9_key_t dk = m->key;
    dk.tid = 0;
    const nf9_slot_t *dom = s->options ? NULL : cache_find(m->d, &dk);
    while (n >= s->min_len) {
        nf9_rec_t r;
        memset(&r, 0, sizeof r);
        r.end_uptime = -1;
        r.f.exporter = m->key.exporter;
        size_t used = read_record(s, p, n, &r);
        if (used == 0)
            break;
        p += used;
        n -= used;
        if (s->options) {
            apply_options(m, &r);
            dom = NULL;
            continue;
        }
        m->info->records++;
        emit_flow(m, &r, dom);
    }
}

/* ---------------------------------------------------------------- datagram */

static np_fdec_err_t parse_header(nf9_msg_t *m, const uint8_t *buf, size_t *len)
{
    np_fdec_info_t *info = m->info;
    if (*len < 16)
        return NP_FDEC_TRUNCATED;
    info->version = (uint16_t)np_flow_be(buf, 2);
    if (info->version == 9) {
        if (*len < 20)
            return NP_FDEC_TRUNCATED;
        m->uptime_ms = (uint32_t)np_flow_be(buf + 4, 4);
        m->export_ms = (int64_t)np_flow_be(buf + 8, 4) * 1000;
        info->seq = (uint32_t)np_flow_be(buf + 12, 4);
        info->domain = (uint32_t)np_flow_be(buf + 16, 4);
    } else if (info->version == 10) {
        size_t mlen = (size_t)np_flow_be(buf + 2, 2);
        if (mlen < 16)
            return NP_FDEC_MALFORMED;
        if (mlen > *len)
            return NP_FDEC_TRUNCATED;
        *len = mlen;
        m->export_ms = (int64_t)np_flow_be(buf + 4, 4) * 1000;
        info->seq = (uint32_t)np_flow_be(buf + 8, 4);
        info->domain = (uint32_t)np_flow_be(buf + 12, 4);
    } else {
        return NP_FDEC_VERSION;
    }
    m->key.version = info->version;
    m->key.domain = info->domain;
    return NP_FDEC_OK;
}

np_fdec_err_t np_nf9_decode(np_nf9_t *d, const uint8_t *buf, size_t len, const np_ip_t *exporter, int64_t now_ms,
                            np_flow_cb cb, void *ctx, np_fdec_info_t *info)
{
    memset(info, 0, sizeof *info);
    nf9_msg_t m = {.d = d, .now_ms = now_ms, .cb = cb, .ctx = ctx, .info = info};
    memset(&m.key, 0, sizeof m.key);
    m.key.exporter = *exporter;
    np_fdec_err_t err = parse_header(&m, buf, &len);
    if (err)
        return err;
    size_t off = info->version == 9 ? 20 : 16;
    bool ipfix = info->version == 10;
    while (off + 4 <= len && err == NP_FDEC_OK) {
        uint16_t id = (uint16_t)np_flow_be(buf + off, 2);
        size_t slen = (size_t)np_flow_be(buf + off + 2, 2);
        if (slen < 4 || off + slen > len)
            return slen < 4 ? NP_FDEC_MALFORMED : NP_FDEC_TRUNCATED;
        const uint8_t *p = buf + off + 4;
        size_t n = slen - 4;
        if (id == (ipfix ? 2 : 0))
            err = parse_template_set(&m, p, n, false);
        else if (id == (ipfix ? 3 : 1))
            err = parse_template_set(&m, p, n, true);
        else if (id >= 256)
            parse_data_set(&m, id, p, n);
        off += slen;
    }
    cache_compact(d);
    return err;
}
