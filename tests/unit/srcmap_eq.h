/* Two source tables hold the same sources with the same counters and sketch estimates,
 * whatever their layouts, for unit tests that compare a table with its copy, restore or
 * hand-over (one copy instead of one per test). Include after <cmocka.h>. */
#ifndef NP_TEST_SRCMAP_EQ_H
#define NP_TEST_SRCMAP_EQ_H

#include "np_srcmap.h"

static void assert_same_sources(const np_srcmap_t *a, const np_srcmap_t *b) {
    assert_int_equal(np_srcmap_count(a), np_srcmap_count(b));
    for (size_t i = 0; i < np_srcmap_entries(a); i++) {
        const np_srcagg_t *x = np_srcmap_entry(a, i), *y = np_srcmap_get(b, &x->ip);
        assert_non_null(y);
        assert_int_equal(x->records, y->records);
        assert_int_equal(x->bytes, y->bytes);
        assert_int_equal(x->packets, y->packets);
        assert_memory_equal(x->pmix, y->pmix, sizeof(x->pmix));
        assert_int_equal(np_hll_estimate(&x->dst_ips), np_hll_estimate(&y->dst_ips));
        assert_int_equal(np_hll_estimate(&x->dst_ports), np_hll_estimate(&y->dst_ports));
    }
}

#endif
