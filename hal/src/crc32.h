/* SPDX-License-Identifier: MIT */
#ifndef NPUHAL_CRC32_H
#define NPUHAL_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32/ISO-HDLC (zlib's crc32), continued from crc (0 to start). */
uint32_t npu_crc32(uint32_t crc, const void *data, size_t len);

#endif /* NPUHAL_CRC32_H */
