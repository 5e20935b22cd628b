/*
 * np_nf9: NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) export datagrams to flows.
 *
 * I/O-free (bytes and the caller's clock in, flows out), fuzzed by tests/fuzz/fuzz_nf9.c.
 * The decoder owns a bounded template cache keyed by (exporter address, version, source
 * id / observation domain, template id):
 *  - templates are learnt from template sets and options template sets, refreshed by every
 *    re-send, withdrawn by IPFIX withdrawals, and expire `template_timeout_ms` after they
 *    were last sent (a data set using an expired or unknown template is a template miss);
 *  - when the cache is full the least recently refreshed template is evicted (counted);
 *  - options data records set the domain's sampling interval (IEs 34, 50, or 305 with 306) and, for
 *    IPFIX, the exporter's systemInitTimeMilliseconds (IE 160) used to place
 *    flowEndSysUpTime in time.
 * Fields: IPv4/IPv6 addresses (8, 12, 27, 28), ports (7, 11; ICMP type and code 32, 139 as
 * the destination port, as NetFlow v5 carries them), protocol (4), octets and
 * packets (1, 2, or 85, 86), interfaces (10, 14), flow end (153, 151, 155, 157, 21), and a
 * per-record sampling interval (34, 50, 305/306); reduced-size encodings and IPFIX
 * variable-length fields are read; enterprise fields are skipped. Without a flow end the
 * export time is the event time. Counters are multiplied by the sampling interval.
 *
 * Not thread-safe: one decoder per receive thread.
 */
#ifndef NP_NF9_H
#define NP_NF9_H

#include "np_flow.h"

typedef struct np_nf9 np_nf9_t;

/* max_templates: cache capacity (templates and per-domain state); template_timeout_ms:
 * how long a template stays usable after it was last sent (0 = forever). */
np_nf9_t *np_nf9_new(size_t max_templates, int64_t template_timeout_ms);
void np_nf9_destroy(np_nf9_t **d);

/* Decodes one datagram (version 9 or 10) received from exporter at now_ms (the collector's
 * clock, for template expiry). Flows go to cb. Returns NP_FDEC_OK when the datagram's
 * framing was sound (template misses are reported in *info, not as errors), or why the
 * rest of the datagram was dropped (flows before the error have been emitted). */
np_fdec_err_t np_nf9_decode(np_nf9_t *d, const uint8_t *buf, size_t len, const np_ip_t *exporter, int64_t now_ms,
                            np_flow_cb cb, void *ctx, np_fdec_info_t *info);

/* Templates currently cached, and how many were evicted because the cache was full. */
size_t np_nf9_templates(const np_nf9_t *d);
uint64_t np_nf9_evictions(const np_nf9_t *d);

#endif
