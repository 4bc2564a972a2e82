// SPDX-License-Identifier: MIT
/* Bitwise CRC-32 (reflected, polynomial 0xEDB88320): small, and fast enough for program files. */
#include "crc32.h"

uint32_t npu_crc32(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}
