/*
 * np_view: views that operators define in configuration (the select / filter / groupBy of
 * stream processors, without writing code), and their bounded per-pane group tables.
 *
 * A view is a filter over flow records and a list of group-by keys. Workers aggregate every
 * record that passes a view's filter by its group key in each pane (np_viewagg_t); partials
 * carry the tables to the coordinator, which merges them across partitions, publishes the
 * top groups of each pane window, and runs the volume detectors on each view's totals.
 *
 * Specification (config key `views`), views separated by ';':
 *
 *     NAME ':' [FILTER] ['by' KEY {',' KEY}]
 *
 *   FILTER  terms combined with `and`, `or`, `not` and parentheses (not binds tightest,
 *           then and, then or). A term is FIELD OP VALUES, VALUES comma-separated, no spaces:
 *             proto = tcp,udp,47         names tcp udp icmp icmpv6, or IANA numbers
 *             dport = 80,443,8000-8999   also sport, and port (either side)
 *             src = 10.0.0.0/8,2001:db8::/32    also dst
 *             bytes >= 1000000           also packets; OP is = != < <= > >=
 *           `=` matches any of the values (numbers may be ranges lo-hi); `!=` none of them.
 *           No filter: every record.
 *   KEY     proto, dport, sport, src/N, dst/N (IPv4 prefix N; IPv6 addresses /64),
 *           src/N/M, dst/N/M (IPv6 prefix M), src, dst (whole addresses).
 *           No key: the view has one group, its total.
 *
 * Example: "web: proto=tcp and dport=80,443 by dst/24; dns: proto=udp and port=53 by src/24"
 *
 * I/O-free. A parsed np_viewset_t is immutable and may be shared by threads; the tables
 * have one owner.
 */
#ifndef NP_VIEW_H
#define NP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np_record.h"

#define NP_VIEW_MAX 16          /* views per process */
#define NP_VIEW_NAME_MAX 25     /* name length + 1 (ids stay short); names are [A-Za-z0-9_.-] */
#define NP_VIEW_MAX_NODES 32    /* filter terms and operators per view */
#define NP_VIEW_MAX_VALUES 16   /* values per term */

typedef enum {
    NP_VF_PROTO = 0, NP_VF_SPORT, NP_VF_DPORT, NP_VF_PORT, NP_VF_SRC, NP_VF_DST, NP_VF_BYTES, NP_VF_PACKETS
} np_vfield_t;

typedef enum { NP_VN_TERM = 0, NP_VN_AND, NP_VN_OR, NP_VN_NOT } np_vnop_t;

typedef struct np_vnode {
    uint8_t op;      /* np_vnop_t */
    uint8_t field;   /* np_vfield_t (terms) */
    uint8_t negate;  /* terms: != */
    uint8_t nvals;
    int16_t a, b;    /* operands (node indexes) */
    union {
        struct { uint64_t lo, hi; } range[NP_VIEW_MAX_VALUES];
        np_cidr_t cidr[NP_VIEW_MAX_VALUES];
    } v;
} np_vnode_t;

/* Group-by keys. */
enum { NP_GK_PROTO = 1, NP_GK_SPORT = 2, NP_GK_DPORT = 4, NP_GK_SRC = 8, NP_GK_DST = 16 };

typedef struct np_view {
    char name[NP_VIEW_NAME_MAX];
    np_vnode_t node[NP_VIEW_MAX_NODES];
    int nnodes;      /* 0: no filter; else node[nnodes - 1] is the root */
    unsigned group;  /* NP_GK_* */
    uint8_t src_bits4, src_bits6, dst_bits4, dst_bits6;
} np_view_t;

typedef struct np_viewset {
    np_view_t v[NP_VIEW_MAX];
    size_t n;
} np_viewset_t;

/* Parses spec (NULL or blank: no views). Returns 0, or -1 with the reason in err. */
int np_viewset_parse(np_viewset_t *vs, const char *spec, char *err, size_t errlen);

