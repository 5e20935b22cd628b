/*
 * np_flow: the flow record of the ingest decoders and its netpulse JSON (see np_flow.h).
 */
#include "np_flow.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *np_fdec_err_name(np_fdec_err_t e)
{
    static const char *const names[NP_FDEC__COUNT] = {"ok", "truncated", "version", "malformed"};
    return (unsigned)e < NP_FDEC__COUNT ? names[e] : "unknown";
}

uint64_t np_flow_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

void np_flow_ip4(np_ip_t *ip, const uint8_t *p)
{
    memset(ip->b, 0, 10);
    ip->b[10] = 0xff;
    ip->b[11] = 0xff;
    memcpy(ip->b + 12, p, 4);
}

void np_flow_ip6(np_ip_t *ip, const uint8_t *p) { memcpy(ip->b, p, 16); }

static const char *proto_name(uint8_t p, char *tmp, size_t len)
{
    switch (p) {
    case NP_PROTO_TCP: return "\"tcp\"";
    case NP_PROTO_UDP: return "\"udp\"";
    case NP_PROTO_ICMP: return "\"icmp\"";
    default: snprintf(tmp, len, "%u", p); return tmp;
    }
}

size_t np_flow_format(const np_flow_t *f, char *buf, size_t len)
{
    char src[48], dst[48], exp[48], ptmp[8];
    np_ip_format(&f->src, src, sizeof src);
    np_ip_format(&f->dst, dst, sizeof dst);
    np_ip_format(&f->exporter, exp, sizeof exp);
    int n = snprintf(buf, len,
                     "{\"ts\":%" PRId64 ",\"src_ip\":\"%s\",\"dst_ip\":\"%s\",\"src_port\":%u,\"dst_port\":%u,"
                     "\"proto\":%s,\"bytes\":%" PRIu64 ",\"packets\":%" PRIu64
                     ",\"exporter\":\"%s\",\"in_if\":%" PRIu32 ",\"out_if\":%" PRIu32 ",\"sampling\":%" PRIu32 "}",
                     f->ts_ms, src, dst, f->src_port, f->dst_port, proto_name(f->proto, ptmp, sizeof ptmp),
                     f->bytes, f->packets, exp, f->in_if, f->out_if, f->sampling);
    return n > 0 && (size_t)n < len ? (size_t)n : 0;
}
