/* SPDX-License-Identifier: MIT */
/*
 * Little-endian 32-bit values in the device's memory, read and written byte
 * by byte so the executor gives the same bytes on any host.
 */
#ifndef NPU_ISA_LE_H
#define NPU_ISA_LE_H

#include <stdint.h>

static inline uint32_t ld_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void st_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

#endif /* NPU_ISA_LE_H */
