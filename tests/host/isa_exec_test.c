// SPDX-License-Identifier: MIT
/*
 * Host unit tests of the instruction-set interpreter (isa/isa_exec.c):
 * arithmetic of every instruction including saturation and rounding edges,
 * field validation, bounds and address-overflow failures, and the cycle
 * budget.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "isa_exec.h"
#include "npu_isa_encode.h"
#include "isa_test_mem.h"

#define MEM_SIZE	65536u
#define PROG		0x0000u	/* program area */
#define BUF_A		0x4000u
#define BUF_B		0x6000u
#define BUF_D		0x8000u

FIXTURE(isa)
{
	uint8_t *mem;
	unsigned int insns;	/* instructions emitted so far */
	struct npu_isa_result res;
};

FIXTURE_SETUP(isa)
{
	self->mem = calloc(1, MEM_SIZE);
	ASSERT_NE(NULL, self->mem);
	self->insns = 0;
}

FIXTURE_TEARDOWN(isa)
{
	free(self->mem);
}

static void emit(uint8_t *mem, unsigned int *insns, const struct npu_insn *insn)
{
	npu_isa_encode(insn, mem + PROG + *insns * NPU_INSN_SIZE);
	(*insns)++;
}

/* Status as int, so it compares cleanly with the enum constants. */
static int check(const struct npu_insn *insn, uint64_t mem_size, unsigned int lanes,
		 uint64_t *cycles)
{
	return (int)npu_isa_check(insn, mem_size, lanes, cycles);
}

static int isa_run(uint8_t *mem, uint64_t mem_size, uint64_t prog_addr, uint64_t prog_len,
		   uint64_t budget, unsigned int lanes, struct npu_isa_result *res)
{
	return (int)npu_isa_run(mem, mem_size, prog_addr, prog_len, budget, lanes, res);
}

static int run(uint8_t *mem, unsigned int insns, uint64_t budget, unsigned int lanes,
	       struct npu_isa_result *res)
{
	return isa_run(mem, MEM_SIZE, PROG, (uint64_t)insns * NPU_INSN_SIZE, budget, lanes, res);
}

TEST_F(isa, encode_decode_roundtrip_is_little_endian)
{
	struct npu_insn in = npu_insn_of(NPU_ISA_MATMUL_I8, 0, 0x0201, 0x11223344, 5, 6), out;
	uint8_t raw[NPU_INSN_SIZE];

	in.arg[11] = 0xa0b0c0d0;
	npu_isa_encode(&in, raw);
	EXPECT_EQ(0x02, raw[0]);
	EXPECT_EQ(0x01, raw[2]);
	EXPECT_EQ(0x02, raw[3]);
	EXPECT_EQ(0x44, raw[4]);
	EXPECT_EQ(0x11, raw[7]);
	EXPECT_EQ(0xd0, raw[60]);
	EXPECT_EQ(0xa0, raw[63]);
	npu_isa_decode(raw, &out);
	EXPECT_EQ(0, memcmp(&in, &out, sizeof(in)));
}

TEST_F(isa, halt_stops_early_and_empty_tail_is_not_run)
{
	struct npu_insn halt = npu_insn_halt();
	struct npu_insn bad = npu_insn_of(0xff, 0, 0, 0, 0, 0);

	emit(self->mem, &self->insns, &halt);
	emit(self->mem, &self->insns, &bad);
	ASSERT_EQ(NPU_STATUS_OK, run(self->mem, self->insns, 0, 1, &self->res));
	EXPECT_EQ(1u, self->res.retired);
	EXPECT_EQ(NPU_ISA_ISSUE_CYCLES, self->res.cycles);
}

TEST_F(isa, program_without_halt_runs_to_its_end)
{
	struct npu_insn copy = npu_insn_copy(BUF_D, BUF_A, 3);

	memcpy(self->mem + BUF_A, "abc", 3);
	emit(self->mem, &self->insns, &copy);
	emit(self->mem, &self->insns, &copy);
	ASSERT_EQ(NPU_STATUS_OK, run(self->mem, self->insns, 0, 1, &self->res));
	EXPECT_EQ(2u, self->res.retired);
	EXPECT_EQ(0, memcmp(self->mem + BUF_D, "abc", 3));
	EXPECT_EQ(2u * (NPU_ISA_ISSUE_CYCLES + 1), self->res.cycles);
}

