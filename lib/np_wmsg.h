/*
 * np_wmsg: the coordinator's decoder of worker messages (WorkerMsg with a Partial or
 * Progress body, proto/netpulse.proto), written for this schema instead of protobuf-c's
 * generic, descriptor-driven unpacker (which was ~29 % of the coordinator's CPU at 1,000
 * partitions, bench/README.md). It fills the same generated structs, so everything that
 * reads a decoded message is unchanged, and takes all its memory from an arena (no malloc
 * per message or field; what it returns lives until the arena's rewind or reset).
 *
 * Semantics are protobuf-c 1.4's, checked by a differential fuzzer (tests/fuzz/
 * fuzz_wmsg.c): unknown fields (wire types 0, 1, 2, 5) skipped, groups (3, 4) and wire
 * types 6, 7 refused; packed and unpacked repeated scalars both accepted, in any mix;
 * the last value of a scalar, string or bytes field wins; a singular sub-message given
 * twice is merged as protobuf-c merges it (repeated fields concatenated, bytes kept from
 * the earlier one when the later has none, scalars from the later one); a oneof member
 * replaces the one before it; bools accept any wire type as protobuf-c does; a known field
 * with another wire type, a truncated or over-long varint, a length past the end, a tag
 * of field number 0 in one byte (protobuf-c 1.4's check): refused.
 * Deliberate differences: unknown fields are not kept (n_unknown_fields is 0: nothing in
 * the coordinator re-encodes a received message; the group commit stores the bytes as
 * received), and a length prefix within 5 of 2^32 is refused outright (NP_WMSG_LENGTH):
 * protobuf-c's source adds it to its own size in 32 bits, which can wrap; 1.4.1 refused
 * the cases tried (test_wmsg), and the fuzzer does not give such input to protobuf-c.
 * Merging is protobuf-c's too, including its cost: a singular sub-message repeated k
 * times with repeated fields copies them k times (quadratic arena use in a crafted frame).
 *
 * Bytes fields point into one copy of the frame in the arena (strings are copied with
 * their NUL), not into the input: the coordinator's ZeroMQ frame is closed right after
 * its handler returns, while the group commit keeps the decoded partial until its flush. I/O-free; not thread-safe (one arena
 * per thread).
 */
#ifndef NP_WMSG_H
#define NP_WMSG_H

#include <stddef.h>
#include <stdint.h>

#include "netpulse.pb-c.h"
#include "np_arena.h"

typedef enum np_wmsg_err {
    NP_WMSG_OK = 0,
    NP_WMSG_TRUNCATED, /* a varint or length runs past the end, or a varint past 10 bytes */
    NP_WMSG_TAG,       /* a tag runs past the end or past 5 bytes, or is field 0 in one byte */
    NP_WMSG_WIRE,      /* a wire type protobuf-c does not take, or a known field with the wrong one */
    NP_WMSG_LENGTH,    /* a length prefix near 2^32 (deliberately refused, see above) */
    NP_WMSG_NOMEM,     /* the arena could not grow */
} np_wmsg_err_t;

/* Decodes a WorkerMsg of len bytes into a. NULL when the bytes are not one (or memory is
 * short), with the reason in *why (may be NULL); what a failed decode took from a stays
 * taken until the caller's rewind (np_pbatch_unpack does it). */
Netpulse__WorkerMsg *np_wmsg_decode(np_arena_t *a, const uint8_t *buf, size_t len, np_wmsg_err_t *why);

/* A short name for a reason, for logs and tests. */
const char *np_wmsg_err_str(np_wmsg_err_t e);

#endif
