// SPDX-License-Identifier: MIT
/*
 * Interpreter of the NPU instruction set. docs/hardware.md is the
 * specification; this file is its executable form.
 *
 * Every instruction goes through the same steps: generic field checks
 * against the opcode's description (isa_desc.c: opcode, dtype, flags, unused
 * fields must be zero), then, driven by the table isa_ops[], an
 * opcode-specific plan (argument values, the byte range of every
 * operand, forbidden overlaps and the amount of work), an optional check of
 * operand contents (requantization tables), then, once all ranges are proven
 * inside the address space and the cycle budget allows it, the execution.
 * All arithmetic is exact in 64 bits or done modulo 2^32 in unsigned types,
 * so results never depend on the compiler (no undefined behaviour).
 * Nothing is written before every check has passed, so a failing instruction
 * has no side effects.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "isa_desc.h"
#include "isa_exec.h"
#include "isa_gemm.h"
#include "isa_le.h"

/* Two's complement reinterpretation without implementation-defined casts. */
static int64_t as_i32(uint32_t v)
{
	return v >= 0x80000000u ? (int64_t)v - 0x100000000ll : (int64_t)v;
}

static int as_i8(uint8_t v)
{
	return v >= 0x80u ? (int)v - 0x100 : (int)v;
}

/* ---- encode / decode ------------------------------------------------------ */

void npu_isa_decode(const uint8_t raw[NPU_INSN_SIZE], struct npu_insn *insn)
{
	unsigned int i;

	insn->opcode = raw[offsetof(struct npu_insn, opcode)];
	insn->dtype = raw[offsetof(struct npu_insn, dtype)];
	insn->flags = (uint16_t)(raw[offsetof(struct npu_insn, flags)] |
				 raw[offsetof(struct npu_insn, flags) + 1] << 8);
	insn->dst = ld_le32(raw + offsetof(struct npu_insn, dst));
	insn->src0 = ld_le32(raw + offsetof(struct npu_insn, src0));
	insn->src1 = ld_le32(raw + offsetof(struct npu_insn, src1));
	for (i = 0; i < 12; i++)
		insn->arg[i] = ld_le32(raw + offsetof(struct npu_insn, arg) + 4 * i);
}

void npu_isa_encode(const struct npu_insn *insn, uint8_t raw[NPU_INSN_SIZE])
{
	unsigned int i;

	raw[offsetof(struct npu_insn, opcode)] = insn->opcode;
	raw[offsetof(struct npu_insn, dtype)] = insn->dtype;
	raw[offsetof(struct npu_insn, flags)] = (uint8_t)insn->flags;
	raw[offsetof(struct npu_insn, flags) + 1] = (uint8_t)(insn->flags >> 8);
	st_le32(raw + offsetof(struct npu_insn, dst), insn->dst);
	st_le32(raw + offsetof(struct npu_insn, src0), insn->src0);
	st_le32(raw + offsetof(struct npu_insn, src1), insn->src1);
	for (i = 0; i < 12; i++)
		st_le32(raw + offsetof(struct npu_insn, arg) + 4 * i, insn->arg[i]);
}

/* ---- arithmetic shared by the instructions ---------------------------------- */

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	if (a != 0 && b > UINT64_MAX / a)
		return UINT64_MAX;
	return a * b;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Range of an 8-bit element type (I8 or U8). */
static int64_t type_min(bool is_unsigned)
{
	return is_unsigned ? 0 : -128;
}

static int64_t type_max(bool is_unsigned)
{
	return is_unsigned ? 255 : 127;
}

static bool in_type(int64_t v, bool is_unsigned)
{
	return v >= type_min(is_unsigned) && v <= type_max(is_unsigned);
}

static uint8_t sat_8(int64_t v, bool is_unsigned)
{
	if (v > type_max(is_unsigned))
		v = type_max(is_unsigned);
	if (v < type_min(is_unsigned))
		v = type_min(is_unsigned);
	return (uint8_t)((uint64_t)v & 0xff);
}

static int load_8(uint8_t v, bool is_unsigned)
{
	return is_unsigned ? (int)v : as_i8(v);
}

/*
 * p / 2^shift rounded half away from zero (docs/hardware.md §10.1), for
 * |p| <= 2^62 and shift <= 62: |p| + 2^61 cannot overflow a uint64_t.
 */
static int64_t rshift_round(int64_t p, unsigned int shift)
{
	uint64_t mag = p < 0 ? (uint64_t)0 - (uint64_t)p : (uint64_t)p;

	if (shift > 0)
		mag = (mag + ((uint64_t)1 << (shift - 1))) >> shift;
	return p < 0 ? -(int64_t)mag : (int64_t)mag;
}

/* sum / count rounded half away from zero; count >= 1, |sum| < 2^62. */
static int64_t div_round(int64_t sum, uint64_t count)
{
	uint64_t mag = sum < 0 ? (uint64_t)0 - (uint64_t)sum : (uint64_t)sum;

	mag = (2 * mag + count) / (2 * count);
	return sum < 0 ? -(int64_t)mag : (int64_t)mag;
}

/*
 * Table of (value - zero point) for all 256 byte values of an 8-bit operand,
 * so the MAC loops need neither a type switch nor a subtraction.
 */
static void centered_table(int16_t table[256], bool is_unsigned, int64_t zero_point)
{
	unsigned int b;

	for (b = 0; b < 256; b++)
		table[b] = (int16_t)(load_8((uint8_t)b, is_unsigned) - zero_point);
}

/* ---- the plan of one instruction ------------------------------------------ */

/* Operand ranges: the three operand fields, then one argument-addressed one. */
enum { OPND_DST, OPND_SRC0, OPND_SRC1, OPND_AUX, OPND_COUNT };

#define USES_DST	(1u << OPND_DST)
#define USES_SRC0	(1u << OPND_SRC0)
#define USES_SRC1	(1u << OPND_SRC1)
#define USES_AUX	(1u << OPND_AUX)

struct isa_range {
	uint64_t addr;
	uint64_t len;
};

/* Geometry of a sliding window (CONV2D, MAXPOOL, AVGPOOL), §10.1. */
struct isa_window {
	uint64_t n, h, w, c;		/* input; c = C_in for CONV2D */
	uint64_t kh, kw, sh, sw, dh, dw;
	uint64_t pt, pl, pb, pr;
	uint64_t oh, ow;
};

struct isa_plan {
	struct isa_range range[OPND_COUNT];	/* checked if the op or the plan uses it */
	uint8_t aux_used;		/* OPND_AUX range is an operand */
	uint8_t dst_disjoint;		/* USES_* mask of ranges dst may not overlap */
	uint64_t work;			/* units of work: bytes, elements or MACs */
	uint32_t work_per_cycle;	/* per lane */
	struct isa_window win;
	unsigned int elem_size;		/* COPY_ND, FILL */
	uint64_t b_len;			/* ADD_RQ, MUL_RQ: elements of b */
};

/*
 * What an opcode does. What it accepts (flags, dtypes, the fields it uses;
 * unused ones must be 0) is its description's, isa_desc.c.
 */
