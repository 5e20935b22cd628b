/*
 * np_errstr: the "errstr, errlen" convention of lib/ in one place. Functions that can
 * refuse their input take a caller's buffer (which may be NULL) for the reason and return
 * a code; np_errstr_fail writes the reason and returns -1, so a refusal is one line.
 */
#ifndef NP_ERRSTR_H
#define NP_ERRSTR_H

#include <stddef.h>

/* Formats the reason into errstr (when errstr is not NULL and errlen > 0); returns -1. */
int np_errstr_fail(char *errstr, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
