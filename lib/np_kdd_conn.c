/*
 * np_kdd_conn: decoding NSL-KDD connection records (CSV or flat JSON). See np_kdd_conn.h.
 */
#include "np_kdd_conn.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const COLS[NP_KDD_NCOLS] = {
    "duration", "protocol_type", "service", "flag", "src_bytes", "dst_bytes", "land",
    "wrong_fragment", "urgent", "hot", "num_failed_logins", "logged_in", "num_compromised",
    "root_shell", "su_attempted", "num_root", "num_file_creations", "num_shells",
    "num_access_files", "num_outbound_cmds", "is_host_login", "is_guest_login", "count",
    "srv_count", "serror_rate", "srv_serror_rate", "rerror_rate", "srv_rerror_rate",
    "same_srv_rate", "diff_srv_rate", "srv_diff_host_rate", "dst_host_count",
    "dst_host_srv_count", "dst_host_same_srv_rate", "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate", "dst_host_srv_diff_host_rate", "dst_host_serror_rate",
    "dst_host_srv_serror_rate", "dst_host_rerror_rate", "dst_host_srv_rerror_rate"};

static const char *const CLASSES[NP_KDD_NCLASSES] = {"normal", "DoS", "Probe", "R2L", "U2R"};

/* The mapping of shared/data/nsl-kdd/README.md (the one most often used). */
static const struct {
    const char *label;
    int         cls;
} LABELS[] = {
    {"normal", NP_KDD_NORMAL},        {"back", NP_KDD_DOS},
    {"land", NP_KDD_DOS},             {"neptune", NP_KDD_DOS},
    {"pod", NP_KDD_DOS},              {"smurf", NP_KDD_DOS},
    {"teardrop", NP_KDD_DOS},         {"apache2", NP_KDD_DOS},
    {"mailbomb", NP_KDD_DOS},         {"processtable", NP_KDD_DOS},
    {"udpstorm", NP_KDD_DOS},         {"ipsweep", NP_KDD_PROBE},
    {"nmap", NP_KDD_PROBE},           {"portsweep", NP_KDD_PROBE},
    {"satan", NP_KDD_PROBE},          {"mscan", NP_KDD_PROBE},
    {"saint", NP_KDD_PROBE},          {"ftp_write", NP_KDD_R2L},
    {"guess_passwd", NP_KDD_R2L},     {"imap", NP_KDD_R2L},
    {"multihop", NP_KDD_R2L},         {"phf", NP_KDD_R2L},
    {"spy", NP_KDD_R2L},              {"warezclient", NP_KDD_R2L},
    {"warezmaster", NP_KDD_R2L},      {"named", NP_KDD_R2L},
    {"sendmail", NP_KDD_R2L},         {"snmpgetattack", NP_KDD_R2L},
    {"snmpguess", NP_KDD_R2L},        {"worm", NP_KDD_R2L},
    {"xlock", NP_KDD_R2L},            {"xsnoop", NP_KDD_R2L},
    {"buffer_overflow", NP_KDD_U2R},  {"loadmodule", NP_KDD_U2R},
    {"perl", NP_KDD_U2R},             {"rootkit", NP_KDD_U2R},
    {"httptunnel", NP_KDD_U2R},       {"ps", NP_KDD_U2R},
    {"sqlattack", NP_KDD_U2R},        {"xterm", NP_KDD_U2R},
};

const char *np_kdd_col_name(int col)
{
    return col >= 0 && col < NP_KDD_NCOLS ? COLS[col] : NULL;
}

int np_kdd_col_is_symbolic(int col)
{
    return col >= 1 && col <= 3;
}

const char *np_kdd_class_name(int cls)
{
    return cls >= 0 && cls < NP_KDD_NCLASSES ? CLASSES[cls] : NULL;
}