TEST_F(isa, copy_overlapping_behaves_like_memmove)
{
	struct npu_insn copy = npu_insn_copy(BUF_A + 1, BUF_A, 4);

	memcpy(self->mem + BUF_A, "wxyz", 4);
	emit(self->mem, &self->insns, &copy);
	ASSERT_EQ(NPU_STATUS_OK, run(self->mem, self->insns, 0, 1, &self->res));
	EXPECT_EQ(0, memcmp(self->mem + BUF_A, "wwxyz", 5));
}

TEST_F(isa, copy_cost_scales_with_bytes_and_lanes)
{
	struct npu_insn copy = npu_insn_copy(BUF_D, BUF_A, 4096);
	uint64_t cycles;

	ASSERT_EQ(NPU_STATUS_OK, check(&copy, MEM_SIZE, 1, &cycles));
	EXPECT_EQ(NPU_ISA_ISSUE_CYCLES + 4096 / NPU_ISA_COPY_BYTES_PER_CYCLE, cycles);
	ASSERT_EQ(NPU_STATUS_OK, check(&copy, MEM_SIZE, 2, &cycles));
	EXPECT_EQ(NPU_ISA_ISSUE_CYCLES + 4096 / NPU_ISA_COPY_BYTES_PER_CYCLE / 2, cycles);
	copy.arg[NPU_ARG_COUNT] = 65;	/* partial cycles round up */
	ASSERT_EQ(NPU_STATUS_OK, check(&copy, MEM_SIZE, 1, &cycles));
	EXPECT_EQ(NPU_ISA_ISSUE_CYCLES + 2, cycles);
}

TEST_F(isa, matmul_i8_extremes_and_accumulate)
{
	/* A 2x3, B 3x2 */
	const int8_t a[6] = { -128, -128, -128, 1, 2, 3 };
	const int8_t b[6] = { -128, 127, -128, 0, -128, -1 };
	struct npu_insn mm = npu_insn_of(NPU_ISA_MATMUL_I8, 0, 0, BUF_D, BUF_A, BUF_B);
	uint64_t cycles;

	memcpy(self->mem + BUF_A, a, sizeof(a));
	memcpy(self->mem + BUF_B, b, sizeof(b));
	mm.arg[NPU_ARG_M] = 2;
	mm.arg[NPU_ARG_N] = 2;
	mm.arg[NPU_ARG_K] = 3;
	emit(self->mem, &self->insns, &mm);
	mm.flags = NPU_ISA_F_ACCUMULATE;
	emit(self->mem, &self->insns, &mm);
	ASSERT_EQ(NPU_STATUS_OK, run(self->mem, self->insns, 0, 1, &self->res));
	/* row0: 3*16384 = 49152 and -128*127 - 128*0 - 128*-1 = -16128; doubled */
	EXPECT_EQ(2 * 49152, get32(self->mem, BUF_D + 0));
	EXPECT_EQ(2 * -16128, get32(self->mem, BUF_D + 4));
	/* row1: -128 - 256 - 384 = -768 and 127 + 0 - 3 = 124; doubled */
	EXPECT_EQ(2 * -768, get32(self->mem, BUF_D + 8));
	EXPECT_EQ(2 * 124, get32(self->mem, BUF_D + 12));
	ASSERT_EQ(NPU_STATUS_OK, check(&mm, MEM_SIZE, 1, &cycles));
	EXPECT_EQ(NPU_ISA_ISSUE_CYCLES + 1, cycles);
}

TEST_F(isa, matmul_accumulator_wraps_at_32_bits)
{
	struct npu_insn mm = npu_insn_of(NPU_ISA_MATMUL_I8, 0, NPU_ISA_F_ACCUMULATE,
					 BUF_D, BUF_A, BUF_B);

	put32(self->mem, BUF_D, INT32_MAX);
	self->mem[BUF_A] = 1;
	self->mem[BUF_B] = 1;
	mm.arg[NPU_ARG_M] = 1;
	mm.arg[NPU_ARG_N] = 1;
	mm.arg[NPU_ARG_K] = 1;
	emit(self->mem, &self->insns, &mm);
	ASSERT_EQ(NPU_STATUS_OK, run(self->mem, self->insns, 0, 1, &self->res));
	EXPECT_EQ(INT32_MIN, get32(self->mem, BUF_D));
}

