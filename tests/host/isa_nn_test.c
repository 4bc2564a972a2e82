// SPDX-License-Identifier: MIT
/*
 * Host unit tests of the neural-network instructions of isa/isa_exec.c
 * (docs/hardware.md §10): MATMUL_I8 with zero points, u8 operands and bias,
 * CONV2D, REQUANT(_PC), ADD_RQ, MUL_RQ, CLIP, MAXPOOL, AVGPOOL, COPY_ND,
 * FILL and ADD's new types. Each runs on random shapes and values against a
 * straightforward reference written here from the specification (explicitly
 * padded inputs, exact integer rounding), plus the edge cases: padding,
 * strides, dilation, groups, saturation, zero points, bounds, overlap,
 * costs and slicing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "isa_exec.h"
#include "npu_isa_encode.h"
#include "isa_test_mem.h"

#define MEM_SIZE	(1u << 20)
#define PROG		0x00000u
#define X_OFF		0x10000u
#define W_OFF		0x40000u
#define B_OFF		0x70000u	/* bias, tables */
#define D_OFF		0x80000u
#define REGION		0x30000u

/* ---- helpers ---------------------------------------------------------------- */

struct rng {
	uint64_t s;
};

static uint32_t rnd(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return (uint32_t)(r->s >> 16);
}

/* Uniform in [lo, hi]. */
static int64_t rnd_in(struct rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd(r) % (uint64_t)(hi - lo + 1));
}

static void rnd_fill(struct rng *r, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd(r);
}

/* Value of an 8-bit element. */
static int val8(uint8_t b, bool is_unsigned)
{
	return is_unsigned ? b : (int8_t)b;
}

static uint8_t sat8(int64_t v, bool is_unsigned)
{
	int64_t lo = is_unsigned ? 0 : -128, hi = is_unsigned ? 255 : 127;

	return (uint8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* Wraps an exact sum to int32 the way a 32-bit accumulator does. */
static int32_t wrap32(int64_t v)
{
	return (int32_t)(uint32_t)(uint64_t)v;
}

/*
 * Reference rounding: p / 2^s to nearest, ties away from zero, written
 * differently from the interpreter (remainder comparison).
 */
static int64_t ref_round_shift(int64_t p, unsigned int s)
{
	uint64_t mag = p < 0 ? 0 - (uint64_t)p : (uint64_t)p;
	uint64_t q, rem;

	if (s == 0)
		return p;
	q = mag >> s;
	rem = mag - (q << s);
	if (rem >= (1ull << (s - 1)))
		q++;
	return p < 0 ? -(int64_t)q : (int64_t)q;
}

static int64_t ref_round_div(int64_t sum, int64_t count)
{
	int64_t mag = sum < 0 ? -sum : sum;
	int64_t q = mag / count, rem = mag % count;

	if (2 * rem >= count)
		q++;
	return sum < 0 ? -q : q;
}

/* Runs one instruction followed by HALT; returns the status. */
static int run1(uint8_t *mem, const struct npu_insn *insn, struct npu_isa_result *res)
{
	struct npu_insn halt = npu_insn_halt();

	npu_isa_encode(insn, mem + PROG);
	npu_isa_encode(&halt, mem + PROG + NPU_INSN_SIZE);
	return (int)npu_isa_run(mem, MEM_SIZE, PROG, 2 * NPU_INSN_SIZE, 0, 1, res);
}

static int check(const struct npu_insn *insn, uint64_t *cycles)
{
	return (int)npu_isa_check(insn, MEM_SIZE, 1, cycles);
}

FIXTURE(nn)
{
	uint8_t *mem;
	uint8_t *copy;		/* snapshot for "nothing written" checks */
	struct npu_isa_result res;
	struct rng rng;
};

FIXTURE_SETUP(nn)
{
	self->mem = calloc(1, MEM_SIZE);
	self->copy = malloc(MEM_SIZE);
	ASSERT_NE(NULL, self->mem);
	ASSERT_NE(NULL, self->copy);
	self->rng.s = 0x9e3779b97f4a7c15ull;
}

FIXTURE_TEARDOWN(nn)
{
	free(self->mem);
	free(self->copy);
}

/* Expects a failing status and an untouched memory (program area aside). */
#define EXPECT_FAILS_CLEANLY(status, insn)						\
	do {										\
		int st_;								\
		memcpy(self->copy, self->mem, MEM_SIZE);				\
		st_ = run1(self->mem, (insn), &self->res);				\
		EXPECT_EQ((status), st_);						\
		EXPECT_EQ(0, memcmp(self->copy + 0x1000, self->mem + 0x1000,		\
				    MEM_SIZE - 0x1000));				\
	} while (0)

/* ---- MATMUL_I8 with zero points, types and bias --------------------------------- */

static struct npu_insn matmul_insn(uint8_t dtype, uint16_t flags, uint32_t m, uint32_t n,
				   uint32_t k, int za, int zb)
{
	return npu_insn_matmul_q(dtype, flags, D_OFF, X_OFF, W_OFF, m, n, k, za, zb,
				 (flags & NPU_ISA_F_BIAS) ? B_OFF : 0);
}

TEST_F(nn, matmul_zero_points_types_bias_random)
{
	for (int iter = 0; iter < 200; iter++) {
		struct rng *r = &self->rng;
		uint8_t dtype = (uint8_t)(iter % 4);
		bool au = dtype & NPU_DTYPE_A_U8, bu = dtype & NPU_DTYPE_B_U8;
		uint32_t m = (uint32_t)rnd_in(r, 1, 9), n = (uint32_t)rnd_in(r, 1, 9);
		uint32_t k = (uint32_t)rnd_in(r, 0, 40);
		int za = (int)rnd_in(r, au ? 0 : -128, au ? 255 : 127);
		int zb = (int)rnd_in(r, bu ? 0 : -128, bu ? 255 : 127);
		uint16_t flags = (uint16_t)(rnd(r) % 4);
		struct npu_insn mm = matmul_insn(dtype, flags, m, n, k, za, zb);
		int32_t want[81];

		rnd_fill(r, self->mem + X_OFF, (size_t)m * k);
		rnd_fill(r, self->mem + W_OFF, (size_t)k * n);
		rnd_fill(r, self->mem + B_OFF, 4 * n);
		rnd_fill(r, self->mem + D_OFF, 4 * m * n);
		for (uint32_t i = 0; i < m; i++)
			for (uint32_t j = 0; j < n; j++) {
				int64_t s = 0;

				if (flags & NPU_ISA_F_ACCUMULATE)
					s += get32(self->mem, D_OFF + 4 * (i * n + j));
				if (flags & NPU_ISA_F_BIAS)
					s += get32(self->mem, B_OFF + 4 * j);
				for (uint32_t x = 0; x < k; x++)
					s += (int64_t)(val8(self->mem[X_OFF + i * k + x], au) - za) *
					     (val8(self->mem[W_OFF + x * n + j], bu) - zb);
				want[i * n + j] = wrap32(s);
			}
		ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &mm, &self->res));
		for (uint32_t i = 0; i < m * n; i++) {
			ASSERT_EQ(want[i], get32(self->mem, D_OFF + 4 * i))
				TH_LOG("iter %d dtype %u %ux%ux%u element %u", iter, dtype, m, n, k, i);
		}
	}
}

TEST_F(nn, matmul_u8_extremes)
{
	/* (0 - 255) * (0 - 255) summed 4 times, and (255 - 0) * (0 - 255) */
	struct npu_insn mm = matmul_insn(NPU_DTYPE_A_U8 | NPU_DTYPE_B_U8, 0, 1, 2, 4, 255, 255);

	memset(self->mem + X_OFF, 0, 4);
	memset(self->mem + W_OFF, 0, 8);
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &mm, &self->res));
	EXPECT_EQ(4 * 65025, get32(self->mem, D_OFF));
	mm.arg[NPU_ARG_A_ZERO_POINT] = 0;
	memset(self->mem + X_OFF, 255, 4);
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &mm, &self->res));
	EXPECT_EQ(-4 * 65025, get32(self->mem, D_OFF + 4));
}

