// SPDX-License-Identifier: MIT
/*
 * Instruction set on the device: MATMUL_I8 (several shapes, K = 1,
 * ACCUMULATE, int32 wrap-around), ADD, RELU and REQUANT against C references
 * on random inputs; HALT, the cycle budget and malformed instructions.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_fixture.h"
#include "npu_util.h"

/* Regions, relative to the variant's base in the window. */
#define PROG_OFF	0x00000
#define A_OFF		0x10000
#define B_OFF		0x30000
#define D_OFF		0x50000
#define REGION_MAX	0x20000

FIXTURE(isa)
{
	int fd;
	uint32_t base;
	struct npu_rng rng;
};

NPU_FILE_VARIANT(isa);
NPU_FILE_VARIANTS_ADD(isa);

FIXTURE_SETUP(isa)
{
	struct npu_device_info info;

	NPU_SETUP_OPEN_NPU0(self->fd, variant->kind, &info);
	/* offsets are 32-bit in instructions; the window must allow the layout */
	ASSERT_LE(2ull * (D_OFF + REGION_MAX), info.dram_window);
	self->base = variant->upper_half ? (uint32_t)(info.dram_window / 2) : 0;
	npu_rng_seed(&self->rng, 0x15a0000 + variant->kind);
}

FIXTURE_TEARDOWN(isa)
{
	if (self->fd >= 0)
		close(self->fd);
}

static int put(FIXTURE_DATA(isa) *self, uint32_t off, const void *data, uint64_t len)
{
	return npu_write_dram(self->fd, 0, self->base + off, data, len);
}

static int get(FIXTURE_DATA(isa) *self, uint32_t off, void *data, uint64_t len)
{
	return npu_read_dram(self->fd, 0, self->base + off, data, len);
}

static int run(FIXTURE_DATA(isa) *self, const struct npu_insn *insns, unsigned int count,
	       struct npu_wait *wait)
{
	return npu_run_program(self->fd, 0, self->base + PROG_OFF, insns, count, wait);
}

struct shape {
	uint32_t m, n, k;
};

static const struct shape shapes[] = {
	{ 1, 1, 1 }, { 2, 3, 4 }, { 7, 5, 1 }, { 1, 9, 1 }, { 16, 16, 16 },
	{ 33, 17, 65 }, { 1, 64, 128 }, { 64, 1, 3 }, { 48, 80, 32 }, { 5, 3, 1000 },
};

/* One MATMUL into a destination pre-filled with init (random garbage or not). */
static void check_matmul(struct __test_metadata *_metadata, FIXTURE_DATA(isa) *self,
			 const struct shape *s, bool accumulate, const int8_t *a,
			 const int8_t *b, int32_t *init)
{
	size_t dbytes = (size_t)s->m * s->n * 4;
	int32_t *got = malloc(dbytes);
	struct npu_insn prog[2];
	struct npu_wait wait;
	int ret;

	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, put(self, A_OFF, a, (uint64_t)s->m * s->k));
	ASSERT_EQ(0, put(self, B_OFF, b, (uint64_t)s->k * s->n));
	ASSERT_EQ(0, put(self, D_OFF, init, dbytes));
	prog[0] = npu_insn_matmul(self->base + D_OFF, self->base + A_OFF, self->base + B_OFF,
				  s->m, s->n, s->k, accumulate);
	prog[1] = npu_insn_halt();
	ret = run(self, prog, 2, &wait);
	ASSERT_EQ(0, ret) TH_LOG("%ux%ux%u: %s status %u info %#x", s->m, s->n, s->k,
				 strerror(-ret), wait.status, wait.info);
	ASSERT_EQ(0, get(self, D_OFF, got, dbytes));
	npu_ref_matmul_i8(init, a, b, s->m, s->n, s->k, accumulate);
	for (uint32_t i = 0; i < s->m * s->n; i++) {
		if (got[i] != init[i]) {
			EXPECT_EQ(init[i], got[i])
				TH_LOG("%ux%ux%u%s: element (%u,%u)", s->m, s->n, s->k,
				       accumulate ? " acc" : "", i / s->n, i % s->n);
			break;
		}
	}
	free(got);
}

