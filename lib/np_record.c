/*
 * np_record: decoder for one flow record (see np_record.h for the accepted formats).
 *
 * This is the worker's hot path, so it is a single pass over the bytes with no
 * allocation: a specialised scanner for one flat JSON object that remembers where the
 * known fields' values are (last occurrence wins) and validates-and-skips everything
 * else, then interprets the remembered values. Numbers are converted with exact decimal
 * arithmetic rather than strtod, so results do not depend on the locale or on float
 * rounding (1700000000.5 s is exactly ...500 ms, 1.5e3 bytes is exactly 1500).
 *
 * Decisions the header leaves open:
 *  - A JSON null for a known key counts as "absent" (Python producers emit None).
 *  - Ports/bytes/packets: integral decimals/exponents (1500.0, 1.5e3) are accepted;
 *    negative or fractional values are NP_REC_OUT_OF_RANGE; a string that is not a
 *    number, or a boolean/object/array, is NP_REC_BAD_TYPE.
 *  - Fractional times are truncated to the millisecond.
 *  - The future-time limit applies to the Kafka timestamp too when it is used.
 *  - CSV fields may be wrapped in double quotes (Python csv.QUOTE_ALL); a line whose
 *    first field is a word, not an address, and whose third is not a number is a header.
 *  - A leading UTF-8 BOM is skipped. Bytes >= 0x80 inside JSON strings are not
 *    UTF-8-validated: no field we read can legitimately contain them anyway.
 *  - *out is written only on NP_REC_OK; lim == NULL means the defaults.
 *
 * Not for: choosing panes or partitions (np_pane), or writing records (generator).
 */
#include "np_record.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counting the top-level object as 1; deeper unknown values are rejected rather than
 * skipped so a hostile record cannot make the skipper recurse without bound. */
#define NP_JSON_MAX_DEPTH 16
/* Input echoed into a detail string is cut to this many bytes. */
#define NP_QUOTE_MAX 32
/* Decoded strings we interpret (IPs, times, numbers, protocol names) are all short;
 * anything longer than this cannot be valid for its field. */
#define NP_SHORT_STR 64

void np_record_limits_default(np_record_limits_t *lim)
{
    lim->max_bytes = 64 * 1024;
    lim->max_future_ms = 300000;
    lim->max_flow_bytes = 1ULL << 40;
    lim->max_flow_packets = 1ULL << 32;
}

const char *np_record_reason_name(np_record_reason_t r)
{
    static const char *const names[NP_REC__COUNT] = {
        [NP_REC_OK] = "ok",
        [NP_REC_EMPTY] = "empty",
        [NP_REC_OVERSIZED] = "oversized",
        [NP_REC_MALFORMED_JSON] = "malformed_json",
        [NP_REC_MALFORMED_CSV] = "malformed_csv",
        [NP_REC_MISSING_FIELD] = "missing_field",
        [NP_REC_BAD_IP] = "bad_ip",
        [NP_REC_BAD_TIMESTAMP] = "bad_timestamp",
        [NP_REC_OUT_OF_RANGE] = "out_of_range",
        [NP_REC_BAD_TYPE] = "bad_type",
        [NP_REC_WATERMARK_JUMP] = "watermark_jump",
    };
    if ((unsigned)r >= NP_REC__COUNT)
        return "unknown";
    return names[r];
}

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ---------------------------------------------------------------- time */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil):
 * avoids timegm, which depends on TZ/locale state and is not in C11. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const uint8_t dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return 29;
    return dim[m - 1];
}

/* n digits at s as an unsigned number, or -1 if any is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int np_time_parse_iso8601(const char *s, size_t len, int64_t *out_ms)
{
    if (len < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' ||
        !(s[10] == 'T' || s[10] == 't' || s[10] == ' '))
        return -1;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > (int)days_in_month((unsigned)y, (unsigned)mo) ||
        h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) /* 60: leap second */
        return -1;
    size_t i = 19;
    int frac_ms = 0;
    if (i < len && (s[i] == '.' || s[i] == ',')) {
        i++;
        size_t start = i;
        int scale = 100;
        for (; i < len && is_digit(s[i]); i++) {
            frac_ms += (s[i] - '0') * scale; /* digits past the third are truncated */
            scale /= 10;
        }
        if (i == start)
            return -1;
    }
    int offset_min = 0;
    if (i < len) {
        if (s[i] == 'Z' || s[i] == 'z') {
            i++;
        } else if (s[i] == '+' || s[i] == '-') {
            int sign = s[i] == '-' ? -1 : 1;
            i++;
            if (len - i < 4)
                return -1;
            int oh = digits(s + i, 2);
            i += 2;
            if (s[i] == ':')
                i++;
            if (len - i < 2)
                return -1;
            int om = digits(s + i, 2);
            i += 2;
            if (oh < 0 || oh > 23 || om < 0 || om > 59)
                return -1;
            offset_min = sign * (oh * 60 + om);
        } else {
            return -1;
        }
    }
    if (i != len)
        return -1;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = ((days * 24 + h) * 60 + mi) * 60 + sec - (int64_t)offset_min * 60;
    *out_ms = secs * 1000 + frac_ms;
    return 0;
}

/* ---------------------------------------------------------------- numbers */

/* End of the JSON number starting at p, or NULL if [p, end) does not start with one.
 * Also says whether it is a plain non-negative integer of at most 19 digits (so it cannot
 * overflow) and if so gives its value: that is what nearly every field holds, and it
 * spares the fields a second pass over the digits. */