TEST_F(nn, matmul_validation)
{
	struct npu_insn mm = matmul_insn(0, 0, 2, 2, 2, 0, 0);

	mm.arg[3] = 1;		/* reserved */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&mm, NULL));
	mm = matmul_insn(0, 0, 2, 2, 2, 128, 0);	/* i8 zero point out of range */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&mm, NULL));
	mm = matmul_insn(NPU_DTYPE_A_U8, 0, 2, 2, 2, 255, -128);
	EXPECT_EQ(NPU_STATUS_OK, check(&mm, NULL));
	mm = matmul_insn(NPU_DTYPE_A_U8, 0, 2, 2, 2, -1, 0);	/* u8 zero point < 0 */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&mm, NULL));
	mm = matmul_insn(NPU_DTYPE_B_U8, 0, 2, 2, 2, 0, 256);
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&mm, NULL));
	mm = matmul_insn(4, 0, 2, 2, 2, 0, 0);		/* unknown dtype bit */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&mm, NULL));
	mm = matmul_insn(0, 0, 2, 2, 2, 0, 0);
	mm.arg[NPU_ARG_MM_BIAS] = B_OFF;		/* bias address without the flag */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&mm, NULL));
	mm = matmul_insn(0, NPU_ISA_F_BIAS, 2, 2, 2, 0, 0);
	mm.arg[NPU_ARG_MM_BIAS] = MEM_SIZE - 7;		/* bias of 8 bytes leaves the space */
	EXPECT_FAILS_CLEANLY(NPU_STATUS_DRAM_OOB, &mm);
	mm.arg[NPU_ARG_MM_BIAS] = D_OFF + 8;		/* bias overlaps dst */
	EXPECT_FAILS_CLEANLY(NPU_STATUS_BAD_DESC, &mm);
	mm.arg[NPU_ARG_MM_BIAS] = 0;			/* address 0 is a valid bias */
	EXPECT_EQ(NPU_STATUS_OK, check(&mm, NULL));
}

/* ---- CONV2D ------------------------------------------------------------------------- */

struct conv_case {
	uint32_t n, h, w, cin, cout, groups, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
	uint8_t dtype;
	uint16_t flags;
	int zx, zw;
};

static struct npu_insn conv_insn(const struct conv_case *c)
{
	const struct npu_isa_conv_shape shape = { c->n, c->h, c->w, c->cin, c->cout, c->groups };
	const struct npu_isa_window win = { c->kh, c->kw, c->sh, c->sw, c->dh, c->dw,
					    c->pt, c->pl, c->pb, c->pr };

	return npu_insn_conv2d(c->dtype, c->flags, D_OFF, X_OFF, W_OFF, &shape, &win,
			       (c->flags & NPU_ISA_F_BIAS) ? B_OFF : 0, c->zx, c->zw);
}

static int64_t out_size(int64_t in, int64_t pa, int64_t pb, int64_t k, int64_t d, int64_t s)
{
	int64_t span = in + pa + pb - (d * (k - 1) + 1);

	return span < 0 ? 0 : span / s + 1;
}

/*
 * Reference: materializes the padded input (pad value zx), then applies the
 * textbook formula with the ONNX OIHW-style loop order over the group.
 */
static void ref_conv(const uint8_t *mem, const struct conv_case *c, int32_t *out,
		     int64_t *ohp, int64_t *owp)
{
	bool xu = c->dtype & NPU_DTYPE_A_U8, wu = c->dtype & NPU_DTYPE_B_U8;
	int64_t ph = c->h + c->pt + c->pb, pw = c->w + c->pl + c->pr;
	int64_t oh = out_size(c->h, c->pt, c->pb, c->kh, c->dh, c->sh);
	int64_t ow = out_size(c->w, c->pl, c->pr, c->kw, c->dw, c->sw);
	int64_t cg = c->cin / c->groups, og = c->cout / c->groups;
	int *padded = malloc(sizeof(int) * (size_t)(c->n * ph * pw * c->cin + 1));

	for (int64_t n = 0; n < c->n; n++)
		for (int64_t y = 0; y < ph; y++)
			for (int64_t x = 0; x < pw; x++)
				for (int64_t ch = 0; ch < c->cin; ch++) {
					int64_t iy = y - c->pt, ix = x - c->pl;
					int v = c->zx;

					if (iy >= 0 && iy < c->h && ix >= 0 && ix < c->w)
						v = val8(mem[X_OFF + ((n * c->h + iy) * c->w + ix) *
							     c->cin + ch], xu);
					padded[((n * ph + y) * pw + x) * c->cin + ch] = v;
				}
	for (int64_t n = 0; n < c->n; n++)
		for (int64_t co = 0; co < c->cout; co++)
			for (int64_t y = 0; y < oh; y++)
				for (int64_t x = 0; x < ow; x++) {
					int64_t idx = ((n * oh + y) * ow + x) * c->cout + co;
					int64_t s = 0, g = co / og;

					if (c->flags & NPU_ISA_F_ACCUMULATE)
						s += get32(mem, D_OFF + 4 * idx);
					if (c->flags & NPU_ISA_F_BIAS)
						s += get32(mem, B_OFF + 4 * co);
					for (int64_t ci = 0; ci < cg; ci++)
						for (int64_t ky = 0; ky < c->kh; ky++)
							for (int64_t kx = 0; kx < c->kw; kx++) {
								int64_t py = y * c->sh + ky * c->dh;
								int64_t px = x * c->sw + kx * c->dw;
								int xv = padded[((n * ph + py) * pw + px) *
										c->cin + g * cg + ci];
								int wv = val8(mem[W_OFF +
									((co * c->kh + ky) * c->kw + kx) *
									cg + ci], wu);

								s += (int64_t)(xv - c->zx) * (wv - c->zw);
							}
					out[idx] = wrap32(s);
				}
	free(padded);
	*ohp = oh;
	*owp = ow;
}

static void conv_random_case(struct rng *r, struct conv_case *c, int kind)
{
	memset(c, 0, sizeof(*c));
	c->n = (uint32_t)rnd_in(r, 1, 2);
	c->h = (uint32_t)rnd_in(r, 1, 8);
	c->w = (uint32_t)rnd_in(r, 1, 8);
	c->kh = (uint32_t)rnd_in(r, 1, 3);
	c->kw = (uint32_t)rnd_in(r, 1, 3);
	c->sh = (uint32_t)rnd_in(r, 1, 3);
	c->sw = (uint32_t)rnd_in(r, 1, 3);
	c->dh = (uint32_t)rnd_in(r, 1, 2);
	c->dw = (uint32_t)rnd_in(r, 1, 2);
	c->pt = (uint32_t)rnd_in(r, 0, 2);
	c->pl = (uint32_t)rnd_in(r, 0, 2);
	c->pb = (uint32_t)rnd_in(r, 0, 2);
	c->pr = (uint32_t)rnd_in(r, 0, 2);
	switch (kind) {
	case 0:		/* dense */
		c->groups = 1;
		c->cin = (uint32_t)rnd_in(r, 1, 6);
		c->cout = (uint32_t)rnd_in(r, 1, 6);
		break;
	case 1:		/* depthwise, channel multiplier 1 or 2 */
		c->cin = (uint32_t)rnd_in(r, 1, 6);
		c->groups = c->cin;
		c->cout = c->cin * (uint32_t)rnd_in(r, 1, 2);
		break;
	default:	/* grouped */
		c->groups = (uint32_t)rnd_in(r, 2, 3);
		c->cin = c->groups * (uint32_t)rnd_in(r, 1, 3);
		c->cout = c->groups * (uint32_t)rnd_in(r, 1, 3);
		break;
	}
	c->dtype = (uint8_t)(rnd(r) % 4);
	c->flags = (uint16_t)(rnd(r) % 4);
	c->zx = (int)rnd_in(r, (c->dtype & NPU_DTYPE_A_U8) ? 0 : -128,
			    (c->dtype & NPU_DTYPE_A_U8) ? 255 : 127);
	c->zw = (int)rnd_in(r, (c->dtype & NPU_DTYPE_B_U8) ? 0 : -128,
			    (c->dtype & NPU_DTYPE_B_U8) ? 255 : 127);
}

