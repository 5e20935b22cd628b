/*
 * np_arena: a bump allocator for memory that dies all at once, such as the protobuf
 * messages the coordinator decodes during one drain of its socket. protobuf-c's unpack
 * makes one malloc per message, repeated field and bytes field, and free_unpacked as many
 * frees; through np_arena_protobuf() they become pointer bumps and one np_arena_reset.
 *
 * Allocation is stack-like: np_arena_mark() / np_arena_rewind() give back everything
 * allocated since a mark (a decoded message not kept), np_arena_reset() everything.
 * Memory is kept for reuse: after a reset the arena holds one block of at least the most
 * it ever had in use at a reset (what rewinds gave back does not count), so a steady
 * state allocates nothing; it mallocs only when a round
 * needs more than every round before it.
 *
 * Bound (for np_budget): an arena whose use (requests rounded up to NP_ARENA_ALIGN) never
 * exceeds U holds at most 8/7 U + its block size, plus a header per block: requests over
 * 1/8 of a block get a block of their own, so a block is left for a new one only by a
 * request of less than 1/8 of a block that does not fit in it (less than 1/8 unused), and
 * the one block a reset keeps is the largest use rounded up to a block
 * (np_arena_bound_bytes). Not thread-safe: one arena per thread.
 */
#ifndef NP_ARENA_H
#define NP_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Every allocation is aligned to this: protobuf-c's structures hold nothing wider than
 * 8 bytes (pointers, size_t, 64-bit integers, double). */
#define NP_ARENA_ALIGN 8

typedef struct np_arena np_arena_t;

/* Where an arena's allocation stands, for np_arena_rewind. */
typedef struct np_arena_mark {
    void *cur, *tail;  /* the block small requests went to, the last block made */
    size_t used, total;
} np_arena_mark_t;

/* An arena that takes memory in blocks of block_bytes (>= 4096) or more. NULL when out
 * of memory. Nothing is allocated before the first np_arena_alloc. */
np_arena_t *np_arena_new(size_t block_bytes);
void np_arena_destroy(np_arena_t **a);

/* n bytes aligned to NP_ARENA_ALIGN (n 0: as 1), valid until the rewind or reset that
 * passes them. NULL when out of memory. */
void *np_arena_alloc(np_arena_t *a, size_t n);

np_arena_mark_t np_arena_mark(const np_arena_t *a);
/* Gives back everything allocated since m (taken from this arena, after the last reset). */
void np_arena_rewind(np_arena_t *a, np_arena_mark_t m);
/* Gives back everything; keeps one block of at least the most ever in use at a reset. */
void np_arena_reset(np_arena_t *a);

/* The bytes in use (requests rounded to NP_ARENA_ALIGN), and the bytes the arena holds
 * from malloc (its blocks with their headers, and itself). */
size_t np_arena_used(const np_arena_t *a);
size_t np_arena_held(const np_arena_t *a);
/* Blocks malloc'd so far (a steady state adds none). */
uint64_t np_arena_mallocs(const np_arena_t *a);

/* The most an arena of block_bytes holds while in use_bytes are in use (see above). */
uint64_t np_arena_bound_bytes(size_t block_bytes, uint64_t use_bytes);

/* A protobuf-c allocator on a: unpacking allocates from the arena, free_unpacked frees
 * nothing (the arena's reset does). Valid for a's life. */
ProtobufCAllocator *np_arena_protobuf(np_arena_t *a);

#endif