TEST_F(isa, matmul_dst_overlapping_inputs_is_bad_desc)
{
	struct npu_insn mm = npu_insn_matmul(BUF_A + 2, BUF_A, BUF_B, 2, 2, 2, false);

	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&mm, MEM_SIZE, 1, NULL));
	mm.dst = BUF_B - 4;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&mm, MEM_SIZE, 1, NULL));
	mm.dst = BUF_D;
	EXPECT_EQ(NPU_STATUS_OK, check(&mm, MEM_SIZE, 1, NULL));
}

TEST_F(isa, add_i8_saturates)
{
	const int8_t a[4] = { 100, -100, 127, -128 };
	const int8_t b[4] = { 100, -100, -127, 127 };
	const int8_t want[4] = { 127, -128, 0, -1 };
	struct npu_insn add = npu_insn_of(NPU_ISA_ADD, NPU_DTYPE_I8, 0, BUF_D, BUF_A, BUF_B);

	memcpy(self->mem + BUF_A, a, 4);
	memcpy(self->mem + BUF_B, b, 4);
	add.arg[NPU_ARG_COUNT] = 4;
	emit(self->mem, &self->insns, &add);
	ASSERT_EQ(NPU_STATUS_OK, run(self->mem, self->insns, 0, 1, &self->res));
	EXPECT_EQ(0, memcmp(self->mem + BUF_D, want, 4));
}

TEST_F(isa, add_i32_wraps_and_works_in_place)
{
	struct npu_insn add = npu_insn_of(NPU_ISA_ADD, NPU_DTYPE_I32, 0, BUF_A, BUF_A, BUF_B);

	put32(self->mem, BUF_A, INT32_MAX);
	put32(self->mem, BUF_B, 1);
	put32(self->mem, BUF_A + 4, INT32_MIN);
	put32(self->mem, BUF_B + 4, -1);
	put32(self->mem, BUF_A + 8, -5);
	put32(self->mem, BUF_B + 8, 3);
	add.arg[NPU_ARG_COUNT] = 3;
	emit(self->mem, &self->insns, &add);
	ASSERT_EQ(NPU_STATUS_OK, run(self->mem, self->insns, 0, 1, &self->res));
	EXPECT_EQ(INT32_MIN, get32(self->mem, BUF_A));
	EXPECT_EQ(INT32_MAX, get32(self->mem, BUF_A + 4));
	EXPECT_EQ(-2, get32(self->mem, BUF_A + 8));
}

TEST_F(isa, relu_i8_and_i32)
{
	const int8_t in8[4] = { -128, -1, 0, 127 };
	const int8_t want8[4] = { 0, 0, 0, 127 };
	struct npu_insn relu = npu_insn_of(NPU_ISA_RELU, NPU_DTYPE_I8, 0, BUF_D, BUF_A, 0);

	memcpy(self->mem + BUF_A, in8, 4);
	relu.arg[NPU_ARG_COUNT] = 4;
	emit(self->mem, &self->insns, &relu);
	relu = npu_insn_relu(NPU_DTYPE_I32, BUF_B, BUF_B, 3);
	put32(self->mem, BUF_B, INT32_MIN);
	put32(self->mem, BUF_B + 4, INT32_MAX);
	put32(self->mem, BUF_B + 8, -1);
	emit(self->mem, &self->insns, &relu);
	ASSERT_EQ(NPU_STATUS_OK, run(self->mem, self->insns, 0, 1, &self->res));
	EXPECT_EQ(0, memcmp(self->mem + BUF_D, want8, 4));
	EXPECT_EQ(0, get32(self->mem, BUF_B));
	EXPECT_EQ(INT32_MAX, get32(self->mem, BUF_B + 4));
	EXPECT_EQ(0, get32(self->mem, BUF_B + 8));
}