TEST_F_TIMEOUT(isa, matmul_shapes, 120)
{
	NPU_RETURN_IF_SKIPPED();
	for (unsigned int i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const struct shape *s = &shapes[i];
		int8_t *a = malloc((size_t)s->m * s->k);
		int8_t *b = malloc((size_t)s->k * s->n);
		int32_t *d = malloc((size_t)s->m * s->n * 4);

		ASSERT_TRUE(a && b && d);
		npu_rng_fill(&self->rng, a, (size_t)s->m * s->k);
		npu_rng_fill(&self->rng, b, (size_t)s->k * s->n);
		/* garbage the device must overwrite, not add to */
		npu_rng_fill(&self->rng, d, (size_t)s->m * s->n * 4);
		check_matmul(_metadata, self, s, false, a, b, d);
		/* the same inputs again, accumulating onto random int32 values */
		npu_rng_fill(&self->rng, d, (size_t)s->m * s->n * 4);
		check_matmul(_metadata, self, s, true, a, b, d);
		free(a);
		free(b);
		free(d);
	}
}

/* Extreme inputs: -128 * -128 summed over a long K, and int32 wrap on accumulate. */
TEST_F(isa, matmul_extremes)
{
	const struct shape s = { 3, 2, 4096 };
	int8_t *a = malloc(s.m * s.k), *b = malloc(s.k * s.n);
	int32_t d[6] = { INT32_MAX, INT32_MIN, INT32_MAX, -1, 0, 1 };

	NPU_RETURN_IF_SKIPPED();
	ASSERT_TRUE(a && b);
	memset(a, 0x80, s.m * s.k);	/* -128 */
	memset(b, 0x80, s.k * s.n);
	check_matmul(_metadata, self, &s, true, a, b, d);
	memset(b, 0x7f, s.k * s.n);	/* 127 */
	check_matmul(_metadata, self, &s, false, a, b, d);
	free(a);
	free(b);
}

/* Two MATMULs in one program: D = A*B1, then D += A*B2. */
TEST_F(isa, matmul_accumulate_chain)
{
	const struct shape s = { 9, 11, 13 };
	int8_t a[9 * 13], b1[13 * 11], b2[13 * 11];
	int32_t want[9 * 11], got[9 * 11];
	struct npu_insn prog[3];
	const uint32_t b2_off = B_OFF + 0x1000;

	NPU_RETURN_IF_SKIPPED();
	npu_rng_fill(&self->rng, a, sizeof(a));
	npu_rng_fill(&self->rng, b1, sizeof(b1));
	npu_rng_fill(&self->rng, b2, sizeof(b2));
	npu_rng_fill(&self->rng, got, sizeof(got));
	ASSERT_EQ(0, put(self, A_OFF, a, sizeof(a)));
	ASSERT_EQ(0, put(self, B_OFF, b1, sizeof(b1)));
	ASSERT_EQ(0, put(self, b2_off, b2, sizeof(b2)));
	ASSERT_EQ(0, put(self, D_OFF, got, sizeof(got)));
	prog[0] = npu_insn_matmul(self->base + D_OFF, self->base + A_OFF, self->base + B_OFF,
				  s.m, s.n, s.k, false);
	prog[1] = npu_insn_matmul(self->base + D_OFF, self->base + A_OFF, self->base + b2_off,
				  s.m, s.n, s.k, true);
	prog[2] = npu_insn_halt();
	ASSERT_EQ(0, run(self, prog, 3, NULL));
	ASSERT_EQ(0, get(self, D_OFF, got, sizeof(got)));
	npu_ref_matmul_i8(want, a, b1, s.m, s.n, s.k, false);
	npu_ref_matmul_i8(want, a, b2, s.m, s.n, s.k, true);
	EXPECT_EQ(-1, npu_first_diff(want, got, sizeof(got)));
}

#define ELEMS 1027	/* not a multiple of any lane width */

