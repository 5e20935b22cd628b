/*
 * libFuzzer target for np_record: every Kafka value the worker sees is attacker-shaped,
 * so the decoder must never crash, read out of bounds or hang, and what it accepts must
 * respect the limits it was given, and agree with the general decoder alone (no fast
 * path). Also exercises np_ip_parse and np_time_parse_iso8601
 * on the raw bytes.
 *
 * Build: see README.md beside this file. With -DNP_FUZZ_STANDALONE it is a plain program
 * that runs the target once per file (or per file in a directory) named on the command
 * line, for compilers without libFuzzer and for replaying a corpus under gdb.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_record.h"

#define NOW_MS 1700000000000LL

/* Invariants of an accepted record. */
static void check_record(const np_record_t *r, const np_record_limits_t *lim)
{
    if (r->ts_ms < 0 || r->ts_ms > NOW_MS + lim->max_future_ms)
        abort();
    if (r->bytes > lim->max_flow_bytes || r->packets > lim->max_flow_packets)
        abort();
    /* Formatting then parsing an address gives it back unchanged. */
    const np_ip_t *ips[2] = {&r->src, &r->dst};
    for (int i = 0; i < 2; i++) {
        char text[64];
        np_ip_t back;
        size_t n = np_ip_format(ips[i], text, sizeof text);
        if (n == 0 || n >= 46 || np_ip_parse(text, n, &back) != 0 ||
            memcmp(back.b, ips[i]->b, 16) != 0)
            abort();
    }
}

static void decode_once(const uint8_t *data, size_t size, int64_t kafka_ts,
                        const np_record_limits_t *lim)
{
    np_record_t rec;
    char detail[96];
    memset(detail, 'x', sizeof detail);
    np_record_reason_t r = np_record_decode((const char *)data, size, kafka_ts, NOW_MS, lim, &rec,
                                           detail, sizeof detail);
    if ((unsigned)r >= NP_REC__COUNT || !memchr(detail, '\0', sizeof detail))
        abort();
    /* The fast path for the usual JSON layout must agree with the general decoder. */
    np_record_t gen;
    char gdetail[96];
    np_record_reason_t g = np_record_decode_general((const char *)data, size, kafka_ts, NOW_MS, lim, &gen,
                                                    gdetail, sizeof gdetail);
    if (g != r || strcmp(gdetail, detail) != 0 || (r == NP_REC_OK && memcmp(&gen, &rec, sizeof rec) != 0))
        abort();
    if (r == NP_REC_OK) {
        if (detail[0] != '\0')
            abort();
        check_record(&rec, lim);
    } else if (detail[0] == '\0' || strcmp(np_record_reason_name(r), "unknown") == 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    np_record_limits_t lim;
    np_record_limits_default(&lim);
    decode_once(data, size, -1, &lim);
    decode_once(data, size, NOW_MS - 5000, &lim);

    /* A tight size limit must be enforced before any parsing. */
    lim.max_bytes = 64;
    np_record_t rec;
    if (size > 64 && np_record_decode((const char *)data, size, -1, NOW_MS, &lim, &rec, NULL, 0) !=
                         NP_REC_OVERSIZED)
        abort();

    np_ip_t ip;
    int parsed = np_ip_parse((const char *)data, size, &ip) == 0;
    if (parsed) {
        char text[64];
        if (np_ip_format(&ip, text, sizeof text) == 0)
            abort();
    }
    /* IPv4 is parsed by hand for speed: it must agree with inet_pton exactly. */
    if (size <= 45 && !memchr(data, ':', size)) {
        char tmp[46];
        struct in_addr a4;
        memcpy(tmp, data, size);
        tmp[size] = '\0';
        int want = !memchr(data, '\0', size) && inet_pton(AF_INET, tmp, &a4) == 1;
        if (want != parsed || (want && (!np_ip_is_v4(&ip) || memcmp(ip.b + 12, &a4, 4) != 0)))
            abort();
    }
    int64_t ms;
    (void)np_time_parse_iso8601((const char *)data, size, &ms);
    return 0;
}

#ifdef NP_FUZZ_STANDALONE
#include <dirent.h>
#include <sys/stat.h>

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    /* Copy to an exact-size heap block so ASan sees reads past the end. */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact)
        return 1;
    memcpy(exact, buf, n);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

int main(int argc, char **argv)
{
    int failed = 0;
    long runs = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *dir = opendir(argv[i]);
            struct dirent *de;
            while (dir && (de = readdir(dir))) {
                if (de->d_name[0] == '.')
                    continue;
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
                failed |= run_file(path);
                runs++;
            }
            if (dir)
                closedir(dir);
        } else {
            failed |= run_file(argv[i]);
            runs++;
        }
    }
    fprintf(stderr, "fuzz_record: %ld inputs run\n", runs);
    return failed;
}
#endif
