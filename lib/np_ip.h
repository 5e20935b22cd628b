/*
 * np_ip: IP addresses and network prefixes (CIDR), the key type of sources and
 * destinations everywhere in netpulse. IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so one
 * 16-byte key fits both; an IPv4 prefix /n is stored as /96+n over the same space.
 * I/O-free, no allocation, safe from any thread; fuzzed through tests/fuzz/fuzz_record.c
 * (every record's addresses go through np_ip_parse).
 * Not for: record decoding (np_record), which uses it.
 */
#ifndef NP_IP_H
#define NP_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An IP address; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so one key type fits both. */
typedef struct np_ip {
    uint8_t b[16];
} np_ip_t;

/* Parse IPv4/IPv6 text (not NUL-terminated, len bytes). Returns 0 on success. */
int np_ip_parse(const char *s, size_t len, np_ip_t *out);

/* Format to text (IPv4-mapped addresses print as dotted quad). buf >= 46 bytes.
 * Returns the length written. */
size_t np_ip_format(const np_ip_t *ip, char *buf, size_t buflen);

/* 1 if the address is IPv4-mapped. */
int np_ip_is_v4(const np_ip_t *ip);

/* A network prefix over IPv4-mapped 128-bit addresses (IPv4 /n is stored as /96+n). */
typedef struct np_cidr {
    np_ip_t net;
    int bits;
} np_cidr_t;
/* "10.0.0.0/8", "2001:db8::/32", or an address alone (a host prefix); blanks around
 * are ignored, host bits are cleared. Returns 0, or -1 when it is not a prefix. */
int np_cidr_parse(const char *s, size_t len, np_cidr_t *out);
bool np_cidr_contains(const np_cidr_t *c, const np_ip_t *ip);
/* "10.0.0.0/8" (IPv4 prefixes in IPv4 terms). Returns the length snprintf gave. */
size_t np_cidr_format(const np_cidr_t *c, char *buf, size_t len);

#endif
