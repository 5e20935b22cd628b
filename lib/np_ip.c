/*
 * np_ip: IP addresses and network prefixes (CIDR) as netpulse keys them: one 16-byte type
 * for IPv4 and IPv6 (IPv4 stored IPv4-mapped). Parsing sits on the worker's hot path (every
 * record has two addresses), so IPv4 text is parsed without inet_pton and formatted
 * without sprintf; the results equal glibc's. See np_ip.h.
 */
#include "np_ip.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- addresses */

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Dotted quad exactly as glibc's inet_pton(AF_INET) takes it (four decimal parts <= 255,
 * no leading zeros), without the copy to a NUL-terminated buffer: IPv4 is the common
 * case on the hot path. */
static int parse_v4(const char *s, size_t len, uint8_t out[4])
{
    const char *end = s + len;
    for (int part = 0;; part++) {
        if (s >= end || !is_digit(*s))
            return -1;
        unsigned v = (unsigned)(*s++ - '0');
        if (s < end && is_digit(*s)) {
            if (v == 0)
                return -1;
            v = v * 10 + (unsigned)(*s++ - '0');
            if (s < end && is_digit(*s)) {
                v = v * 10 + (unsigned)(*s++ - '0');
                if (v > 255)
                    return -1;
            }
        }
        out[part] = (uint8_t)v;
        if (part == 3)
            return s == end ? 0 : -1;
        if (s >= end || *s != '.')
            return -1;
        s++;
    }
}

int np_ip_parse(const char *s, size_t len, np_ip_t *out)
{
    char tmp[46]; /* INET6_ADDRSTRLEN: the longest textual IPv6 address + NUL */
    if (len == 0 || len > sizeof tmp - 1)
        return -1;
    uint8_t a4[4];
    if (parse_v4(s, len, a4) == 0) {
        memset(out->b, 0, 10);
        out->b[10] = 0xff;
        out->b[11] = 0xff;
        memcpy(out->b + 12, a4, 4);
        return 0;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    /* inet_pton would stop at an embedded NUL and accept the prefix. */
    if (!memchr(tmp, ':', len) || memchr(tmp, '\0', len))
        return -1;
    struct in6_addr a6;
    if (inet_pton(AF_INET6, tmp, &a6) != 1)
        return -1;
    memcpy(out->b, &a6, 16);
    return 0;
}

int np_ip_is_v4(const np_ip_t *ip)
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(ip->b, prefix, sizeof prefix) == 0;
}

/* Dotted quad without inet_ntop, which goes through sprintf: the worker formats every
 * record's source to compare it with the message key. Same text as inet_ntop. */
static size_t format_v4(const uint8_t a[4], char *buf, size_t buflen)
{
    char tmp[16];
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (v >= 100)
            tmp[n++] = (char)('0' + v / 100);
        if (v >= 10)
            tmp[n++] = (char)('0' + v / 10 % 10);
        tmp[n++] = (char)('0' + v % 10);
        tmp[n++] = '.';
    }
    n--; /* the last dot */
    if (n >= buflen) {
        buf[0] = '\0';
        return 0;
    }
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return n;
}

size_t np_ip_format(const np_ip_t *ip, char *buf, size_t buflen)
{
    if (buflen == 0)
        return 0;
    if (np_ip_is_v4(ip))
        return format_v4(ip->b + 12, buf, buflen);
    socklen_t n = buflen > 64 ? 64 : (socklen_t)buflen;
    const char *r = inet_ntop(AF_INET6, ip->b, buf, n);
    if (!r) {
        buf[0] = '\0';
        return 0;
    }
    return strlen(buf);
}

/* ---- CIDR -------------------------------------------------------------------------- */

int np_cidr_parse(const char *s, size_t len, np_cidr_t *out) {
    char buf[64];
    while (len && (*s == ' ' || *s == '\t')) s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
    if (len == 0 || len >= sizeof(buf)) return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *slash = strchr(buf, '/');
    long bits = -1;
    if (slash) {
        char *end;
        *slash = '\0';
        bits = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || bits < 0) return -1;
    }
    np_cidr_t c;
    if (np_ip_parse(buf, strlen(buf), &c.net) < 0) return -1;
    int v4 = np_ip_is_v4(&c.net);
    if (bits < 0) bits = v4 ? 32 : 128;
    if ((v4 && bits > 32) || bits > 128) return -1;
    c.bits = (int)(v4 ? bits + 96 : bits);
    for (int i = c.bits; i < 128; i++) c.net.b[i / 8] &= (uint8_t) ~(0x80u >> (i % 8)); /* host bits off */
    *out = c;
    return 0;
}

bool np_cidr_contains(const np_cidr_t *c, const np_ip_t *ip) {
    int full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->net.b, ip->b, (size_t)full) != 0) return false;
    if (rest == 0) return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (c->net.b[full] & mask) == (ip->b[full] & mask);
}

size_t np_cidr_format(const np_cidr_t *c, char *buf, size_t len) {
    char ip[64];
    np_ip_format(&c->net, ip, sizeof(ip));
    int v4 = np_ip_is_v4(&c->net) && c->bits >= 96;
    int n = snprintf(buf, len, "%s/%d", ip, v4 ? c->bits - 96 : c->bits);
    return n < 0 ? 0 : (size_t)n;
}