struct isa_op {
	/* Checks argument values and fills the plan; returns a status. */
	uint32_t (*plan)(const struct npu_insn *insn, struct isa_plan *plan);
	/* Optional: checks operand contents, after the range checks (§10 step 5). */
	uint32_t (*check_data)(const uint8_t *mem, const struct npu_insn *insn);
	/* The reference: the specification's loops, as plain as they can be. */
	void (*exec)(uint8_t *mem, const struct npu_insn *insn, const struct isa_plan *plan);
	/*
	 * Optional, the fast path (isa_gemm.c): same results as exec, bit for
	 * bit. Returns false, having written nothing, to leave it to exec.
	 */
	bool (*exec_fast)(uint8_t *mem, const struct npu_insn *insn, const struct isa_plan *plan,
			  bool portable);
};

static unsigned int dtype_size(uint8_t dtype)
{
	switch (dtype) {
	case NPU_DTYPE_I32:
		return 4;
	case NPU_DTYPE_I16:
		return 2;
	case NPU_DTYPE_I64:
		return 8;
	default:
		return 1;
	}
}

static bool dtype_unsigned(uint8_t dtype)
{
	return dtype == NPU_DTYPE_U8;
}

static int64_t arg_signed(const struct npu_insn *insn, unsigned int slot)
{
	return as_i32(insn->arg[slot]);
}

/* ---- HALT ------------------------------------------------------------------ */

static uint32_t plan_halt(const struct npu_insn *insn, struct isa_plan *plan)
{
	(void)insn;
	(void)plan;
	return NPU_STATUS_OK;
}

/* ---- COPY: memmove semantics ------------------------------------------------ */

static uint32_t plan_copy(const struct npu_insn *insn, struct isa_plan *plan)
{
	uint64_t n = insn->arg[NPU_ARG_COUNT];

	plan->range[OPND_DST] = (struct isa_range){ insn->dst, n };
	plan->range[OPND_SRC0] = (struct isa_range){ insn->src0, n };
	plan->work = n;
	plan->work_per_cycle = NPU_ISA_COPY_BYTES_PER_CYCLE;
	return NPU_STATUS_OK;
}

static void exec_copy(uint8_t *mem, const struct npu_insn *insn, const struct isa_plan *plan)
{
	(void)plan;
	memmove(mem + insn->dst, mem + insn->src0, insn->arg[NPU_ARG_COUNT]);
}

/* ---- MATMUL_I8: zero points, u8/i8 operands, bias --------------------------- */

/* The optional bias operand of MATMUL_I8 and CONV2D: `count` int32 values. */
static uint32_t plan_bias(const struct npu_insn *insn, struct isa_plan *plan,
			  unsigned int slot, uint64_t count)
{
	if (!(insn->flags & NPU_ISA_F_BIAS))
		return insn->arg[slot] ? NPU_STATUS_BAD_DESC : NPU_STATUS_OK;
	plan->range[OPND_AUX] = (struct isa_range){ insn->arg[slot], mul_sat(count, 4) };
	plan->aux_used = 1;
	return NPU_STATUS_OK;
}

static uint32_t plan_matmul(const struct npu_insn *insn, struct isa_plan *plan)
{
	uint64_t m = insn->arg[NPU_ARG_M];
	uint64_t n = insn->arg[NPU_ARG_N];
	uint64_t k = insn->arg[NPU_ARG_K];
	uint64_t mn = m * n;	/* < 2^64: both factors < 2^32 */

	if (!in_type(arg_signed(insn, NPU_ARG_A_ZERO_POINT), insn->dtype & NPU_DTYPE_A_U8) ||
	    !in_type(arg_signed(insn, NPU_ARG_B_ZERO_POINT), insn->dtype & NPU_DTYPE_B_U8))
		return NPU_STATUS_BAD_DESC;
	if (plan_bias(insn, plan, NPU_ARG_MM_BIAS, n) != NPU_STATUS_OK)
		return NPU_STATUS_BAD_DESC;
	plan->range[OPND_DST] = (struct isa_range){ insn->dst, mul_sat(mn, 4) };
	plan->range[OPND_SRC0] = (struct isa_range){ insn->src0, m * k };
	plan->range[OPND_SRC1] = (struct isa_range){ insn->src1, k * n };
	plan->dst_disjoint = USES_SRC0 | USES_SRC1 | USES_AUX;
	plan->work = mul_sat(mn, k);
	plan->work_per_cycle = NPU_ISA_MACS_PER_CYCLE;
	return NPU_STATUS_OK;
}

static void exec_matmul(uint8_t *mem, const struct npu_insn *insn, const struct isa_plan *plan)
{
	uint64_t m = insn->arg[NPU_ARG_M];
	uint64_t n = insn->arg[NPU_ARG_N];
	uint64_t k = insn->arg[NPU_ARG_K];
	const uint8_t *a = mem + insn->src0;
	const uint8_t *b = mem + insn->src1;
	uint8_t *d = mem + insn->dst;
	bool accumulate = insn->flags & NPU_ISA_F_ACCUMULATE;
	bool bias = insn->flags & NPU_ISA_F_BIAS;
	int16_t ta[256], tb[256];
	uint64_t i, j, x;

	centered_table(ta, insn->dtype & NPU_DTYPE_A_U8, arg_signed(insn, NPU_ARG_A_ZERO_POINT));
	centered_table(tb, insn->dtype & NPU_DTYPE_B_U8, arg_signed(insn, NPU_ARG_B_ZERO_POINT));
	for (i = 0; i < m; i++) {
		for (j = 0; j < n; j++) {
			uint8_t *out = d + 4 * (i * n + j);
			/* int32 accumulator: unsigned arithmetic wraps modulo 2^32. */
			uint32_t sum = accumulate ? ld_le32(out) : 0;

			if (bias)
				sum += ld_le32(mem + plan->range[OPND_AUX].addr + 4 * j);
			for (x = 0; x < k; x++)
				sum += (uint32_t)((int32_t)ta[a[i * k + x]] * tb[b[x * n + j]]);
			st_le32(out, sum);
		}
	}
}

/*
 * Sets every int32 output of a MAC instruction to its starting value: the
 * old value with ACCUMULATE, else 0, plus the bias of its column (out_c of
 * them, one per column) with BIAS; the products are then added to it.
 */
static void init_outputs(uint8_t *d, uint64_t rows, uint64_t cols, bool accumulate,
			 const uint8_t *bias)
{
	uint64_t i, j;

	for (i = 0; i < rows; i++) {
		for (j = 0; j < cols; j++) {
			uint8_t *out = d + 4 * (i * cols + j);
			uint32_t v = accumulate ? ld_le32(out) : 0;

			if (bias)
				v += ld_le32(bias + 4 * j);
			st_le32(out, v);
		}
	}
}

struct matmul_view {
	const uint8_t *a;
	const int16_t *ta;
};

static void matmul_a_row(const struct isa_gemm *g, uint64_t i, uint64_t x0, unsigned int depth,
			 int16_t *out)
{
	const struct matmul_view *v = g->a_ctx;
	const uint8_t *a = v->a + i * g->k + x0;
	unsigned int x;

	for (x = 0; x < depth; x++)
		out[x] = v->ta[a[x]];
}