static int8_t requant(uint8_t *mem, int32_t value, int32_t mul, uint32_t shift, int32_t zp)
{
	struct npu_insn rq = npu_insn_of(NPU_ISA_REQUANT, 0, 0, BUF_D, BUF_A, 0);
	struct npu_isa_result res;
	unsigned int insns = 0;

	put32(mem, BUF_A, value);
	rq.arg[NPU_ARG_COUNT] = 1;
	rq.arg[NPU_ARG_MULTIPLIER] = (uint32_t)mul;
	rq.arg[NPU_ARG_SHIFT] = shift;
	rq.arg[NPU_ARG_ZERO_POINT] = (uint32_t)zp;
	emit(mem, &insns, &rq);
	if (run(mem, insns, 0, 1, &res) != NPU_STATUS_OK)
		return 99;	/* not a result any call below expects */
	return (int8_t)mem[BUF_D];
}

TEST_F(isa, requant_rounds_half_away_from_zero)
{
	EXPECT_EQ(3, requant(self->mem, 5, 1, 1, 0));	/* 2.5 -> 3 */
	EXPECT_EQ(-3, requant(self->mem, -5, 1, 1, 0));	/* -2.5 -> -3 */
	EXPECT_EQ(2, requant(self->mem, 9, 1, 2, 0));	/* 2.25 -> 2 */
	EXPECT_EQ(-2, requant(self->mem, -9, 1, 2, 0));	/* -2.25 -> -2 */
	EXPECT_EQ(-3, requant(self->mem, -11, 1, 2, 0));	/* -2.75 -> -3 */
	EXPECT_EQ(1, requant(self->mem, 1, 1, 1, 0));	/* 0.5 -> 1 */
	EXPECT_EQ(-1, requant(self->mem, -1, 1, 1, 0));	/* -0.5 -> -1 */
	EXPECT_EQ(7, requant(self->mem, 7, 1, 0, 0));	/* shift 0 is exact */
	EXPECT_EQ(13, requant(self->mem, 5, 3, 1, 5));	/* 7.5 -> 8, + 5 */
}

TEST_F(isa, requant_saturates_and_handles_extreme_products)
{
	EXPECT_EQ(127, requant(self->mem, 1000, 1, 0, 0));
	EXPECT_EQ(-128, requant(self->mem, -1000, 1, 0, 0));
	EXPECT_EQ(127, requant(self->mem, 100, 1, 0, 127));
	EXPECT_EQ(-128, requant(self->mem, -100, 1, 0, -128));
	/* (-2^31)^2 = 2^62, shifted by 62 -> exactly 1 */
	EXPECT_EQ(1, requant(self->mem, INT32_MIN, INT32_MIN, 62, 0));
	/* -2^31 * (2^31 - 1) / 2^62 = -0.99999... -> -1 */
	EXPECT_EQ(-1, requant(self->mem, INT32_MIN, INT32_MAX, 62, 0));
	/* 2^30 / 2^31 = 0.5 -> 1, (2^30 - 1) / 2^31 -> 0, -(2^30) / 2^31 -> -1 */
	EXPECT_EQ(1, requant(self->mem, 1 << 30, 1, 31, 0));
	EXPECT_EQ(0, requant(self->mem, (1 << 30) - 1, 1, 31, 0));
	EXPECT_EQ(-1, requant(self->mem, -(1 << 30), 1, 31, 0));
	EXPECT_EQ(-128, requant(self->mem, INT32_MIN, INT32_MAX, 0, 0));
}

TEST_F(isa, requant_rejects_bad_shift_and_zero_point)
{
	struct npu_insn rq = npu_insn_requant(BUF_D, BUF_A, 1, 0, 63, 0);

	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&rq, MEM_SIZE, 1, NULL));
	rq.arg[NPU_ARG_SHIFT] = 62;
	EXPECT_EQ(NPU_STATUS_OK, check(&rq, MEM_SIZE, 1, NULL));
	rq.arg[NPU_ARG_ZERO_POINT] = 128;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&rq, MEM_SIZE, 1, NULL));
	rq.arg[NPU_ARG_ZERO_POINT] = (uint32_t)-129;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&rq, MEM_SIZE, 1, NULL));
	rq.arg[NPU_ARG_ZERO_POINT] = (uint32_t)-128;
	EXPECT_EQ(NPU_STATUS_OK, check(&rq, MEM_SIZE, 1, NULL));
}

