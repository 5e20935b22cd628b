/*
 * np_pkt: the flow key of one captured packet (Ethernet with VLAN tags, or raw IPv4/IPv6)
 * for sFlow raw packet headers and pcap replay: addresses, protocol, ports (ICMP type and
 * code as netpulse's ports: 0), TCP flags and the IP length.
 *
 * I/O-free, no allocation; reads only the caplen bytes it is given (headers may be cut).
 */
#ifndef NP_PKT_H
#define NP_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "np_record.h"

typedef enum np_pkt_link { NP_PKT_ETHERNET = 1, NP_PKT_IPV4, NP_PKT_IPV6, NP_PKT_IP } np_pkt_link_t;

typedef struct np_pkt {
    np_ip_t src, dst;
    uint16_t src_port, dst_port;
    uint8_t proto;
    uint8_t tcp_flags;
    uint32_t ip_len; /* the IP header's total length (IPv6: payload + 40) */
} np_pkt_t;

#define NP_TCP_FIN 0x01
#define NP_TCP_RST 0x04

/* Parses a packet starting with a header of type link. Returns 0, or -1 when it is not
 * IP or is cut before the addresses (ports are 0 when cut before them). */
int np_pkt_parse(const uint8_t *p, size_t caplen, np_pkt_link_t link, np_pkt_t *out);

#endif