static bool exec_matmul_fast(uint8_t *mem, const struct npu_insn *insn,
			     const struct isa_plan *plan, bool portable)
{
	int16_t ta[256], tb[256];
	struct matmul_view view = { .a = mem + insn->src0, .ta = ta };
	struct isa_gemm g = {
		.m = insn->arg[NPU_ARG_M], .n = insn->arg[NPU_ARG_N], .k = insn->arg[NPU_ARG_K],
		.a_row = matmul_a_row, .a_ctx = &view,
		.b = mem + insn->src1, .b_x = insn->arg[NPU_ARG_N], .b_j = 1, .tb = tb,
		.c = mem + insn->dst, .ldc = insn->arg[NPU_ARG_N],
	};
	void *work = NULL;

	if (g.m && g.n && g.k) {
		work = malloc(isa_gemm_workspace(&g));
		if (!work)
			return false;
	}
	centered_table(ta, insn->dtype & NPU_DTYPE_A_U8, arg_signed(insn, NPU_ARG_A_ZERO_POINT));
	centered_table(tb, insn->dtype & NPU_DTYPE_B_U8, arg_signed(insn, NPU_ARG_B_ZERO_POINT));
	init_outputs(g.c, g.m, g.n, insn->flags & NPU_ISA_F_ACCUMULATE,
		     insn->flags & NPU_ISA_F_BIAS ? mem + plan->range[OPND_AUX].addr : NULL);
	if (work)
		isa_gemm_i8(&g, portable, work);
	free(work);
	return true;
}

/* ---- sliding windows: CONV2D, MAXPOOL, AVGPOOL ------------------------------- */

static uint64_t window_out(uint64_t in, uint64_t pad_a, uint64_t pad_b, uint64_t k,
			   uint64_t d, uint64_t stride)
{
	uint64_t padded = in + pad_a + pad_b;
	uint64_t extent = d * (k - 1) + 1;

	return padded >= extent ? (padded - extent) / stride + 1 : 0;
}

/*
 * Reads the packed kernel, stride/dilation and pads arguments; returns
 * BAD_DESC for a zero kernel, stride or dilation.
 */
static uint32_t parse_window(const struct npu_insn *insn, unsigned int kernel,
			     unsigned int stride_dil, unsigned int pads, struct isa_window *win)
{
	uint32_t k = insn->arg[kernel], sd = insn->arg[stride_dil], p = insn->arg[pads];

	win->kh = k & 0xffff;
	win->kw = k >> 16;
	win->sh = sd & 0xff;
	win->sw = (sd >> 8) & 0xff;
	win->dh = (sd >> 16) & 0xff;
	win->dw = sd >> 24;
	win->pt = p & 0xff;
	win->pl = (p >> 8) & 0xff;
	win->pb = (p >> 16) & 0xff;
	win->pr = p >> 24;
	if (!win->kh || !win->kw || !win->sh || !win->sw || !win->dh || !win->dw)
		return NPU_STATUS_BAD_DESC;
	win->oh = window_out(win->h, win->pt, win->pb, win->kh, win->dh, win->sh);
	win->ow = window_out(win->w, win->pl, win->pr, win->kw, win->dw, win->sw);
	return NPU_STATUS_OK;
}

/* Input row (or column) of output index o and kernel index k, if inside [0, size). */
static bool window_tap(uint64_t o, uint64_t k, uint64_t stride, uint64_t pad, uint64_t dil,
		       uint64_t size, uint64_t *pos)
{
	uint64_t p = o * stride + k * dil;	/* exact: all factors are small */

	if (p < pad || p - pad >= size)
		return false;
	*pos = p - pad;
	return true;
}

static uint32_t plan_conv2d(const struct npu_insn *insn, struct isa_plan *plan)
{
	struct isa_window *win = &plan->win;
	uint64_t cout = insn->arg[NPU_ARG_CONV_C_OUT];
	uint64_t groups = insn->arg[NPU_ARG_CONV_GROUPS];
	uint64_t cg, outputs;

	win->n = insn->arg[NPU_ARG_CONV_N];
	win->h = insn->arg[NPU_ARG_CONV_H];
	win->w = insn->arg[NPU_ARG_CONV_W];
	win->c = insn->arg[NPU_ARG_CONV_C_IN];
	if (!groups || win->c % groups || cout % groups)
		return NPU_STATUS_BAD_DESC;
	if (parse_window(insn, NPU_ARG_CONV_KERNEL, NPU_ARG_CONV_STRIDE_DIL, NPU_ARG_CONV_PADS,
			 win) != NPU_STATUS_OK)
		return NPU_STATUS_BAD_DESC;
	if (!in_type(arg_signed(insn, NPU_ARG_CONV_X_ZERO_POINT), insn->dtype & NPU_DTYPE_A_U8) ||
	    !in_type(arg_signed(insn, NPU_ARG_CONV_W_ZERO_POINT), insn->dtype & NPU_DTYPE_B_U8))
		return NPU_STATUS_BAD_DESC;
	if (plan_bias(insn, plan, NPU_ARG_CONV_BIAS, cout) != NPU_STATUS_OK)
		return NPU_STATUS_BAD_DESC;
	cg = win->c / groups;
	outputs = mul_sat(mul_sat(mul_sat(win->n, win->oh), win->ow), cout);
	plan->range[OPND_DST] = (struct isa_range){ insn->dst, mul_sat(outputs, 4) };
	plan->range[OPND_SRC0] = (struct isa_range){
		insn->src0, mul_sat(mul_sat(mul_sat(win->n, win->h), win->w), win->c) };
	plan->range[OPND_SRC1] = (struct isa_range){
		insn->src1, mul_sat(mul_sat(mul_sat(cout, win->kh), win->kw), cg) };
	plan->dst_disjoint = USES_SRC0 | USES_SRC1 | USES_AUX;
	plan->work = mul_sat(mul_sat(mul_sat(outputs, win->kh), win->kw), cg);
	plan->work_per_cycle = NPU_ISA_MACS_PER_CYCLE;
	return NPU_STATUS_OK;
}

static void exec_conv2d(uint8_t *mem, const struct npu_insn *insn, const struct isa_plan *plan)
{
	const struct isa_window *win = &plan->win;
	uint64_t cout = insn->arg[NPU_ARG_CONV_C_OUT];
	uint64_t cg = win->c / insn->arg[NPU_ARG_CONV_GROUPS];
	uint64_t cout_g = cout / insn->arg[NPU_ARG_CONV_GROUPS];
	const uint8_t *x = mem + insn->src0;
	const uint8_t *w = mem + insn->src1;
	const uint8_t *bias = mem + plan->range[OPND_AUX].addr;
	uint8_t *d = mem + insn->dst;
	bool accumulate = insn->flags & NPU_ISA_F_ACCUMULATE;
	bool has_bias = insn->flags & NPU_ISA_F_BIAS;
	int16_t tx[256], tw[256];
	uint64_t n, oh, ow, co, kh, kw, ih, iw, ci;

	centered_table(tx, insn->dtype & NPU_DTYPE_A_U8,
		       arg_signed(insn, NPU_ARG_CONV_X_ZERO_POINT));
	centered_table(tw, insn->dtype & NPU_DTYPE_B_U8,
		       arg_signed(insn, NPU_ARG_CONV_W_ZERO_POINT));
	for (n = 0; n < win->n; n++)
	for (oh = 0; oh < win->oh; oh++)
	for (ow = 0; ow < win->ow; ow++)
	for (co = 0; co < cout; co++) {
		uint8_t *out = d + 4 * (((n * win->oh + oh) * win->ow + ow) * cout + co);
		uint64_t cin0 = co / cout_g * cg;
		uint32_t sum = accumulate ? ld_le32(out) : 0;

		if (has_bias)
			sum += ld_le32(bias + 4 * co);
		for (kh = 0; kh < win->kh; kh++) {
			if (!window_tap(oh, kh, win->sh, win->pt, win->dh, win->h, &ih))
				continue;	/* padding: x - zx = 0 */
			for (kw = 0; kw < win->kw; kw++) {
				const uint8_t *xp, *wp;

				if (!window_tap(ow, kw, win->sw, win->pl, win->dw, win->w, &iw))
					continue;
				xp = x + ((n * win->h + ih) * win->w + iw) * win->c + cin0;
				wp = w + ((co * win->kh + kh) * win->kw + kw) * cg;
				for (ci = 0; ci < cg; ci++)
					sum += (uint32_t)((int32_t)tx[xp[ci]] * tw[wp[ci]]);
			}
		}
		st_le32(out, sum);
	}
}

