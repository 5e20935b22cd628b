/* np_config: flags, environment and file, validated. See np_config.h. */
#include "np_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct kv {
    char *key;
    char *val;
} kv_t;

struct np_config {
    const char *prog;
    const char *summary;
    const np_opt_t *opts;
    size_t n;
    char **vals;      /* current text value per option (owned) */
    const char **src; /* where it came from: "default", "file F:N", "env X", "flag" */
    char **src_own;   /* owned source strings */
    int64_t *ints;
    kv_t *kafka;
    size_t nkafka;
};

#define CFG_ERR(...)                                                                           \
    do {                                                                                       \
        snprintf(errstr, errlen, __VA_ARGS__);                                                 \
        return -1;                                                                             \
    } while (0)

np_config_t *np_config_new(const char *prog, const char *summary, const np_opt_t *opts, size_t n) {
    np_config_t *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->prog = prog;
    c->summary = summary;
    c->opts = opts;
    c->n = n;
    c->vals = calloc(n, sizeof(*c->vals));
    c->src = calloc(n, sizeof(*c->src));
    c->src_own = calloc(n, sizeof(*c->src_own));
    c->ints = calloc(n, sizeof(*c->ints));
    if (!c->vals || !c->src || !c->src_own || !c->ints) {
        np_config_destroy(&c);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        c->vals[i] = opts[i].def ? strdup(opts[i].def) : NULL;
        c->src[i] = "default";
    }
    return c;
}

void np_config_destroy(np_config_t **cp) {
    if (!cp || !*cp) return;
    np_config_t *c = *cp;
    for (size_t i = 0; c->vals && i < c->n; i++) {
        free(c->vals[i]);
        free(c->src_own[i]);
    }
    for (size_t i = 0; i < c->nkafka; i++) {
        free(c->kafka[i].key);
        free(c->kafka[i].val);
    }
    free(c->kafka);
    free(c->vals);
    free(c->src);
    free(c->src_own);
    free(c->ints);
    free(c);
    *cp = NULL;
}

static long find_opt(const np_config_t *c, const char *key, size_t keylen) {
    for (size_t i = 0; i < c->n; i++)
        if (strlen(c->opts[i].key) == keylen && memcmp(c->opts[i].key, key, keylen) == 0) return (long)i;
    return -1;
}

static void set_val(np_config_t *c, size_t i, const char *val, const char *src) {
    free(c->vals[i]);
    c->vals[i] = strdup(val);
    free(c->src_own[i]);
    c->src_own[i] = strdup(src);
    c->src[i] = c->src_own[i];
}

static int add_kafka(np_config_t *c, const char *kvtext, size_t len, const char *src, char *errstr,
                     size_t errlen) {
    const char *eq = memchr(kvtext, '=', len);
    if (!eq || eq == kvtext)
        CFG_ERR("%s: librdkafka property '%.*s' must be key=value", src, (int)len, kvtext);
    kv_t *nk = realloc(c->kafka, (c->nkafka + 1) * sizeof(*nk));
    if (!nk) CFG_ERR("out of memory");
    c->kafka = nk;
    c->kafka[c->nkafka].key = strndup(kvtext, (size_t)(eq - kvtext));
    c->kafka[c->nkafka].val = strndup(eq + 1, len - (size_t)(eq - kvtext) - 1);
    c->nkafka++;
    return 0;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

static int load_file(np_config_t *c, const char *path, char *errstr, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) CFG_ERR("config: cannot open %s: %s", path, strerror(errno));
    char line[4096], src[512];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#') continue;
        char *eq = strchr(s, '=');
        snprintf(src, sizeof(src), "file %s:%d", path, lineno);
        if (!eq) {
            snprintf(errstr, errlen, "%s: expected 'key = value', got '%.64s'", src, s);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        if (strncmp(key, "kafka.", 6) == 0) {
            char kvtext[4096];
            int n = snprintf(kvtext, sizeof(kvtext), "%s=%s", key + 6, val);
            rc = add_kafka(c, kvtext, (size_t)n, src, errstr, errlen);
            continue;
        }
        long i = find_opt(c, key, strlen(key));
        if (i < 0) {
            snprintf(errstr, errlen, "%s: unknown key '%s' (see --help)", src, key);
            rc = -1;
            break;
        }
        set_val(c, (size_t)i, val, src);
    }
    fclose(f);
    return rc;
}

/* "pane.ms" -> "NETPULSE_PANE_MS" */
static void env_name(const char *key, char *out, size_t outlen) {
    size_t j = (size_t)snprintf(out, outlen, "NETPULSE_");
    for (const char *p = key; *p && j + 1 < outlen; p++)
        out[j++] = (*p == '.' || *p == '-') ? '_' : (char)toupper((unsigned char)*p);
    out[j] = '\0';
}

/* "pane.ms" -> "--pane-ms" */
static void flag_name(const char *key, char *out, size_t outlen) {
    size_t j = (size_t)snprintf(out, outlen, "--");
    for (const char *p = key; *p && j + 1 < outlen; p++) out[j++] = *p == '.' ? '-' : *p;
    out[j] = '\0';
}