TEST_F(nn, conv2d_random_dense_depthwise_grouped)
{
	int32_t *want = malloc(REGION);
	unsigned int ran_empty = 0;

	ASSERT_NE(NULL, want);
	for (int iter = 0; iter < 600; iter++) {
		struct conv_case c;
		struct npu_insn cv;
		int64_t oh, ow, outs;
		uint64_t cycles;

		conv_random_case(&self->rng, &c, iter % 3);
		cv = conv_insn(&c);
		rnd_fill(&self->rng, self->mem + X_OFF, (size_t)c.n * c.h * c.w * c.cin);
		rnd_fill(&self->rng, self->mem + W_OFF,
			 (size_t)c.cout * c.kh * c.kw * (c.cin / c.groups));
		rnd_fill(&self->rng, self->mem + B_OFF, 4 * c.cout);
		rnd_fill(&self->rng, self->mem + D_OFF, REGION);
		ref_conv(self->mem, &c, want, &oh, &ow);
		outs = c.n * oh * ow * c.cout;
		ran_empty += outs == 0;
		memcpy(self->copy, self->mem, MEM_SIZE);
		ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &cv, &self->res));
		for (int64_t i = 0; i < outs; i++) {
			ASSERT_EQ(want[i], get32(self->mem, D_OFF + 4 * (uint64_t)i))
				TH_LOG("iter %d: n%u %ux%ux%u->%u g%u k%ux%u s%ux%u d%ux%u "
				       "p%u,%u,%u,%u dtype %u flags %u zx %d zw %d, element %lld",
				       iter, c.n, c.h, c.w, c.cin, c.cout, c.groups, c.kh, c.kw,
				       c.sh, c.sw, c.dh, c.dw, c.pt, c.pl, c.pb, c.pr, c.dtype,
				       c.flags, c.zx, c.zw, (long long)i);
		}
		/* nothing past the output */
		ASSERT_EQ(0, memcmp(self->copy + D_OFF + 4 * outs, self->mem + D_OFF + 4 * outs,
				    64));
		ASSERT_EQ(NPU_STATUS_OK, check(&cv, &cycles));
		EXPECT_EQ(NPU_ISA_ISSUE_CYCLES +
			  (outs * c.kh * c.kw * (c.cin / c.groups) + 255) / 256, cycles);
	}
	/* the shapes include kernels larger than the padded input */
	EXPECT_LT(0u, ran_empty);
	free(want);
}

TEST_F(nn, conv2d_padding_reads_the_input_zero_point)
{
	/* 1x1 u8 input of value 7 with zx = 7: every tap adds 0, pads included */
	struct conv_case c = { .n = 1, .h = 1, .w = 1, .cin = 1, .cout = 1, .groups = 1,
			       .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
			       .pt = 1, .pl = 1, .pb = 1, .pr = 1,
			       .dtype = NPU_DTYPE_A_U8 | NPU_DTYPE_B_U8, .zx = 7, .zw = 0 };
	struct npu_insn cv = conv_insn(&c);

	self->mem[X_OFF] = 7;
	memset(self->mem + W_OFF, 200, 9);
	put32(self->mem, D_OFF, 12345);
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &cv, &self->res));
	EXPECT_EQ(0, get32(self->mem, D_OFF));
	/* value 9: only the centre tap is real: (9 - 7) * 200 */
	self->mem[X_OFF] = 9;
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &cv, &self->res));
	EXPECT_EQ(400, get32(self->mem, D_OFF));
}

TEST_F(nn, conv2d_accumulator_wraps)
{
	/* 3 taps of (-128 - 127) * (-128 - 127) = 65025 onto INT32_MAX */
	struct conv_case c = { .n = 1, .h = 1, .w = 3, .cin = 1, .cout = 1, .groups = 1,
			       .kh = 1, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
			       .flags = NPU_ISA_F_ACCUMULATE, .zx = 127, .zw = 127 };
	struct npu_insn cv = conv_insn(&c);

	memset(self->mem + X_OFF, 0x80, 3);
	memset(self->mem + W_OFF, 0x80, 3);
	put32(self->mem, D_OFF, INT32_MAX);
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &cv, &self->res));
	EXPECT_EQ(wrap32((int64_t)INT32_MAX + 3 * 65025), get32(self->mem, D_OFF));
}

TEST_F(nn, conv2d_validation_and_bounds)
{
	struct conv_case base = { .n = 1, .h = 4, .w = 4, .cin = 4, .cout = 4, .groups = 2,
				  .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
				  .pt = 1, .pl = 1, .pb = 1, .pr = 1, .flags = NPU_ISA_F_BIAS };
	struct conv_case c;
	struct npu_insn cv;

	cv = conv_insn(&base);
	EXPECT_EQ(NPU_STATUS_OK, check(&cv, NULL));
	c = base, c.groups = 0, cv = conv_insn(&c);
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&cv, NULL));
	c = base, c.groups = 3, cv = conv_insn(&c);	/* does not divide 4 */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&cv, NULL));
	c = base, c.cout = 6, cv = conv_insn(&c);	/* 6 % 2 == 0 but ok */
	EXPECT_EQ(NPU_STATUS_OK, check(&cv, NULL));
	c = base, c.cout = 5, cv = conv_insn(&c);
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&cv, NULL));
	c = base, c.kh = 0, cv = conv_insn(&c);
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&cv, NULL));
	c = base, c.sw = 0, cv = conv_insn(&c);
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&cv, NULL));
	c = base, c.dh = 0, cv = conv_insn(&c);
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&cv, NULL));
	c = base, c.zx = 128, cv = conv_insn(&c);
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&cv, NULL));
	c = base, c.dtype = NPU_DTYPE_B_U8, c.zw = -1, cv = conv_insn(&c);
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&cv, NULL));
	c = base, c.flags = 0, cv = conv_insn(&c);
	cv.arg[NPU_ARG_CONV_BIAS] = B_OFF;		/* bias without the flag */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&cv, NULL));
	cv = conv_insn(&base);
	cv.flags |= NPU_ISA_F_WRAP;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&cv, NULL));
	/* bounds: each operand in turn, then dst overlapping each input */
	cv = conv_insn(&base), cv.src0 = MEM_SIZE - 63;	/* x is 64 bytes */
	EXPECT_FAILS_CLEANLY(NPU_STATUS_DRAM_OOB, &cv);
	cv = conv_insn(&base), cv.src1 = MEM_SIZE - 71;	/* w is 4*3*3*2 = 72 */
	EXPECT_FAILS_CLEANLY(NPU_STATUS_DRAM_OOB, &cv);
	cv = conv_insn(&base), cv.src1 = MEM_SIZE - 72;
	EXPECT_EQ(NPU_STATUS_OK, check(&cv, NULL));
	cv = conv_insn(&base), cv.dst = MEM_SIZE - 255;	/* dst is 4*4*4*4 = 256 */
	EXPECT_FAILS_CLEANLY(NPU_STATUS_DRAM_OOB, &cv);
	cv = conv_insn(&base), cv.arg[NPU_ARG_CONV_BIAS] = MEM_SIZE - 15;
	EXPECT_FAILS_CLEANLY(NPU_STATUS_DRAM_OOB, &cv);
	cv = conv_insn(&base), cv.dst = X_OFF + 60;
	EXPECT_FAILS_CLEANLY(NPU_STATUS_BAD_DESC, &cv);
	cv = conv_insn(&base), cv.dst = W_OFF - 4;
	EXPECT_FAILS_CLEANLY(NPU_STATUS_BAD_DESC, &cv);
	cv = conv_insn(&base), cv.arg[NPU_ARG_CONV_BIAS] = D_OFF + 252;
	EXPECT_FAILS_CLEANLY(NPU_STATUS_BAD_DESC, &cv);
	/* huge dimensions: products beyond 2^64 saturate and fail the range check */
	c = base;
	c.n = c.h = c.w = 0xffffffffu, c.cin = c.cout = 0xfffffffeu;
	cv = conv_insn(&c);
	EXPECT_EQ(NPU_STATUS_DRAM_OOB, (int)npu_isa_check(&cv, UINT64_MAX, 1, NULL));
}

