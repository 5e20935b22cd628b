/* Unit tests for np_http: the bearer/basic token check, and a server on loopback that
 * refuses /metrics without the token and keeps /healthz open (raw HTTP/1.0 over a socket). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "np_http.h"

static void test_authorized(void **s) {
    (void)s;
    assert_int_equal(np_http_authorized(NULL, NULL), 1); /* no token configured */
    assert_int_equal(np_http_authorized("", "anything"), 1);
    assert_int_equal(np_http_authorized("s3cret", NULL), 0);
    assert_int_equal(np_http_authorized("s3cret", "Bearer s3cret"), 1);
    assert_int_equal(np_http_authorized("s3cret", "bearer  s3cret "), 1);
    assert_int_equal(np_http_authorized("s3cret", "Bearer s3cre"), 0);
    assert_int_equal(np_http_authorized("s3cret", "Bearer s3cretX"), 0);
    assert_int_equal(np_http_authorized("s3cret", "Bearer "), 0);
    assert_int_equal(np_http_authorized("s3cret", "s3cret"), 0);
    /* Basic with any user and the token as the password: "prom:s3cret", ":s3cret" */
    assert_int_equal(np_http_authorized("s3cret", "Basic cHJvbTpzM2NyZXQ="), 1);
    assert_int_equal(np_http_authorized("s3cret", "Basic OnMzY3JldA=="), 1);
    assert_int_equal(np_http_authorized("s3cret", "Basic cHJvbTpzM2NyZXR4"), 0); /* prom:s3cretx */
    assert_int_equal(np_http_authorized("s3cret", "Basic czNjcmV0"), 0);         /* no colon */
    assert_int_equal(np_http_authorized("s3cret", "Basic cHJvbTpzM2NyZXQ"), 0);  /* bad padding */
    assert_int_equal(np_http_authorized("s3cret", "Basic !!!!"), 0);
    assert_int_equal(np_http_authorized("s3cret", "Basic cHJvbTpzM2NyZXQA"), 0); /* NUL inside */
}

/* Status code of "GET path" with an optional Authorization header, or -1. */
static int get(int port, const char *path, const char *auth) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    char req[512], resp[64] = "";
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n%s%s%s\r\n", path, auth ? "Authorization: " : "",
                     auth ? auth : "", auth ? "\r\n" : "");
    if (write(fd, req, (size_t)n) != n) n = -1;
    ssize_t got = n < 0 ? -1 : read(fd, resp, sizeof(resp) - 1);
    close(fd);
    int status = -1;
    if (got > 0 && sscanf(resp, "HTTP/1.%*d %d", &status) != 1) status = -1;
    return status;
}

static void test_server_token(void **s) {
    (void)s;
    np_metrics_t *m = np_metrics_new();
    char err[256];
    np_http_security_t sec = {"tok-123", NULL, NULL};
    np_http_t *h = np_http_start("127.0.0.1", 0, m, NULL, NULL, NULL, &sec, NULL, err, sizeof(err));
    assert_non_null(h);
    int port = np_http_port(h);
    assert_int_equal(get(port, "/metrics", NULL), 401);
    assert_int_equal(get(port, "/metrics", "Bearer nope"), 401);
    assert_int_equal(get(port, "/nothing", NULL), 401); /* no route is told apart without the token */
    assert_int_equal(get(port, "/healthz", NULL), 200);
    assert_int_equal(get(port, "/livez", NULL), 200);
    assert_int_equal(get(port, "/metrics", "Bearer tok-123"), 200);
    assert_int_equal(get(port, "/nothing", "Bearer tok-123"), 404);
    np_http_stop(&h);
    assert_null(h);
    /* Without a token, as before. */
    h = np_http_start("127.0.0.1", 0, m, NULL, NULL, NULL, NULL, NULL, err, sizeof(err));
    assert_non_null(h);
    assert_int_equal(get(np_http_port(h), "/metrics", NULL), 200);
    np_http_stop(&h);
    /* TLS with a key and certificate that are not PEM: refused at start, naming the keys. */
    np_http_security_t bad = {NULL, "not a cert", "not a key"};
    if (np_http_tls_supported()) {
        assert_null(np_http_start("127.0.0.1", 0, m, NULL, NULL, NULL, &bad, NULL, err, sizeof(err)));
        assert_non_null(strstr(err, "http.tls"));
    }
    np_metrics_destroy(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_authorized),
        cmocka_unit_test(test_server_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
