/*
 * np_url: showing a URL in logs without what makes it a secret. Webhook URLs often carry
 * a token in the path or query (Slack, Teams, many SaaS hooks) or credentials before the
 * host; logs keep only the scheme, host and port. I/O-free.
 */
#ifndef NP_URL_H
#define NP_URL_H

#include <stddef.h>

/* Writes "scheme://host[:port]/..." (userinfo, path and query dropped) into out. */
void np_url_redact(const char *url, char *out, size_t outlen);

#endif
