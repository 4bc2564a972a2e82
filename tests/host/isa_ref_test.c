// SPDX-License-Identifier: MIT
/*
 * Independent checks of the instruction set (isa/npu_isa.h, docs/hardware.md
 * §10). The emulated device runs the same isa/isa_exec.c, so the guest
 * comparisons of device against CPU runner (isa2_test, fmnist_test) check only
 * the driver and DMA path: a wrong result in isa_exec.c would appear on both
 * sides. Every opcode must therefore also be checked here, on the host,
 * against something isa_exec.c did not compute. This file fills the gaps the
 * audit below found, with expected values worked out by hand (the arithmetic
 * is in the comments) or a deliberately simple reference written here.
 *
 * Audit: where each opcode is checked against something independent of
 * isa_exec.c. "hand" = expected values written in the test; "ref" = random
 * cases against a reference written in the test; "onnx" = onnx_test.c, the
 * libonnx-testdata expectations (docs/onnx.md); "qmlp" = npu-fmnist-train's
 * integer model, which the build checks the program against (MATMUL_I8,
 * ADD, RELU, REQUANT, HALT; a mismatch fails `make all`).
 *
 *   op          isa_exec_test.c      isa_nn_test.c           here              onnx
 *   HALT        hand (stops early)   -                       -                 every case
 *   COPY        hand (memmove)       -                       -                 Reshape, Flatten,
 *                                                                              Identity, Concat
 *   MATMUL_I8   hand (i8 extremes,   ref (zero points, u8,   hand (u8 x i8,    MatMulInteger,
 *               accumulate, wrap)    bias, accumulate);      zero points,      QLinearMatMul
 *                                    hand (u8 extremes)      bias)
 *   ADD         hand (i8 sat, i32    hand (u8 sat, WRAP)     ref (all types,   Add (int)
 *               wrap, in place)                              WRAP)
 *   RELU        hand (i8, i32)       -                       ref (i8, i32)     Relu
 *   REQUANT     hand (rounding,      hand (u8 output)        ref (negative     QLinearMatMul,
 *               saturation, 2^62)                            multipliers);     QLinearConv
 *                                                            hand (negative m)
 *   CONV2D      -                    ref (dense, depthwise,  hand (stride,     Conv, ConvInteger,
 *                                    grouped, dilation,      pads, zero        QLinearConv
 *                                    pads); hand (pad = zx,  points, bias,
 *                                    wrap)                   2 channels)
 *   REQUANT_PC  -                    ref (i8, u8)            hand (ties,       QLinearConv
 *                                                            negative m)       (per-channel)
 *   ADD_RQ      -                    ref; hand (ties, sat)   -                 Add (float), Sub
 *   MUL_RQ      -                    ref                     hand (ties, sat,  Mul
 *                                                            broadcast, u8)
 *   CLIP        -                    hand (i8, u8, i32)      ref (i8, u8, i32) Clip (int8)
 *   MAXPOOL     -                    ref; hand (empty        hand (stride,     MaxPool,
 *                                    window)                 pads, u8 order)   GlobalMaxPool
 *   AVGPOOL     -                    ref; hand (ties,        hand (COUNT_PAD,  AveragePool,
 *                                    global)                 negative ties)    GlobalAveragePool
 *   COPY_ND     -                    ref (all types);        -                 Transpose, Slice,
 *                                    hand (transpose,                          Pad, Concat
 *                                    negative/zero strides)
 *   FILL        -                    hand (types, values)    -                 Pad (constant)
 *   encoding    hand (some bytes)    -                       hand (every field
 *                                                            vs struct npu_insn)
 *
 * Known difference from ONNX: REQUANT, REQUANT_PC, ADD_RQ and MUL_RQ round
 * half away from zero (docs/hardware.md §10.1) where ONNX's QLinear*
 * operators round half to even; the shipped ONNX cases have no ties, so
 * onnx_test does not see it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "isa_exec.h"
#include "npu_isa_encode.h"
#include "isa_test_mem.h"

#define MEM_SIZE	(1u << 16)
#define PROG		0x0000u
#define X_OFF		0x1000u
#define W_OFF		0x4000u
#define B_OFF		0x6000u		/* bias, tables */
#define D_OFF		0x8000u

FIXTURE(ref)
{
	uint8_t *mem;
	uint64_t rng;
};

