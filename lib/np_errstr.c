/* np_errstr: see np_errstr.h. */
#include "np_errstr.h"

#include <stdarg.h>
#include <stdio.h>

int np_errstr_fail(char *errstr, size_t errlen, const char *fmt, ...) {
    if (errstr && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}
