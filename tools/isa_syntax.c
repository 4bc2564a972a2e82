// SPDX-License-Identifier: MIT
/* The mnemonic table of the NPU assembly language (docs/assembly.md). */
#include <string.h>

#include "isa_syntax.h"

#define ARG(i) (ISA_FIELD_ARG0 + (i))

static const struct isa_syntax table[] = {
	{ "halt", NPU_ISA_HALT, 0, { { NULL } }, NULL, 0 },
	{ "copy", NPU_ISA_COPY, 0,
	  { { "dst", ISA_FIELD_DST, 0 }, { "src", ISA_FIELD_SRC0, 0 }, { "n", ARG(0), 0 } },
	  NULL, 0 },
	{ "matmul_i8", NPU_ISA_MATMUL_I8, 0,
	  { { "dst", ISA_FIELD_DST, 0 }, { "a", ISA_FIELD_SRC0, 0 }, { "b", ISA_FIELD_SRC1, 0 },
	    { "m", ARG(NPU_ARG_M), 0 }, { "n", ARG(NPU_ARG_N), 0 }, { "k", ARG(NPU_ARG_K), 0 } },
	  "accumulate", NPU_ISA_F_ACCUMULATE },
	{ "add.i8", NPU_ISA_ADD, NPU_DTYPE_I8,
	  { { "dst", ISA_FIELD_DST, 0 }, { "a", ISA_FIELD_SRC0, 0 }, { "b", ISA_FIELD_SRC1, 0 },
	    { "n", ARG(0), 0 } }, NULL, 0 },
	{ "add.i32", NPU_ISA_ADD, NPU_DTYPE_I32,
	  { { "dst", ISA_FIELD_DST, 0 }, { "a", ISA_FIELD_SRC0, 0 }, { "b", ISA_FIELD_SRC1, 0 },
	    { "n", ARG(0), 0 } }, NULL, 0 },
	{ "relu.i8", NPU_ISA_RELU, NPU_DTYPE_I8,
	  { { "dst", ISA_FIELD_DST, 0 }, { "src", ISA_FIELD_SRC0, 0 }, { "n", ARG(0), 0 } },
	  NULL, 0 },
	{ "relu.i32", NPU_ISA_RELU, NPU_DTYPE_I32,
	  { { "dst", ISA_FIELD_DST, 0 }, { "src", ISA_FIELD_SRC0, 0 }, { "n", ARG(0), 0 } },
	  NULL, 0 },
	{ "requant", NPU_ISA_REQUANT, 0,
	  { { "dst", ISA_FIELD_DST, 0 }, { "src", ISA_FIELD_SRC0, 0 }, { "n", ARG(0), 0 },
	    { "multiplier", ARG(NPU_ARG_MULTIPLIER), 1 }, { "shift", ARG(NPU_ARG_SHIFT), 0 },
	    { "zero_point", ARG(NPU_ARG_ZERO_POINT), 1 } }, NULL, 0 },
};

const struct isa_syntax *isa_syntax_by_name(const char *mnemonic)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].mnemonic, mnemonic))
			return &table[i];
	return NULL;
}

const struct isa_syntax *isa_syntax_for(const struct npu_insn *insn)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].opcode == insn->opcode && table[i].dtype == insn->dtype)
			return &table[i];
	return NULL;
}

uint32_t *isa_field_ptr(struct npu_insn *insn, int field)
{
	switch (field) {
	case ISA_FIELD_DST:
		return &insn->dst;
	case ISA_FIELD_SRC0:
		return &insn->src0;
	case ISA_FIELD_SRC1:
		return &insn->src1;
	default:
		if (field >= ISA_FIELD_ARG0 && field < ISA_FIELD_ARG0 + 12)
			return &insn->arg[field - ISA_FIELD_ARG0];
		return NULL;
	}
}
