/*
 * Differential libFuzzer target: the coordinator's WorkerMsg decoder (np_wmsg_decode)
 * against protobuf-c's generic unpacker on the same bytes. Aborts when one accepts what
 * the other refuses, or when they decode different values (compared field by field
 * through the descriptors, so the comparison knows nothing of np_wmsg's code; unknown
 * fields, which np_wmsg drops on purpose, are not compared). The one deliberate
 * difference: np_wmsg refuses a length prefix near 2^32 (NP_WMSG_LENGTH), where
 * protobuf-c's source adds it up in 32 bits, which can wrap; protobuf-c is not run on
 * those. Memory comes from an arena rewound after every input, so under ASan a read of
 * what a failed decode gave back is reported.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netpulse.pb-c.h"
#include "np_arena.h"
#include "np_wmsg.h"

static np_arena_t *A;

static bool msg_eq(const ProtobufCMessage *x, const ProtobufCMessage *y);

static bool value_eq(const ProtobufCFieldDescriptor *fd, const void *x, const void *y) {
    switch (fd->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *a = *(char *const *)x, *b = *(char *const *)y;
        return a && b && strcmp(a, b) == 0;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *a = x, *b = y;
        return a->len == b->len && (!a->len || memcmp(a->data, b->data, a->len) == 0) && !a->data == !b->data;
    }
    case PROTOBUF_C_TYPE_MESSAGE: return msg_eq(*(ProtobufCMessage *const *)x, *(ProtobufCMessage *const *)y);
    case PROTOBUF_C_TYPE_BOOL: return *(const protobuf_c_boolean *)x == *(const protobuf_c_boolean *)y;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_UINT32: return *(const uint32_t *)x == *(const uint32_t *)y;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_UINT64: return *(const uint64_t *)x == *(const uint64_t *)y;
    default: abort(); /* no other type in a WorkerMsg */
    }
}

static size_t elt_size(ProtobufCType t) {
    switch (t) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_UINT64: return 8;
    default: return 4;
    }
}

static bool msg_eq(const ProtobufCMessage *x, const ProtobufCMessage *y) {
    if (!x || !y) return x == y;
    if (x->descriptor != y->descriptor) return false;
    const ProtobufCMessageDescriptor *d = x->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        const char *px = (const char *)x + fd->offset, *py = (const char *)y + fd->offset;
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t cx = *(const uint32_t *)((const char *)x + fd->quantifier_offset);
            uint32_t cy = *(const uint32_t *)((const char *)y + fd->quantifier_offset);
            if (cx != cy) return false;
            if (cx == fd->id && !value_eq(fd, px, py)) return false;
        } else if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t nx = *(const size_t *)((const char *)x + fd->quantifier_offset);
            size_t ny = *(const size_t *)((const char *)y + fd->quantifier_offset);
            if (nx != ny) return false;
            const char *ax = *(char *const *)px, *ay = *(char *const *)py;
            size_t es = elt_size(fd->type);
            for (size_t k = 0; k < nx; k++)
                if (!value_eq(fd, ax + k * es, ay + k * es)) return false;
        } else if (!value_eq(fd, px, py)) {
            return false;
        }
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!A && !(A = np_arena_new(1 << 20))) abort();
    np_arena_mark_t mark = np_arena_mark(A);
    np_wmsg_err_t why;
    Netpulse__WorkerMsg *mine = np_wmsg_decode(A, data, size, &why);
    if (!mine && why == NP_WMSG_OK) abort(); /* a failure says why */
    if (mine && why != NP_WMSG_OK) abort();
    if (!mine && why == NP_WMSG_LENGTH) {
        np_arena_rewind(A, mark);
        return 0;
    }
    Netpulse__WorkerMsg *ref = netpulse__worker_msg__unpack(NULL, size, data);
    if (!mine != !ref) abort(); /* one accepts what the other refuses */
    if (mine && !msg_eq(&mine->base, &ref->base)) abort();
    if (ref) netpulse__worker_msg__free_unpacked(ref, NULL);
    np_arena_rewind(A, mark);
    np_arena_reset(A);
    return 0;
}
