/*
 * libFuzzer target for np_sflow (sFlow v5 datagrams: flow samples with raw packet headers,
 * counter samples) and np_pkt (the packet header parser, on the raw input under every link
 * type). Aborts, besides crashes and sanitizer reports, when the flows passed to the
 * callback disagree with info.flows, when a flow's packets differ from its sampling rate,
 * or when a parsed packet has ports without a protocol that has them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "np_pkt.h"
#include "np_sflow.h"

static void count(void *ctx, const np_flow_t *f) {
    if (f->sampling == 0 || f->packets != f->sampling) abort();
    (*(uint32_t *)ctx)++;
}

static void ifc(void *ctx, const np_ifcount_t *c) {
    (void)c;
    (*(uint32_t *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    np_fdec_info_t info;
    uint32_t flows = 0, counters = 0;
    np_sflow_decode(copy, size, 1700000000000, count, NULL, &flows, &info);
    if (flows != info.flows) abort();
    np_sflow_decode(copy, size, 0, NULL, ifc, &counters, &info);
    if (counters != info.counters) abort();
    np_ip_t agent;
    np_sflow_agent(copy, size, &agent);
    for (int link = NP_PKT_ETHERNET; link <= NP_PKT_IP; link++) {
        np_pkt_t k;
        if (np_pkt_parse(copy, size, (np_pkt_link_t)link, &k) == 0 && (k.src_port || k.dst_port) &&
            k.proto != 6 && k.proto != 17 && k.proto != 132)
            abort();
    }
    free(copy);
    return 0;
}
