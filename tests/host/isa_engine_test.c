// SPDX-License-Identifier: MIT
/*
 * The fast executor (isa/isa_gemm.c, with the host's micro-kernel and with
 * the portable one) against the reference loops of isa/isa_exec.c: random
 * programs of MATMUL_I8 and CONV2D instructions (every dtype combination,
 * zero points, bias, accumulate, groups, strides, dilations, pads, shapes
 * on and across the block edges) run by each engine on copies of the same
 * memory must leave every byte and the result identical.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "isa_exec.h"
#include "npu_isa_encode.h"

#define MEM_SIZE	(4u << 20)
#define DATA_OFF	0x1000u		/* operands from here, the program below */
#define MAX_INSNS	6u

static const enum npu_isa_engine engines[] = {
	NPU_ISA_ENGINE_REFERENCE, NPU_ISA_ENGINE_FAST, NPU_ISA_ENGINE_PORTABLE,
};
#define ENGINES (sizeof(engines) / sizeof(engines[0]))

FIXTURE(engine)
{
	uint8_t *mem[ENGINES];
	uint64_t rng;
};

FIXTURE_SETUP(engine)
{
	unsigned int e;

	for (e = 0; e < ENGINES; e++) {
		self->mem[e] = calloc(1, MEM_SIZE);
		ASSERT_NE(NULL, self->mem[e]);
	}
	self->rng = 0x9e3779b97f4a7c15ull;
}

FIXTURE_TEARDOWN(engine)
{
	unsigned int e;

	for (e = 0; e < ENGINES; e++)
		free(self->mem[e]);
}

static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 16);
}

/* A value in [lo, hi]. */
static uint32_t pick(uint64_t *s, uint32_t lo, uint32_t hi)
{
	return lo + rnd(s) % (hi - lo + 1);
}

/* A zero point inside the operand's type. */
static int32_t zero_point(uint64_t *s, bool is_u8)
{
	return is_u8 ? (int32_t)pick(s, 0, 255) : (int32_t)pick(s, 0, 255) - 128;
}

/* Reserves len bytes of operand space (4-byte aligned); 0 if none is left. */
static uint32_t take(uint32_t *next, uint64_t len)
{
	uint32_t at = *next;

	if (len > MEM_SIZE - at)
		return 0;
	*next = (uint32_t)((at + len + 3) & ~3ull);
	return at;
}

/* Shapes: mostly small, sometimes across the blocks (KC 256, MC 96, NC 512). */
static uint32_t dim(uint64_t *s, uint32_t small, uint32_t big)
{
	return rnd(s) % 8 == 0 ? pick(s, 1, big) : pick(s, 1, small);
}

static struct npu_insn random_matmul(uint64_t *s, uint32_t *next)
{
	uint8_t ab = (uint8_t)(rnd(s) & (NPU_DTYPE_A_U8 | NPU_DTYPE_B_U8));
	uint16_t flags = (uint16_t)(rnd(s) & (NPU_ISA_F_ACCUMULATE | NPU_ISA_F_BIAS));
	uint32_t m = dim(s, 13, 120), n = dim(s, 40, 600), k = dim(s, 40, 300);
	uint32_t a = take(next, (uint64_t)m * k), b = take(next, (uint64_t)k * n);
	uint32_t bias = flags & NPU_ISA_F_BIAS ? take(next, 4ull * n) : 0;
	uint32_t d = take(next, 4ull * m * n);

	return npu_insn_matmul_q(ab, flags, d, a, b, m, n, k, zero_point(s, ab & NPU_DTYPE_A_U8),
				 zero_point(s, ab & NPU_DTYPE_B_U8), bias);
}

static struct npu_insn random_conv(uint64_t *s, uint32_t *next)
{
	uint8_t ab = (uint8_t)(rnd(s) & (NPU_DTYPE_A_U8 | NPU_DTYPE_B_U8));
	uint16_t flags = (uint16_t)(rnd(s) & (NPU_ISA_F_ACCUMULATE | NPU_ISA_F_BIAS));
	uint32_t groups = pick(s, 1, 3), cg = dim(s, 7, 40), cout_g = dim(s, 9, 40);
	struct npu_isa_conv_shape shape = {
		.n = pick(s, 1, 2), .h = pick(s, 1, 9), .w = pick(s, 1, 9),
		.cin = groups * cg, .cout = groups * cout_g, .groups = groups,
	};
	struct npu_isa_window win = {
		.kh = (uint16_t)pick(s, 1, 3), .kw = (uint16_t)pick(s, 1, 3),
		.sh = (uint8_t)pick(s, 1, 2), .sw = (uint8_t)pick(s, 1, 2),
		.dh = (uint8_t)pick(s, 1, 2), .dw = (uint8_t)pick(s, 1, 2),
		.pt = (uint8_t)pick(s, 0, 2), .pl = (uint8_t)pick(s, 0, 2),
		.pb = (uint8_t)pick(s, 0, 2), .pr = (uint8_t)pick(s, 0, 2),
	};
	uint64_t oh = shape.h + win.pt + win.pb, ow = shape.w + win.pl + win.pr;
	uint64_t eh = (uint64_t)win.dh * (win.kh - 1) + 1, ew = (uint64_t)win.dw * (win.kw - 1) + 1;
	uint32_t x, w, bias, d;