int np_kdd_label_class(const char *label)
{
    for (size_t i = 0; i < sizeof LABELS / sizeof LABELS[0]; i++)
        if (strcmp(LABELS[i].label, label) == 0)
            return LABELS[i].cls;
    return -1;
}

static int fail(char *errstr, size_t errlen, const char *fmt, const char *a, int b)
{
    if (errstr && errlen)
        snprintf(errstr, errlen, fmt, a, b);
    return -1;
}

/* Sets column col from the text t (NUL-terminated, at most NP_KDD_SYM_MAX - 1 bytes). */
int np_kdd_decimal(const char *t, size_t len, double *out)
{
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    const char *p = t, *end = t + len;
    int         neg = p < end && *p == '-';
    p += neg;
    uint64_t mant = 0;
    int      digits = 0, frac = -1;
    for (; p < end; p++) {
        if (*p >= '0' && *p <= '9') {
            mant = mant * 10 + (uint64_t)(*p - '0');
            digits++;
            frac += frac >= 0;
        } else if (*p == '.' && frac < 0 && digits > 0) {
            frac = 0;
        } else {
            break;
        }
    }
    if (p < end || digits == 0 || digits > 15 || frac == 0)
        return -1; /* exponents, ".5", "1.", long mantissas...: strtod's job */
    /* mant < 10^15 < 2^53 and 10^frac are exact doubles, so one IEEE division rounds the
     * exact decimal value correctly: the same double as strtod. */
    double v = frac > 0 ? (double)mant / pow10[frac] : (double)mant;
    *out     = neg ? -v : v;
    return 0;
}

static int set_col(np_kdd_conn_t *c, int col, const char *t, char *errstr, size_t errlen)
{
    if (np_kdd_col_is_symbolic(col)) {
        if (!*t)
            return fail(errstr, errlen, "empty %s (column %d)", COLS[col], col + 1);
        strcpy(c->sym[col - 1], t);
        return 0;
    }
    char *end;
    errno    = 0;
    double v = strtod(t, &end);
    if (end == t || *end || errno == ERANGE || !isfinite(v))
        return fail(errstr, errlen, "%s (column %d) is not a number", COLS[col], col + 1);
    c->num[col] = v;
    return 0;
}

static void conn_init(np_kdd_conn_t *c)
{
    memset(c, 0, sizeof *c);
    c->label = -1;
}

/* Copies field [p, e) into a NUL-terminated buffer; -1 if too long. */
static int field_copy(const char *p, const char *e, char *buf)
{
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    if (e - p >= NP_KDD_SYM_MAX)
        return -1;
    memcpy(buf, p, (size_t)(e - p));
    buf[e - p] = 0;
    return 0;
}

int np_kdd_conn_parse_csv(const char *buf, size_t len, np_kdd_conn_t *out, char *errstr,
                          size_t errlen)
{
    conn_init(out);
    const char *p = buf, *end = buf + len;
    char        f[NP_KDD_SYM_MAX];
    int         n = 0;
    while (p <= end && n < NP_KDD_NCOLS + 2) {
        const char *e = memchr(p, ',', (size_t)(end - p));
        if (!e)
            e = end;
        /* The common case, a plain decimal in a numeric column, without copying it. */
        if (n < NP_KDD_NCOLS && !np_kdd_col_is_symbolic(n) &&
            np_kdd_decimal(p, (size_t)(e - p), &out->num[n]) == 0) {
            n++;
            p = e + 1;
            continue;
        }
        if (field_copy(p, e, f) != 0)
            return fail(errstr, errlen, "field %s%d too long", "", n + 1);
        if (n < NP_KDD_NCOLS && set_col(out, n, f, errstr, errlen) != 0)
            return -1;
        if (n == NP_KDD_NCOLS)
            out->label = np_kdd_label_class(f);
        n++;
        p = e + 1;
    }
    if (n < NP_KDD_NCOLS)
        return fail(errstr, errlen, "%s%d fields, want 41 (NSL-KDD order)", "", n);
    if (p <= end)
        return fail(errstr, errlen, "%smore than %d fields", "", NP_KDD_NCOLS + 2);
    return 0;
}

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* Reads a JSON string without escapes (column names and values never need them). */
static const char *json_str(const char *p, const char *e, char *buf)
{
    if (p >= e || *p != '"')
        return NULL;
    const char *q = ++p;
    while (q < e && *q != '"' && *q != '\\')
        q++;
    if (q >= e || *q != '"' || q - p >= NP_KDD_SYM_MAX)
        return NULL;
    memcpy(buf, p, (size_t)(q - p));
    buf[q - p] = 0;
    return q + 1;
}

