/* Unit tests for np_zsock: key files, allow-lists (keys may start with '#'), the loopback
 * rule, and the CURVE handshake through the ZAP allow-list over loopback TCP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "np_zsock.h"

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_endpoints(void **s) {
    (void)s;
    assert_true(np_zsock_endpoint_local("tcp://127.0.0.1:5555"));
    assert_true(np_zsock_endpoint_local("tcp://localhost:5555"));
    assert_true(np_zsock_endpoint_local("tcp://[::1]:5555"));
    assert_true(np_zsock_endpoint_local("ipc:///tmp/x"));
    assert_false(np_zsock_endpoint_local("tcp://0.0.0.0:5555"));
    assert_false(np_zsock_endpoint_local("tcp://10.0.0.1:5555"));
    assert_false(np_zsock_endpoint_local("tcp://127.0.0.1:1;10.0.0.1:5555"));
    np_zsock_cfg_t zc = {0};
    char err[256];
    assert_int_equal(np_zsock_check(&zc, true, "tcp://0.0.0.0:5555", err, sizeof err), -1);
    assert_non_null(strstr(err, "zmq.plaintext.allow"));
    zc.plaintext_allow = true;
    assert_int_equal(np_zsock_check(&zc, true, "tcp://0.0.0.0:5555", err, sizeof err), 0);
    zc.curve = true;
    assert_int_equal(np_zsock_check(&zc, false, "tcp://10.0.0.1:5555", err, sizeof err), -1); /* no server key */
}

/* A key pair whose public key contains '#' (a Z85 digit: it must not cut the key). */
static void hash_key(char pub[41], char sec[41]) {
    for (int i = 0; i < 100000; i++) {
        assert_int_equal(zmq_curve_keypair(pub, sec), 0);
        if (strchr(pub, '#')) return;
    }
    fail_msg("no key with '#'");
}

static void test_curve_allow_list(void **s) {
    (void)s;
    char spub[41], ssec[41], apub[41], asec[41], bpub[41], bsec[41], dir[] = "/tmp/np_zsock_XXXXXX", p[256];
    assert_non_null(mkdtemp(dir));
    assert_int_equal(zmq_curve_keypair(spub, ssec), 0);
    hash_key(apub, asec);
    assert_int_equal(zmq_curve_keypair(bpub, bsec), 0);
    char allow[200], key[300];
    snprintf(allow, sizeof allow, "# the workers\n%s\n", apub);
    snprintf(p, sizeof p, "%s/allow", dir);
    write_file(p, allow);
    snprintf(key, sizeof key, "%s/server.key", dir);
    write_file(key, ssec);

    np_zsock_cfg_t zc = {0};
    char err[256];
    assert_int_equal(np_zsock_key_read(key, zc.secret, err, sizeof err), 0);
    assert_int_equal(zmq_curve_public(zc.public_, zc.secret), 0);
    assert_string_equal(zc.public_, spub);
    zc.curve = true;
    zc.max_msg_bytes = 1 << 20;
    zc.rcvhwm = 100;
    char junk[41];
    assert_int_equal(np_zsock_key_read(p, junk, err, sizeof err), -1); /* an allow-list is not a key file */

    np_counter_t *refused = NULL;
    np_metrics_t *m = np_metrics_new();
    refused = np_metrics_counter(m, "refused_total", "x", NULL);
    zc.allow = calloc(NP_ZSOCK_ALLOW_MAX, sizeof(*zc.allow));
    memcpy(zc.allow[0], apub, 41);
    zc.nallow = 1;

    void *ctx = zmq_ctx_new();
    np_zap_t *zap = np_zsock_zap_start(ctx, &zc, refused, err, sizeof err);
    assert_non_null(zap);
    void *srv = zmq_socket(ctx, ZMQ_ROUTER);
    assert_int_equal(np_zsock_setup(&zc, srv, true, "tcp://127.0.0.1:*", err, sizeof err), 0);
    assert_int_equal(zmq_bind(srv, "tcp://127.0.0.1:*"), 0);
    char ep[64];
    size_t epl = sizeof ep;
    zmq_getsockopt(srv, ZMQ_LAST_ENDPOINT, ep, &epl);

    const char *pubs[2] = {apub, bpub}, *secs[2] = {asec, bsec};
    int got[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        void *cl = zmq_socket(ctx, ZMQ_DEALER);
        int linger = 0;
        zmq_setsockopt(cl, ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(cl, ZMQ_CURVE_SERVERKEY, spub, 40);
        zmq_setsockopt(cl, ZMQ_CURVE_PUBLICKEY, pubs[i], 40);
        zmq_setsockopt(cl, ZMQ_CURVE_SECRETKEY, secs[i], 40);
        zmq_connect(cl, ep);
        zmq_send(cl, "hi", 2, ZMQ_DONTWAIT);
        zmq_pollitem_t it = {srv, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 1500) > 0) {
            char buf[64];
            while (zmq_recv(srv, buf, sizeof buf, ZMQ_DONTWAIT) >= 0) {}
            got[i] = 1;
        }
        zmq_close(cl);
    }
    assert_int_equal(got[0], 1); /* on the allow-list (its key holds a '#') */
    assert_int_equal(got[1], 0); /* not on it */
    assert_true(np_counter_get(refused) >= 1);
    zmq_close(srv);
    np_zsock_zap_stop(&zap);
    assert_null(zap);
    zmq_ctx_term(ctx);
    np_zsock_cfg_free(&zc);
    np_metrics_destroy(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_endpoints), cmocka_unit_test(test_curve_allow_list)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
