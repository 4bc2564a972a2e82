/* SPDX-License-Identifier: MIT */
/*
 * The assembly syntax of NPU instructions, shared by the assembler (npu-as)
 * and the inspector (npu-inspect) so what one prints the other reads:
 *
 *   matmul_i8 dst=0x3000 a=0x2000 b=0x1000 m=8 n=16 k=24 accumulate
 *
 * Each mnemonic names the instruction fields it uses; unused fields are 0.
 */
#ifndef NPU_TOOLS_ISA_SYNTAX_H
#define NPU_TOOLS_ISA_SYNTAX_H

#include <stdint.h>

#include "npu_hw.h"

/* Where an operand goes in struct npu_insn. */
enum isa_field {
	ISA_FIELD_NONE,
	ISA_FIELD_DST,
	ISA_FIELD_SRC0,
	ISA_FIELD_SRC1,
	ISA_FIELD_ARG0,		/* ISA_FIELD_ARG0 + i is arg[i] */
};

#define ISA_MAX_OPERANDS 8

struct isa_operand {
	const char *name;
	int field;		/* enum isa_field, or ISA_FIELD_ARG0 + i */
	int is_signed;		/* printed and parsed as a signed 32-bit value */
};

struct isa_syntax {
	const char *mnemonic;	/* "add.i8" */
	uint8_t opcode;
	uint8_t dtype;
	struct isa_operand operands[ISA_MAX_OPERANDS];
	const char *flag_name;	/* a bare word that sets flag_bit, or NULL */
	uint16_t flag_bit;
};

/* The syntax for a mnemonic, or NULL. */
const struct isa_syntax *isa_syntax_by_name(const char *mnemonic);
/* The syntax that encodes insn (opcode and dtype), or NULL. */
const struct isa_syntax *isa_syntax_for(const struct npu_insn *insn);
/* Reads or writes the field an operand names. */
uint32_t *isa_field_ptr(struct npu_insn *insn, int field);

#endif /* NPU_TOOLS_ISA_SYNTAX_H */