TEST_F(isa, malformed_fields_are_bad_desc)
{
	struct npu_insn insn;

	insn = npu_insn_of(NPU_ISA_COUNT, 0, 0, 0, 0, 0);
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&insn, MEM_SIZE, 1, NULL));
	insn = npu_insn_halt();
	insn.arg[11] = 1;		/* unused arg */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&insn, MEM_SIZE, 1, NULL));
	insn = npu_insn_of(NPU_ISA_HALT, 0, 0, 4, 0, 0);	/* unused dst */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&insn, MEM_SIZE, 1, NULL));
	insn = npu_insn_of(NPU_ISA_COPY, 0, 0, BUF_D, BUF_A, 4);	/* unused src1 */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&insn, MEM_SIZE, 1, NULL));
	insn = npu_insn_of(NPU_ISA_COPY, 0, NPU_ISA_F_ACCUMULATE, BUF_D, BUF_A, 0);
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&insn, MEM_SIZE, 1, NULL));
	insn = npu_insn_of(NPU_ISA_COPY, NPU_DTYPE_I32, 0, BUF_D, BUF_A, 0);	/* no dtype */
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&insn, MEM_SIZE, 1, NULL));
	insn = npu_insn_of(NPU_ISA_ADD, NPU_DTYPE_COUNT, 0, BUF_D, BUF_A, BUF_B);
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&insn, MEM_SIZE, 1, NULL));
	insn = npu_insn_of(NPU_ISA_MATMUL_I8, 0, 0x8000, BUF_D, BUF_A, BUF_B);
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&insn, MEM_SIZE, 1, NULL));
	insn = npu_insn_of(NPU_ISA_RELU, NPU_DTYPE_I8, 0, BUF_D, BUF_A, 0);
	insn.arg[NPU_ARG_COUNT + 1] = 1;
	EXPECT_EQ(NPU_STATUS_BAD_DESC, check(&insn, MEM_SIZE, 1, NULL));
}

TEST_F(isa, failing_insn_reports_index_and_has_no_side_effect)
{
	struct npu_insn copy = npu_insn_of(NPU_ISA_COPY, 0, 0, BUF_D, BUF_A, 0);
	struct npu_insn oob = npu_insn_of(NPU_ISA_COPY, 0, 0, MEM_SIZE - 1, BUF_A, 0);

	copy.arg[NPU_ARG_COUNT] = 1;
	oob.arg[NPU_ARG_COUNT] = 2;
	self->mem[BUF_A] = 0x5a;
	emit(self->mem, &self->insns, &copy);
	emit(self->mem, &self->insns, &oob);
	emit(self->mem, &self->insns, &copy);
	ASSERT_EQ(NPU_STATUS_DRAM_OOB, run(self->mem, self->insns, 0, 1, &self->res));
	EXPECT_EQ(1u, self->res.insn_index);
	EXPECT_EQ(1u, self->res.retired);
	EXPECT_EQ(0x5a, self->mem[BUF_D]);
	EXPECT_EQ(0, self->mem[MEM_SIZE - 1]);
}

TEST_F(isa, ranges_ending_exactly_at_the_end_are_allowed)
{
	struct npu_insn copy = npu_insn_copy(MEM_SIZE - 4, BUF_A, 4);

	EXPECT_EQ(NPU_STATUS_OK, check(&copy, MEM_SIZE, 1, NULL));
	copy.arg[NPU_ARG_COUNT] = 5;
	EXPECT_EQ(NPU_STATUS_DRAM_OOB, check(&copy, MEM_SIZE, 1, NULL));
	copy.arg[NPU_ARG_COUNT] = 0;	/* empty range at the very end */
	copy.dst = MEM_SIZE;
	EXPECT_EQ(NPU_STATUS_OK, check(&copy, MEM_SIZE, 1, NULL));
	copy.dst = MEM_SIZE + 1;
	EXPECT_EQ(NPU_STATUS_DRAM_OOB, check(&copy, MEM_SIZE, 1, NULL));
}