/*
 * CONV2D as one matrix product per group (im2col): row p of A is output
 * position p's receptive field in the group's input channels, in the
 * weights' (kh, kw, ci) order, so that B(x, co) is weight row co.
 */
struct conv_view {
	const struct isa_window *win;
	const uint8_t *x;
	const int16_t *tx;
	uint64_t cg, cin0;
};

static void conv_a_row(const struct isa_gemm *g, uint64_t p, uint64_t x0, unsigned int depth,
		       int16_t *out)
{
	const struct conv_view *v = g->a_ctx;
	const struct isa_window *win = v->win;
	uint64_t ow = p % win->ow, oh = p / win->ow % win->oh, n = p / win->ow / win->oh;
	uint64_t ci = x0 % v->cg, kw = x0 / v->cg % win->kw, kh = x0 / v->cg / win->kw;
	unsigned int d = 0;

	while (d < depth) {
		unsigned int run = (unsigned int)(v->cg - ci < depth - d ? v->cg - ci : depth - d);
		uint64_t ih, iw;

		if (window_tap(oh, kh, win->sh, win->pt, win->dh, win->h, &ih) &&
		    window_tap(ow, kw, win->sw, win->pl, win->dw, win->w, &iw)) {
			const uint8_t *xp = v->x + ((n * win->h + ih) * win->w + iw) * win->c +
					    v->cin0 + ci;
			unsigned int r;

			for (r = 0; r < run; r++)
				out[d + r] = v->tx[xp[r]];
		} else {
			memset(out + d, 0, run * sizeof(*out));	/* padding: x - zx = 0 */
		}
		d += run;
		ci = 0;
		if (++kw == win->kw) {
			kw = 0;
			kh++;
		}
	}
}

/*
 * Groups of fewer output channels than this (depthwise convolutions) stay
 * on the reference loops: a product one column wide would waste most of the
 * micro-kernel's tile.
 */
#define CONV_FAST_MIN_COUT_PER_GROUP 4

static bool exec_conv2d_fast(uint8_t *mem, const struct npu_insn *insn,
			     const struct isa_plan *plan, bool portable)
{
	const struct isa_window *win = &plan->win;
	uint64_t groups = insn->arg[NPU_ARG_CONV_GROUPS];
	uint64_t cout = insn->arg[NPU_ARG_CONV_C_OUT];
	uint64_t cout_g = cout / groups, cg = win->c / groups;
	uint64_t depth = win->kh * win->kw * cg;
	int16_t tx[256], tw[256];
	struct conv_view view = { .win = win, .x = mem + insn->src0, .tx = tx, .cg = cg };
	struct isa_gemm g = {
		.m = win->n * win->oh * win->ow, .n = cout_g, .k = depth,
		.a_row = conv_a_row, .a_ctx = &view,
		.b_x = 1, .b_j = depth, .tb = tw, .ldc = cout,
	};
	void *work = NULL;
	uint64_t group;

	if (cout_g < CONV_FAST_MIN_COUT_PER_GROUP)
		return false;
	if (g.m && g.k) {
		work = malloc(isa_gemm_workspace(&g));
		if (!work)
			return false;
	}
	centered_table(tx, insn->dtype & NPU_DTYPE_A_U8,
		       arg_signed(insn, NPU_ARG_CONV_X_ZERO_POINT));
	centered_table(tw, insn->dtype & NPU_DTYPE_B_U8,
		       arg_signed(insn, NPU_ARG_CONV_W_ZERO_POINT));
	init_outputs(mem + insn->dst, g.m, cout, insn->flags & NPU_ISA_F_ACCUMULATE,
		     insn->flags & NPU_ISA_F_BIAS ? mem + plan->range[OPND_AUX].addr : NULL);
	for (group = 0; work && group < groups; group++) {
		view.cin0 = group * cg;
		g.b = mem + insn->src1 + group * cout_g * depth;
		g.c = mem + insn->dst + 4 * group * cout_g;
		isa_gemm_i8(&g, portable, work);
	}
	free(work);
	return true;
}

static uint32_t plan_pool(const struct npu_insn *insn, struct isa_plan *plan)
{
	bool average = insn->opcode == NPU_ISA_AVGPOOL;
	struct isa_window *win = &plan->win;
	uint64_t outputs;

	win->n = insn->arg[NPU_ARG_POOL_N];
	win->h = insn->arg[NPU_ARG_POOL_H];
	win->w = insn->arg[NPU_ARG_POOL_W];
	win->c = insn->arg[NPU_ARG_POOL_C];
	if (parse_window(insn, NPU_ARG_POOL_KERNEL, NPU_ARG_POOL_STRIDE_DIL, NPU_ARG_POOL_PADS,
			 win) != NPU_STATUS_OK)
		return NPU_STATUS_BAD_DESC;
	/* Every pad smaller than the kernel's extent: no window lies in padding only. */
	if (win->pt >= win->dh * (win->kh - 1) + 1 || win->pb >= win->dh * (win->kh - 1) + 1 ||
	    win->pl >= win->dw * (win->kw - 1) + 1 || win->pr >= win->dw * (win->kw - 1) + 1)
		return NPU_STATUS_BAD_DESC;
	if (average) {
		int64_t zp = arg_signed(insn, NPU_ARG_POOL_ZERO_POINT);

		if (win->dh != 1 || win->dw != 1)
			return NPU_STATUS_BAD_DESC;
		if ((insn->flags & NPU_ISA_F_COUNT_PAD) ? !in_type(zp, dtype_unsigned(insn->dtype))
							: zp != 0)
			return NPU_STATUS_BAD_DESC;
	}
	if (!win->h || !win->w)
		win->oh = win->ow = 0;
	outputs = mul_sat(mul_sat(mul_sat(win->n, win->oh), win->ow), win->c);
	plan->range[OPND_DST] = (struct isa_range){ insn->dst, outputs };
	plan->range[OPND_SRC0] = (struct isa_range){
		insn->src0, mul_sat(mul_sat(mul_sat(win->n, win->h), win->w), win->c) };
	plan->dst_disjoint = USES_SRC0;
	plan->work = mul_sat(mul_sat(outputs, win->kh), win->kw);
	plan->work_per_cycle = NPU_ISA_ELEMS_PER_CYCLE;
	return NPU_STATUS_OK;
}

