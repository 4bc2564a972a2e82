/* SPDX-License-Identifier: MIT */
/*
 * Typed encoders: each returns one instruction (struct npu_insn, host byte
 * order) built from the values docs/hardware.md §10 names, so no caller
 * fills arg[] slots or packs bit fields by hand. npu_isa_encode() (isa_exec.h)
 * turns an instruction into the 64 bytes the device reads.
 *
 * npu_insn_of() is the raw form (fields by position, every argument 0), for
 * tests that build malformed instructions on purpose.
 */
#ifndef NPU_ISA_ENCODE_H
#define NPU_ISA_ENCODE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "npu_isa.h"

/*
 * Kernel, stride, dilation and padding of a sliding window (CONV2D, pools):
 * kh, kw are 16-bit fields, the others 8-bit (NPU_PACK16, NPU_PACK8).
 */
struct npu_isa_window {
	uint32_t kh, kw;	/* kernel, each >= 1 */
	uint32_t sh, sw;	/* stride, each >= 1 */
	uint32_t dh, dw;	/* dilation, each >= 1 */
	uint32_t pt, pl, pb, pr;	/* padding: top, left, bottom, right */
};

static inline struct npu_insn npu_insn_of(uint8_t opcode, uint8_t dtype, uint16_t flags,
					  uint32_t dst, uint32_t src0, uint32_t src1)
{
	struct npu_insn insn;

	memset(&insn, 0, sizeof(insn));
	insn.opcode = opcode;
	insn.dtype = dtype;
	insn.flags = flags;
	insn.dst = dst;
	insn.src0 = src0;
	insn.src1 = src1;
	return insn;
}

/* A signed argument slot holds the two's complement bits. */
static inline uint32_t npu_isa_signed(int32_t v)
{
	return (uint32_t)v;
}

static inline struct npu_insn npu_insn_halt(void)
{
	return npu_insn_of(NPU_ISA_HALT, 0, 0, 0, 0, 0);
}

static inline struct npu_insn npu_insn_copy(uint32_t dst, uint32_t src, uint32_t bytes)
{
	struct npu_insn insn = npu_insn_of(NPU_ISA_COPY, 0, 0, dst, src, 0);

	insn.arg[NPU_ARG_COUNT] = bytes;
	return insn;
}

/*
 * MATMUL_I8, every field: ab_u8 is NPU_DTYPE_A_U8 | NPU_DTYPE_B_U8 bits,
 * flags NPU_ISA_F_ACCUMULATE and NPU_ISA_F_BIAS (then bias is the address
 * of int32[n]; without it bias must be 0).
 */
static inline struct npu_insn npu_insn_matmul_q(uint8_t ab_u8, uint16_t flags, uint32_t dst,
						uint32_t a, uint32_t b, uint32_t m, uint32_t n,
						uint32_t k, int32_t za, int32_t zb, uint32_t bias)
{
	struct npu_insn insn = npu_insn_of(NPU_ISA_MATMUL_I8, ab_u8, flags, dst, a, b);

	insn.arg[NPU_ARG_M] = m;
	insn.arg[NPU_ARG_N] = n;
	insn.arg[NPU_ARG_K] = k;
	insn.arg[NPU_ARG_A_ZERO_POINT] = npu_isa_signed(za);
	insn.arg[NPU_ARG_B_ZERO_POINT] = npu_isa_signed(zb);
	insn.arg[NPU_ARG_MM_BIAS] = bias;
	return insn;
}

/* The version-1.0 matmul: int8 x int8, zero points 0, no bias. */
static inline struct npu_insn npu_insn_matmul(uint32_t dst, uint32_t a, uint32_t b, uint32_t m,
					      uint32_t n, uint32_t k, bool accumulate)
{
	return npu_insn_matmul_q(0, accumulate ? NPU_ISA_F_ACCUMULATE : 0, dst, a, b, m, n, k,
				 0, 0, 0);
}

/* Element-wise: ADD (flags NPU_ISA_F_WRAP), RELU, CLIP. */
static inline struct npu_insn npu_insn_add_f(uint8_t dtype, uint16_t flags, uint32_t dst,
					     uint32_t a, uint32_t b, uint32_t count)
{
	struct npu_insn insn = npu_insn_of(NPU_ISA_ADD, dtype, flags, dst, a, b);

	insn.arg[NPU_ARG_COUNT] = count;
	return insn;
}

static inline struct npu_insn npu_insn_add(uint8_t dtype, uint32_t dst, uint32_t a, uint32_t b,
					   uint32_t count)
{
	return npu_insn_add_f(dtype, 0, dst, a, b, count);
}

