/* np_crc32: CRC-32 and the stored-state frame. See np_crc32.h. */
#include "np_crc32.h"

#include <stdio.h>
#include <string.h>

static uint32_t table[256];

static void init_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

uint32_t np_crc32(const uint8_t *buf, size_t len) {
    if (table[1] == 0) init_table(); /* idempotent: a race writes the same values */
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) c = table[(c ^ buf[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

void np_crc32_frame_header(uint8_t hdr[NP_CRC32_FRAME_HDR], const char magic[3], uint8_t version,
                           const uint8_t *payload, size_t len) {
    uint32_t c = np_crc32(payload, len);
    memcpy(hdr, magic, 3);
    hdr[3] = version;
    for (int i = 0; i < 4; i++) hdr[4 + i] = (uint8_t)(c >> (8 * i));
}

int np_crc32_frame_open(const uint8_t *buf, size_t len, const char magic[3], uint8_t version,
                        const uint8_t **payload, size_t *plen, char *errstr, size_t errlen) {
    if (len < 3 || memcmp(buf, magic, 3) != 0) return 0;
    if (len < NP_CRC32_FRAME_HDR) {
        snprintf(errstr, errlen, "truncated frame (%zu bytes)", len);
        return -1;
    }
    if (buf[3] != version) {
        snprintf(errstr, errlen, "frame version %u, expected %u", buf[3], version);
        return -1;
    }
    uint32_t want = 0;
    for (int i = 0; i < 4; i++) want |= (uint32_t)buf[4 + i] << (8 * i);
    uint32_t got = np_crc32(buf + NP_CRC32_FRAME_HDR, len - NP_CRC32_FRAME_HDR);
    if (got != want) {
        snprintf(errstr, errlen, "checksum mismatch (stored %08x, computed %08x, %zu bytes)", want, got, len);
        return -1;
    }
    *payload = buf + NP_CRC32_FRAME_HDR;
    *plen = len - NP_CRC32_FRAME_HDR;
    return 1;
}
