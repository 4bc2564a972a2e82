/* SPDX-License-Identifier: MIT */
/*
 * Little-endian 32-bit values in the test memory of the host ISA tests,
 * written and read byte by byte as the device stores them.
 */
#ifndef NPU_TESTS_HOST_ISA_TEST_MEM_H
#define NPU_TESTS_HOST_ISA_TEST_MEM_H

#include <stdint.h>

static inline void put32(uint8_t *mem, uint64_t addr, int64_t v)
{
	uint32_t u = (uint32_t)(uint64_t)v;

	mem[addr] = (uint8_t)u;
	mem[addr + 1] = (uint8_t)(u >> 8);
	mem[addr + 2] = (uint8_t)(u >> 16);
	mem[addr + 3] = (uint8_t)(u >> 24);
}

static inline int32_t get32(const uint8_t *mem, uint64_t addr)
{
	uint32_t u = mem[addr] | mem[addr + 1] << 8 | mem[addr + 2] << 16 |
		     (uint32_t)mem[addr + 3] << 24;

	return (int32_t)u;
}

#endif /* NPU_TESTS_HOST_ISA_TEST_MEM_H */
