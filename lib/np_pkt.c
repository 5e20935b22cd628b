/*
 * np_pkt: flow keys of captured packets (see np_pkt.h).
 */
#include "np_pkt.h"

#include <stdbool.h>
#include <string.h>

#include "np_flow.h"

static void parse_l4(const uint8_t *p, size_t n, bool first_fragment, np_pkt_t *o)
{
    if (!first_fragment)
        return;
    if ((o->proto == NP_PROTO_TCP || o->proto == NP_PROTO_UDP || o->proto == 132) && n >= 4) {
        o->src_port = (uint16_t)np_flow_be(p, 2);
        o->dst_port = (uint16_t)np_flow_be(p + 2, 2);
        if (o->proto == NP_PROTO_TCP && n >= 14)
            o->tcp_flags = p[13];
    }
}

static int parse_ip4(const uint8_t *p, size_t n, np_pkt_t *o)
{
    if (n < 20 || (p[0] >> 4) != 4)
        return -1;
    size_t ihl = (size_t)(p[0] & 15) * 4;
    if (ihl < 20)
        return -1;
    o->ip_len = (uint32_t)np_flow_be(p + 2, 2);
    o->proto = p[9];
    np_flow_ip4(&o->src, p + 12);
    np_flow_ip4(&o->dst, p + 16);
    bool first = (np_flow_be(p + 6, 2) & 0x1fff) == 0;
    if (n > ihl)
        parse_l4(p + ihl, n - ihl, first, o);
    return 0;
}

static int parse_ip6(const uint8_t *p, size_t n, np_pkt_t *o)
{
    if (n < 40 || (p[0] >> 4) != 6)
        return -1;
    o->ip_len = (uint32_t)np_flow_be(p + 4, 2) + 40;
    np_flow_ip6(&o->src, p + 8);
    np_flow_ip6(&o->dst, p + 24);
    uint8_t nh = p[6];
    size_t off = 40;
    bool first = true;
    /* Extension headers: hop-by-hop, routing, fragment, destination options. */
    for (int i = 0; i < 8 && (nh == 0 || nh == 43 || nh == 44 || nh == 60); i++) {
        if (off + 8 > n) { /* cut inside the extension headers */
            o->proto = nh;
            return 0;
        }
        if (nh == 44) {
            first = (np_flow_be(p + off + 2, 2) & 0xfff8) == 0;
            nh = p[off];
            off += 8;
        } else {
            uint8_t next = p[off];
            off += ((size_t)p[off + 1] + 1) * 8;
            nh = next;
        }
    }
    o->proto = nh;
    if (n > off)
        parse_l4(p + off, n - off, first, o);
    return 0;
}

int np_pkt_parse(const uint8_t *p, size_t n, np_pkt_link_t link, np_pkt_t *o)
{
    memset(o, 0, sizeof *o);
    if (link == NP_PKT_ETHERNET) {
        size_t off = 12;
        uint16_t type = 0;
        for (int tags = 0; tags < 3; tags++) {
            if (off + 2 > n)
                return -1;
            type = (uint16_t)np_flow_be(p + off, 2);
            off += 2;
            if (type != 0x8100 && type != 0x88a8)
                break;
            off += 2;
        }
        if (type == 0x0800)
            return parse_ip4(p + off, n - off, o);
        if (type == 0x86dd)
            return parse_ip6(p + off, n - off, o);
        return -1;
    }
    if (link == NP_PKT_IPV4)
        return parse_ip4(p, n, o);
    if (link == NP_PKT_IPV6)
        return parse_ip6(p, n, o);
    if (n >= 1 && (p[0] >> 4) == 4)
        return parse_ip4(p, n, o);
    return parse_ip6(p, n, o);
}