TEST_F(nn, conv2d_cost_and_lanes)
{
	/* 1x8x8x16 -> 32, 3x3 same padding: 8*8*32*3*3*16 = 294912 MACs */
	struct conv_case c = { .n = 1, .h = 8, .w = 8, .cin = 16, .cout = 32, .groups = 1,
			       .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
			       .pt = 1, .pl = 1, .pb = 1, .pr = 1 };
	struct npu_insn cv = conv_insn(&c);
	uint64_t cycles;

	ASSERT_EQ(NPU_STATUS_OK, npu_isa_check(&cv, MEM_SIZE, 1, &cycles));
	EXPECT_EQ(NPU_ISA_ISSUE_CYCLES + 294912 / 256, cycles);
	ASSERT_EQ(NPU_STATUS_OK, npu_isa_check(&cv, MEM_SIZE, 2, &cycles));
	EXPECT_EQ(NPU_ISA_ISSUE_CYCLES + 294912 / 512, cycles);
}

/* ---- REQUANT (u8), REQUANT_PC ------------------------------------------------------ */

TEST_F(nn, requant_u8_output)
{
	struct npu_insn rq = npu_insn_requant_to(NPU_DTYPE_U8, D_OFF, X_OFF, 5, 1, 1, 128);
	const int32_t in[5] = { -1000, -3, 5, 1000, 201 };
	const uint8_t want[5] = { 0, 126, 131, 255, 229 };	/* x / 2 + 128, rounded */

	for (int i = 0; i < 5; i++)
		put32(self->mem, X_OFF + 4 * i, in[i]);
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &rq, &self->res));
	EXPECT_EQ(0, memcmp(want, self->mem + D_OFF, 5));
	rq.arg[NPU_ARG_ZERO_POINT] = 256;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&rq, NULL));
	rq.arg[NPU_ARG_ZERO_POINT] = (uint32_t)-1;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&rq, NULL));
	rq.dtype = NPU_DTYPE_I32;
	rq.arg[NPU_ARG_ZERO_POINT] = 0;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&rq, NULL));
}

TEST_F(nn, requant_pc_random)
{
	for (int iter = 0; iter < 100; iter++) {
		struct rng *r = &self->rng;
		uint8_t dtype = iter % 2 ? NPU_DTYPE_U8 : NPU_DTYPE_I8;
		bool u = dtype == NPU_DTYPE_U8;
		uint32_t ch = (uint32_t)rnd_in(r, 1, 17), n = (uint32_t)rnd_in(r, 0, 300);
		int zp = (int)rnd_in(r, u ? 0 : -128, u ? 255 : 127);
		struct npu_insn rq = npu_insn_requant_pc(dtype, D_OFF, X_OFF, B_OFF, n, ch, zp);
		uint8_t want[300];

		for (uint32_t c = 0; c < ch; c++) {
			put32(self->mem, B_OFF + 8 * c, (int32_t)rnd(r) >> (rnd(r) % 31));
			put32(self->mem, B_OFF + 8 * c + 4, (int64_t)rnd_in(r, 0, 62));
		}
		rnd_fill(r, self->mem + X_OFF, 4 * n);
		for (uint32_t i = 0; i < n; i++) {
			int64_t v = get32(self->mem, X_OFF + 4 * i);
			int64_t m = get32(self->mem, B_OFF + 8 * (i % ch));
			unsigned int s = (unsigned int)get32(self->mem, B_OFF + 8 * (i % ch) + 4);

			want[i] = sat8(ref_round_shift(v * m, s) + zp, u);
		}
		ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &rq, &self->res));
		ASSERT_EQ(0, memcmp(want, self->mem + D_OFF, n)) TH_LOG("iter %d", iter);
	}
}

TEST_F(nn, requant_pc_validation)
{
	struct npu_insn rq = npu_insn_requant_pc(NPU_DTYPE_I8, D_OFF, X_OFF, B_OFF, 8, 4, 0);

	memset(self->mem + B_OFF, 0, 32);
	EXPECT_EQ(NPU_STATUS_OK, run1(self->mem, &rq, &self->res));
	/* a bad shift in the last entry: BAD_DESC at run time, nothing written */
	put32(self->mem, B_OFF + 28, 63);
	memset(self->mem + D_OFF, 0x5a, 8);
	EXPECT_FAILS_CLEANLY(NPU_STATUS_BAD_DESC, &rq);
	EXPECT_EQ(0x5a, self->mem[D_OFF]);
	/* npu_isa_check() has no memory: it cannot see the table */
	EXPECT_EQ(NPU_STATUS_OK, check(&rq, NULL));
	put32(self->mem, B_OFF + 28, 0);
	rq.arg[NPU_ARG_RQ_CHANNELS] = 0;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&rq, NULL));
	rq.arg[NPU_ARG_RQ_CHANNELS] = 4;
	rq.arg[NPU_ARG_SHIFT] = 1;		/* slot 2 is unused */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&rq, NULL));
	rq.arg[NPU_ARG_SHIFT] = 0;
	rq.src1 = MEM_SIZE - 31;		/* table of 32 bytes */
	EXPECT_FAILS_CLEANLY(NPU_STATUS_DRAM_OOB, &rq);
	rq.src1 = D_OFF + 4;			/* table overlaps dst */
	EXPECT_FAILS_CLEANLY(NPU_STATUS_BAD_DESC, &rq);
}

/* ---- ADD_RQ, MUL_RQ -------------------------------------------------------------- */