static int parse_bool(const char *v, bool *out) {
    if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on")) {
        *out = true;
        return 0;
    }
    if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off")) {
        *out = false;
        return 0;
    }
    return -1;
}

static bool in_choices(const char *choices, const char *v) {
    size_t vl = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == vl && memcmp(p, v, l) == 0) return true;
        if (!bar) break;
        p = bar + 1;
    }
    return false;
}

static int validate(np_config_t *c, char *errstr, size_t errlen) {
    for (size_t i = 0; i < c->n; i++) {
        const np_opt_t *o = &c->opts[i];
        const char *v = c->vals[i];
        if (!v) continue;
        if (o->type == NP_OPT_INT) {
            char *end;
            errno = 0;
            long long x = strtoll(v, &end, 10);
            if (errno || end == v || *trim(end) != '\0')
                CFG_ERR("%s (from %s): '%s' is not an integer", o->key, c->src[i], v);
            if (x < o->min || x > o->max)
                CFG_ERR("%s (from %s): %lld is out of range [%lld, %lld]", o->key, c->src[i], x,
                        (long long)o->min, (long long)o->max);
            c->ints[i] = x;
        } else if (o->type == NP_OPT_BOOL) {
            bool b;
            if (parse_bool(v, &b) < 0)
                CFG_ERR("%s (from %s): '%s' is not a boolean (true/false)", o->key, c->src[i], v);
            c->ints[i] = b;
        } else if (o->min > 0 && strlen(v) < (size_t)o->min) {
            CFG_ERR("%s (from %s): must not be empty", o->key, c->src[i]);
        } else if (o->choices && !in_choices(o->choices, v)) {
            CFG_ERR("%s (from %s): '%s' is not one of %s", o->key, c->src[i], v, o->choices);
        }
    }
    return 0;
}

void np_config_usage(const np_config_t *c) {
    printf("Usage: %s [options]\n\n%s\n\nOptions (flag / environment variable / config file key):\n",
           c->prog, c->summary);
    printf("  --help                  show this help and exit\n");
    printf("  --version               show the version and exit\n");
    printf("  --config FILE           read 'key = value' lines (env NETPULSE_CONFIG)\n");
    printf("  -X key=value            librdkafka property, passed through (repeatable;\n"
           "                          file: kafka.<key> = value; env NETPULSE_KAFKA_PROPERTIES=\"k=v;k=v\")\n");
    for (size_t i = 0; i < c->n; i++) {
        const np_opt_t *o = &c->opts[i];
        char flag[96], env[96];
        flag_name(o->key, flag, sizeof(flag));
        env_name(o->key, env, sizeof(env));
        const char *arg = o->type == NP_OPT_INT ? " N" : o->type == NP_OPT_BOOL ? "[=BOOL]" : " TEXT";
        printf("  %s%s\n      %s", flag, arg, o->help);
        if (o->choices) printf(" (%s)", o->choices);
        if (o->type == NP_OPT_INT) printf(" [%lld..%lld]", (long long)o->min, (long long)o->max);
        printf("\n      env %s, key %s, default %s\n", env, o->key, o->def ? o->def : "(unset)");
    }
}

bool np_config_is_secret(const np_opt_t *o) {
    const char *dot = strrchr(o->key, '.');
    const char *last = dot ? dot + 1 : o->key;
    return !strcmp(last, "password") || !strcmp(last, "token") || !strcmp(last, "secret") ||
           (o->help && !strncmp(o->help, "Secret:", 7));
}

static bool secret_property(const char *kv) {
    size_t n = strcspn(kv, "=");
    char key[128];
    if (n >= sizeof(key)) n = sizeof(key) - 1;
    for (size_t i = 0; i < n; i++) key[i] = (char)tolower((unsigned char)kv[i]);
    key[n] = '\0';
    return strstr(key, "password") || strstr(key, "secret");
}

/* For every secret KEY whose companion KEY.file is set: the file's content (one line,
 * trailing white space dropped) becomes KEY's value. */
static int load_secret_files(np_config_t *c, char *errstr, size_t errlen) {
    for (size_t i = 0; i < c->n; i++) {
        if (!np_config_is_secret(&c->opts[i])) continue;
        char fkey[160];
        snprintf(fkey, sizeof(fkey), "%s.file", c->opts[i].key);
        long fi = find_opt(c, fkey, strlen(fkey));
        if (fi < 0 || !c->vals[fi] || !*c->vals[fi]) continue;
        FILE *f = fopen(c->vals[fi], "r");
        char buf[4096];
        size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
        bool big = f && !feof(f);
        if (f) fclose(f);
        if (!f) CFG_ERR("%s (from %s): cannot read %s", fkey, c->src[fi], c->vals[fi]);
        if (big) CFG_ERR("%s: %s is larger than %zu bytes", fkey, c->vals[fi], sizeof(buf) - 1);
        while (n && isspace((unsigned char)buf[n - 1])) n--;
        buf[n] = '\0';
        char src[200];
        snprintf(src, sizeof(src), "file %.180s", c->vals[fi]);
        set_val(c, i, buf, src);
    }
    return 0;
}