FIXTURE_SETUP(ref)
{
	self->mem = calloc(1, MEM_SIZE);
	ASSERT_NE(NULL, self->mem);
	self->rng = 0x2545f4914f6cdd1dull;
}

FIXTURE_TEARDOWN(ref)
{
	free(self->mem);
}

static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 16);
}

/* One instruction then HALT, through the interpreter's public entry point. */
static int run1(uint8_t *mem, const struct npu_insn *insn)
{
	struct npu_insn halt = npu_insn_halt();
	struct npu_isa_result res;

	npu_isa_encode(insn, mem + PROG);
	npu_isa_encode(&halt, mem + PROG + NPU_INSN_SIZE);
	return (int)npu_isa_run(mem, MEM_SIZE, PROG, 2 * NPU_INSN_SIZE, 0, 1, &res);
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * p / 2^s to nearest, ties away from zero, by plain division on the
 * magnitude: a third way of writing it (isa_exec.c adds half and shifts,
 * isa_nn_test.c compares the remainder of a shift).
 */
static int64_t simple_rshift(int64_t p, unsigned int s)
{
	__int128 mag = p < 0 ? -(__int128)p : (__int128)p, div = (__int128)1 << s;
	__int128 q = mag / div;

	if (2 * (mag % div) >= div)
		q++;
	return (int64_t)(p < 0 ? -q : q);
}

static void expect_i8(struct __test_metadata *_metadata, const uint8_t *got,
		      const int8_t *want, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		EXPECT_EQ(want[i], (int8_t)got[i]) TH_LOG("%s: element %zu", what, i);
	}
}

static void expect_u8(struct __test_metadata *_metadata, const uint8_t *got,
		      const uint8_t *want, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		EXPECT_EQ(want[i], got[i]) TH_LOG("%s: element %zu", what, i);
	}
}

/* ---- encoding ----------------------------------------------------------------- */

/*
 * npu_isa_encode() writes exactly the bytes struct npu_insn has in memory on
 * this little-endian host, at the docs/hardware.md §10 offsets: the device
 * model decodes with the same file, so a field swapped in both would go
 * unseen on the device.
 */
TEST(encoding_matches_the_uapi_struct)
{
	struct npu_insn uapi;
	struct npu_insn in, out;
	uint8_t raw[NPU_INSN_SIZE];

	ASSERT_EQ(64, sizeof(struct npu_insn));
	ASSERT_EQ(1, offsetof(struct npu_insn, dtype));
	ASSERT_EQ(2, offsetof(struct npu_insn, flags));
	ASSERT_EQ(4, offsetof(struct npu_insn, dst));
	ASSERT_EQ(8, offsetof(struct npu_insn, src0));
	ASSERT_EQ(12, offsetof(struct npu_insn, src1));
	ASSERT_EQ(16, offsetof(struct npu_insn, arg));
	ASSERT_EQ(__ORDER_LITTLE_ENDIAN__, __BYTE_ORDER__);

	in = npu_insn_of(0x0d, 0x03, 0xa55a, 0x11223344, 0x55667788, 0x99aabbcc);
	for (int i = 0; i < 12; i++)
		in.arg[i] = 0x01010101u * (uint32_t)(i + 1) + 0xf0000000u;
	uapi = in;
	npu_isa_encode(&in, raw);
	EXPECT_EQ(0, memcmp(&uapi, raw, sizeof(raw)));
	npu_isa_decode((const uint8_t *)&uapi, &out);
	EXPECT_EQ(0, memcmp(&in, &out, sizeof(in)));
}

/* ---- MATMUL_I8, CONV2D ------------------------------------------------------ */

TEST_F(ref, matmul_u8_by_i8_zero_points_bias_by_hand)
{
	/* A u8 [[200, 0], [128, 255]] - 128 = [[72, -128], [0, 127]] */
	const uint8_t a[4] = { 200, 0, 128, 255 };
	/* B i8 [[1, -1, 0], [-128, 127, 5]] - (-1) = [[2, 0, 1], [-127, 128, 6]] */
	const int8_t b[6] = { 1, -1, 0, -128, 127, 5 };
	const int32_t bias[3] = { 10, -20, 30 };
	/*
	 * [0][0] 144 + 16256 + 10, [0][1] 0 - 16384 - 20, [0][2] 72 - 768 + 30,
	 * [1][0] -16129 + 10, [1][1] 16256 - 20, [1][2] 762 + 30
	 */
	const int32_t want[6] = { 16410, -16404, -666, -16119, 16236, 792 };
	struct npu_insn mm = npu_insn_matmul_q(NPU_DTYPE_A_U8, NPU_ISA_F_BIAS, D_OFF, X_OFF, W_OFF,
					       2, 3, 2, 128, -1, B_OFF);

	memcpy(self->mem + X_OFF, a, sizeof(a));
	memcpy(self->mem + W_OFF, b, sizeof(b));
	memcpy(self->mem + B_OFF, bias, sizeof(bias));
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &mm));
	for (int i = 0; i < 6; i++) {
		EXPECT_EQ(want[i], get32(self->mem, D_OFF + 4 * i)) TH_LOG("element %d", i);
	}
}

