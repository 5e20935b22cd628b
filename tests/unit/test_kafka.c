/* Unit tests for np_kafka's I/O-free part: consumer lag from watermarks and positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "np_kafka.h"

static void test_lag(void **st) {
    (void)st;
    assert_int_equal(np_kafka_lag(-1, 0, 5, 5), -1);       /* high watermark unknown */
    assert_int_equal(np_kafka_lag(100, 0, 40, 10), 60);    /* the consumer's position first */
    assert_int_equal(np_kafka_lag(100, 0, -1001, 70), 30); /* none yet: the resume offset */
    assert_int_equal(np_kafka_lag(100, 20, -1001, -1), 80); /* neither: from the log start */
    assert_int_equal(np_kafka_lag(100, -1, -1001, -1), 100);
    assert_int_equal(np_kafka_lag(100, 0, 100, 100), 0);   /* caught up */
    assert_int_equal(np_kafka_lag(100, 0, 105, -1), 0);    /* stale watermark: never negative */
    assert_int_equal(np_kafka_lag(0, 0, -1001, -1), 0);    /* empty partition */
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_lag)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
