// SPDX-License-Identifier: MIT
/* The mnemonic table of the NPU assembly language (docs/hardware.md §10, examples/). */
#include <string.h>

#include "isa_syntax.h"

#define ARG(i) (ISA_FIELD_ARG0 + (i))

/* Operand shorthands: address, unsigned, signed, packed field, with default. */
#define DST		{ "dst", ISA_FIELD_DST, 0, 0, 0, 0, 0 }
#define SRC(name)	{ name, ISA_FIELD_SRC0, 0, 0, 0, 0, 0 }
#define SRC1(name)	{ name, ISA_FIELD_SRC1, 0, 0, 0, 0, 0 }
#define U(name, slot)	{ name, ARG(slot), 0, 0, 0, 0, 0 }
#define S(name, slot)	{ name, ARG(slot), 1, 0, 0, 0, 0 }
#define UD(name, slot, d)	{ name, ARG(slot), 0, 0, 0, d, 0 }
#define SD(name, slot, d)	{ name, ARG(slot), 1, 0, 0, d, 0 }
#define F(name, slot, lsb, bits, d)	{ name, ARG(slot), 0, lsb, bits, d, 0 }
#define BIAS(slot)	{ "bias", ARG(slot), 0, 0, 0, 0, NPU_ISA_F_BIAS }

#define NO_OPERAND	{ NULL, 0, 0, 0, 0, 0, 0 }
#define NO_FLAGS	{ { NULL, 0 } }
#define ACC_FLAGS	{ { "accumulate", NPU_ISA_F_ACCUMULATE } }
#define WRAP_FLAGS	{ { "wrap", NPU_ISA_F_WRAP } }
#define COUNT_PAD_FLAGS	{ { "count_pad", NPU_ISA_F_COUNT_PAD } }

#define MATMUL(mn, dt)									\
	{ mn, NPU_ISA_MATMUL_I8, dt,							\
	  { DST, SRC("a"), SRC1("b"), U("m", NPU_ARG_M), U("n", NPU_ARG_N),		\
	    U("k", NPU_ARG_K), S("za", NPU_ARG_A_ZERO_POINT), S("zb", NPU_ARG_B_ZERO_POINT),\
	    BIAS(NPU_ARG_MM_BIAS) }, ACC_FLAGS }

/* Kernel, strides, dilations and pads of a window (§10.1). */
#define WINDOW(kernel, sd, pads)							\
	F("kh", kernel, 0, 16, 1), F("kw", kernel, 16, 16, 1),				\
	F("sh", sd, 0, 8, 1), F("sw", sd, 8, 8, 1),					\
	F("dh", sd, 16, 8, 1), F("dw", sd, 24, 8, 1),					\
	F("pt", pads, 0, 8, 0), F("pl", pads, 8, 8, 0),					\
	F("pb", pads, 16, 8, 0), F("pr", pads, 24, 8, 0)

#define CONV(mn, dt)									\
	{ mn, NPU_ISA_CONV2D, dt,							\
	  { DST, SRC("x"), SRC1("weights"), UD("n", NPU_ARG_CONV_N, 1),			\
	    U("h", NPU_ARG_CONV_H), U("w", NPU_ARG_CONV_W), U("cin", NPU_ARG_CONV_C_IN),	\
	    U("cout", NPU_ARG_CONV_C_OUT), UD("groups", NPU_ARG_CONV_GROUPS, 1),		\
	    WINDOW(NPU_ARG_CONV_KERNEL, NPU_ARG_CONV_STRIDE_DIL, NPU_ARG_CONV_PADS),	\
	    BIAS(NPU_ARG_CONV_BIAS), S("zx", NPU_ARG_CONV_X_ZERO_POINT),			\
	    S("zw", NPU_ARG_CONV_W_ZERO_POINT) }, ACC_FLAGS }

#define POOL(mn, op, dt, extra, flags)							\
	{ mn, op, dt,									\
	  { DST, SRC("src"), UD("n", NPU_ARG_POOL_N, 1), U("h", NPU_ARG_POOL_H),		\
	    U("w", NPU_ARG_POOL_W), U("c", NPU_ARG_POOL_C),				\
	    WINDOW(NPU_ARG_POOL_KERNEL, NPU_ARG_POOL_STRIDE_DIL, NPU_ARG_POOL_PADS),	\
	    extra }, flags }

#define ELEMENTWISE(mn, op, dt, flags)							\
	{ mn, op, dt, { DST, SRC("a"), SRC1("b"), U("n", NPU_ARG_COUNT) }, flags }

#define UNARY(mn, op, dt)								\
	{ mn, op, dt, { DST, SRC("src"), U("n", NPU_ARG_COUNT) }, NO_FLAGS }