static void exec_pool(uint8_t *mem, const struct npu_insn *insn, const struct isa_plan *plan)
{
	const struct isa_window *win = &plan->win;
	bool is_unsigned = dtype_unsigned(insn->dtype);
	bool average = insn->opcode == NPU_ISA_AVGPOOL;
	bool count_pad = insn->flags & NPU_ISA_F_COUNT_PAD;
	int64_t zp = arg_signed(insn, NPU_ARG_POOL_ZERO_POINT);
	const uint8_t *src = mem + insn->src0;
	uint8_t *d = mem + insn->dst;
	uint64_t n, oh, ow, c, kh, kw, ih, iw;

	for (n = 0; n < win->n; n++)
	for (oh = 0; oh < win->oh; oh++)
	for (ow = 0; ow < win->ow; ow++)
	for (c = 0; c < win->c; c++) {
		int64_t best = type_min(is_unsigned), sum = 0, result;
		uint64_t inside = 0;

		for (kh = 0; kh < win->kh; kh++) {
			if (!window_tap(oh, kh, win->sh, win->pt, win->dh, win->h, &ih))
				continue;
			for (kw = 0; kw < win->kw; kw++) {
				int v;

				if (!window_tap(ow, kw, win->sw, win->pl, win->dw, win->w, &iw))
					continue;
				v = load_8(src[((n * win->h + ih) * win->w + iw) * win->c + c],
					   is_unsigned);
				best = v > best ? v : best;
				sum += v;
				inside++;
			}
		}
		if (!average) {
			result = best;
		} else if (count_pad) {
			uint64_t taps = win->kh * win->kw;

			result = div_round(sum + zp * (int64_t)(taps - inside), taps);
		} else {
			result = div_round(sum, inside);	/* inside >= 1, §10.2 */
		}
		d[((n * win->oh + oh) * win->ow + ow) * win->c + c] = sat_8(result, is_unsigned);
	}
}

/* ---- ADD, RELU, CLIP: element-wise, ascending order, each element read then written -- */

/* ADD reads two operands, RELU and CLIP one. */
static uint32_t plan_elementwise(const struct npu_insn *insn, struct isa_plan *plan)
{
	bool binary = insn->opcode == NPU_ISA_ADD;
	uint64_t bytes = (uint64_t)insn->arg[NPU_ARG_COUNT] * dtype_size(insn->dtype);

	plan->range[OPND_DST] = (struct isa_range){ insn->dst, bytes };
	plan->range[OPND_SRC0] = (struct isa_range){ insn->src0, bytes };
	if (binary)
		plan->range[OPND_SRC1] = (struct isa_range){ insn->src1, bytes };
	plan->work = insn->arg[NPU_ARG_COUNT];
	plan->work_per_cycle = NPU_ISA_ELEMS_PER_CYCLE;
	return NPU_STATUS_OK;
}

static void exec_add(uint8_t *mem, const struct npu_insn *insn, const struct isa_plan *plan)
{
	uint64_t count = insn->arg[NPU_ARG_COUNT], i;
	bool is_unsigned = dtype_unsigned(insn->dtype);
	bool wrap = insn->flags & NPU_ISA_F_WRAP;

	(void)plan;
	for (i = 0; i < count; i++) {
		if (insn->dtype != NPU_DTYPE_I32) {
			int sum = load_8(mem[insn->src0 + i], is_unsigned) +
				  load_8(mem[insn->src1 + i], is_unsigned);

			mem[insn->dst + i] = wrap ? (uint8_t)((unsigned int)sum & 0xff)
						  : sat_8(sum, is_unsigned);
		} else {
			uint32_t sum = ld_le32(mem + insn->src0 + 4 * i) +
				       ld_le32(mem + insn->src1 + 4 * i);

			st_le32(mem + insn->dst + 4 * i, sum);
		}
	}
}

static void exec_relu(uint8_t *mem, const struct npu_insn *insn, const struct isa_plan *plan)
{
	uint64_t count = insn->arg[NPU_ARG_COUNT], i;

	(void)plan;
	for (i = 0; i < count; i++) {
		if (insn->dtype == NPU_DTYPE_I8) {
			uint8_t v = mem[insn->src0 + i];

			mem[insn->dst + i] = v >= 0x80u ? 0 : v;
		} else {
			uint32_t v = ld_le32(mem + insn->src0 + 4 * i);

			st_le32(mem + insn->dst + 4 * i, v >= 0x80000000u ? 0 : v);
		}
	}
}

static uint32_t plan_clip(const struct npu_insn *insn, struct isa_plan *plan)
{
	int64_t lo = arg_signed(insn, NPU_ARG_CLIP_MIN), hi = arg_signed(insn, NPU_ARG_CLIP_MAX);

	if (lo > hi)
		return NPU_STATUS_BAD_DESC;
	if (insn->dtype != NPU_DTYPE_I32 &&
	    (!in_type(lo, dtype_unsigned(insn->dtype)) || !in_type(hi, dtype_unsigned(insn->dtype))))
		return NPU_STATUS_BAD_DESC;
	return plan_elementwise(insn, plan);
}

static void exec_clip(uint8_t *mem, const struct npu_insn *insn, const struct isa_plan *plan)
{
	uint64_t count = insn->arg[NPU_ARG_COUNT], i;
	int64_t lo = arg_signed(insn, NPU_ARG_CLIP_MIN), hi = arg_signed(insn, NPU_ARG_CLIP_MAX);
	bool is_unsigned = dtype_unsigned(insn->dtype);

	(void)plan;
	for (i = 0; i < count; i++) {
		int64_t v;

		if (insn->dtype == NPU_DTYPE_I32)
			v = as_i32(ld_le32(mem + insn->src0 + 4 * i));
		else
			v = load_8(mem[insn->src0 + i], is_unsigned);
		v = v < lo ? lo : v > hi ? hi : v;
		if (insn->dtype == NPU_DTYPE_I32)
			st_le32(mem + insn->dst + 4 * i, (uint32_t)((uint64_t)v & 0xffffffffu));
		else
			mem[insn->dst + i] = (uint8_t)((uint64_t)v & 0xff);
	}
}

/* ---- REQUANT, REQUANT_PC: i32 -> i8/u8 --------------------------------------------- */

static uint32_t plan_requant(const struct npu_insn *insn, struct isa_plan *plan)
{
	uint64_t count = insn->arg[NPU_ARG_COUNT];

	if (insn->arg[NPU_ARG_SHIFT] > 62 ||
	    !in_type(arg_signed(insn, NPU_ARG_ZERO_POINT), dtype_unsigned(insn->dtype)))
		return NPU_STATUS_BAD_DESC;
	plan->range[OPND_DST] = (struct isa_range){ insn->dst, count };
	plan->range[OPND_SRC0] = (struct isa_range){ insn->src0, count * 4 };
	plan->work = count;
	plan->work_per_cycle = NPU_ISA_ELEMS_PER_CYCLE;
	return NPU_STATUS_OK;
}

