/* SPDX-License-Identifier: MIT */
/*
 * The instruction set of the NPU's processing elements: opcodes, element
 * types, flags and the 64-byte instruction layout with its named argument
 * slots. docs/hardware.md §10 is the specification.
 *
 * It sits above the device interface (hw/npu_hw.h: the EXEC command that runs
 * a program, NPU_INSN_SIZE, the completion statuses an instruction can end
 * with) and is used by the device model, the HAL's CPU runner, the tools and
 * the tests. isa/npu_isa_encode.h builds instructions from typed arguments;
 * isa/isa_desc.h describes each opcode (mnemonics, operands, dtypes).
 */
#ifndef NPU_ISA_H
#define NPU_ISA_H

#include <stdint.h>

#include "npu_hw.h"

/*
 * An EXEC command runs `length / 64` instructions in order, stopping early at
 * HALT. Operand addresses are offsets in the program's address space: the
 * PE's DRAM partition, or both partitions back to back in fused mode.
 * Every byte an instruction touches is bounds-checked before it runs.
 */
enum npu_isa_opcode {
	NPU_ISA_HALT		= 0x00,	/* stop the program */
	NPU_ISA_COPY		= 0x01,	/* dst[0..n) = src[0..n) bytes */
	NPU_ISA_MATMUL_I8	= 0x02,	/* i32 dst (+)= (A - za)(B - zb) (+ bias) */
	NPU_ISA_ADD		= 0x03,	/* dst[i] = a[i] + b[i] */
	NPU_ISA_RELU		= 0x04,	/* dst[i] = max(src[i], 0) */
	/* rshift(): arithmetic shift rounding half away from zero (docs/hardware.md) */
	NPU_ISA_REQUANT		= 0x05,	/* i8/u8 dst = sat(rshift(src * mul, shift) + zp) */
	NPU_ISA_CONV2D		= 0x06,	/* i32 NHWC dst = conv(NHWC x - zx, OHWI w - zw) (+ bias) */
	NPU_ISA_REQUANT_PC	= 0x07,	/* REQUANT with a (multiplier, shift) table per channel */
	NPU_ISA_ADD_RQ		= 0x08,	/* quantized add: sat(((a-za)*ma + (b-zb)*mb) >> s + zo) */
	NPU_ISA_MUL_RQ		= 0x09,	/* quantized mul: sat(((a-za)*(b-zb)*m) >> s + zo) */
	NPU_ISA_CLIP		= 0x0a,	/* dst[i] = min(max(src[i], lo), hi) */
	NPU_ISA_MAXPOOL		= 0x0b,	/* NHWC max pooling */
	NPU_ISA_AVGPOOL		= 0x0c,	/* NHWC average pooling, rounded half away from zero */
	NPU_ISA_COPY_ND		= 0x0d,	/* 4-d strided element copy */
	NPU_ISA_FILL		= 0x0e,	/* dst[0..n) = value */
	NPU_ISA_COUNT
};

/*
 * Element types (insn.dtype) for ADD, RELU, REQUANT(_PC) (output), ADD_RQ,
 * MUL_RQ, CLIP, MAXPOOL, AVGPOOL, COPY_ND and FILL; each opcode accepts the
 * subset docs/hardware.md lists.
 */
enum npu_isa_dtype {
	NPU_DTYPE_I8		= 0,	/* saturating where arithmetic */
	NPU_DTYPE_I32		= 1,	/* wrapping two's complement */
	NPU_DTYPE_U8		= 2,	/* saturating where arithmetic */
	NPU_DTYPE_I16		= 3,	/* COPY_ND and FILL only */
	NPU_DTYPE_I64		= 4,	/* COPY_ND only */
	NPU_DTYPE_COUNT
};

/*
 * MATMUL_I8 and CONV2D: insn.dtype is a bit mask of the operands that are
 * unsigned (u8); a clear bit means int8. 0 is the original i8 x i8 matmul.
 */
#define NPU_DTYPE_A_U8			(1u << 0)	/* A (matmul) or x (conv) is u8 */
#define NPU_DTYPE_B_U8			(1u << 1)	/* B (matmul) or w (conv) is u8 */

#define NPU_ISA_F_ACCUMULATE		(1u << 0)	/* MATMUL_I8, CONV2D: dst += result */
#define NPU_ISA_F_BIAS			(1u << 1)	/* MATMUL_I8, CONV2D: + i32 bias */
#define NPU_ISA_F_WRAP			(1u << 2)	/* ADD i8/u8: wrap, don't saturate */
#define NPU_ISA_F_COUNT_PAD		(1u << 3)	/* AVGPOOL: padding counts in the divisor */

/*
 * One instruction, its fields in host byte order. In DRAM it is these 64
 * bytes little-endian, in this order: npu_isa_encode() and npu_isa_decode()
 * (isa_exec.h) convert; isa/npu_isa_encode.h builds one from typed values.
 */
struct npu_insn {
	uint8_t opcode;		/* enum npu_isa_opcode */
	uint8_t dtype;		/* enum npu_isa_dtype or NPU_DTYPE_*_U8 bits, where used; else 0 */
	uint16_t flags;		/* NPU_ISA_F_* */
	uint32_t dst;		/* address of the result */
	uint32_t src0;		/* first operand (A for MATMUL, x for CONV2D) */
	uint32_t src1;		/* second operand (B for MATMUL, w for CONV2D) */
	uint32_t arg[12];	/* opcode-specific, documented in docs/hardware.md */
};