static const char *json_num(const char *p, const char *e, char *buf)
{
    const char *q = p;
    while (q < e && (strchr("+-.eE", *q) || (*q >= '0' && *q <= '9')))
        q++;
    if (q == p || q - p >= NP_KDD_SYM_MAX)
        return NULL;
    memcpy(buf, p, (size_t)(q - p));
    buf[q - p] = 0;
    return q;
}

static int col_index(const char *name)
{
    for (int i = 0; i < NP_KDD_NCOLS; i++)
        if (strcmp(COLS[i], name) == 0)
            return i;
    return -1;
}

/* One "key": value member; sets *seen for known columns. Returns the next position. */
static const char *json_member(const char *p, const char *e, np_kdd_conn_t *c,
                               unsigned char *seen, char *errstr, size_t errlen)
{
    char key[NP_KDD_SYM_MAX], val[NP_KDD_SYM_MAX];
    if (!(p = json_str(p, e, key)))
        return fail(errstr, errlen, "%sbad key (byte %d)", "", 0), NULL;
    p = skip_ws(p, e);
    if (p >= e || *p != ':')
        return fail(errstr, errlen, "missing ':' after %s%d", key, 0), NULL;
    p                 = skip_ws(p + 1, e);
    const char *after = (p < e && *p == '"') ? json_str(p, e, val) : json_num(p, e, val);
    if (!after)
        return fail(errstr, errlen, "bad value for %s%.0d", key, 0), NULL;
    int col = col_index(key);
    if (col >= 0) {
        if (set_col(c, col, val, errstr, errlen) != 0)
            return NULL;
        seen[col] = 1;
    } else if (strcmp(key, "label") == 0) {
        c->label = np_kdd_label_class(val);
    }
    return after;
}

int np_kdd_conn_parse_json(const char *buf, size_t len, np_kdd_conn_t *out, char *errstr,
                           size_t errlen)
{
    conn_init(out);
    unsigned char seen[NP_KDD_NCOLS] = {0};
    const char   *p = skip_ws(buf, buf + len), *e = buf + len;
    if (p >= e || *p != '{')
        return fail(errstr, errlen, "%snot a JSON object%.0d", "", 0);
    p = skip_ws(p + 1, e);
    while (p < e && *p != '}') {
        if (!(p = json_member(p, e, out, seen, errstr, errlen)))
            return -1;
        p = skip_ws(p, e);
        if (p < e && *p == ',')
            p = skip_ws(p + 1, e);
    }
    if (p >= e)
        return fail(errstr, errlen, "%sunterminated JSON object%.0d", "", 0);
    for (int i = 0; i < NP_KDD_NCOLS; i++)
        if (!seen[i])
            return fail(errstr, errlen, "missing %s (column %d)", COLS[i], i + 1);
    return 0;
}

int np_kdd_conn_parse(const char *buf, size_t len, np_kdd_conn_t *out, char *errstr,
                      size_t errlen)
{
    const char *p = skip_ws(buf, buf + len);
    if (p < buf + len && *p == '{')
        return np_kdd_conn_parse_json(buf, len, out, errstr, errlen);
    return np_kdd_conn_parse_csv(buf, len, out, errstr, errlen);
}