TEST_F(ref, conv2d_stride_asymmetric_pads_zero_points_by_hand)
{
	/* x 1x3x3x1 i8, zx = 1: x - zx = [[1, -2, -1], [2, 3, -3], [0, 0, 4]] */
	const int8_t x[9] = { 2, -1, 0, 3, 4, -2, 1, 1, 5 };
	/*
	 * w OHWI 2x2x2x1 i8, zw = -1: channel 0 [[0, 1], [-2, 2]] - zw =
	 * [[1, 2], [-1, 3]]; channel 1 all 1 - zw = 2.
	 */
	const int8_t w[8] = { 0, 1, -2, 2, 1, 1, 1, 1 };
	const int32_t bias[2] = { 100, -7 };
	/*
	 * Stride 2, pads top 1 left 1 bottom 0 right 0: OH = OW = (3 + 1 - 2) / 2
	 * + 1 = 2; output (oy, ox) reads rows 2oy-1.., columns 2ox-1..; pads add 0.
	 * ch0: (0,0) 1*3 = 3; (0,1) -2*-1 + -1*3 = -1; (1,0) 2*2 + 0*3 = 4;
	 *      (1,1) 3*1 - 3*2 + 0*-1 + 4*3 = 9; plus 100.
	 * ch1: twice the sum of the real taps: 2, -6, 4, 8; plus -7.
	 */
	const int32_t want[8] = { 103, -5, 99, -13, 104, -3, 109, 1 };
	/* 3x3x1 -> 2 channels, kernel 2x2, stride 2, pads top 1 and left 1 */
	const struct npu_isa_conv_shape shape = { 1, 3, 3, 1, 2, 1 };
	const struct npu_isa_window win = { 2, 2, 2, 2, 1, 1, 1, 1, 0, 0 };
	struct npu_insn cv = npu_insn_conv2d(0, NPU_ISA_F_BIAS, D_OFF, X_OFF, W_OFF, &shape, &win,
					     B_OFF, 1, -1);

	memcpy(self->mem + X_OFF, x, sizeof(x));
	memcpy(self->mem + W_OFF, w, sizeof(w));
	memcpy(self->mem + B_OFF, bias, sizeof(bias));
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &cv));
	for (int i = 0; i < 8; i++) {
		EXPECT_EQ(want[i], get32(self->mem, D_OFF + 4 * i)) TH_LOG("element %d", i);
	}
}

/* ---- REQUANT, REQUANT_PC, MUL_RQ ----------------------------------------------- */

TEST_F(ref, requant_negative_multiplier_and_zero_points_by_hand)
{
	/*
	 * m = -3, s = 2 (x -0.75), zp = -10: 5 -> -3.75 -> -4 -> -14;
	 * -2 -> 1.5 -> 2 -> -8; 2 -> -1.5 -> -2 -> -12; 6 -> -4.5 -> -5 -> -15;
	 * -200 -> 150 -> 140 -> 127 (saturated); 200 -> -150 -> -160 -> -128.
	 */
	const int32_t in[6] = { 5, -2, 2, 6, -200, 200 };
	const int8_t want[6] = { -14, -8, -12, -15, 127, -128 };
	/* u8, the same m and s, zp = 250: 5 -> 246, -2 -> 252, -10 -> 7.5 -> 8 -> 255 */
	const int32_t inu[3] = { 5, -2, -10 };
	const uint8_t wantu[3] = { 246, 252, 255 };
	struct npu_insn rq = npu_insn_requant(D_OFF, X_OFF, 6, -3, 2, -10);

	for (int i = 0; i < 6; i++)
		put32(self->mem, X_OFF + 4 * i, in[i]);
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &rq));
	expect_i8(_metadata, self->mem + D_OFF, want, 6, "i8");
	for (int i = 0; i < 3; i++)
		put32(self->mem, X_OFF + 4 * i, inu[i]);
	rq.dtype = NPU_DTYPE_U8;
	rq.arg[NPU_ARG_COUNT] = 3;
	rq.arg[NPU_ARG_ZERO_POINT] = 250;
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &rq));
	expect_u8(_metadata, self->mem + D_OFF, wantu, 3, "u8");
}

