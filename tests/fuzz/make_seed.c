// SPDX-License-Identifier: MIT
/* Writes a small valid program to argv[1]: the fuzzer's seed. */
#include <stdio.h>
#include <string.h>

#include "npuhal.h"

int main(int argc, char **argv)
{
	uint8_t code[128] = { 0x01 }, consts[64] = { 7 };
	struct npu_prog_tensor t = {
		.name = "x", .kind = NPU_TENSOR_INPUT, .dtype = NPU_PROG_DTYPE_INT8,
		.host_dtype = NPU_PROG_DTYPE_FLOAT32, .rank = 1, .dims = { 16 },
		.dram_addr = 1024, .byte_size = 16, .scale = 0.25f,
	};
	npu_program_builder *b;
	void *data;
	size_t size;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTPUT\n", argv[0]);
		return 2;
	}
	if (npu_program_builder_new("warboy", 1, 4096, &b) ||
	    npu_program_builder_add_section(b, NPU_PROG_SECTION_CODE, 0, code, sizeof(code)) ||
	    npu_program_builder_add_section(b, NPU_PROG_SECTION_CONST, 512, consts, sizeof(consts)) ||
	    npu_program_builder_add_tensor(b, &t))
		goto fail;
	t.kind = NPU_TENSOR_OUTPUT;
	strcpy(t.name, "y");
	t.dram_addr = 2048;
	if (npu_program_builder_add_tensor(b, &t) || npu_program_builder_finish(b, &data, &size))
		goto fail;
	f = fopen(argv[1], "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f)) {
		perror(argv[1]);
		return 1;
	}
	return 0;
fail:
	fprintf(stderr, "make_seed: %s\n", npu_last_error());
	return 1;
}
