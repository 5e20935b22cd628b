/*
 * libFuzzer target for np_detect_state_decode: the coordinator restores its detectors
 * from Redis (DetectState). A state that decodes must encode again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "np_detect.h"

static np_detect_t *D;
static np_detect_config_t C;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!D) {
        np_detect_config_default(&C, 5000);
        C.max_alerts = 64;
        if (!(D = np_detect_new(&C))) abort();
    }
    if (np_detect_state_decode(D, data, size) < 0) return 0;
    uint8_t *buf;
    size_t len;
    if (np_detect_state_encode(D, &buf, &len) < 0) abort();
    free(buf);
    return 0;
}