TEST_F(isa, add_i8_saturates)
{
	int8_t x[ELEMS], y[ELEMS], got[ELEMS];
	struct npu_insn prog[2];

	NPU_RETURN_IF_SKIPPED();
	npu_rng_fill(&self->rng, x, sizeof(x));
	npu_rng_fill(&self->rng, y, sizeof(y));
	x[0] = 127; y[0] = 1;		/* saturates high */
	x[1] = -128; y[1] = -1;		/* saturates low */
	x[2] = -128; y[2] = 127;
	ASSERT_EQ(0, put(self, A_OFF, x, sizeof(x)));
	ASSERT_EQ(0, put(self, B_OFF, y, sizeof(y)));
	prog[0] = npu_insn_add(NPU_DTYPE_I8, self->base + D_OFF, self->base + A_OFF,
			       self->base + B_OFF, ELEMS);
	prog[1] = npu_insn_halt();
	ASSERT_EQ(0, run(self, prog, 2, NULL));
	ASSERT_EQ(0, get(self, D_OFF, got, sizeof(got)));
	for (int i = 0; i < ELEMS; i++) {
		int8_t want = npu_ref_sat_i8((int)x[i] + y[i]);

		if (got[i] != want) {
			EXPECT_EQ(want, got[i]) TH_LOG("element %d: %d + %d", i, x[i], y[i]);
			break;
		}
	}
}

TEST_F(isa, add_i32_wraps)
{
	int32_t x[ELEMS], y[ELEMS], got[ELEMS];
	struct npu_insn prog[2];

	NPU_RETURN_IF_SKIPPED();
	npu_rng_fill(&self->rng, x, sizeof(x));
	npu_rng_fill(&self->rng, y, sizeof(y));
	x[0] = INT32_MAX; y[0] = 1;
	x[1] = INT32_MIN; y[1] = -1;
	ASSERT_EQ(0, put(self, A_OFF, x, sizeof(x)));
	ASSERT_EQ(0, put(self, B_OFF, y, sizeof(y)));
	/* in place: dst == src0 is an element-wise update */
	prog[0] = npu_insn_add(NPU_DTYPE_I32, self->base + A_OFF, self->base + A_OFF,
			       self->base + B_OFF, ELEMS);
	prog[1] = npu_insn_halt();
	ASSERT_EQ(0, run(self, prog, 2, NULL));
	ASSERT_EQ(0, get(self, A_OFF, got, sizeof(got)));
	for (int i = 0; i < ELEMS; i++) {
		int32_t want = (int32_t)((uint32_t)x[i] + (uint32_t)y[i]);

		if (got[i] != want) {
			EXPECT_EQ(want, got[i]) TH_LOG("element %d", i);
			break;
		}
	}
}

TEST_F(isa, relu)
{
	int8_t x8[ELEMS], got8[ELEMS];
	int32_t x32[ELEMS], got32[ELEMS];
	struct npu_insn prog[3];

	NPU_RETURN_IF_SKIPPED();
	npu_rng_fill(&self->rng, x8, sizeof(x8));
	npu_rng_fill(&self->rng, x32, sizeof(x32));
	x8[0] = -128; x8[1] = 0; x8[2] = 127;
	x32[0] = INT32_MIN; x32[1] = 0; x32[2] = INT32_MAX;
	ASSERT_EQ(0, put(self, A_OFF, x8, sizeof(x8)));
	ASSERT_EQ(0, put(self, B_OFF, x32, sizeof(x32)));
	prog[0] = npu_insn_relu(NPU_DTYPE_I8, self->base + D_OFF, self->base + A_OFF, ELEMS);
	prog[1] = npu_insn_relu(NPU_DTYPE_I32, self->base + D_OFF + 0x1000,
				self->base + B_OFF, ELEMS);
	prog[2] = npu_insn_halt();
	ASSERT_EQ(0, run(self, prog, 3, NULL));
	ASSERT_EQ(0, get(self, D_OFF, got8, sizeof(got8)));
	ASSERT_EQ(0, get(self, D_OFF + 0x1000, got32, sizeof(got32)));
	for (int i = 0; i < ELEMS; i++) {
		if (got8[i] != (x8[i] > 0 ? x8[i] : 0)) {
			EXPECT_EQ(x8[i] > 0 ? x8[i] : 0, got8[i]) TH_LOG("i8 element %d", i);
			break;
		}
	}
	for (int i = 0; i < ELEMS; i++) {
		if (got32[i] != (x32[i] > 0 ? x32[i] : 0)) {
			EXPECT_EQ(x32[i] > 0 ? x32[i] : 0, got32[i]) TH_LOG("i32 element %d", i);
			break;
		}
	}
}