/* The index of the view named name, or -1. */
int np_viewset_find(const np_viewset_t *vs, const char *name, size_t len);

bool np_view_match(const np_view_t *v, const np_record_t *r);

/* A group: the record's fields that the view groups by, the others zero. */
typedef struct np_gkey {
    np_ip_t src, dst;
    uint16_t sport, dport;
    uint8_t proto;
    uint8_t pad[3];
} np_gkey_t;

#define NP_GKEY_WIRE 37 /* src(16) dst(16) sport(2, big-endian) dport(2) proto(1) */

void np_view_key(const np_view_t *v, const np_record_t *r, np_gkey_t *k);
void np_gkey_encode(const np_gkey_t *k, uint8_t out[NP_GKEY_WIRE]);
int np_gkey_decode(const uint8_t *buf, size_t len, np_gkey_t *k); /* 0 or -1 */

/* Writes the group as JSON object members, only the fields v groups by:
 * "proto":"tcp","dport":443,"dst":"10.1.2.0/24". Returns the length (snprintf-like). */
size_t np_view_group_format(const np_view_t *v, const np_gkey_t *k, char *buf, size_t len);

/* ---- bounded group table ------------------------------------------------------------ */

typedef struct np_gagg {
    np_gkey_t key;
    uint64_t records; /* 0 marks an empty slot */
    uint64_t bytes, packets;
} np_gagg_t;

typedef struct np_gtab np_gtab_t;

/* A table of at most max_groups groups (>= 1); past that, new groups fold into `other`
 * and are counted as evicted. Clearing keeps the memory. NULL on allocation failure. */
np_gtab_t *np_gtab_new(size_t max_groups);
void np_gtab_destroy(np_gtab_t **t);
void np_gtab_clear(np_gtab_t *t);
/* Returns 0, or 1 when the group went to `other`. records >= 1. */
int np_gtab_add(np_gtab_t *t, const np_gkey_t *k, uint64_t records, uint64_t bytes, uint64_t packets);
void np_gtab_add_other(np_gtab_t *t, uint64_t records, uint64_t bytes, uint64_t packets, uint64_t evicted);
size_t np_gtab_count(const np_gtab_t *t);
size_t np_gtab_memory_bytes(const np_gtab_t *t);
uint64_t np_gtab_evicted(const np_gtab_t *t);
const np_gagg_t *np_gtab_other(const np_gtab_t *t);
/* Totals over every group and `other`. */
void np_gtab_totals(const np_gtab_t *t, uint64_t *records, uint64_t *bytes, uint64_t *packets);
size_t np_gtab_slots(const np_gtab_t *t);
const np_gagg_t *np_gtab_slot(const np_gtab_t *t, size_t i); /* NULL: empty slot */
/* The n largest groups by bytes (ties: records, then key), descending, into out. */
size_t np_gtab_top(const np_gtab_t *t, np_gagg_t *out, size_t n);

/* ---- one pane's view tables ---------------------------------------------------------- */

typedef struct np_viewagg {
    const np_view_t *view; /* borrowed from the view set */
    np_gtab_t *groups;
} np_viewagg_t;

/* An array of vs->n tables (NULL when vs has no views or on allocation failure: check
 * vs->n). */
np_viewagg_t *np_viewaggs_new(const np_viewset_t *vs, size_t max_groups);
/* The most n views' tables of max_groups each allocate (full; a table that doubles holds
 * its old slots meanwhile: counted once, with `growing`). For np_budget. */
size_t np_viewaggs_bound_bytes(size_t n, size_t max_groups, bool growing);
void np_viewaggs_destroy(np_viewagg_t **a, size_t n);
void np_viewaggs_clear(np_viewagg_t *a, size_t n);
/* Adds the record to every view whose filter it passes. No allocation once warm. */
void np_viewaggs_add(np_viewagg_t *a, const np_viewset_t *vs, const np_record_t *r);

#endif