TEST_F(ref, requant_random_against_a_simple_reference)
{
	static const int32_t edges[] = { 0, 1, -1, INT32_MAX, INT32_MIN, 1 << 30, -(1 << 30) };
	const unsigned int n = 256;

	for (int iter = 0; iter < 300; iter++) {
		bool u = iter % 2;
		int32_t m = (int32_t)rnd(&self->rng) >> (rnd(&self->rng) % 31);
		unsigned int s = rnd(&self->rng) % 63;
		int zp = u ? (int)(rnd(&self->rng) % 256) : (int)(rnd(&self->rng) % 256) - 128;
		struct npu_insn rq;

		if (iter < 14)		/* the extreme multipliers, each type */
			m = iter < 7 ? INT32_MIN : INT32_MAX;
		for (unsigned int i = 0; i < n; i++) {
			int32_t v = (int32_t)rnd(&self->rng) >> (rnd(&self->rng) % 32);

			put32(self->mem, X_OFF + 4 * i, i < 7 ? edges[i] : v);
		}
		rq = npu_insn_requant_to(u ? NPU_DTYPE_U8 : NPU_DTYPE_I8, D_OFF, X_OFF, n, m, s, zp);
		ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &rq));
		for (unsigned int i = 0; i < n; i++) {
			int64_t p = (int64_t)get32(self->mem, X_OFF + 4 * i) * m;
			int64_t want = clamp(simple_rshift(p, s) + zp, u ? 0 : -128, u ? 255 : 127);
			int64_t got = u ? self->mem[D_OFF + i] : (int8_t)self->mem[D_OFF + i];

			ASSERT_EQ(want, got) TH_LOG("iter %d %s m %d s %u zp %d, element %u", iter,
						    u ? "u8" : "i8", m, s, zp, i);
		}
	}
}

TEST_F(ref, requant_pc_ties_and_negative_multipliers_by_hand)
{
	/*
	 * channel 0 (m 3, s 1), channel 1 (m -2, s 2), zp -1:
	 * 5 -> 7.5 -> 8 -> 7; 5 -> -2.5 -> -3 -> -4; -5 -> -7.5 -> -8 -> -9;
	 * 7 -> -3.5 -> -4 -> -5; 1 -> 1.5 -> 2 -> 1; -1 -> 0.5 -> 1 -> 0.
	 */
	const int32_t in[6] = { 5, 5, -5, 7, 1, -1 };
	const int8_t want[6] = { 7, -4, -9, -5, 1, 0 };
	const int32_t table[4] = { 3, 1, -2, 2 };
	struct npu_insn rq = npu_insn_requant_pc(NPU_DTYPE_I8, D_OFF, X_OFF, B_OFF, 6, 2, -1);

	for (int i = 0; i < 6; i++)
		put32(self->mem, X_OFF + 4 * i, in[i]);
	memcpy(self->mem + B_OFF, table, sizeof(table));
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &rq));
	expect_i8(_metadata, self->mem + D_OFF, want, 6, "requant_pc");
}