#define REQUANT(mn, dt)									\
	{ mn, NPU_ISA_REQUANT, dt,							\
	  { DST, SRC("src"), U("n", NPU_ARG_COUNT), S("multiplier", NPU_ARG_MULTIPLIER),	\
	    U("shift", NPU_ARG_SHIFT), S("zero_point", NPU_ARG_ZERO_POINT) }, NO_FLAGS }

#define REQUANT_PC(mn, dt)								\
	{ mn, NPU_ISA_REQUANT_PC, dt,							\
	  { DST, SRC("src"), SRC1("table"), U("n", NPU_ARG_COUNT),			\
	    U("channels", NPU_ARG_RQ_CHANNELS), S("zero_point", NPU_ARG_ZERO_POINT) },	\
	  NO_FLAGS }

#define RQ_COMMON									\
	DST, SRC("a"), SRC1("b"), U("n", NPU_ARG_COUNT),				\
	S("za", NPU_ARG_RQ_A_ZERO_POINT), S("zb", NPU_ARG_RQ_B_ZERO_POINT),		\
	S("zo", NPU_ARG_RQ_OUT_ZERO_POINT)

#define ADD_RQ(mn, dt)									\
	{ mn, NPU_ISA_ADD_RQ, dt,							\
	  { RQ_COMMON, S("ma", NPU_ARG_RQ_A_MULTIPLIER), S("mb", NPU_ARG_RQ_B_MULTIPLIER),\
	    U("shift", NPU_ARG_RQ_SHIFT), U("b_len", NPU_ARG_RQ_B_LEN) }, NO_FLAGS }

#define MUL_RQ(mn, dt)									\
	{ mn, NPU_ISA_MUL_RQ, dt,							\
	  { RQ_COMMON, S("m", NPU_ARG_RQ_A_MULTIPLIER), U("shift", NPU_ARG_RQ_SHIFT),	\
	    U("b_len", NPU_ARG_RQ_B_LEN) }, NO_FLAGS }

#define CLIP(mn, dt)									\
	{ mn, NPU_ISA_CLIP, dt,								\
	  { DST, SRC("src"), U("n", NPU_ARG_COUNT), S("lo", NPU_ARG_CLIP_MIN),		\
	    S("hi", NPU_ARG_CLIP_MAX) }, NO_FLAGS }

#define COPY_ND(mn, dt)									\
	{ mn, NPU_ISA_COPY_ND, dt,							\
	  { DST, SRC("src"),								\
	    UD("c0", NPU_ARG_ND_COUNT(0), 1), UD("c1", NPU_ARG_ND_COUNT(1), 1),		\
	    UD("c2", NPU_ARG_ND_COUNT(2), 1), UD("c3", NPU_ARG_ND_COUNT(3), 1),		\
	    S("ss0", NPU_ARG_ND_SRC_STRIDE(0)), S("ss1", NPU_ARG_ND_SRC_STRIDE(1)),	\
	    S("ss2", NPU_ARG_ND_SRC_STRIDE(2)), S("ss3", NPU_ARG_ND_SRC_STRIDE(3)),	\
	    S("ds0", NPU_ARG_ND_DST_STRIDE(0)), S("ds1", NPU_ARG_ND_DST_STRIDE(1)),	\
	    S("ds2", NPU_ARG_ND_DST_STRIDE(2)), S("ds3", NPU_ARG_ND_DST_STRIDE(3)) },	\
	  NO_FLAGS }

#define FILL(mn, dt)									\
	{ mn, NPU_ISA_FILL, dt,								\
	  { DST, U("n", NPU_ARG_COUNT), S("value", NPU_ARG_FILL_VALUE) }, NO_FLAGS }