TEST_F(nn, add_rq_and_mul_rq_random_with_broadcast)
{
	for (int iter = 0; iter < 400; iter++) {
		struct rng *r = &self->rng;
		bool mul = iter % 2, u = (iter / 2) % 2;
		uint8_t dtype = u ? NPU_DTYPE_U8 : NPU_DTYPE_I8;
		uint32_t n = (uint32_t)rnd_in(r, 0, 257);
		uint32_t l = iter % 3 == 0 ? 0 : (uint32_t)rnd_in(r, 1, 9);
		uint32_t b_len = l ? l : n;
		int za = (int)rnd_in(r, u ? 0 : -128, u ? 255 : 127);
		int zb = (int)rnd_in(r, u ? 0 : -128, u ? 255 : 127);
		int zo = (int)rnd_in(r, u ? 0 : -128, u ? 255 : 127);
		int32_t ma = (int32_t)rnd(r) >> (rnd(r) % 31);
		int32_t mb = mul ? 0 : (int32_t)rnd(r) >> (rnd(r) % 31);
		unsigned int s = (unsigned int)rnd_in(r, 0, 62);
		struct npu_insn op;
		uint8_t want[257];

		if (iter < 8) {		/* the extremes */
			ma = INT32_MIN;
			mb = mul ? 0 : INT32_MIN;
			s = 0;
		}
		op = npu_insn_binary_rq(mul ? NPU_ISA_MUL_RQ : NPU_ISA_ADD_RQ, dtype, D_OFF, X_OFF,
					W_OFF, n, (struct npu_isa_rq_zero_points){ za, zb, zo },
					ma, mb, s, l);
		rnd_fill(r, self->mem + X_OFF, n);
		rnd_fill(r, self->mem + W_OFF, b_len);
		for (uint32_t i = 0; i < n; i++) {
			int64_t a = val8(self->mem[X_OFF + i], u) - za;
			int64_t b = val8(self->mem[W_OFF + i % b_len], u) - zb;
			int64_t acc = mul ? a * b * ma : a * ma + b * mb;

			want[i] = sat8(ref_round_shift(acc, s) + zo, u);
		}
		ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &op, &self->res));
		ASSERT_EQ(0, memcmp(want, self->mem + D_OFF, n))
			TH_LOG("iter %d %s %s n %u L %u", iter, mul ? "mul" : "add",
			       u ? "u8" : "i8", n, l);
	}
}

TEST_F(nn, add_rq_known_values_and_validation)
{
	/* (a - 10) * 3/4 + (b + 5) * 1/2 - 7, rounded half away: i8 */
	struct npu_insn op = npu_insn_binary_rq(NPU_ISA_ADD_RQ, NPU_DTYPE_I8, D_OFF, X_OFF, W_OFF,
						4, (struct npu_isa_rq_zero_points){ 10, -5, -7 },
						3, 2, 2, 0);
	const int8_t a[4] = { 12, 10, 127, -128 }, b[4] = { -4, -6, 127, -128 };
	/* 1.5 + 0.5 = 2 -> -5; 0 - 0.5 = -0.5 -> -1 -7 = -8; sat high; sat low */
	const int8_t want[4] = { -5, -8, 127, -128 };

	memcpy(self->mem + X_OFF, a, 4);
	memcpy(self->mem + W_OFF, b, 4);
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &op, &self->res));
	EXPECT_EQ(0, memcmp(want, self->mem + D_OFF, 4));
	op.arg[NPU_ARG_RQ_SHIFT] = 63;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&op, NULL));
	op.arg[NPU_ARG_RQ_SHIFT] = 2;
	op.arg[NPU_ARG_RQ_OUT_ZERO_POINT] = 128;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&op, NULL));
	op.arg[NPU_ARG_RQ_OUT_ZERO_POINT] = 0;
	op.opcode = NPU_ISA_MUL_RQ;		/* MUL_RQ has no b multiplier */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&op, NULL));
	op.arg[NPU_ARG_RQ_B_MULTIPLIER] = 0;
	EXPECT_EQ(NPU_STATUS_OK, check(&op, NULL));
	op.dtype = NPU_DTYPE_I32;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&op, NULL));
	op.dtype = NPU_DTYPE_I8;
	op.arg[NPU_ARG_RQ_B_LEN] = 5;		/* b: 5 bytes at the end */
	op.src1 = MEM_SIZE - 4;
	EXPECT_FAILS_CLEANLY(NPU_STATUS_DRAM_OOB, &op);
	op.src1 = MEM_SIZE - 5;
	EXPECT_EQ(NPU_STATUS_OK, check(&op, NULL));
}

/* ---- ADD u8 and WRAP, CLIP --------------------------------------------------------- */

TEST_F(nn, add_u8_saturates_and_wrap_wraps)
{
	const uint8_t a[4] = { 200, 255, 0, 100 }, b[4] = { 100, 1, 0, 27 };
	const uint8_t sat[4] = { 255, 255, 0, 127 }, wrap[4] = { 44, 0, 0, 127 };
	const int8_t wrap_i8[4] = { 44, 0, 0, 127 };	/* -56 + 100, -1 + 1, ... */
	struct npu_insn add = npu_insn_add(NPU_DTYPE_U8, D_OFF, X_OFF, W_OFF, 4);

	memcpy(self->mem + X_OFF, a, 4);
	memcpy(self->mem + W_OFF, b, 4);
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &add, &self->res));
	EXPECT_EQ(0, memcmp(sat, self->mem + D_OFF, 4));
	add.flags = NPU_ISA_F_WRAP;
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &add, &self->res));
	EXPECT_EQ(0, memcmp(wrap, self->mem + D_OFF, 4));
	add.dtype = NPU_DTYPE_I8;
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &add, &self->res));
	EXPECT_EQ(0, memcmp(wrap_i8, self->mem + D_OFF, 4));
	add.flags = NPU_ISA_F_ACCUMULATE;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&add, NULL));
}

TEST_F(nn, clip_all_types)
{
	struct npu_insn clip = npu_insn_clip(NPU_DTYPE_I8, D_OFF, X_OFF, 5, -5, 6);
	const int8_t in8[5] = { -128, -6, 0, 6, 127 }, want8[5] = { -5, -5, 0, 6, 6 };
	const uint8_t inu[4] = { 0, 3, 200, 255 }, wantu[4] = { 3, 3, 200, 200 };

	memcpy(self->mem + X_OFF, in8, 5);
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &clip, &self->res));
	EXPECT_EQ(0, memcmp(want8, self->mem + D_OFF, 5));
	/* u8: the same -5 is out of the type's range */
	clip.dtype = NPU_DTYPE_U8;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&clip, NULL));
	memcpy(self->mem + X_OFF, inu, 4);
	clip.arg[NPU_ARG_COUNT] = 4;
	clip.arg[NPU_ARG_CLIP_MIN] = 3;
	clip.arg[NPU_ARG_CLIP_MAX] = 200;
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &clip, &self->res));
	EXPECT_EQ(0, memcmp(wantu, self->mem + D_OFF, 4));
	clip.arg[NPU_ARG_CLIP_MAX] = 256;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&clip, NULL));
	clip.arg[NPU_ARG_CLIP_MIN] = 10;
	clip.arg[NPU_ARG_CLIP_MAX] = 9;			/* lo > hi */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&clip, NULL));
	/* i32, in place, with the full range allowed */
	clip = npu_insn_clip(NPU_DTYPE_I32, X_OFF, X_OFF, 3, INT32_MIN, 1000);
	put32(self->mem, X_OFF, INT32_MIN);
	put32(self->mem, X_OFF + 4, INT32_MAX);
	put32(self->mem, X_OFF + 8, -7);
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &clip, &self->res));
	EXPECT_EQ(INT32_MIN, get32(self->mem, X_OFF));
	EXPECT_EQ(1000, get32(self->mem, X_OFF + 4));
	EXPECT_EQ(-7, get32(self->mem, X_OFF + 8));
}

/* ---- MAXPOOL, AVGPOOL ------------------------------------------------------------- */

struct pool_case {
	uint32_t n, h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
	uint8_t dtype;
	uint16_t flags;
	int zp;
	bool average;
};

static struct npu_insn pool_insn(const struct pool_case *p)
{
	const struct npu_isa_window win = { p->kh, p->kw, p->sh, p->sw, p->dh, p->dw,
					    p->pt, p->pl, p->pb, p->pr };

	return npu_insn_pool(p->average ? NPU_ISA_AVGPOOL : NPU_ISA_MAXPOOL, p->dtype, p->flags,
			     D_OFF, X_OFF, p->n, p->h, p->w, p->c, &win, p->zp);
}