TEST_F(ref, mul_rq_ties_saturation_and_broadcast_by_hand)
{
	/*
	 * i8, za 1, zb -2, zo -3, m 3, s 2 (x 0.75), b broadcast (L = 1) b = 3:
	 * a - za = [2, -2, 1, 126, -129, 0], b - zb = 5, products x 15 =
	 * [30, -30, 15, 1890, -1935, 0] / 4 = [7.5, -7.5, 3.75, 472.5, -483.75, 0]
	 * -> [8, -8, 4, 473, -484, 0] - 3 -> [5, -11, 1, 127, -128, -3].
	 */
	const int8_t a[6] = { 3, -1, 2, 127, -128, 1 }, b = 3;
	const int8_t want[6] = { 5, -11, 1, 127, -128, -3 };
	/*
	 * u8, za = zb = zo = 128, m 1, s 7 (/ 128), b per element (L = 0):
	 * (127 * 127) / 128 = 126.01 -> 126; (-128 * 127) / 128 = -127;
	 * 0; (64 * -64) / 128 = -32; (1 * 64) / 128 = 0.5 -> 1;
	 * (-1 * 64) / 128 = -0.5 -> -1; each + 128.
	 */
	const uint8_t au[6] = { 255, 0, 128, 192, 129, 127 };
	const uint8_t bu[6] = { 255, 255, 7, 64, 192, 192 };
	const uint8_t wantu[6] = { 254, 1, 128, 96, 129, 127 };
	struct npu_insn op = npu_insn_binary_rq(NPU_ISA_MUL_RQ, NPU_DTYPE_I8, D_OFF, X_OFF, W_OFF, 6,
						(struct npu_isa_rq_zero_points){ 1, -2, -3 }, 3, 0,
						2, 1);

	memcpy(self->mem + X_OFF, a, 6);
	memcpy(self->mem + W_OFF, &b, 1);
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &op));
	expect_i8(_metadata, self->mem + D_OFF, want, 6, "i8");

	memcpy(self->mem + X_OFF, au, 6);
	memcpy(self->mem + W_OFF, bu, 6);
	op = npu_insn_binary_rq(NPU_ISA_MUL_RQ, NPU_DTYPE_U8, D_OFF, X_OFF, W_OFF, 6,
				(struct npu_isa_rq_zero_points){ 128, 128, 128 }, 1, 0, 7, 0);
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &op));
	expect_u8(_metadata, self->mem + D_OFF, wantu, 6, "u8");
}

/* ---- ADD, RELU, CLIP ------------------------------------------------------------ */

/* Element i of an n-element operand of dtype t, as a plain integer. */
static int64_t elem(const uint8_t *p, uint8_t t, unsigned int i)
{
	switch (t) {
	case NPU_DTYPE_I8:
		return (int8_t)p[i];
	case NPU_DTYPE_U8:
		return p[i];
	default:
		return get32(p, 4 * i);
	}
}

/* v reduced to dtype t: saturated, or wrapped (I32 always wraps). */
static int64_t to_type(int64_t v, uint8_t t, bool wrap)
{
	switch (t) {
	case NPU_DTYPE_I8:
		return wrap ? (int8_t)(uint8_t)(v & 0xff) : clamp(v, -128, 127);
	case NPU_DTYPE_U8:
		return wrap ? (v & 0xff) : clamp(v, 0, 255);
	default:
		return (int32_t)(uint32_t)(v & 0xffffffff);
	}
}

TEST_F(ref, add_relu_clip_random_against_simple_references)
{
	static const uint8_t types[3] = { NPU_DTYPE_I8, NPU_DTYPE_U8, NPU_DTYPE_I32 };
	const unsigned int n = 200;

	for (int iter = 0; iter < 120; iter++) {
		uint8_t t = types[iter % 3];
		int op = (iter / 3) % 4;	/* ADD, ADD WRAP, RELU, CLIP */
		unsigned int size = t == NPU_DTYPE_I32 ? 4 : 1;
		int64_t tmin = t == NPU_DTYPE_I8 ? -128 : t == NPU_DTYPE_U8 ? 0 : INT32_MIN;
		int64_t tmax = t == NPU_DTYPE_I8 ? 127 : t == NPU_DTYPE_U8 ? 255 : INT32_MAX;
		int64_t lo = tmin + (int64_t)(rnd(&self->rng) % (uint64_t)(tmax - tmin + 1));
		int64_t hi = lo + (int64_t)(rnd(&self->rng) % (uint64_t)(tmax - lo + 1));
		struct npu_insn in;

		if (op == 2 && t == NPU_DTYPE_U8)
			continue;	/* RELU takes I8 and I32 only */
		for (unsigned int i = 0; i < n * size; i++) {
			self->mem[X_OFF + i] = (uint8_t)rnd(&self->rng);
			self->mem[W_OFF + i] = (uint8_t)rnd(&self->rng);
		}
		if (op <= 1) {
			in = npu_insn_add_f(t, op == 1 && size == 1 ? NPU_ISA_F_WRAP : 0, D_OFF, X_OFF,
					    W_OFF, n);
		} else if (op == 2) {
			in = npu_insn_relu(t, D_OFF, X_OFF, n);
		} else {
			in = npu_insn_clip(t, D_OFF, X_OFF, n, (int32_t)lo, (int32_t)hi);
		}
		ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &in)) TH_LOG("iter %d", iter);
		for (unsigned int i = 0; i < n; i++) {
			int64_t a = elem(self->mem + X_OFF, t, i), want;

			if (op <= 1)
				want = to_type(a + elem(self->mem + W_OFF, t, i), t, op == 1);
			else if (op == 2)
				want = a > 0 ? a : 0;
			else
				want = clamp(a, lo, hi);
			ASSERT_EQ(want, elem(self->mem + D_OFF, t, i))
				TH_LOG("iter %d op %d dtype %u element %u", iter, op, t, i);
		}
	}
}

