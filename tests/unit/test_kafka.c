/* Unit tests for np_kafka: consumer lag from watermarks and positions (I/O-free), and the
 * rebalance helper once the consumer's group handle has gone, and a commit bounded in time
 * (a local consumer, no broker). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "np_clock.h"
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

/* A consumer of group "g" subscribed to "t", with no broker to reach (port 1), and
 * session.timeout.ms (librdkafka's, 45 s, when NULL). */
static rd_kafka_t *local_consumer(const char *session_ms) {
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(c, "bootstrap.servers", "127.0.0.1:1", err, sizeof(err)),
                     RD_KAFKA_CONF_OK);
    assert_int_equal(rd_kafka_conf_set(c, "group.id", "g", err, sizeof(err)), RD_KAFKA_CONF_OK);
    assert_int_equal(rd_kafka_conf_set(c, "log_level", "0", err, sizeof(err)), RD_KAFKA_CONF_OK);
    if (session_ms)
        assert_int_equal(rd_kafka_conf_set(c, "session.timeout.ms", session_ms, err, sizeof(err)), RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
    assert_non_null(rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, "t", RD_KAFKA_PARTITION_UA);
    assert_int_equal(rd_kafka_subscribe(rk, sub), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(sub);
    return rk;
}

/* The revocation rd_kafka_consumer_close serves after the broker dropped the member
 * ("Unknown member") meets a terminated group handle: librdkafka then names no protocol
 * (NULL), and a strcmp on it crashed the worker on SIGTERM (0151). The helper must still
 * take the partitions back, in the protocol seen last. */
static void test_rebalance_after_close(void **st) {
    (void)st;
    char err[256];
    for (int coop = 0; coop <= 1; coop++) {
        rd_kafka_t *rk = local_consumer(NULL);
        bool cooperative = coop;
        /* No generation joined yet: "NONE" keeps what the caller knew. */
        const char *proto = rd_kafka_rebalance_protocol(rk);
        assert_non_null(proto);
        assert_string_equal(proto, "NONE");
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(2);
        rd_kafka_topic_partition_list_add(parts, "t", 0);
        rd_kafka_topic_partition_list_add(parts, "t", 1);
        (void)np_kafka_rebalance_apply(rk, parts, true, &cooperative, err, sizeof(err));
        assert_int_equal(cooperative, coop);
        rd_kafka_consumer_close(rk);
        /* The precondition of the crash: a closed consumer names no protocol. */
        assert_null(rd_kafka_rebalance_protocol(rk));
        (void)np_kafka_rebalance_apply(rk, parts, false, &cooperative, err, sizeof(err));
        assert_int_equal(cooperative, coop); /* the last protocol seen still holds */
        rd_kafka_topic_partition_list_destroy(parts);
        rd_kafka_destroy(rk);
    }
}

/* With no group coordinator to answer, a commit gives up after its timeout instead of
 * librdkafka's wait of about session.timeout.ms (3 s here): SIGTERM with Kafka down took
 * the worker past its shutdown bound (0210). */
static void test_commit_bounded_gives_up(void **st) {
    (void)st;
    rd_kafka_t *rk = local_consumer("3000"); /* the destroy below waits out the commit */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, "t", 0)->offset = 42;
    int64_t t0 = np_clock_mono_ms();
    assert_int_equal(np_kafka_commit_bounded(rk, l, 300), RD_KAFKA_RESP_ERR__TIMED_OUT);
    int64_t took = np_clock_mono_ms() - t0;
    assert_true(took >= 300);
    assert_true(took < 2500); /* not librdkafka's 3 s: a generous bound for a loaded machine */
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
}

/* With no broker neither the committed offset nor the log start can be learnt: unknown
 * (-1), which the worker takes as history lost, never as "nothing skipped". */
static void test_resume_skips_history_unknown(void **st) {
    (void)st;
    rd_kafka_t *rk = local_consumer("3000");
    assert_int_equal(np_kafka_resume_skips_history(rk, "t", 0, 200), -1);
    rd_kafka_destroy(rk);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_lag),
                                       cmocka_unit_test(test_rebalance_after_close),
                                       cmocka_unit_test(test_commit_bounded_gives_up),
                                       cmocka_unit_test(test_resume_skips_history_unknown)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