static void exec_requant(uint8_t *mem, const struct npu_insn *insn, const struct isa_plan *plan)
{
	uint64_t count = insn->arg[NPU_ARG_COUNT], i;
	int64_t multiplier = arg_signed(insn, NPU_ARG_MULTIPLIER);
	int64_t zero_point = arg_signed(insn, NPU_ARG_ZERO_POINT);
	unsigned int shift = insn->arg[NPU_ARG_SHIFT];
	bool is_unsigned = dtype_unsigned(insn->dtype);

	(void)plan;
	for (i = 0; i < count; i++) {
		/* |value * multiplier| <= 2^62 */
		int64_t v = as_i32(ld_le32(mem + insn->src0 + 4 * i));

		mem[insn->dst + i] = sat_8(rshift_round(v * multiplier, shift) + zero_point,
					   is_unsigned);
	}
}

#define RQ_ENTRY_SIZE	8u	/* sizeof(struct npu_requant_entry) */

static uint32_t plan_requant_pc(const struct npu_insn *insn, struct isa_plan *plan)
{
	uint64_t count = insn->arg[NPU_ARG_COUNT];
	uint64_t channels = insn->arg[NPU_ARG_RQ_CHANNELS];

	if (!channels || !in_type(arg_signed(insn, NPU_ARG_ZERO_POINT), dtype_unsigned(insn->dtype)))
		return NPU_STATUS_BAD_DESC;
	plan->range[OPND_DST] = (struct isa_range){ insn->dst, count };
	plan->range[OPND_SRC0] = (struct isa_range){ insn->src0, count * 4 };
	plan->range[OPND_SRC1] = (struct isa_range){ insn->src1, channels * RQ_ENTRY_SIZE };
	plan->dst_disjoint = USES_SRC1;
	plan->work = count;
	plan->work_per_cycle = NPU_ISA_ELEMS_PER_CYCLE;
	return NPU_STATUS_OK;
}

static uint32_t check_requant_pc(const uint8_t *mem, const struct npu_insn *insn)
{
	uint64_t channels = insn->arg[NPU_ARG_RQ_CHANNELS], c;

	for (c = 0; c < channels; c++)
		if (ld_le32(mem + insn->src1 + c * RQ_ENTRY_SIZE + 4) > 62)
			return NPU_STATUS_BAD_DESC;
	return NPU_STATUS_OK;
}

static void exec_requant_pc(uint8_t *mem, const struct npu_insn *insn,
			    const struct isa_plan *plan)
{
	uint64_t count = insn->arg[NPU_ARG_COUNT], i, c = 0;
	uint64_t channels = insn->arg[NPU_ARG_RQ_CHANNELS];
	int64_t zero_point = arg_signed(insn, NPU_ARG_ZERO_POINT);
	bool is_unsigned = dtype_unsigned(insn->dtype);

	(void)plan;
	for (i = 0; i < count; i++) {
		const uint8_t *entry = mem + insn->src1 + c * RQ_ENTRY_SIZE;
		int64_t v = as_i32(ld_le32(mem + insn->src0 + 4 * i));
		int64_t multiplier = as_i32(ld_le32(entry));
		unsigned int shift = ld_le32(entry + 4);

		mem[insn->dst + i] = sat_8(rshift_round(v * multiplier, shift) + zero_point,
					   is_unsigned);
		if (++c == channels)
			c = 0;
	}
}

/* ---- ADD_RQ, MUL_RQ: quantized binary ops with fixed-point rescaling ------------- */

static uint32_t plan_binary_rq(const struct npu_insn *insn, struct isa_plan *plan)
{
	uint64_t count = insn->arg[NPU_ARG_COUNT];
	bool is_unsigned = dtype_unsigned(insn->dtype);

	if (!in_type(arg_signed(insn, NPU_ARG_RQ_A_ZERO_POINT), is_unsigned) ||
	    !in_type(arg_signed(insn, NPU_ARG_RQ_B_ZERO_POINT), is_unsigned) ||
	    !in_type(arg_signed(insn, NPU_ARG_RQ_OUT_ZERO_POINT), is_unsigned) ||
	    insn->arg[NPU_ARG_RQ_SHIFT] > 62)
		return NPU_STATUS_BAD_DESC;
	plan->b_len = insn->arg[NPU_ARG_RQ_B_LEN] ? insn->arg[NPU_ARG_RQ_B_LEN] : count;
	plan->range[OPND_DST] = (struct isa_range){ insn->dst, count };
	plan->range[OPND_SRC0] = (struct isa_range){ insn->src0, count };
	plan->range[OPND_SRC1] = (struct isa_range){ insn->src1, plan->b_len };
	plan->work = count;
	plan->work_per_cycle = NPU_ISA_ELEMS_PER_CYCLE;
	return NPU_STATUS_OK;
}

static void exec_binary_rq(uint8_t *mem, const struct npu_insn *insn,
			   const struct isa_plan *plan)
{
	uint64_t count = insn->arg[NPU_ARG_COUNT], i, j = 0;
	bool is_unsigned = dtype_unsigned(insn->dtype);
	bool mul = insn->opcode == NPU_ISA_MUL_RQ;
	int64_t za = arg_signed(insn, NPU_ARG_RQ_A_ZERO_POINT);
	int64_t zb = arg_signed(insn, NPU_ARG_RQ_B_ZERO_POINT);
	int64_t zo = arg_signed(insn, NPU_ARG_RQ_OUT_ZERO_POINT);
	int64_t ma = arg_signed(insn, NPU_ARG_RQ_A_MULTIPLIER);
	int64_t mb = arg_signed(insn, NPU_ARG_RQ_B_MULTIPLIER);
	unsigned int shift = insn->arg[NPU_ARG_RQ_SHIFT];

	for (i = 0; i < count; i++) {
		int64_t a = load_8(mem[insn->src0 + i], is_unsigned) - za;
		int64_t b = load_8(mem[insn->src1 + j], is_unsigned) - zb;
		/* |a|, |b| <= 255, |m| <= 2^31: ADD < 2^40, MUL < 2^47 */
		int64_t acc = mul ? a * b * ma : a * ma + b * mb;

		mem[insn->dst + i] = sat_8(rshift_round(acc, shift) + zo, is_unsigned);
		if (++j == plan->b_len)
			j = 0;
	}
}

/* ---- COPY_ND, FILL ------------------------------------------------------------- */

/*
 * The bytes a strided operand touches: [base - below, base + above + size).
 * Returns false if it starts below address 0.
 */
static bool nd_span(uint64_t base, const uint32_t counts[NPU_ND_DIMS],
		    const uint32_t strides[NPU_ND_DIMS], unsigned int size, struct isa_range *r)
{
	uint64_t below = 0, above = size;
	unsigned int d;

	for (d = 0; d < NPU_ND_DIMS; d++) {
		int64_t s = as_i32(strides[d]);
		/* (2^32 - 1) * 2^31 < 2^63 */
		uint64_t t = (uint64_t)(counts[d] - 1) * (uint64_t)(s < 0 ? -s : s);

		if (s < 0)
			below = add_sat(below, t);
		else
			above = add_sat(above, t);
	}
	if (below > base)
		return false;
	*r = (struct isa_range){ base - below, add_sat(below, above) };
	return true;
}

