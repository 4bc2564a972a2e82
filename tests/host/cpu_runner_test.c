// SPDX-License-Identifier: MIT
/* The CPU reference runner on small programs with known results. */
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "npu_isa_encode.h"
#include "npuhal.h"

/* y[2x2] int8 = requant(relu(x[2x3] * W[3x2])) with W = [[1,-1],[2,0],[-3,1]]. */
static npu_program *dense(int with_oob)
{
	int8_t w[6] = { 1, -1, 2, 0, -3, 1 };
	struct npu_insn code[4] = {
		npu_insn_matmul(0x600, 0x500, 0x400, 2, 2, 3, false),
		npu_insn_relu(NPU_DTYPE_I32, 0x600, 0x600, 4),
		npu_insn_requant(0x700, 0x600, 4, 3, 1, -1),
		npu_insn_halt(),
	};
	struct npu_prog_tensor x = { .name = "x", .kind = NPU_TENSOR_INPUT,
				     .dtype = NPU_PROG_DTYPE_INT8, .host_dtype = NPU_PROG_DTYPE_INT8,
				     .rank = 2, .dims = { 2, 3 }, .dram_addr = 0x500, .byte_size = 6 };
	struct npu_prog_tensor y = { .name = "y", .kind = NPU_TENSOR_OUTPUT,
				     .dtype = NPU_PROG_DTYPE_INT8, .host_dtype = NPU_PROG_DTYPE_INT8,
				     .rank = 2, .dims = { 2, 2 }, .dram_addr = 0x700, .byte_size = 4 };
	npu_program_builder *b;
	npu_program *p = NULL;
	void *data;
	size_t size;

	if (with_oob)
		code[1].arg[0] = 0x10000;	/* relu over far more than the DRAM */
	if (npu_program_builder_new("warboy", 1, 0x800, &b))
		return NULL;
	if (!npu_program_builder_add_section(b, NPU_PROG_SECTION_CODE, 0, code, sizeof(code)) &&
	    !npu_program_builder_add_section(b, NPU_PROG_SECTION_CONST, 0x400, w, sizeof(w)) &&
	    !npu_program_builder_add_tensor(b, &x) && !npu_program_builder_add_tensor(b, &y) &&
	    !npu_program_builder_finish(b, &data, &size)) {
		if (npu_program_from_bytes(data, size, &p))
			p = NULL;
		free(data);
	}
	npu_program_builder_free(b);
	return p;
}

TEST(dense_layer_matches_hand_computed_values)
{
	npu_program *p = dense(0);
	int8_t x[6] = { 1, 2, 3, -1, 0, 4 }, y[4] = { 0 };
	const void *ins[1] = { x };
	void *outs[1] = { y };
	uint64_t cycles = 0;

	ASSERT_NE(NULL, p) TH_LOG("%s", npu_last_error());
	ASSERT_EQ(NPU_OK, npu_cpu_run(p, ins, outs, &cycles)) TH_LOG("%s", npu_last_error());
	/*
	 * x*W = [[1+4-9, -1+0+3], [-1+0-12, 1+0+4]] = [[-4, 2], [-13, 5]];
	 * relu -> [[0, 2], [0, 5]]; *3 >> 1 rounded half away -> [0, 3, 0, 8]; -1.
	 */
	EXPECT_EQ(-1, y[0]);
	EXPECT_EQ(2, y[1]);
	EXPECT_EQ(-1, y[2]);
	EXPECT_EQ(7, y[3]);
	EXPECT_LT(0u, cycles);
	npu_program_free(p);
}

TEST(out_of_bounds_program_fails_with_its_instruction)
{
	npu_program *p = dense(1);
	int8_t x[6] = { 0 }, y[4] = { 9, 9, 9, 9 };
	const void *ins[1] = { x };
	void *outs[1] = { y };

	ASSERT_NE(NULL, p);
	EXPECT_EQ(NPU_ERR_JOB_FAILED, npu_cpu_run(p, ins, outs, NULL));
	EXPECT_NE(NULL, strstr(npu_last_error(), "out of bounds at instruction 1"));
	EXPECT_EQ(9, y[0]);	/* outputs untouched on failure */
	npu_program_free(p);
}

TEST(missing_inputs_are_rejected)
{
	npu_program *p = dense(0);
	int8_t y[4];
	void *outs[1] = { y };
	const void *ins[1] = { NULL };

	ASSERT_NE(NULL, p);
	EXPECT_EQ(NPU_ERR_INVALID_ARGUMENT, npu_cpu_run(p, ins, outs, NULL));
	EXPECT_EQ(NPU_ERR_INVALID_ARGUMENT, npu_cpu_run(p, NULL, outs, NULL));
	npu_program_free(p);
}

TEST_HARNESS_MAIN