static inline struct npu_insn npu_insn_relu(uint8_t dtype, uint32_t dst, uint32_t src,
					    uint32_t count)
{
	struct npu_insn insn = npu_insn_of(NPU_ISA_RELU, dtype, 0, dst, src, 0);

	insn.arg[NPU_ARG_COUNT] = count;
	return insn;
}

static inline struct npu_insn npu_insn_clip(uint8_t dtype, uint32_t dst, uint32_t src,
					    uint32_t count, int32_t lo, int32_t hi)
{
	struct npu_insn insn = npu_insn_of(NPU_ISA_CLIP, dtype, 0, dst, src, 0);

	insn.arg[NPU_ARG_COUNT] = count;
	insn.arg[NPU_ARG_CLIP_MIN] = npu_isa_signed(lo);
	insn.arg[NPU_ARG_CLIP_MAX] = npu_isa_signed(hi);
	return insn;
}

/* REQUANT with an output dtype (NPU_DTYPE_I8 or NPU_DTYPE_U8). */
static inline struct npu_insn npu_insn_requant_to(uint8_t dtype, uint32_t dst, uint32_t src,
						  uint32_t count, int32_t multiplier,
						  uint32_t shift, int32_t zero_point)
{
	struct npu_insn insn = npu_insn_of(NPU_ISA_REQUANT, dtype, 0, dst, src, 0);

	insn.arg[NPU_ARG_COUNT] = count;
	insn.arg[NPU_ARG_MULTIPLIER] = npu_isa_signed(multiplier);
	insn.arg[NPU_ARG_SHIFT] = shift;
	insn.arg[NPU_ARG_ZERO_POINT] = npu_isa_signed(zero_point);
	return insn;
}

static inline struct npu_insn npu_insn_requant(uint32_t dst, uint32_t src, uint32_t count,
					       int32_t multiplier, uint32_t shift,
					       int32_t zero_point)
{
	return npu_insn_requant_to(NPU_DTYPE_I8, dst, src, count, multiplier, shift, zero_point);
}

/* REQUANT_PC: table is struct npu_requant_entry[channels]. */
static inline struct npu_insn npu_insn_requant_pc(uint8_t dtype, uint32_t dst, uint32_t src,
						  uint32_t table, uint32_t count,
						  uint32_t channels, int32_t zero_point)
{
	struct npu_insn insn = npu_insn_of(NPU_ISA_REQUANT_PC, dtype, 0, dst, src, table);

	insn.arg[NPU_ARG_COUNT] = count;
	insn.arg[NPU_ARG_RQ_CHANNELS] = channels;
	insn.arg[NPU_ARG_ZERO_POINT] = npu_isa_signed(zero_point);
	return insn;
}

/* Zero points of a quantized binary operation: a, b and the output. */
struct npu_isa_rq_zero_points {
	int32_t a, b, out;
};

/* ADD_RQ (mb used) and MUL_RQ (mb must be 0); b_len 0 = b has count elements. */
static inline struct npu_insn npu_insn_binary_rq(uint8_t opcode, uint8_t dtype, uint32_t dst,
						 uint32_t a, uint32_t b, uint32_t count,
						 struct npu_isa_rq_zero_points zp, int32_t ma,
						 int32_t mb, uint32_t shift, uint32_t b_len)
{
	struct npu_insn insn = npu_insn_of(opcode, dtype, 0, dst, a, b);

	insn.arg[NPU_ARG_COUNT] = count;
	insn.arg[NPU_ARG_RQ_A_ZERO_POINT] = npu_isa_signed(zp.a);
	insn.arg[NPU_ARG_RQ_B_ZERO_POINT] = npu_isa_signed(zp.b);
	insn.arg[NPU_ARG_RQ_OUT_ZERO_POINT] = npu_isa_signed(zp.out);
	insn.arg[NPU_ARG_RQ_A_MULTIPLIER] = npu_isa_signed(ma);
	insn.arg[NPU_ARG_RQ_B_MULTIPLIER] = npu_isa_signed(mb);
	insn.arg[NPU_ARG_RQ_SHIFT] = shift;
	insn.arg[NPU_ARG_RQ_B_LEN] = b_len;
	return insn;
}

static inline uint32_t npu_isa_window_kernel(const struct npu_isa_window *win)
{
	return NPU_PACK16(win->kh, win->kw);
}

static inline uint32_t npu_isa_window_stride_dil(const struct npu_isa_window *win)
{
	return NPU_PACK8(win->sh, win->sw, win->dh, win->dw);
}

static inline uint32_t npu_isa_window_pads(const struct npu_isa_window *win)
{
	return NPU_PACK8(win->pt, win->pl, win->pb, win->pr);
}