/*
 * Named arg[] slots. "Signed" slots hold a two's complement 32-bit value.
 * Packed slots hold several small fields: NPU_PACK8(a, b, c, d) puts a in
 * bits 0-7, b in 8-15, c in 16-23, d in 24-31; NPU_PACK16(a, b) a in bits
 * 0-15, b in 16-31.
 */
#define NPU_PACK8(a, b, c, d)		((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | \
					 (uint32_t)(d) << 24)
#define NPU_PACK16(a, b)		((uint32_t)(a) | (uint32_t)(b) << 16)

#define NPU_ARG_COUNT			0	/* COPY: bytes; element-wise ops, FILL: elements */
#define NPU_ARG_M			0	/* MATMUL_I8 */
#define NPU_ARG_N			1
#define NPU_ARG_K			2
/* MATMUL_I8 arg[3] is reserved (0), so version-1.0 programs stay valid. */
#define NPU_ARG_A_ZERO_POINT		4	/* MATMUL_I8: signed, in A's type range */
#define NPU_ARG_B_ZERO_POINT		5	/* MATMUL_I8: signed, in B's type range */
#define NPU_ARG_MM_BIAS			6	/* MATMUL_I8 with F_BIAS: address of i32[N] */
#define NPU_ARG_MULTIPLIER		1	/* REQUANT: signed 32-bit */
#define NPU_ARG_SHIFT			2	/* REQUANT: 0..62 */
#define NPU_ARG_ZERO_POINT		3	/* REQUANT(_PC): signed, output range */

/* CONV2D: x is [N][H][W][C_in], w is [C_out][KH][KW][C_in / groups] (OHWI). */
#define NPU_ARG_CONV_N			0
#define NPU_ARG_CONV_H			1
#define NPU_ARG_CONV_W			2
#define NPU_ARG_CONV_C_IN		3
#define NPU_ARG_CONV_C_OUT		4
#define NPU_ARG_CONV_GROUPS		5	/* >= 1, divides C_in and C_out */
#define NPU_ARG_CONV_KERNEL		6	/* NPU_PACK16(KH, KW), each >= 1 */
#define NPU_ARG_CONV_STRIDE_DIL		7	/* NPU_PACK8(SH, SW, DH, DW), each >= 1 */
#define NPU_ARG_CONV_PADS		8	/* NPU_PACK8(top, left, bottom, right) */
#define NPU_ARG_CONV_BIAS		9	/* with F_BIAS: address of i32[C_out] */
#define NPU_ARG_CONV_X_ZERO_POINT	10	/* signed, in x's type range; also the pad value */
#define NPU_ARG_CONV_W_ZERO_POINT	11	/* signed, in w's type range */

/* REQUANT_PC: src1 = table of struct npu_requant_entry[channels]. */
#define NPU_ARG_RQ_CHANNELS		1	/* element i uses entry i % channels; >= 1 */
/* (NPU_ARG_ZERO_POINT = 3 as for REQUANT; slot 2 unused) */

struct npu_requant_entry {
	int32_t multiplier;
	uint32_t shift;		/* 0..62 */
};

/* ADD_RQ and MUL_RQ: a = src0, b = src1, element type insn.dtype (I8 or U8). */
#define NPU_ARG_RQ_A_ZERO_POINT		1
#define NPU_ARG_RQ_B_ZERO_POINT		2
#define NPU_ARG_RQ_OUT_ZERO_POINT	3
#define NPU_ARG_RQ_A_MULTIPLIER		4	/* ADD_RQ: signed; MUL_RQ: the multiplier */
#define NPU_ARG_RQ_B_MULTIPLIER		5	/* ADD_RQ only */
#define NPU_ARG_RQ_SHIFT		6	/* 0..62 */
#define NPU_ARG_RQ_B_LEN		7	/* b[i % b_len]; 0 = b has count elements */

/* CLIP */
#define NPU_ARG_CLIP_MIN		1	/* signed, in the type's range */
#define NPU_ARG_CLIP_MAX		2	/* signed, in the type's range, >= min */

/* MAXPOOL and AVGPOOL: src and dst [N][H][W][C] / [N][OH][OW][C], same type. */
#define NPU_ARG_POOL_N			0
#define NPU_ARG_POOL_H			1
#define NPU_ARG_POOL_W			2
#define NPU_ARG_POOL_C			3
#define NPU_ARG_POOL_KERNEL		4	/* NPU_PACK16(KH, KW), each >= 1 */
#define NPU_ARG_POOL_STRIDE_DIL		5	/* PACK8(SH, SW, DH, DW); AVG: DH=DW=1 */
#define NPU_ARG_POOL_PADS		6	/* PACK8(top, left, bottom, right) */
#define NPU_ARG_POOL_ZERO_POINT		7	/* AVGPOOL with F_COUNT_PAD: pad value */

/* COPY_ND: element (i0, i1, i2, i3), i3 fastest, element size from dtype. */
#define NPU_ARG_ND_COUNT(d)		(d)		/* d = 0 (outermost) .. 3 */
#define NPU_ARG_ND_SRC_STRIDE(d)	(4 + (d))	/* bytes, signed */
#define NPU_ARG_ND_DST_STRIDE(d)	(8 + (d))	/* bytes, signed */
#define NPU_ND_DIMS			4

/* FILL */
#define NPU_ARG_FILL_VALUE		1	/* signed, in the type's range */

#endif /* NPU_ISA_H */