/* Reference pooling, straight from the definition (taps outside are skipped). */
static int64_t ref_pool(const uint8_t *mem, const struct pool_case *p, uint8_t *out)
{
	bool u = p->dtype == NPU_DTYPE_U8;
	int64_t oh = p->h ? out_size(p->h, p->pt, p->pb, p->kh, p->dh, p->sh) : 0;
	int64_t ow = p->w ? out_size(p->w, p->pl, p->pr, p->kw, p->dw, p->sw) : 0;

	for (int64_t n = 0; n < p->n; n++)
		for (int64_t y = 0; y < oh; y++)
			for (int64_t x = 0; x < ow; x++)
				for (int64_t c = 0; c < p->c; c++) {
					int64_t best = u ? 0 : -128, sum = 0, cnt = 0, v;

					for (int64_t ky = 0; ky < p->kh; ky++)
						for (int64_t kx = 0; kx < p->kw; kx++) {
							int64_t iy = y * p->sh - p->pt + ky * p->dh;
							int64_t ix = x * p->sw - p->pl + kx * p->dw;

							if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w) {
								if (p->flags & NPU_ISA_F_COUNT_PAD) {
									sum += p->zp;
									cnt++;
								}
								continue;
							}
							v = val8(mem[X_OFF + ((n * p->h + iy) * p->w + ix) *
								     p->c + c], u);
							if (v > best)
								best = v;
							sum += v;
							cnt++;
						}
					v = p->average ? ref_round_div(sum, cnt) : best;
					out[((n * oh + y) * ow + x) * p->c + c] = (uint8_t)v;
				}
	return p->n * oh * ow * p->c;
}

TEST_F(nn, pools_random)
{
	uint8_t *want = malloc(REGION);

	ASSERT_NE(NULL, want);
	for (int iter = 0; iter < 800; iter++) {
		struct rng *r = &self->rng;
		struct pool_case p = { 0 };
		struct npu_insn in;
		int64_t outs;
		uint64_t cycles;

		p.average = iter % 2;
		p.dtype = (iter / 2) % 2 ? NPU_DTYPE_U8 : NPU_DTYPE_I8;
		p.n = (uint32_t)rnd_in(r, 1, 2);
		p.h = (uint32_t)rnd_in(r, 1, 9);
		p.w = (uint32_t)rnd_in(r, 1, 9);
		p.c = (uint32_t)rnd_in(r, 1, 5);
		p.kh = (uint32_t)rnd_in(r, 1, 4);
		p.kw = (uint32_t)rnd_in(r, 1, 4);
		p.sh = (uint32_t)rnd_in(r, 1, 3);
		p.sw = (uint32_t)rnd_in(r, 1, 3);
		p.dh = p.average ? 1 : (uint32_t)rnd_in(r, 1, 3);
		p.dw = p.average ? 1 : (uint32_t)rnd_in(r, 1, 3);
		p.pt = (uint32_t)rnd_in(r, 0, p.dh * (p.kh - 1));
		p.pb = (uint32_t)rnd_in(r, 0, p.dh * (p.kh - 1));
		p.pl = (uint32_t)rnd_in(r, 0, p.dw * (p.kw - 1));
		p.pr = (uint32_t)rnd_in(r, 0, p.dw * (p.kw - 1));
		if (p.average && rnd(r) % 2) {
			p.flags = NPU_ISA_F_COUNT_PAD;
			p.zp = (int)rnd_in(r, p.dtype == NPU_DTYPE_U8 ? 0 : -128,
					   p.dtype == NPU_DTYPE_U8 ? 255 : 127);
		}
		in = pool_insn(&p);
		rnd_fill(r, self->mem + X_OFF, (size_t)p.n * p.h * p.w * p.c);
		outs = ref_pool(self->mem, &p, want);
		ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &in, &self->res));
		ASSERT_EQ(0, memcmp(want, self->mem + D_OFF, (size_t)outs))
			TH_LOG("iter %d: %s %s n%u %ux%ux%u k%ux%u s%ux%u d%ux%u p%u,%u,%u,%u "
			       "flags %u zp %d", iter, p.average ? "avg" : "max",
			       p.dtype == NPU_DTYPE_U8 ? "u8" : "i8", p.n, p.h, p.w, p.c, p.kh,
			       p.kw, p.sh, p.sw, p.dh, p.dw, p.pt, p.pl, p.pb, p.pr, p.flags, p.zp);
		ASSERT_EQ(NPU_STATUS_OK, check(&in, &cycles));
		EXPECT_EQ(NPU_ISA_ISSUE_CYCLES + ((uint64_t)outs * p.kh * p.kw + 31) / 32, cycles);
	}
	free(want);
}

TEST_F(nn, avgpool_rounds_half_away_and_global_pool)
{
	/* 1x1x2 windows of one channel: (1+2)/2 = 1.5 -> 2, (-1-2)/2 -> -2, (0+1)/2 -> 1 */
	const int8_t in[6] = { 1, 2, -1, -2, 0, 1 }, want[3] = { 2, -2, 1 };
	struct pool_case p = { .n = 1, .h = 1, .w = 6, .c = 1, .kh = 1, .kw = 2, .sh = 1,
			       .sw = 2, .dh = 1, .dw = 1, .dtype = NPU_DTYPE_I8, .average = true };
	struct npu_insn avg = pool_insn(&p);

	memcpy(self->mem + X_OFF, in, 6);
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &avg, &self->res));
	EXPECT_EQ(0, memcmp(want, self->mem + D_OFF, 3));
	/* global average pooling of a 7x7x3 u8 map of 255s: exactly 255 */
	p = (struct pool_case){ .n = 1, .h = 7, .w = 7, .c = 3, .kh = 7, .kw = 7, .sh = 1,
				.sw = 1, .dh = 1, .dw = 1, .dtype = NPU_DTYPE_U8, .average = true };
	avg = pool_insn(&p);
	memset(self->mem + X_OFF, 255, 147);
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &avg, &self->res));
	EXPECT_EQ(255, self->mem[D_OFF]);
	EXPECT_EQ(255, self->mem[D_OFF + 2]);
}

TEST_F(nn, maxpool_window_without_input_gives_type_minimum)
{
	/* H = 1, kernel 2 dilated 3 (extent 4), pad top 2 bottom 1: taps at -2 and 1 */
	struct pool_case p = { .n = 1, .h = 1, .w = 1, .c = 1, .kh = 2, .kw = 1, .sh = 1,
			       .sw = 1, .dh = 3, .dw = 1, .pt = 2, .pb = 1,
			       .dtype = NPU_DTYPE_I8 };
	struct npu_insn mp = pool_insn(&p);

	self->mem[X_OFF] = 5;
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &mp, &self->res));
	EXPECT_EQ(0x80, self->mem[D_OFF]);
}

TEST_F(nn, pool_validation)
{
	struct pool_case base = { .n = 1, .h = 4, .w = 4, .c = 2, .kh = 2, .kw = 2, .sh = 2,
				  .sw = 2, .dh = 1, .dw = 1, .pt = 1, .pl = 1, .pb = 1, .pr = 1,
				  .dtype = NPU_DTYPE_U8 };
	struct pool_case p;
	struct npu_insn in;

	in = pool_insn(&base);
	EXPECT_EQ(NPU_STATUS_OK, check(&in, NULL));
	p = base, p.pt = 2, in = pool_insn(&p);		/* pad >= kernel */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&in, NULL));
	p = base, p.pr = 2, in = pool_insn(&p);
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&in, NULL));
	p = base, p.kw = 0, in = pool_insn(&p);
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&in, NULL));
	p = base, p.dtype = NPU_DTYPE_I32, in = pool_insn(&p);
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&in, NULL));
	p = base, p.zp = 1, in = pool_insn(&p);		/* MAXPOOL has no zero point */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&in, NULL));
	p = base, p.average = true, p.dh = 2, in = pool_insn(&p);
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&in, NULL));
	p = base, p.average = true, p.zp = 3, in = pool_insn(&p);	/* zp without COUNT_PAD */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&in, NULL));
	p.flags = NPU_ISA_F_COUNT_PAD, in = pool_insn(&p);
	EXPECT_EQ(NPU_STATUS_OK, check(&in, NULL));
	p.zp = 256, in = pool_insn(&p);
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&in, NULL));
	p = base, p.flags = NPU_ISA_F_COUNT_PAD, in = pool_insn(&p);	/* MAXPOOL: no flag */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&in, NULL));
	in = pool_insn(&base), in.dst = X_OFF + 31;	/* dst overlaps src */
	EXPECT_FAILS_CLEANLY(NPU_STATUS_BAD_DESC, &in);
	in = pool_insn(&base), in.src0 = MEM_SIZE - 31;	/* src is 32 bytes */
	EXPECT_FAILS_CLEANLY(NPU_STATUS_DRAM_OOB, &in);
	in = pool_insn(&base), in.dst = MEM_SIZE - 17;	/* dst is 3*3*2 = 18 */
	EXPECT_FAILS_CLEANLY(NPU_STATUS_DRAM_OOB, &in);
}

