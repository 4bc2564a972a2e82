// SPDX-License-Identifier: MIT
/*
 * The CPU reference runner: runs a program with the same interpreter the
 * emulated NPU uses (isa/isa_exec.c), on a private copy of its DRAM window,
 * so device results can be checked bit for bit without a device (like
 * Femtodriver's simulator runner). The window is exactly the program's
 * dram_size: stricter than a device partition, never looser.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "isa_exec.h"
#include "npuhal.h"

static const char *status_text(uint32_t status)
{
	switch (status) {
	case NPU_STATUS_BAD_DESC:
		return "malformed instruction";
	case NPU_STATUS_DRAM_OOB:
		return "DRAM access out of bounds";
	case NPU_STATUS_TIMEOUT:
		return "cycle budget exceeded";
	default:
		return "device error";
	}
}

npu_status npu_cpu_run(const npu_program *p, const void *const *inputs, void *const *outputs,
		       uint64_t *cycles)
{
	const struct npu_prog_header *h = npu_program_header(p);
	struct npu_isa_result res;
	uint64_t code_addr = 0, code_size = 0;
	size_t in = 0, out = 0;
	uint8_t *mem;

	if (!p || !outputs)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "program and outputs must not be NULL");
	if (h->dram_size > SIZE_MAX)
		return npu_fail(NPU_ERR_NO_MEMORY, "the program's DRAM does not fit in memory");
	mem = calloc(1, (size_t)h->dram_size);
	if (!mem)
		return npu_fail(NPU_ERR_NO_MEMORY, "no memory for %llu bytes of DRAM",
				(unsigned long long)h->dram_size);
	for (size_t i = 0; i < npu_program_section_count(p); i++) {
		const struct npu_prog_section *s = npu_program_section(p, i);

		if (s->type == NPU_PROG_SECTION_TENSORS)
			continue;
		memcpy(mem + s->dram_addr, npu_program_section_data(p, i), s->size);
		if (s->type == NPU_PROG_SECTION_CODE) {
			code_addr = s->dram_addr;
			code_size = s->size;
		}
	}
	for (size_t i = 0; i < npu_program_tensor_count(p); i++) {
		const struct npu_prog_tensor *t = npu_program_tensor(p, i);

		if (t->kind != NPU_TENSOR_INPUT)
			continue;
		if (!inputs || !inputs[in]) {
			free(mem);
			return npu_fail(NPU_ERR_INVALID_ARGUMENT, "input %zu ('%s') is NULL", in,
					t->name);
		}
		memcpy(mem + t->dram_addr, inputs[in++], t->byte_size);
	}
	npu_isa_run(mem, h->dram_size, code_addr, code_size, 0, h->pe_count, &res);
	if (res.status != NPU_STATUS_OK) {
		free(mem);
		return npu_fail(NPU_ERR_JOB_FAILED, "CPU run failed: %s at instruction %llu",
				status_text(res.status), (unsigned long long)res.insn_index);
	}
	for (size_t i = 0; i < npu_program_tensor_count(p); i++) {
		const struct npu_prog_tensor *t = npu_program_tensor(p, i);

		if (t->kind != NPU_TENSOR_OUTPUT)
			continue;
		if (outputs[out])
			memcpy(outputs[out], mem + t->dram_addr, t->byte_size);
		out++;
	}
	if (cycles)
		*cycles = res.cycles;
	free(mem);
	return NPU_OK;
}
