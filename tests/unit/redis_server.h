/*
 * A throw-away redis-server for unit tests of Redis-backed modules, the way hiredis tests
 * itself: started by the test on a free loopback port, no persistence, stopped (and
 * reaped) by the test. Header-only; include it in one test file.
 * redis_server_start returns 0, or 77 (ctest's skip code here) when redis-server is not
 * installed, or -1 when it would not start. redis_server_run_group is a test's main():
 * the server around one cmocka group.
 */
#ifndef NP_TEST_REDIS_SERVER_H
#define NP_TEST_REDIS_SERVER_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "np_store.h"

typedef struct redis_server {
    pid_t pid;
    int port;
} redis_server_t;

/* A port the kernel just gave out: free now, unlikely to be taken within the second
 * redis-server needs (a clash is retried). */
static int redis_server_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

static int redis_server_on_path(void) {
    const char *path = getenv("PATH");
    char buf[4096];
    if (!path) return 0;
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *save = NULL, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char f[4200];
        snprintf(f, sizeof(f), "%s/redis-server", d);
        if (access(f, X_OK) == 0) return 1;
    }
    return 0;
}

static void redis_server_stop(redis_server_t *r) {
    if (r->pid <= 0) return;
    kill(r->pid, SIGTERM);
    waitpid(r->pid, NULL, 0);
    r->pid = 0;
}

static int redis_server_start(redis_server_t *r) {
    if (!redis_server_on_path()) return 77;
    for (int attempt = 0; attempt < 5; attempt++) {
        int port = redis_server_free_port();
        if (port <= 0) continue;
        char ps[16];
        snprintf(ps, sizeof(ps), "%d", port);
        pid_t pid = fork();
        if (pid < 0) return -1;
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM); /* a test that crashes leaves no server behind */
            int nul = open("/dev/null", O_RDWR);
            if (nul >= 0) {
                dup2(nul, 1);
                dup2(nul, 2);
            }
            execlp("redis-server", "redis-server", "--port", ps, "--bind", "127.0.0.1", "--save", "", "--appendonly",
                   "no", "--daemonize", "no", "--dir", "/tmp", (char *)NULL);
            _exit(127);
        }
        r->pid = pid;
        r->port = port;
        for (int i = 0; i < 100; i++) { /* up to 5 s for the first PING */
            char err[128];
            np_store_t *s = np_store_connect("127.0.0.1", port, 200, err, sizeof(err));
            if (s) {
                np_store_destroy(&s);
                return 0;
            }
            if (waitpid(pid, NULL, WNOHANG) == pid) { /* exited: port taken, try another */
                r->pid = 0;
                break;
            }
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
        redis_server_stop(r);
    }
    return -1;
}

/* Starts r, runs the cmocka group tests (an array), stops r. When store is not NULL, the
 * group's tests share *store, a connection to r made before them and closed after.
 * Returns the group's result, 77 when there is no redis-server (said on stdout under
 * name), 1 when it would not start or answer. */
#define redis_server_run_group(r, name, tests, store)                                                        \
    redis_server_run_group_((r), (name), (tests), sizeof(tests) / sizeof((tests)[0]), (store))
static int redis_server_run_group_(redis_server_t *r, const char *name, const struct CMUnitTest *tests,
                                   size_t n, np_store_t **store) {
    char err[256];
    int rc = redis_server_start(r);
    if (rc == 77) {
        printf("%s: redis-server not installed: skipped\n", name);
        return 77;
    }
    if (rc == 0 && store && !(*store = np_store_connect("127.0.0.1", r->port, 1000, err, sizeof(err)))) {
        printf("%s: %s\n", name, err);
        rc = -1;
    }
    if (rc != 0) {
        printf("%s: redis-server would not start\n", name);
        redis_server_stop(r);
        return 1;
    }
    rc = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
    if (store) np_store_destroy(store);
    redis_server_stop(r);
    return rc;
}

#endif
