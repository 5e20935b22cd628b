/* Unit tests for np_config: precedence default < file < env < flag, validation errors
 * that name the key, and librdkafka pass-through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "np_config.h"
#include "np_detect_cfg.h"
#include "np_opts.h"

static const np_opt_t OPTS[] = {
    NP_OPTS_COMMON,
    NP_OPTS_KAFKA,
    {"pane.ms", NP_OPT_INT, "5000", 10, 86400000, NULL, "pane"},
    {"format", NP_OPT_STR, "json", 0, 0, "json|csv", "format"},
    {"verbose", NP_OPT_BOOL, "false", 0, 0, NULL, "verbose"},
    {"redis.password", NP_OPT_STR, "", 0, 0, NULL, "secret"},
    {"redis.password.file", NP_OPT_STR, NULL, 0, 0, NULL, "its file"},
};
#define NOPTS (sizeof(OPTS) / sizeof(OPTS[0]))

static int load(np_config_t **c, char *err, size_t errlen, int argc, char **argv) {
    *c = np_config_new("t", "test", OPTS, NOPTS);
    return np_config_load(*c, argc, argv, err, errlen);
}

static char cfgfile[64];

static int setup(void **s) {
    (void)s;
    unsetenv("NETPULSE_PANE_MS");
    unsetenv("NETPULSE_CONFIG");
    unsetenv("NETPULSE_KAFKA_PROPERTIES");
    snprintf(cfgfile, sizeof(cfgfile), "/tmp/np_test_config_%d.conf", (int)getpid());
    return 0;
}

static int teardown(void **s) {
    (void)s;
    unlink(cfgfile);
    return 0;
}

static void write_file(const char *text) {
    FILE *f = fopen(cfgfile, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_defaults(void **s) {
    (void)s;
    np_config_t *c;
    char err[256];
    char *argv[] = {"t"};
    assert_int_equal(load(&c, err, sizeof(err), 1, argv), 0);
    assert_int_equal(np_config_int(c, "pane.ms"), 5000);
    assert_string_equal(np_config_str(c, "format"), "json");
    assert_false(np_config_bool(c, "verbose"));
    assert_null(np_config_str(c, "http.port.file"));
    assert_int_equal(np_config_kafka_count(c), 0);
    np_config_destroy(&c);
    assert_null(c);
}

static void test_precedence(void **s) {
    (void)s;
    write_file("# comment\npane.ms = 1000\nformat = csv\nkafka.security.protocol = SASL_SSL\n");
    np_config_t *c;
    char err[256];
    char *argv1[] = {"t", "--config", cfgfile};
    assert_int_equal(load(&c, err, sizeof(err), 3, argv1), 0);
    assert_int_equal(np_config_int(c, "pane.ms"), 1000);
    assert_string_equal(np_config_str(c, "format"), "csv");
    const char *k, *v;
    assert_int_equal(np_config_kafka_count(c), 1);
    np_config_kafka_get(c, 0, &k, &v);
    assert_string_equal(k, "security.protocol");
    assert_string_equal(v, "SASL_SSL");
    np_config_destroy(&c);

    setenv("NETPULSE_PANE_MS", "2000", 1);
    setenv("NETPULSE_KAFKA_PROPERTIES", "sasl.mechanism=PLAIN;sasl.username=u", 1);
    assert_int_equal(load(&c, err, sizeof(err), 3, argv1), 0);
    assert_int_equal(np_config_int(c, "pane.ms"), 2000); /* env beats file */
    assert_int_equal(np_config_kafka_count(c), 3);
    np_config_destroy(&c);

    char *argv2[] = {"t", "--config", cfgfile, "--pane-ms=3000", "-X", "sasl.kerberos.principal=p", "--verbose"};
    assert_int_equal(load(&c, err, sizeof(err), 7, argv2), 0);
    assert_int_equal(np_config_int(c, "pane.ms"), 3000); /* flag beats env */
    assert_true(np_config_bool(c, "verbose"));
    np_config_kafka_get(c, 3, &k, &v);
    assert_string_equal(k, "sasl.kerberos.principal");
    assert_string_equal(v, "p");
    np_config_destroy(&c);
    unsetenv("NETPULSE_PANE_MS");
    unsetenv("NETPULSE_KAFKA_PROPERTIES");
}

static void expect_error(int argc, char **argv, const char *needle) {
    np_config_t *c;
    char err[256] = "";
    assert_int_equal(load(&c, err, sizeof(err), argc, argv), -1);
    if (!strstr(err, needle)) fail_msg("error '%s' does not mention '%s'", err, needle);
    np_config_destroy(&c);
}

