// SPDX-License-Identifier: MIT
/* Programs the libnpuhal guest tests run. */
#include <stdbool.h>
#include <stdlib.h>

#include "hal_test_util.h"
#include "npu_util.h"

/* The container b built (if ok so far) parsed back into a program; frees b. */
static npu_program *finish(npu_program_builder *b, bool ok)
{
	npu_program *p = NULL;
	void *data;
	size_t size;

	if (ok && !npu_program_builder_finish(b, &data, &size)) {
		if (npu_program_from_bytes(data, size, &p))
			p = NULL;
		free(data);
	}
	npu_program_builder_free(b);
	return p;
}

npu_program *hal_test_matmul_program(unsigned int pes, uint32_t m, uint32_t k, uint32_t n,
				     const int8_t *w)
{
	/* Code at 0, then weights, input and output, each 4 KiB aligned. */
	const uint64_t wsz = (uint64_t)k * n, xsz = (uint64_t)m * k, ysz = (uint64_t)m * n * 4;
	const uint64_t waddr = 0x1000, xaddr = waddr + ((wsz + 0xfff) & ~0xfffull);
	const uint64_t yaddr = xaddr + ((xsz + 0xfff) & ~0xfffull);
	const uint64_t dram = yaddr + ((ysz + 0xfff) & ~0xfffull);
	struct npu_insn code[2] = {
		npu_insn_matmul((uint32_t)yaddr, (uint32_t)xaddr, (uint32_t)waddr, m, n, k, false),
		npu_insn_halt(),
	};
	struct npu_prog_tensor x = {
		.name = "x", .kind = NPU_TENSOR_INPUT, .dtype = NPU_PROG_DTYPE_INT8,
		.host_dtype = NPU_PROG_DTYPE_INT8, .rank = 2, .dims = { m, k },
		.dram_addr = xaddr, .byte_size = xsz,
	};
	struct npu_prog_tensor y = {
		.name = "y", .kind = NPU_TENSOR_OUTPUT, .dtype = NPU_PROG_DTYPE_INT32,
		.host_dtype = NPU_PROG_DTYPE_INT32, .rank = 2, .dims = { m, n },
		.dram_addr = yaddr, .byte_size = ysz,
	};
	npu_program_builder *b;

	if (npu_program_builder_new("warboy", pes, dram, &b))
		return NULL;
	return finish(b, !npu_program_builder_add_section(b, NPU_PROG_SECTION_CODE, 0, code,
							  sizeof(code)) &&
		      !npu_program_builder_add_section(b, NPU_PROG_SECTION_CONST, waddr, w, wsz) &&
		      !npu_program_builder_add_tensor(b, &x) &&
		      !npu_program_builder_add_tensor(b, &y));
}

npu_program *hal_test_copy_program(uint64_t bytes)
{
	enum { IN = 0x1000 };
	const uint64_t out = IN + bytes;
	struct npu_insn code[2] = { npu_insn_copy((uint32_t)out, IN, (uint32_t)bytes),
				    npu_insn_halt() };
	struct npu_prog_tensor x = {
		.name = "x", .kind = NPU_TENSOR_INPUT, .dtype = NPU_PROG_DTYPE_INT8,
		.host_dtype = NPU_PROG_DTYPE_INT8, .rank = 1, .dims = { (uint32_t)bytes },
		.dram_addr = IN, .byte_size = bytes,
	};
	struct npu_prog_tensor y = x;
	npu_program_builder *b;

	y.kind = NPU_TENSOR_OUTPUT;
	y.name[0] = 'y';
	y.dram_addr = out;
	if (npu_program_builder_new("warboy", 1, out + bytes, &b))
		return NULL;
	return finish(b, !npu_program_builder_add_section(b, NPU_PROG_SECTION_CODE, 0, code,
							  sizeof(code)) &&
		      !npu_program_builder_add_tensor(b, &x) &&
		      !npu_program_builder_add_tensor(b, &y));
}

void hal_test_close(npu_runner *runner, npu_session *session, npu_program *program)
{
	npu_runner_destroy(runner);
	npu_session_close(session);
	npu_program_free(program);
}