/* ---- COPY_ND, FILL ----------------------------------------------------------------- */

static struct npu_insn nd_insn(uint8_t dtype, uint32_t dst, uint32_t src,
			       const uint32_t counts[4], const int32_t sstr[4],
			       const int32_t dstr[4])
{
	return npu_insn_copy_nd(dtype, dst, src, counts, sstr, dstr);
}

TEST_F(nn, copy_nd_transpose_nchw_to_nhwc_i32)
{
	/* [2][3][4][5] NCHW int32 -> NHWC: dst strides follow the permutation */
	const uint32_t cnt[4] = { 2, 3, 4, 5 };
	const int32_t s[4] = { 4 * 60, 4 * 20, 4 * 5, 4 };
	const int32_t d[4] = { 4 * 60, 4, 4 * 15, 4 * 3 };
	struct npu_insn in = nd_insn(NPU_DTYPE_I32, D_OFF, X_OFF, cnt, s, d);
	uint64_t cycles;

	for (int i = 0; i < 120; i++)
		put32(self->mem, X_OFF + 4 * i, i * 1000 + 7);
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &in, &self->res));
	for (int n = 0; n < 2; n++)
		for (int c = 0; c < 3; c++)
			for (int h = 0; h < 4; h++)
				for (int w = 0; w < 5; w++)
					ASSERT_EQ((((n * 3 + c) * 4 + h) * 5 + w) * 1000 + 7,
						  get32(self->mem,
							D_OFF + 4 * (((n * 4 + h) * 5 + w) * 3 + c)));
	/* 120 elements of 4 bytes: 480 bytes > 240 -> 8 cycles */
	ASSERT_EQ(NPU_STATUS_OK, check(&in, &cycles));
	EXPECT_EQ(NPU_ISA_ISSUE_CYCLES + 8, cycles);
}

TEST_F(nn, copy_nd_negative_and_zero_strides)
{
	/* reverse a 2x6 u8 matrix in both dims, then broadcast row 0 four times */
	const uint32_t cnt[4] = { 1, 1, 2, 6 };
	const int32_t s[4] = { 0, 0, -6, -1 }, d[4] = { 0, 0, 6, 1 };
	const uint32_t bc[4] = { 1, 1, 4, 6 };
	const int32_t bs[4] = { 0, 0, 0, 1 }, bd[4] = { 0, 0, 6, 1 };
	struct npu_insn in = nd_insn(NPU_DTYPE_U8, D_OFF, X_OFF + 11, cnt, s, d);
	uint64_t cycles;

	for (int i = 0; i < 12; i++)
		self->mem[X_OFF + i] = (uint8_t)i;
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &in, &self->res));
	for (int i = 0; i < 12; i++)
		ASSERT_EQ(11 - i, self->mem[D_OFF + i]);
	in = nd_insn(NPU_DTYPE_I8, D_OFF, X_OFF, bc, bs, bd);
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &in, &self->res));
	for (int i = 0; i < 24; i++)
		ASSERT_EQ(i % 6, self->mem[D_OFF + i]);
	/* 24 one-byte elements: 48 > 24 -> 1 cycle */
	ASSERT_EQ(NPU_STATUS_OK, check(&in, &cycles));
	EXPECT_EQ(NPU_ISA_ISSUE_CYCLES + 1, cycles);
}

TEST_F(nn, copy_nd_random_against_reference)
{
	static const uint8_t types[] = { NPU_DTYPE_I8, NPU_DTYPE_U8, NPU_DTYPE_I16,
					 NPU_DTYPE_I32, NPU_DTYPE_I64 };
	static const unsigned int sizes[] = { 1, 1, 2, 4, 8 };

	for (int iter = 0; iter < 300; iter++) {
		struct rng *r = &self->rng;
		unsigned int t = (unsigned int)rnd_in(r, 0, 4), size = sizes[t];
		uint32_t cnt[4];
		int32_t s[4], d[4];
		uint32_t src = X_OFF + 0x8000, dst = D_OFF + 0x8000;
		struct npu_insn in;

		for (int k = 0; k < 4; k++) {
			cnt[k] = (uint32_t)rnd_in(r, 1, 4);
			s[k] = (int32_t)rnd_in(r, -64, 64);
			d[k] = (int32_t)rnd_in(r, -64, 64);
		}
		in = nd_insn(types[t], dst, src, cnt, s, d);
		rnd_fill(r, self->mem + X_OFF, REGION);
		rnd_fill(r, self->mem + D_OFF, REGION);
		memcpy(self->copy, self->mem, MEM_SIZE);
		/* the reference: element by element in row-major order */
		for (uint32_t a = 0; a < cnt[0]; a++)
			for (uint32_t b = 0; b < cnt[1]; b++)
				for (uint32_t c = 0; c < cnt[2]; c++)
					for (uint32_t e = 0; e < cnt[3]; e++) {
						int64_t so = src + (int64_t)a * s[0] +
							     (int64_t)b * s[1] +
							     (int64_t)c * s[2] + (int64_t)e * s[3];
						int64_t dof = dst + (int64_t)a * d[0] +
							      (int64_t)b * d[1] +
							      (int64_t)c * d[2] + (int64_t)e * d[3];

						memcpy(self->copy + dof, self->copy + so, size);
					}
		ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &in, &self->res));
		ASSERT_EQ(0, memcmp(self->copy + X_OFF, self->mem + X_OFF, 0x70000))
			TH_LOG("iter %d", iter);
	}
}

