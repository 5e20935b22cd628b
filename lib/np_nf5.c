/*
 * np_nf5: NetFlow v5 decoding (see np_nf5.h). Layout: Cisco's "NetFlow Export Datagram
 * Format", version 5: a 24-byte header and up to 30 records of 48 bytes.
 */
#include "np_nf5.h"

#include <string.h>

#define NF5_HDR 24
#define NF5_REC 48
#define NF5_MAX 30

static void nf5_record(const uint8_t *r, int64_t now_ms, uint32_t uptime, uint32_t sampling, np_flow_t *f)
{
    np_flow_ip4(&f->src, r);
    np_flow_ip4(&f->dst, r + 4);
    f->in_if = (uint32_t)np_flow_be(r + 12, 2);
    f->out_if = (uint32_t)np_flow_be(r + 14, 2);
    f->packets = np_flow_be(r + 16, 4) * sampling;
    f->bytes = np_flow_be(r + 20, 4) * sampling;
    uint32_t last = (uint32_t)np_flow_be(r + 28, 4);
    f->ts_ms = now_ms - (int64_t)(uint32_t)(uptime - last); /* wraps with the uptime */
    f->src_port = (uint16_t)np_flow_be(r + 32, 2);
    f->dst_port = (uint16_t)np_flow_be(r + 34, 2);
    f->proto = r[38];
}

np_fdec_err_t np_nf5_decode(const uint8_t *buf, size_t len, const np_ip_t *exporter, np_flow_cb cb, void *ctx,
                            np_fdec_info_t *info)
{
    memset(info, 0, sizeof *info);
    if (len < NF5_HDR)
        return NP_FDEC_TRUNCATED;
    info->version = (uint16_t)np_flow_be(buf, 2);
    if (info->version != 5)
        return NP_FDEC_VERSION;
    uint32_t count = (uint32_t)np_flow_be(buf + 2, 2);
    if (count == 0 || count > NF5_MAX)
        return NP_FDEC_MALFORMED;
    if (len < NF5_HDR + (size_t)count * NF5_REC)
        return NP_FDEC_TRUNCATED;
    uint32_t uptime = (uint32_t)np_flow_be(buf + 4, 4);
    int64_t now_ms = (int64_t)np_flow_be(buf + 8, 4) * 1000 + (int64_t)np_flow_be(buf + 12, 4) / 1000000;
    info->seq = (uint32_t)np_flow_be(buf + 16, 4);
    info->domain = (uint32_t)np_flow_be(buf + 20, 2); /* engine type and id */
    info->records = count;
    uint32_t sampling = (uint32_t)np_flow_be(buf + 22, 2) & 0x3fff;
    if (sampling == 0)
        sampling = 1;
    np_flow_t f;
    memset(&f, 0, sizeof f);
    f.exporter = *exporter;
    f.sampling = sampling;
    for (uint32_t i = 0; i < count; i++) {
        nf5_record(buf + NF5_HDR + (size_t)i * NF5_REC, now_ms, uptime, sampling, &f);
        cb(ctx, &f);
        info->flows++;
    }
    return NP_FDEC_OK;
}
