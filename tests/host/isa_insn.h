/* SPDX-License-Identifier: MIT */
/*
 * One way for the host ISA tests to build an instruction by its fields (the
 * interpreter's decoded form), so each test reads as the instruction it runs.
 */
#ifndef NPU_TESTS_HOST_ISA_INSN_H
#define NPU_TESTS_HOST_ISA_INSN_H

#include <stdint.h>
#include <string.h>

#include "isa_exec.h"

static inline struct npu_isa_insn insn_of(uint8_t opcode, uint8_t dtype, uint16_t flags,
					  uint32_t dst, uint32_t src0, uint32_t src1)
{
	struct npu_isa_insn insn;

	memset(&insn, 0, sizeof(insn));
	insn.opcode = opcode;
	insn.dtype = dtype;
	insn.flags = flags;
	insn.dst = dst;
	insn.src0 = src0;
	insn.src1 = src1;
	return insn;
}

#endif /* NPU_TESTS_HOST_ISA_INSN_H */