struct requant_case {
	int32_t multiplier;
	uint32_t shift;
	int32_t zero_point;
};

static const struct requant_case requant_cases[] = {
	{ 1, 0, 0 },			/* plain saturation */
	{ 1, 8, 0 },			/* halves round away from zero */
	{ 1 << 20, 28, -3 },
	{ -7, 5, 127 },			/* negative scale */
	{ 1518500250, 40, 10 },		/* typical fixed-point scale */
	{ INT32_MIN, 62, -128 },	/* extremes of every argument */
	{ INT32_MAX, 31, 0 },
};

TEST_F(isa, requant)
{
	int32_t x[ELEMS];
	int8_t got[ELEMS];
	struct npu_insn prog[2];

	NPU_RETURN_IF_SKIPPED();
	for (unsigned int c = 0; c < sizeof(requant_cases) / sizeof(requant_cases[0]); c++) {
		const struct requant_case *rc = &requant_cases[c];

		npu_rng_fill(&self->rng, x, sizeof(x));
		/* small values too, where rounding and saturation both matter */
		for (int i = 0; i < ELEMS / 2; i++)
			x[i] = (int32_t)(npu_rng_next(&self->rng) % 1024) - 512;
		x[0] = INT32_MIN; x[1] = INT32_MAX; x[2] = 0; x[3] = 128; x[4] = -128;
		x[5] = -384; x[6] = 384;	/* exact halves at shift 8 */
		ASSERT_EQ(0, put(self, A_OFF, x, sizeof(x)));
		prog[0] = npu_insn_requant(self->base + D_OFF, self->base + A_OFF, ELEMS,
					   rc->multiplier, rc->shift, rc->zero_point);
		prog[1] = npu_insn_halt();
		ASSERT_EQ(0, run(self, prog, 2, NULL));
		ASSERT_EQ(0, get(self, D_OFF, got, sizeof(got)));
		for (int i = 0; i < ELEMS; i++) {
			int8_t want = npu_ref_requant(x[i], rc->multiplier, rc->shift,
						      rc->zero_point);

			if (got[i] != want) {
				EXPECT_EQ(want, got[i])
					TH_LOG("case %u (mul %d shift %u zp %d): x[%d] = %d", c,
					       rc->multiplier, rc->shift, rc->zero_point, i, x[i]);
				break;
			}
		}
	}
}

/* A small quantized layer: relu(requant(A * B)), all in one program. */
TEST_F(isa, layer_chain)
{
	const struct shape s = { 8, 24, 40 };
	int8_t a[8 * 40], b[40 * 24], got[8 * 24], want[8 * 24];
	int32_t acc[8 * 24];
	struct npu_insn prog[4];

	NPU_RETURN_IF_SKIPPED();
	npu_rng_fill(&self->rng, a, sizeof(a));
	npu_rng_fill(&self->rng, b, sizeof(b));
	ASSERT_EQ(0, put(self, A_OFF, a, sizeof(a)));
	ASSERT_EQ(0, put(self, B_OFF, b, sizeof(b)));
	prog[0] = npu_insn_matmul(self->base + D_OFF, self->base + A_OFF, self->base + B_OFF,
				  s.m, s.n, s.k, false);
	prog[1] = npu_insn_requant(self->base + D_OFF + 0x4000, self->base + D_OFF,
				   s.m * s.n, 3, 12, -5);
	prog[2] = npu_insn_relu(NPU_DTYPE_I8, self->base + D_OFF + 0x4000,
				self->base + D_OFF + 0x4000, s.m * s.n);
	prog[3] = npu_insn_halt();
	ASSERT_EQ(0, run(self, prog, 4, NULL));
	ASSERT_EQ(0, get(self, D_OFF + 0x4000, got, sizeof(got)));
	npu_ref_matmul_i8(acc, a, b, s.m, s.n, s.k, false);
	for (unsigned int i = 0; i < s.m * s.n; i++) {
		int8_t q = npu_ref_requant(acc[i], 3, 12, -5);

		want[i] = q > 0 ? q : 0;
	}
	EXPECT_EQ(-1, npu_first_diff(want, got, sizeof(got)));
}

