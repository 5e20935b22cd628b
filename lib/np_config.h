/*
 * np_config: one configuration model for every netpulse process.
 *
 * Each process declares a table of options. An option key such as "pane.ms" is, at once:
 *   - the config file key            pane.ms = 5000
 *   - the environment variable       NETPULSE_PANE_MS=5000
 *   - the command-line flag          --pane-ms 5000   (or --pane-ms=5000)
 * Precedence: default < file (--config FILE or NETPULSE_CONFIG) < environment < flags.
 *
 * librdkafka properties pass through untouched: `-X key=value` flags, file lines
 * `kafka.<property> = value`, and NETPULSE_KAFKA_PROPERTIES="k=v;k=v". librdkafka itself
 * validates them when the client is created (np_kafka), naming the property.
 *
 * Secrets (np_config_is_secret: passwords, webhook URLs and headers) are refused as flags,
 * because every user on the host sees flags in `ps`; they come from the environment, the
 * config file, or a file named by the companion option KEY.file (e.g. redis.password.file).
 * librdkafka properties whose name contains "password" or "secret" are refused as -X
 * flags for the same reason. Error messages never repeat a secret's value.
 *
 * Every value is validated at load; an error names the key, where it came from and why.
 * Loading happens once at start-up, on the main thread; getters are then read-only.
 */
#ifndef NP_CONFIG_H
#define NP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { NP_OPT_STR, NP_OPT_INT, NP_OPT_BOOL } np_opt_type_t;

typedef struct np_opt {
    const char *key;      /* dotted lower-case: "pane.ms" */
    np_opt_type_t type;
    const char *def;      /* default, as text; NULL = unset (allowed only for STR) */
    int64_t min, max;     /* INT range, inclusive; STR: min > 0 = must not be empty */
    const char *choices;  /* STR: "json|csv" restricts values; NULL = any */
    const char *help;     /* starting with "Secret:" marks a secret (as does a key ending in
                             .password, .token or .secret): see np_config_is_secret */
} np_opt_t;

typedef struct np_config np_config_t;

np_config_t *np_config_new(const char *prog, const char *summary, const np_opt_t *opts, size_t n);
void np_config_destroy(np_config_t **c);

/* Loads and validates. Returns 0 to run, 1 when --help/--version was printed (exit 0),
 * -1 on error with a message in errstr (exit 2). */
int np_config_load(np_config_t *c, int argc, char **argv, char *errstr, size_t errlen);

/* True for keys ending in .password, .token or .secret, and options whose help text
 * starts with "Secret:". */
bool np_config_is_secret(const np_opt_t *o);

const char *np_config_str(const np_config_t *c, const char *key); /* NULL if unset */
int64_t np_config_int(const np_config_t *c, const char *key);
bool np_config_bool(const np_config_t *c, const char *key);

/* librdkafka pass-through properties in the order given (later ones win). */
size_t np_config_kafka_count(const np_config_t *c);
void np_config_kafka_get(const np_config_t *c, size_t i, const char **key, const char **val);

/* Prints --help text to stdout. */
void np_config_usage(const np_config_t *c);

/* Options every process has (log level, config file, HTTP port, Kafka bootstrap). */
#define NP_OPTS_COMMON                                                                         \
    {"log.level", NP_OPT_STR, "info", 1, 0, "debug|info|warn|error", "Minimum log level"},    \
    {"shutdown.timeout.ms", NP_OPT_INT, "45000", 0, 3600000, NULL,                             \
     "After SIGTERM/SIGINT, exit with status 1 (logged) if the clean stop takes longer "       \
     "(whole seconds; state is durable, so this is as safe as kill -9); 0 = wait for ever"},  \
    {"http.port", NP_OPT_INT, "0", 0, 65535, NULL,                                             \
     "Port for /metrics and /healthz on http.bind (0 = pick a free port)"},                    \
    {"http.bind", NP_OPT_STR, "127.0.0.1", 1, 0, NULL, "Address for the HTTP endpoint"},       \
    {"http.port.file", NP_OPT_STR, NULL, 0, 0, NULL,                                          \
     "Write the HTTP port actually bound to this file (for scripts)"},                        \
    {"http.token", NP_OPT_STR, "", 0, 0, NULL,                                                 \
     "Bearer token every HTTP path but /healthz and /livez requires (env NETPULSE_HTTP_TOKEN, " \
     "a config file or http.token.file; never a flag); empty = none"},                        \
    {"http.token.file", NP_OPT_STR, NULL, 0, 0, NULL, "File holding http.token"},            \
    {"http.tls.cert.file", NP_OPT_STR, NULL, 0, 0, NULL,                                      \
     "PEM certificate (chain): HTTPS instead of HTTP, with http.tls.key.file"},               \
    {"http.tls.key.file", NP_OPT_STR, NULL, 0, 0, NULL, "PEM private key for HTTPS"}

#define NP_OPTS_KAFKA                                                                          \
    {"brokers", NP_OPT_STR, "127.0.0.1:9092", 1, 0, NULL,                                     \
     "Kafka bootstrap servers (librdkafka bootstrap.servers)"}

#endif