static void test_errors_name_the_key(void **s) {
    (void)s;
    char *a1[] = {"t", "--pane-ms", "5"};
    expect_error(3, a1, "pane.ms");
    char *a2[] = {"t", "--pane-ms", "abc"};
    expect_error(3, a2, "not an integer");
    char *a3[] = {"t", "--format", "xml"};
    expect_error(3, a3, "format");
    char *a4[] = {"t", "--no-such-flag"};
    expect_error(2, a4, "unknown option");
    char *a5[] = {"t", "-X", "novalue"};
    expect_error(3, a5, "key=value");
    char *a6[] = {"t", "--verbose=maybe"};
    expect_error(2, a6, "verbose");
    setenv("NETPULSE_PANE_MS", "-1", 1);
    char *a7[] = {"t"};
    expect_error(1, a7, "env NETPULSE_PANE_MS");
    unsetenv("NETPULSE_PANE_MS");
    write_file("pane.ms = 1000\nbogus.key = 1\n");
    char *a8[] = {"t", "--config", cfgfile};
    expect_error(3, a8, ":2: unknown key 'bogus.key'");
    char *a9[] = {"t", "--config", "/nonexistent/x.conf"};
    expect_error(3, a9, "cannot open");
}

/* The fan-in pool's keys: values np_vhll refuses are named by key (exit 2 in the processes). */
static void test_fanin_keys(void **s) {
    (void)s;
    static const np_opt_t fo[] = {NP_OPTS_COMMON, NP_OPTS_FANIN};
    struct {
        const char *flag, *value, *needle;
    } cases[] = {{"--fanin-pool-registers", "3000", "fanin.pool.registers:"},
                 {"--fanin-registers-per-dest", "100", "fanin.registers.per.dest:"},
                 {"--fanin-registers-per-dest", "1024", NULL}, /* 1024 <= 262144 / 4 */
                 {NULL, NULL, NULL}};                          /* the defaults */
    for (int i = 0; i < 4; i++) {
        np_config_t *c = np_config_new("t", "test", fo, sizeof(fo) / sizeof(fo[0]));
        char *argv[] = {"t", (char *)cases[i].flag, (char *)cases[i].value};
        char err[256] = "";
        assert_int_equal(np_config_load(c, cases[i].flag ? 3 : 1, argv, err, sizeof(err)), 0);
        size_t m;
        unsigned sv;
        int rc = np_fanin_config_load(c, &m, &sv, err, sizeof(err));
        if (cases[i].needle) {
            assert_int_equal(rc, -1);
            if (!strstr(err, cases[i].needle)) fail_msg("error '%s' does not name '%s'", err, cases[i].needle);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(m, 262144); /* the default */
        }
        np_config_destroy(&c);
    }
}

static void test_help_and_version(void **s) {
    (void)s;
    np_config_t *c;
    char err[256];
    char *a1[] = {"t", "--version"};
    assert_int_equal(load(&c, err, sizeof(err), 2, a1), 1);
    np_config_destroy(&c);
    char *a2[] = {"t", "--help"};
    assert_int_equal(load(&c, err, sizeof(err), 2, a2), 1);
    np_config_destroy(&c);
}

/* Secrets never come from flags (ps shows them); env, file lines and KEY.file do. */
static void test_secrets(void **st) {
    (void)st;
    np_config_t *c;
    char err[256];
    char *a0[] = {"t", "--brokers", ""}; /* a required value left empty: exit 2 before connecting */
    assert_int_equal(load(&c, err, sizeof(err), 3, a0), -1);
    assert_non_null(strstr(err, "brokers (from flag --brokers): must not be empty"));
    np_config_destroy(&c);
    char *a1[] = {"t", "--redis-password", "hunter2"};
    assert_int_equal(load(&c, err, sizeof(err), 3, a1), -1);
    assert_non_null(strstr(err, "must not be a flag"));
    assert_null(strstr(err, "hunter2"));
    np_config_destroy(&c);
    char *a2[] = {"t", "-X", "sasl.password=hunter2"};
    assert_int_equal(load(&c, err, sizeof(err), 3, a2), -1);
    assert_null(strstr(err, "hunter2"));
    np_config_destroy(&c);
    char *a3[] = {"t", "-Xssl.key.password=hunter2"};
    assert_int_equal(load(&c, err, sizeof(err), 2, a3), -1);
    np_config_destroy(&c);
    char path[64];
    snprintf(path, sizeof(path), "/tmp/np_test_secret_%d", (int)getpid());
    FILE *f = fopen(path, "w");
    fputs("s3cret\n", f);
    fclose(f);
    char *a4[] = {"t", "--redis-password-file", path};
    assert_int_equal(load(&c, err, sizeof(err), 3, a4), 0);
    assert_string_equal(np_config_str(c, "redis.password"), "s3cret");
    np_config_destroy(&c);
    unlink(path);
    char *a5[] = {"t", "--redis-password-file", path}; /* gone: a configuration error */
    assert_int_equal(load(&c, err, sizeof(err), 3, a5), -1);
    np_config_destroy(&c);
    setenv("NETPULSE_REDIS_PASSWORD", "fromenv", 1);
    char *a6[] = {"t"};
    assert_int_equal(load(&c, err, sizeof(err), 1, a6), 0);
    assert_string_equal(np_config_str(c, "redis.password"), "fromenv");
    np_config_destroy(&c);
    unsetenv("NETPULSE_REDIS_PASSWORD");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_name_the_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help_and_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fanin_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secrets, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