/* COPY moves bytes; HALT stops the program before the instruction after it. */
TEST_F(isa, copy_and_halt)
{
	uint8_t data[777], got[777], zero[777];
	struct npu_insn prog[3];

	NPU_RETURN_IF_SKIPPED();
	npu_rng_fill(&self->rng, data, sizeof(data));
	memset(zero, 0, sizeof(zero));
	ASSERT_EQ(0, put(self, A_OFF, data, sizeof(data)));
	ASSERT_EQ(0, put(self, D_OFF, zero, sizeof(zero)));
	ASSERT_EQ(0, put(self, D_OFF + 0x1001, zero, sizeof(zero)));
	prog[0] = npu_insn_copy(self->base + D_OFF + 0x1001, self->base + A_OFF, sizeof(data));
	prog[1] = npu_insn_halt();
	prog[2] = npu_insn_copy(self->base + D_OFF, self->base + A_OFF, sizeof(data));
	ASSERT_EQ(0, run(self, prog, 3, NULL));
	ASSERT_EQ(0, get(self, D_OFF + 0x1001, got, sizeof(got)));
	EXPECT_EQ(-1, npu_first_diff(data, got, sizeof(got)));
	ASSERT_EQ(0, get(self, D_OFF, got, sizeof(got)));
	EXPECT_EQ(-1, npu_first_diff(zero, got, sizeof(got))) TH_LOG("ran past HALT");
}