static uint32_t plan_copy_nd(const struct npu_insn *insn, struct isa_plan *plan)
{
	const uint32_t *counts = &insn->arg[NPU_ARG_ND_COUNT(0)];
	uint64_t elems = 1;
	unsigned int d;

	plan->elem_size = dtype_size(insn->dtype);
	for (d = 0; d < NPU_ND_DIMS; d++)
		elems = mul_sat(elems, counts[d]);
	plan->range[OPND_DST] = (struct isa_range){ insn->dst, 0 };
	plan->range[OPND_SRC0] = (struct isa_range){ insn->src0, 0 };
	if (elems) {
		if (!nd_span(insn->dst, counts, &insn->arg[NPU_ARG_ND_DST_STRIDE(0)],
			     plan->elem_size, &plan->range[OPND_DST]) ||
		    !nd_span(insn->src0, counts, &insn->arg[NPU_ARG_ND_SRC_STRIDE(0)],
			     plan->elem_size, &plan->range[OPND_SRC0]))
			return NPU_STATUS_DRAM_OOB;
	}
	plan->dst_disjoint = USES_SRC0;
	/* 32 elements or 64 bytes per cycle, whichever is slower */
	plan->work = mul_sat(elems, plan->elem_size) > mul_sat(elems, 2)
		     ? mul_sat(elems, plan->elem_size) : mul_sat(elems, 2);
	plan->work_per_cycle = NPU_ISA_COPY_BYTES_PER_CYCLE;
	return NPU_STATUS_OK;
}

static void exec_copy_nd(uint8_t *mem, const struct npu_insn *insn,
			 const struct isa_plan *plan)
{
	const uint32_t *c = &insn->arg[NPU_ARG_ND_COUNT(0)];
	uint64_t ss[NPU_ND_DIMS], ds[NPU_ND_DIMS];
	uint64_t i0, i1, i2, i3;
	unsigned int d;

	/*
	 * Two's complement strides in unsigned arithmetic: the sums wrap like
	 * signed ones would, and every final address was proven inside its span.
	 */
	for (d = 0; d < NPU_ND_DIMS; d++) {
		ss[d] = (uint64_t)as_i32(insn->arg[NPU_ARG_ND_SRC_STRIDE(d)]);
		ds[d] = (uint64_t)as_i32(insn->arg[NPU_ARG_ND_DST_STRIDE(d)]);
	}
	for (i0 = 0; i0 < c[0]; i0++)
	for (i1 = 0; i1 < c[1]; i1++)
	for (i2 = 0; i2 < c[2]; i2++) {
		uint64_t s = insn->src0 + i0 * ss[0] + i1 * ss[1] + i2 * ss[2];
		uint64_t t = insn->dst + i0 * ds[0] + i1 * ds[1] + i2 * ds[2];

		for (i3 = 0; i3 < c[3]; i3++, s += ss[3], t += ds[3])
			memcpy(mem + t, mem + s, plan->elem_size);
	}
}

static uint32_t plan_fill(const struct npu_insn *insn, struct isa_plan *plan)
{
	int64_t v = arg_signed(insn, NPU_ARG_FILL_VALUE);
	uint64_t count = insn->arg[NPU_ARG_COUNT];

	plan->elem_size = dtype_size(insn->dtype);
	if ((plan->elem_size == 1 && !in_type(v, dtype_unsigned(insn->dtype))) ||
	    (plan->elem_size == 2 && (v < -32768 || v > 32767)))
		return NPU_STATUS_BAD_DESC;
	plan->range[OPND_DST] = (struct isa_range){ insn->dst, count * plan->elem_size };
	plan->work = count * plan->elem_size;
	plan->work_per_cycle = NPU_ISA_COPY_BYTES_PER_CYCLE;
	return NPU_STATUS_OK;
}

static void exec_fill(uint8_t *mem, const struct npu_insn *insn, const struct isa_plan *plan)
{
	uint64_t count = insn->arg[NPU_ARG_COUNT], i;
	uint8_t pattern[4];

	st_le32(pattern, insn->arg[NPU_ARG_FILL_VALUE]);
	if (plan->elem_size == 1) {
		memset(mem + insn->dst, pattern[0], count);
		return;
	}
	for (i = 0; i < count; i++)
		memcpy(mem + insn->dst + i * plan->elem_size, pattern, plan->elem_size);
}

/* ---- the table ---------------------------------------------------------------- */

static const struct isa_op isa_ops[NPU_ISA_COUNT] = {
	/* control and data movement */
	[NPU_ISA_HALT] = { .plan = plan_halt },
	[NPU_ISA_COPY] = { .plan = plan_copy, .exec = exec_copy },
	[NPU_ISA_COPY_ND] = { .plan = plan_copy_nd, .exec = exec_copy_nd },
	[NPU_ISA_FILL] = { .plan = plan_fill, .exec = exec_fill },
	/* multiply-accumulate into int32 */
	[NPU_ISA_MATMUL_I8] = {
		.plan = plan_matmul, .exec = exec_matmul, .exec_fast = exec_matmul_fast,
	},
	[NPU_ISA_CONV2D] = {
		.plan = plan_conv2d, .exec = exec_conv2d, .exec_fast = exec_conv2d_fast,
	},
	/* element-wise, and sliding windows */
	[NPU_ISA_ADD] = { .plan = plan_elementwise, .exec = exec_add },
	[NPU_ISA_RELU] = { .plan = plan_elementwise, .exec = exec_relu },
	[NPU_ISA_CLIP] = { .plan = plan_clip, .exec = exec_clip },
	[NPU_ISA_MAXPOOL] = { .plan = plan_pool, .exec = exec_pool },
	[NPU_ISA_AVGPOOL] = { .plan = plan_pool, .exec = exec_pool },
	/* requantization; REQUANT_PC also checks its table's contents */
	[NPU_ISA_REQUANT] = { .plan = plan_requant, .exec = exec_requant },
	[NPU_ISA_REQUANT_PC] = {
		.plan = plan_requant_pc, .check_data = check_requant_pc, .exec = exec_requant_pc,
	},
	[NPU_ISA_ADD_RQ] = { .plan = plan_binary_rq, .exec = exec_binary_rq },
	[NPU_ISA_MUL_RQ] = { .plan = plan_binary_rq, .exec = exec_binary_rq },
};

const char *npu_isa_opcode_name(unsigned int opcode)
{
	const struct isa_desc *desc = isa_desc_of(opcode);

	return desc ? desc->name : NULL;
}

static bool range_inside(const struct isa_range *r, uint64_t mem_size)
{
	return r->addr <= mem_size && r->len <= mem_size - r->addr;
}

static bool ranges_overlap(const struct isa_range *a, const struct isa_range *b)
{
	return a->len && b->len && a->addr < b->addr + b->len && b->addr < a->addr + a->len;
}

/*
 * What each opcode accepts, derived from its description the first time a
 * run meets it: the derivation walks the operand list, which would otherwise
 * cost every instruction. One per call, on the caller's stack.
 */
struct isa_accepts {
	uint32_t known;		/* bit o set: masks[o] is filled */
	struct isa_desc_masks masks[NPU_ISA_COUNT];
};

_Static_assert(NPU_ISA_COUNT <= 32, "isa_accepts.known has a bit per opcode");

/* The masks of opcode, or NULL if there is no such opcode. */
static const struct isa_desc_masks *isa_accepts_of(struct isa_accepts *acc, unsigned int opcode)
{
	if (opcode >= NPU_ISA_COUNT)
		return NULL;
	if (!(acc->known & (1u << opcode))) {
		isa_desc_masks(isa_desc_of(opcode), &acc->masks[opcode]);
		acc->known |= 1u << opcode;
	}
	return &acc->masks[opcode];
}

