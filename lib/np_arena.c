/* np_arena: a bump allocator reset all at once. See np_arena.h. */
#include "np_arena.h"
#include "np_asan.h"

#include <stdlib.h>

/* Under AddressSanitizer, memory given back is poisoned, so that a use after a rewind or
 * reset is reported as a use after free would be. */
#ifdef NP_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

typedef struct block {
    struct block *next;
    size_t cap, used;
    _Alignas(NP_ARENA_ALIGN) unsigned char data[];
} block_t;

struct np_arena {
    block_t *head, *tail;  /* every block, in the order they were made */
    block_t *cur;          /* the block small requests go to (NULL: none yet) */
    size_t block_bytes;
    size_t total;          /* bytes in use, over every block */
    size_t nblocks;
    size_t max_total;      /* the most in use at a reset: the size of the block a reset keeps */
    uint64_t mallocs;
    ProtobufCAllocator pb;
};

static void *pb_alloc(void *ud, size_t n) { return np_arena_alloc(ud, n); }
static void pb_free(void *ud, void *p) {
    (void)ud; /* given back by the arena's rewind or reset */
    (void)p;
}

np_arena_t *np_arena_new(size_t block_bytes) {
    np_arena_t *a = calloc(1, sizeof(*a));
    if (!a) return NULL;
    a->block_bytes = block_bytes < 4096 ? 4096 : block_bytes;
    a->pb.alloc = pb_alloc;
    a->pb.free = pb_free;
    a->pb.allocator_data = a;
    return a;
}

/* Frees b and every block after it. */
static void free_from(np_arena_t *a, block_t *b) {
    while (b) {
        block_t *next = b->next;
        free(b);
        a->nblocks--;
        b = next;
    }
}

void np_arena_destroy(np_arena_t **ap) {
    if (!ap || !*ap) return;
    free_from(*ap, (*ap)->head);
    free(*ap);
    *ap = NULL;
}

/* A block of cap bytes appended to the list. */
static block_t *block_new(np_arena_t *a, size_t cap) {
    block_t *b = malloc(sizeof(*b) + cap);
    if (!b) return NULL;
    b->next = NULL;
    b->cap = cap;
    b->used = 0;
    POISON(b->data, cap);
    if (a->tail) a->tail->next = b;
    else a->head = b;
    a->tail = b;
    a->nblocks++;
    a->mallocs++;
    return b;
}

void *np_arena_alloc(np_arena_t *a, size_t n) {
    if (n > SIZE_MAX / 2) return NULL;
    if (n == 0) n = 1; /* a valid pointer, as malloc(0) may give */
    n = (n + NP_ARENA_ALIGN - 1) & ~(size_t)(NP_ARENA_ALIGN - 1);
    block_t *b = a->cur;
    if (!b || b->cap - b->used < n) {
        /* A large request gets a block of its own and cur goes on taking small ones, so a
         * block is left unfilled only by less than a small request: 1/8 of a block. */
        bool large = n > a->block_bytes / 8;
        b = block_new(a, large ? n : a->block_bytes);
        if (!b) return NULL;
        if (!large) a->cur = b;
    }
    void *p = b->data + b->used;
    UNPOISON(p, n);
    b->used += n;
    a->total += n;
    return p;
}

np_arena_mark_t np_arena_mark(const np_arena_t *a) {
    np_arena_mark_t m = {a->cur, a->tail, a->cur ? a->cur->used : 0, a->total};
    return m;
}

void np_arena_rewind(np_arena_t *a, np_arena_mark_t m) {
    block_t *tail = m.tail;
    free_from(a, tail ? tail->next : a->head); /* the blocks made since m */
    if (tail) tail->next = NULL;
    else a->head = NULL;
    a->tail = tail;
    a->cur = m.cur;
    if (a->cur) {
        POISON(a->cur->data + m.used, a->cur->cap - m.used);
        a->cur->used = m.used;
    }
    a->total = m.total;
}

void np_arena_reset(np_arena_t *a) {
    /* The most in use *at a reset*: what was kept until the round's end. A message given
     * back by a rewind (decoded, then refused, e.g. a crafted one before the owner
     * check) does not size the block kept for good. */
    if (a->total > a->max_total) a->max_total = a->total;
    if (a->nblocks > 1) {
        /* This round needed more than one block: one block for the most ever in use, so
         * that the next such round allocates nothing. */
        free_from(a, a->head);
        a->head = a->tail = NULL;
        size_t cap = (a->max_total + a->block_bytes - 1) / a->block_bytes * a->block_bytes;
        block_new(a, cap); /* NULL: the next alloc tries again */
    }
    if (a->head) {
        POISON(a->head->data, a->head->cap);
        a->head->used = 0;
    }
    a->cur = a->head;
    a->total = 0;
}

size_t np_arena_used(const np_arena_t *a) { return a->total; }

size_t np_arena_held(const np_arena_t *a) {
    size_t n = sizeof(*a);
    for (const block_t *b = a->head; b; b = b->next) n += sizeof(*b) + b->cap;
    return n;
}

uint64_t np_arena_mallocs(const np_arena_t *a) { return a->mallocs; }

uint64_t np_arena_bound_bytes(size_t block_bytes, uint64_t use_bytes) {
    if (block_bytes < 4096) block_bytes = 4096;
    /* blocks: 8/7 U + one block (np_arena.h); headers: every block is at least 1/8 of a
     * block long, but the last small one */
    uint64_t blocks = 8 * use_bytes / block_bytes + 2;
    return sizeof(np_arena_t) + use_bytes + (use_bytes + 6) / 7 + block_bytes + blocks * sizeof(block_t);
}

ProtobufCAllocator *np_arena_protobuf(np_arena_t *a) { return &a->pb; }