/* A program without HALT ends after its last instruction. */
TEST_F(isa, program_without_halt)
{
	uint8_t data[64], got[64];
	struct npu_insn prog[1];

	NPU_RETURN_IF_SKIPPED();
	npu_rng_fill(&self->rng, data, sizeof(data));
	ASSERT_EQ(0, put(self, A_OFF, data, sizeof(data)));
	prog[0] = npu_insn_copy(self->base + D_OFF, self->base + A_OFF, sizeof(data));
	ASSERT_EQ(0, run(self, prog, 1, NULL));
	ASSERT_EQ(0, get(self, D_OFF, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(data, got, sizeof(got)));
}

/* A budget too small for the program ends the job with TIMEOUT. */
TEST_F(isa, cycle_budget_timeout)
{
	struct npu_insn prog[2];
	struct npu_job_cmd cmds[2];
	struct npu_wait wait;
	struct npu_bo bo;
	int ret;

	NPU_RETURN_IF_SKIPPED();
	prog[0] = npu_insn_matmul(self->base + D_OFF, self->base + A_OFF, self->base + B_OFF,
				  64, 64, 64, false);
	prog[1] = npu_insn_halt();
	ASSERT_EQ(0, npu_bo_alloc(self->fd, sizeof(prog), &bo));
	memcpy(bo.map, prog, sizeof(prog));
	cmds[0] = npu_cmd_to_dram(&bo, 0, self->base + PROG_OFF, sizeof(prog));
	cmds[1] = npu_cmd_exec(self->base + PROG_OFF, sizeof(prog), 100);
	ret = npu_run(self->fd, 0, cmds, 2, &wait);
	EXPECT_EQ(-EIO, ret);
	EXPECT_EQ(NPU_JOB_TIMEOUT, wait.status);
	EXPECT_EQ(NPU_COMPLETION_INFO(1, 0), wait.info);
	/* the same program with the default budget completes */
	cmds[1].cycle_budget = 0;
	EXPECT_EQ(0, npu_run(self->fd, 0, cmds, 2, &wait));
	npu_bo_release(&bo);
}

/* Malformed instructions fail with BAD_DESC, pointing at the instruction. */
TEST_F(isa, bad_instructions)
{
	struct {
		const char *what;
		struct npu_insn insn;
	} cases[] = {
		{ "unknown opcode", { .opcode = NPU_ISA_COUNT } },
		{ "opcode 0xff", { .opcode = 0xff } },
		{ "ADD dtype out of range", npu_insn_add(NPU_DTYPE_COUNT, 0, 0, 0, 1) },
		{ "RELU dtype out of range", npu_insn_relu(7, 0, 0, 1) },
		{ "unknown flag on MATMUL", npu_insn_matmul(0x100, 0x200, 0x300, 1, 1, 1, false) },
		{ "REQUANT shift 63", npu_insn_requant(0x100, 0x200, 1, 1, 63, 0) },
		{ "REQUANT zero point 128", npu_insn_requant(0x100, 0x200, 1, 1, 0, 128) },
		{ "REQUANT zero point -129", npu_insn_requant(0x100, 0x200, 1, 1, 0, -129) },
	};
	uint8_t data[64];

	NPU_RETURN_IF_SKIPPED();
	cases[4].insn.flags = 0x8000;
	npu_rng_fill(&self->rng, data, sizeof(data));
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct npu_insn prog[3];
		struct npu_wait wait;
		uint8_t got[64];
		int ret;

		/* a good instruction first: the failing one is at index 1 */
		ASSERT_EQ(0, put(self, D_OFF, data, sizeof(data)));
		prog[0] = npu_insn_copy(self->base + A_OFF, self->base + D_OFF, sizeof(data));
		prog[1] = cases[i].insn;
		if (prog[1].dst || prog[1].src0 || prog[1].src1) {
			prog[1].dst += self->base;
			prog[1].src0 += self->base;
			prog[1].src1 += self->base;
		}
		prog[2] = npu_insn_halt();
		ret = run(self, prog, 3, &wait);
		EXPECT_EQ(-EIO, ret) TH_LOG("%s: %s", cases[i].what, strerror(-ret));
		EXPECT_EQ(NPU_JOB_BAD_DESC, wait.status) TH_LOG("%s: status %u", cases[i].what,
								wait.status);
		EXPECT_EQ(NPU_COMPLETION_INFO(1, 1), wait.info)
			TH_LOG("%s: info %#x", cases[i].what, wait.info);
		/* the file keeps working */
		ASSERT_EQ(0, get(self, A_OFF, got, sizeof(got)));
	}
}

/* EXEC lengths that are not whole instructions are rejected at submit. */
TEST_F(isa, exec_length_not_insn_multiple)
{
	static const uint64_t lengths[] = { 0, 1, 63, 65, 127 };

	NPU_RETURN_IF_SKIPPED();
	for (unsigned int i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		struct npu_job_cmd cmd = npu_cmd_exec(self->base + PROG_OFF, lengths[i], 0);
		uint64_t seqno = 0;
		int ret = npu_submit(self->fd, 0, &cmd, 1, &seqno);

		EXPECT_EQ(-EINVAL, ret) TH_LOG("EXEC length %llu: %s",
					       (unsigned long long)lengths[i], strerror(-ret));
		if (!ret)
			npu_wait(self->fd, seqno, -1, NULL);
	}
}

/* COPY has memmove semantics: overlapping forward and backward copies. */
TEST_F(isa, copy_overlap)
{
	uint8_t data[300], got[300], want[300];
	struct npu_insn prog[2];

	NPU_RETURN_IF_SKIPPED();
	for (int dir = 0; dir < 2; dir++) {
		uint32_t src = self->base + A_OFF + (dir ? 37 : 0);
		uint32_t dst = self->base + A_OFF + (dir ? 0 : 37);

		npu_rng_fill(&self->rng, data, sizeof(data));
		ASSERT_EQ(0, put(self, A_OFF, data, sizeof(data)));
		prog[0] = npu_insn_copy(dst, src, 200);
		prog[1] = npu_insn_halt();
		ASSERT_EQ(0, run(self, prog, 2, NULL));
		memcpy(want, data, sizeof(want));
		memmove(want + (dst - self->base - A_OFF), data + (src - self->base - A_OFF), 200);
		ASSERT_EQ(0, get(self, A_OFF, got, sizeof(got)));
		EXPECT_EQ(-1, npu_first_diff(want, got, sizeof(got)))
			TH_LOG("%s overlapping copy", dir ? "backward" : "forward");
	}
}

