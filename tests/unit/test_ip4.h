/* The IPv4-mapped address of a host-order IPv4 value, for unit tests that build source
 * and destination tables (one copy instead of one per test). */
#ifndef NP_TEST_IP4_H
#define NP_TEST_IP4_H

#include <stdint.h>
#include <string.h>

#include "np_ip.h"

static np_ip_t ip4(uint32_t v) {
    np_ip_t ip;
    memset(&ip, 0, sizeof(ip));
    ip.b[10] = ip.b[11] = 0xff;
    ip.b[12] = (uint8_t)(v >> 24);
    ip.b[13] = (uint8_t)(v >> 16);
    ip.b[14] = (uint8_t)(v >> 8);
    ip.b[15] = (uint8_t)v;
    return ip;
}

#endif
