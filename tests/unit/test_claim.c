/* Unit tests for np_claim against a real redis-server (redis_server.h; skipped when there
 * is none): a zombie's claim between our claim and the end of our restore no longer
 * costs us the partition: we claim once more, above the zombie's epoch, restore again
 * (reading what the zombie wrote meanwhile), own the partition in Redis, and the zombie's
 * later checkpoint writes are fenced. A second overtaking claim is yielded to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_claim.h"
#include "np_store.h"
#include "redis_server.h"

static redis_server_t R;
static np_store_t *st;

/* One partition's keys (under their own names per test) and the test's restore: it reads
 * the checkpoint under `ckpt`, and while `zombie_claims` lasts a zombie claims the
 * partition (and writes its own checkpoint) before the read, as a worker running a late
 * assignment would. */
typedef struct fixture {
    char ek[64], ok[64], ckpt[64];
    int zombie_claims; /* how many restores a zombie overtakes */
    int restore_rc;    /* what restore says */
    int own_fence;     /* restore says NP_CLAIM_FENCED when overtaken (its fenced quarantine) */
    int restores, discards;
    int64_t zombie_epoch;
    char state[64]; /* what the last restore read; "" none */
} fixture_t;

static void keys(fixture_t *f, const char *name) {
    memset(f, 0, sizeof(*f));
    snprintf(f->ek, sizeof(f->ek), "t:epoch:{%s}", name);
    snprintf(f->ok, sizeof(f->ok), "t:owner:{%s}", name);
    snprintf(f->ckpt, sizeof(f->ckpt), "t:ckpt:{%s}", name);
}

static int zombie_write(fixture_t *f, const char *val) {
    char err[256];
    return np_store_fenced_set(st, f->ek, f->ckpt, f->zombie_epoch, (const uint8_t *)val, strlen(val), err,
                               sizeof(err));
}

static int restore(void *ctx, int64_t epoch) {
    fixture_t *f = ctx;
    char err[256];
    (void)epoch;
    f->restores++;
    bool overtaken = f->zombie_claims > 0;
    if (overtaken) {
        f->zombie_claims--;
        assert_int_equal(np_store_claim(st, f->ek, f->ok, "zombie", 0, &f->zombie_epoch, err, sizeof(err)),
                         0);
        assert_int_equal(zombie_write(f, "zombie-state"), 0); /* it holds the newest epoch now */
    }
    uint8_t *v = NULL;
    size_t len = 0;
    int rc = np_store_get(st, f->ckpt, &v, &len, err, sizeof(err));
    assert_true(rc >= 0);
    snprintf(f->state, sizeof(f->state), "%.*s", (int)len, v ? (const char *)v : "");
    free(v);
    return overtaken && f->own_fence ? NP_CLAIM_FENCED : f->restore_rc;
}

static void discard(void *ctx) {
    fixture_t *f = ctx;
    f->discards++;
    f->state[0] = '\0';
}

static int take(fixture_t *f, int64_t *epoch, int *overtaken) {
    char err[256];
    np_claim_keys_t k = {.epoch_key = f->ek, .owner_key = f->ok, .session = "us", .slot = 0};
    np_claim_ops_t ops = {.restore = restore, .discard = discard, .ctx = f};
    return np_claim_take(st, &k, &ops, epoch, overtaken, err, sizeof(err));
}

/* Takes the partition and checks what came of it: the result, the epoch held (when
 * taken), and how many restores, discards and overtaken attempts it took. */
static void expect_take(fixture_t *f, int rc, int64_t epoch, int restores, int discards, int overtaken) {
    int64_t e = 0;
    int o = -1;
    assert_int_equal(take(f, &e, &o), rc);
    if (rc == NP_CLAIM_OK) assert_int_equal(e, epoch);
    assert_int_equal(f->restores, restores);
    assert_int_equal(f->discards, discards);
    assert_int_equal(o, overtaken);
}

static void expect_owner(const fixture_t *f, const char *val) {
    uint8_t *v = NULL;
    size_t len = 0;
    char err[256];
    assert_int_equal(np_store_get(st, f->ok, &v, &len, err, sizeof(err)), 0);
    assert_int_equal(len, strlen(val));
    assert_memory_equal(v, val, len);
    free(v);
}

static void test_unopposed(void **s) {
    (void)s;
    fixture_t f;
    keys(&f, "unopposed");
    expect_take(&f, NP_CLAIM_OK, 1, 1, 0, 0);
    expect_owner(&f, "1 us 0");
}

/* L1 (review 2026-12-03): before, the zombie's claim made us drop the partition. */
static void test_zombie_between_claim_and_restore(void **s) {
    (void)s;
    fixture_t f;
    keys(&f, "zombie");
    f.zombie_claims = 1;
    expect_take(&f, NP_CLAIM_OK, 3, 2, 1, 1); /* epoch 3: above the zombie's */
    assert_int_equal(f.zombie_epoch, 2);
    assert_string_equal(f.state, "zombie-state"); /* restored again: what it wrote is read */
    expect_owner(&f, "3 us 0");
    /* The zombie's later checkpoint is fenced; ours is not. */
    assert_int_equal(zombie_write(&f, "zombie-later"), 1);
    char err[256];
    assert_int_equal(np_store_fenced_set(st, f.ek, f.ckpt, 3, (const uint8_t *)"ours", 4, err, sizeof(err)),
                     0);
}

/* The restore's own fence (a quarantine moved nothing: another claim came) is retried too. */
static void test_restore_fenced_retried(void **s) {
    (void)s;
    fixture_t f;
    keys(&f, "restorefenced");
    f.zombie_claims = 1;
    f.own_fence = 1;
    expect_take(&f, NP_CLAIM_OK, 3, 2, 0, 1); /* no discard: a fenced restore kept nothing */
    expect_owner(&f, "3 us 0");
}

/* Overtaken on every attempt: at most NP_CLAIM_ATTEMPTS claims, then the partition is the
 * other claimant's, and nothing restored is kept. */
static void test_overtaken_again_yields(void **s) {
    (void)s;
    fixture_t f;
    keys(&f, "contested");
    f.zombie_claims = 100;
    expect_take(&f, NP_CLAIM_FENCED, 0, NP_CLAIM_ATTEMPTS, NP_CLAIM_ATTEMPTS, NP_CLAIM_ATTEMPTS);
    assert_int_equal(f.zombie_epoch, 2 * NP_CLAIM_ATTEMPTS);
    char buf[64];
    snprintf(buf, sizeof(buf), "%lld zombie 0", (long long)f.zombie_epoch);
    expect_owner(&f, buf);
    assert_int_equal(zombie_write(&f, "theirs"), 0); /* the last claimant's writes stand */
}

static void test_restore_failed(void **s) {
    (void)s;
    fixture_t f;
    keys(&f, "failed");
    f.restore_rc = NP_CLAIM_FAILED;
    expect_take(&f, NP_CLAIM_FAILED, 0, 1, 0, 0); /* not retried */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unopposed), cmocka_unit_test(test_zombie_between_claim_and_restore),
        cmocka_unit_test(test_restore_fenced_retried), cmocka_unit_test(test_overtaken_again_yields),
        cmocka_unit_test(test_restore_failed)};
    return redis_server_run_group(&R, "test_claim", tests, &st);
}
