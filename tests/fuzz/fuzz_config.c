/*
 * libFuzzer target for configuration: the input is a config file (np_config_load with
 * --config) for the coordinator's detector and view options, then np_detect_config_load
 * (thresholds "CIDR pps=N ...", whitelist, every number) and np_views_config_load. Errors
 * must name a key and never repeat a secret.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "np_config.h"
#include "np_detect_cfg.h"

static const np_opt_t OPTS[] = {
    NP_OPTS_COMMON,
    {"redis.password", NP_OPT_STR, "", 0, 0, NULL, "secret"},
    {"redis.password.file", NP_OPT_STR, NULL, 0, 0, NULL, "its file"},
    NP_OPTS_DETECT,
    NP_OPTS_VIEWS("64"),
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("fuzz-config", 0)) < 0) abort();
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size) abort();
    char path[64], err[512];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    char *argv[] = {"fuzz", "--config", path};
    np_config_t *c = np_config_new("fuzz", "fuzz", OPTS, sizeof OPTS / sizeof OPTS[0]);
    if (!c) abort();
    if (np_config_load(c, 3, argv, err, sizeof err) == 0) {
        np_detect_config_t d;
        np_viewset_t vs;
        if (np_detect_config_load(&d, c, 5000, err, sizeof err) < 0 && !strstr(err, "detect.")) abort();
        np_views_config_load(&vs, c, err, sizeof err);
    }
    np_config_destroy(&c);
    return 0;
}