	oh = oh >= eh ? (oh - eh) / win.sh + 1 : 0;
	ow = ow >= ew ? (ow - ew) / win.sw + 1 : 0;
	x = take(next, (uint64_t)shape.n * shape.h * shape.w * shape.cin);
	w = take(next, (uint64_t)shape.cout * win.kh * win.kw * cg);
	bias = flags & NPU_ISA_F_BIAS ? take(next, 4ull * shape.cout) : 0;
	d = take(next, 4ull * shape.n * oh * ow * shape.cout);
	return npu_insn_conv2d(ab, flags, d, x, w, &shape, &win, bias,
			       zero_point(s, ab & NPU_DTYPE_A_U8), zero_point(s, ab & NPU_DTYPE_B_U8));
}

/*
 * Writes a random program to every engine's memory (identical copies) and
 * runs it with each; fails on the first difference.
 */
static uint32_t run_case(struct __test_metadata *_metadata, FIXTURE_DATA(engine) *self,
			 bool conv, unsigned int insns)
{
	struct npu_isa_result res[ENGINES];
	uint32_t next = DATA_OFF, status[ENGINES];
	struct npu_insn halt = npu_insn_halt();
	unsigned int i, e;

	struct npu_insn prog[MAX_INSNS];

	for (i = 0; i < insns; i++)
		prog[i] = conv && rnd(&self->rng) % 4 ? random_conv(&self->rng, &next) :
			  random_matmul(&self->rng, &next);
	for (i = DATA_OFF; i < next; i += 4) {
		uint32_t v = rnd(&self->rng);

		memcpy(self->mem[0] + i, &v, sizeof(v));
	}
	for (i = 0; i < insns; i++)
		npu_isa_encode(&prog[i], self->mem[0] + i * NPU_INSN_SIZE);
	npu_isa_encode(&halt, self->mem[0] + insns * NPU_INSN_SIZE);
	/* The rest of memory is alike already: the previous case compared it. */
	for (e = 1; e < ENGINES; e++)
		memcpy(self->mem[e], self->mem[0], next);
	for (e = 0; e < ENGINES; e++)
		status[e] = npu_isa_run_engine(engines[e], self->mem[e], MEM_SIZE, 0,
					       (insns + 1) * NPU_INSN_SIZE, 0, 1, &res[e]);
	for (e = 1; e < ENGINES; e++) {
		ASSERT_EQ(status[0], status[e]);
		ASSERT_EQ(res[0].insn_index, res[e].insn_index);
		ASSERT_EQ(res[0].retired, res[e].retired);
		ASSERT_EQ(res[0].cycles, res[e].cycles);
		ASSERT_EQ(0, memcmp(self->mem[0], self->mem[e], MEM_SIZE)) {
			TH_LOG("engine %u differs from the reference", e);
		}
	}
	return status[0];
}

/*
 * Most programs must run to the end, or the comparison proves little (a
 * program stops at its first failing instruction, e.g. one left without
 * memory).
 */
TEST_F(engine, random_matmul_programs)
{
	unsigned int c, ok = 0;

	for (c = 0; c < 60; c++)
		ok += run_case(_metadata, self, false, pick(&self->rng, 1, MAX_INSNS)) ==
		      NPU_STATUS_OK;
	ASSERT_GE(ok, 45);
}

TEST_F(engine, random_conv_programs)
{
	unsigned int c, ok = 0;

	for (c = 0; c < 80; c++)
		ok += run_case(_metadata, self, true, pick(&self->rng, 1, MAX_INSNS)) ==
		      NPU_STATUS_OK;
	ASSERT_GE(ok, 60);
}

/* The shapes where blocking has edges, one at a time. */
TEST_F(engine, block_edges)
{
	static const uint32_t shapes[][3] = {
		{ 1, 1, 1 }, { 6, 16, 2 }, { 7, 17, 3 }, { 96, 512, 256 }, { 97, 513, 257 },
		{ 5, 3, 511 }, { 1, 1000, 1 }, { 200, 1, 1 }, { 2, 2, 0 }, { 0, 3, 3 },
	};
	unsigned int i, e;

	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		uint32_t m = shapes[i][0], n = shapes[i][1], k = shapes[i][2];
		uint32_t a = DATA_OFF, b = a + m * k + 4, bias = b + k * n + 4, d = bias + 4 * n;
		struct npu_insn mm = npu_insn_matmul_q(NPU_DTYPE_A_U8, NPU_ISA_F_BIAS |
						       NPU_ISA_F_ACCUMULATE, d, a, b, m, n, k,
						       200, -7, bias);
		struct npu_isa_result res;

		for (e = 0; e < ENGINES; e++) {
			unsigned int j;

			for (j = DATA_OFF; j < MEM_SIZE; j++)
				self->mem[e][j] = (uint8_t)(j * 2654435761u >> 13);
			npu_isa_encode(&mm, self->mem[e]);
			ASSERT_EQ(NPU_STATUS_OK,
				  npu_isa_run_engine(engines[e], self->mem[e], MEM_SIZE, 0,
						     NPU_INSN_SIZE, 0, 1, &res));
		}
		for (e = 1; e < ENGINES; e++)
			ASSERT_EQ(0, memcmp(self->mem[0], self->mem[e], MEM_SIZE)) {
				TH_LOG("%ux%ux%u: engine %u differs", m, n, k, e);
			}
	}
}

/* The name of the micro-kernel, which the benchmark prints, is one of the known ones. */
TEST(fast_kernel_named)
{
	const char *name = npu_isa_fast_kernel();

	ASSERT_NE(NULL, name);
	ASSERT_TRUE(!strcmp(name, "avx2") || !strcmp(name, "portable"));
}

TEST_HARNESS_MAIN
