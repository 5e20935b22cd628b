/*
 * np_record: decoding of one flow record (the value of one Kafka message).
 *
 * I/O-free: bytes in, a flat np_record_t out. No allocation, no globals, no clock
 * (the caller passes the Kafka message timestamp and its own "now"). Safe to call from
 * any thread; fuzzed by tests/fuzz/fuzz_record.c.
 *
 * Accepted formats (detected from the first non-blank byte):
 *  - netpulse JSON:  {"ts":1700000000123,"src_ip":"10.0.0.1","dst_ip":"192.168.1.5",
 *                     "src_port":51234,"dst_port":443,"proto":"tcp","bytes":1500,"packets":3}
 *  - tutorial JSON:  source_ip, destination_ip, protocol, bytes | bytes_sent,
 *                    timestamp (epoch s, epoch ms, fractional s, or ISO-8601 text)
 *  - CSV line:       source_ip,destination_ip,bytes_sent   (event time = Kafka timestamp)
 * IPv4 and IPv6 addresses. Unknown JSON keys are ignored.
 *
 * Not for: choosing panes or partitions (np_pane), or writing records (generator).
 */
#ifndef NP_RECORD_H
#define NP_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np_ip.h" /* np_ip_t, and the address parsing the decoder uses */

/* Protocol numbers as IANA assigns them; anything else is carried as its number. */
enum { NP_PROTO_ICMP = 1, NP_PROTO_TCP = 6, NP_PROTO_UDP = 17, NP_PROTO_ICMPV6 = 58 };

typedef struct np_record {
    int64_t ts_ms;     /* event time, ms since the epoch (UTC) */
    np_ip_t src;
    np_ip_t dst;
    uint16_t src_port; /* 0 when the format has none */
    uint16_t dst_port;
    uint8_t proto;     /* IANA number; 0 = unknown/absent */
    uint64_t bytes;
    uint64_t packets;  /* 1 when the format has none: a flow record stands for >= 1 packet */
} np_record_t;

/* Why a record was rejected. Stable names (np_record_reason_name) are used as the
 * metric label `reason` and in the dead-letter message. */
typedef enum np_record_reason {
    NP_REC_OK = 0,
    NP_REC_EMPTY,          /* zero-length or blank value */
    NP_REC_OVERSIZED,      /* longer than the configured maximum */
    NP_REC_MALFORMED_JSON, /* not a well-formed flat JSON object */
    NP_REC_MALFORMED_CSV,  /* CSV line without exactly 3 fields, or a header line */
    NP_REC_MISSING_FIELD,  /* a required field is absent (source, destination, time) */
    NP_REC_BAD_IP,         /* an address that is not IPv4/IPv6 text */
    NP_REC_BAD_TIMESTAMP,  /* unparseable time */
    NP_REC_OUT_OF_RANGE,   /* number out of its range: port > 65535, negative bytes,
                              time too far in the future, ... */
    NP_REC_BAD_TYPE,       /* a field of the wrong JSON type */
    NP_REC_WATERMARK_JUMP, /* event time too far ahead of the partition's watermark
                              (set by the worker, np_partstate_too_far_ahead) */
    NP_REC__COUNT
} np_record_reason_t;

typedef struct np_record_limits {
    size_t max_bytes;        /* values longer than this are NP_REC_OVERSIZED */
    int64_t max_future_ms;   /* event time more than this ahead of now_ms is out of range */
    uint64_t max_flow_bytes; /* a single record's bytes above this are out of range */
    uint64_t max_flow_packets;
} np_record_limits_t;

/* Defaults: 64 KiB, 1 day, 1 TiB, 2^32 packets. */
void np_record_limits_default(np_record_limits_t *lim);

/*
 * Decode one value.
 *   kafka_ts_ms: the message timestamp (used when the format carries no time; < 0 = none)
 *   now_ms:      the caller's clock, only for the future-time check
 * Returns NP_REC_OK and fills *out, or a reason; on failure a short detail
 * (e.g. "field dst_port: 70000 > 65535") is written to detail (always NUL-terminated).
 */
np_record_reason_t np_record_decode(const char *buf, size_t len, int64_t kafka_ts_ms,
                                    int64_t now_ms, const np_record_limits_t *lim,
                                    np_record_t *out, char *detail, size_t detail_len);

/* np_record_decode without its fast path for the usual netpulse JSON layout: the same
 * results, slower. For tests and fuzzing, which compare the two. */
np_record_reason_t np_record_decode_general(const char *buf, size_t len, int64_t kafka_ts_ms,
                                            int64_t now_ms, const np_record_limits_t *lim,
                                            np_record_t *out, char *detail, size_t detail_len);

/* Stable lower-case name of a reason ("malformed_json", ...). */
const char *np_record_reason_name(np_record_reason_t r);

/* Parse ISO-8601 / RFC 3339 date-time ("2024-01-02T03:04:05.678Z", "+01:00" offsets,
 * a space instead of 'T', no zone = UTC) to ms since the epoch. Returns 0 on success. */
int np_time_parse_iso8601(const char *s, size_t len, int64_t *out_ms);

#endif
