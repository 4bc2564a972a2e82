// SPDX-License-Identifier: MIT
/*
 * The description of every opcode (isa_desc.h): mnemonics, operands, flags.
 * docs/hardware.md §10 is the specification; examples/ uses the syntax.
 */
#include <stddef.h>
#include <string.h>

#include "isa_desc.h"

#define ARG(i) (ISA_FIELD_ARG0 + (i))

/* Operand shorthands: address, unsigned, signed, packed field, with default. */
#define DST		{ "dst", ISA_FIELD_DST, 0, 0, 0, 0, 0 }
#define SRC(name)	{ name, ISA_FIELD_SRC0, 0, 0, 0, 0, 0 }
#define SRC1(name)	{ name, ISA_FIELD_SRC1, 0, 0, 0, 0, 0 }
#define U(name, slot)	{ name, ARG(slot), 0, 0, 0, 0, 0 }
#define S(name, slot)	{ name, ARG(slot), 1, 0, 0, 0, 0 }
#define UD(name, slot, d)	{ name, ARG(slot), 0, 0, 0, d, 0 }
#define F(name, slot, lsb, bits, d)	{ name, ARG(slot), 0, lsb, bits, d, 0 }
#define BIAS(slot)	{ "bias", ARG(slot), 0, 0, 0, 0, NPU_ISA_F_BIAS }

#define NO_OPERAND	{ NULL, 0, 0, 0, 0, 0, 0 }
#define NO_FLAGS	{ { NULL, 0 } }
#define ACC_FLAGS	{ { "accumulate", NPU_ISA_F_ACCUMULATE } }
#define WRAP_FLAGS	{ { "wrap", NPU_ISA_F_WRAP } }
#define COUNT_PAD_FLAGS	{ { "count_pad", NPU_ISA_F_COUNT_PAD } }

/* The four MATMUL_I8 and CONV2D variants: which operands are u8. */
#define AB_VARIANTS(stem)								\
	{ { stem ".i8i8", 0 }, { stem ".u8i8", NPU_DTYPE_A_U8 },				\
	  { stem ".i8u8", NPU_DTYPE_B_U8 }, { stem ".u8u8", NPU_DTYPE_A_U8 | NPU_DTYPE_B_U8 } }
#define I8_U8(stem)	{ stem ".i8", NPU_DTYPE_I8 }, { stem ".u8", NPU_DTYPE_U8 }

/* Kernel, strides, dilations and pads of a window (§10.1). */
#define WINDOW(kernel, sd, pads)							\
	F("kh", kernel, 0, 16, 1), F("kw", kernel, 16, 16, 1),				\
	F("sh", sd, 0, 8, 1), F("sw", sd, 8, 8, 1),					\
	F("dh", sd, 16, 8, 1), F("dw", sd, 24, 8, 1),					\
	F("pt", pads, 0, 8, 0), F("pl", pads, 8, 8, 0),					\
	F("pb", pads, 16, 8, 0), F("pr", pads, 24, 8, 0)

#define POOL_OPERANDS									\
	DST, SRC("src"), UD("n", NPU_ARG_POOL_N, 1), U("h", NPU_ARG_POOL_H),		\
	U("w", NPU_ARG_POOL_W), U("c", NPU_ARG_POOL_C),					\
	WINDOW(NPU_ARG_POOL_KERNEL, NPU_ARG_POOL_STRIDE_DIL, NPU_ARG_POOL_PADS)

#define RQ_COMMON									\
	DST, SRC("a"), SRC1("b"), U("n", NPU_ARG_COUNT),				\
	S("za", NPU_ARG_RQ_A_ZERO_POINT), S("zb", NPU_ARG_RQ_B_ZERO_POINT),		\
	S("zo", NPU_ARG_RQ_OUT_ZERO_POINT)