/* Shape of CONV2D: x [n][h][w][cin], weights [cout][kh][kw][cin / groups]. */
struct npu_isa_conv_shape {
	uint32_t n, h, w, cin, cout, groups;
};

/* CONV2D: ab_u8 as for matmul; flags ACCUMULATE, BIAS (bias: int32[cout]). */
static inline struct npu_insn npu_insn_conv2d(uint8_t ab_u8, uint16_t flags, uint32_t dst,
					      uint32_t x, uint32_t weights,
					      const struct npu_isa_conv_shape *shape,
					      const struct npu_isa_window *win, uint32_t bias,
					      int32_t zx, int32_t zw)
{
	struct npu_insn insn = npu_insn_of(NPU_ISA_CONV2D, ab_u8, flags, dst, x, weights);

	insn.arg[NPU_ARG_CONV_N] = shape->n;
	insn.arg[NPU_ARG_CONV_H] = shape->h;
	insn.arg[NPU_ARG_CONV_W] = shape->w;
	insn.arg[NPU_ARG_CONV_C_IN] = shape->cin;
	insn.arg[NPU_ARG_CONV_C_OUT] = shape->cout;
	insn.arg[NPU_ARG_CONV_GROUPS] = shape->groups;
	insn.arg[NPU_ARG_CONV_KERNEL] = npu_isa_window_kernel(win);
	insn.arg[NPU_ARG_CONV_STRIDE_DIL] = npu_isa_window_stride_dil(win);
	insn.arg[NPU_ARG_CONV_PADS] = npu_isa_window_pads(win);
	insn.arg[NPU_ARG_CONV_BIAS] = bias;
	insn.arg[NPU_ARG_CONV_X_ZERO_POINT] = npu_isa_signed(zx);
	insn.arg[NPU_ARG_CONV_W_ZERO_POINT] = npu_isa_signed(zw);
	return insn;
}

/*
 * MAXPOOL or AVGPOOL over src [n][h][w][c]; AVGPOOL flags may hold
 * NPU_ISA_F_COUNT_PAD, then zero_point is the pad value (else 0).
 */
static inline struct npu_insn npu_insn_pool(uint8_t opcode, uint8_t dtype, uint16_t flags,
					    uint32_t dst, uint32_t src, uint32_t n, uint32_t h,
					    uint32_t w, uint32_t c,
					    const struct npu_isa_window *win, int32_t zero_point)
{
	struct npu_insn insn = npu_insn_of(opcode, dtype, flags, dst, src, 0);

	insn.arg[NPU_ARG_POOL_N] = n;
	insn.arg[NPU_ARG_POOL_H] = h;
	insn.arg[NPU_ARG_POOL_W] = w;
	insn.arg[NPU_ARG_POOL_C] = c;
	insn.arg[NPU_ARG_POOL_KERNEL] = npu_isa_window_kernel(win);
	insn.arg[NPU_ARG_POOL_STRIDE_DIL] = npu_isa_window_stride_dil(win);
	insn.arg[NPU_ARG_POOL_PADS] = npu_isa_window_pads(win);
	insn.arg[NPU_ARG_POOL_ZERO_POINT] = npu_isa_signed(zero_point);
	return insn;
}

/* COPY_ND: count[d] elements per dimension (d = 0 outermost), strides in bytes. */
static inline struct npu_insn npu_insn_copy_nd(uint8_t dtype, uint32_t dst, uint32_t src,
					       const uint32_t count[NPU_ND_DIMS],
					       const int32_t src_stride[NPU_ND_DIMS],
					       const int32_t dst_stride[NPU_ND_DIMS])
{
	struct npu_insn insn = npu_insn_of(NPU_ISA_COPY_ND, dtype, 0, dst, src, 0);

	for (unsigned int d = 0; d < NPU_ND_DIMS; d++) {
		insn.arg[NPU_ARG_ND_COUNT(d)] = count[d];
		insn.arg[NPU_ARG_ND_SRC_STRIDE(d)] = npu_isa_signed(src_stride[d]);
		insn.arg[NPU_ARG_ND_DST_STRIDE(d)] = npu_isa_signed(dst_stride[d]);
	}
	return insn;
}

static inline struct npu_insn npu_insn_fill(uint8_t dtype, uint32_t dst, uint32_t count,
					    int32_t value)
{
	struct npu_insn insn = npu_insn_of(NPU_ISA_FILL, dtype, 0, dst, 0, 0);

	insn.arg[NPU_ARG_COUNT] = count;
	insn.arg[NPU_ARG_FILL_VALUE] = npu_isa_signed(value);
	return insn;
}

#endif /* NPU_ISA_ENCODE_H */
