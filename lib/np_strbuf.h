/*
 * np_strbuf: an append-only text buffer for building messages (JSON results, metrics
 * exposition, log lines). Grows geometrically and is reused with np_strbuf_reset(), so
 * steady-state use does not allocate. Not thread-safe; one owner.
 */
#ifndef NP_STRBUF_H
#define NP_STRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct np_strbuf {
    char *buf;   /* always NUL-terminated when len > 0 or after the first append */
    size_t len;
    size_t cap;
    int oom;     /* set when an allocation failed; the content is then truncated */
} np_strbuf_t;

void np_strbuf_init(np_strbuf_t *sb);
void np_strbuf_free(np_strbuf_t *sb);
void np_strbuf_reset(np_strbuf_t *sb);
void np_strbuf_append(np_strbuf_t *sb, const char *s, size_t n);
void np_strbuf_puts(np_strbuf_t *sb, const char *s);
void np_strbuf_putc(np_strbuf_t *sb, char c);
void np_strbuf_printf(np_strbuf_t *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void np_strbuf_vprintf(np_strbuf_t *sb, const char *fmt, va_list ap);
void np_strbuf_u64(np_strbuf_t *sb, uint64_t v);
/* v in decimal into out (at most NP_U64_DIGITS bytes, no NUL); returns the length. What
 * np_strbuf_u64 appends, for callers that build text without a buffer (np_coordstore). */
#define NP_U64_DIGITS 20
size_t np_strbuf_fmt_u64(char *out, uint64_t v);
void np_strbuf_i64(np_strbuf_t *sb, int64_t v);
/* Appends s as a JSON string literal, quotes included, escaping as RFC 8259 requires. */
void np_strbuf_json_str(np_strbuf_t *sb, const char *s, size_t n);

#endif