static const struct isa_desc descs[NPU_ISA_COUNT] = {
	[NPU_ISA_HALT] = {
		"halt", NPU_ISA_HALT, { { "halt", 0 } }, { NO_OPERAND }, NO_FLAGS,
	},
	[NPU_ISA_COPY] = {
		"copy", NPU_ISA_COPY, { { "copy", 0 } },
		{ DST, SRC("src"), U("n", NPU_ARG_COUNT) }, NO_FLAGS,
	},
	/* matmul_i8 first: the name version-1.0 programs print with. */
	[NPU_ISA_MATMUL_I8] = {
		"matmul_i8", NPU_ISA_MATMUL_I8,
		{ { "matmul_i8", 0 }, { "matmul.u8i8", NPU_DTYPE_A_U8 },
		  { "matmul.i8u8", NPU_DTYPE_B_U8 },
		  { "matmul.u8u8", NPU_DTYPE_A_U8 | NPU_DTYPE_B_U8 }, { "matmul.i8i8", 0 } },
		{ DST, SRC("a"), SRC1("b"), U("m", NPU_ARG_M), U("n", NPU_ARG_N),
		  U("k", NPU_ARG_K), S("za", NPU_ARG_A_ZERO_POINT), S("zb", NPU_ARG_B_ZERO_POINT),
		  BIAS(NPU_ARG_MM_BIAS) }, ACC_FLAGS,
	},
	[NPU_ISA_ADD] = {
		"add", NPU_ISA_ADD, { { "add.i8", NPU_DTYPE_I8 }, { "add.i32", NPU_DTYPE_I32 },
				      { "add.u8", NPU_DTYPE_U8 } },
		{ DST, SRC("a"), SRC1("b"), U("n", NPU_ARG_COUNT) }, WRAP_FLAGS,
	},
	[NPU_ISA_RELU] = {
		"relu", NPU_ISA_RELU, { { "relu.i8", NPU_DTYPE_I8 }, { "relu.i32", NPU_DTYPE_I32 } },
		{ DST, SRC("src"), U("n", NPU_ARG_COUNT) }, NO_FLAGS,
	},
	[NPU_ISA_REQUANT] = {
		"requant", NPU_ISA_REQUANT,
		{ { "requant", NPU_DTYPE_I8 }, { "requant.u8", NPU_DTYPE_U8 } },
		{ DST, SRC("src"), U("n", NPU_ARG_COUNT), S("multiplier", NPU_ARG_MULTIPLIER),
		  U("shift", NPU_ARG_SHIFT), S("zero_point", NPU_ARG_ZERO_POINT) }, NO_FLAGS,
	},
	[NPU_ISA_CONV2D] = {
		"conv2d", NPU_ISA_CONV2D, AB_VARIANTS("conv2d"),
		{ DST, SRC("x"), SRC1("weights"), UD("n", NPU_ARG_CONV_N, 1),
		  U("h", NPU_ARG_CONV_H), U("w", NPU_ARG_CONV_W), U("cin", NPU_ARG_CONV_C_IN),
		  U("cout", NPU_ARG_CONV_C_OUT), UD("groups", NPU_ARG_CONV_GROUPS, 1),
		  WINDOW(NPU_ARG_CONV_KERNEL, NPU_ARG_CONV_STRIDE_DIL, NPU_ARG_CONV_PADS),
		  BIAS(NPU_ARG_CONV_BIAS), S("zx", NPU_ARG_CONV_X_ZERO_POINT),
		  S("zw", NPU_ARG_CONV_W_ZERO_POINT) }, ACC_FLAGS,
	},
	[NPU_ISA_REQUANT_PC] = {
		"requant_pc", NPU_ISA_REQUANT_PC,
		{ { "requant_pc", NPU_DTYPE_I8 }, { "requant_pc.u8", NPU_DTYPE_U8 } },
		{ DST, SRC("src"), SRC1("table"), U("n", NPU_ARG_COUNT),
		  U("channels", NPU_ARG_RQ_CHANNELS), S("zero_point", NPU_ARG_ZERO_POINT) },
		NO_FLAGS,
	},
	[NPU_ISA_ADD_RQ] = {
		"add_rq", NPU_ISA_ADD_RQ, { I8_U8("add_rq") },
		{ RQ_COMMON, S("ma", NPU_ARG_RQ_A_MULTIPLIER), S("mb", NPU_ARG_RQ_B_MULTIPLIER),
		  U("shift", NPU_ARG_RQ_SHIFT), U("b_len", NPU_ARG_RQ_B_LEN) }, NO_FLAGS,
	},
	[NPU_ISA_MUL_RQ] = {
		"mul_rq", NPU_ISA_MUL_RQ, { I8_U8("mul_rq") },
		{ RQ_COMMON, S("m", NPU_ARG_RQ_A_MULTIPLIER), U("shift", NPU_ARG_RQ_SHIFT),
		  U("b_len", NPU_ARG_RQ_B_LEN) }, NO_FLAGS,
	},
	[NPU_ISA_CLIP] = {
		"clip", NPU_ISA_CLIP, { I8_U8("clip"), { "clip.i32", NPU_DTYPE_I32 } },
		{ DST, SRC("src"), U("n", NPU_ARG_COUNT), S("lo", NPU_ARG_CLIP_MIN),
		  S("hi", NPU_ARG_CLIP_MAX) }, NO_FLAGS,
	},
	[NPU_ISA_MAXPOOL] = {
		"maxpool", NPU_ISA_MAXPOOL, { I8_U8("maxpool") }, { POOL_OPERANDS }, NO_FLAGS,
	},
	[NPU_ISA_AVGPOOL] = {
		"avgpool", NPU_ISA_AVGPOOL, { I8_U8("avgpool") },
		{ POOL_OPERANDS, S("zero_point", NPU_ARG_POOL_ZERO_POINT) }, COUNT_PAD_FLAGS,
	},
	[NPU_ISA_COPY_ND] = {
		"copy_nd", NPU_ISA_COPY_ND,
		{ I8_U8("copy_nd"), { "copy_nd.i16", NPU_DTYPE_I16 }, { "copy_nd.i32", NPU_DTYPE_I32 },
		  { "copy_nd.i64", NPU_DTYPE_I64 } },
		{ DST, SRC("src"),
		  UD("c0", NPU_ARG_ND_COUNT(0), 1), UD("c1", NPU_ARG_ND_COUNT(1), 1),
		  UD("c2", NPU_ARG_ND_COUNT(2), 1), UD("c3", NPU_ARG_ND_COUNT(3), 1),
		  S("ss0", NPU_ARG_ND_SRC_STRIDE(0)), S("ss1", NPU_ARG_ND_SRC_STRIDE(1)),
		  S("ss2", NPU_ARG_ND_SRC_STRIDE(2)), S("ss3", NPU_ARG_ND_SRC_STRIDE(3)),
		  S("ds0", NPU_ARG_ND_DST_STRIDE(0)), S("ds1", NPU_ARG_ND_DST_STRIDE(1)),
		  S("ds2", NPU_ARG_ND_DST_STRIDE(2)), S("ds3", NPU_ARG_ND_DST_STRIDE(3)) },
		NO_FLAGS,
	},
	[NPU_ISA_FILL] = {
		"fill", NPU_ISA_FILL,
		{ I8_U8("fill"), { "fill.i16", NPU_DTYPE_I16 }, { "fill.i32", NPU_DTYPE_I32 } },
		{ DST, U("n", NPU_ARG_COUNT), S("value", NPU_ARG_FILL_VALUE) }, NO_FLAGS,
	},
};

