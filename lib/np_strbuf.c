/* np_strbuf: growable text buffer. See np_strbuf.h. */
#include "np_strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void np_strbuf_init(np_strbuf_t *sb) { memset(sb, 0, sizeof(*sb)); }

void np_strbuf_free(np_strbuf_t *sb) {
    free(sb->buf);
    memset(sb, 0, sizeof(*sb));
}

void np_strbuf_reset(np_strbuf_t *sb) {
    sb->len = 0;
    sb->oom = 0;
    if (sb->buf) sb->buf[0] = '\0';
}

static int sb_reserve(np_strbuf_t *sb, size_t extra) {
    if (sb->oom) return -1;
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap) return 0;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < need) cap *= 2;
    char *nb = realloc(sb->buf, cap);
    if (!nb) {
        sb->oom = 1;
        return -1;
    }
    sb->buf = nb;
    sb->cap = cap;
    return 0;
}

void np_strbuf_append(np_strbuf_t *sb, const char *s, size_t n) {
    if (sb_reserve(sb, n) < 0) return;
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void np_strbuf_puts(np_strbuf_t *sb, const char *s) { np_strbuf_append(sb, s, strlen(s)); }

void np_strbuf_putc(np_strbuf_t *sb, char c) { np_strbuf_append(sb, &c, 1); }

void np_strbuf_vprintf(np_strbuf_t *sb, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || sb_reserve(sb, (size_t)n) < 0) return;
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    sb->len += (size_t)n;
}

void np_strbuf_printf(np_strbuf_t *sb, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    np_strbuf_vprintf(sb, fmt, ap);
    va_end(ap);
}

size_t np_strbuf_fmt_u64(char *out, uint64_t v) {
    char tmp[NP_U64_DIGITS];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(out, tmp + i, sizeof(tmp) - i);
    return sizeof(tmp) - i;
}

void np_strbuf_u64(np_strbuf_t *sb, uint64_t v) {
    char tmp[NP_U64_DIGITS];
    np_strbuf_append(sb, tmp, np_strbuf_fmt_u64(tmp, v));
}

void np_strbuf_i64(np_strbuf_t *sb, int64_t v) {
    if (v < 0) {
        np_strbuf_putc(sb, '-');
        np_strbuf_u64(sb, (uint64_t)0 - (uint64_t)v);
    } else {
        np_strbuf_u64(sb, (uint64_t)v);
    }
}

void np_strbuf_json_str(np_strbuf_t *sb, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    np_strbuf_putc(sb, '"');
    size_t run = 0; /* copy unescaped runs in one append */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        np_strbuf_append(sb, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        switch (c) {
        case '"': np_strbuf_append(sb, "\\\"", 2); break;
        case '\\': np_strbuf_append(sb, "\\\\", 2); break;
        case '\n': np_strbuf_append(sb, "\\n", 2); break;
        case '\r': np_strbuf_append(sb, "\\r", 2); break;
        case '\t': np_strbuf_append(sb, "\\t", 2); break;
        default: np_strbuf_append(sb, esc, 6);
        }
    }
    np_strbuf_append(sb, s + run, n - run);
    np_strbuf_putc(sb, '"');
}