TEST_F(isa, address_arithmetic_does_not_wrap)
{
	struct npu_insn insn;

	/* dst + count*4 wraps in u32 arithmetic; the check is done in u64 */
	insn = npu_insn_add(NPU_DTYPE_I32, 0xfffffff0u, BUF_A, BUF_B, 0x40000010u);
	EXPECT_EQ(NPU_STATUS_DRAM_OOB, check(&insn, 1ull << 32, 1, NULL));
	EXPECT_EQ(NPU_STATUS_DRAM_OOB, check(&insn, MEM_SIZE, 1, NULL));
	/* count*4 alone wraps to a small u32 value */
	insn = npu_insn_relu(NPU_DTYPE_I32, BUF_D, BUF_A, 0x40000001u);
	EXPECT_EQ(NPU_STATUS_DRAM_OOB, check(&insn, MEM_SIZE, 1, NULL));
	/* MATMUL: M*N*4 larger than 2^64 */
	insn = npu_insn_matmul(BUF_D, BUF_A, BUF_B, 0xffffffffu, 0xffffffffu, 1, false);
	EXPECT_EQ(NPU_STATUS_DRAM_OOB, check(&insn, UINT64_MAX, 1, NULL));
	/* MATMUL: M*K = 2^32 wraps to 0 in u32 */
	insn.arg[NPU_ARG_M] = 0x10000;
	insn.arg[NPU_ARG_N] = 1;
	insn.arg[NPU_ARG_K] = 0x10000;
	EXPECT_EQ(NPU_STATUS_DRAM_OOB, check(&insn, MEM_SIZE, 1, NULL));
	/* REQUANT: src count*4 */
	insn = npu_insn_requant(BUF_D, BUF_A, 0x40000000u, 0, 0, 0);
	EXPECT_EQ(NPU_STATUS_DRAM_OOB, check(&insn, MEM_SIZE, 1, NULL));
}

TEST_F(isa, program_range_is_checked)
{
	EXPECT_EQ(NPU_STATUS_BAD_DESC, isa_run(self->mem, MEM_SIZE, 0, 0, 0, 1, &self->res));
	EXPECT_EQ(NPU_STATUS_BAD_DESC, isa_run(self->mem, MEM_SIZE, 0, 65, 0, 1, &self->res));
	EXPECT_EQ(NPU_STATUS_DRAM_OOB,
		  isa_run(self->mem, MEM_SIZE, MEM_SIZE - 64, 128, 0, 1, &self->res));
	EXPECT_EQ(NPU_STATUS_DRAM_OOB,
		  isa_run(self->mem, MEM_SIZE, UINT64_MAX - 63, 128, 0, 1, &self->res));
	EXPECT_EQ(NPU_STATUS_OK,
		  isa_run(self->mem, MEM_SIZE, MEM_SIZE - 64, 64, 0, 1, &self->res));
}

TEST_F(isa, budget_exceeded_is_timeout_without_side_effect)
{
	struct npu_insn copy = npu_insn_copy(BUF_D, BUF_A, 1);
	uint64_t one = NPU_ISA_ISSUE_CYCLES + 1;

	self->mem[BUF_A] = 7;
	emit(self->mem, &self->insns, &copy);
	copy.dst = BUF_D + 1;
	emit(self->mem, &self->insns, &copy);
	/* exactly enough for both */
	ASSERT_EQ(NPU_STATUS_OK, run(self->mem, self->insns, 2 * one, 1, &self->res));
	EXPECT_EQ(2 * one, self->res.cycles);
	memset(self->mem + BUF_D, 0, 2);
	ASSERT_EQ(NPU_STATUS_TIMEOUT, run(self->mem, self->insns, 2 * one - 1, 1, &self->res));
	EXPECT_EQ(1u, self->res.insn_index);
	EXPECT_EQ(1u, self->res.retired);
	EXPECT_EQ(2 * one - 1, self->res.cycles);
	EXPECT_EQ(7, self->mem[BUF_D]);
	EXPECT_EQ(0, self->mem[BUF_D + 1]);
}