static const char *number_end(const char *p, const char *end, uint64_t *u, bool *plain)
{
    bool neg = false;
    uint64_t v = 0;
    if (p < end && *p == '-') {
        p++;
        neg = true;
    }
    if (p >= end)
        return NULL;
    const char *digits_at = p;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && is_digit(*p))
            v = v * 10 + (unsigned)(*p++ - '0'); /* wraps harmlessly past 19 digits */
    } else {
        return NULL;
    }
    bool pl = !neg && p - digits_at <= 19;
    if (p < end && *p == '.') {
        pl = false;
        p++;
        if (p >= end || !is_digit(*p))
            return NULL;
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        pl = false;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p))
            return NULL;
        while (p < end && is_digit(*p))
            p++;
    }
    *u = v;
    *plain = pl;
    return p;
}

typedef struct dnum {
    uint64_t mag;  /* |value| * 10^k, truncated */
    bool neg;      /* a '-' sign was written */
    bool zero;     /* every digit is 0 */
    bool exact;    /* nothing was truncated */
    bool overflow; /* mag does not fit in 64 bits */
} dnum_t;

/* Exact conversion of a valid JSON number (number_end() checked it) to |value| * 10^k:
 * integer arithmetic on the digit string, so no float rounding and no locale. Only for
 * the numbers number_end() does not call plain. */
static void decimal_scaled(const char *s, size_t n, int k, dnum_t *r)
{
    const char *p = s, *end = s + n;
    r->neg = *p == '-';
    if (r->neg)
        p++;
    const char *ib = p;
    while (p < end && is_digit(*p))
        p++;
    const char *ie = p, *fb = p, *fe = p;
    if (p < end && *p == '.') {
        fb = ++p;
        while (p < end && is_digit(*p))
            p++;
        fe = p;
    }
    int64_t exp = 0;
    if (p < end) { /* 'e' or 'E' */
        p++;
        bool eneg = *p == '-';
        if (*p == '+' || *p == '-')
            p++;
        for (; p < end; p++)
            if (exp < 1000000) /* saturate: beyond this every nonzero value overflows */
                exp = exp * 10 + (*p - '0');
        if (eneg)
            exp = -exp;
    }
    /* keep = how many leading digits land left of the decimal point after scaling */
    int64_t keep = (int64_t)(ie - ib) + exp + k;
    int64_t nint = ie - ib, ndig = nint + (fe - fb);
    uint64_t m = 0;
    bool zero = true, exact = true, ovf = false;
    for (int64_t i = 0; i < ndig; i++) {
        unsigned c = (unsigned)((i < nint ? ib[i] : fb[i - nint]) - '0');
        if (c)
            zero = false;
        if (i < keep) {
            if (m > (UINT64_MAX - c) / 10)
                ovf = true;
            else
                m = m * 10 + c;
        } else if (c) {
            exact = false;
        }
    }
    for (int64_t i = ndig; i < keep && m != 0 && !ovf; i++) {
        if (m > UINT64_MAX / 10)
            ovf = true;
        else
            m *= 10;
    }
    r->mag = m;
    r->zero = zero;
    r->exact = exact;
    r->overflow = ovf && !zero;
}

/* ---------------------------------------------------------------- decoding state */

typedef enum jtype { JV_STRING, JV_NUMBER, JV_TRUE, JV_FALSE, JV_NULL, JV_OBJECT, JV_ARRAY } jtype_t;

static const char *jtype_name(jtype_t t)
{
    static const char *const n[] = {"string", "number", "true", "false", "null", "object", "array"};
    return n[t];
}

/* A value as it sits in the input: strings are the raw bytes between the quotes. */
typedef struct jval {
    const char *s;
    size_t n;
    uint64_t u;   /* JV_NUMBER with plain set: its value */
    jtype_t t;
    bool escaped; /* JV_STRING: contains backslash escapes, decode before use */
    bool plain;   /* JV_NUMBER: see number_end() */
} jval_t;

typedef struct dec {
    const char *base, *end;
    char *detail;
    size_t detail_len;
} dec_t;

__attribute__((format(printf, 3, 4))) static np_record_reason_t
fail(dec_t *d, np_record_reason_t r, const char *fmt, ...)
{
    if (d->detail && d->detail_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->detail, d->detail_len, fmt, ap);
        va_end(ap);
    }
    return r;
}

/* Printable, bounded copy of input for a detail string. */
typedef struct quoted {
    char s[NP_QUOTE_MAX + 4];
} quoted_t;

