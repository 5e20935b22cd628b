/* np_url: URL redaction for logs. See np_url.h. */
#include "np_url.h"

#include <stdio.h>
#include <string.h>

void np_url_redact(const char *url, char *out, size_t outlen) {
    const char *sep = strstr(url, "://");
    if (!sep) {
        snprintf(out, outlen, "(not shown)");
        return;
    }
    const char *host = sep + 3;
    size_t hl = strcspn(host, "/?#");
    const char *at = memchr(host, '@', hl); /* user:password@host */
    if (at) {
        hl -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    snprintf(out, outlen, "%.*s://%.*s%s", (int)(sep - url), url, (int)hl, host, host[hl] ? "/..." : "");
}