TEST_F(nn, copy_nd_bounds_and_overlap)
{
	const uint32_t cnt[4] = { 1, 1, 2, 4 };
	const int32_t s[4] = { 0, 0, 8, 1 }, d[4] = { 0, 0, 4, 1 }, neg[4] = { 0, 0, -8, 1 };
	const uint32_t zero[4] = { 0, 5, 5, 5 };
	const uint32_t huge[4] = { 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu };
	const int32_t big[4] = { INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN };
	struct npu_insn in;

	/* span of the source: 8 + 4 = 12 bytes, ending exactly at the end */
	in = nd_insn(NPU_DTYPE_I8, D_OFF, MEM_SIZE - 12, cnt, s, d);
	EXPECT_EQ(NPU_STATUS_OK, check(&in, NULL));
	in = nd_insn(NPU_DTYPE_I8, D_OFF, MEM_SIZE - 11, cnt, s, d);
	EXPECT_FAILS_CLEANLY(NPU_STATUS_DRAM_OOB, &in);
	/* a negative stride reaching below address 0 */
	in = nd_insn(NPU_DTYPE_I8, D_OFF, 7, cnt, neg, d);
	EXPECT_FAILS_CLEANLY(NPU_STATUS_DRAM_OOB, &in);
	in = nd_insn(NPU_DTYPE_I8, D_OFF, 8, cnt, neg, d);
	EXPECT_EQ(NPU_STATUS_OK, check(&in, NULL));
	/* spans overlapping (even though no element would collide) */
	in = nd_insn(NPU_DTYPE_I8, X_OFF + 4, X_OFF, cnt, s, d);
	EXPECT_FAILS_CLEANLY(NPU_STATUS_BAD_DESC, &in);
	/* a zero count: nothing touched, any strides */
	in = nd_insn(NPU_DTYPE_I64, MEM_SIZE, MEM_SIZE, zero, big, big);
	EXPECT_EQ(NPU_STATUS_OK, run1(self->mem, &in, &self->res));
	/* extreme counts and strides saturate: out of any space */
	in = nd_insn(NPU_DTYPE_I64, 0x80000000u, 0xffffffffu, huge, big, s);
	EXPECT_EQ(NPU_STATUS_DRAM_OOB, (int)npu_isa_check(&in, UINT64_MAX, 1, NULL));
	in = nd_insn(NPU_DTYPE_I8, D_OFF, X_OFF, cnt, s, d);
	in.dtype = NPU_DTYPE_COUNT;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&in, NULL));
	in.dtype = NPU_DTYPE_I8;
	in.src1 = 4;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&in, NULL));
}

TEST_F(nn, fill_types_values_and_cost)
{
	struct npu_insn fill = npu_insn_fill(NPU_DTYPE_I16, D_OFF + 1, 3, -2);
	uint64_t cycles;

	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &fill, &self->res));
	EXPECT_EQ(0, self->mem[D_OFF]);
	for (int i = 1; i < 7; i++)
		EXPECT_EQ(i % 2 ? 0xfe : 0xff, self->mem[D_OFF + i]);
	EXPECT_EQ(0, self->mem[D_OFF + 7]);
	fill.dtype = NPU_DTYPE_I32;
	fill.arg[NPU_ARG_FILL_VALUE] = 0x12345678;
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &fill, &self->res));
	EXPECT_EQ(0x12345678, get32(self->mem, D_OFF + 9));
	fill.dtype = NPU_DTYPE_U8;
	fill.arg[NPU_ARG_FILL_VALUE] = 200;
	fill.arg[NPU_ARG_COUNT] = 130;
	ASSERT_EQ(NPU_STATUS_OK, run1(self->mem, &fill, &self->res));
	EXPECT_EQ(200, self->mem[D_OFF + 130]);
	ASSERT_EQ(NPU_STATUS_OK, check(&fill, &cycles));
	EXPECT_EQ(NPU_ISA_ISSUE_CYCLES + 3, cycles);
	fill.arg[NPU_ARG_FILL_VALUE] = 256;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&fill, NULL));
	fill.dtype = NPU_DTYPE_I8;
	fill.arg[NPU_ARG_FILL_VALUE] = 200;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&fill, NULL));
	fill.dtype = NPU_DTYPE_I16;
	fill.arg[NPU_ARG_FILL_VALUE] = 40000;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&fill, NULL));
	fill.dtype = NPU_DTYPE_I64;
	fill.arg[NPU_ARG_FILL_VALUE] = 0;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&fill, NULL));
	fill.dtype = NPU_DTYPE_I32;
	fill.arg[NPU_ARG_COUNT] = 0x40000001u;		/* 4 * count wraps in 32 bits */
	EXPECT_EQ(NPU_STATUS_DRAM_OOB, check(&fill, NULL));
}

/* ---- a CNN layer end to end, and slicing ----------------------------------------- */

/*
 * conv 3x3 (u8 x i8, bias) -> REQUANT_PC (u8) -> MAXPOOL 2x2, as a program;
 * run whole and in tiny slices: same bytes, same cycles.
 */
TEST_F(nn, cnn_layer_program_runs_the_same_in_slices)
{
	struct conv_case c = { .n = 1, .h = 12, .w = 12, .cin = 8, .cout = 16, .groups = 1,
			       .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
			       .pt = 1, .pl = 1, .pb = 1, .pr = 1, .dtype = NPU_DTYPE_A_U8,
			       .flags = NPU_ISA_F_BIAS, .zx = 128, .zw = 0 };
	struct pool_case p = { .n = 1, .h = 12, .w = 12, .c = 16, .kh = 2, .kw = 2, .sh = 2,
			       .sw = 2, .dh = 1, .dw = 1, .dtype = NPU_DTYPE_U8 };
	struct npu_insn prog[4];
	struct npu_isa_result whole, sliced;
	uint8_t *again = malloc(MEM_SIZE);
	unsigned int slices = 0;
	uint32_t status;

	ASSERT_NE(NULL, again);
	prog[0] = conv_insn(&c);
	prog[1] = npu_insn_requant_pc(NPU_DTYPE_U8, X_OFF + 0x8000, D_OFF, B_OFF + 0x100,
				      12 * 12 * 16, 16, 3);
	prog[2] = pool_insn(&p);
	prog[2].src0 = X_OFF + 0x8000;
	prog[3] = npu_insn_halt();
	for (int i = 0; i < 4; i++)
		npu_isa_encode(&prog[i], self->mem + PROG + i * NPU_INSN_SIZE);
	rnd_fill(&self->rng, self->mem + X_OFF, 12 * 12 * 8);
	rnd_fill(&self->rng, self->mem + W_OFF, 16 * 9 * 8);
	rnd_fill(&self->rng, self->mem + B_OFF, 64);
	for (int ch = 0; ch < 16; ch++) {
		put32(self->mem, B_OFF + 0x100 + 8 * ch, 1000 + ch * 77);
		put32(self->mem, B_OFF + 0x100 + 8 * ch + 4, 16 + ch % 3);
	}
	memcpy(again, self->mem, MEM_SIZE);
	ASSERT_EQ(NPU_STATUS_OK, npu_isa_run(self->mem, MEM_SIZE, PROG, 4 * NPU_INSN_SIZE, 0, 2,
					     &whole));
	memset(&sliced, 0, sizeof(sliced));
	do {
		status = npu_isa_run_slice(again, MEM_SIZE, PROG, 4 * NPU_INSN_SIZE, 0, 2, 100,
					   &sliced);
		if (status == NPU_ISA_YIELD)	/* bigger than a slice: run it alone */
			status = npu_isa_run_slice(again, MEM_SIZE, PROG, 4 * NPU_INSN_SIZE, 0, 2,
						   UINT64_MAX - sliced.cycles, &sliced);
		slices++;
	} while (status == NPU_ISA_YIELD && slices < 10);
	ASSERT_EQ(NPU_STATUS_OK, status);
	EXPECT_EQ(whole.cycles, sliced.cycles);
	EXPECT_EQ(4u, sliced.retired);
	EXPECT_EQ(0, memcmp(self->mem, again, MEM_SIZE));
	/* fused: conv 12*12*16*72 MACs / 512, requant 2304 / 64, pool 144*4 taps... */
	EXPECT_EQ(4 * NPU_ISA_ISSUE_CYCLES + 12 * 12 * 16 * 72 / 512 + 2304 / 64 +
		  (6 * 6 * 16 * 4) / 64, whole.cycles);
	free(again);
}

TEST_F(nn, opcode_names)
{
	static const char *const names[] = { "conv2d", "requant_pc", "add_rq", "mul_rq", "clip",
					      "maxpool", "avgpool", "copy_nd", "fill" };

	for (unsigned int i = 0; i < 9; i++)
		EXPECT_STREQ(names[i], npu_isa_opcode_name(NPU_ISA_CONV2D + i));
}

TEST_HARNESS_MAIN