/* The first entry for an (opcode, dtype) pair is what the inspector prints. */
static const struct isa_syntax table[] = {
	{ "halt", NPU_ISA_HALT, 0, { { NULL } }, NO_FLAGS },
	{ "copy", NPU_ISA_COPY, 0, { DST, SRC("src"), U("n", NPU_ARG_COUNT) }, NO_FLAGS },
	MATMUL("matmul_i8", 0),
	MATMUL("matmul.u8i8", NPU_DTYPE_A_U8),
	MATMUL("matmul.i8u8", NPU_DTYPE_B_U8),
	MATMUL("matmul.u8u8", NPU_DTYPE_A_U8 | NPU_DTYPE_B_U8),
	MATMUL("matmul.i8i8", 0),	/* alias; printed as matmul_i8 */
	ELEMENTWISE("add.i8", NPU_ISA_ADD, NPU_DTYPE_I8, WRAP_FLAGS),
	ELEMENTWISE("add.i32", NPU_ISA_ADD, NPU_DTYPE_I32, WRAP_FLAGS),
	ELEMENTWISE("add.u8", NPU_ISA_ADD, NPU_DTYPE_U8, WRAP_FLAGS),
	UNARY("relu.i8", NPU_ISA_RELU, NPU_DTYPE_I8),
	UNARY("relu.i32", NPU_ISA_RELU, NPU_DTYPE_I32),
	REQUANT("requant", NPU_DTYPE_I8),
	REQUANT("requant.u8", NPU_DTYPE_U8),
	CONV("conv2d.i8i8", 0),
	CONV("conv2d.u8i8", NPU_DTYPE_A_U8),
	CONV("conv2d.i8u8", NPU_DTYPE_B_U8),
	CONV("conv2d.u8u8", NPU_DTYPE_A_U8 | NPU_DTYPE_B_U8),
	REQUANT_PC("requant_pc", NPU_DTYPE_I8),
	REQUANT_PC("requant_pc.u8", NPU_DTYPE_U8),
	ADD_RQ("add_rq.i8", NPU_DTYPE_I8),
	ADD_RQ("add_rq.u8", NPU_DTYPE_U8),
	MUL_RQ("mul_rq.i8", NPU_DTYPE_I8),
	MUL_RQ("mul_rq.u8", NPU_DTYPE_U8),
	CLIP("clip.i8", NPU_DTYPE_I8),
	CLIP("clip.u8", NPU_DTYPE_U8),
	CLIP("clip.i32", NPU_DTYPE_I32),
	POOL("maxpool.i8", NPU_ISA_MAXPOOL, NPU_DTYPE_I8, NO_OPERAND, NO_FLAGS),
	POOL("maxpool.u8", NPU_ISA_MAXPOOL, NPU_DTYPE_U8, NO_OPERAND, NO_FLAGS),
	POOL("avgpool.i8", NPU_ISA_AVGPOOL, NPU_DTYPE_I8, S("zero_point", NPU_ARG_POOL_ZERO_POINT),
	     COUNT_PAD_FLAGS),
	POOL("avgpool.u8", NPU_ISA_AVGPOOL, NPU_DTYPE_U8, S("zero_point", NPU_ARG_POOL_ZERO_POINT),
	     COUNT_PAD_FLAGS),
	COPY_ND("copy_nd.i8", NPU_DTYPE_I8),
	COPY_ND("copy_nd.u8", NPU_DTYPE_U8),
	COPY_ND("copy_nd.i16", NPU_DTYPE_I16),
	COPY_ND("copy_nd.i32", NPU_DTYPE_I32),
	COPY_ND("copy_nd.i64", NPU_DTYPE_I64),
	FILL("fill.i8", NPU_DTYPE_I8),
	FILL("fill.u8", NPU_DTYPE_U8),
	FILL("fill.i16", NPU_DTYPE_I16),
	FILL("fill.i32", NPU_DTYPE_I32),
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

static unsigned int operand_bits(const struct isa_operand *op)
{
	return op->bits ? op->bits : 32;
}

static uint32_t operand_mask(const struct isa_operand *op)
{
	return operand_bits(op) == 32 ? UINT32_MAX : ((1u << operand_bits(op)) - 1) << op->lsb;
}

void isa_operand_limits(const struct isa_operand *op, int64_t *min, int64_t *max)
{
	int64_t span = (int64_t)1 << operand_bits(op);

	*min = op->is_signed ? -span / 2 : 0;
	*max = op->is_signed ? span / 2 - 1 : span - 1;
}

int64_t isa_operand_get(const struct npu_insn *insn, const struct isa_operand *op)
{
	uint32_t raw = (*isa_field_ptr((struct npu_insn *)insn, op->field) & operand_mask(op)) >>
		       op->lsb;
	int64_t span = (int64_t)1 << operand_bits(op);

	if (op->is_signed && raw >= span / 2)
		return (int64_t)raw - span;
	return raw;
}

void isa_operand_set(struct npu_insn *insn, const struct isa_operand *op, int64_t v)
{
	uint32_t *f = isa_field_ptr(insn, op->field);

	*f = (*f & ~operand_mask(op)) | (((uint32_t)(uint64_t)v << op->lsb) & operand_mask(op));
}

void isa_operand_clear(struct npu_insn *insn, const struct isa_operand *op)
{
	*isa_field_ptr(insn, op->field) &= ~operand_mask(op);
}

void isa_operand_defaults(const struct isa_syntax *syn, struct npu_insn *insn)
{
	for (int k = 0; k < ISA_MAX_OPERANDS && syn->operands[k].name; k++)
		if (syn->operands[k].def)
			isa_operand_set(insn, &syn->operands[k], syn->operands[k].def);
}
