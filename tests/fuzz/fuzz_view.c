/*
 * libFuzzer target for np_viewset_parse (operator views, from configuration) and
 * np_gkey_decode (group keys inside partials). A failure must say why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "np_view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *spec = malloc(size + 1);
    if (!spec) return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    np_viewset_t vs;
    char err[256];
    err[0] = '\0';
    if (np_viewset_parse(&vs, spec, err, sizeof err) < 0 && (!memchr(err, '\0', sizeof err) || !err[0])) abort();
    free(spec);
    np_gkey_t k;
    np_gkey_decode(data, size, &k);
    return 0;
}