static quoted_t quote(const char *s, size_t n)
{
    quoted_t q;
    size_t m = n > NP_QUOTE_MAX ? NP_QUOTE_MAX : n, i;
    for (i = 0; i < m; i++) {
        unsigned char c = (unsigned char)s[i];
        q.s[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (n > m) {
        memcpy(q.s + i, "...", 3);
        i += 3;
    }
    q.s[i] = '\0';
    return q;
}

static size_t off(const dec_t *d, const char *p)
{
    return (size_t)(p - d->base);
}

/* The syntax error at p: what is there, and where. */
static np_record_reason_t unexpected(dec_t *d, const char *p, np_record_reason_t r)
{
    if (p >= d->end)
        return fail(d, r, "unexpected end of input at offset %zu", off(d, p));
    unsigned char c = (unsigned char)*p;
    if (c == 0)
        return fail(d, r, "NUL byte at offset %zu", off(d, p));
    if (c >= 0x20 && c < 0x7f)
        return fail(d, r, "unexpected character '%c' at offset %zu", c, off(d, p));
    return fail(d, r, "unexpected byte 0x%02x at offset %zu", c, off(d, p));
}

/* ---------------------------------------------------------------- JSON scanning */

static inline const char *skip_ws(const char *p, const char *end)
{
    if (p < end && (unsigned char)*p > ' ') /* the usual case: compact JSON */
        return p;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

static inline bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned hex4(const char *s)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v = v * 16 + (unsigned)(is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* First byte at or after p that ends a run of plain string bytes: '"', '\\' or a
 * control byte (or end). Keys and values are short, so this matters mostly for the
 * unknown fields we skip. */
static inline const char *skip_plain(const char *p, const char *end)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
        /* the high bit of each byte that is '"', '\\' or < 0x20; the lowest one set is
         * exact (the "has zero byte" trick only errs above the first true hit) */
        uint64_t hit = (((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w)) & highs;
        if (hit)
            return p + (__builtin_ctzll(hit) >> 3);
        p += 8;
    }
#endif
    while (p < end && (unsigned char)*p >= 0x20 && *p != '"' && *p != '\\')
        p++;
    return p;
}

/* p is just past the opening quote. Validates escapes and rejects raw control bytes;
 * returns the position after the closing quote, or NULL with the detail set. */
static const char *scan_string(dec_t *d, const char *p, jval_t *v)
{
    const char *start = p;
    bool esc = false;
    while (p < d->end) {
        p = skip_plain(p, d->end);
        if (p >= d->end)
            break;
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            v->s = start;
            v->n = (size_t)(p - start);
            v->t = JV_STRING;
            v->escaped = esc;
            return p + 1;
        }
        if (c == '\\') {
            esc = true;
            if (p + 1 >= d->end)
                break;
            switch (p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                p += 2;
                continue;
            case 'u':
                if (d->end - p < 6 || !is_hex(p[2]) || !is_hex(p[3]) || !is_hex(p[4]) ||
                    !is_hex(p[5])) {
                    fail(d, NP_REC_MALFORMED_JSON, "bad \\u escape at offset %zu", off(d, p));
                    return NULL;
                }
                p += 6;
                continue;
            default:
                fail(d, NP_REC_MALFORMED_JSON, "bad escape at offset %zu", off(d, p));
                return NULL;
            }
        }
        /* what skip_plain stops at otherwise: a raw control byte, which JSON forbids */
        if (c == 0)
            fail(d, NP_REC_MALFORMED_JSON, "NUL byte at offset %zu", off(d, p));
        else
            fail(d, NP_REC_MALFORMED_JSON, "control byte 0x%02x in string at offset %zu", c,
                 off(d, p));
        return NULL;
    }
    fail(d, NP_REC_MALFORMED_JSON, "unterminated string at offset %zu", off(d, start - 1));
    return NULL;
}

static const char *scan_literal(dec_t *d, const char *p, const char *lit, size_t n)
{
    if ((size_t)(d->end - p) < n || memcmp(p, lit, n) != 0) {
        /* point at the first byte that differs */
        size_t i = 0;
        while (p + i < d->end && i < n && p[i] == lit[i])
            i++;
        unexpected(d, p + i, NP_REC_MALFORMED_JSON);
        return NULL;
    }
    return p + n;
}

static const char *scan_value(dec_t *d, const char *p, int depth, jval_t *v);

/* p at '{' or '['; the container is at nesting level depth (top-level object = 1). */
static const char *scan_container(dec_t *d, const char *p, int depth)
{
    if (depth > NP_JSON_MAX_DEPTH) {
        fail(d, NP_REC_MALFORMED_JSON, "nesting deeper than %d at offset %zu", NP_JSON_MAX_DEPTH,
             off(d, p));
        return NULL;
    }
    const bool obj = *p == '{';
    const char close = obj ? '}' : ']';
    jval_t v;
    p = skip_ws(p + 1, d->end);
    if (p < d->end && *p == close)
        return p + 1;
    for (;;) {
        if (obj) {
            if (p >= d->end || *p != '"')
                goto bad;
            if (!(p = scan_string(d, p + 1, &v)))
                return NULL;
            p = skip_ws(p, d->end);
            if (p >= d->end || *p != ':')
                goto bad;
            p++;
        }
        if (!(p = scan_value(d, p, depth, &v)))
            return NULL;
        p = skip_ws(p, d->end);
        if (p < d->end && *p == ',') {
            p = skip_ws(p + 1, d->end);
            continue;
        }
        if (p < d->end && *p == close)
            return p + 1;
        goto bad;
    }
bad:
    unexpected(d, p, NP_REC_MALFORMED_JSON);
    return NULL;
}

/* One value of any type at p (after optional whitespace), inside a container at depth. */
static const char *scan_value(dec_t *d, const char *p, int depth, jval_t *v)
{
    p = skip_ws(p, d->end);
    if (p >= d->end) {
        unexpected(d, p, NP_REC_MALFORMED_JSON);
        return NULL;
    }
    const char *q;
    switch (*p) {
    case '"':
        return scan_string(d, p + 1, v);
    case '{':
    case '[':
        v->t = *p == '{' ? JV_OBJECT : JV_ARRAY;
        v->s = p;
        q = scan_container(d, p, depth + 1);
        if (q)
            v->n = (size_t)(q - p);
        return q;
    case 't':
        v->t = JV_TRUE;
        return scan_literal(d, p, "true", 4);
    case 'f':
        v->t = JV_FALSE;
        return scan_literal(d, p, "false", 5);
    case 'n':
        v->t = JV_NULL;
        return scan_literal(d, p, "null", 4);
    default:
        if (*p == '-' || is_digit(*p)) {
            q = number_end(p, d->end, &v->u, &v->plain);
            if (!q) {
                fail(d, NP_REC_MALFORMED_JSON, "bad number at offset %zu", off(d, p));
                return NULL;
            }
            v->t = JV_NUMBER;
            v->s = p;
            v->n = (size_t)(q - p);
            return q;
        }
        unexpected(d, p, NP_REC_MALFORMED_JSON);
        return NULL;
    }
}

/* Decode an already-validated JSON string body into dst (UTF-8). Only strings with
 * escapes come here, which our producers practically never send. */
static int unescape(const char *s, size_t n, char *dst, size_t cap, size_t *outn)
{
    const char *end = s + n;
    size_t o = 0;
    while (s < end) {
        uint32_t cp = (unsigned char)*s;
        if (cp != '\\') {
            s++;
        } else {
            char e = s[1];
            s += 2;
            switch (e) {
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u':
                cp = hex4(s);
                s += 4;
                if (cp >= 0xd800 && cp <= 0xdbff && end - s >= 6 && s[0] == '\\' && s[1] == 'u') {
                    uint32_t lo = hex4(s + 2);
                    if (lo >= 0xdc00 && lo <= 0xdfff) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        s += 6;
                    }
                }
                break;
            default: cp = (unsigned char)e; break; /* " \ / */
            }
        }
        size_t need = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (cap - o < need)
            return -1;
        if (need == 1) {
            dst[o++] = (char)cp;
        } else if (need == 2) {
            dst[o++] = (char)(0xc0 | (cp >> 6));
            dst[o++] = (char)(0x80 | (cp & 0x3f));
        } else if (need == 3) {
            dst[o++] = (char)(0xe0 | (cp >> 12));
            dst[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            dst[o++] = (char)(0x80 | (cp & 0x3f));
        } else {
            dst[o++] = (char)(0xf0 | (cp >> 18));
            dst[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
            dst[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            dst[o++] = (char)(0x80 | (cp & 0x3f));
        }
    }
    *outn = o;
    return 0;
}

/* The string's text: the raw slice when it has no escapes (the usual case), else
 * decoded into tmp. -1 if the decoded text does not fit. */
static int jstr(const jval_t *v, char *tmp, size_t cap, const char **s, size_t *n)
{
    if (!v->escaped) {
        *s = v->s;
        *n = v->n;
        return 0;
    }
    *s = tmp;
    return unescape(v->s, v->n, tmp, cap, n);
}

/* ---------------------------------------------------------------- fields */

enum { F_TS, F_SRC, F_DST, F_SPORT, F_DPORT, F_PROTO, F_BYTES, F_PACKETS, F__COUNT };

typedef struct jkey {
    const char *name;
    unsigned field;
} jkey_t;

enum {
    K_TS, K_TIMESTAMP, K_SRC_IP, K_SOURCE_IP, K_DST_IP, K_DESTINATION_IP, K_SRC_PORT,
    K_SOURCE_PORT, K_DST_PORT, K_DESTINATION_PORT, K_PROTO, K_PROTOCOL, K_BYTES, K_BYTES_SENT,
    K_PACKETS, K__COUNT
};

static const jkey_t keys[K__COUNT] = {
    [K_TS] = {"ts", F_TS},
    [K_TIMESTAMP] = {"timestamp", F_TS},
    [K_SRC_IP] = {"src_ip", F_SRC},
    [K_SOURCE_IP] = {"source_ip", F_SRC},
    [K_DST_IP] = {"dst_ip", F_DST},
    [K_DESTINATION_IP] = {"destination_ip", F_DST},
    [K_SRC_PORT] = {"src_port", F_SPORT},
    [K_SOURCE_PORT] = {"source_port", F_SPORT},
    [K_DST_PORT] = {"dst_port", F_DPORT},
    [K_DESTINATION_PORT] = {"destination_port", F_DPORT},
    [K_PROTO] = {"proto", F_PROTO},
    [K_PROTOCOL] = {"protocol", F_PROTO},
    [K_BYTES] = {"bytes", F_BYTES},
    [K_BYTES_SENT] = {"bytes_sent", F_BYTES},
    [K_PACKETS] = {"packets", F_PACKETS},
};
#define NP_LONGEST_KEY 16

/* The known key k names, or NULL. Switching on the length and comparing against
 * literals lets the compiler turn each memcmp into one or two integer compares. */
static const jkey_t *lookup_key(const jval_t *k)
{
    char tmp[NP_LONGEST_KEY];
    const char *s;
    size_t n;
    if (jstr(k, tmp, sizeof tmp, &s, &n) != 0)
        return NULL;
#define NP_KEY(id, lit)                                                                            \
    if (memcmp(s, lit, sizeof lit - 1) == 0)                                                       \
    return &keys[id]
    switch (n) {
    case 2: NP_KEY(K_TS, "ts"); break;
    case 5: NP_KEY(K_BYTES, "bytes"); NP_KEY(K_PROTO, "proto"); break;
    case 6: NP_KEY(K_SRC_IP, "src_ip"); NP_KEY(K_DST_IP, "dst_ip"); break;
    case 7: NP_KEY(K_PACKETS, "packets"); break;
    case 8:
        NP_KEY(K_SRC_PORT, "src_port");
        NP_KEY(K_DST_PORT, "dst_port");
        NP_KEY(K_PROTOCOL, "protocol");
        break;
    case 9: NP_KEY(K_TIMESTAMP, "timestamp"); NP_KEY(K_SOURCE_IP, "source_ip"); break;
    case 10: NP_KEY(K_BYTES_SENT, "bytes_sent"); break;
    case 11: NP_KEY(K_SOURCE_PORT, "source_port"); break;
    case 14: NP_KEY(K_DESTINATION_IP, "destination_ip"); break;
    case 16: NP_KEY(K_DESTINATION_PORT, "destination_port"); break;
    }
#undef NP_KEY
    return NULL;
}

typedef struct fields {
    jval_t v[F__COUNT];
    const char *name[F__COUNT]; /* the alias the record used, for details */
    unsigned have;              /* bit per F_* */
} fields_t;

/* A non-negative integer in [0, max] from a number or numeric string. */
static np_record_reason_t field_uint(dec_t *d, const char *name, const jval_t *v, uint64_t max,
                                     uint64_t *out)
{
    char tmp[NP_SHORT_STR];
    const char *s;
    size_t n;
    uint64_t u;
    bool plain;
    if (v->t == JV_NUMBER) {
        s = v->s;
        n = v->n;
        u = v->u;
        plain = v->plain;
    } else if (v->t == JV_STRING) {
        if (jstr(v, tmp, sizeof tmp, &s, &n) != 0 || number_end(s, s + n, &u, &plain) != s + n)
            return fail(d, NP_REC_BAD_TYPE, "field %s: \"%s\" is not a number", name,
                        quote(v->s, v->n).s);
    } else {
        return fail(d, NP_REC_BAD_TYPE, "field %s: expected a number, got %s", name,
                    jtype_name(v->t));
    }
    if (!plain) {
        dnum_t r;
        decimal_scaled(s, n, 0, &r);
        if (r.neg && !r.zero)
            return fail(d, NP_REC_OUT_OF_RANGE, "field %s: %s is negative", name, quote(s, n).s);
        if (!r.exact)
            return fail(d, NP_REC_OUT_OF_RANGE, "field %s: %s is not an integer", name,
                        quote(s, n).s);
        u = r.overflow ? UINT64_MAX : r.mag;
    }
    if (u > max)
        return fail(d, NP_REC_OUT_OF_RANGE, "field %s: %s > %llu", name, quote(s, n).s,
                    (unsigned long long)max);
    *out = u;
    return NP_REC_OK;
}

static np_record_reason_t field_ip(dec_t *d, const char *name, const jval_t *v, np_ip_t *out)
{
    char tmp[NP_SHORT_STR];
    const char *s;
    size_t n;
    if (v->t != JV_STRING)
        return fail(d, NP_REC_BAD_TYPE, "field %s: expected a string, got %s", name,
                    jtype_name(v->t));
    if (jstr(v, tmp, sizeof tmp, &s, &n) != 0 || np_ip_parse(s, n, out) != 0)
        return fail(d, NP_REC_BAD_IP, "field %s: \"%s\" is not an IP address", name,
                    quote(v->s, v->n).s);
    return NP_REC_OK;
}

/* Epoch seconds below 1e11 (year 5138), milliseconds above: the two units producers use
 * cannot be confused for any plausible date. */
static np_record_reason_t number_time(dec_t *d, const char *name, const char *s, size_t n,
                                      uint64_t u, bool plain, int64_t *out)
{
    if (plain) {
        if (u < 100000000000ULL)
            u *= 1000;
        else if (u > (uint64_t)INT64_MAX)
            return fail(d, NP_REC_OUT_OF_RANGE, "field %s: %s is too large", name, quote(s, n).s);
        *out = (int64_t)u;
        return NP_REC_OK;
    }
    dnum_t r;
    decimal_scaled(s, n, 3, &r);
    if (r.neg && !r.zero)
        return fail(d, NP_REC_OUT_OF_RANGE, "field %s: %s is negative", name, quote(s, n).s);
    if (r.overflow || r.mag >= 100000000000000ULL) {
        decimal_scaled(s, n, 0, &r);
        if (r.overflow || r.mag > (uint64_t)INT64_MAX)
            return fail(d, NP_REC_OUT_OF_RANGE, "field %s: %s is too large", name, quote(s, n).s);
    }
    *out = (int64_t)r.mag;
    return NP_REC_OK;
}

static np_record_reason_t field_time(dec_t *d, const char *name, const jval_t *v, int64_t *out)
{
    if (v->t == JV_NUMBER)
        return number_time(d, name, v->s, v->n, v->u, v->plain, out);
    if (v->t != JV_STRING)
        return fail(d, NP_REC_BAD_TYPE, "field %s: expected a number or string, got %s", name,
                    jtype_name(v->t));
    char tmp[NP_SHORT_STR];
    const char *s;
    size_t n;
    uint64_t u;
    bool plain;
    if (jstr(v, tmp, sizeof tmp, &s, &n) == 0) {
        if (number_end(s, s + n, &u, &plain) == s + n)
            return number_time(d, name, s, n, u, plain, out);
        if (np_time_parse_iso8601(s, n, out) == 0) {
            if (*out < 0)
                return fail(d, NP_REC_OUT_OF_RANGE, "field %s: \"%s\" is before 1970", name,
                            quote(s, n).s);
            return NP_REC_OK;
        }
    }
    return fail(d, NP_REC_BAD_TIMESTAMP, "field %s: \"%s\" is not a timestamp", name,
                quote(v->s, v->n).s);
}

static np_record_reason_t field_proto(dec_t *d, const char *name, const jval_t *v, uint8_t *out)
{
    static const struct {
        char name[10];
        uint8_t len;
        uint8_t num;
    } protos[] = {
        {"tcp", 3, NP_PROTO_TCP},      {"udp", 3, NP_PROTO_UDP},
        {"icmp", 4, NP_PROTO_ICMP},    {"icmpv6", 6, NP_PROTO_ICMPV6},
        {"ipv6-icmp", 9, NP_PROTO_ICMPV6}, {"gre", 3, 47},
        {"esp", 3, 50},                {"ah", 2, 51},
        {"sctp", 4, 132},
    };
    if (v->t == JV_STRING) {
        char tmp[NP_SHORT_STR];
        const char *s = NULL;
        size_t n = 0;
        bool fits = jstr(v, tmp, sizeof tmp, &s, &n) == 0;
        /* Numeric strings ("6") take the number route below; anything else is a name. */
        uint64_t u;
        bool plain;
        if (!fits || number_end(s, s + n, &u, &plain) != s + n) {
            char low[sizeof protos[0].name];
            if (fits && n <= sizeof low) {
                for (size_t i = 0; i < n; i++)
                    low[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] | 0x20) : s[i];
                for (size_t i = 0; i < sizeof protos / sizeof protos[0]; i++)
                    if (protos[i].len == n && memcmp(protos[i].name, low, n) == 0) {
                        *out = protos[i].num;
                        return NP_REC_OK;
                    }
            }
            return fail(d, NP_REC_OUT_OF_RANGE, "field %s: unknown protocol \"%s\"", name,
                        quote(v->s, v->n).s);
        }
    }
    uint64_t num;
    np_record_reason_t r = field_uint(d, name, v, 255, &num);
    if (r == NP_REC_OK)
        *out = (uint8_t)num;
    return r;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

/* what: "field ts" or "Kafka timestamp", for the detail. */
static np_record_reason_t check_future(dec_t *d, const char *what, const char *name, int64_t ts,
                                       int64_t now_ms, const np_record_limits_t *lim)
{
    if (lim->max_future_ms > 0 && ts > sat_add(now_ms, lim->max_future_ms))
        return fail(d, NP_REC_OUT_OF_RANGE, "%s%s: %lld ms is more than %lld ms ahead of now", what,
                    name, (long long)ts, (long long)lim->max_future_ms);
    return NP_REC_OK;
}

/* ---------------------------------------------------------------- JSON record */

static np_record_reason_t decode_json(dec_t *d, const char *p, int64_t kafka_ts_ms, int64_t now_ms,
                                      const np_record_limits_t *lim, np_record_t *rec)
{
    fields_t f;
    f.have = 0;
    jval_t k, v;

    p = skip_ws(p + 1, d->end); /* past '{' */
    if (p < d->end && *p == '}') {
        p++;
    } else {
        for (;;) {
            if (p >= d->end || *p != '"')
                return unexpected(d, p, NP_REC_MALFORMED_JSON);
            if (!(p = scan_string(d, p + 1, &k)))
                return NP_REC_MALFORMED_JSON;
            p = skip_ws(p, d->end);
            if (p >= d->end || *p != ':')
                return unexpected(d, p, NP_REC_MALFORMED_JSON);
            if (!(p = scan_value(d, p + 1, 1, &v)))
                return NP_REC_MALFORMED_JSON;
            const jkey_t *key = lookup_key(&k);
            if (key) {
                unsigned fi = key->field;
                if (v.t == JV_NULL) {
                    f.have &= ~(1u << fi);
                } else {
                    f.v[fi] = v;
                    f.name[fi] = key->name;
                    f.have |= 1u << fi;
                }
            }
            p = skip_ws(p, d->end);
            if (p < d->end && *p == ',') {
                p = skip_ws(p + 1, d->end);
                continue;
            }
            if (p < d->end && *p == '}') {
                p++;
                break;
            }
            return unexpected(d, p, NP_REC_MALFORMED_JSON);
        }
    }
    p = skip_ws(p, d->end);
    if (p < d->end) {
        if (*p == '\0')
            return fail(d, NP_REC_MALFORMED_JSON, "NUL byte at offset %zu", off(d, p));
        return fail(d, NP_REC_MALFORMED_JSON, "trailing data at offset %zu", off(d, p));
    }

    if (!(f.have & (1u << F_SRC)))
        return fail(d, NP_REC_MISSING_FIELD, "missing field src_ip");
    if (!(f.have & (1u << F_DST)))
        return fail(d, NP_REC_MISSING_FIELD, "missing field dst_ip");
    if (!(f.have & (1u << F_TS)) && kafka_ts_ms < 0)
        return fail(d, NP_REC_MISSING_FIELD, "missing field ts and no Kafka timestamp");

    np_record_reason_t r;
    if ((r = field_ip(d, f.name[F_SRC], &f.v[F_SRC], &rec->src)) != NP_REC_OK ||
        (r = field_ip(d, f.name[F_DST], &f.v[F_DST], &rec->dst)) != NP_REC_OK)
        return r;
    if (f.have & (1u << F_TS)) {
        if ((r = field_time(d, f.name[F_TS], &f.v[F_TS], &rec->ts_ms)) != NP_REC_OK)
            return r;
        if ((r = check_future(d, "field ", f.name[F_TS], rec->ts_ms, now_ms, lim)) != NP_REC_OK)
            return r;
    } else {
        rec->ts_ms = kafka_ts_ms;
        if ((r = check_future(d, "Kafka timestamp", "", rec->ts_ms, now_ms, lim)) != NP_REC_OK)
            return r;
    }
    uint64_t u;
    rec->src_port = 0;
    if (f.have & (1u << F_SPORT)) {
        if ((r = field_uint(d, f.name[F_SPORT], &f.v[F_SPORT], 65535, &u)) != NP_REC_OK)
            return r;
        rec->src_port = (uint16_t)u;
    }
    rec->dst_port = 0;
    if (f.have & (1u << F_DPORT)) {
        if ((r = field_uint(d, f.name[F_DPORT], &f.v[F_DPORT], 65535, &u)) != NP_REC_OK)
            return r;
        rec->dst_port = (uint16_t)u;
    }
    rec->proto = 0;
    if ((f.have & (1u << F_PROTO)) &&
        (r = field_proto(d, f.name[F_PROTO], &f.v[F_PROTO], &rec->proto)) != NP_REC_OK)
        return r;
    rec->bytes = 0;
    if ((f.have & (1u << F_BYTES)) &&
        (r = field_uint(d, f.name[F_BYTES], &f.v[F_BYTES], lim->max_flow_bytes, &rec->bytes)) !=
            NP_REC_OK)
        return r;
    rec->packets = 1;
    if ((f.have & (1u << F_PACKETS)) &&
        (r = field_uint(d, f.name[F_PACKETS], &f.v[F_PACKETS], lim->max_flow_packets,
                        &rec->packets)) != NP_REC_OK)
        return r;
    return NP_REC_OK;
}

/* ---------------------------------------------------------------- CSV record */

static const char *trim_left(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const char *trim_right(const char *p, const char *e)
{
    while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    return e;
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static np_record_reason_t decode_csv(dec_t *d, const char *p, const char *e, int64_t kafka_ts_ms,
                                     int64_t now_ms, const np_record_limits_t *lim,
                                     np_record_t *rec)
{
    static const char *const names[3] = {"source_ip", "destination_ip", "bytes_sent"};
    jval_t col[3];
    int ncol = 0;
    /* p..e is already stripped of surrounding blanks, so a trailing "\r\n" is gone. */
    for (const char *q = p;; q++) {
        if (q < e && (*q == '\0' || *q == '\n' || *q == '\r')) {
            if (*q == '\0')
                return fail(d, NP_REC_MALFORMED_CSV, "NUL byte at offset %zu", off(d, q));
            return fail(d, NP_REC_MALFORMED_CSV, "line break at offset %zu: one record per message",
                        off(d, q));
        }
        if (q == e || *q == ',') {
            if (ncol < 3) {
                const char *b = trim_left(p, q), *fe = trim_right(b, q);
                if (fe - b >= 2 && *b == '"' && fe[-1] == '"') {
                    b++;
                    fe--;
                }
                col[ncol].s = b;
                col[ncol].n = (size_t)(fe - b);
                col[ncol].t = JV_STRING;
                col[ncol].escaped = false;
            }
            ncol++;
            if (q == e)
                break;
            p = q + 1;
        }
    }
    if (ncol != 3)
        return fail(d, NP_REC_MALFORMED_CSV, "expected 3 fields (%s,%s,%s), got %d", names[0],
                    names[1], names[2], ncol);

    np_record_reason_t r;
    uint64_t u;
    bool plain;
    if (np_ip_parse(col[0].s, col[0].n, &rec->src) != 0) {
        /* A header is words where an address and a count should be; "localhost,..,100" is
         * a bad address instead. */
        if (col[0].n > 0 && is_alpha(col[0].s[0]) &&
            number_end(col[2].s, col[2].s + col[2].n, &u, &plain) != col[2].s + col[2].n)
            return fail(d, NP_REC_MALFORMED_CSV, "header line");
        return fail(d, NP_REC_BAD_IP, "field %s: \"%s\" is not an IP address", names[0],
                    quote(col[0].s, col[0].n).s);
    }
    if ((r = field_ip(d, names[1], &col[1], &rec->dst)) != NP_REC_OK ||
        (r = field_uint(d, names[2], &col[2], lim->max_flow_bytes, &rec->bytes)) != NP_REC_OK)
        return r;
    if (kafka_ts_ms < 0)
        return fail(d, NP_REC_MISSING_FIELD, "no timestamp");
    rec->ts_ms = kafka_ts_ms;
    if ((r = check_future(d, "Kafka timestamp", "", rec->ts_ms, now_ms, lim)) != NP_REC_OK)
        return r;
    rec->src_port = 0;
    rec->dst_port = 0;
    rec->proto = 0;
    rec->packets = 1;
    return NP_REC_OK;
}

/* ---------------------------------------------------------------- fast path */

/*
 * The layout netpulse-generator writes, and most producers keep (fixed key order, compact):
 *   {"ts":N,"src_ip":"A","dst_ip":"B","src_port":N,"dst_port":N,"proto":"P","bytes":N,"packets":N}
 * (or with netpulse-ingest's ignored tail ,"exporter":"A","in_if":N,"out_if":N,"sampling":N
 * before the brace) matched literally, without scanning keys. It only ever accepts: whatever it does not
 * recognise exactly (another order, spaces, escapes, unknown keys, nulls, strings for
 * numbers, a protocol other than lower-case tcp/udp/icmp, any value the general decoder
 * would refuse) goes to the general decoder, which alone produces errors and details. On
 * success its record equals the general decoder's (tests/unit/test_record.c and the fuzz
 * target compare the two).
 */

/* A plain JSON unsigned integer (no sign, fraction, exponent or leading zero, at most 19
 * digits) at *p, followed by `next`. Advances *p past `next`. */
static bool fast_uint(const char **p, const char *end, char next, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    int n = 0;
    while (s < end && is_digit(*s) && n < 20) {
        v = v * 10 + (uint64_t)(*s++ - '0');
        n++;
    }
    if (n == 0 || n > 19 || (n > 1 && **p == '0') || s >= end || *s != next)
        return false;
    *out = v;
    *p = s + 1;
    return true;
}

/* A quoted address at *p (just past the opening quote) followed by `next`. */
static bool fast_ip(const char **p, const char *end, char next, np_ip_t *out)
{
    const char *s = *p, *q = s;
    while (q < end && (is_hex(*q) || *q == '.' || *q == ':'))
        q++;
    if (q + 1 >= end || q[0] != '"' || q[1] != next || np_ip_parse(s, (size_t)(q - s), out) != 0)
        return false;
    *p = q + 2;
    return true;
}

static bool fast_lit(const char **p, const char *end, const char *lit, size_t n)
{
    if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
        return false;
    *p += n;
    return true;
}

static bool decode_json_fast(const char *p, const char *end, int64_t now_ms,
                             const np_record_limits_t *lim, np_record_t *rec)
{
#define LIT(s) fast_lit(&p, end, s, sizeof s - 1)
    uint64_t ts, sport, dport;
    if (!LIT("{\"ts\":") || !fast_uint(&p, end, ',', &ts) || !LIT("\"src_ip\":\"") ||
        !fast_ip(&p, end, ',', &rec->src) || !LIT("\"dst_ip\":\"") || !fast_ip(&p, end, ',', &rec->dst) ||
        !LIT("\"src_port\":") || !fast_uint(&p, end, ',', &sport) || !LIT("\"dst_port\":") ||
        !fast_uint(&p, end, ',', &dport) || !LIT("\"proto\":\""))
        return false;
    if (LIT("tcp\","))
        rec->proto = NP_PROTO_TCP;
    else if (LIT("udp\","))
        rec->proto = NP_PROTO_UDP;
    else if (LIT("icmp\","))
        rec->proto = NP_PROTO_ICMP;
    else
        return false;
    if (!LIT("\"bytes\":") || !fast_uint(&p, end, ',', &rec->bytes) || !LIT("\"packets\":"))
        return false;
    const char *tail = p;
    if (!fast_uint(&p, end, '}', &rec->packets)) {
        /* netpulse-ingest's records end with keys the decoder ignores (np_flow_format):
         * ,"exporter":"A","in_if":N,"out_if":N,"sampling":N} */
        uint64_t ignored;
        p = tail;
        if (!fast_uint(&p, end, ',', &rec->packets) || !LIT("\"exporter\":\""))
            return false;
        while (p < end && (is_hex(*p) || *p == '.' || *p == ':')) /* ignored: plain text is enough */
            p++;
        if (!LIT("\",\"in_if\":") || !fast_uint(&p, end, ',', &ignored) || !LIT("\"out_if\":") ||
            !fast_uint(&p, end, ',', &ignored) || !LIT("\"sampling\":") || !fast_uint(&p, end, '}', &ignored))
            return false;
    }
    if (p != end)
        return false;
#undef LIT
    /* The general decoder's rules for these values (number_time, field_uint, check_future). */
    if (ts < 100000000000ULL)
        ts *= 1000;
    else if (ts > (uint64_t)INT64_MAX)
        return false;
    if ((lim->max_future_ms > 0 && (int64_t)ts > sat_add(now_ms, lim->max_future_ms)) || sport > 65535 || dport > 65535 ||
        rec->bytes > lim->max_flow_bytes || rec->packets > lim->max_flow_packets)
        return false;
    rec->ts_ms = (int64_t)ts;
    rec->src_port = (uint16_t)sport;
    rec->dst_port = (uint16_t)dport;
    return true;
}

/* ---------------------------------------------------------------- entry point */

static inline bool is_blank(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static np_record_reason_t decode(const char *buf, size_t len, int64_t kafka_ts_ms, int64_t now_ms,
                                 const np_record_limits_t *lim, np_record_t *out, char *detail,
                                 size_t detail_len, bool fast)
{
    np_record_limits_t deflim;
    if (!lim) {
        np_record_limits_default(&deflim);
        lim = &deflim;
    }
    /* end is set once buf is known to be non-empty: NULL + 0 is undefined in C */
    dec_t d = {.base = buf, .end = buf, .detail = detail, .detail_len = detail_len};
    if (detail && detail_len)
        detail[0] = '\0';
    /* Before looking at a single byte: the limit exists to bound work on hostile input. */
    if (len > lim->max_bytes)
        return fail(&d, NP_REC_OVERSIZED, "%zu bytes > %zu", len, lim->max_bytes);
    if (len == 0)
        return fail(&d, NP_REC_EMPTY, "empty value");
    d.end = buf + len;

    const char *p = buf, *e = buf + len;
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    while (p < e && is_blank(*p))
        p++;
    if (p == e)
        return fail(&d, NP_REC_EMPTY, "blank value");

    np_record_t rec;
    /* padding included, so callers may hash or memcmp whole records */
    memset(&rec, 0, sizeof rec);
    if (fast && p == buf && decode_json_fast(p, e, now_ms, lim, &rec)) {
        *out = rec;
        return NP_REC_OK;
    }
    memset(&rec, 0, sizeof rec); /* the fast path may have filled some fields */
    np_record_reason_t r;
    if (*p == '{') {
        r = decode_json(&d, p, kafka_ts_ms, now_ms, lim, &rec);
    } else if (*p == '[') {
        r = fail(&d, NP_REC_MALFORMED_JSON, "top-level value is not an object");
    } else {
        while (e > p && is_blank(e[-1]))
            e--;
        r = decode_csv(&d, p, e, kafka_ts_ms, now_ms, lim, &rec);
    }
    if (r == NP_REC_OK)
        *out = rec;
    return r;
}

np_record_reason_t np_record_decode(const char *buf, size_t len, int64_t kafka_ts_ms,
                                    int64_t now_ms, const np_record_limits_t *lim,
                                    np_record_t *out, char *detail, size_t detail_len)
{
    return decode(buf, len, kafka_ts_ms, now_ms, lim, out, detail, detail_len, true);
}

np_record_reason_t np_record_decode_general(const char *buf, size_t len, int64_t kafka_ts_ms,
                                            int64_t now_ms, const np_record_limits_t *lim,
                                            np_record_t *out, char *detail, size_t detail_len)
{
    return decode(buf, len, kafka_ts_ms, now_ms, lim, out, detail, detail_len, false);
}