int np_config_load(np_config_t *c, int argc, char **argv, char *errstr, size_t errlen) {
    const char *file = getenv("NETPULSE_CONFIG");
    /* First pass: --help, --version, --config (the file must load before env and flags). */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            np_config_usage(c);
            return 1;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("%s %s\n", c->prog, NP_VERSION);
            return 1;
        }
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) CFG_ERR("--config needs a file name");
            file = argv[++i];
        } else if (!strncmp(argv[i], "--config=", 9)) {
            file = argv[i] + 9;
        }
    }
    if (file && *file && load_file(c, file, errstr, errlen) < 0) return -1;

    for (size_t i = 0; i < c->n; i++) {
        char env[128];
        env_name(c->opts[i].key, env, sizeof(env));
        const char *v = getenv(env);
        if (v) {
            char src[160];
            snprintf(src, sizeof(src), "env %s", env);
            set_val(c, i, v, src);
        }
    }
    const char *kp = getenv("NETPULSE_KAFKA_PROPERTIES");
    for (const char *p = kp; p && *p;) {
        const char *semi = strchr(p, ';');
        size_t l = semi ? (size_t)(semi - p) : strlen(p);
        if (l && add_kafka(c, p, l, "env NETPULSE_KAFKA_PROPERTIES", errstr, errlen) < 0) return -1;
        p = semi ? semi + 1 : p + l;
    }

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--config")) {
            i++;
            continue;
        }
        if (!strncmp(a, "--config=", 9)) continue;
        if (!strcmp(a, "-X") || !strncmp(a, "-X", 2)) {
            const char *kv = a[2] ? a + 2 : (i + 1 < argc ? argv[i + 1] : "");
            if (secret_property(kv))
                CFG_ERR("-X %.*s: a secret must not be a flag (ps shows it): use a config file line kafka.<property> "
                        "or NETPULSE_KAFKA_PROPERTIES", (int)strcspn(kv, "="), kv);
        }
        if (!strcmp(a, "-X")) {
            if (i + 1 >= argc) CFG_ERR("-X needs key=value");
            if (add_kafka(c, argv[i + 1], strlen(argv[i + 1]), "flag -X", errstr, errlen) < 0) return -1;
            i++;
            continue;
        }
        if (!strncmp(a, "-X", 2)) {
            if (add_kafka(c, a + 2, strlen(a + 2), "flag -X", errstr, errlen) < 0) return -1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) CFG_ERR("unexpected argument '%s' (see --help)", a);
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        char key[128];
        if (nl >= sizeof(key)) CFG_ERR("unknown option '%s' (see --help)", a);
        for (size_t j = 0; j < nl; j++) key[j] = name[j] == '-' ? '.' : name[j];
        key[nl] = '\0';
        long oi = find_opt(c, key, nl);
        bool negated = false;
        if (oi < 0 && nl > 3 && !strncmp(key, "no.", 3)) {
            oi = find_opt(c, key + 3, nl - 3);
            negated = oi >= 0 && c->opts[oi].type == NP_OPT_BOOL;
            if (!negated) oi = -1;
        }
        if (oi < 0) CFG_ERR("unknown option '%.*s' (see --help)", (int)(nl + 2), a);
        const char *val;
        if (negated) {
            val = "false";
        } else if (eq) {
            val = eq + 1;
        } else if (c->opts[oi].type == NP_OPT_BOOL) {
            val = "true";
        } else {
            if (i + 1 >= argc) CFG_ERR("%s needs a value", a);
            val = argv[++i];
        }
        if (np_config_is_secret(&c->opts[oi])) {
            char env[128];
            env_name(c->opts[oi].key, env, sizeof(env));
            CFG_ERR("--%.*s: a secret must not be a flag (ps shows it): use env %s, a config file or --%.*s-file",
                    (int)nl, name, env, (int)nl, name);
        }
        char src[160];
        snprintf(src, sizeof(src), "flag --%.*s", (int)nl, name);
        set_val(c, (size_t)oi, val, src);
    }
    if (load_secret_files(c, errstr, errlen) < 0) return -1;
    return validate(c, errstr, errlen);
}

static size_t must_find(const np_config_t *c, const char *key) {
    long i = find_opt(c, key, strlen(key));
    if (i < 0) {
        fprintf(stderr, "BUG: config key '%s' not declared\n", key);
        abort();
    }
    return (size_t)i;
}

const char *np_config_str(const np_config_t *c, const char *key) { return c->vals[must_find(c, key)]; }
int64_t np_config_int(const np_config_t *c, const char *key) { return c->ints[must_find(c, key)]; }
bool np_config_bool(const np_config_t *c, const char *key) { return c->ints[must_find(c, key)] != 0; }
size_t np_config_kafka_count(const np_config_t *c) { return c->nkafka; }

void np_config_kafka_get(const np_config_t *c, size_t i, const char **key, const char **val) {
    *key = c->kafka[i].key;
    *val = c->kafka[i].val;
}