/* Zero counts and dimensions are valid and touch nothing. */
TEST_F(isa, zero_sizes)
{
	uint8_t guard[64], got[64];
	struct npu_insn prog[6];

	NPU_RETURN_IF_SKIPPED();
	npu_rng_fill(&self->rng, guard, sizeof(guard));
	ASSERT_EQ(0, put(self, D_OFF, guard, sizeof(guard)));
	prog[0] = npu_insn_copy(self->base + D_OFF, self->base + A_OFF, 0);
	prog[1] = npu_insn_matmul(self->base + D_OFF, self->base + A_OFF, self->base + B_OFF,
				  0, 4, 4, false);
	prog[2] = npu_insn_matmul(self->base + D_OFF, self->base + A_OFF, self->base + B_OFF,
				  4, 4, 0, true);	/* K = 0 with ACCUMULATE: dst += 0 */
	prog[3] = npu_insn_add(NPU_DTYPE_I32, self->base + D_OFF, self->base + A_OFF,
			       self->base + B_OFF, 0);
	prog[4] = npu_insn_requant(self->base + D_OFF, self->base + A_OFF, 0, 1, 0, 0);
	prog[5] = npu_insn_halt();
	ASSERT_EQ(0, run(self, prog, 6, NULL));
	ASSERT_EQ(0, get(self, D_OFF, got, sizeof(got)));
	EXPECT_EQ(-1, npu_first_diff(guard, got, sizeof(got)));
}

/* Fields an opcode does not use must be zero; MATMUL's dst may not overlap A or B. */
TEST_F(isa, unused_fields_and_overlap)
{
	struct {
		const char *what;
		struct npu_insn insn;
		uint32_t status;
	} cases[] = {
		{ "HALT with dst", npu_insn_halt(), NPU_JOB_BAD_DESC },
		{ "COPY with src1", npu_insn_copy(D_OFF, A_OFF, 4), NPU_JOB_BAD_DESC },
		{ "COPY with arg[1]", npu_insn_copy(D_OFF, A_OFF, 4), NPU_JOB_BAD_DESC },
		{ "COPY with dtype", npu_insn_copy(D_OFF, A_OFF, 4), NPU_JOB_BAD_DESC },
		{ "ADD with ACCUMULATE", npu_insn_add(NPU_DTYPE_I8, D_OFF, A_OFF, B_OFF, 4),
		  NPU_JOB_BAD_DESC },
		{ "RELU with src1", npu_insn_relu(NPU_DTYPE_I8, D_OFF, A_OFF, 4),
		  NPU_JOB_BAD_DESC },
		{ "MATMUL with arg[3]", npu_insn_matmul(D_OFF, A_OFF, B_OFF, 2, 2, 2, false),
		  NPU_JOB_BAD_DESC },
		{ "MATMUL dst overlaps A", npu_insn_matmul(A_OFF + 2, A_OFF, B_OFF, 2, 2, 2, false),
		  NPU_JOB_BAD_DESC },
		{ "MATMUL dst overlaps B", npu_insn_matmul(B_OFF - 4, A_OFF, B_OFF, 2, 2, 2, false),
		  NPU_JOB_BAD_DESC },
		/* validation order: a bad flag before a range, a range before overlap */
		{ "bad flag and out of range", npu_insn_copy(0xfffffff0u, A_OFF, 64),
		  NPU_JOB_BAD_DESC },
		{ "out of range and overlapping", npu_insn_matmul(0xfffffff0u, 0xfffffff0u, B_OFF,
								  16, 16, 16, false),
		  NPU_JOB_DRAM_OOB },
	};
	int32_t guard[4], got[4];

	NPU_RETURN_IF_SKIPPED();
	cases[0].insn.dst = D_OFF;
	cases[1].insn.src1 = B_OFF;
	cases[2].insn.arg[1] = 1;
	cases[3].insn.dtype = NPU_DTYPE_I32;
	cases[4].insn.flags = NPU_ISA_F_ACCUMULATE;
	cases[5].insn.src1 = B_OFF;
	cases[6].insn.arg[3] = 1;
	cases[9].insn.flags = 0x4;
	npu_rng_fill(&self->rng, guard, sizeof(guard));
	ASSERT_EQ(0, put(self, A_OFF, guard, sizeof(guard)));
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct npu_insn prog[2] = { cases[i].insn, npu_insn_halt() };
		struct npu_wait wait;

		/* relocate in-window addresses to the variant's base */
		if (prog[0].dst < 0x80000000u)
			prog[0].dst += prog[0].dst ? self->base : 0;
		if (prog[0].src0 < 0x80000000u)
			prog[0].src0 += prog[0].src0 ? self->base : 0;
		prog[0].src1 += prog[0].src1 ? self->base : 0;
		EXPECT_EQ(-EIO, run(self, prog, 2, &wait)) TH_LOG("%s", cases[i].what);
		EXPECT_EQ(cases[i].status, wait.status) TH_LOG("%s: status %u", cases[i].what,
							       wait.status);
		EXPECT_EQ(NPU_COMPLETION_INFO(1, 0), wait.info) TH_LOG("%s", cases[i].what);
	}
	/* the overlapping MATMULs wrote nothing */
	ASSERT_EQ(0, get(self, A_OFF, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(guard, got, sizeof(got)));
}

