/*
 * libFuzzer target for np_summary: the gateway reads every result value it publishes with
 * it, so it must never crash, read out of bounds or hang, whatever the bytes. Also: every
 * string field it fills is NUL-terminated inside its array (truncation keeps whole UTF-8
 * characters: no byte sequence is cut in the middle), and a failure always says where.
 *
 * Build: see README.md beside this file (links lib/np_summary.c alone). With
 * -DNP_FUZZ_STANDALONE it is a plain program that runs the target once per file named on
 * the command line (directories are walked one level).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_summary.h"

/* s (of capacity cap) is terminated inside and does not end inside a UTF-8 sequence. */
static void check_str(const char *s, size_t cap) {
    size_t n = strnlen(s, cap);
    if (n >= cap) abort();
    size_t i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) i--; /* back to the last lead byte */
    if (i == n) return;                                            /* ends in ASCII (or empty) */
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (want > 1 && n - (i - 1) < want) abort(); /* a cut character */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    np_summary_t s;
    char err[128];
    memset(err, 'x', sizeof err);
    if (np_summary_parse((const char *)data, size, &s, err, sizeof err) < 0) {
        if (!memchr(err, '\0', sizeof err) || !strstr(err, " at byte ")) abort();
        return 0;
    }
    check_str(s.type, sizeof s.type);
    check_str(s.kind, sizeof s.kind);
    check_str(s.severity, sizeof s.severity);
    check_str(s.entity, sizeof s.entity);
    check_str(s.explanation, sizeof s.explanation);
    return 0;
}

#ifdef NP_FUZZ_STANDALONE
#include <dirent.h>
#include <sys/stat.h>

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    uint8_t *exact = malloc(n ? n : 1); /* exact size, so ASan sees reads past the end */
    if (!exact) return 1;
    memcpy(exact, buf, n);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

int main(int argc, char **argv) {
    int failed = 0;
    long runs = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *dir = opendir(argv[i]);
            struct dirent *de;
            while (dir && (de = readdir(dir))) {
                if (de->d_name[0] == '.') continue;
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
                failed |= run_file(path);
                runs++;
            }
            if (dir) closedir(dir);
        } else {
            failed |= run_file(argv[i]);
            runs++;
        }
    }
    fprintf(stderr, "%ld inputs\n", runs);
    return failed;
}
#endif
