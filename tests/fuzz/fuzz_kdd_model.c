/*
 * libFuzzer target for np_kdd_model: the worker loads the classifier file at start-up (an
 * operator-supplied file, but one that travels through images, ConfigMaps and volumes).
 * The loader must refuse anything malformed with a message, never crash, read out of
 * bounds or allocate far beyond what the file can describe; a model it accepts must
 * classify any record (tree walks end at a leaf) and give a class in 0..4 and a
 * confidence in [0, 1].
 *
 * Random bytes almost never end in a matching "crc32" line, so each input is tried twice:
 * as is (the checksum check), and with the right checksum line appended (the grammar
 * behind it). One input in 16 also goes through np_kdd_model_load from a file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "np_crc32.h"
#include "np_kdd_model.h"

static void classify_some(const np_kdd_model_t *m) {
    static const char *syms[][3] = {{"tcp", "http", "SF"}, {"icmp", "ecr_i", "S0"}, {"", "", ""}};
    static const double vals[] = {0, 1, -1, 0.5, 1e300, -1e300, 3.4e38, 1e-45};
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        np_kdd_conn_t c;
        memset(&c, 0, sizeof c);
        c.label = -1;
        for (int i = 0; i < NP_KDD_NCOLS; i++) c.num[i] = vals[(k + (size_t)i) % (sizeof vals / sizeof vals[0])];
        for (int s = 0; s < 3; s++) strcpy(c.sym[s], syms[k % 3][s]);
        double conf = -1;
        int cls = np_kdd_model_classify(m, &c, &conf);
        if (cls < 0 || cls >= NP_KDD_NCLASSES || !(conf >= 0 && conf <= 1)) abort();
    }
    if (!np_kdd_model_version(m) || np_kdd_model_ninputs(m) == 0 || np_kdd_model_ntrees(m) == 0) abort();
}

static void parse_once(const char *buf, size_t len) {
    np_kdd_model_t *m = NULL;
    char err[160];
    memset(err, 'x', sizeof err);
    int rc = np_kdd_model_parse(buf, len, &m, err, sizeof err);
    if (rc == 0) {
        if (!m) abort();
        classify_some(m);
        np_kdd_model_destroy(&m);
        if (m) abort();
    } else if (rc != -1 || m || !memchr(err, '\0', sizeof err) || err[0] == '\0') {
        abort();
    }
}

static void load_once(const uint8_t *data, size_t size) {
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fuzz_kdd_model.%d", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(data, 1, size, f);
    fclose(f);
    np_kdd_model_t *m = NULL;
    char err[200];
    if (np_kdd_model_load(path, &m, err, sizeof err) == 0) {
        classify_some(m);
        np_kdd_model_destroy(&m);
    } else if (m || err[0] == '\0' || !strstr(err, path)) {
        abort(); /* a load error names the file */
    }
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    parse_once((const char *)data, size);
    /* The same body with its checksum line. */
    size_t n = size + 1 + 16;
    char *buf = malloc(n);
    if (!buf) return 0;
    memcpy(buf, data, size);
    size_t len = size;
    if (len && buf[len - 1] != '\n') buf[len++] = '\n';
    len += (size_t)snprintf(buf + len, n - len, "crc32 %08x\n", np_crc32((const uint8_t *)buf, len));
    parse_once(buf, len);
    if ((np_crc32(data, size) & 15) == 0) load_once((const uint8_t *)buf, len);
    free(buf);
    return 0;
}