/* Validation steps 1-4 of docs/hardware.md §10 (step 5 needs memory). */
static uint32_t isa_plan_insn(const struct npu_insn *insn, struct isa_accepts *acc,
			      uint64_t mem_size, struct isa_plan *plan)
{
	const uint32_t operand_fields[3] = { insn->dst, insn->src0, insn->src1 };
	const struct isa_desc_masks *accepts = isa_accepts_of(acc, insn->opcode);
	unsigned int checked;
	uint32_t status;
	unsigned int i;

	memset(plan, 0, sizeof(*plan));
	if (!accepts)
		return NPU_STATUS_BAD_DESC;
	if ((insn->flags & ~accepts->flags) || insn->dtype >= 16 ||
	    !(accepts->dtypes & (1u << insn->dtype)))
		return NPU_STATUS_BAD_DESC;
	for (i = 0; i < 3; i++)
		if (!(accepts->fields & (1u << i)) && operand_fields[i])
			return NPU_STATUS_BAD_DESC;
	for (i = 0; i < 12; i++)
		if (!(accepts->args & (1u << i)) && insn->arg[i])
			return NPU_STATUS_BAD_DESC;

	status = isa_ops[insn->opcode].plan(insn, plan);
	if (status != NPU_STATUS_OK)
		return status;
	checked = accepts->fields | (plan->aux_used ? USES_AUX : 0);
	for (i = 0; i < OPND_COUNT; i++)
		if ((checked & (1u << i)) && !range_inside(&plan->range[i], mem_size))
			return NPU_STATUS_DRAM_OOB;
	for (i = OPND_SRC0; i < OPND_COUNT; i++)
		if ((plan->dst_disjoint & checked & (1u << i)) &&
		    ranges_overlap(&plan->range[OPND_DST], &plan->range[i]))
			return NPU_STATUS_BAD_DESC;
	return NPU_STATUS_OK;
}

static uint64_t isa_plan_cycles(const struct isa_plan *plan, unsigned int lanes)
{
	uint64_t per_cycle = (uint64_t)plan->work_per_cycle * lanes;
	uint64_t work_cycles = 0;

	if (per_cycle)
		work_cycles = plan->work / per_cycle + (plan->work % per_cycle != 0);
	return NPU_ISA_ISSUE_CYCLES + work_cycles;
}

uint32_t npu_isa_check(const struct npu_insn *insn, uint64_t mem_size,
		       unsigned int lanes, uint64_t *cycles)
{
	struct isa_accepts acc = { .known = 0 };
	struct isa_plan plan;
	uint32_t status = isa_plan_insn(insn, &acc, mem_size, &plan);

	if (status == NPU_STATUS_OK && cycles)
		*cycles = isa_plan_cycles(&plan, lanes ? lanes : 1);
	return status;
}

/* Executes a checked instruction with the engine's implementation of it. */
static void isa_exec_insn(enum npu_isa_engine engine, uint8_t *mem, const struct npu_insn *insn,
			  const struct isa_plan *plan)
{
	const struct isa_op *op = &isa_ops[insn->opcode];

	if (engine != NPU_ISA_ENGINE_REFERENCE && op->exec_fast &&
	    op->exec_fast(mem, insn, plan, engine == NPU_ISA_ENGINE_PORTABLE))
		return;
	if (op->exec)
		op->exec(mem, insn, plan);
}

static uint32_t isa_run_slice(enum npu_isa_engine engine, uint8_t *mem, uint64_t mem_size,
			      uint64_t prog_addr, uint64_t prog_len, uint64_t cycle_budget,
			      unsigned int lanes, uint64_t slice_cycles, struct npu_isa_result *res)
{
	struct isa_accepts acc = { .known = 0 };
	uint64_t count, slice_used = 0;

	if (!lanes)
		lanes = 1;
	if (!cycle_budget)
		cycle_budget = NPU_DEFAULT_CYCLE_BUDGET;

	if (prog_len == 0 || prog_len % NPU_INSN_SIZE) {
		res->status = NPU_STATUS_BAD_DESC;
		return res->status;
	}
	if (prog_addr > mem_size || prog_len > mem_size - prog_addr) {
		res->status = NPU_STATUS_DRAM_OOB;
		return res->status;
	}

	count = prog_len / NPU_INSN_SIZE;
	for (; res->insn_index < count; res->insn_index++) {
		struct npu_insn insn;
		struct isa_plan plan;
		uint64_t cost;

		/* Fetched one at a time: an earlier instruction may rewrite later ones. */
		npu_isa_decode(mem + prog_addr + res->insn_index * NPU_INSN_SIZE, &insn);
		res->status = isa_plan_insn(&insn, &acc, mem_size, &plan);
		if (res->status == NPU_STATUS_OK && isa_ops[insn.opcode].check_data)
			res->status = isa_ops[insn.opcode].check_data(mem, &insn);
		if (res->status != NPU_STATUS_OK)
			return res->status;

		cost = isa_plan_cycles(&plan, lanes);
		if (cost > cycle_budget - res->cycles) {
			/* The budget runs out inside this instruction: nothing written. */
			res->cycles = cycle_budget;
			res->status = NPU_STATUS_TIMEOUT;
			return res->status;
		}
		if (cost > slice_cycles - slice_used) {
			res->status = NPU_ISA_YIELD;
			return res->status;
		}
		slice_used += cost;
		res->cycles += cost;
		isa_exec_insn(engine, mem, &insn, &plan);
		res->retired++;
		if (insn.opcode == NPU_ISA_HALT)
			break;
	}
	res->insn_index = res->retired;
	res->status = NPU_STATUS_OK;
	return res->status;
}

uint32_t npu_isa_run_slice(uint8_t *mem, uint64_t mem_size, uint64_t prog_addr,
			   uint64_t prog_len, uint64_t cycle_budget, unsigned int lanes,
			   uint64_t slice_cycles, struct npu_isa_result *res)
{
	return isa_run_slice(NPU_ISA_ENGINE_FAST, mem, mem_size, prog_addr, prog_len,
			     cycle_budget, lanes, slice_cycles, res);
}

uint32_t npu_isa_run_engine(enum npu_isa_engine engine, uint8_t *mem, uint64_t mem_size,
			    uint64_t prog_addr, uint64_t prog_len, uint64_t cycle_budget,
			    unsigned int lanes, struct npu_isa_result *res)
{
	memset(res, 0, sizeof(*res));
	return isa_run_slice(engine, mem, mem_size, prog_addr, prog_len, cycle_budget, lanes,
			     UINT64_MAX, res);
}

uint32_t npu_isa_run(uint8_t *mem, uint64_t mem_size, uint64_t prog_addr,
		     uint64_t prog_len, uint64_t cycle_budget, unsigned int lanes,
		     struct npu_isa_result *res)
{
	return npu_isa_run_engine(NPU_ISA_ENGINE_FAST, mem, mem_size, prog_addr, prog_len,
				  cycle_budget, lanes, res);
}

const char *npu_isa_fast_kernel(void)
{
	return isa_gemm_kernel_name();
}