const struct isa_desc *isa_desc_of(unsigned int opcode)
{
	return opcode < NPU_ISA_COUNT ? &descs[opcode] : NULL;
}

const struct isa_desc *isa_desc_by_mnemonic(const char *mnemonic, uint8_t *dtype)
{
	for (size_t i = 0; i < NPU_ISA_COUNT; i++)
		for (size_t v = 0; v < ISA_MAX_VARIANTS && descs[i].variants[v].mnemonic; v++)
			if (!strcmp(descs[i].variants[v].mnemonic, mnemonic)) {
				*dtype = descs[i].variants[v].dtype;
				return &descs[i];
			}
	return NULL;
}

const char *isa_desc_mnemonic(const struct isa_desc *desc, unsigned int dtype)
{
	for (size_t v = 0; v < ISA_MAX_VARIANTS && desc->variants[v].mnemonic; v++)
		if (desc->variants[v].dtype == dtype)
			return desc->variants[v].mnemonic;
	return NULL;
}

void isa_desc_masks(const struct isa_desc *desc, struct isa_desc_masks *masks)
{
	memset(masks, 0, sizeof(*masks));
	for (size_t v = 0; v < ISA_MAX_VARIANTS && desc->variants[v].mnemonic; v++)
		masks->dtypes |= (uint16_t)(1u << desc->variants[v].dtype);
	for (size_t k = 0; k < ISA_MAX_FLAGS && desc->flags[k].name; k++)
		masks->flags |= desc->flags[k].bit;
	for (size_t k = 0; k < ISA_MAX_OPERANDS && desc->operands[k].name; k++) {
		const struct isa_operand *op = &desc->operands[k];

		masks->flags |= op->sets_flag;
		if (op->field >= ISA_FIELD_ARG0)
			masks->args |= (uint16_t)(1u << (op->field - ISA_FIELD_ARG0));
		else
			masks->fields |= (uint8_t)(1u << (op->field - ISA_FIELD_DST));
	}
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

void isa_operand_defaults(const struct isa_desc *desc, struct npu_insn *insn)
{
	for (int k = 0; k < ISA_MAX_OPERANDS && desc->operands[k].name; k++)
		if (desc->operands[k].def)
			isa_operand_set(insn, &desc->operands[k], desc->operands[k].def);
}
