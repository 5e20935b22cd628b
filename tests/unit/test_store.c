/* Unit tests for np_store's fenced writes against a real redis-server (started here on a
 * free port, as hiredis tests itself; skipped when there is none): the single-key fenced
 * set and the multi-part fenced write of incremental checkpoints, whose Lua script must
 * write every part or none, refuse a zombie's epoch, and refuse an append to a part that
 * is not the length its writer believes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "np_store.h"

static pid_t redis_pid;
static int redis_port;
static np_store_t *st;

static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockname(fd, (struct sockaddr *)&a, &l) < 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static int setup(void **s) {
    (void)s;
    if (access("/usr/bin/redis-server", X_OK) != 0 && system("command -v redis-server >/dev/null 2>&1") != 0) return 0;
    redis_port = free_port();
    char port[16];
    snprintf(port, sizeof(port), "%d", redis_port);
    redis_pid = fork();
    if (redis_pid == 0) {
        if (!freopen("/dev/null", "w", stdout)) _exit(127); /* its log: not the test's output */
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly",
               "no", "--loglevel", "warning", (char *)NULL);
        _exit(127);
    }
    char err[256];
    for (int i = 0; i < 100 && !st; i++) {
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
        st = np_store_connect("127.0.0.1", redis_port, 1000, err, sizeof(err));
    }
    return 0;
}

static int teardown(void **s) {
    (void)s;
    np_store_destroy(&st);
    if (redis_pid > 0) {
        kill(redis_pid, SIGTERM);
        waitpid(redis_pid, NULL, 0);
    }
    return 0;
}

static char *get(const char *key, size_t *len) {
    uint8_t *v = NULL;
    char err[256];
    int rc = np_store_get(st, key, &v, len, err, sizeof(err));
    assert_true(rc >= 0);
    return (char *)v;
}

static void expect(const char *key, const char *val) {
    size_t len = 0;
    char *v = get(key, &len);
    if (!val) {
        assert_null(v);
        return;
    }
    assert_non_null(v);
    assert_int_equal(len, strlen(val));
    assert_memory_equal(v, val, len);
    free(v);
}

static void test_fenced_write(void **s) {
    (void)s;
    if (!st) skip();
    char err[256];
    int64_t epoch;
    const char *ek = "t:epoch:{g/t/0}", *hk = "t:ckpt:{g/t/0}", *pa = "t:ckpt:{g/t/0}:pane:0",
               *pb = "t:ckpt:{g/t/0}:out:0";
    assert_int_equal(np_store_incr(st, ek, &epoch, err, sizeof(err)), 0);
    np_store_part_t p1[] = {{pa, 'S', 0, (const uint8_t *)"abc", 3}, {pb, 'S', 0, (const uint8_t *)"x", 1}};
    assert_int_equal(np_store_fenced_write(st, ek, epoch, hk, (const uint8_t *)"h1", 2, p1, 2, err, sizeof(err)), 0);
    expect(hk, "h1");
    expect(pa, "abc");
    expect(pb, "x");
    /* Append after a length check; delete. */
    np_store_part_t p2[] = {{pa, 'A', 3, (const uint8_t *)"de", 2}, {pb, 'D', 0, NULL, 0}};
    assert_int_equal(np_store_fenced_write(st, ek, epoch, hk, (const uint8_t *)"h2", 2, p2, 2, err, sizeof(err)), 0);
    expect(hk, "h2");
    expect(pa, "abcde");
    expect(pb, NULL);
    /* The same append again (a re-sent call that was applied): refused, nothing written. */
    np_store_part_t p3[] = {{pb, 'S', 0, (const uint8_t *)"y", 1}, {pa, 'A', 3, (const uint8_t *)"de", 2}};
    assert_int_equal(np_store_fenced_write(st, ek, epoch, hk, (const uint8_t *)"h3", 2, p3, 2, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "pane:0"));
    expect(hk, "h2");
    expect(pa, "abcde");
    expect(pb, NULL);
    /* A new owner: the old epoch writes nothing, not even the parts. */
    int64_t e2;
    assert_int_equal(np_store_incr(st, ek, &e2, err, sizeof(err)), 0);
    np_store_part_t p4[] = {{pa, 'S', 0, (const uint8_t *)"zombie", 6}, {pb, 'S', 0, (const uint8_t *)"z", 1}};
    assert_int_equal(np_store_fenced_write(st, ek, epoch, hk, (const uint8_t *)"hz", 2, p4, 2, err, sizeof(err)), 1);
    expect(hk, "h2");
    expect(pa, "abcde");
    expect(pb, NULL);
    assert_int_equal(np_store_fenced_set(st, ek, hk, epoch, (const uint8_t *)"hz", 2, err, sizeof(err)), 1);
    assert_int_equal(np_store_fenced_write(st, ek, e2, hk, (const uint8_t *)"h4", 2, NULL, 0, err, sizeof(err)), 0);
    expect(hk, "h4");
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fenced_write)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
