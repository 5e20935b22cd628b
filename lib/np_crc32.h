/*
 * np_crc32: CRC-32 (IEEE 802.3, as zlib's crc32) over a byte buffer, for the integrity
 * of stored state (worker checkpoints, the coordinator's stored partials). Detects
 * corruption, not tampering: whoever can write Redis can recompute it. I/O-free.
 */
#ifndef NP_CRC32_H
#define NP_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t np_crc32(const uint8_t *buf, size_t len);

/* The same, by the portable table loop only (tests; np_crc32 folds with PCLMULQDQ where
 * the CPU has it, unless NP_CRC32_NO_CLMUL is set in the environment). */
uint32_t np_crc32_portable(const uint8_t *buf, size_t len);

/* Stored-state frame: 4 magic bytes (3 naming the kind, 1 the frame version), the CRC-32
 * of the payload (little-endian), then the payload. */
#define NP_CRC32_FRAME_HDR 8

/* Writes the header for payload into hdr. */
void np_crc32_frame_header(uint8_t hdr[NP_CRC32_FRAME_HDR], const char magic[3], uint8_t version,
                           const uint8_t *payload, size_t len);

/* Reads a frame. Returns 1 and sets *payload and *plen when buf is a frame of this magic
 * and version with a good checksum; 0 when buf does not start with the magic (an older,
 * unframed value); -1 with errstr on a bad checksum or an unknown frame version. */
int np_crc32_frame_open(const uint8_t *buf, size_t len, const char magic[3], uint8_t version,
                        const uint8_t **payload, size_t *plen, char *errstr, size_t errlen);

#endif
