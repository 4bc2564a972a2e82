/* SPDX-License-Identifier: MIT */
/*
 * One description per opcode of the NPU instruction set: its mnemonics (one
 * per accepted dtype), the instruction fields it uses with their kinds
 * (address, unsigned, signed, packed bit field), its flags. The interpreter
 * (isa_exec.c) validates instructions against it, the assembler and the
 * inspector (tools/npu-as.c, tools/npu-inspect.c) read and print it, so what
 * one prints the other reads and the device accepts:
 *
 *   matmul_i8 dst=0x3000 a=0x2000 b=0x1000 m=8 n=16 k=24 accumulate
 *
 * Each mnemonic names the instruction fields it uses; unused fields are 0.
 * Packed arguments (docs/hardware.md §10) get one operand per field (kh=,
 * kw=, ...); a few operands have a default (strides, dilations, counts 1).
 */
#ifndef NPU_ISA_DESC_H
#define NPU_ISA_DESC_H

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
#define ISA_MAX_VARIANTS 6

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

/* A mnemonic and the dtype it selects ("add.i8": NPU_DTYPE_I8). */
struct isa_variant {
	const char *mnemonic;
	uint8_t dtype;
};

struct isa_desc {
	const char *name;	/* "matmul_i8", npu_isa_opcode_name() */
	uint8_t opcode;
	/* The dtypes the opcode accepts; the first mnemonic of a dtype is printed. */
	struct isa_variant variants[ISA_MAX_VARIANTS];
	struct isa_operand operands[ISA_MAX_OPERANDS];
	struct isa_flag flags[ISA_MAX_FLAGS];
};

/* What an opcode's description allows, as masks (for validation). */
struct isa_desc_masks {
	uint16_t flags;		/* NPU_ISA_F_* bits it accepts */
	uint16_t dtypes;	/* bit d set if it accepts dtype d (all dtypes are < 16) */
	uint8_t fields;		/* bit i - 1 set if field i (ISA_FIELD_DST..SRC1) is used */
	uint16_t args;		/* bit i set if arg[i] is used */
};

/* The description of an opcode, or NULL if the opcode does not exist. */
const struct isa_desc *isa_desc_of(unsigned int opcode);
/* The description a mnemonic belongs to and the dtype it selects, or NULL. */
const struct isa_desc *isa_desc_by_mnemonic(const char *mnemonic, uint8_t *dtype);
/* The mnemonic that encodes (desc's opcode, dtype), or NULL if it takes no such dtype. */
const char *isa_desc_mnemonic(const struct isa_desc *desc, unsigned int dtype);
void isa_desc_masks(const struct isa_desc *desc, struct isa_desc_masks *masks);

/* Reads or writes the field an operand names. */
uint32_t *isa_field_ptr(struct npu_insn *insn, int field);
/* The operand's value (its bits, sign-extended if signed) and its limits. */
int64_t isa_operand_get(const struct npu_insn *insn, const struct isa_operand *op);
void isa_operand_set(struct npu_insn *insn, const struct isa_operand *op, int64_t v);
void isa_operand_limits(const struct isa_operand *op, int64_t *min, int64_t *max);
/* Clears the operand's bits, so a printer can see what else is set. */
void isa_operand_clear(struct npu_insn *insn, const struct isa_operand *op);
/* Sets every operand to its default (all fields not named stay 0). */
void isa_operand_defaults(const struct isa_desc *desc, struct npu_insn *insn);

#endif /* NPU_ISA_DESC_H */