/* ---- MAXPOOL, AVGPOOL ------------------------------------------------------------ */

/* A pool over one h x w channel: kernel k x k, stride s, pads top, left, bottom, right. */
static struct npu_insn pool_of(uint8_t opcode, uint8_t dtype, uint16_t flags, uint32_t h,
			       uint32_t w, uint32_t k, uint32_t s, const uint8_t pads[4], int zp)
{
	const struct npu_isa_window win = { k, k, s, s, 1, 1, pads[0], pads[1], pads[2], pads[3] };

	return npu_insn_pool(opcode, dtype, flags, D_OFF, X_OFF, 1, h, w, 1, &win, zp);
}

TEST_F(ref, maxpool_stride_pads_and_unsigned_order_by_hand)
{
	/*
	 * 3x4, kernel 2, stride 2, pads top 1 right 1: OH = (3 + 1 - 2) / 2 + 1
	 * = 2, OW = (4 + 1 - 2) / 2 + 1 = 2. Windows: rows {pad, 0} x columns
	 * {0, 1} and {2, 3}, then rows {1, 2}.
	 */
	const int8_t x[12] = { -5, 3, -128, 9, 2, -1, 7, -6, 0, 8, -3, 4 };
	const int8_t want[4] = { 3, 9, 8, 7 };
	/* the same bytes as u8: 251 3 128 9 / 2 255 7 250 / 0 8 253 4 */
	const uint8_t wantu[4] = { 251, 128, 255, 253 };
	struct npu_insn mp = pool_of(NPU_ISA_MAXPOOL, NPU_DTYPE_I8, 0, 3, 4, 2, 2,
				     (const uint8_t[]){ 1, 0, 0, 1 }, 0);

	memcpy(self->mem + X_OFF, x, sizeof(x));
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &mp));
	expect_i8(_metadata, self->mem + D_OFF, want, 4, "i8");
	mp.dtype = NPU_DTYPE_U8;
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &mp));
	expect_u8(_metadata, self->mem + D_OFF, wantu, 4, "u8");
}

TEST_F(ref, avgpool_count_pad_and_negative_ties_by_hand)
{
	/* 2x2 [[-3, 4], [5, -7]], kernel 2, stride 1, pad 1 all round: 3x3 out */
	const int8_t x[4] = { -3, 4, 5, -7 };
	/*
	 * COUNT_PAD, pad value -2, divisor 4: sums -9, -3, -2, -2, -1, -7, -1,
	 * -6, -13 -> -2.25 -2, -0.75 -1, -0.5 -1, -0.5 -1, -0.25 0, -1.75 -2,
	 * -0.25 0, -1.5 -2, -3.25 -3.
	 */
	const int8_t want_pad[9] = { -2, -1, -1, -1, 0, -2, 0, -2, -3 };
	/*
	 * Without: only the taps inside: -3/1, 1/2 -> 1, 4/1, 2/2, -1/4 -> 0,
	 * -3/2 -> -2, 5/1, -2/2, -7/1.
	 */
	const int8_t want[9] = { -3, 1, 4, 1, 0, -2, 5, -1, -7 };
	struct npu_insn avg = pool_of(NPU_ISA_AVGPOOL, NPU_DTYPE_I8, NPU_ISA_F_COUNT_PAD, 2, 2,
				      2, 1, (const uint8_t[]){ 1, 1, 1, 1 }, -2);

	memcpy(self->mem + X_OFF, x, sizeof(x));
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &avg));
	expect_i8(_metadata, self->mem + D_OFF, want_pad, 9, "count_pad");
	avg = pool_of(NPU_ISA_AVGPOOL, NPU_DTYPE_I8, 0, 2, 2, 2, 1, (const uint8_t[]){ 1, 1, 1, 1 },
		      0);
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &avg));
	expect_i8(_metadata, self->mem + D_OFF, want, 9, "inside only");
}

TEST_HARNESS_MAIN
