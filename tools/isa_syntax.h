/* SPDX-License-Identifier: MIT */
/*
 * The assembly syntax of NPU instructions, shared by the assembler (npu-as)
 * and the inspector (npu-inspect) so what one prints the other reads:
 *
 *   matmul_i8 dst=0x3000 a=0x2000 b=0x1000 m=8 n=16 k=24 accumulate
 *
 * Each mnemonic names the instruction fields it uses; unused fields are 0.
 * Packed arguments (docs/hardware.md §10) get one operand per field (kh=,
 * kw=, ...); a few operands have a default (strides, dilations, counts 1).
 */
#ifndef NPU_TOOLS_ISA_SYNTAX_H
#define NPU_TOOLS_ISA_SYNTAX_H

#include <stdint.h>

#include "npu_isa.h"

/* Where an operand goes in struct npu_insn. */
enum isa_field {
	ISA_FIELD_NONE,
	ISA_FIELD_DST,
	ISA_FIELD_SRC0,
	ISA_FIELD_SRC1,
	ISA_FIELD_ARG0,		/* ISA_FIELD_ARG0 + i is arg[i] */
};

#define ISA_MAX_OPERANDS 24
#define ISA_MAX_FLAGS 2

struct isa_operand {
	const char *name;
	int field;		/* enum isa_field, or ISA_FIELD_ARG0 + i */
	int is_signed;		/* printed and parsed as a signed value */
	/* A packed field: bits [lsb, lsb + bits) of the word; bits 0 = all 32. */
	uint8_t lsb, bits;
	uint32_t def;		/* value when the operand is not written */
	uint16_t sets_flag;	/* writing the operand sets this flag (e.g. bias) */
};

struct isa_flag {
	const char *name;	/* a bare word that sets bit */
	uint16_t bit;
};

struct isa_syntax {
	const char *mnemonic;	/* "add.i8" */
	uint8_t opcode;
	uint8_t dtype;
	struct isa_operand operands[ISA_MAX_OPERANDS];
	struct isa_flag flags[ISA_MAX_FLAGS];
};

/* The syntax for a mnemonic, or NULL. */
const struct isa_syntax *isa_syntax_by_name(const char *mnemonic);
/* The syntax that encodes insn (opcode and dtype), or NULL. */
const struct isa_syntax *isa_syntax_for(const struct npu_insn *insn);
/* Reads or writes the field an operand names. */
uint32_t *isa_field_ptr(struct npu_insn *insn, int field);
/* The operand's value (its bits, sign-extended if signed) and its limits. */
int64_t isa_operand_get(const struct npu_insn *insn, const struct isa_operand *op);
void isa_operand_set(struct npu_insn *insn, const struct isa_operand *op, int64_t v);
void isa_operand_limits(const struct isa_operand *op, int64_t *min, int64_t *max);
/* Clears the operand's bits, so a printer can see what else is set. */
void isa_operand_clear(struct npu_insn *insn, const struct isa_operand *op);
/* Sets every operand to its default (all fields not named stay 0). */
void isa_operand_defaults(const struct isa_syntax *syn, struct npu_insn *insn);

#endif /* NPU_TOOLS_ISA_SYNTAX_H */