/* Instructions are fetched as they run: a program may overwrite its own tail. */
TEST_F(isa, self_modifying_program)
{
	uint8_t zero[64] = { 0 }, got[64], data[64];
	struct npu_insn prog[4];
	struct npu_insn halt = npu_insn_halt();

	NPU_RETURN_IF_SKIPPED();
	npu_rng_fill(&self->rng, data, sizeof(data));
	ASSERT_EQ(0, put(self, A_OFF, data, sizeof(data)));
	ASSERT_EQ(0, put(self, D_OFF, zero, sizeof(zero)));
	ASSERT_EQ(0, put(self, B_OFF, &halt, sizeof(halt)));
	/* insn 0 replaces insn 2 (a COPY into D) with the HALT kept at B */
	prog[0] = npu_insn_copy(self->base + PROG_OFF + 2 * NPU_INSN_SIZE, self->base + B_OFF,
				NPU_INSN_SIZE);
	prog[1] = npu_insn_copy(self->base + D_OFF + 0x1000, self->base + A_OFF, sizeof(data));
	prog[2] = npu_insn_copy(self->base + D_OFF, self->base + A_OFF, sizeof(data));
	prog[3] = npu_insn_halt();
	ASSERT_EQ(0, run(self, prog, 4, NULL));
	ASSERT_EQ(0, get(self, D_OFF, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(zero, got, sizeof(got))) TH_LOG("the overwritten instruction ran");
	ASSERT_EQ(0, get(self, D_OFF + 0x1000, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(data, got, sizeof(got)));
}

/* The failing instruction's index is reported modulo 2^16. */
TEST_F_TIMEOUT(isa, failing_index_truncated, 120)
{
	const unsigned int count = 65536 + 3;
	struct npu_insn *prog = calloc(count, sizeof(*prog));
	struct npu_wait wait;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_NE(NULL, prog);
	for (unsigned int i = 0; i < count; i++)
		prog[i] = npu_insn_copy(0, 0, 0);	/* valid, does nothing */
	prog[65536 + 2].opcode = 0x7e;
	EXPECT_EQ(-EIO, npu_run_program(self->fd, 0, self->base + 0x100000, prog, count, &wait));
	EXPECT_EQ(NPU_JOB_BAD_DESC, wait.status);
	EXPECT_EQ(NPU_COMPLETION_INFO(1, 2), wait.info);
	free(prog);
}

TEST_HARNESS_MAIN
