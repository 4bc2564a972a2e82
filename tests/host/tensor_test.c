// SPDX-License-Identifier: MIT
/* Host tensor steps: quantize + lower and unlower + dequantize. */
#include <math.h>
#include <string.h>

#include "kselftest_harness.h"
#include "npu_isa_encode.h"
#include "npuhal.h"

static struct npu_prog_tensor desc(uint8_t dtype, uint8_t host, uint8_t layout, unsigned int rank,
				   const uint32_t *dims, const uint32_t *pad, float scale, int zp)
{
	struct npu_prog_tensor t = { .name = "t", .kind = NPU_TENSOR_INPUT, .dtype = dtype,
				     .host_dtype = host, .layout = layout, .rank = (uint8_t)rank,
				     .scale = scale, .zero_point = zp };
	size_t elems = 1;

	for (unsigned int d = 0; d < rank; d++) {
		t.dims[d] = dims[d];
		t.pad[d] = pad ? pad[d] : 0;
	}
	/* device extents: NHWC permutes host [N,C,H,W] */
	for (unsigned int d = 0; d < rank; d++) {
		unsigned int h = layout == NPU_LAYOUT_NHWC ? (unsigned int[]){ 0, 2, 3, 1 }[d] : d;

		elems *= dims[h] + t.pad[d];
	}
	t.byte_size = elems * npu_prog_dtype_size(dtype);
	return t;
}

TEST(quantize_rounds_half_to_even_and_saturates)
{
	uint32_t dims[1] = { 8 };
	struct npu_prog_tensor t = desc(NPU_PROG_DTYPE_INT8, NPU_PROG_DTYPE_FLOAT32, 0, 1, dims,
					NULL, 0.5f, -3);
	float x[8] = { 0.25f, 0.75f, -0.25f, -0.75f, 1000.0f, -1000.0f, NAN, 1.0f };
	int8_t q[8];
	float back[8];

	ASSERT_EQ(NPU_OK, npu_tensor_to_device(&t, x, q));
	EXPECT_EQ(-3, q[0]);	/* 0.5 -> 0 (even) */
	EXPECT_EQ(-1, q[1]);	/* 1.5 -> 2 */
	EXPECT_EQ(-3, q[2]);	/* -0.5 -> 0 */
	EXPECT_EQ(-5, q[3]);	/* -1.5 -> -2 */
	EXPECT_EQ(127, q[4]);
	EXPECT_EQ(-128, q[5]);
	EXPECT_EQ(-3, q[6]);	/* NaN -> the zero point */
	EXPECT_EQ(-1, q[7]);
	ASSERT_EQ(NPU_OK, npu_tensor_from_device(&t, q, back));
	EXPECT_EQ(1.0f, back[1]);
	EXPECT_EQ(65.0f, back[4]);	/* (127 + 3) * 0.5 */
	EXPECT_EQ(0.0f, back[0]);
}

TEST(uint8_saturates_to_its_range)
{
	uint32_t dims[1] = { 3 };
	struct npu_prog_tensor t = desc(NPU_PROG_DTYPE_UINT8, NPU_PROG_DTYPE_FLOAT32, 0, 1, dims,
					NULL, 1.0f, 128);
	float x[3] = { -200.0f, 0.0f, 200.0f };
	uint8_t q[3];

	ASSERT_EQ(NPU_OK, npu_tensor_to_device(&t, x, q));
	EXPECT_EQ(0, q[0]);
	EXPECT_EQ(128, q[1]);
	EXPECT_EQ(255, q[2]);
}

TEST(nhwc_lowering_permutes_and_pads_with_the_zero_point)
{
	uint32_t dims[4] = { 1, 3, 2, 2 }, pad[4] = { 0, 0, 0, 1 };	/* channels 3 -> 4 */
	struct npu_prog_tensor t = desc(NPU_PROG_DTYPE_INT8, NPU_PROG_DTYPE_INT8,
					NPU_LAYOUT_NHWC, 4, dims, pad, 1.0f, 0);
	int8_t host[12], dev[16], back[12];

	ASSERT_EQ(16u, t.byte_size);
	for (int i = 0; i < 12; i++)
		host[i] = (int8_t)(i + 1);	/* c * 4 + h * 2 + w + 1 */
	ASSERT_EQ(NPU_OK, npu_tensor_to_device(&t, host, dev));
	for (int h = 0; h < 2; h++)
		for (int w = 0; w < 2; w++) {
			for (int c = 0; c < 3; c++)
				EXPECT_EQ(c * 4 + h * 2 + w + 1, dev[(h * 2 + w) * 4 + c]);
			EXPECT_EQ(0, dev[(h * 2 + w) * 4 + 3]);	/* padding */
		}
	ASSERT_EQ(NPU_OK, npu_tensor_from_device(&t, dev, back));
	EXPECT_EQ(0, memcmp(host, back, sizeof(host)));
}

TEST(row_major_padding_and_int32)
{
	uint32_t dims[2] = { 2, 3 }, pad[2] = { 0, 1 };
	struct npu_prog_tensor t = desc(NPU_PROG_DTYPE_INT32, NPU_PROG_DTYPE_FLOAT32, 0, 2, dims,
					pad, 0.25f, 10);
	float x[6] = { 1, 2, 3, -1, -2, -3 }, back[6];
	int32_t dev[8];

	ASSERT_EQ(NPU_OK, npu_tensor_to_device(&t, x, dev));
	EXPECT_EQ(14, dev[0]);
	EXPECT_EQ(22, dev[2]);
	EXPECT_EQ(10, dev[3]);	/* padding = zero point */
	EXPECT_EQ(6, dev[4]);
	ASSERT_EQ(NPU_OK, npu_tensor_from_device(&t, dev, back));
	EXPECT_EQ(0, memcmp(x, back, sizeof(x)));
	EXPECT_EQ(6u, npu_tensor_elements(&t));
	EXPECT_EQ(24u, npu_tensor_host_bytes(&t));
}

TEST(padded_nhwc_descriptor_passes_the_loader)
{
	uint32_t dims[4] = { 1, 3, 2, 2 }, pad[4] = { 0, 0, 0, 1 };
	struct npu_prog_tensor in = desc(NPU_PROG_DTYPE_INT8, NPU_PROG_DTYPE_FLOAT32,
					 NPU_LAYOUT_NHWC, 4, dims, pad, 1.0f, 0);
	struct npu_prog_tensor out = in;
	struct npu_insn code = npu_insn_halt();
	npu_program_builder *b;
	void *data;
	size_t size;

	in.dram_addr = 0x100;
	out.kind = NPU_TENSOR_OUTPUT;
	out.dram_addr = 0x200;
	ASSERT_EQ(NPU_OK, npu_program_builder_new("warboy", 1, 0x400, &b));
	ASSERT_EQ(NPU_OK, npu_program_builder_add_section(b, NPU_PROG_SECTION_CODE, 0, &code, 64));
	ASSERT_EQ(NPU_OK, npu_program_builder_add_tensor(b, &in));
	ASSERT_EQ(NPU_OK, npu_program_builder_add_tensor(b, &out));
	EXPECT_EQ(NPU_OK, npu_program_builder_finish(b, &data, &size)) TH_LOG("%s", npu_last_error());
	free(data);
	npu_program_builder_free(b);
}

TEST_HARNESS_MAIN
