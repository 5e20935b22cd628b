/*
 * np_sflow: sFlow v5 decoding (see np_sflow.h). XDR: every field a big-endian multiple of
 * 4 bytes, opaque data padded to 4.
 */
#include "np_sflow.h"

#include <string.h>

#include "np_pkt.h"

/* A bounded reader over XDR. */
typedef struct xdr {
    const uint8_t *p;
    size_t n;
    bool bad;
} xdr_t;

static uint32_t x32(xdr_t *x)
{
    if (x->n < 4) {
        x->bad = true;
        x->n = 0;
        return 0;
    }
    uint32_t v = (uint32_t)np_flow_be(x->p, 4);
    x->p += 4;
    x->n -= 4;
    return v;
}

static uint64_t x64(xdr_t *x)
{
    uint64_t hi = x32(x);
    return (hi << 32) | x32(x);
}

/* A sub-reader over the next len bytes (padded to 4), skipped in x. */
static xdr_t xsub(xdr_t *x, size_t len)
{
    xdr_t s = {x->p, len, false};
    size_t padded = (len + 3) & ~(size_t)3;
    if (len > x->n || padded > x->n) {
        x->bad = true;
        s.n = len > x->n ? x->n : len;
        s.bad = true;
        x->n = 0;
        return s;
    }
    x->p += padded;
    x->n -= padded;
    return s;
}

static int read_addr(xdr_t *x, np_ip_t *ip)
{
    uint32_t type = x32(x);
    if (type == 1 && x->n >= 4) {
        np_flow_ip4(ip, x->p);
        xsub(x, 4);
        return 0;
    }
    if (type == 2 && x->n >= 16) {
        np_flow_ip6(ip, x->p);
        xsub(x, 16);
        return 0;
    }
    x->bad = true;
    return -1;
}

int np_sflow_agent(const uint8_t *buf, size_t len, np_ip_t *agent)
{
    xdr_t x = {buf, len, false};
    if (x32(&x) != 5)
        return -1;
    return read_addr(&x, agent);
}

typedef struct sf_ctx {
    np_flow_t f; /* exporter, time filled per datagram */
    np_flow_cb cb;
    np_ifcount_cb ccb;
    void *ctx;
    np_fdec_info_t *info;
} sf_ctx_t;

/* A raw packet header record: one flow if it parses. */
static void raw_header(sf_ctx_t *c, xdr_t *r, uint32_t rate)
{
    uint32_t hproto = x32(r), frame_len = x32(r);
    x32(r); /* stripped */
    uint32_t hlen = x32(r);
    xdr_t h = xsub(r, hlen);
    if (r->bad)
        return;
    np_pkt_link_t link = hproto == 1 ? NP_PKT_ETHERNET : hproto == 11 ? NP_PKT_IPV4 : hproto == 12 ? NP_PKT_IPV6 : 0;
    np_pkt_t pk;
    if (!link || np_pkt_parse(h.p, h.n, link, &pk) < 0)
        return;
    np_flow_t *f = &c->f;
    f->src = pk.src;
    f->dst = pk.dst;
    f->src_port = pk.src_port;
    f->dst_port = pk.dst_port;
    f->proto = pk.proto;
    f->bytes = (uint64_t)frame_len * rate;
    f->packets = rate;
    f->sampling = rate;
    if (c->cb)
        c->cb(c->ctx, f);
    c->info->flows++;
}

static void flow_sample(sf_ctx_t *c, xdr_t *s, bool expanded)
{
    x32(s); /* sequence */
    x32(s); /* source id (type, index) */
    if (expanded)
        x32(s);
    uint32_t rate = x32(s);
    x32(s); /* pool */
    x32(s); /* drops */
    if (expanded)
        x32(s); /* input format */
    c->f.in_if = x32(s);
    if (expanded)
        x32(s); /* output format */
    c->f.out_if = x32(s) & 0x3fffffff; /* top bits: "multiple" / "discarded" flags */
    uint32_t nrec = x32(s);
    if (rate == 0)
        rate = 1;
    c->info->records++;
    for (uint32_t i = 0; i < nrec && !s->bad; i++) {
        uint32_t fmt = x32(s), len = x32(s);
        xdr_t r = xsub(s, len);
        if (!s->bad && fmt == 1)
            raw_header(c, &r, rate);
    }
}

static void if_counters(sf_ctx_t *c, xdr_t *r)
{
    np_ifcount_t k;
    memset(&k, 0, sizeof k);
    k.agent = c->f.exporter;
    k.ifindex = x32(r);
    x32(r); /* type */
    k.speed = x64(r);
    x32(r); /* direction */
    x32(r); /* status */
    k.in_octets = x64(r);
    k.in_pkts = x32(r);
    x32(r), x32(r), x32(r); /* multicast, broadcast, discards */
    k.in_errors = x32(r);
    x32(r); /* unknown protos */
    k.out_octets = x64(r);
    k.out_pkts = x32(r);
    x32(r), x32(r), x32(r);
    k.out_errors = x32(r);
    if (r->bad)
        return;
    c->info->counters++;
    if (c->ccb)
        c->ccb(c->ctx, &k);
}

static void counter_sample(sf_ctx_t *c, xdr_t *s, bool expanded)
{
    x32(s); /* sequence */
    x32(s); /* source id */
    if (expanded)
        x32(s);
    uint32_t nrec = x32(s);
    for (uint32_t i = 0; i < nrec && !s->bad; i++) {
        uint32_t fmt = x32(s), len = x32(s);
        xdr_t r = xsub(s, len);
        if (!s->bad && fmt == 1)
            if_counters(c, &r);
    }
}

np_fdec_err_t np_sflow_decode(const uint8_t *buf, size_t len, int64_t now_ms, np_flow_cb cb, np_ifcount_cb ccb,
                              void *ctx, np_fdec_info_t *info)
{
    memset(info, 0, sizeof *info);
    sf_ctx_t c = {.cb = cb, .ccb = ccb, .ctx = ctx, .info = info};
    memset(&c.f, 0, sizeof c.f);
    c.f.ts_ms = now_ms;
    xdr_t x = {buf, len, false};
    uint32_t version = x32(&x);
    if (x.bad)
        return NP_FDEC_TRUNCATED;
    info->version = (uint16_t)version;
    if (version != 5)
        return NP_FDEC_VERSION;
    if (read_addr(&x, &c.f.exporter) < 0)
        return x.n == 0 ? NP_FDEC_TRUNCATED : NP_FDEC_MALFORMED;
    info->domain = x32(&x);
    info->seq = x32(&x);
    x32(&x); /* uptime */
    uint32_t nsamples = x32(&x);
    if (x.bad)
        return NP_FDEC_TRUNCATED;
    for (uint32_t i = 0; i < nsamples; i++) {
        uint32_t fmt = x32(&x), slen = x32(&x);
        xdr_t s = xsub(&x, slen);
        if (x.bad)
            return NP_FDEC_TRUNCATED;
        if (fmt == 1 || fmt == 3)
            flow_sample(&c, &s, fmt == 3);
        else if (fmt == 2 || fmt == 4)
            counter_sample(&c, &s, fmt == 4);
    }
    return NP_FDEC_OK;
}