TEST_F(isa, default_budget_stops_a_huge_matmul_before_running_it)
{
	struct npu_insn mm = npu_insn_of(NPU_ISA_MATMUL_I8, 0, 0, 1u << 31, 0, 1u << 30);
	uint64_t cycles;

	/* 2^14 x 2^16 times 2^16 x 2^14: 2^44 MACs, 2^36 cycles; 1 GiB per operand */
	mm.arg[NPU_ARG_M] = 1u << 14;
	mm.arg[NPU_ARG_N] = 1u << 14;
	mm.arg[NPU_ARG_K] = 1u << 16;
	ASSERT_EQ(NPU_STATUS_OK, check(&mm, 1ull << 32, 1, &cycles));
	EXPECT_EQ(NPU_ISA_ISSUE_CYCLES + (1ull << 36), cycles);
	EXPECT_LT(NPU_DEFAULT_CYCLE_BUDGET, cycles);
	/*
	 * Claim a 4 GiB space over the 64 KiB fixture: the budget check fails
	 * before the interpreter touches any operand.
	 */
	npu_isa_encode(&mm, self->mem);
	EXPECT_EQ(NPU_STATUS_TIMEOUT, isa_run(self->mem, 1ull << 32, 0, 64, 0, 1, &self->res));
	EXPECT_EQ(NPU_DEFAULT_CYCLE_BUDGET, self->res.cycles);
	EXPECT_EQ(0u, self->res.retired);
}

TEST_F(isa, slices_yield_and_resume_to_the_same_result)
{
	struct npu_insn add = npu_insn_of(NPU_ISA_ADD, NPU_DTYPE_I8, 0, BUF_A, BUF_A, BUF_B);
	struct npu_insn halt = npu_insn_halt();
	uint64_t cost = NPU_ISA_ISSUE_CYCLES + 2;	/* 64 elements */
	unsigned int slices = 0, i;
	int status;

	add.arg[NPU_ARG_COUNT] = 64;
	for (i = 0; i < 64; i++)
		self->mem[BUF_B + i] = 1;
	for (i = 0; i < 5; i++)
		emit(self->mem, &self->insns, &add);
	emit(self->mem, &self->insns, &halt);

	memset(&self->res, 0, sizeof(self->res));
	do {
		/* room for two ADDs per slice */
		status = (int)npu_isa_run_slice(self->mem, MEM_SIZE, PROG,
						self->insns * NPU_INSN_SIZE, 0, 1,
						2 * cost + 1, &self->res);
		slices++;
	} while (status == NPU_ISA_YIELD && slices < 10);
	ASSERT_EQ(NPU_STATUS_OK, status);
	EXPECT_EQ(3u, slices);
	EXPECT_EQ(6u, self->res.retired);
	EXPECT_EQ(5 * cost + NPU_ISA_ISSUE_CYCLES, self->res.cycles);
	EXPECT_EQ(5, self->mem[BUF_A + 63]);

	/* an instruction larger than any slice yields before doing anything */
	memset(&self->res, 0, sizeof(self->res));
	status = (int)npu_isa_run_slice(self->mem, MEM_SIZE, PROG, NPU_INSN_SIZE, 0, 1,
					cost - 1, &self->res);
	EXPECT_EQ(NPU_ISA_YIELD, status);
	EXPECT_EQ(0u, self->res.insn_index);
	EXPECT_EQ(5, self->mem[BUF_A]);
	/* but a budget failure is reported by the slice that reaches it */
	status = (int)npu_isa_run_slice(self->mem, MEM_SIZE, PROG, NPU_INSN_SIZE, cost - 1, 1,
					1, &self->res);
	EXPECT_EQ(NPU_STATUS_TIMEOUT, status);
}

TEST_F(isa, opcode_names)
{
	EXPECT_STREQ("matmul_i8", npu_isa_opcode_name(NPU_ISA_MATMUL_I8));
	EXPECT_EQ(NULL, npu_isa_opcode_name(NPU_ISA_COUNT));
}

TEST_HARNESS_MAIN
